"""Admins: users, roles and organisations, invitation and reset links, the audit log."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from directory import auth
from directory.db import get_db
from directory.forms import EmptyForm, OrganizationForm, UserEditForm, UserForm, choices
from directory.i18n import translated
from directory.models import audit, users
from directory.models.revisions import immediate

bp = Blueprint("admin", __name__)
LINK_HOURS = {"invite": 7 * 24, "reset": 24}


def _link(db, user, purpose: str) -> str:
    raw = users.create_link(
        db, user.id, purpose, created_by=current_user.id, hours=LINK_HOURS[purpose]
    )
    audit.record(
        db,
        f"user.{purpose}_link",
        actor_id=current_user.id,
        actor_email=current_user.email,
        target_type="user",
        target_id=user.id,
    )
    return url_for("auth.set_password", token=raw, _external=True)


@bp.get("/users")
@auth.require(auth.is_admin)
def users_page():
    """Everyone with an account."""
    db = get_db()
    names = {o["id"]: o["name"] for o in users.all_organizations(db)}
    return render_template("admin/users.html", users=users.list_users(db), org_names=names)


@bp.route("/users/new", methods=["GET", "POST"])
@auth.require(auth.is_admin)
def new_user():
    """Create an account; the invitation link is shown here (no mail server is assumed)."""
    db = get_db()
    form = UserForm()
    form.organizations.choices = choices((o["id"], o["name"]) for o in users.all_organizations(db))
    error = link = None
    if form.validate_on_submit():
        try:
            with immediate(db):
                user = users.create_user(
                    db, form.email.data, form.role.data, org_ids=form.organizations.data or []
                )
                audit.record(
                    db,
                    "user.create",
                    actor_id=current_user.id,
                    actor_email=current_user.email,
                    target_type="user",
                    target_id=user.id,
                    detail={"role": user.role, "organizations": list(user.org_ids)},
                )
                link = _link(db, user, "invite")
        except users.AccountError as exc:
            error = translated(exc)
        else:
            return render_template(
                "admin/link.html", user=user, link=link, hours=LINK_HOURS["invite"]
            )
    return render_template("admin/new_user.html", form=form, error=error)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@auth.require(auth.is_admin)
def edit_user(user_id: int):
    """Change a role, organisations or whether the account is active."""
    db = get_db()
    user = users.get_user(db, user_id)
    if user is None:
        abort(404, _("No such user."))
    form = UserEditForm()
    form.organizations.choices = choices((o["id"], o["name"]) for o in users.all_organizations(db))
    error = None
    if request.method == "GET":
        form.role.data = user.role
        form.active.data = user.active
        form.organizations.data = list(user.org_ids)
    elif form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            error = _("You cannot remove your own admin role or deactivate yourself.")
        elif form.role.data == "editor" and not form.organizations.data:
            error = _("An editor needs at least one organisation.")
        else:
            try:
                with immediate(db):
                    updated = users.update_user(
                        db,
                        user.id,
                        role=form.role.data,
                        active=bool(form.active.data) if form.active.data != user.active else None,
                        org_ids=form.organizations.data or [],
                    )
                    if not updated.active:
                        users.revoke_tokens(db, user.id)
                    audit.record(
                        db,
                        "user.update",
                        actor_id=current_user.id,
                        actor_email=current_user.email,
                        target_type="user",
                        target_id=user.id,
                        detail={
                            "role": updated.role,
                            "active": updated.active,
                            "organizations": list(updated.org_ids),
                        },
                    )
            except users.AccountError as exc:
                error = translated(exc)
            else:
                flash(_("Saved."))
                user = updated
    return render_template(
        "admin/edit_user.html", form=form, user=user, error=error, link_form=EmptyForm()
    )


@bp.post("/users/<int:user_id>/reset-link")
@auth.require(auth.is_admin)
def reset_link(user_id: int):
    """A one-time password-reset link for the user, shown to the admin (expires in 24 h)."""
    if not EmptyForm().validate_on_submit():
        abort(400, _("The form expired; try again."))
    db = get_db()
    user = users.get_user(db, user_id)
    if user is None:
        abort(404, _("No such user."))
    with immediate(db):
        link = _link(db, user, "reset")
    return render_template("admin/link.html", user=user, link=link, hours=LINK_HOURS["reset"])


@bp.get("/audit")
@auth.require(auth.is_admin)
def audit_page():
    """The audit log, newest first."""
    before = request.args.get("before", type=int)
    action = request.args.get("action") or None
    rows = audit.entries(get_db(), action=action, before_id=before, limit=100)
    return render_template("admin/audit.html", entries=rows, action=action)


@bp.route("/organizations/new", methods=["GET", "POST"])
@bp.route("/organizations/<org_id>", methods=["GET", "POST"])
@auth.require(auth.is_admin)
def organization(org_id: str | None = None):
    """Add an organisation (for an NGO not listed yet) or correct its name and contacts."""
    db = get_db()
    current = users.get_organization(db, org_id) if org_id else None
    if org_id and current is None:
        abort(404, _("No such organisation."))
    form = OrganizationForm(data=current) if request.method == "GET" else OrganizationForm()
    error = None
    if form.validate_on_submit():
        try:
            with immediate(db):
                saved = users.save_organization(
                    db,
                    form.name.data,
                    organization_id=org_id,
                    description=form.description.data or "",
                    website=form.website.data,
                    email=form.email.data,
                )
                audit.record(
                    db,
                    "organization.update" if org_id else "organization.create",
                    actor_id=current_user.id,
                    actor_email=current_user.email,
                    target_type="organization",
                    target_id=saved,
                    detail={"name": form.name.data},
                )
        except users.AccountError as exc:
            error = translated(exc)
        else:
            flash(_("Saved."))
            return redirect(url_for("manage.organization", org_id=saved))
    return render_template("admin/organization.html", form=form, current=current, error=error)
