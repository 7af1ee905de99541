"""Error pages: HTML for people, the HSDS-style JSON error shape for the API; never a traceback."""

import sqlite3

from flask import g, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, InternalServerError

from directory import timelimit
from directory.i18n import translated


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON."""
    if request.path.startswith("/api"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, message: str, parameter: str | None = None):
    """One error, as JSON (in English) or HTML (a message with a msgid, such as a QueryError's,
    in the viewer's language)."""
    if wants_json():
        body = {"error": {"status": status, "message": message, "parameter": parameter}}
        return jsonify(body), status
    shown = translated(message)
    return render_template(
        "errors/error.html", status=status, message=shown, parameter=parameter
    ), status


def handle_http(exc: HTTPException):
    """Any HTTP error (404, 405, 413, ...)."""
    return error_response(exc.code or 500, exc.description or exc.name)


def handle_database_error(exc: sqlite3.OperationalError):
    """A statement stopped by the time limit answers 503 (try narrower); other errors are bugs."""
    if timelimit.is_timeout(exc, g.get("db")):
        message = gettext(
            "This search took too long and was stopped. "
            "Try again with fewer words or a narrower area, place or type."
        )
        return error_response(503, message)
    return handle_unexpected(exc)


def handle_unexpected(exc: Exception):
    """A bug: log it, answer 500 without details."""
    from flask import current_app

    current_app.logger.exception("unhandled error on %s", request.path)
    return error_response(500, InternalServerError.description)


def init_app(app) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(sqlite3.OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
