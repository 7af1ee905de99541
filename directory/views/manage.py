"""NGO pages: my organisation, edit and create services, my proposals, history, restore, verify.

Every change is checked per request and per record by models.change_requests; an editor's
change becomes a proposal a moderator reviews, a moderator's is published at once.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from directory import auth, present
from directory.db import get_db
from directory.forms import EmptyForm, ServiceForm, VerifyForm, choices, field_label, problems
from directory.i18n import translated
from directory.models import change_requests as cr
from directory.models import revisions, users

bp = Blueprint("manage", __name__)
# Staff templates (manage/_macros.html is shared with review/) name fields in the viewer's
# language: "phones[0].number" -> "Phones 1 · Number"; form_problems lists a form's errors.
bp.add_app_template_filter(field_label, "field_label")
bp.add_app_template_global(problems, "form_problems")


def _editable_record(db, service_id: str) -> dict:
    record = revisions.snapshot(db, service_id)
    if record is None:
        abort(404, _("No such service."))
    if not current_user.can_edit(record["organization_id"]):
        abort(403, _("This service belongs to another organisation."))
    return record


@bp.get("/")
@auth.login_required
def dashboard():
    """My organisation(s), their services, and the status of my proposals."""
    db = get_db()
    organizations = [] if current_user.can_review else users.organizations_of(db, current_user)
    for org in organizations:
        org["services"] = revisions.services_of(db, org["id"])
    mine = (
        []
        if current_user.can_review or current_user.role == "partner"
        else cr.list_requests(db, org_ids=list(current_user.org_ids), limit=50)
    )
    return render_template(
        "manage/dashboard.html",
        organizations=organizations,
        proposals=mine,
        pending=len(cr.list_requests(db, status="pending")) if current_user.can_review else 0,
    )


@bp.get("/organizations")
@auth.require(auth.is_reviewer)
def organizations():
    """Every organisation, for moderators and admins."""
    return render_template(
        "manage/organizations.html", organizations=users.all_organizations(get_db())
    )


@bp.get("/organizations/<org_id>")
@auth.require(auth.is_editor_or_reviewer)
def organization(org_id: str):
    """One organisation's services with their version and pending proposals."""
    db = get_db()
    org = revisions.organization(db, org_id)
    if org is None:
        abort(404, _("No such organisation."))
    if not current_user.can_edit(org_id):
        abort(403, _("This is another organisation."))
    org["services"] = revisions.services_of(db, org_id)
    return render_template("manage/organization.html", org=org)


def _service_form(db, record: dict | None) -> ServiceForm:
    form = ServiceForm()
    # Service type names are in the catalogues (templates/_messages_from_code.html).
    types = revisions.taxonomy_choices(db)
    form.taxonomy_terms.choices = choices((code, _(name)) for code, name in types)
    orgs = [(o["id"], o["name"]) for o in users.organizations_of(db, current_user)]
    if record is not None and record["organization_id"] not in dict(orgs):
        orgs.append((record["organization_id"], record["organization"]["name"]))
    form.organization_id.choices = choices(orgs)
    return form


def _save(db, form: ServiceForm, service_id: str | None, record: dict | None):
    """Submit the form; a redirect when done, else the errors to show."""
    body = form.to_body(record)
    version = int(form.version.data) if (form.version.data or "").isdigit() else None
    try:
        result = cr.submit(db, current_user, service_id, body, if_match=version)
    except cr.Invalid as exc:
        return None, exc.errors, None
    except cr.Forbidden as exc:
        abort(403, translated(exc))
    except revisions.Conflict as exc:
        return None, [], exc
    if result["status"] == "published":
        flash(_("Published as version %(version)s.", version=result["version"]))
        return redirect(url_for("manage.history", service_id=result["id"])), [], None
    flash(_("Sent for review. A moderator will check it before the public sees it."))
    return redirect(url_for("manage.change_request", request_id=result["id"])), [], None


@bp.route("/services/<service_id>/edit", methods=["GET", "POST"])
@auth.require(auth.is_editor_or_reviewer)
def edit(service_id: str):
    """Edit every field of a service; the form carries the version it was filled from."""
    db = get_db()
    record = _editable_record(db, service_id)
    form = _service_form(db, record)
    errors, conflict = [], None
    if request.method == "GET":
        form.fill(record)
        form.version.data = str(revisions.current_version(db, service_id))
    elif form.validate_on_submit():
        done, errors, conflict = _save(db, form, service_id, record)
        if done is not None:
            return done
    return render_template(
        "manage/edit.html",
        form=form,
        record=record,
        errors=errors,
        conflict=conflict,
        later=_later(db, service_id, form.version.data) if conflict else [],
        creating=False,
    ), 409 if conflict else (400 if errors or form.errors else 200)


def _later(db, service_id: str, version: str | None) -> list[dict]:
    since = int(version) if (version or "").isdigit() else 0
    return [r for r in revisions.history(db, service_id) if r["number"] > since]


@bp.route("/organizations/<org_id>/services/new", methods=["GET", "POST"])
@auth.require(auth.is_editor_or_reviewer)
def create(org_id: str):
    """A new service for an organisation (a proposal, for editors)."""
    db = get_db()
    org = revisions.organization(db, org_id)
    if org is None:
        abort(404, _("No such organisation."))
    if not current_user.can_edit(org_id):
        abort(403, _("This is another organisation."))
    form = _service_form(db, None)
    errors = []
    if request.method == "GET":
        form.fill({"organization_id": org_id})
    elif form.validate_on_submit():
        done, errors, _conflict = _save(db, form, None, None)
        if done is not None:
            return done
    return render_template(
        "manage/edit.html", form=form, record=None, org=org, errors=errors, conflict=None,
        later=[], creating=True,
    ), 400 if errors or form.errors else 200  # fmt: skip


@bp.get("/proposals")
@auth.require(auth.is_editor_or_reviewer)
def proposals():
    """Proposals for my organisations, newest first, with status and any rejection reason."""
    db = get_db()
    org_ids = None if current_user.can_review else list(current_user.org_ids)
    return render_template("manage/proposals.html", proposals=cr.list_requests(db, org_ids=org_ids))


@bp.get("/change_requests/<int:request_id>")
@auth.require(auth.is_editor_or_reviewer)
def change_request(request_id: int):
    """One proposal: what it changes, its status and the reviewer's reason."""
    db = get_db()
    row = cr.get(db, request_id)
    if row is None:
        abort(404, _("No such change request."))
    if not current_user.can_edit(row["organization_id"]):
        abort(403, _("This proposal is for another organisation."))
    return render_template(
        "manage/change_request.html",
        cr=row,
        changes=cr.diff(cr.base_record(db, row), row["record"]),
    )


@bp.get("/services/<service_id>/history")
@auth.require(auth.is_editor_or_reviewer)
def history(service_id: str):
    """Every published revision (who, when, what changed), each restorable."""
    db = get_db()
    record = _editable_record(db, service_id)
    rows = revisions.history(db, service_id)
    for newer, older in zip(rows, rows[1:] + [None], strict=True):
        newer["changes"] = cr.diff(older["record"] if older else None, newer["record"])
    return render_template("manage/history.html", record=record, revisions=rows, form=EmptyForm())


@bp.post("/services/<service_id>/revisions/<int:number>/restore")
@auth.require(auth.is_editor_or_reviewer)
def restore(service_id: str, number: int):
    """Restore a revision (a new revision; a proposal, for editors)."""
    if not EmptyForm().validate_on_submit():
        abort(400, _("The form expired; try again."))
    db = get_db()
    try:
        result = cr.restore(db, current_user, service_id, number)
    except cr.NotFound:
        abort(404, _("No such service or revision."))
    except cr.Forbidden as exc:
        abort(403, translated(exc))
    if result["status"] == "published":
        flash(
            _(
                "Revision %(number)s restored as version %(version)s.",
                number=number,
                version=result["version"],
            )
        )
        return redirect(url_for("manage.history", service_id=service_id))
    flash(_("Restoring revision %(number)s was sent for review.", number=number))
    return redirect(url_for("manage.change_request", request_id=result["id"]))


@bp.route("/services/<service_id>/verify", methods=["GET", "POST"])
@auth.require(auth.is_reviewer)
def verify(service_id: str):
    """ "Confirm still accurate": sets the verification date and you as the assurer."""
    db = get_db()
    record = _editable_record(db, service_id)
    form = VerifyForm()
    form.tested.choices = choices((p["id"], p["number"]) for p in record["phones"])
    if form.validate_on_submit():
        version = cr.verify(
            db,
            current_user,
            service_id,
            on=present.manila_now().date().isoformat(),
            tested_phone_ids=form.tested.data or [],
        )
        flash(_("Confirmed as accurate today (version %(version)s).", version=version))
        return redirect(url_for("manage.history", service_id=service_id))
    return render_template("manage/verify.html", form=form, record=record)
