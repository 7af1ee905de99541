"""Load a file into the database: validate everything first, then write all of it or nothing."""

from pathlib import Path

from sqlite_utils import Database

from directory import search_index
from directory.importers import ImportFailed
from directory.importers.flat_csv import read_records
from directory.models.services import save_service


def load_file(db: Database, path: Path, *, dry_run: bool = False) -> str:
    """Import a flat listing CSV; raise ImportFailed (nothing written) when any row is bad."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise file_problem(path, "expected a .csv file (flat listing format)")
    records, problems = read_records(db, path)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ImportFailed(errors)
    if dry_run:
        return f"{path.name}: {len(records)} service(s) valid; nothing written (--dry-run)."
    with db.atomic():
        for record in records:
            save_service(db, record, index=False)
        search_index.index_services(db, [r["id"] for r in records])
    return f"{path.name}: {len(records)} service(s) imported."


def file_problem(path: Path, message: str) -> ImportFailed:
    """An ImportFailed with a single file-level problem."""
    from directory.importers import Problem

    return ImportFailed([Problem(path.name, None, None, message)])
