"""Lines that serve a place: national, regional, provincial and local, 24/7 first."""

from sqlite_utils import Database

from directory import search
from directory.models.services import get_services

GROUPS = (
    ("local", "City and municipal lines"),
    ("provincial", "Provincial lines"),
    ("regional", "Regional lines"),
    ("island_group", "Island-group lines (Luzon, Visayas or Mindanao)"),
    ("national", "National lines"),
    ("international", "International lines"),
)
MAX_LINES = 500


def lines_for(db: Database, query: search.Query) -> dict[str, list[dict]]:
    """Every service with a phone that serves the query's place, grouped by reach, 24/7 first."""
    clause, _, params = search.search_sql(query)
    rows = db.execute(
        f"select d.service_id, d.scope {clause} and d.phone_count > 0 "
        "order by d.twenty_four_seven desc, d.name_key limit :limit"
        if " where " in clause
        else f"select d.service_id, d.scope {clause} where d.phone_count > 0 "
        "order by d.twenty_four_seven desc, d.name_key limit :limit",
        {**params, "limit": MAX_LINES},
    ).fetchall()
    services = {s["id"]: s for s in get_services(db, [r[0] for r in rows])}
    groups: dict[str, list[dict]] = {key: [] for key, _ in GROUPS}
    for service_id, scope in rows:
        if scope in groups and service_id in services:
            groups[scope].append(services[service_id])
    return groups


def urgent_lines(db: Database, limit: int = 8) -> list[dict]:
    """National 24/7 short-code lines for the home page (911, 163, 1383, ...)."""
    ids = [
        r[0]
        for r in db.execute(
            "select d.service_id from search_doc d where d.scope = 'national' "
            "and d.victim_facing = 1 and exists (select 1 from phone p where "
            "p.service_id = d.service_id and p.short_code is not null) "
            "order by d.twenty_four_seven desc, d.name_key limit ?",
            [limit],
        )
    ]
    return get_services(db, ids)
