"""Moderators: the review queue with a field-by-field diff, approve / reject, due for checking."""

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from directory import auth
from directory.db import get_db
from directory.forms import EmptyForm, RejectForm
from directory.i18n import translated
from directory.models import change_requests as cr
from directory.models import revisions

bp = Blueprint("review", __name__)


def stale_cutoff(app, today: date | None = None) -> str:
    """The ISO date before which a verification counts as stale (STALE_AFTER_DAYS ago)."""
    today = today or date.today()
    return (today - timedelta(days=app.config.get("STALE_AFTER_DAYS", 365))).isoformat()


@bp.get("/")
@auth.require(auth.is_reviewer)
def queue():
    """Pending proposals, oldest first."""
    return render_template(
        "review/queue.html", requests=cr.list_requests(get_db(), status="pending")
    )


def _context(db, row: dict) -> dict:
    base = cr.base_record(db, row)
    current = revisions.snapshot(db, row["service_id"])
    version = revisions.current_version(db, row["service_id"])
    clash = []
    if base is not None and current is not None and version != row["base_version"]:
        _merged, clash = cr.merge(base, row["record"], current)
    return {
        "cr": row,
        "changes": cr.diff(base, row["record"]),
        "current_version": version,
        "clash": clash,
        "approve_form": EmptyForm(),
        "reject_form": RejectForm(),
    }


@bp.get("/<int:request_id>")
@auth.require(auth.is_reviewer)
def detail(request_id: int):
    """One proposal: before and after, field by field; approve or reject with a reason."""
    db = get_db()
    row = cr.get(db, request_id)
    if row is None:
        abort(404, _("No such change request."))
    return render_template("review/detail.html", **_context(db, row))


@bp.post("/<int:request_id>/approve")
@auth.require(auth.is_reviewer)
def approve(request_id: int):
    """Publish the proposal."""
    if not EmptyForm().validate_on_submit():
        abort(400, _("The form expired; try again."))
    db = get_db()
    try:
        version = cr.approve(db, request_id, current_user)
    except cr.NotFound:
        abort(404, _("No such change request."))
    except revisions.Conflict as exc:
        flash(
            _(
                "Not published: the listing changed since this proposal, in the same fields "
                "(%(fields)s). Reject it with a reason so the author can propose again.",
                fields=", ".join(exc.fields),
            )
        )
        return redirect(url_for("review.detail", request_id=request_id))
    except ValueError as exc:
        flash(translated(exc))
        return redirect(url_for("review.detail", request_id=request_id))
    flash(_("Published as version %(version)s.", version=version))
    return redirect(url_for("review.queue"))


@bp.post("/<int:request_id>/reject")
@auth.require(auth.is_reviewer)
def reject(request_id: int):
    """Reject with a reason (kept, and shown to the author)."""
    db = get_db()
    form = RejectForm()
    row = cr.get(db, request_id)
    if row is None:
        abort(404, _("No such change request."))
    if not form.validate_on_submit():
        return render_template("review/detail.html", **_context(db, row)), 400
    try:
        cr.reject(db, request_id, current_user, form.reason.data)
    except ValueError as exc:
        flash(translated(exc))
        return redirect(url_for("review.detail", request_id=request_id))
    flash(_("Rejected; the author will see your reason."))
    return redirect(url_for("review.queue"))


@bp.get("/due")
@auth.require(auth.is_reviewer)
def due():
    """Listings not verified by a person for 12 months (STALE_AFTER_DAYS), oldest first."""
    from flask import current_app

    cutoff = stale_cutoff(current_app)
    rows = revisions.due_for_verification(get_db(), cutoff)
    return render_template("review/due.html", services=rows, cutoff=cutoff)
