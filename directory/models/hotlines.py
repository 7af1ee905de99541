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
PER_PAGE = 20  # lines of each group on one page


def lines_for(db: Database, query: search.Query) -> tuple[dict[str, list[dict]], dict[str, int]]:
    """Services with a phone that serve the query's place, grouped by reach, 24/7 first:
    (each group's lines on the query's page, each group's whole count).

    Page n holds lines (n-1)*PER_PAGE+1 ... n*PER_PAGE of every group, so that a province
    with thousands of local lines still answers at once and no line is out of reach."""
    clause, _, params = search.search_sql(query)
    where = " and " if " where " in clause else " where "
    skip = (query.page - 1) * PER_PAGE
    rows = db.execute(
        "select service_id, scope, lines from (select d.service_id, d.scope, "
        "row_number() over (partition by d.scope order by d.twenty_four_seven desc, "
        "d.name_key) as position, count(*) over (partition by d.scope) as lines "
        f"{clause}{where}d.phone_count > 0) "
        "where position > :skip and position <= :skip + :per_page order by position",
        {**params, "skip": skip, "per_page": PER_PAGE},
    ).fetchall()
    services = {s["id"]: s for s in get_services(db, [r[0] for r in rows])}
    groups: dict[str, list[dict]] = {key: [] for key, _ in GROUPS}
    counts = {key: 0 for key, _ in GROUPS}
    for service_id, scope, lines in rows:
        if scope in groups and service_id in services:
            groups[scope].append(services[service_id])
            counts[scope] = lines
    if skip:  # a group that ended on an earlier page still says how many it has
        counts.update(_counts(db, clause, where, params, set(groups) - {r[1] for r in rows}))
    return groups, counts


def _counts(db: Database, clause: str, where: str, params: dict, scopes: set[str]) -> dict:
    if not scopes:
        return {}
    rows = db.execute(
        f"select d.scope, count(*) {clause}{where}d.phone_count > 0 group by d.scope", params
    ).fetchall()
    return {scope: n for scope, n in rows if scope in scopes}


def page_count(counts: dict[str, int]) -> int:
    """How many pages the biggest group needs."""
    return max(1, -(-max(counts.values(), default=0) // PER_PAGE))


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
