"""Search: parse and validate the contract's parameters, build SQL as data, run it, count facets.

No Flask here: parse_query takes a plain mapping of parameter lists, search() a Database.
Each filter is a (SQL, params, human description) triple, in the manner of Datasette's filters,
so the same data builds the query and the sentence shown above the results.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from directory import geo, nearby

SORTS = ("relevance", "distance", "name", "verified")
GENDERS = {"female": "female", "f": "female", "girl": "female", "girls": "female",
           "women": "female", "male": "male", "m": "male", "boy": "male", "boys": "male",
           "men": "male"}  # fmt: skip
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
MAX_QUERY_WORDS = 20
MAX_QUERY_CHARS = 5000
MAX_PAGE = 10_000
LANGUAGE_ALIASES = {
    "fil": {"fil", "tl"}, "tl": {"fil", "tl"}, "filipino": {"fil", "tl"},
    "tagalog": {"fil", "tl"}, "english": {"en"}, "cebuano": {"ceb"}, "bisaya": {"ceb"},
    "binisaya": {"ceb"}, "ilocano": {"ilo"}, "ilokano": {"ilo"}, "waray": {"war"},
    "tausug": {"tsg"}, "hiligaynon": {"hil"}, "ilonggo": {"hil"}, "bikol": {"bik"},
    "spanish": {"es"}, "french": {"fr"}, "german": {"de"}, "dutch": {"nl"},
}  # fmt: skip
SEARCH_PARAMETERS = {
    "q", "search", "country", "region", "province", "city", "taxonomy_term_id", "type",
    "language", "age", "minimum_age", "maximum_age", "gender", "open_now",
    "twenty_four_seven", "free", "near", "radius_km", "sort", "page", "per_page",
}  # fmt: skip


class QueryError(ValueError):
    """A search parameter is unknown or malformed: names the parameter and says why."""

    def __init__(self, parameter: str, message: str, choices: list[tuple[str, str]] | None = None):
        self.parameter = parameter
        self.message = message
        self.choices = choices or []  # (value, label) the user may pick instead, e.g. places
        super().__init__(f"{parameter}: {message}")


@dataclass
class Filter:
    """One condition on search_doc `d`: SQL, its named parameters and a human description."""

    sql: str
    params: dict
    description: str
    phrase: str = ""  # the description as a translatable message, with %(name)s values
    values: dict = field(default_factory=dict)


def phrased(sql: str, params: dict, phrase: str, **values) -> Filter:
    """A Filter whose description can be translated (phrase % values)."""
    shown = {k: (v.lower() if k == "type" else v) for k, v in values.items()}
    return Filter(sql, params, phrase % shown, phrase, values)


@dataclass
class Query:
    """A validated search."""

    q: str = ""
    fts: str | None = None
    notes: list[str] = field(default_factory=list)
    country: str | None = None
    area: geo.Area | None = None
    area_chain: list[str] = field(default_factory=list)
    terms: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    language: str | None = None
    language_codes: set[str] = field(default_factory=set)
    age: int | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    gender: str | None = None
    open_now: bool = False
    twenty_four_seven: bool = False
    free: bool = False
    include_youth_justice: bool = False
    near: nearby.Place | None = None
    radius_km: float = nearby.DEFAULT_RADIUS_KM
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    args: dict = field(default_factory=dict)  # the accepted raw values, for links
    extra: list[Filter] = field(default_factory=list)  # callers' own conditions (HSDS API)


@dataclass
class SearchResult:
    """A page of matching service ids with the total, facets and a description of the search."""

    query: Query
    total: int
    service_ids: list[str]
    facets: dict
    description: str
    place: nearby.Place | None = None
    distances: dict[str, float] = field(default_factory=dict)  # service id → geodesic km
    serving_ids: list[str] = field(default_factory=list)  # the "serves this area" group
    serving_total: int = 0

    @property
    def total_pages(self) -> int:
        """Number of pages at the query's page size."""
        return max(1, -(-self.total // self.query.per_page))


def _as_lists(args: Mapping) -> dict[str, list[str]]:
    if hasattr(args, "lists"):
        return {k: list(v) for k, v in args.lists()}
    return {k: (list(v) if isinstance(v, (list, tuple)) else [v]) for k, v in args.items()}


def _single(args: dict, name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    distinct = list(dict.fromkeys(str(v) for v in values))
    if len(distinct) > 1:
        raise QueryError(name, "was given more than once with different values")
    value = distinct[0].replace("\x00", "").strip()
    return value


def _int(args: dict, name: str, low: int, high: int) -> int | None:
    value = _single(args, name)
    if value in (None, ""):
        return None
    if not re.fullmatch(r"[0-9]{1,9}", value):
        raise QueryError(name, f"must be a whole number from {low} to {high}, not {value[:40]!r}")
    number = int(value)
    if not low <= number <= high:
        raise QueryError(name, f"must be from {low} to {high}, not {number}")
    return number


def _bool(args: dict, name: str) -> bool:
    value = _single(args, name)
    if value is None:
        return False
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise QueryError(name, f"must be 1 or 0, not {value[:40]!r}")


def fts_query(text: str) -> tuple[str | None, list[str]]:
    """Escape free text for FTS5 MATCH: each word quoted, operators and stray quotes inert."""
    words = re.findall(r"\w+", text.replace("\x00", " "))
    notes = []
    if len(words) > MAX_QUERY_WORDS:
        notes.append(f"only the first {MAX_QUERY_WORDS} words were searched")
        words = words[:MAX_QUERY_WORDS]
    if not words:
        return None, notes
    return " ".join(f'"{w}"' for w in words), notes


def _resolve_area(db: Database, args: dict) -> tuple[geo.Area | None, list[str]]:
    chosen: geo.Area | None = None
    chosen_param = None
    for param, levels in (
        ("region", ("region",)),
        ("province", ("province",)),
        ("city", ("city", "barangay")),
    ):
        text = _single(args, param)
        if not text:
            continue
        try:
            area = geo.resolve_area(db, text[:200], levels=levels)
        except geo.PlaceError as exc:
            raise QueryError(param, str(exc)) from None
        chain = [a.code for a in geo.ancestors(db, area.code)]
        if chosen is not None and chosen.code not in chain:
            raise QueryError(param, f"{area.name} is not in {chosen.name} ({chosen_param})")
        chosen, chosen_param = area, param
    if chosen is None:
        return None, []
    return chosen, [a.code for a in geo.ancestors(db, chosen.code)]


def _parse_near(db: Database, args: dict) -> tuple[nearby.Place | None, float]:
    near, radius = _single(args, "near"), _single(args, "radius_km")
    try:
        radius_km = nearby.parse_radius(radius)
        if not near:
            if radius:
                raise QueryError("radius_km", "needs near (a place or lat,lon)")
            return None, radius_km
        return nearby.resolve_place(db, near), radius_km
    except nearby.NearError as exc:
        raise QueryError(exc.parameter, exc.message) from None
    except geo.AmbiguousPlace as exc:
        choices = [(a.code, exc.label(a)) for a in exc.choices]
        raise QueryError("near", str(exc), choices) from None
    except geo.UnknownPlace as exc:
        choices = [(a.code, exc.label(a)) for a in exc.suggestions]
        raise QueryError("near", str(exc), choices) from None


def parse_query(
    db: Database, args: Mapping, *, allowed: set[str] = frozenset(), per_page_max: int = 100
) -> Query:
    """Validate request parameters into a Query; raise QueryError naming the bad parameter."""
    args = _as_lists(args)
    for name in args:
        if name not in SEARCH_PARAMETERS and name not in allowed:
            raise QueryError(name, "is not a search parameter")
    query = Query()
    q = _single(args, "q")
    search = _single(args, "search")
    if q and search and q != search:
        raise QueryError("search", "is another name for q; give one of them")
    query.q = (q or search or "")[:MAX_QUERY_CHARS]
    if len(q or search or "") > MAX_QUERY_CHARS:
        query.notes.append(f"the search text was cut to {MAX_QUERY_CHARS} characters")
    query.fts, notes = fts_query(query.q)
    query.notes += notes
    if query.q.strip() and query.fts is None:
        query.notes.append("the search text has no words to search for, so it was ignored")

    if country := _single(args, "country"):
        code = country.upper()
        area = geo.get_area(db, code) if re.fullmatch(r"[A-Z]{2}", code) else None
        if area is None or area.level != "country":
            raise QueryError("country", f"{country[:40]!r} is not an ISO 3166-1 alpha-2 code")
        query.country = code
    query.area, query.area_chain = _resolve_area(db, args)
    if query.country and query.area and query.area.country_code != query.country:
        raise QueryError("country", f"{query.area.name} is not in {query.country}")

    term_values = [v for name in ("type", "taxonomy_term_id") for v in args.get(name, []) if v]
    for value in dict.fromkeys(term_values):
        row = db.execute(
            "select code, name from taxonomy_term where code = ? or id = ?", [value, value]
        ).fetchone()
        if row is None:
            known = ", ".join(r[0] for r in db.execute("select code from taxonomy_term"))
            param = "type" if value in args.get("type", []) else "taxonomy_term_id"
            raise QueryError(param, f"unknown service type {value[:40]!r}; known: {known}")
        query.terms.append((row[0], row[1]))
    query.include_youth_justice = any(code == "youth-justice" for code, _ in query.terms)

    if language := _single(args, "language"):
        key = language.lower()
        codes = LANGUAGE_ALIASES.get(key)
        if codes is None and re.fullmatch(r"[a-z]{2,3}", key):
            codes = {key}
        if not codes:
            raise QueryError("language", f"{language[:40]!r} is not an ISO 639 language code")
        query.language, query.language_codes = key, codes

    query.age = _int(args, "age", 0, 120)
    query.minimum_age = _int(args, "minimum_age", 0, 120)
    query.maximum_age = _int(args, "maximum_age", 0, 120)
    if (
        query.minimum_age is not None
        and query.maximum_age is not None
        and query.minimum_age > query.maximum_age
    ):
        raise QueryError("maximum_age", "must not be below minimum_age")
    if gender := _single(args, "gender"):
        if gender.lower() not in GENDERS:
            raise QueryError("gender", f"must be female or male, not {gender[:40]!r}")
        query.gender = GENDERS[gender.lower()]
    query.open_now = _bool(args, "open_now")
    query.twenty_four_seven = _bool(args, "twenty_four_seven")
    query.free = _bool(args, "free")

    query.near, query.radius_km = _parse_near(db, args)
    sort = (_single(args, "sort") or ("distance" if query.near else "relevance")).lower()
    if sort not in SORTS:
        raise QueryError("sort", f"must be one of {', '.join(SORTS)}, not {sort[:40]!r}")
    if sort == "distance" and query.near is None:
        raise QueryError("sort", "sort=distance needs near (a place or lat,lon)")
    query.sort = sort
    query.page = _int(args, "page", 1, MAX_PAGE) or 1
    query.per_page = _int(args, "per_page", 1, per_page_max) or 20
    query.args = {k: v for k, v in args.items() if k in SEARCH_PARAMETERS and any(v)}
    return query


def build_filters(query: Query, now: datetime | None = None, *, near: bool = True) -> list[Filter]:
    """The query's conditions on search_doc `d`, each with its human description
    (near=False leaves out the `near` circle, for the nearest-first search that windows it)."""
    filters: list[Filter] = []
    if near and query.near is not None:
        circle = nearby.Circle(query.near.lat, query.near.lon, query.radius_km)
        filters.append(
            phrased(
                nearby.radius_sql(),
                circle.params(),
                "within %(km)s km of %(place)s",
                km=f"{query.radius_km:g}",
                place=query.near.name,
            )
        )
    if query.country:
        filters.append(
            phrased(
                "d.rowid in (select doc from search_area where code = :country)",
                {"country": query.country},
                "in %(country)s",
                country=query.country,
            )
        )
    if query.area:
        # Located in or serving the area (or a place inside it), or serving a place containing it.
        up = {f"up{i}": code for i, code in enumerate(query.area_chain)}
        placeholders = ", ".join(f":{k}" for k in up)
        filters.append(
            phrased(
                "d.rowid in (select doc from search_area where code = :area "
                f"union select doc from search_area where exact = 1 and code in ({placeholders}))",
                {"area": query.area.code, **up},
                "serving %(place)s",
                place=query.area.name,
            )
        )
    for i, (code, name) in enumerate(query.terms):
        filters.append(
            phrased(
                f"d.rowid in (select doc from search_term where code = :term{i})",
                {f"term{i}": code},
                "offering %(type)s",
                type=name,
            )
        )
    if not query.include_youth_justice:
        filters.append(Filter("d.victim_facing = 1", {}, ""))
    if query.language_codes:
        codes = {f"lang{i}": c for i, c in enumerate(sorted(query.language_codes))}
        placeholders = ", ".join(f":{k}" for k in codes)
        filters.append(
            phrased(
                f"d.rowid in (select doc from search_language where code in ({placeholders}))",
                codes,
                "in language %(language)s",
                language=query.language,
            )
        )
    if query.age is not None:
        filters.append(
            phrased(
                "(d.minimum_age is null or d.minimum_age <= :age) "
                "and (d.maximum_age is null or d.maximum_age >= :age)",
                {"age": query.age},
                "for age %(age)s",
                age=query.age,
            )
        )
    if query.minimum_age is not None:
        filters.append(
            phrased(
                "(d.maximum_age is null or d.maximum_age >= :minimum_age)",
                {"minimum_age": query.minimum_age},
                "taking people aged %(age)s or more",
                age=query.minimum_age,
            )
        )
    if query.maximum_age is not None:
        filters.append(
            phrased(
                "(d.minimum_age is null or d.minimum_age <= :maximum_age)",
                {"maximum_age": query.maximum_age},
                "taking people aged %(age)s or less",
                age=query.maximum_age,
            )
        )
    if query.gender:
        filters.append(
            phrased(
                "(d.gender is null or d.gender = :gender)",
                {"gender": query.gender},
                "serving females" if query.gender == "female" else "serving males",
            )
        )
    if query.twenty_four_seven:
        filters.append(phrased("d.twenty_four_seven = 1", {}, "open 24/7"))
    if query.open_now:
        now = now or datetime.now(UTC)
        utc = now.astimezone(UTC)
        minute = utc.weekday() * 1440 + utc.hour * 60 + utc.minute
        filters.append(
            phrased(
                "(d.twenty_four_seven = 1 or d.rowid in (select doc from search_hours "
                "where start_minute <= :minute and end_minute > :minute))",
                {"minute": minute},
                "open now",
            )
        )
    if query.free:
        filters.append(phrased("d.free = 1", {}, "free of charge"))
    filters += query.extra
    return filters


def _order_by(query: Query) -> str:
    if query.sort == "name":
        return "d.name_key"
    if query.sort == "verified":
        return "d.verified_key desc, d.name_key"
    if query.sort == "distance":  # search() orders by geodesic itself; this is for other users
        return "d.name_key"
    if query.fts:
        return "bm25(search_fts, 10.0, 4.0, 1.0, 2.0, 2.0), d.name_key"
    return "d.scope_rank, d.twenty_four_seven desc, d.name_key"


def search_sql(
    query: Query, now: datetime | None = None, *, near: bool = True
) -> tuple[str, str, dict]:
    """(FROM + WHERE clause, ORDER BY, params) for the query: the twin of search().

    With `near`, the clause calls geodesic_km: run it on a connection nearby.register() saw."""
    filters = build_filters(query, now, near=near)
    params: dict = {}
    where = []
    source = "search_doc d"
    if query.fts:
        source = "search_fts join search_doc d on d.rowid = search_fts.rowid"
        where.append("search_fts match :fts")
        params["fts"] = query.fts
    for f in filters:
        where.append(f.sql)
        params.update(f.params)
    clause = f"from {source}" + (" where " + " and ".join(where) if where else "")
    return clause, _order_by(query), params


def describe(query: Query, total: int, gettext=None, ngettext=None) -> str:
    """A sentence saying what was searched: 3 services matching "shelter" serving Region V.

    With gettext/ngettext (the interface's translators) the sentence is in the viewer's language.
    """
    if gettext is None or ngettext is None:
        parts = [f"{total} service{'s' if total != 1 else ''}"]
        if query.fts:
            parts.append(f"matching “{query.q.strip()[:80]}”")
        parts += [f.description for f in build_filters(query) if f.description]
        return " ".join(parts)
    parts = [ngettext("%(num)d service", "%(num)d services", total) % {"num": total}]
    if query.fts:
        parts.append(gettext("matching “%(text)s”") % {"text": query.q.strip()[:80]})
    for f in build_filters(query):
        if f.phrase:
            values = dict(f.values)
            if "type" in values:
                values["type"] = gettext(values["type"]).lower()
            parts.append(gettext(f.phrase) % values)
        elif f.description:
            parts.append(f.description)
    return " ".join(parts)


def _facets(db: Database, clause: str, params: dict) -> dict:
    hits = f"with hits as (select d.rowid as doc {clause})"
    regions = [
        {"code": r[0], "name": r[1], "count": r[2]}
        for r in db.execute(
            f"{hits} select a.code, ar.name, count(*) from search_area a "
            "join hits on hits.doc = a.doc join area ar on ar.code = a.code "
            "where ar.level = 'region' group by a.code order by ar.name",
            params,
        )
    ]
    national = db.execute(
        f"{hits} select count(*) from hits join search_doc d on d.rowid = hits.doc "
        "where d.scope = 'national'",
        params,
    ).fetchone()[0]
    types = [
        {"code": r[0], "name": r[1], "count": r[2]}
        for r in db.execute(
            f"{hits} select t.code, tt.name, count(*) from search_term t "
            "join hits on hits.doc = t.doc join taxonomy_term tt on tt.code = t.code "
            "group by t.code order by count(*) desc, tt.position",
            params,
        )
    ]
    languages = [
        {"code": r[0], "count": r[1]}
        for r in db.execute(
            f"{hits} select l.code, count(*) from search_language l "
            "join hits on hits.doc = l.doc group by l.code order by count(*) desc",
            params,
        )
    ]
    return {"region": regions, "nationwide": national, "type": types, "language": languages}


def search(
    db: Database, query: Query, *, now: datetime | None = None, facets: bool = True
) -> SearchResult:
    """Run the query: one page of service ids, the total, and facet counts.

    With `near`: the page holds services whose point is within the radius (nearest first for
    sort=distance), `distances` their geodesic km, and (on page 1) `serving_ids` the services
    without a point whose service area covers the place."""
    if query.near is not None:
        nearby.register(db)
    clause, order, params = search_sql(query, now)
    total = db.execute(f"select count(*) {clause}", params).fetchone()[0]
    offset = (query.page - 1) * query.per_page
    distances: dict[str, float] = {}
    if query.near is not None and query.sort == "distance":
        base, _, base_params = search_sql(query, now, near=False)
        circle = nearby.Circle(query.near.lat, query.near.lon, query.radius_km)
        wanted = min(offset + query.per_page, total)
        found = nearby.nearest(db, base, base_params, circle, wanted) if offset < total else []
        page = found[offset:]
        service_ids = [sid for sid, _ in page]
        distances = dict(page)
    else:
        rows = db.execute(
            f"select d.service_id {clause} order by {order} limit :limit offset :offset",
            {**params, "limit": query.per_page, "offset": offset},
        ).fetchall()
        service_ids = [r[0] for r in rows]
        if query.near is not None:
            distances = nearby.distances(db, query.near, service_ids)
    result = SearchResult(
        query=query,
        total=total,
        service_ids=service_ids,
        facets=_facets(db, clause, params) if facets else {},
        description=describe(query, total),
        place=query.near,
        distances=distances,
    )
    if query.near is not None and query.page == 1:  # the group goes with the first page
        base, _, base_params = search_sql(query, now, near=False)
        result.serving_ids, result.serving_total = nearby.serving(db, base, base_params, query.near)
    return result
