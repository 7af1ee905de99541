"""Read queries behind the HSDS API's other lists: organisations and services at locations."""

from sqlite_utils import Database

ORGANIZATION_COLUMNS = (
    "id", "name", "alternate_name", "description", "email", "website", "legal_status", "uri",
    "parent_organization_id", "last_modified",
)  # fmt: skip


def list_organizations(
    db: Database, page: int, per_page: int, *, search: str | None = None
) -> tuple[list[dict], int]:
    """One page of organisations by name (optionally whose name contains `search`)."""
    where, params = "", []
    if search:
        where, params = "where name like ? escape '\\'", [f"%{_like(search)}%"]
    total = db.execute(f"select count(*) from organization {where}", params).fetchone()[0]
    rows = db.execute(
        f"select {', '.join(ORGANIZATION_COLUMNS)} from organization {where} "
        "order by name, id limit ? offset ?",
        [*params, per_page, (page - 1) * per_page],
    ).fetchall()
    return [dict(r) for r in rows], total


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_organization_row(db: Database, organization_id: str) -> dict | None:
    """One organisation's own fields, or None."""
    row = db.execute(
        f"select {', '.join(ORGANIZATION_COLUMNS)} from organization where id = ?",
        [organization_id],
    ).fetchone()
    return dict(row) if row else None


def organization_rows(db: Database, ids: list[str]) -> dict[str, dict]:
    """Organisations by id, for these ids."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    return {
        r["id"]: dict(r)
        for r in db.execute(
            f"select {', '.join(ORGANIZATION_COLUMNS)} from organization where id in ({marks})",
            ids,
        )
    }


def organization_service_ids(db: Database, organization_id: str) -> list[str]:
    """The ids of an organisation's services that are not defunct, by name."""
    return [
        r[0]
        for r in db.execute(
            "select id from service where organization_id = ? and status != 'defunct' "
            "order by name, id",
            [organization_id],
        )
    ]


def list_service_at_locations(
    db: Database, page: int, per_page: int, *, service_id: str | None = None
) -> tuple[list[tuple[str, str, str]], int]:
    """One page of (service_at_location id, service id, location id) for services in use."""
    where = "where s.status != 'defunct'"
    params: list = []
    if service_id:
        where += " and sal.service_id = ?"
        params.append(service_id)
    base = f"from service_at_location sal join service s on s.id = sal.service_id {where}"
    total = db.execute(f"select count(*) {base}", params).fetchone()[0]
    rows = db.execute(
        f"select sal.id, sal.service_id, sal.location_id {base} "
        "order by s.name, sal.id limit ? offset ?",
        [*params, per_page, (page - 1) * per_page],
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows], total


def get_service_at_location(db: Database, sal_id: str) -> tuple[str, str] | None:
    """(service id, location id) of one service at location, or None."""
    row = db.execute(
        "select service_id, location_id from service_at_location where id = ?", [sal_id]
    ).fetchone()
    return (row[0], row[1]) if row else None


def service_ids_page(db: Database, after: str | None, size: int) -> list[str]:
    """Up to `size` service ids after `after` in id order (to walk every service in batches)."""
    if after is None:
        rows = db.execute("select id from service order by id limit ?", [size])
    else:
        rows = db.execute("select id from service where id > ? order by id limit ?", [after, size])
    return [r[0] for r in rows]


def service_exists(db: Database, service_id: str) -> bool:
    """Whether a service with this id is stored."""
    return db.execute("select 1 from service where id = ?", [service_id]).fetchone() is not None


def organization_exists(db: Database, organization_id: str) -> bool:
    """Whether an organisation with this id is stored."""
    return (
        db.execute("select 1 from organization where id = ?", [organization_id]).fetchone()
        is not None
    )
