"""Survivor-support service directory: the application factory, read as a table of contents."""

import os

from flask import Flask

from directory.config import default_config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, database, i18n, blueprints, error handlers, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(default_config(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("DIRECTORY")
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Database (created from data/ on first start) and translations."""
    from directory import auth, db, i18n, security_headers

    db.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    security_headers.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per area of the site."""
    from directory.views import api, data, privacy, public, referral

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(data.bp)
    app.register_blueprint(referral.bp)
    app.register_blueprint(privacy.bp)
    from directory.views import admin, auth, manage, manage_api, review

    app.register_blueprint(auth.bp)
    app.register_blueprint(manage.bp, url_prefix="/manage")
    app.register_blueprint(review.bp, url_prefix="/review")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(manage_api.bp, url_prefix="/api/manage")


def register_security(app: Flask) -> None:
    """Secret key, cookie flags, CSRF for cookie sessions, sign-in rate limits."""
    from directory import security

    security.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """Errors answer HTML or JSON, never a traceback."""
    from directory.views import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    """The `directory` CLI commands that need the app."""
    from directory import cli

    cli.init_app(app)
