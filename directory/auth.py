"""Sign-in: Flask-Login sessions, argon2 password hashes, API bearer tokens, role checks."""

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, redirect, request, url_for
from flask_login import LoginManager, current_user
from werkzeug.exceptions import Forbidden

from directory.db import get_db
from directory.models import users

login_manager = LoginManager()
MIN_PASSWORD_LENGTH = 10


def _hasher() -> PasswordHasher:
    return current_app.extensions["password_hasher"]


def hash_password(password: str) -> str:
    """An argon2id hash of the password (cheap parameters under TESTING)."""
    return _hasher().hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether the password matches; always does the work of one verification, so a missing
    account takes as long as a wrong password."""
    dummy = current_app.extensions["dummy_password_hash"]
    try:
        matched = _hasher().verify(stored or dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored is not None


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    return None


def authenticate(email: str, password: str) -> users.User | None:
    """The active user with this email and password, or None (same answer and cost whether or
    not the email exists)."""
    db = get_db()
    user = users.get_by_email(db, email or "")
    stored = users.password_hash(db, user.id) if user else None
    ok = check_password(stored, password or "")
    if not ok or user is None or not user.active:
        return None
    return user


@login_manager.user_loader
def load_user(session_id: str) -> users.User | None:
    """The session's user, if the account is active and its password unchanged since."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = users.get_user(get_db(), int(user_id))
    if user is None or not user.active or str(user.auth_version) != version:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """API calls get a JSON 401; pages redirect to the sign-in form."""
    from directory.views.errors import error_response

    if request.path.startswith("/api"):
        response, status = error_response(401, "sign in or send Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="directory"'
        return response, status
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def load_token_user() -> users.User | None:
    """Authenticate this request by its bearer token alone (never the session cookie)."""
    token = bearer_token()
    user = users.user_for_token(get_db(), token) if token else None
    g._login_user = user if user is not None else login_manager.anonymous_user()
    g.token_auth = user is not None
    return user


def login_required(view):
    """Signed in (by session or bearer token), else 401 / the sign-in page."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped


def require(check):
    """A view decorator: signed in and check(current_user) true, else 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not check(current_user):
                raise Forbidden("Your account may not do this.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_reviewer(user) -> bool:
    """Moderators and admins."""
    return user.can_review


def is_admin(user) -> bool:
    """Admins only."""
    return user.is_admin


def is_editor_or_reviewer(user) -> bool:
    """Anyone who may propose or publish changes (not partners)."""
    return user.role in ("admin", "moderator", "editor")


def viewer():
    """The current user if signed in, else None (for views that serve everyone); an anonymous
    request without cookies never opens the session (so no "Vary: Cookie")."""
    if not request.cookies and "Authorization" not in request.headers:
        return None
    return current_user if current_user.is_authenticated else None


def init_app(app) -> None:
    """Password hasher (cheap under TESTING) and Flask-Login."""
    if app.testing:
        hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    else:
        hasher = PasswordHasher()
    app.extensions["password_hasher"] = hasher
    app.extensions["dummy_password_hash"] = hasher.hash("not a real password, never matches")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
