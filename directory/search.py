"""Search: parse and validate the contract's parameters, build SQL as data, run it, count facets.

No Flask here: parse_query takes a plain mapping of parameter lists, search() a Database.
Each filter is a (SQL, params, human description) triple, in the manner of Datasette's filters,
so the same data builds the query and the sentence shown above the results.
"""

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from directory import geo, nearby, search_index

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
BM25_WEIGHTS = "10.0, 4.0, 1.0, 2.0, 2.0, 0.0"  # name ... areas; tags never rank
TEXT_COLUMNS = "{name organization description terms areas}"  # where the words are looked for
NOT_VICTIM_FACING = "tags : " + search_index.tag("v", 0)
SEARCH_PARAMETERS = {
    "q", "search", "country", "region", "province", "city", "taxonomy_term_id", "type",
    "language", "age", "minimum_age", "maximum_age", "gender", "open_now",
    "twenty_four_seven", "free", "near", "radius_km", "sort", "page", "per_page",
}  # fmt: skip


class Message(str):
    """English text that keeps its translatable form: `msgid` with %(name)s placeholders and the
    `values` that fill them. Used as a str it is the English text (the JSON API, logs); a page
    shows it in the viewer's language with gettext(msgid) % values."""

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values):
        text = super().__new__(cls, msgid % values if values else msgid)
        text.msgid, text.values = msgid, values
        return text


class QueryError(ValueError):
    """A search parameter is unknown or malformed: names the parameter and says why.

    `message` is the reason in English; `msgid` and `values` are the same reason to translate
    (templates/_messages_from_code.html lists every msgid, so the catalogues have them)."""

    def __init__(
        self,
        parameter: str,
        message: str,
        choices: list[tuple[str, str]] | None = None,
        values: dict | None = None,
    ):
        self.parameter = parameter
        self.message = Message(message, **(values or {}))
        self.msgid, self.values = self.message.msgid, self.message.values
        self.choices = choices or []  # (value, label) the user may pick instead, e.g. places
        super().__init__(f"{parameter}: {self.message}")


@dataclass
class Filter:
    """One condition on search_doc `d`: SQL, its named parameters and a human description."""

    sql: str
    params: dict
    description: str
    phrase: str = ""  # the description as a translatable message, with %(name)s values
    values: dict = field(default_factory=dict)
    tags: str = ""  # the same condition as an FTS5 expression on search_fts.tags, if it has one
    tags_excluded: str = ""  # or as an FTS5 expression the rows must not match


def phrased(sql: str, params: dict, phrase: str, tags: str = "", **values) -> Filter:
    """A Filter whose description can be translated (phrase % values)."""
    shown = {k: (v.lower() if k == "type" else v) for k, v in values.items()}
    return Filter(sql, params, phrase % shown, phrase, values, tags)


def _any_tag(kind: str, codes) -> str:
    """FTS5: the tags column holds one of these values."""
    return "tags : (" + " OR ".join(search_index.tag(kind, c) for c in codes) + ")"


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
        raise QueryError(
            name,
            "must be a whole number from %(low)s to %(high)s, not %(value)s",
            values={"low": low, "high": high, "value": repr(value[:40])},
        )
    number = int(value)
    if not low <= number <= high:
        raise QueryError(
            name,
            "must be from %(low)s to %(high)s, not %(value)s",
            values={"low": low, "high": high, "value": number},
        )
    return number


def _bool(args: dict, name: str) -> bool:
    value = _single(args, name)
    if value is None:
        return False
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise QueryError(name, "must be 1 or 0, not %(value)s", values={"value": repr(value[:40])})


def fts_query(text: str) -> tuple[str | None, list[str]]:
    """Escape free text for FTS5 MATCH: each word quoted, operators and stray quotes inert.
    The notes say what was left out (Message: English, and translatable)."""
    words = re.findall(r"\w+", text.replace("\x00", " "))
    notes: list[str] = []
    if len(words) > MAX_QUERY_WORDS:
        notes.append(Message("only the first %(num)s words were searched", num=MAX_QUERY_WORDS))
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
            raise QueryError(param, exc.msgid, values=exc.values) from None
        chain = [a.code for a in geo.ancestors(db, area.code)]
        if chosen is not None and chosen.code not in chain:
            raise QueryError(
                param,
                "%(place)s is not in %(area)s (%(parameter)s)",
                values={"place": area.name, "area": chosen.name, "parameter": chosen_param},
            )
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
        raise QueryError(exc.parameter, exc.msgid, values=exc.values) from None
    except geo.AmbiguousPlace as exc:
        choices = [(a.code, exc.label(a)) for a in exc.choices]
        raise QueryError("near", exc.msgid, choices, exc.values) from None
    except geo.UnknownPlace as exc:
        choices = [(a.code, exc.label(a)) for a in exc.suggestions]
        raise QueryError("near", exc.msgid, choices, exc.values) from None


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
        query.notes.append(
            Message("the search text was cut to %(num)s characters", num=MAX_QUERY_CHARS)
        )
    query.fts, notes = fts_query(query.q)
    query.notes += notes
    if query.q.strip() and query.fts is None:
        query.notes.append(Message("the search text has no words to search for, so it was ignored"))

    if country := _single(args, "country"):
        code = country.upper()
        area = geo.get_area(db, code) if re.fullmatch(r"[A-Z]{2}", code) else None
        if area is None or area.level != "country":
            raise QueryError(
                "country",
                "%(value)s is not an ISO 3166-1 alpha-2 code",
                values={"value": repr(country[:40])},
            )
        query.country = code
    query.area, query.area_chain = _resolve_area(db, args)
    if query.country and query.area and query.area.country_code != query.country:
        raise QueryError(
            "country",
            "%(place)s is not in %(country)s",
            values={"place": query.area.name, "country": query.country},
        )

    term_values = [v for name in ("type", "taxonomy_term_id") for v in args.get(name, []) if v]
    for value in dict.fromkeys(term_values):
        row = db.execute(
            "select code, name from taxonomy_term where code = ? or id = ?", [value, value]
        ).fetchone()
        if row is None:
            known = ", ".join(r[0] for r in db.execute("select code from taxonomy_term"))
            param = "type" if value in args.get("type", []) else "taxonomy_term_id"
            raise QueryError(
                param,
                "unknown service type %(value)s; known: %(known)s",
                values={"value": repr(value[:40]), "known": known},
            )
        query.terms.append((row[0], row[1]))
    query.include_youth_justice = any(code == "youth-justice" for code, _ in query.terms)

    if language := _single(args, "language"):
        key = language.lower()
        codes = LANGUAGE_ALIASES.get(key)
        if codes is None and re.fullmatch(r"[a-z]{2,3}", key):
            codes = {key}
        if not codes:
            raise QueryError(
                "language",
                "%(value)s is not an ISO 639 language code",
                values={"value": repr(language[:40])},
            )
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
            raise QueryError(
                "gender",
                "must be female or male, not %(value)s",
                values={"value": repr(gender[:40])},
            )
        query.gender = GENDERS[gender.lower()]
    query.open_now = _bool(args, "open_now")
    query.twenty_four_seven = _bool(args, "twenty_four_seven")
    query.free = _bool(args, "free")

    query.near, query.radius_km = _parse_near(db, args)
    sort = (_single(args, "sort") or ("distance" if query.near else "relevance")).lower()
    if sort not in SORTS:
        raise QueryError(
            "sort",
            "must be one of %(choices)s, not %(value)s",
            values={"choices": ", ".join(SORTS), "value": repr(sort[:40])},
        )
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
                tags=_any_tag("a", [query.country]),
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
                tags=f"({_any_tag('a', [query.area.code])} OR {_any_tag('x', query.area_chain)})",
                place=query.area.name,
            )
        )
    for i, (code, name) in enumerate(query.terms):
        filters.append(
            phrased(
                f"d.rowid in (select doc from search_term where code = :term{i})",
                {f"term{i}": code},
                "offering %(type)s",
                tags=_any_tag("t", [code]),
                type=name,
            )
        )
    if not query.include_youth_justice:
        filters.append(Filter("d.victim_facing = 1", {}, "", tags_excluded=NOT_VICTIM_FACING))
    if query.language_codes:
        codes = {f"lang{i}": c for i, c in enumerate(sorted(query.language_codes))}
        placeholders = ", ".join(f":{k}" for k in codes)
        filters.append(
            phrased(
                f"d.rowid in (select doc from search_language where code in ({placeholders}))",
                codes,
                "in language %(language)s",
                tags=_any_tag("l", sorted(query.language_codes)),
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
                tags=_any_tag("g", [query.gender, "any"]),
            )
        )
    if query.twenty_four_seven:
        filters.append(phrased("d.twenty_four_seven = 1", {}, "open 24/7", _any_tag("w", [1])))
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
        filters.append(phrased("d.free = 1", {}, "free of charge", _any_tag("f", [1])))
    filters += query.extra
    return filters


# The keys of the browse order, as search_doc holds them and as the narrow search_browse does.
BROWSE_KEYS = {
    "d.scope_rank": "b.scope_rank",
    "d.twenty_four_seven": "b.twenty_four_seven",
    "d.name_key": "b.name_key",
}
DEFAULT_ORDER = [("d.scope_rank", "asc"), ("d.twenty_four_seven", "desc"), ("d.name_key", "asc")]


def _order_keys(query: Query) -> list[tuple[str, str]]:
    """The page's order as (SQL expression, asc|desc) pairs."""
    if query.sort == "verified":
        return [("d.verified_key", "desc"), ("d.name_key", "asc")]
    if query.sort in ("name", "distance"):  # search() orders by geodesic itself for distance
        return [("d.name_key", "asc")]
    if query.fts:
        return [(f"bm25(search_fts, {BM25_WEIGHTS})", "asc"), ("d.name_key", "asc")]
    return list(DEFAULT_ORDER)


def _order_by(query: Query) -> str:
    return ", ".join(f"{expr} {direction}" for expr, direction in _order_keys(query))


def match_expression(query: Query, filters: list[Filter]) -> str | None:
    """The FTS5 MATCH for the words and every filter that is a tag, or None when there is
    nothing positive to match (FTS5 cannot start from a NOT): then SQL does all the filtering.

    The words are looked for in the text columns only; each is already quoted (fts_query)."""
    positive = [f"{TEXT_COLUMNS} : ({query.fts})"] if query.fts else []
    positive += [f"({f.tags})" for f in filters if f.tags]
    if not positive:
        return None
    expression = " AND ".join(positive)
    for excluded in (f.tags_excluded for f in filters if f.tags_excluded):
        expression = f"({expression}) NOT ({excluded})"
    return expression


def search_sql(
    query: Query, now: datetime | None = None, *, near: bool = True, more: list[Filter] = ()
) -> tuple[str, str, dict]:
    """(FROM + WHERE clause, ORDER BY, params) for the query: the twin of search().

    Filters that are tags go to FTS5 with the words (posting lists intersect there, cheaply);
    the rest are SQL on search_doc `d`. With `near`, the clause calls geodesic_km: run it on a
    connection nearby.register() saw."""
    filters = build_filters(query, now, near=near) + list(more)
    match = match_expression(query, filters)
    params: dict = {}
    where = []
    source = "search_doc d"
    if match is not None:
        source = "search_fts join search_doc d on d.rowid = search_fts.rowid"
        where.append("search_fts match :fts")
        params["fts"] = match
    for f in filters:
        if match is not None and (f.tags or f.tags_excluded):
            continue
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


FTS_SOURCE = "search_fts join search_doc d on d.rowid = search_fts.rowid"
FACET_KINDS = ("region", "type", "language")
# the facet values of each hit, and their counts grouped column by column (few groups each)
FACET_COLUMNS = (
    "d.facet_regions as fr, d.facet_types as ft, d.facet_languages as fl, "
    "d.scope = 'national' as fn"
)
FACET_GROUPS = " union all ".join(
    f"select '{kind}', {column}, count(*) from hits group by {column}"
    for kind, column in (("region", "fr"), ("type", "ft"), ("language", "fl"), ("nationwide", "fn"))
)


def _total(db: Database, clause: str, params: dict) -> int:
    if all_in_fts(clause):
        sql = "select count(*) from search_fts where search_fts match :fts"
    else:
        sql = f"select count(*) {clause}"
    return db.execute(sql, params).fetchone()[0]


def _facet_counts(db: Database, clause: str, params: dict) -> tuple[dict, int]:
    """Facet counts over the hits: one pass, grouped by search_doc's three facet columns."""
    return _count_facets(
        db.execute(
            f"with hits as materialized (select {FACET_COLUMNS} {clause}) {FACET_GROUPS}",
            params,
        )
    )


def _count_facets(groups) -> tuple[dict[str, Counter], int]:
    """Per-value counts from (kind, comma-joined codes, n) groups of hits."""
    counts: dict[str, Counter] = {kind: Counter() for kind in FACET_KINDS}
    national = 0
    for kind, codes, n in groups:
        if kind == "nationwide":
            national += n if codes else 0
            continue
        for code in filter(None, (codes or "").split(",")):
            counts[kind][code] += n
    return counts, national


def _directory_counts(db: Database) -> tuple[dict, int]:
    """The facet counts of the whole directory (a search with no filter), kept by the index."""
    counts: dict[str, Counter] = {kind: Counter() for kind in FACET_KINDS}
    national = 0
    for kind, code, n in db.execute("select kind, code, count from search_totals"):
        if kind in counts:
            counts[kind][code] = n
        elif kind == "nationwide":
            national = n
    return counts, national


def _facets(db: Database, counts: dict[str, Counter], national: int) -> dict:
    """Facet counts with names, in the order the page lists them."""
    regions = counts["region"]
    names = {}
    if regions:
        marks = ", ".join("?" for _ in regions)
        names = dict(
            db.execute(f"select code, name from area where code in ({marks})", list(regions))
        )
    terms = {r[0]: (r[1], r[2]) for r in db.execute(
        "select code, name, position from taxonomy_term"
    )}  # fmt: skip
    types = [c for c in counts["type"] if c in terms]
    return {
        "region": sorted(
            ({"code": c, "name": names[c], "count": n} for c, n in regions.items() if c in names),
            key=lambda f: f["name"],
        ),
        "nationwide": national,
        "type": [
            {"code": c, "name": terms[c][0], "count": counts["type"][c]}
            for c in sorted(types, key=lambda c: (-counts["type"][c], terms[c][1] or 0, c))
        ],
        "language": [
            {"code": c, "count": n}
            for c, n in sorted(counts["language"].items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def _page_and_facets(
    db: Database, query: Query, clause: str, params: dict
) -> tuple[int, list[str], dict[str, Counter], int]:
    """(total, the page's service ids, facet counts, nationwide count) in one statement.

    The hits are visited once (one FTS5 pass, one bm25 and one search_doc look-up each) and
    kept in a temporary table that both the page's sort and the facets' grouping read."""
    keys = _order_keys(query)
    columns = ", ".join(f"{expr} as o{i}" for i, (expr, _) in enumerate(keys))
    order = ", ".join(f"o{i} {direction}" for i, (_, direction) in enumerate(keys))
    rows = db.execute(
        f"with hits as materialized (select {columns}, d.service_id as sid, {FACET_COLUMNS} "
        f"{clause}) select * from (select 'page', sid, null from hits order by {order} "
        f"limit :limit offset :offset) union all {FACET_GROUPS}",
        {**params, "limit": query.per_page, "offset": (query.page - 1) * query.per_page},
    ).fetchall()
    service_ids = [r[1] for r in rows if r[0] == "page"]
    counts, national = _count_facets(r for r in rows if r[0] != "page")
    total = sum(r[2] for r in rows if r[0] == "nationwide")
    return total, service_ids, counts, national


# The facet groups of the hits, decoded from search_facet's set ids.
NARROW_FACET_GROUPS = (
    " union all ".join(
        f"select '{kind}', s.codes, n from (select {column}, count(*) n from hits group by "
        f"{column}) join search_facet_set s on s.id = {column}"
        for kind, column in (("region", "regions"), ("type", "types"), ("language", "languages"))
    )
    + " union all select 'nationwide', national, count(*) from hits group by national"
)


def all_in_fts(clause: str) -> bool:
    """Whether FTS5 does all of a search_sql clause's filtering (no SQL filter left)."""
    return clause == f"from {FTS_SOURCE} where search_fts match :fts"


def narrow_order(keys: list[tuple[str, str]], clause: str) -> list[tuple[str, str]] | None:
    """The order keys to run on the narrow tables (search_fts, search_browse, search_facet),
    or None when the clause or the order needs search_doc: a filter left to SQL, sort=verified.

    bm25 first (words ranked by relevance): its ties are broken on search_doc at the page's
    edge only."""
    if not all_in_fts(clause):
        return None
    if keys[0][0].startswith("bm25("):
        return keys
    if all(expr in BROWSE_KEYS for expr, _ in keys):
        return [(BROWSE_KEYS[expr], direction) for expr, direction in keys]
    return None


def narrow_sql(keys: list[tuple[str, str]], *, facets: bool) -> str:
    """The one statement of narrow_page (parameters :fts, :limit, :offset, :last), which also
    serves the benchmark's floor.

    One FTS5 pass keeps each hit's rowid and order keys (and, for facets, its row of
    search_facet: the sets as small ids). Sorting on bm25, only the rows up to the page's
    last score (the page, and any tied with its last row) are looked up in search_doc to
    break ties by name; sorting on the browse keys, only the page's rows are."""
    ranked = keys[0][0].startswith("bm25(")
    order_keys = keys[:1] if ranked else keys
    columns = ", ".join(f"{expr} as o{i}" for i, (expr, _) in enumerate(order_keys))
    order = ", ".join(f"o{i} {direction}" for i, (_, direction) in enumerate(order_keys))
    source = "search_fts"
    if not ranked:
        source += " join search_browse b on b.rowid = search_fts.rowid"
    if facets:
        source += " join search_facet f on f.rowid = search_fts.rowid"
        columns += ", f.regions, f.types, f.languages, f.national"
    if ranked:
        page = (
            "select 'page', d.service_id, null from hits join search_doc d on d.rowid = hits.r "
            "where hits.o0 <= coalesce((select o0 from hits order by o0 limit 1 offset :last), "
            "1e308) order by hits.o0, d.name_key limit :limit offset :offset"
        )
    else:
        page = (
            "select 'page', (select service_id from search_doc where rowid = r), null from "
            f"(select r from hits order by {order} limit :limit offset :offset)"
        )
    groups = NARROW_FACET_GROUPS if facets else "select 'total', null, count(*) from hits"
    return (
        f"with hits as materialized (select search_fts.rowid as r, {columns} from {source} "
        f"where search_fts match :fts) select * from ({page}) union all {groups}"
    )


def narrow_page(
    db: Database,
    keys: list[tuple[str, str]],
    params: dict,
    *,
    limit: int,
    offset: int,
    facets: bool,
) -> tuple[int, list[str], dict[str, Counter] | None, int]:
    """(total, the page's ids, facet counts or None, nationwide count) of an FTS5 match in
    the order narrow_order gave, in one statement (narrow_sql)."""
    rows = db.execute(
        narrow_sql(keys, facets=facets),
        {**params, "limit": limit, "offset": offset, "last": offset + limit - 1},
    ).fetchall()
    service_ids = [r[1] for r in rows if r[0] == "page"]
    if not facets:
        return next(r[2] for r in rows if r[0] == "total"), service_ids, None, 0
    counts, national = _count_facets(r for r in rows if r[0] != "page")
    total = sum(r[2] for r in rows if r[0] == "nationwide")
    return total, service_ids, counts, national


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
    offset = (query.page - 1) * query.per_page
    page = {"limit": query.per_page, "offset": offset}
    distances: dict[str, float] = {}
    counts: dict[str, Counter] | None = None
    national = 0
    # no filter but the default one (youth-justice services left out): the index keeps counts
    only_default = not query.fts and all(
        f.tags_excluded for f in build_filters(query, now, near=False)
    )
    if only_default and query.near is None:
        counts, national = _directory_counts(db)
        total = db.execute(
            "select coalesce(sum(count), 0) from search_totals where kind = 'all'"
        ).fetchone()[0]
        service_ids = [r[0] for r in db.execute(
            f"select d.service_id {clause} order by {order} limit :limit offset :offset",
            {**params, **page},
        )]  # fmt: skip
    elif query.near is not None and query.sort == "distance":
        circle = nearby.Circle(query.near.lat, query.near.lon, query.radius_km)
        total = nearby.count_inside(db, circle) if only_default else _total(db, clause, params)
        base, _, base_params = search_sql(query, now, near=False)
        wanted = min(offset + query.per_page, total)
        found = nearby.nearest(db, base, base_params, circle, wanted) if offset < total else []
        service_ids = [sid for sid, _ in found[offset:]]
        distances = dict(found[offset:])
    elif (narrow := narrow_order(_order_keys(query), clause)) is not None:
        total, service_ids, counts, national = narrow_page(
            db, narrow, params, limit=query.per_page, offset=offset, facets=facets
        )
    elif facets:
        total, service_ids, counts, national = _page_and_facets(db, query, clause, params)
    else:
        total = _total(db, clause, params)
        service_ids = [r[0] for r in db.execute(
            f"select d.service_id {clause} order by {order} limit :limit offset :offset",
            {**params, **page},
        )]  # fmt: skip
    if query.near is not None and query.sort != "distance":
        distances = nearby.distances(db, query.near, service_ids)
    if facets and counts is None:
        counts, national = _facet_counts(db, clause, params)
    result = SearchResult(
        query=query,
        total=total,
        service_ids=service_ids,
        facets=_facets(db, counts, national) if facets else {},
        description=describe(query, total),
        place=query.near,
        distances=distances,
    )
    if query.near is not None and query.page == 1:  # the group goes with the first page
        condition = nearby.serving_condition(db, query.near)
        if condition is not None:
            group = Filter(condition[0], condition[1], "", tags=condition[2])
            clause, _, params = search_sql(query, now, near=False, more=[group])
            narrow = narrow_order(DEFAULT_ORDER, clause)
            if narrow is None:
                result.serving_ids, result.serving_total = nearby.serving_page(
                    db, clause, params, nearby.SERVING_LIMIT
                )
            else:
                result.serving_total, result.serving_ids, _, _ = narrow_page(
                    db, narrow, params, limit=nearby.SERVING_LIMIT, offset=0, facets=False
                )
    return result
