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
def _sql(verb: str, table: str, columns: tuple[str, ...]) -> str:
    """The INSERT (or upsert by id) of these columns, built once per shape: the same string
    each time lets sqlite3 reuse its prepared statement, and no schema is read."""
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'insert into "{table}" ({names}) values ({", ".join("?" * len(columns))})'
    if verb == "upsert":
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
        sql += f" on conflict(id) do update set {updates}"
    return sql


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


ATTRIBUTE_SQL = (
    "insert into attribute (id, link_id, taxonomy_term_id, link_type, link_entity)"
    " values (?, ?, ?, 'service_type', 'service')"
)
IN_LIST = 500  # ids per `in (...)` (SQLite allows 32,766 `?` marks)


class Batch:
    """The rows of many services, gathered by save_service(batch=...) and written by write():
    a statement per table and shape for the lot, in the order single saves would leave them."""

    def __init__(self):
        self.replaced: list[str] = []  # stored services whose old rows go first
        # table → rows (see _row) in the order the services came; locations and their
        # addresses by location id, the last service's version (a location can be shared)
        self.rows: dict[str, list[tuple]] = {
            t: [] for t in ("organization", "service", *CHILD_TABLES[:4])
        }
        self.locations: dict[str, dict] = {}
        self.addresses: dict[str, list[tuple]] = {}
        self.links: list[tuple] = []  # service_at_location rows
        self.attributes: list[tuple[str, str, str]] = []

    def add(self, record: dict, *, new: bool, organization: bool) -> None:
        """Gather one service's rows (see save_service)."""
        rows = self.rows
        if organization:
            rows["organization"].append(_row("upsert", organization_row(record["organization"])))
        service_id = record["id"]
        row = _pick(record, SERVICE_COLUMNS)
        row["last_modified"] = record.get("last_modified") or now_iso()
        if not new:
            self.replaced.append(service_id)
        rows["service"].append(_row("insert" if new else "upsert", row))
        for i, phone in enumerate(record.get("phones") or ()):
            rows["phone"].append(_row("insert", {**phone, "service_id": service_id, "position": i}))
        for schedule in record.get("schedules") or ():
            rows["schedule"].append(
                _row("insert", {"timezone": None, **schedule, "service_id": service_id})
            )
        for language in record.get("languages") or ():
            rows["language"].append(_row("insert", {**language, "service_id": service_id}))
        for area in record.get("service_areas") or ():
            rows["service_area"].append(_row("insert", {**area, "service_id": service_id}))
        for location in record.get("locations") or ():
            loc = {k: v for k, v in location.items() if k != "addresses"}
            # a location met again replaces the columns it gives, as a second upsert would
            self.locations[loc["id"]] = {
                **self.locations.get(loc["id"], {}),
                **loc,
                "organization_id": record["organization_id"],
            }
            self.addresses[loc["id"]] = [
                _row("insert", {**a, "location_id": loc["id"]})
                for a in location.get("addresses") or ()
            ]
            link = {
                "id": stable_uuid(service_id, loc["id"]),
                "service_id": service_id,
                "location_id": loc["id"],
            }
            self.links.append(_row("insert", link))
        for code in record.get("taxonomy_terms") or ():
            self.attributes.append((stable_uuid(service_id, code), service_id, code))

    def write(self, conn: sqlite3.Connection) -> None:
        """Write what was gathered (inside the caller's transaction); KeyError names a
        taxonomy code that is not stored."""
        _write(conn, "organization", self.rows["organization"])
        if self.replaced:
            self._delete_replaced(conn)
        for table in ("service", *CHILD_TABLES[:4]):
            _write(conn, table, self.rows[table])
        if self.locations:
            _write(conn, "location", [_row("upsert", loc) for loc in self.locations.values()])
            for ids in _chunks(list(self.locations)):
                conn.execute(f"delete from address where location_id in ({_marks(ids)})", ids)
            _write(conn, "address", [a for rows in self.addresses.values() for a in rows])
        _write(conn, "service_at_location", self.links)
        if self.attributes:
            term_ids = dict(conn.execute("select code, id from taxonomy_term").fetchall())
            if missing := next((c for _, _, c in self.attributes if c not in term_ids), None):
                raise KeyError(missing)
            conn.executemany(
                ATTRIBUTE_SQL, [(a, sid, term_ids[code]) for a, sid, code in self.attributes]
            )

    def _delete_replaced(self, conn: sqlite3.Connection) -> None:
        """Delete the replaced services' nested rows, and their locations no service uses
        any more (those the batch writes again are kept: they are upserted)."""
        orphans: list[str] = []
        for ids in _chunks(self.replaced):
            marks = _marks(ids)
            location_ids = [
                r[0]
                for r in conn.execute(
                    f"select location_id from service_at_location where service_id in ({marks})",
                    ids,
                )
            ]
            conn.execute(
                f"delete from attribute where link_id in ({marks}) and link_entity = 'service'",
                ids,
            )
            for table in CHILD_TABLES:
                conn.execute(f"delete from {table} where service_id in ({marks})", ids)
            orphans += [i for i in dict.fromkeys(location_ids) if i not in self.locations]
        for ids in _chunks(orphans):
            unused = [
                r[0]
                for r in conn.execute(
                    f"select id from location where id in ({_marks(ids)}) and not exists "
                    "(select 1 from service_at_location where location_id = location.id)",
                    ids,
                )
            ]
            if unused:
                conn.execute(f"delete from address where location_id in ({_marks(unused)})", unused)
                conn.execute(f"delete from location where id in ({_marks(unused)})", unused)


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + IN_LIST] for i in range(0, len(ids), IN_LIST)]


def _marks(ids: list) -> str:
    return ", ".join("?" * len(ids))


def _row(verb: str, row: dict) -> tuple[tuple[str, tuple[str, ...]], tuple]:
    """((verb, columns), values): a row kept small until it is written (rows of one shape
    share their (verb, columns) object, which a batch sent to another process pickles once)."""
    return _shape(verb, tuple(row)), tuple(row.values())


@lru_cache(maxsize=512)
def _shape(verb: str, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    return verb, columns


def _write(conn: sqlite3.Connection, table: str, rows: list[tuple]) -> None:
    """Insert (or upsert) rows made by _row, in order: one executemany for each run of rows of
    the same verb and columns."""
    run: list[tuple] = []
    shape = None
    for key, values in rows:
        if key != shape:
            if run:
                conn.executemany(_sql(shape[0], table, shape[1]), run)
            shape, run = key, []
        run.append(values)
    if run:
        conn.executemany(_sql(shape[0], table, shape[1]), run)


def save_service(
    db: Database,
    record: dict,
    *,
    index: bool = True,
    new: bool = False,
    organization: bool = True,
    batch: Batch | None = None,
) -> None:
    """Insert or replace one service and everything nested in it (inside the caller's
    transaction, else in its own). For an import: `new`, the caller knows the id is not stored
    yet, so there are no old rows to delete; `organization=False`, the caller has just written
    the record's organization exactly as it is; `batch`, the rows are gathered into it, for
    the caller to write with batch.write() and index (`index` is then ignored)."""
    if batch is not None:
        batch.add(record, new=new, organization=organization)
        return
    if not db.conn.in_transaction:
        with db.atomic():
            save_service(db, record, index=index, new=new, organization=organization)
        return
    single = Batch()
    single.add(record, new=new, organization=organization)
    single.write(db.conn)
    if index:
        search_index.index_services(db, [record["id"]])


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
