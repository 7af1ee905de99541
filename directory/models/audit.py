"""The append-only audit log: who did what, when (logins, changes, reviews, restores, checks)."""

import json

from sqlite_utils import Database

from directory.models.services import now_iso


def record(
    db: Database,
    action: str,
    *,
    actor_id: int | None = None,
    actor_email: str | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    detail: dict | None = None,
) -> None:
    """Append one entry (call inside the transaction of the change it describes)."""
    db.execute(
        "insert into audit_log (at, actor_id, actor_email, action, target_type, target_id, detail)"
        " values (?, ?, ?, ?, ?, ?, ?)",
        [
            now_iso(),
            actor_id,
            actor_email,
            action,
            target_type,
            None if target_id is None else str(target_id),
            json.dumps(detail, sort_keys=True) if detail else None,
        ],
    )


def entries(
    db: Database, *, action: str | None = None, limit: int = 200, before_id: int | None = None
) -> list[dict]:
    """The newest entries first, optionally one action and older than an id (for paging)."""
    where, args = [], []
    if action:
        where.append("action = ?")
        args.append(action)
    if before_id:
        where.append("id < ?")
        args.append(before_id)
    sql = "select * from audit_log" + (" where " + " and ".join(where) if where else "")
    rows = [dict(r) for r in db.query(sql + " order by id desc limit ?", [*args, limit])]
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows


def log_reveal(db: Database, user, service_id: str, reason: str) -> None:
    """Record that an entitled user saw a confidential address, and why (its own transaction)."""
    with db.atomic():
        record(
            db,
            "reveal_address",
            actor_id=user.id,
            actor_email=user.email,
            target_type="service",
            target_id=service_id,
            detail={"reason": reason},
        )
