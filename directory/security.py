"""Security settings: secret key, session cookie flags, CSRF (cookie sessions only), rate limits.

- Outside debug and testing the app never runs with the development key "dev": it reads the key
  from DIRECTORY_SECRET_KEY / instance/config.py, else from instance/secret_key, which it
  creates (random, mode 600) on first start so `make run` works. With SECRET_KEY_AUTO false it
  refuses to start instead (set that where several servers must share one key).
- CSRF (Flask-WTF) on every POST/PUT/PATCH/DELETE authenticated by the session cookie; requests
  to /api carrying `Authorization: Bearer` are authenticated by that token alone and need none.
- Sign-in attempts are rate-limited (Flask-Limiter) per client address and per email.
"""

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from directory import auth, config

csrf = CSRFProtect()
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class InsecureConfig(RuntimeError):
    """The app would run in production with a guessable secret key."""


def development(app) -> bool:
    """Debug or testing: the only modes where the development key is acceptable."""
    return bool(app.debug or app.testing)


def ensure_secret_key(app) -> None:
    """Keep a configured key; in production replace the development key by the instance's own
    random key (instance/secret_key), or refuse to start (SECRET_KEY_AUTO false, or weak key)."""
    if development(app):
        return
    if app.config.get("SECRET_KEY") in (None, config.DEV_SECRET_KEY):
        if not app.config.get("SECRET_KEY_AUTO", True):
            raise InsecureConfig(
                "Refusing to start: no secret key is configured. Set DIRECTORY_SECRET_KEY "
                "(or SECRET_KEY in instance/config.py) to a long random value."
            )
        folder = app.config.get("SECRET_KEY_DIR") or app.instance_path
        app.config["SECRET_KEY"] = config.instance_secret_key(folder)
    key = app.config["SECRET_KEY"]
    if key in config.WEAK_SECRET_KEYS or len(key) < config.MIN_SECRET_KEY_LENGTH:
        raise InsecureConfig(
            f"Refusing to start: SECRET_KEY is weak; use at least {config.MIN_SECRET_KEY_LENGTH}"
            " random characters (python -c 'import secrets; print(secrets.token_hex(32))')."
        )


def _guard():
    """Before each request: bearer-token API calls authenticate by token; everything else
    that changes state needs the CSRF token of the session."""
    if request.path.startswith("/api/") and auth.bearer_token() is not None:
        if auth.load_token_user() is None:
            return auth.unauthorized()
        return None
    if request.method not in UNSAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    # Pages (sign-in included) always; the JSON API only when a session cookie signs it in,
    # so anonymous API reads such as POST /api/services/search need no token.
    if not request.path.startswith("/api/") or (request.cookies and current_user.is_authenticated):
        csrf.protect()
    return None


def _email_key() -> str:
    return "login-email:" + (request.form.get("email") or "").strip().lower()


def init_app(app) -> None:
    """Apply the settings; call after the blueprints are registered (it limits auth.login)."""
    ensure_secret_key(app)
    dev = development(app)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("COOKIE_SECURE", not dev))
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", 12 * 3600)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked in _guard, which knows about tokens
    csrf.init_app(app)
    app.before_request(_guard)

    limit = app.config.setdefault("LOGIN_RATE_LIMIT", "10 per minute")
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI", "memory://"),
        default_limits=[],
    )
    app.extensions["directory_limiter"] = limiter
    view = app.view_functions["auth.login"]
    view = limiter.limit(limit, methods=["POST"])(view)
    view = limiter.limit(limit, methods=["POST"], key_func=_email_key)(view)
    app.view_functions["auth.login"] = view
