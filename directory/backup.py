"""Backups: a consistent copy of the live database (SQLite's online backup API), and restore."""

import sqlite3
from pathlib import Path

REQUIRED_TABLES = {"service", "organization", "area"}


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason."""


def backup(database: str | Path, target: str | Path, *, force: bool = False) -> dict:
    """Copy the live database to `target` while it stays in use (one consistent snapshot);
    returns counts."""
    source_path, target = Path(database), Path(target)
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the backup file's name")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; give --force to overwrite it")
    if target.resolve() == source_path.resolve():
        raise BackupError("the backup cannot be the database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    dest = sqlite3.connect(partial)
    try:
        # In one step: the copy reads one snapshot, and in WAL mode a reader holds no writer
        # up. Copying in steps restarts from the first page whenever the server writes
        # between two steps, so under steady edits it might never finish.
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        info = _check(dest, partial)
    finally:
        dest.close()
        source.close()
    partial.replace(target)  # a backup file is either complete or absent
    return info


def _check(conn: sqlite3.Connection, path: Path) -> dict:
    """Integrity and shape of a directory database; BackupError if it is not one."""
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not an SQLite database: {exc}") from None
    if ok != "ok":
        raise BackupError(f"{path.name} fails SQLite's integrity check: {ok}")
    missing = REQUIRED_TABLES - tables
    if missing:
        raise BackupError(
            f"{path.name} is not a directory database (no {', '.join(sorted(missing))})"
        )
    services = conn.execute("select count(*) from service").fetchone()[0]
    return {"services": services, "bytes": path.stat().st_size}


def restore(backup_file: str | Path, database: str | Path, *, force: bool = False) -> dict:
    """Replace the database's contents with a backup's; refuses an existing one without force."""
    backup_file, database = Path(backup_file), Path(database)
    if not backup_file.is_file():
        raise BackupError(f"{backup_file} does not exist")
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        info = _check(source, backup_file)
        if database.exists() and database.stat().st_size > 0 and not force:
            raise BackupError(
                f"{database} exists; give --force to replace it with {backup_file.name} "
                "(make a backup of it first)"
            )
        database.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(database, timeout=30)
        try:
            # Copies into the live file under SQLite's locks: readers see the old or the new.
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return info
