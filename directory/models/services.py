"""Services: write a nested HSDS record to the tables, read it back for pages and the API."""

import sqlite3
from datetime import UTC, datetime
from functools import lru_cache

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


@lru_cache(maxsize=512)
def _sql(verb: str, table: str, columns: tuple[str, ...], nulls: tuple[bool, ...]) -> str:
    """The INSERT (or upsert by id) of these columns, built once per shape: the same string
    each time lets sqlite3 reuse its prepared statement, and no schema is read. A column whose
    value is None is written as the literal NULL (binding None costs more than a text value)."""
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("NULL" if null else "?" for null in nulls)
    sql = f'insert into "{table}" ({names}) values ({marks})'
    if verb == "upsert":
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
        sql += f" on conflict(id) do update set {updates}"
    return sql


def _write(conn: sqlite3.Connection, verb: str, table: str, rows: list[dict]) -> None:
    """Insert (or upsert) each row."""
    for row in rows:
        values = tuple(row.values())
        nulls = tuple([v is None for v in values])
        if True in nulls:
            values = tuple([v for v in values if v is not None])
        conn.execute(_sql(verb, table, tuple(row), nulls), values)


def organization_row(org: dict) -> dict:
    """The organization row save_service writes for a record's organization."""
    return {
        "id": org["id"],
        "name": org["name"],
        "description": org.get("description") or "",
        "website": org.get("website"),
        "email": org.get("email"),
        "last_modified": now_iso(),
    }


def _delete_children(conn: sqlite3.Connection, service_id: str) -> None:
    location_ids = [
        r[0]
        for r in conn.execute(
            "select location_id from service_at_location where service_id = ?", [service_id]
        )
    ]
    conn.execute(
        "delete from attribute where link_id = ? and link_entity = 'service'", [service_id]
    )
    for table in CHILD_TABLES:
        conn.execute(f"delete from {table} where service_id = ?", [service_id])
    for location_id in location_ids:
        still_used = conn.execute(
            "select 1 from service_at_location where location_id = ?", [location_id]
        ).fetchone()
        if not still_used:
            conn.execute("delete from address where location_id = ?", [location_id])
            conn.execute("delete from location where id = ?", [location_id])


ATTRIBUTE_SQL = (
    "insert into attribute (id, link_id, taxonomy_term_id, link_type, link_entity)"
    " select ?, ?, id, 'service_type', 'service' from taxonomy_term where code = ?"
)


def save_service(
    db: Database,
    record: dict,
    *,
    index: bool = True,
    new: bool = False,
    organization: bool = True,
) -> None:
    """Insert or replace one service and everything nested in it (inside the caller's
    transaction, else in its own). For an import: `new`, the caller knows the id is not stored
    yet, so there are no old rows to delete; `organization=False`, the caller has just written
    the record's organization exactly as it is."""
    if not db.conn.in_transaction:
        with db.atomic():
            save_service(db, record, index=index, new=new, organization=organization)
        return
    conn = db.conn
    if organization:
        _write(conn, "upsert", "organization", [organization_row(record["organization"])])
    service_id = record["id"]
    row = _pick(record, SERVICE_COLUMNS)
    row["last_modified"] = record.get("last_modified") or now_iso()
    if not new:
        _delete_children(conn, service_id)
    _write(conn, "insert" if new else "upsert", "service", [row])
    if phones := record.get("phones"):
        _write(conn, "insert", "phone", [
            {**phone, "service_id": service_id, "position": i} for i, phone in enumerate(phones)
        ])  # fmt: skip
    if schedules := record.get("schedules"):
        _write(conn, "insert", "schedule", [
            {"timezone": None, **schedule, "service_id": service_id} for schedule in schedules
        ])  # fmt: skip
    if languages := record.get("languages"):
        _write(conn, "insert", "language", [{**x, "service_id": service_id} for x in languages])
    if areas := record.get("service_areas"):
        _write(conn, "insert", "service_area", [{**x, "service_id": service_id} for x in areas])
    locations = record.get("locations") or []
    for location in locations:
        loc = {k: v for k, v in location.items() if k != "addresses"}
        _write(conn, "upsert", "location", [{**loc, "organization_id": record["organization_id"]}])
        conn.execute("delete from address where location_id = ?", [loc["id"]])
        if addresses := location.get("addresses"):
            _write(conn, "insert", "address", [{**a, "location_id": loc["id"]} for a in addresses])
    if locations:
        _write(conn, "insert", "service_at_location", [
            {"id": stable_uuid(service_id, loc["id"]), "service_id": service_id,
             "location_id": loc["id"]}
            for loc in locations
        ])  # fmt: skip
    if codes := record.get("taxonomy_terms"):
        added = sum(
            conn.execute(ATTRIBUTE_SQL, (stable_uuid(service_id, code), service_id, code)).rowcount
            for code in codes
        )
        if added != len(codes):
            known = {r[0] for r in conn.execute("select code from taxonomy_term")}
            raise KeyError(next(code for code in codes if code not in known))
    if index:
        search_index.index_services(db, [service_id])


def service_count(db: Database) -> int:
    """How many services are listed."""
    return db["service"].count


def _rows(db: Database, sql: str, ids: list[str]) -> list[dict]:
    cursor = db.conn.execute(sql.format(ids=", ".join("?" * len(ids))), ids)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


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


def get_services(
    db: Database, ids: list[str], *, reveal_confidential: bool = False, places: bool = True
) -> list[dict]:
    """Full nested records for these ids, in the same order (missing ids are skipped).

    places=False leaves each location as stored (with its addresses, without the described
    area): for comparing and keeping revisions, never for showing to the public."""
    if not places and not reveal_confidential:
        raise ValueError("places=False shows confidential addresses: reveal_confidential only")
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
    sal_by_service = _group(sal, "service_id")
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
        record["locations"] = []
        for loc in sal_by_service.get(sid, []):
            location = {k: v for k, v in loc.items() if k not in ("sal_id", "service_id")}
            found = addresses.get(loc["id"], [])
            if places:
                location = _public_location(db, location, found, reveal_confidential)
            else:
                location["addresses"] = found
            record["locations"].append({**location, "service_at_location_id": loc["sal_id"]})
        out.append(record)
    return out


def get_service(db: Database, service_id: str, *, reveal_confidential: bool = False) -> dict | None:
    """One full nested record, or None."""
    found = get_services(db, [service_id], reveal_confidential=reveal_confidential)
    return found[0] if found else None
