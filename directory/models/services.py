"""Services: write a nested HSDS record to the tables, read it back for pages and the API."""

from datetime import UTC, datetime

from sqlite_utils import Database

from directory import search_index
from directory.ids import stable_uuid

SERVICE_COLUMNS = (
    "id", "organization_id", "name", "alternate_name", "description", "url", "email", "status",
    "interpretation_services", "application_process", "fees_description",
    "eligibility_description", "minimum_age", "maximum_age", "assured_date", "assurer_email",
    "alert", "last_modified", "kind", "gender", "free", "twenty_four_seven", "victim_facing",
    "source_url", "source_date", "confidence", "notes", "other_channels", "hours_text",
    "hours_note",
)  # fmt: skip
CHILD_TABLES = ("phone", "schedule", "language", "service_area", "service_at_location")


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _pick(record: dict, columns) -> dict:
    return {c: record.get(c) for c in columns}


def _delete_children(db: Database, service_id: str) -> None:
    location_ids = [
        r["location_id"]
        for r in db.query(
            "select location_id from service_at_location where service_id = ?", [service_id]
        )
    ]
    db.execute("delete from attribute where link_id = ? and link_entity = 'service'", [service_id])
    for table in CHILD_TABLES:
        db.execute(f"delete from {table} where service_id = ?", [service_id])
    for location_id in location_ids:
        still_used = db.execute(
            "select 1 from service_at_location where location_id = ?", [location_id]
        ).fetchone()
        if not still_used:
            db.execute("delete from address where location_id = ?", [location_id])
            db.execute("delete from location where id = ?", [location_id])


def _insert(db: Database, table: str, row: dict) -> None:
    """One plain INSERT (sqlite-utils' insert() re-reads the table schema on every call)."""
    columns = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" for _ in row)
    db.execute(f'insert into "{table}" ({columns}) values ({marks})', list(row.values()))


def _upsert(db: Database, table: str, row: dict) -> None:
    """Insert, or update the given columns of the row with the same id."""
    columns = ", ".join(f'"{c}"' for c in row)
    marks = ", ".join("?" for _ in row)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in row if c != "id")
    sql = f'insert into "{table}" ({columns}) values ({marks}) on conflict(id) do update set '
    db.execute(sql + updates, list(row.values()))


def save_service(db: Database, record: dict, *, index: bool = True) -> None:
    """Insert or replace one service and everything nested in it (call inside a transaction)."""
    org = record["organization"]
    _upsert(
        db,
        "organization",
        {
            "id": org["id"],
            "name": org["name"],
            "description": org.get("description") or "",
            "website": org.get("website"),
            "email": org.get("email"),
            "last_modified": now_iso(),
        },
    )
    service_id = record["id"]
    row = _pick(record, SERVICE_COLUMNS)
    row["last_modified"] = record.get("last_modified") or now_iso()
    _delete_children(db, service_id)
    _upsert(db, "service", row)
    for i, phone in enumerate(record.get("phones", [])):
        _insert(db, "phone", {**phone, "service_id": service_id, "position": i})
    for schedule in record.get("schedules", []):
        _insert(db, "schedule", {"timezone": None, **schedule, "service_id": service_id})
    for language in record.get("languages", []):
        _insert(db, "language", {**language, "service_id": service_id})
    for area in record.get("service_areas", []):
        _insert(db, "service_area", {**area, "service_id": service_id})
    for location in record.get("locations", []):
        addresses = location.get("addresses", [])
        loc = {k: v for k, v in location.items() if k != "addresses"}
        _upsert(db, "location", {**loc, "organization_id": record["organization_id"]})
        db.execute("delete from address where location_id = ?", [loc["id"]])
        for address in addresses:
            _insert(db, "address", {**address, "location_id": loc["id"]})
        _insert(
            db,
            "service_at_location",
            {
                "id": stable_uuid(service_id, loc["id"]),
                "service_id": service_id,
                "location_id": loc["id"],
            },
        )
    terms = {r["code"]: r["id"] for r in db.query("select code, id from taxonomy_term")}
    for code in record.get("taxonomy_terms", []):
        _insert(
            db,
            "attribute",
            {
                "id": stable_uuid(service_id, code),
                "link_id": service_id,
                "taxonomy_term_id": terms[code],
                "link_type": "service_type",
                "link_entity": "service",
            },
        )
    if index:
        search_index.index_services(db, [service_id])


def service_count(db: Database) -> int:
    """How many services are listed."""
    return db["service"].count


def _rows(db: Database, sql: str, ids: list[str]) -> list[dict]:
    placeholders = ", ".join("?" for _ in ids)
    return [dict(r) for r in db.query(sql.format(ids=placeholders), ids)]


def _group(rows: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def _public_location(db: Database, location: dict, addresses: list[dict], reveal: bool) -> dict:
    """A location as the viewer may see it: confidential ones lose street and exact point."""
    from directory import geo

    location = dict(location)
    area = geo.get_area(db, location["area_code"]) if location.get("area_code") else None
    location["area"] = geo.describe(db, area) if area else None
    if location["confidential"] and not reveal:
        # Only the city (or coarser area): not its barangay, point, description or address.
        chain = geo.ancestors(db, location["area_code"]) if area else []
        city = next((a for a in chain if a.level != "barangay"), None)
        location["area_code"] = city.code if city else None
        location["area"] = geo.describe(db, city) if city else None
        location["latitude"], location["longitude"] = (city.lat, city.lon) if city else (None, None)
        location["description"] = None
        location["addresses"] = []
    else:
        location["addresses"] = addresses
    return location


def get_services(db: Database, ids: list[str], *, reveal_confidential: bool = False) -> list[dict]:
    """Full nested records for these ids, in the same order (missing ids are skipped)."""
    if not ids:
        return []
    services = {
        r["id"]: r
        for r in _rows(
            db,
            "select s.*, o.name as organization_name from service s "
            "join organization o on o.id = s.organization_id where s.id in ({ids})",
            ids,
        )
    }
    present = [i for i in ids if i in services]
    if not present:
        return []
    phones = _group(
        _rows(db, "select * from phone where service_id in ({ids}) order by position", present),
        "service_id",
    )
    schedules = _group(
        _rows(db, "select * from schedule where service_id in ({ids})", present), "service_id"
    )
    languages = _group(
        _rows(db, "select * from language where service_id in ({ids})", present), "service_id"
    )
    areas = _group(
        _rows(
            db,
            "select sa.*, a.level as area_level from service_area sa "
            "left join area a on a.code = sa.area_code where service_id in ({ids})",
            present,
        ),
        "service_id",
    )
    terms = _group(
        _rows(
            db,
            "select a.link_id, a.id as attribute_id, t.* from attribute a join taxonomy_term t "
            "on t.id = a.taxonomy_term_id where a.link_id in ({ids}) order by t.position",
            present,
        ),
        "link_id",
    )
    sal = _rows(
        db,
        "select sal.id as sal_id, sal.service_id, l.* from service_at_location sal "
        "join location l on l.id = sal.location_id where sal.service_id in ({ids})",
        present,
    )
    location_ids = [r["id"] for r in sal]
    addresses = _group(
        _rows(db, "select * from address where location_id in ({ids})", location_ids)
        if location_ids
        else [],
        "location_id",
    )
    out = []
    for sid in present:
        record = dict(services[sid])
        record["organization"] = {
            "id": record["organization_id"],
            "name": record.pop("organization_name"),
        }
        record["phones"] = phones.get(sid, [])
        record["schedules"] = schedules.get(sid, [])
        record["languages"] = languages.get(sid, [])
        record["service_areas"] = areas.get(sid, [])
        record["taxonomy_terms"] = terms.get(sid, [])
        record["locations"] = [
            {
                **_public_location(
                    db,
                    {k: v for k, v in loc.items() if k not in ("sal_id", "service_id")},
                    addresses.get(loc["id"], []),
                    reveal_confidential,
                ),
                "service_at_location_id": loc["sal_id"],
            }
            for loc in sal
            if loc["service_id"] == sid
        ]
        out.append(record)
    return out


def get_service(db: Database, service_id: str, *, reveal_confidential: bool = False) -> dict | None:
    """One full nested record, or None."""
    found = get_services(db, [service_id], reveal_confidential=reveal_confidential)
    return found[0] if found else None
