"""Sign in and out, change a password, accept an invitation or password-reset link."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from directory import auth
from directory.db import get_db
from directory.forms import ChangePasswordForm, EmptyForm, LoginForm, SetPasswordForm
from directory.models import audit, users
from directory.models.revisions import immediate

bp = Blueprint("auth", __name__)


def _login_failed() -> str:
    """The one answer to a failed sign-in, whether or not the email exists."""
    return _("That email and password do not match an active account.")


def _password_problem(password: str) -> str | None:
    """Why a new password is not acceptable (auth.password_problem), in the viewer's language."""
    problem = auth.password_problem(password)
    if problem == f"Use at least {auth.MIN_PASSWORD_LENGTH} characters.":
        return _("Use at least %(num)s characters.", num=auth.MIN_PASSWORD_LENGTH)
    return problem


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("manage.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; failures say the same thing whether or not the email exists."""
    if current_user.is_authenticated:
        return redirect(url_for("manage.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = auth.authenticate(form.email.data, form.password.data)
        db = get_db()
        with immediate(db):
            audit.record(
                db,
                "login" if user else "login.failed",
                actor_id=user.id if user else None,
                actor_email=user.email if user else form.email.data.strip()[:254],
                detail={"via": "web"},
            )
        if user is not None:
            session.clear()  # nothing from before sign-in carries over
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        error = _login_failed()
    elif request.method == "POST":
        error = _login_failed()
    return render_template("auth/login.html", form=form, error=error), 200 if not error else 401


@bp.post("/logout")
def logout():
    """Sign out (a POST with the CSRF token, so another site cannot sign you out)."""
    if current_user.is_authenticated:
        db = get_db()
        with immediate(db):
            audit.record(db, "logout", actor_id=current_user.id, actor_email=current_user.email)
    logout_user()
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@auth.login_required
def change_password():
    """Change your password (ends your other sessions)."""
    form = ChangePasswordForm()
    error = None
    if form.validate_on_submit():
        db = get_db()
        stored = users.password_hash(db, current_user.id)
        if not auth.check_password(stored, form.current.data):
            error = _("The current password is not right.")
        elif problem := _password_problem(form.password.data):
            error = problem
        else:
            with immediate(db):
                users.set_password_hash(db, current_user.id, auth.hash_password(form.password.data))
                audit.record(
                    db,
                    "password.change",
                    actor_id=current_user.id,
                    actor_email=current_user.email,
                    target_type="user",
                    target_id=current_user.id,
                )
            login_user(users.get_user(db, current_user.id))
            flash(_("Your password was changed."))
            return redirect(url_for("manage.dashboard"))
    return render_template("auth/password.html", form=form, error=error)


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """An invitation or reset link: choose a password; the link then stops working."""
    db = get_db()
    found = users.check_link(db, token)
    if found is None:
        abort(404, _("This link has expired or was already used. Ask an admin for a new one."))
    user, link = found
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        if problem := _password_problem(form.password.data):
            error = problem
        else:
            with immediate(db):
                if users.check_link(db, token) is None:
                    abort(404, _("This link was already used."))
                users.set_password_hash(db, user.id, auth.hash_password(form.password.data))
                users.use_link(db, link["id"])
                audit.record(
                    db,
                    f"password.{link['purpose']}",
                    actor_id=user.id,
                    actor_email=user.email,
                    target_type="user",
                    target_id=user.id,
                )
            logout_user()
            flash(_("Your password is set. Sign in with it now."))
            return redirect(url_for("auth.login"))
    return render_template(
        "auth/set_password.html", form=form, error=error, user=user, purpose=link["purpose"]
    )


@bp.app_context_processor
def account_helpers() -> dict:
    """The sign-out button's form (for its CSRF token) on every page."""
    return {"logout_form": EmptyForm}
