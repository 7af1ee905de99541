"""HSDS tabular data package import: a folder or .zip with datapackage.json and the CSV files.

The CSV tables are copied into a temporary SQLite file (so a large package is not held in
memory), then each row of services.csv is put back together as a nested HSDS service object
with its organisation, locations, addresses, phones, schedules, languages, service areas and
taxonomy terms, for hsds_json.to_record.
"""

import csv
import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from directory.importers import Problem

TABLES = {  # file → (table, the columns to index for lookups)
    "organizations.csv": ("organization", ["id"]),
    "services.csv": ("service", ["id"]),
    "locations.csv": ("location", ["id"]),
    "addresses.csv": ("address", ["location_id"]),
    "service_at_location.csv": ("service_at_location", ["service_id"]),
    "phones.csv": ("phone", ["service_id"]),
    "schedules.csv": ("schedule", ["service_id"]),
    "languages.csv": ("language", ["service_id"]),
    "service_areas.csv": ("service_area", ["service_id"]),
    "attributes.csv": ("attribute", ["link_id"]),
    "taxonomy_terms.csv": ("taxonomy_term", ["id"]),
    "taxonomies.csv": ("taxonomy", ["id"]),
}
SERVICE_SOURCE = {"source_url": "url", "source_date": "date", "confidence": "confidence"}


class PackageError(ValueError):
    """The package itself is unusable (no datapackage.json, no services.csv, bad CSV)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def is_package(path: Path) -> bool:
    """A folder or zip holding datapackage.json."""
    path = Path(path)
    if path.is_dir():
        return (path / "datapackage.json").is_file()
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return any(Path(n).name == "datapackage.json" for n in z.namelist())
    return False


@contextmanager
def _opener(path: Path):
    """A function opening a member of the package (folder or zip) as text."""
    if path.is_dir():
        yield lambda name: open(path / name, newline="", encoding="utf-8-sig")
        return
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        meta = next(n for n in names if Path(n).name == "datapackage.json")
        root = meta[: -len("datapackage.json")]

        def open_member(name: str):
            return io.TextIOWrapper(z.open(root + name), encoding="utf-8-sig", newline="")

        yield open_member


def _members(path: Path, open_member) -> dict[str, str]:
    """CSV file name (services.csv, ...) → the path inside the package, from datapackage.json."""
    source = path.name + "/datapackage.json"
    try:
        with open_member("datapackage.json") as f:
            meta = json.load(f)
    except (OSError, KeyError, json.JSONDecodeError) as exc:
        raise PackageError([Problem(source, None, None, f"cannot read: {exc}")]) from None
    found = {}
    for resource in meta.get("resources", []) if isinstance(meta, dict) else []:
        if isinstance(resource, dict) and isinstance(resource.get("path"), str):
            found[Path(resource["path"]).name] = resource["path"]
    for name in TABLES:  # packages that list no resources still use HSDS's file names
        found.setdefault(name, name)
    return found


def _load_tables(path: Path, work: sqlite3.Connection) -> None:
    with _opener(path) as open_member:
        members = _members(path, open_member)
        for name, (table, keys) in TABLES.items():
            try:
                f = open_member(members[name])
            except (FileNotFoundError, KeyError):
                if name == "services.csv":
                    raise PackageError(
                        [Problem(path.name, None, None, "services.csv is missing")]
                    ) from None
                continue
            with f:
                reader = csv.reader(f)
                header = next(reader, None) or []
                columns = [c.strip() for c in header]
                if not columns or "id" not in columns and name != "attributes.csv":
                    raise PackageError([Problem(name, 1, "id", "no id column")])
                cols = ", ".join(f'"{c}"' for c in columns)
                work.execute(f'create table "{table}" (line integer, {cols})')
                marks = ", ".join("?" for _ in range(len(columns) + 1))
                rows = (
                    [reader.line_num, *(row + [""] * (len(columns) - len(row)))[: len(columns)]]
                    for row in reader
                )
                work.executemany(f'insert into "{table}" values ({marks})', rows)
                for key in keys:
                    if key in columns:
                        work.execute(f'create index "{table}_{key}" on "{table}"("{key}")')


def _rows(work: sqlite3.Connection, table: str, column: str, value: str) -> list[dict]:
    try:
        cursor = work.execute(f'select * from "{table}" where "{column}" = ?', [value])
    except sqlite3.OperationalError:  # the table or column is not in this package
        return []
    return [{k: v for k, v in dict(r).items() if k != "line"} for r in cursor]


def _one(work, table: str, value: str) -> dict | None:
    found = _rows(work, table, "id", value) if value else []
    return found[0] if found else None


def iter_services(path: Path) -> Iterator[tuple[int | None, str, dict]]:
    """Yield (line in services.csv, label, nested HSDS service object) for each service row."""
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        work = sqlite3.connect(Path(tmp) / "package.sqlite")
        work.row_factory = sqlite3.Row
        try:
            with work:
                _load_tables(path, work)
            cursor = work.execute('select * from "service" order by line')
            while batch := cursor.fetchmany(500):
                for row in batch:
                    service = dict(row)
                    line = service.pop("line")
                    yield line, "", _assemble(work, service)
        finally:
            work.close()


def _assemble(work: sqlite3.Connection, service: dict) -> dict:
    """One services.csv row with everything that points at it, nested as HSDS JSON."""
    sid = service.get("id") or ""
    obj = {k: v for k, v in service.items() if k not in SERVICE_SOURCE and v != ""}
    obj["source"] = {SERVICE_SOURCE[k]: service[k] for k in SERVICE_SOURCE if service.get(k)}
    if org := _one(work, "organization", service.get("organization_id") or ""):
        obj["organization"] = org
    for key, table in (
        ("phones", "phone"),
        ("schedules", "schedule"),
        ("languages", "language"),
        ("service_areas", "service_area"),
    ):
        obj[key] = [_drop_empty(r) for r in _rows(work, table, "service_id", sid)]
    obj["service_at_locations"] = []
    for sal in _rows(work, "service_at_location", "service_id", sid):
        location = _one(work, "location", sal.get("location_id") or "")
        if location is not None:
            location["addresses"] = [
                _drop_empty(a) for a in _rows(work, "address", "location_id", location["id"])
            ]
            location = _drop_empty(location)
        obj["service_at_locations"].append({**_drop_empty(sal), "location": location})
    obj["attributes"] = []
    for attribute in _rows(work, "attribute", "link_id", sid):
        term = _one(work, "taxonomy_term", attribute.get("taxonomy_term_id") or "")
        if term is not None and (taxonomy := _one(work, "taxonomy", term.get("taxonomy_id") or "")):
            term["taxonomy_detail"] = taxonomy
        obj["attributes"].append({**attribute, "taxonomy_term": term})
    return obj


def _drop_empty(row: dict) -> dict:
    return {k: v for k, v in row.items() if v not in ("", None)}
