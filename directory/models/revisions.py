"""Revisions: the append-only history of every published version of a service.

A service's version is the number of its latest revision. A shipped (imported) service that was
never edited has no stored revision and is version 1; its first edit stores that original
record as revision 1 ("initial") before the new one, so the history is complete. A re-import
that changes a stored service adds a revision too ("import", see record_import); an identical
re-import adds none.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

from directory import timelimit
from directory.ids import stable_uuid
from directory.models import audit
from directory.models.services import SERVICE_COLUMNS, get_services, now_iso, save_service

LIST_FIELDS = ("phones", "schedules", "languages", "service_areas", "locations")
# Set by publishing and verifying, never by an edit.
PROTECTED_FIELDS = ("id", "assured_date", "assurer_email", "last_modified")


class Conflict(Exception):
    """The service changed since the version the writer had (nothing was written)."""

    def __init__(self, current_version: int | None, fields: list[str] | None = None):
        super().__init__(f"the service is at version {current_version}")
        self.current_version = current_version
        self.fields = fields or []


@contextmanager
def immediate(db: Database) -> Iterator[Database]:
    """A write transaction taken at its start (BEGIN IMMEDIATE), so a version read inside it
    cannot change before the write; nested use becomes a savepoint."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    # Waiting here for another writer (up to busy_timeout) is not a statement's running time:
    # without a fresh clock the statements after it, run straight on the connection, would be
    # stopped as if slow (a 503 under concurrent edits).
    timelimit.restart(db)
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.conn.execute("COMMIT")


def _strip(row: dict, drop: tuple[str, ...]) -> dict:
    return {k: v for k, v in row.items() if k not in drop}


def snapshot(db: Database, service_id: str) -> dict | None:
    """The stored service as a full record in the shape save_service writes (confidential
    addresses included), or None."""
    return snapshots(db, [service_id]).get(service_id)


def snapshots(db: Database, service_ids: list[str]) -> dict[str, dict]:
    """snapshot() of many services at once (a few queries for the lot): id → record."""
    records = get_services(db, service_ids, reveal_confidential=True, places=False)
    if not records:
        return {}
    org_ids = list({r["organization_id"] for r in records})
    orgs = {
        r["id"]: dict(r)
        for r in db.execute(
            "select id, name, description, website, email from organization"
            f" where id in ({', '.join('?' * len(org_ids))})",
            org_ids,
        )
    }
    out = {}
    for record in records:
        snap = {c: record.get(c) for c in SERVICE_COLUMNS}
        snap["organization"] = dict(orgs[record["organization_id"]])
        snap["phones"] = [_strip(p, ("service_id", "position")) for p in record["phones"]]
        snap["schedules"] = [_strip(s, ("service_id",)) for s in record["schedules"]]
        snap["languages"] = [_strip(lang, ("service_id",)) for lang in record["languages"]]
        snap["service_areas"] = [
            _strip(a, ("service_id", "area_level")) for a in record["service_areas"]
        ]
        snap["taxonomy_terms"] = [t["code"] for t in record["taxonomy_terms"]]
        snap["locations"] = [
            {
                **_strip(loc, ("service_at_location_id", "addresses")),
                "addresses": [_strip(a, ("location_id",)) for a in loc["addresses"]],
            }
            for loc in record["locations"]
        ]
        out[record["id"]] = snap
    return out


def current_version(db: Database, service_id: str) -> int | None:
    """The service's version (its latest revision number; 1 if never edited), None if absent."""
    row = db.execute(
        "select max(number) from revision where service_id = ?", [service_id]
    ).fetchone()
    if row[0] is not None:
        return row[0]
    exists = db.execute("select 1 from service where id = ?", [service_id]).fetchone()
    return 1 if exists else None


def ensure_initial(db: Database, service_id: str, record: dict | None = None) -> None:
    """Store the shipped record (or `record`, the service as it was before this change) as
    revision 1 if the service has no history yet."""
    if db.execute("select 1 from revision where service_id = ?", [service_id]).fetchone():
        return
    record = record or snapshot(db, service_id)
    if record is None:
        return
    db.execute(
        "insert into revision (service_id, number, action, record, author_email, created_at, note)"
        " values (?, 1, 'initial', ?, ?, ?, ?)",
        [
            service_id,
            json.dumps(record, sort_keys=True),
            None,
            record.get("last_modified") or now_iso(),
            "as shipped or imported, before the first edit",
        ],
    )


def publish(
    db: Database,
    record: dict,
    *,
    author,
    action: str,
    expected_version: int | None = None,
    change_request_id: int | None = None,
    restored_from: int | None = None,
    note: str | None = None,
) -> int:
    """Write a record to the public tables and append it as a new revision; its number.

    Raises Conflict when expected_version is given and is not the current version. Must run
    inside `immediate(db)` so the check and the write are one transaction.
    """
    service_id = record["id"]
    current = current_version(db, service_id)
    if expected_version is not None and current != expected_version:
        raise Conflict(current)
    if current is not None:
        ensure_initial(db, service_id)
    record = {**record, "last_modified": now_iso()}
    save_service(db, record)
    stored = snapshot(db, service_id)
    number = (current or 0) + 1
    _append(
        db,
        stored,
        number,
        action,
        author=author,
        created_at=stored["last_modified"],
        change_request_id=change_request_id,
        restored_from=restored_from,
        note=note,
    )
    return number


def record_import(db: Database, before: dict, after: dict, *, source: str) -> int:
    """Keep an import's change to a stored service as a new revision; its number.

    `before` and `after` are the service's snapshots around the import's write. The revision
    is attributed to the import (action "import", no author, a note naming the file); a service
    with no history first gets `before` as revision 1. The import keeps the file's
    last_modified. Call inside the import's transaction.
    """
    service_id = after["id"]
    ensure_initial(db, service_id, before)
    number = current_version(db, service_id) + 1
    _append(
        db,
        after,
        number,
        "import",
        author=None,
        created_at=now_iso(),
        note=f"imported from {source}",
        detail={"source": source},
    )
    return number


def _append(
    db: Database,
    stored: dict,
    number: int,
    action: str,
    *,
    author,
    created_at: str,
    change_request_id: int | None = None,
    restored_from: int | None = None,
    note: str | None = None,
    detail: dict | None = None,
) -> None:
    """Insert revision `number` of a stored record and log it."""
    service_id = stored["id"]
    db.execute(
        "insert into revision (service_id, number, action, record, author_id, author_email,"
        " created_at, change_request_id, restored_from, note)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            service_id,
            number,
            action,
            json.dumps(stored, sort_keys=True),
            author.id if author else None,
            author.email if author else None,
            created_at,
            change_request_id,
            restored_from,
            note,
        ],
    )
    audit.record(
        db,
        f"service.{action}",
        actor_id=author.id if author else None,
        actor_email=author.email if author else None,
        target_type="service",
        target_id=service_id,
        detail={
            "version": number,
            "change_request": change_request_id,
            "restored_from": restored_from,
            **(detail or {}),
        },
    )


def _row(row) -> dict:
    out = dict(row)
    out["record"] = json.loads(out["record"])
    return out


def history(db: Database, service_id: str) -> list[dict]:
    """Every revision, newest first (the initial one is shown even if not stored yet)."""
    rows = [
        _row(r)
        for r in db.query(
            "select * from revision where service_id = ? order by number desc", [service_id]
        )
    ]
    if not rows:
        record = snapshot(db, service_id)
        if record is None:
            return []
        rows = [
            {
                "service_id": service_id,
                "number": 1,
                "action": "initial",
                "record": record,
                "author_id": None,
                "author_email": None,
                "created_at": record.get("last_modified"),
                "change_request_id": None,
                "restored_from": None,
                "note": "as shipped or imported, before the first edit",
            }
        ]
    return rows


def get_revision(db: Database, service_id: str, number: int) -> dict | None:
    """One revision by number (revision 1 of a never-edited service is its current record)."""
    row = db.execute(
        "select * from revision where service_id = ? and number = ?", [service_id, number]
    ).fetchone()
    if row is not None:
        return _row(row)
    if number == 1:
        found = history(db, service_id)
        if len(found) == 1 and found[0]["number"] == 1:
            return found[0]
    return None


def verify(
    db: Database,
    service_id: str,
    *,
    author,
    on: str,
    tested_phone_ids: list[str] | tuple[str, ...] = (),
) -> int:
    """ "Confirm still accurate": set assured_date and the assurer (and, for the phones named,
    tested_on) without changing anything else; a new revision. Call inside `immediate(db)`."""
    record = snapshot(db, service_id)
    if record is None:
        raise LookupError(service_id)
    record["assured_date"] = on
    record["assurer_email"] = author.email
    for phone in record["phones"]:
        if phone["id"] in tested_phone_ids:
            phone["tested_on"] = on
    return publish(db, record, author=author, action="verify")


def restore(db: Database, service_id: str, number: int, *, author) -> int:
    """Publish an earlier revision again, as a new revision. Call inside `immediate(db)`."""
    old = get_revision(db, service_id, number)
    if old is None:
        raise LookupError(f"{service_id} has no revision {number}")
    return publish(db, old["record"], author=author, action="restore", restored_from=number)


def due_for_verification(db: Database, before: str, limit: int = 500) -> list[dict]:
    """Active services not verified by a person since `before` (ISO date), oldest first."""
    return [
        dict(r)
        for r in db.query(
            "select s.id, s.name, s.assured_date, s.assurer_email, s.source_date,"
            " o.id as organization_id, o.name as organization_name"
            " from service s join organization o on o.id = s.organization_id"
            " where s.status != 'defunct' and (s.assured_date is null or s.assured_date < ?)"
            " order by s.assured_date is not null, s.assured_date, o.name, s.name limit ?",
            [before, limit],
        )
    ]


def record_to_view(db: Database, record: dict) -> dict:
    """A stored record in the shape get_service returns (for hsds.service and templates)."""
    terms = {
        r["code"]: dict(r)
        for r in db.query("select * from taxonomy_term")
        if r["code"] in record.get("taxonomy_terms", [])
    }
    out = {k: v for k, v in record.items() if k != "taxonomy_terms"}
    out["organization"] = {
        "id": record["organization"]["id"],
        "name": record["organization"]["name"],
    }
    out["taxonomy_terms"] = [
        {**terms[code], "attribute_id": stable_uuid(record["id"], code)}
        for code in record.get("taxonomy_terms", [])
        if code in terms
    ]
    out["locations"] = [
        {**loc, "service_at_location_id": stable_uuid(record["id"], loc["id"])}
        for loc in record.get("locations", [])
    ]
    return out


def services_of(db: Database, organization_id: str) -> list[dict]:
    """An organisation's services (all statuses) with their version and pending proposals."""
    rows = [
        dict(r)
        for r in db.query(
            "select s.id, s.name, s.status, s.assured_date,"
            " (select count(*) from change_request c where c.service_id = s.id"
            "  and c.status = 'pending') as pending"
            " from service s where s.organization_id = ? order by s.name",
            [organization_id],
        )
    ]
    for row in rows:
        row["version"] = current_version(db, row["id"])
    return rows


def organization(db: Database, organization_id: str) -> dict | None:
    """An organisation's id and name, or None."""
    row = db.execute("select id, name from organization where id = ?", [organization_id]).fetchone()
    return dict(row) if row else None


def taxonomy_choices(db: Database) -> list[tuple[str, str]]:
    """(code, name) of every service type, in display order."""
    return [
        (r["code"], r["name"])
        for r in db.query("select code, name from taxonomy_term order by position")
    ]
