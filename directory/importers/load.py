"""Load a file into the database: validate every record, then write all of it or nothing.

Formats: HSDS JSON (one service, a list, a Page, or JSON Lines), an HSDS tabular data package
(a folder or .zip with datapackage.json), and the flat listing CSV. Records stream through one
at a time inside a single transaction (sqlite-utils `db.atomic()`); the first error stops the
writing but not the checking, so the report names every problem, and the transaction is rolled
back: the database is left exactly as it was. With `skip_invalid`, bad records are left out and
listed, the good ones imported. Every service goes through models.services.save_service, which
gathers a batch's rows into a models.services.Batch, written with a statement per table.

Valid records are written a batch at a time. A service new to the database is simply inserted;
one already stored is compared before and after: a change to its content becomes a revision
attributed to the import (models.revisions.record_import), an identical record adds none and
is not re-indexed.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from directory import search_index
from directory.importers import (
    ImportFailed,
    Problem,
    datapackage,
    flat_csv,
    hsds_json,
    id_key,
)
from directory.models import revisions, taxonomies
from directory.models.services import Batch, organization_row, save_service

BATCH = 1000  # services written, compared and indexed together
# The import's connection while it writes (both put back after): a 64 MiB page cache instead
# of 2 MiB, as the inserts land all over indexes bigger than that; and foreign keys checked once
# for the whole database just before the commit (1 s at 100,000 services) instead of on each
# statement (replacing a stored service deletes phones and locations, and SQLite checks nothing
# refers to them by scanning tables with no index on the referring column: 60 ms a service at
# 100,000). Neither changes what is committed or what a commit guarantees.
CACHE_KIB = 65536
MAX_LISTED = 1000  # warnings kept for the report; the rest are counted
FORMATS = ("hsds-json", "datapackage", "flat-csv")


@dataclass
class LoadReport:
    """What an import did (or, with dry_run, would do)."""

    source: str
    format: str
    dry_run: bool = False
    imported: int = 0
    skipped: list[Problem] = field(default_factory=list)
    skipped_records: int = 0
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0
    revised: int = 0  # stored services the import changed (each a new revision)

    def __str__(self) -> str:
        lines = [str(p) for p in self.skipped]
        lines += [str(p) for p in self.warnings]
        if self.warning_count > len(self.warnings):
            lines.append(f"… and {self.warning_count - len(self.warnings)} more warning(s)")
        verb = "valid; nothing written (--dry-run)" if self.dry_run else "imported"
        summary = f"{self.source} ({self.format}): {self.imported} service(s) {verb}"
        if self.skipped_records:
            summary += f"; {self.skipped_records} invalid service(s) skipped"
        if self.revised:
            summary += f"; {self.revised} changed service(s) kept as new revisions"
        if self.warning_count:
            summary += f"; {self.warning_count} warning(s)"
        return "\n".join([*lines, summary + "."])


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


def _items(db: Database, path: Path, fmt: str, ctx: hsds_json.Context) -> Iterator:
    """Yield (record or None, problems) for each service in the file."""
    source = path.name
    if fmt == "flat-csv":
        seen: dict[bytes, int] = {}
        for line, row in flat_csv.read_rows(path):
            record, problems = flat_csv.row_to_record(db, row, source, line)
            key = record["id"].encode()
            if key in seen:
                problems.append(Problem(source, line, "id", f"duplicate of line {seen[key]}"))
            seen.setdefault(key, line)
            yield record, problems
        return
    reader_source = datapackage.iter_services if fmt == "datapackage" else hsds_json.iter_services
    try:
        for line, label, obj in reader_source(path):
            r = hsds_json.Reader("services.csv" if fmt == "datapackage" else source, line, label)
            record = hsds_json.to_record(ctx, obj, r)
            yield record, r.problems
    except hsds_json.BadJSON as exc:
        yield None, [Problem(source, exc.line, None, str(exc))]
    except datapackage.PackageError as exc:
        yield None, exc.problems


def load_file(
    db: Database, path: Path, *, dry_run: bool = False, skip_invalid: bool = False
) -> LoadReport:
    """Import a file; raise ImportFailed (nothing written) when any record is bad, unless
    skip_invalid, which leaves bad records out and lists them in the report."""
    path = Path(path)
    fmt = detect_format(path)
    report = LoadReport(path.name, fmt, dry_run=dry_run)
    errors: list[Problem] = []
    ctx = hsds_json.Context(db)
    writer = _Writer(db, report)
    pending: list[dict] = []
    with _bulk_settings(db) as check_keys, db.atomic():
        for record, problems in _items(db, path, fmt, ctx):
            record_errors = [p for p in problems if p.severity == "error"]
            for warning in (p for p in problems if p.severity != "error"):
                report.warning_count += 1
                if len(report.warnings) < MAX_LISTED:
                    report.warnings.append(warning)
            if record_errors or record is None:
                if skip_invalid and record is not None:
                    report.skipped += record_errors
                    report.skipped_records += 1
                else:
                    errors += record_errors
                continue
            report.imported += 1
            if errors or dry_run:
                continue  # keep checking; nothing more is written
            new_taxonomies, new_terms = ctx.pop_new_terms()
            for taxonomy in new_taxonomies:
                taxonomies.save_taxonomy(db, taxonomy)
            for term in new_terms:
                taxonomies.save_term(db, term)
            pending.append(record)
            if len(pending) >= BATCH:
                writer.write(pending)
                pending = []
        if errors:
            raise ImportFailed(errors)  # db.atomic() rolls everything back
        if pending:
            writer.write(pending)
        if check_keys and report.imported and not dry_run:
            _check_foreign_keys(db)
    return report


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
    """Writes valid records a batch at a time: new services inserted, stored ones replaced and,
    when their content changed, kept as a revision; then the batch's changes indexed."""

    def __init__(self, db: Database, report: LoadReport):
        self.db, self.report = db, report
        # organisations this import has written (16-byte id → hash of what was written: each is
        # written once, not once for each of its services) and those whose details it changed
        self.organizations: dict[bytes, int] = {}
        self.changed_organizations: set[bytes] = set()

    def write(self, records: list[dict]) -> None:
        db = self.db
        ids = [r["id"] for r in records]
        stored = {r[0] for r in db.execute(_select("id", "service", ids), ids)}
        before = revisions.snapshots(db, [i for i in ids if i in stored]) if stored else {}
        seen = self.organizations
        org_ids = list(
            dict.fromkeys(o for r in records if id_key(o := r["organization"]["id"]) not in seen)
        )
        orgs_before = self._organizations(org_ids)
        batch = Batch()
        for record in records:
            key, digest = id_key(record["organization"]["id"]), _digest(record["organization"])
            written = self.organizations.get(key) == digest
            self.organizations[key] = digest
            fresh = record["id"] not in stored
            save_service(db, record, index=False, new=fresh, organization=not written, batch=batch)
        batch.write(db.conn)
        to_index = dict.fromkeys(i for i in ids if i not in stored)
        for org_id, row in self._organizations(list(orgs_before)).items():
            if row != orgs_before[org_id]:  # its name is in every one of its services' entries
                self.changed_organizations.add(id_key(org_id))
                to_index.update(dict.fromkeys(self._services_of(org_id)))
        after = revisions.snapshots(db, list(before)) if before else {}
        for service_id, old in before.items():
            now = after[service_id]
            if old != now:
                to_index[service_id] = None
            org_changed = id_key(now["organization"]["id"]) in self.changed_organizations
            if org_changed or _content(old) != _content(now):
                revisions.record_import(db, old, now, source=self.report.source)
                self.report.revised += 1
        if to_index:
            search_index.index_services(db, list(to_index))

    def _organizations(self, ids: list[str]) -> dict[str, tuple]:
        """The stored details of these organisations (those that exist)."""
        if not ids:
            return {}
        sql = _select("id, name, description, website, email", "organization", ids)
        return {r[0]: tuple(r) for r in self.db.execute(sql, ids)}

    def _services_of(self, organization_id: str) -> list[str]:
        """Every stored service of an organisation."""
        return [
            r[0]
            for r in self.db.execute(
                "select id from service where organization_id = ?", [organization_id]
            )
        ]


def _digest(organization: dict) -> int:
    """What save_service writes of an organisation, as a hash (without the time stamp)."""
    row = organization_row(organization)
    del row["last_modified"]
    return hash(tuple(row.values()))


def _select(columns: str, table: str, ids: list[str]) -> str:
    return f"select {columns} from {table} where id in ({', '.join('?' * len(ids))})"


def _content(record: dict) -> dict:
    """What a revision is about: the record without its organisation's details (compared once
    per organisation) and last_modified (an import without it stamps its own time)."""
    return {k: v for k, v in record.items() if k not in ("organization", "last_modified")}


def file_problem(path: Path, message: str) -> ImportFailed:
    """An ImportFailed with a single file-level problem."""
    return ImportFailed([Problem(Path(path).name, None, None, message)])
