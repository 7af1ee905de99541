"""Load a file into the database: validate every record, then write all of it or nothing.

Formats: HSDS JSON (one service, a list, a Page, or JSON Lines), an HSDS tabular data package
(a folder or .zip with datapackage.json), and the flat listing CSV. Records stream through one
at a time inside a single transaction (sqlite-utils `db.atomic()`); the first error stops the
writing but not the checking, so the report names every problem, and the transaction is rolled
back: the database is left exactly as it was. With `skip_invalid`, bad records are left out and
listed, the good ones imported. Every service goes through models.services.save_service.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from directory import search_index
from directory.importers import ImportFailed, Problem, datapackage, flat_csv, hsds_json
from directory.models import taxonomies
from directory.models.services import save_service

INDEX_BATCH = 1000
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

    def __str__(self) -> str:
        lines = [str(p) for p in self.skipped]
        lines += [str(p) for p in self.warnings]
        if self.warning_count > len(self.warnings):
            lines.append(f"… and {self.warning_count - len(self.warnings)} more warning(s)")
        verb = "valid; nothing written (--dry-run)" if self.dry_run else "imported"
        summary = f"{self.source} ({self.format}): {self.imported} service(s) {verb}"
        if self.skipped_records:
            summary += f"; {self.skipped_records} invalid service(s) skipped"
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
    pending: list[str] = []
    with db.atomic():
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
            save_service(db, record, index=False)
            pending.append(record["id"])
            if len(pending) >= INDEX_BATCH:
                search_index.index_services(db, pending)
                pending = []
        if errors:
            raise ImportFailed(errors)  # db.atomic() rolls everything back
        if pending:
            search_index.index_services(db, pending)
    return report


def file_problem(path: Path, message: str) -> ImportFailed:
    """An ImportFailed with a single file-level problem."""
    return ImportFailed([Problem(Path(path).name, None, None, message)])
