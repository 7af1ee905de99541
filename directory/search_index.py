"""The search index: narrow filter tables and FTS5, derived from the HSDS tables.

Search runs on these (search_doc + search_area/term/language/hours + search_fts) so that one
query filters, ranks and counts without joining the wide HSDS tables. They hold only what the
public may see: a confidential location contributes its city, never its street or exact point.
"""

import functools
import re
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from directory import geo, hours
from directory.zones import service_timezone

WEEK = 7 * 24 * 60
SCOPE_RANK = {
    "local": 0, "provincial": 1, "regional": 2, "island_group": 3, "national": 4,
    "international": 5,
}  # fmt: skip
SCOPE_BY_LEVEL = {"barangay": "local", "city": "local", "province": "provincial",
                  "region": "regional", "country": "national"}  # fmt: skip
BATCH = 500  # services per round of queries (SQLite allows 32,766 `?` marks)
TOTAL_COLUMNS = ("victim_facing", "scope", "facet_regions", "facet_types", "facet_languages")
DOC_COLUMNS = (
    "rowid", "service_id", "name_key", "organization_id", "country_code", "scope",
    "scope_rank", "region_code", "area_code", "minimum_age", "maximum_age", "gender", "free",
    "twenty_four_seven", "victim_facing", "phone_count", "verified_key", "lat", "lon",
    "facet_regions", "facet_types", "facet_languages",
)  # fmt: skip
INSERTS = {
    "doc": f"insert into search_doc ({', '.join(DOC_COLUMNS)}) "
    f"values ({', '.join('?' for _ in DOC_COLUMNS)})",
    "point": "insert into search_point (id, min_lat, max_lat, min_lon, max_lon, lat, lon) "
    "values (?, ?, ?, ?, ?, ?, ?)",
    "area": "insert into search_area (code, doc, exact) values (?, ?, ?)",
    "term": "insert into search_term (code, doc) values (?, ?)",
    "language": "insert into search_language (code, doc) values (?, ?)",
    "hours": "insert into search_hours (doc, start_minute, end_minute) values (?, ?, ?)",
    "fts": "insert into search_fts (rowid, name, organization, description, terms, areas, "
    "tags) values (?, ?, ?, ?, ?, ?, ?)",
}


def verified_key(assured_date: str | None, source_date: str | None) -> str:
    """A sortable date for 'most recently verified': the assurance, else the source's date."""
    if assured_date:
        return assured_date[:10]
    match = re.search(r"\b(19|20)\d\d(-\d\d(-\d\d)?)?", source_date or "")
    return match.group(0) if match else ""


def _utc_intervals(schedules: list[dict], zone: str) -> list[tuple[int, int]]:
    """Weekly opening intervals shifted from local time to minutes since Monday 00:00 UTC."""
    offset = int(datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset().total_seconds() // 60)
    out = []
    for start, end in hours.weekly_minutes(schedules):
        start, end = (start - offset) % WEEK, (end - offset) % WEEK or WEEK
        if end <= start:
            out += [(start, WEEK), (0, end)]
        else:
            out.append((start, end))
    return out


@functools.lru_cache(maxsize=65536)  # the same areas, types and languages recur
def tag(kind: str, value: str) -> str:
    """A filter value as an FTS5 token of the `tags` column: a letter, then digits only.

    Digits (three per UTF-8 byte) keep the porter stemmer away (it strips letter suffixes
    only) and make each token unambiguous; the letter says which filter it belongs to."""
    return kind + "".join(f"{b:03d}" for b in str(value).encode())


def _remove(db: Database, rowids: list[int]) -> None:
    for start in range(0, len(rowids), BATCH):
        chunk = rowids[start : start + BATCH]
        marks = ", ".join("?" for _ in chunk)
        for table in ("search_area", "search_term", "search_language", "search_hours"):
            db.execute(f"delete from {table} where doc in ({marks})", chunk)
        db.execute(f"delete from search_point where id in ({marks})", chunk)
        db.execute(f"delete from search_fts where rowid in ({marks})", chunk)
        db.execute(f"delete from search_doc where rowid in ({marks})", chunk)


def index_services(db: Database, service_ids: list[str]) -> None:
    """(Re)index these services; a service that no longer exists is dropped from the index."""
    ids = list(dict.fromkeys(service_ids))
    chains, hours = _Chains(db), _Hours()
    for start in range(0, len(ids), BATCH):
        _index_batch(db, ids[start : start + BATCH], chains, hours)


def _grouped(db: Database, sql: str, ids: list[str]) -> dict[str, list[sqlite3.Row]]:
    """Rows of `sql` (whose first column, `sid`, is the service id) by service id."""
    out: dict[str, list[sqlite3.Row]] = {}
    for row in _rows(db, sql.format(marks=", ".join("?" * len(ids))), ids):
        out.setdefault(row[0], []).append(row)
    return out


def _rows(db: Database, sql: str, params: list) -> sqlite3.Cursor:
    """The rows of a query as sqlite3.Row (read by column name, without building a dict)."""
    cursor = db.conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, params)


def _related(db: Database, ids: list[str]) -> dict[str, dict[str, list[sqlite3.Row]]]:
    """Everything the index needs besides the service row, for a batch of services."""
    return {
        "locations": _grouped(
            db,
            "select sal.service_id as sid, l.* from service_at_location sal join location l "
            "on l.id = sal.location_id where sal.service_id in ({marks}) order by sal.rowid",
            ids,
        ),
        "areas": _grouped(
            db,
            "select service_id as sid, area_code from service_area where service_id in "
            "({marks}) and area_code is not null order by rowid",
            ids,
        ),
        "terms": _grouped(
            db,
            "select a.link_id as sid, t.code, t.name from attribute a join taxonomy_term t "
            "on t.id = a.taxonomy_term_id where a.link_id in ({marks}) "
            "and a.link_entity = 'service' order by a.rowid",
            ids,
        ),
        "languages": _grouped(
            db,
            "select service_id as sid, code from language where service_id in ({marks}) "
            "and code is not null",
            ids,
        ),
        "phones": _grouped(
            db,
            "select service_id as sid, count(*) as n from phone "
            "where service_id in ({marks}) group by service_id",
            ids,
        ),
        "schedules": _grouped(
            db,
            "select service_id as sid, * from schedule where service_id in ({marks}) "
            "order by rowid",
            ids,
        ),
    }


def _index_batch(db: Database, ids: list[str], chains: "_Chains", hours: "_Hours") -> None:
    marks = ", ".join("?" for _ in ids)
    rowid_of, totals, next_rowid = _clear(db, ids)
    services = {
        r["id"]: r
        for r in _rows(
            db,
            "select s.*, o.name as organization_name from service s "
            f"join organization o on o.id = s.organization_id where s.id in ({marks})",
            ids,
        )
    }
    related = _related(db, ids)
    rows: dict[str, list] = {table: [] for table in INSERTS}
    for sid in ids:
        service = services.get(sid)
        if service is None or service["status"] == "defunct":
            continue
        rowid = rowid_of.get(sid)
        if rowid is None:
            rowid, next_rowid = next_rowid, next_rowid + 1
        mine = {kind: by_service.get(sid, []) for kind, by_service in related.items()}
        doc = _add_rows(rows, rowid, chains, hours, service, mine)
        _count(totals, [doc[c] for c in TOTAL_COLUMNS], +1)
    _insert(db, rows)
    _apply_totals(db, totals)


def _clear(db: Database, ids: list[str]) -> tuple[dict[str, int], Counter, int]:
    """Remove these services' index rows: (the rowid each had, the facet totals with their
    shares taken away, the next free rowid)."""
    old = db.execute(
        f"select rowid, service_id, {', '.join(TOTAL_COLUMNS)} from search_doc "
        f"where service_id in ({', '.join('?' for _ in ids)})",
        ids,
    ).fetchall()
    totals: Counter = Counter()
    for row in old:
        _count(totals, row[2:], -1)
    rowid_of = {r[1]: r[0] for r in old}
    # taken before the removal: a service indexed again keeps its rowid, which may be the
    # highest, and a new one must not be given it
    next_rowid = db.execute("select coalesce(max(rowid), 0) from search_doc").fetchone()[0] + 1
    _remove(db, list(rowid_of.values()))
    return rowid_of, totals, next_rowid


def _insert(db: Database, rows: dict[str, list]) -> None:
    for table, sql in INSERTS.items():
        if rows[table]:
            db.conn.executemany(sql, rows[table])


# where each table's row holds the search_doc rowid (see INSERTS)
ROWID_AT = {"doc": 0, "point": 0, "area": 1, "term": 1, "language": 1, "hours": 0, "fts": 0}
# what _add_rows reads of a service row besides what save_service stores from the record
_SERVICE_KEYS = (
    "id", "name", "alternate_name", "organization_id", "description", "minimum_age",
    "maximum_age", "gender", "free", "twenty_four_seven", "victim_facing", "assured_date",
    "source_date", "status",
)  # fmt: skip


class Preparer:
    """Builds a new service's index rows from its record, as index_services would build them
    from the tables once the record is saved, without reading them: an import checks records
    in one process and writes them in another (importers.parallel), and this half of the
    indexing is done where the records are read. Rows carry rowid 0 until write_prepared."""

    def __init__(self, db: Database):
        self.chains, self.hours = _Chains(db), _Hours()
        self.term_names = dict(db.execute("select code, name from taxonomy_term").fetchall())

    def add_terms(self, terms: list[dict]) -> None:
        """Terms the import adds before the services that use them (code and name)."""
        self.term_names.update((t["code"], t["name"]) for t in terms)

    def prepare(self, record: dict, organization_name: str) -> tuple | None:
        """(service id, rows by table, facet total values) for a service not yet indexed, or
        None for one the index leaves out (defunct)."""
        if record["status"] == "defunct":
            return None
        service = {key: record.get(key) for key in _SERVICE_KEYS}
        service["organization_name"] = organization_name
        codes = record.get("taxonomy_terms") or ()
        phones = len(record.get("phones") or ())
        # the values as the tables give them back: a column the record leaves out has its default
        locations = [
            {
                "area_code": loc.get("area_code"),
                "confidential": loc.get("confidential", 0),
                "latitude": loc.get("latitude"),
                "longitude": loc.get("longitude"),
            }
            for loc in record.get("locations") or ()
        ]
        mine = {
            "locations": locations,
            "areas": [
                a for a in record.get("service_areas") or () if a.get("area_code") is not None
            ],
            "terms": [{"code": c, "name": self.term_names[c]} for c in codes],
            "languages": [g for g in record.get("languages") or () if g.get("code") is not None],
            "phones": [{"n": phones}] if phones else [],
            "schedules": [{"timezone": None, **s} for s in record.get("schedules") or ()],
        }
        rows: dict[str, list] = {table: [] for table in INSERTS}
        doc = _add_rows(rows, 0, self.chains, self.hours, service, mine)
        return record["id"], rows, [doc[c] for c in TOTAL_COLUMNS]


def write_prepared(db: Database, prepared: list[tuple]) -> None:
    """Index services from rows made by Preparer.prepare, each given the next free rowid."""
    if not prepared:
        return
    rowid_of, totals, next_rowid = _clear(db, [service_id for service_id, _, _ in prepared])
    out: dict[str, list] = {table: [] for table in INSERTS}
    for service_id, rows, total_values in prepared:
        rowid = rowid_of.get(service_id)
        if rowid is None:
            rowid, next_rowid = next_rowid, next_rowid + 1
        for table, table_rows in rows.items():
            at = ROWID_AT[table]
            out[table] += [(*row[:at], rowid, *row[at + 1 :]) for row in table_rows]
        _count(totals, total_values, +1)
    _insert(db, out)
    _apply_totals(db, totals)


class _Chains:
    """geo.ancestors remembered for one indexing run: many services share a city."""

    def __init__(self, db: Database):
        self.db = db
        self.known: dict[str, list[geo.Area]] = {}

    def __call__(self, code: str | None) -> list[geo.Area]:
        if not code:
            return []
        if code not in self.known:
            self.known[code] = geo.ancestors(self.db, code)
        return self.known[code]


class _Hours:
    """_utc_intervals remembered for one indexing run: the same weekly hours recur."""

    def __init__(self):
        self.known: dict[tuple, list[tuple[int, int]]] = {}

    def __call__(self, schedules: list[sqlite3.Row], zone: str) -> list[tuple[int, int]]:
        # what hours.weekly_minutes reads of each schedule
        key = (zone, *((s["freq"], s["byday"], s["opens_at"], s["closes_at"]) for s in schedules))
        if key not in self.known:
            self.known[key] = _utc_intervals([dict(s) for s in schedules], zone)
        return self.known[key]


def _public_area(chains: _Chains, location: dict) -> str | None:
    """A location's area for the index: a confidential one is known only by its city."""
    if not location["confidential"]:
        return location["area_code"]
    return next((a.code for a in chains(location["area_code"]) if a.level != "barangay"), None)


def _city_point(chains: _Chains, area_code: str | None) -> tuple[float | None, float | None]:
    """The point of the city (or coarser area) containing area_code: public precision."""
    for area in chains(area_code):
        if area.level != "barangay":
            return area.lat, area.lon
    return None, None


def _is_place_point(chains: _Chains, area_code: str | None, lat, lon) -> bool:
    """Whether a search_doc point locates the service (for `near`), not just its region.

    A location known only as "somewhere in Region VIII" carries the region's centre: it is no
    nearer to anyone than the rest of the region, so it is left out of the R*Tree.
    """
    if lat is None or lon is None:
        return False
    chain = chains(area_code)
    area = chain[0] if chain else None
    if area is None or area.level in ("city", "barangay") or area.lat is None:
        return True
    return (lat, lon) != (area.lat, area.lon)


def _scope(area_codes: list[str], served: list[str], level_of: dict, country_code) -> str:
    # The service area says whom a service takes; without one, its location does.
    scope_levels = [level_of[c] for c in (area_codes or served) if c in level_of]
    if not scope_levels:
        return "global"
    if country_code and country_code != "PH":
        return "international"
    if len(scope_levels) > 1 and set(scope_levels) == {"region"}:
        return "island_group"  # e.g. the PNP desks for all of Luzon, Visayas or Mindanao
    return max((SCOPE_BY_LEVEL[lvl] for lvl in scope_levels), key=SCOPE_RANK.__getitem__)


def _add_rows(
    rows: dict, rowid: int, chains: _Chains, hours: _Hours, service: sqlite3.Row, mine: dict
) -> dict:
    """Append one service's rows for every index table; returns its search_doc values."""
    locations = mine["locations"]
    area_codes = [r["area_code"] for r in mine["areas"]]
    location_area = next((_public_area(chains, loc) for loc in locations if loc["area_code"]), None)
    served = list(dict.fromkeys(area_codes + ([location_area] if location_area else [])))

    area_rows: dict[str, int] = {}
    area_names: list[str] = []
    level_of: dict[str, str] = {}
    regions: list[str] = []
    country_code = region_code = None
    for code in served:
        chain = chains(code)
        if not chain:
            continue
        area_rows[code] = 1
        level_of[code] = chain[0].level
        for area in chain:
            area_rows.setdefault(area.code, 0)
            area_names.append(area.name)
            if area.level == "country":
                country_code = country_code or area.code
            elif area.level == "region":
                region_code = region_code or area.code
                regions.append(area.code)
    scope = _scope(area_codes, served, level_of, country_code)

    lat = lon = None
    if locations:
        loc = locations[0]
        if loc["confidential"]:
            lat, lon = _city_point(chains, loc["area_code"])
        else:
            lat, lon = loc["latitude"], loc["longitude"]

    terms = list(dict.fromkeys((r["code"], r["name"]) for r in mine["terms"]))
    languages = sorted({r["code"] for r in mine["languages"]})
    phones = mine["phones"]
    doc = {
        "victim_facing": service["victim_facing"],
        "scope": scope,
        "facet_regions": ",".join(sorted(set(regions))),
        "facet_types": ",".join(sorted(code for code, _ in terms)),
        "facet_languages": ",".join(languages),
    }
    rows["doc"].append(
        (
            rowid, service["id"], geo.normalize(service["name"]), service["organization_id"],
            country_code, scope, SCOPE_RANK.get(scope, 6), region_code, location_area,
            service["minimum_age"], service["maximum_age"], service["gender"], service["free"],
            service["twenty_four_seven"], service["victim_facing"],
            phones[0]["n"] if phones else 0,
            verified_key(service["assured_date"], service["source_date"]), lat, lon,
            doc["facet_regions"], doc["facet_types"], doc["facet_languages"],
        )
    )  # fmt: skip
    has_point = _is_place_point(chains, location_area, lat, lon)
    if has_point:
        rows["point"].append((rowid, lat, lat, lon, lon, lat, lon))
    rows["area"] += [(code, rowid, exact) for code, exact in area_rows.items()]
    rows["term"] += [(code, rowid) for code, _ in terms]
    rows["language"] += [(code, rowid) for code in languages]
    if not service["twenty_four_seven"]:
        schedules = mine["schedules"]
        zone = service_timezone(country_code, next((s["timezone"] for s in schedules), None))
        rows["hours"] += [(rowid, s, e) for s, e in hours(schedules, zone)]
    tags = [tag("a", code) for code in area_rows]
    tags += [tag("x", code) for code, exact in area_rows.items() if exact]
    tags += [tag("t", code) for code, _ in terms]
    tags += [tag("l", code) for code in languages]
    tags.append(tag("g", service["gender"] or "any"))
    if service["twenty_four_seven"]:
        tags.append(tag("w", 1))
    if service["free"]:
        tags.append(tag("f", 1))
    if not service["victim_facing"]:
        tags.append(tag("v", 0))
    if not has_point:
        tags.append(tag("p", 0))  # in no R*Tree window: a candidate for "serves this area"
    rows["fts"].append(
        (
            rowid,
            " ".join(filter(None, [service["name"], service["alternate_name"]])),
            service["organization_name"],
            service["description"] or "",
            " ".join(name for _, name in terms),
            " ".join(dict.fromkeys(area_names)),
            " ".join(tags),
        )
    )
    return doc


def _count(totals: Counter, values, sign: int) -> None:
    """Add (sign=1) or take away (-1) one document's share of the directory's facet totals."""
    victim_facing, scope, regions, types, languages = values
    if not victim_facing:
        return  # a search with no filter at all leaves youth-justice services out
    totals[("all", "")] += sign
    if scope == "national":
        totals[("nationwide", "")] += sign
    for kind, codes in (("region", regions), ("type", types), ("language", languages)):
        for code in filter(None, (codes or "").split(",")):
            totals[(kind, code)] += sign


def _apply_totals(db: Database, totals: Counter) -> None:
    changes = [(kind, code, n) for (kind, code), n in totals.items() if n]
    db.conn.executemany(
        "insert into search_totals (kind, code, count) values (?, ?, ?) "
        "on conflict (kind, code) do update set count = count + excluded.count",
        changes,
    )
    db.execute("delete from search_totals where count = 0")


def rebuild(db: Database) -> int:
    """Rebuild the whole index from the HSDS tables; returns the number of services indexed."""
    for table in ("search_area", "search_term", "search_language", "search_hours", "search_doc",
                  "search_totals"):  # fmt: skip
        db.execute(f"delete from {table}")
    db.execute("delete from search_point")
    db.execute("delete from search_fts")
    ids = [r["id"] for r in db.query("select id from service order by name")]
    index_services(db, ids)
    return len(ids)
