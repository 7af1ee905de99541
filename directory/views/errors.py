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


# Werkzeug's own descriptions, said plainly so that pages can translate them.
PLAIN_MESSAGES = {
    400: "The request could not be understood.",
    404: "There is no page at this address.",
    405: "This address does not take that kind of request.",
    413: "What was sent is too large.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side. Please try again later.",
}


def handle_http(exc: HTTPException):
    """Any HTTP error (404, 405, 413, ...): a page gets it in the viewer's language."""
    message = exc.description or exc.name
    if not wants_json():
        if message == type(exc).description and exc.code in PLAIN_MESSAGES:
            message = PLAIN_MESSAGES[exc.code]
        message = gettext(message)  # a message from the catalogue (e.g. a 403's), else as it is
    return error_response(exc.code or 500, message)


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
    if wants_json():
        return error_response(500, InternalServerError.description)
    return error_response(500, gettext(PLAIN_MESSAGES[500]))


def init_app(app) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(sqlite3.OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
