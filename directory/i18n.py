"""Translations (Flask-Babel): the interface language from ?lang=, then Accept-Language."""

from flask import current_app, request
from flask_babel import Babel

babel = Babel()


def select_locale() -> str:
    """The viewer's interface language: an explicit ?lang= choice, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def init_app(app) -> None:
    """Attach Babel to the app."""
    babel.init_app(app, locale_selector=select_locale)
