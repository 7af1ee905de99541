"""The search index: narrow filter tables and FTS5, derived from the HSDS tables.

Search runs on these (search_doc + search_area/term/language/hours + search_fts) so that one
query filters, ranks and counts without joining the wide HSDS tables. They hold only what the
public may see: a confidential location contributes its city, never its street or exact point.
"""

import re
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


def verified_key(assured_date: str | None, source_date: str | None) -> str:
    """A sortable date for 'most recently verified': the assurance, else the source's date."""
    if assured_date:
        return assured_date[:10]
    match = re.search(r"\b(19|20)\d\d(-\d\d(-\d\d)?)?", source_date or "")
    return match.group(0) if match else ""


def _city_point(db: Database, area_code: str | None) -> tuple[float | None, float | None]:
    """The point of the city (or coarser area) containing area_code: public precision."""
    for area in geo.ancestors(db, area_code) if area_code else []:
        if area.level != "barangay":
            return area.lat, area.lon
    return None, None


def _public_area(db: Database, location: dict) -> str | None:
    """A location's area for the index: a confidential one is known only by its city."""
    if not location["confidential"]:
        return location["area_code"]
    chain = geo.ancestors(db, location["area_code"])
    return next((a.code for a in chain if a.level != "barangay"), None)


def _is_place_point(db: Database, area_code: str | None, lat, lon) -> bool:
    """Whether a search_doc point locates the service (for `near`), not just its region.

    A location known only as "somewhere in Region VIII" carries the region's centre: it is no
    nearer to anyone than the rest of the region, so it is left out of the R*Tree.
    """
    if lat is None or lon is None:
        return False
    area = geo.get_area(db, area_code) if area_code else None
    if area is None or area.level in ("city", "barangay") or area.lat is None:
        return True
    return (lat, lon) != (area.lat, area.lon)


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


def _remove(db: Database, rowids: list[int]) -> None:
    for rowid in rowids:
        for table in ("search_area", "search_term", "search_language"):
            db.execute(f"delete from {table} where doc = ?", [rowid])
        db.execute("delete from search_hours where doc = ?", [rowid])
        db.execute("delete from search_point where id = ?", [rowid])
        db.execute("delete from search_fts where rowid = ?", [rowid])
        db.execute("delete from search_doc where rowid = ?", [rowid])


def index_services(db: Database, service_ids: list[str]) -> None:
    """(Re)index these services; a service that no longer exists is dropped from the index."""
    for service_id in service_ids:
        existing = db.execute(
            "select rowid from search_doc where service_id = ?", [service_id]
        ).fetchone()
        rowid = existing[0] if existing else None
        if rowid is not None:
            _remove(db, [rowid])
        service = db.execute(
            "select s.*, o.name as organization_name from service s "
            "join organization o on o.id = s.organization_id where s.id = ?",
            [service_id],
        ).fetchone()
        if service is None or service["status"] == "defunct":
            continue
        _index_one(db, dict(service), rowid)


def _index_one(db: Database, service: dict, rowid: int | None) -> None:
    sid = service["id"]
    locations = [
        dict(r)
        for r in db.query(
            "select l.* from location l join service_at_location sal on sal.location_id = l.id "
            "where sal.service_id = ?",
            [sid],
        )
    ]
    area_codes = [r["area_code"] for r in db.query(
        "select area_code from service_area where service_id = ? and area_code is not null", [sid]
    )]  # fmt: skip
    location_area = next((_public_area(db, loc) for loc in locations if loc["area_code"]), None)
    served = list(dict.fromkeys(area_codes + ([location_area] if location_area else [])))

    area_rows: dict[str, int] = {}
    area_names: list[str] = []
    level_of: dict[str, str] = {}
    country_code = region_code = None
    for code in served:
        chain = geo.ancestors(db, code)
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
    # The service area says whom a service takes; without one, its location does.
    scope_levels = [level_of[c] for c in (area_codes or served) if c in level_of]
    if not scope_levels:
        scope = "global"
    elif country_code and country_code != "PH":
        scope = "international"
    else:
        scope = max((SCOPE_BY_LEVEL[lvl] for lvl in scope_levels), key=SCOPE_RANK.__getitem__)
        if len(scope_levels) > 1 and set(scope_levels) == {"region"}:
            scope = "island_group"  # e.g. the PNP desks for all of Luzon, Visayas or Mindanao

    lat = lon = None
    if locations:
        loc = locations[0]
        if loc["confidential"]:
            lat, lon = _city_point(db, loc["area_code"])
        else:
            lat, lon = loc["latitude"], loc["longitude"]

    terms = [
        (r["code"], r["name"])
        for r in db.query(
            "select t.code, t.name from attribute a join taxonomy_term t "
            "on t.id = a.taxonomy_term_id where a.link_id = ? and a.link_entity = 'service'",
            [sid],
        )
    ]
    languages = {r["code"] for r in db.query(
        "select code from language where service_id = ? and code is not null", [sid]
    )}  # fmt: skip
    phone_count = db.execute("select count(*) from phone where service_id = ?", [sid]).fetchone()[0]
    doc = {
        "service_id": sid,
        "name_key": geo.normalize(service["name"]),
        "organization_id": service["organization_id"],
        "country_code": country_code,
        "scope": scope,
        "scope_rank": SCOPE_RANK.get(scope, 6),
        "region_code": region_code,
        "area_code": location_area,
        "minimum_age": service["minimum_age"],
        "maximum_age": service["maximum_age"],
        "gender": service["gender"],
        "free": service["free"],
        "twenty_four_seven": service["twenty_four_seven"],
        "victim_facing": service["victim_facing"],
        "phone_count": phone_count,
        "verified_key": verified_key(service["assured_date"], service["source_date"]),
        "lat": lat,
        "lon": lon,
    }
    if rowid is not None:
        doc["rowid"] = rowid
    rowid = db["search_doc"].insert(doc).last_rowid
    if _is_place_point(db, location_area, lat, lon):
        db.execute(
            "insert into search_point (id, min_lat, max_lat, min_lon, max_lon) "
            "values (?, ?, ?, ?, ?)",
            [rowid, lat, lat, lon, lon],
        )
    db["search_area"].insert_all(
        [{"code": c, "doc": rowid, "exact": e} for c, e in area_rows.items()]
    )
    db["search_term"].insert_all([{"code": c, "doc": rowid} for c, _ in terms])
    db["search_language"].insert_all([{"code": c, "doc": rowid} for c in languages])
    if not service["twenty_four_seven"]:
        schedules = [dict(r) for r in db.query(
            "select * from schedule where service_id = ?", [sid]
        )]  # fmt: skip
        zone = service_timezone(country_code, next((s["timezone"] for s in schedules), None))
        db["search_hours"].insert_all(
            [{"doc": rowid, "start_minute": s, "end_minute": e}
             for s, e in _utc_intervals(schedules, zone)]
        )  # fmt: skip
    db.execute(
        "insert into search_fts (rowid, name, organization, description, terms, areas) "
        "values (?, ?, ?, ?, ?, ?)",
        [
            rowid,
            " ".join(filter(None, [service["name"], service["alternate_name"]])),
            service["organization_name"],
            service["description"] or "",
            " ".join(name for _, name in terms),
            " ".join(dict.fromkeys(area_names)),
        ],
    )


def rebuild(db: Database) -> int:
    """Rebuild the whole index from the HSDS tables; returns the number of services indexed."""
    for table in ("search_area", "search_term", "search_language", "search_hours", "search_doc"):
        db.execute(f"delete from {table}")
    db.execute("delete from search_point")
    db.execute("delete from search_fts")
    ids = [r["id"] for r in db.query("select id from service order by name")]
    index_services(db, ids)
    return len(ids)
