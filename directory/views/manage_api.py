"""JSON API for NGOs' own systems: edit, create, review, history, restore, verify.

Authenticated by `Authorization: Bearer <token>` (or the session plus the X-CSRFToken header).
Every check is made per request and per record by models.change_requests.
"""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from directory import auth, hsds, present
from directory.db import get_db
from directory.models import audit, revisions
from directory.models import change_requests as cr
from directory.views.errors import error_response

bp = Blueprint("manage_api", __name__)


def _hsds(db, record: dict) -> dict:
    return hsds.service(revisions.record_to_view(db, record))


def _body():
    body = request.get_json(silent=True)
    if body is None:
        return None, error_response(400, "the body must be JSON (Content-Type: application/json)")
    return body, None


def if_match_version() -> tuple[int | None, tuple | None]:
    """The version in If-Match ("5", W/"5" or 5); an error response when missing or malformed."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None, error_response(
            428, "send If-Match with the ETag of GET /api/services/<id>", "If-Match"
        )
    value = raw.strip().removeprefix("W/").strip().strip('"')
    if not value.isdigit():
        return None, error_response(400, "If-Match must be the service's ETag", "If-Match")
    return int(value), None


def invalid_response(exc: cr.Invalid):
    """400 naming each invalid field."""
    fields = [e["field"] for e in exc.errors]
    body = {
        "error": {
            "status": 400,
            "message": f"invalid field(s): {', '.join(fields)}",
            "parameter": fields[0] if fields else None,
        },
        "errors": exc.errors,
    }
    return jsonify(body), 400


def conflict_response(db, service_id: str, exc: revisions.Conflict, since: int | None):
    """409 with the current version, what changed since, and the current record."""
    current = revisions.snapshot(db, service_id)
    later = [
        {
            "number": r["number"],
            "action": r["action"],
            "author": r["author_email"],
            "created_at": r["created_at"],
        }
        for r in revisions.history(db, service_id)
        if since is None or r["number"] > since
    ]
    message = f"the service changed: it is now at version {exc.current_version}"
    if exc.fields:
        message += f"; both changed {', '.join(exc.fields)}"
    body = {
        "error": {"status": 409, "message": message, "parameter": "If-Match"},
        "current_version": exc.current_version,
        "conflicting_fields": exc.fields,
        "changes_since": later,
        "current": _hsds(db, current) if current else None,
    }
    response = jsonify(body)
    response.headers["ETag"] = f'"{exc.current_version}"'
    return response, 409


def change_request_json(db, request_row: dict, *, full: bool = False) -> dict:
    """A change request as JSON: status, who, when, reason and the field-by-field changes."""
    out = {
        k: request_row[k]
        for k in (
            "id", "service_id", "organization_id", "kind", "status", "base_version",
            "created_at", "reviewed_at", "reason", "published_version",
        )
    }  # fmt: skip
    out["author"] = request_row["author_email"]
    out["reviewer"] = request_row["reviewer_email"]
    out["changes"] = cr.diff(cr.base_record(db, request_row), request_row["record"])
    if full:
        out["record"] = _hsds(db, request_row["record"])
    return out


def _not_found(what: str):
    return error_response(404, f"no {what}")


@bp.get("/services/<service_id>")
@auth.require(auth.is_editor_or_reviewer)
def get_service(service_id: str):
    """The full record (confidential address included) with its ETag, for those who edit it."""
    db = get_db()
    record = revisions.snapshot(db, service_id)
    if record is None:
        return _not_found("service")
    if not current_user.can_edit(record["organization_id"]):
        return error_response(403, "this service belongs to another organisation")
    response = jsonify(_hsds(db, record))
    response.headers["ETag"] = f'"{revisions.current_version(db, service_id)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.put("/services/<service_id>")
@auth.require(auth.is_editor_or_reviewer)
def put_service(service_id: str):
    """Edit: 202 pending change request (editor), 200 published (moderator/admin), 409 stale."""
    version, problem = if_match_version()
    if problem:
        return problem
    body, problem = _body()
    if problem:
        return problem
    db = get_db()
    try:
        result = cr.submit(db, current_user, service_id, body, if_match=version)
    except cr.NotFound:
        return _not_found("service")
    except cr.Forbidden as exc:
        return error_response(403, str(exc))
    except cr.Invalid as exc:
        return invalid_response(exc)
    except revisions.Conflict as exc:
        return conflict_response(db, service_id, exc, version)
    if result["status"] == "published":
        response = jsonify(result)
        response.headers["ETag"] = f'"{result["version"]}"'
        return response, 200
    return jsonify(result), 202


@bp.post("/services")
@auth.require(auth.is_editor_or_reviewer)
def post_service():
    """Create: 202 pending change request (editor), 201 published (moderator/admin)."""
    body, problem = _body()
    if problem:
        return problem
    db = get_db()
    try:
        result = cr.submit(db, current_user, None, body, if_match=None)
    except cr.Forbidden as exc:
        return error_response(403, str(exc))
    except cr.Invalid as exc:
        return invalid_response(exc)
    if result["status"] == "published":
        response = jsonify(result)
        response.headers["ETag"] = f'"{result["version"]}"'
        response.headers["Location"] = f"/api/services/{result['id']}"
        return response, 201
    return jsonify(result), 202


@bp.get("/change_requests")
@auth.require(auth.is_editor_or_reviewer)
def list_change_requests():
    """Change requests (?status=pending|approved|rejected); editors see their organisations'."""
    status = request.args.get("status") or None
    if status is not None and status not in cr.STATUSES:
        return error_response(400, f"status must be one of {', '.join(cr.STATUSES)}", "status")
    db = get_db()
    org_ids = None if current_user.can_review else list(current_user.org_ids)
    rows = cr.list_requests(db, status=status, org_ids=org_ids)
    return jsonify({"contents": [change_request_json(db, r) for r in rows]})


def _visible_request(db, request_id: int):
    row = cr.get(db, request_id)
    if row is None:
        return None, _not_found("change request")
    if not current_user.can_edit(row["organization_id"]):
        return None, error_response(403, "this change request is for another organisation")
    return row, None


@bp.get("/change_requests/<int:request_id>")
@auth.require(auth.is_editor_or_reviewer)
def get_change_request(request_id: int):
    """One change request with the full proposed record."""
    db = get_db()
    row, problem = _visible_request(db, request_id)
    if problem:
        return problem
    return jsonify(change_request_json(db, row, full=True))


@bp.post("/change_requests/<int:request_id>/approve")
@auth.require(auth.is_reviewer)
def approve(request_id: int):
    """Publish a proposal; 409 when it clashes with a later change."""
    db = get_db()
    try:
        version = cr.approve(db, request_id, current_user)
    except cr.NotFound:
        return _not_found("change request")
    except revisions.Conflict as exc:
        row = cr.get(db, request_id)
        return conflict_response(db, row["service_id"], exc, row["base_version"])
    except ValueError as exc:
        return error_response(409, str(exc), "status")
    return jsonify({"id": request_id, "status": "approved", "version": version})


@bp.post("/change_requests/<int:request_id>/reject")
@auth.require(auth.is_reviewer)
def reject(request_id: int):
    """Reject with {"reason": ...}; the author sees the reason."""
    body, problem = _body()
    if problem:
        return problem
    reason = body.get("reason") if isinstance(body, dict) else None
    db = get_db()
    try:
        cr.reject(db, request_id, current_user, reason if isinstance(reason, str) else "")
    except cr.NotFound:
        return _not_found("change request")
    except cr.Invalid as exc:
        return invalid_response(exc)
    except ValueError as exc:
        return error_response(409, str(exc), "status")
    return jsonify({"id": request_id, "status": "rejected", "reason": reason.strip()})


def _editable(db, service_id: str):
    record = revisions.snapshot(db, service_id)
    if record is None:
        return None, _not_found("service")
    if not current_user.can_edit(record["organization_id"]):
        return None, error_response(403, "this service belongs to another organisation")
    return record, None


@bp.get("/services/<service_id>/revisions")
@auth.require(auth.is_editor_or_reviewer)
def list_revisions(service_id: str):
    """Every published revision: number, author, time, and the full record as published."""
    db = get_db()
    _record, problem = _editable(db, service_id)
    if problem:
        return problem
    contents = [
        {
            "number": r["number"],
            "action": r["action"],
            "author": r["author_email"],
            "created_at": r["created_at"],
            "change_request_id": r["change_request_id"],
            "restored_from": r["restored_from"],
            "note": r["note"],
            "record": _hsds(db, r["record"]),
        }
        for r in revisions.history(db, service_id)
    ]
    return jsonify({"service_id": service_id, "contents": contents})


@bp.post("/services/<service_id>/revisions/<int:number>/restore")
@auth.require(auth.is_editor_or_reviewer)
def restore(service_id: str, number: int):
    """Restore a revision as a new one (200); for an editor, a change request (202)."""
    db = get_db()
    try:
        result = cr.restore(db, current_user, service_id, number)
    except cr.NotFound as exc:
        return _not_found(str(exc) if str(exc).startswith("revision") else "service")
    except cr.Forbidden as exc:
        return error_response(403, str(exc))
    if result["status"] == "published":
        return jsonify(result), 200
    return jsonify(result), 202


@bp.post("/services/<service_id>/verify")
@auth.require(auth.is_reviewer)
def verify(service_id: str):
    """ "Confirm still accurate": assured_date today and the assurer; {"tested_phone_ids": [...]}
    also sets those phones' tested_on. Nothing else changes."""
    body = request.get_json(silent=True) or {}
    tested = body.get("tested_phone_ids", []) if isinstance(body, dict) else []
    if not isinstance(tested, list) or not all(isinstance(t, str) for t in tested):
        return error_response(400, "tested_phone_ids must be a list of phone ids", "tested")
    db = get_db()
    try:
        version = cr.verify(
            db,
            current_user,
            service_id,
            on=present.manila_now().date().isoformat(),
            tested_phone_ids=tested,
        )
    except cr.NotFound:
        return _not_found("service")
    record = revisions.snapshot(db, service_id)
    return jsonify(
        {
            "id": service_id,
            "status": "verified",
            "version": version,
            "assured_date": record["assured_date"],
            "assurer_email": record["assurer_email"],
        }
    )


@bp.get("/due_for_verification")
@auth.require(auth.is_reviewer)
def due():
    """Services not verified by a person for STALE_AFTER_DAYS (default 12 months)."""
    from flask import current_app

    from directory.views.review import stale_cutoff

    rows = revisions.due_for_verification(get_db(), stale_cutoff(current_app))
    return jsonify({"total_items": len(rows), "contents": rows})


@bp.get("/audit_log")
@auth.require(auth.is_admin)
def audit_log():
    """The audit log, newest first (?action=, ?before=<id> to page back)."""
    before = request.args.get("before", type=int)
    rows = audit.entries(get_db(), action=request.args.get("action"), before_id=before)
    return jsonify({"contents": rows})
