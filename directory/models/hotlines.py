"""Lines that serve a place: national, regional, provincial and local, 24/7 first."""

from sqlite_utils import Database

from directory import search, search_index
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
    skip = (query.page - 1) * PER_PAGE
    if search.all_in_fts(clause):
        lines, counts = _narrow_lines(db, params, skip)
    else:
        lines, counts = _lines(db, clause, params, skip)
    services = {s["id"]: s for s in get_services(db, [sid for sid, _ in lines])}
    groups: dict[str, list[dict]] = {key: [] for key, _ in GROUPS}
    for service_id, scope in lines:
        if scope in groups and service_id in services:
            groups[scope].append(services[service_id])
    return groups, {key: counts.get(key, 0) for key, _ in GROUPS}


def _narrow_lines(db: Database, params: dict, skip: int) -> tuple[list, dict[str, int]]:
    """(service id, scope) of the page's lines and each group's count, when FTS5 does all the
    filtering: the hits' browse keys come from the narrow search_browse, and each group is a
    bounded sort (a top-N) of its own hits rather than a window over all of them."""
    scopes = {rank: scope for scope, rank in search_index.SCOPE_RANK.items()}
    pages = " union all ".join(
        f"select * from (select 'line' as kind, r as x, {rank} as s from hits where s = {rank} "
        "order by h desc, name_key limit :per_page offset :skip)"
        for rank in sorted(scopes)
    )
    rows = db.execute(
        "with hits as materialized (select b.rowid as r, b.scope_rank as s, "
        "b.twenty_four_seven as h, b.name_key from search_fts "
        "join search_browse b on b.rowid = search_fts.rowid "
        "where search_fts match :fts and b.phone_count > 0) "
        f"select kind, (select service_id from search_doc where rowid = x), s from ({pages}) "
        "union all select 'count', count(*), s from hits group by s",
        {**params, "skip": skip, "per_page": PER_PAGE},
    ).fetchall()
    lines = [(sid, scopes[rank]) for kind, sid, rank in rows if kind == "line"]
    counts = {scopes[rank]: n for kind, n, rank in rows if kind == "count" and rank in scopes}
    return lines, counts


def _lines(db: Database, clause: str, params: dict, skip: int) -> tuple[list, dict[str, int]]:
    """(service id, scope) of the page's lines and each group's count, with SQL filters."""
    where = " and " if " where " in clause else " where "
    rows = db.execute(
        "select service_id, scope, lines from (select d.service_id, d.scope, "
        "row_number() over (partition by d.scope order by d.twenty_four_seven desc, "
        "d.name_key) as position, count(*) over (partition by d.scope) as lines "
        f"{clause}{where}d.phone_count > 0) "
        "where position > :skip and position <= :skip + :per_page order by position",
        {**params, "skip": skip, "per_page": PER_PAGE},
    ).fetchall()
    counts = {scope: lines for _, scope, lines in rows}
    if skip:  # a group that ended on an earlier page still says how many it has
        counts.update(_counts(db, clause, where, params, set(dict(GROUPS)) - set(counts)))
    return [(sid, scope) for sid, scope, _ in rows], counts


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
