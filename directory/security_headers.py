"""Headers on every response: no third party, no referrer, no sniffing, no stored private pages.

- ``Content-Security-Policy``: only this site's own scripts, styles, images and fonts; no inline
  script; no framing (``frame-ancestors 'none'``); forms post only here; no ``<base>``.
- ``Referrer-Policy: no-referrer``: a site a visitor goes on to never learns they came from here.
- ``Permissions-Policy``: no geolocation, camera or microphone. A page that deliberately asks
  for the visitor's location sets its own ``Permissions-Policy`` header, which is kept.
- ``Cache-Control: no-store`` for pages behind a login and for every response to a logged-in
  user, so a shared phone or proxy keeps no copy of them.
- Anonymous visitors get no cookie: Flask only sends one when the session is modified, and
  tests/test_headers.py checks that no public page does so.
- A request body larger than ``MAX_CONTENT_LENGTH`` is refused (413) before any view runs.
"""

from flask import abort, current_app, request, session

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ]
)
PERMISSIONS_POLICY = "geolocation=(), camera=(), microphone=(), payment=(), usb=()"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Paths behind a login (or leading to one): never stored by a browser or a proxy.
PRIVATE_PREFIXES = ("/manage", "/review", "/admin", "/account", "/login", "/logout", "/users",
                    "/api/manage")  # fmt: skip
PRIVATE_BLUEPRINTS = {"admin", "auth", "account", "manage", "manage_api", "review"}


def logged_in() -> bool:
    """Whether the request comes from a signed-in user (Flask-Login if set up, else the session)."""
    if not request.cookies and "Authorization" not in request.headers:
        return False  # anonymous: not even the session is opened (no "Vary: Cookie")
    if hasattr(current_app, "login_manager"):
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return True
    return bool(session) and ("_user_id" in session or "user_id" in session)


def is_private(path: str) -> bool:
    """Whether a path is behind a login."""
    return any(path == p or path.startswith(p + "/") for p in PRIVATE_PREFIXES)


def refuse_large_bodies() -> None:
    """413 for a declared body over MAX_CONTENT_LENGTH, whether or not the view reads it."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def add_headers(response):
    """Set the security headers (a view's own value for a header wins) and no-store if private."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    private = (
        is_private(request.path)
        or request.blueprint in PRIVATE_BLUEPRINTS
        or response.status_code in (401, 403)
        or "Set-Cookie" in response.headers
        or session.modified  # the session cookie is only added after this hook
        or logged_in()
    )
    if private:
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def init_app(app) -> None:
    """Register the request-size check and the response headers on every response."""
    app.before_request(refuse_large_bodies)
    app.after_request(add_headers)
