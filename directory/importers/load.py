"""Load a file into the database: validate every record, then write all of it or nothing.

Formats: HSDS JSON (one service, a list, a Page, or JSON Lines), an HSDS tabular data package
(a folder or .zip with datapackage.json), and the flat listing CSV. Records stream through
inside a single transaction (sqlite-utils `db.atomic()`); the first error stops the writing but
not the checking, so the report names every problem, and the transaction is rolled back: the
database is left exactly as it was. With `skip_invalid`, bad records are left out and listed,
the good ones imported.

importers.plan checks the records and plans each batch (which services are new, their rows,
a new service's search index rows); a large file is checked in a second process
(importers.parallel) while this one writes. The writer here replaces the stored services a
batch brings, comparing each before and after: a change to its content becomes a revision
attributed to the import (models.revisions.record_import); an identical record adds none and
is not re-indexed.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlite_utils import Database

from directory import geo, search_index
from directory.importers import (
    ImportFailed,
    LoadReport,
    Problem,
    datapackage,
    id_key,
    rows_for_ids,
)
from directory.importers import parallel as reader_process
from directory.importers.plan import Checked, Plan, check
from directory.models import revisions, taxonomies

# The import's connection while it writes (both put back after): a 64 MiB page cache instead
# of 2 MiB, as the inserts land all over indexes bigger than that; and foreign keys checked once
# for the whole database just before the commit (1 s at 100,000 services) instead of on each
# statement (replacing a stored service deletes phones and locations, and SQLite checks nothing
# refers to them by scanning tables with no index on the referring column: 60 ms a service at
# 100,000). Neither changes what is committed or what a commit guarantees.
CACHE_KIB = 65536
# A second process pays for itself from a few thousand services (forking copies the page
# tables of a process holding the gazetteer: ~20 ms)
PARALLEL_MIN_BYTES = 2_000_000
FORMATS = ("hsds-json", "datapackage", "flat-csv")


def detect_format(path: Path) -> str:
    """hsds-json, datapackage or flat-csv, from what the path is; ImportFailed if none."""
    path = Path(path)
    if datapackage.is_package(path):
        return "datapackage"
    suffix = path.suffix.lower()
    if path.is_file() and suffix in (".json", ".jsonl", ".ndjson"):
        return "hsds-json"
    if path.is_file() and suffix == ".csv":
        return "flat-csv"
    raise file_problem(
        path,
        "expected HSDS JSON (.json, .jsonl), an HSDS data package (a folder or .zip with "
        "datapackage.json) or a flat listing CSV (.csv)",
    )


def load_file(
    db: Database,
    path: Path,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    parallel: bool | None = None,
) -> LoadReport:
    """Import a file; raise ImportFailed (nothing written) when any record is bad, unless
    skip_invalid, which leaves bad records out and lists them in the report. `parallel`: check
    the file in a second process while this one writes (None: when the file is large and a
    second process can be used, see importers.parallel)."""
    path = Path(path)
    fmt = detect_format(path)
    if parallel is None:
        parallel = _size(path) >= PARALLEL_MIN_BYTES and reader_process.available(db)
    writer = _Writer(db, path.name)
    checked: Checked | None = None
    steps = _checked(db, path, fmt, parallel, dry_run=dry_run, skip_invalid=skip_invalid)
    # closing: a write that fails stops the reading (and its process) there and then
    with _bulk_settings(db) as check_keys, db.atomic(), closing(steps):
        for step in steps:
            if isinstance(step, Plan):
                writer.write(step)
            else:
                checked = step
        if checked is None:  # a reader that ended without its last word is a bug, not data
            raise RuntimeError("the check of the file ended without a result")
        if checked.errors:
            raise ImportFailed(checked.errors)  # db.atomic() rolls everything back
        report = checked.report
        if check_keys and report.imported and not dry_run:
            _check_foreign_keys(db)
    report.revised, report.parallel = writer.revised, parallel
    return report


def _size(path: Path) -> int:
    """A file's size, or a data package folder's: its files' sizes added up."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return path.stat().st_size


def _checked(db: Database, path: Path, fmt: str, parallel: bool, **options) -> Iterator:
    """plan.check's Plans and Checked, from this process or a second one."""
    if not parallel:
        return check(db, path, fmt, **options)
    geo.warm(db)  # the child inherits the place index instead of building its own
    return reader_process.items(db, lambda child_db: check(child_db, path, fmt, **options))


@contextmanager
def _bulk_settings(db: Database) -> Iterator[bool]:
    """The import's page cache and, outside a transaction, foreign keys off; yields whether
    the caller must check foreign keys before committing."""
    conn = db.conn
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    # PRAGMA foreign_keys does nothing inside a transaction: then they stay checked as usual
    keys = not conn.in_transaction and conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    if keys:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield keys
    finally:
        if keys:
            conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA cache_size = {int(cache)}")


def _check_foreign_keys(db: Database) -> None:
    """Raise IntegrityError (the import rolls back) if any row refers to a missing one."""
    broken = db.execute("PRAGMA foreign_key_check").fetchone()
    if broken:
        table, rowid, parent, _ = broken
        raise sqlite3.IntegrityError(
            f"FOREIGN KEY constraint failed: {table} row {rowid} refers to a missing {parent}"
        )


class _Writer:
    """Writes planned batches: new services inserted, stored ones replaced and, when their
    content changed, kept as a revision; then the batch's changes indexed."""

    def __init__(self, db: Database, source: str):
        self.db, self.source = db, source
        self.changed_organizations: set[bytes] = set()  # whose details this import changed
        self.revised = 0

    def write(self, plan: Plan) -> None:
        """Write one batch (inside the import's transaction)."""
        db = self.db
        for taxonomy in plan.taxonomies:
            taxonomies.save_taxonomy(db, taxonomy)
        for term in plan.terms:
            taxonomies.save_term(db, term)
        before = revisions.snapshots(db, plan.stored) if plan.stored else {}
        orgs_before = self._organizations(plan.organization_ids)
        locations_before = self._locations(plan.stored_locations)
        plan.batch.write(db.conn)
        search_index.write_prepared(db, plan.prepared)
        to_index = dict.fromkeys(plan.to_index)
        moved = [i for i, row in self._locations(list(locations_before)).items()
                 if row != locations_before[i]]  # fmt: skip
        to_index.update(dict.fromkeys(self._services_at(plan.relinked_locations + moved)))
        changed = list(plan.redefined_organizations)  # given again in the file, differently
        self.changed_organizations.update(id_key(org_id) for org_id in changed)
        for org_id, row in self._organizations(list(orgs_before)).items():
            if row != orgs_before[org_id]:  # its name is in every one of its services' entries
                self.changed_organizations.add(id_key(org_id))
                changed.append(org_id)
        for org_id in dict.fromkeys(changed):
            to_index.update(dict.fromkeys(self._services_of(org_id)))
        after = revisions.snapshots(db, list(before)) if before else {}
        for service_id, old in before.items():
            now = after[service_id]
            if old != now:
                to_index[service_id] = None
            org_changed = id_key(now["organization"]["id"]) in self.changed_organizations
            if org_changed or _content(old) != _content(now):
                revisions.record_import(db, old, now, source=self.source)
                self.revised += 1
        if to_index:
            search_index.index_services(db, list(to_index))

    def _organizations(self, ids: list[str]) -> dict[str, tuple]:
        """The stored details of these organisations (those that exist)."""
        if not ids:
            return {}
        sql = "select id, name, description, website, email from organization where id in ({marks})"
        return {r[0]: tuple(r) for r in rows_for_ids(self.db, sql, ids)}

    def _locations(self, ids: list[str]) -> dict[str, tuple]:
        """What the index reads of these stored locations."""
        sql = "select id, area_code, confidential, latitude, longitude from location"
        rows = rows_for_ids(self.db, sql + " where id in ({marks})", list(dict.fromkeys(ids)))
        return {r[0]: tuple(r) for r in rows}

    def _services_of(self, organization_id: str) -> list[str]:
        """Every stored service of an organisation."""
        return [
            r[0]
            for r in self.db.execute(
                "select id from service where organization_id = ?", [organization_id]
            )
        ]

    def _services_at(self, location_ids: list[str]) -> list[str]:
        """Every stored service at these locations."""
        sql = "select service_id from service_at_location where location_id in ({marks})"
        return [r[0] for r in rows_for_ids(self.db, sql, list(dict.fromkeys(location_ids)))]


def _content(record: dict) -> dict:
    """What a revision is about: the record without its organisation's details (compared once
    per organisation) and last_modified (an import without it stamps its own time)."""
    return {k: v for k, v in record.items() if k not in ("organization", "last_modified")}


def file_problem(path: Path, message: str) -> ImportFailed:
    """An ImportFailed with a single file-level problem."""
    return ImportFailed([Problem(Path(path).name, None, None, message)])
