"""The public downloads of /data, built once per version of the published data and kept on disk.

A full export visits every service: at 100,000 it takes longer than a web worker may hold a
request, and held in memory it is hundreds of MB. So each file is written once (to a temporary
name, then renamed: a reader never sees half a file) and served from disk until the data
changes. A small directory builds in the request that asks; a large one builds in a background
thread while requests are told to come back (503 with Retry-After).
"""

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from directory import exporters
from directory.db import connect

WRITERS: dict[str, tuple[Callable, str]] = {
    "services.json": (exporters.write_json, "w"),
    "listings.csv": (exporters.write_flat_csv, "w"),
    "hsds.zip": (exporters.write_datapackage_zip, "wb"),
}
STALE_BUILD_S = 30 * 60  # a build marker older than this is from a process that died
WAIT_FOR_OTHER_S = 60.0  # a small download waits this long for another worker writing it
_BUILDING: set[Path] = set()
_LOCK = threading.Lock()


def folder_for(database: str) -> Path:
    """Where a database's downloads are kept: beside it, in a folder named after it."""
    path = Path(database)
    return path.with_name(f"{path.stem}-downloads")


def version(db: Database) -> str:
    """Names the published data's current state: every change to it re-indexes the services it
    touches, and triggers on the index count each one (search_version)."""
    return str(db.execute("select n from search_version").fetchone()[0])


def ready(db: Database, folder: Path, name: str, *, build_now: bool) -> Path | None:
    """The file for the current data, building it first if `build_now`; otherwise None while a
    background build (started here if none runs) makes it."""
    target = folder / version(db) / name
    if target.exists():
        return target
    path = db.execute("PRAGMA database_list").fetchone()[2]
    if build_now:
        _build(path, target)
        return target if _wait_for(target) else None
    with _LOCK:
        if target in _BUILDING:
            return None
        _BUILDING.add(target)
    threading.Thread(target=_build_in_background, args=(path, target), daemon=True).start()
    return None


def marker_for(target: Path) -> Path:
    """The file that says a worker is writing `target` (its age tells a dead one)."""
    return target.with_name(f".{target.name}.building")


def _wait_for(target: Path) -> bool:
    """Whether the file exists, waiting while another worker is still writing it."""
    marker = marker_for(target)
    deadline = time.monotonic() + WAIT_FOR_OTHER_S
    while not target.exists() and marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return target.exists()


def _build_in_background(database: str, target: Path) -> None:
    try:
        _build(database, target)
    finally:
        with _LOCK:
            _BUILDING.discard(target)


def _build(database: str, target: Path) -> None:
    """Write one download for the version named by target's folder, unless another process is."""
    target.parent.mkdir(parents=True, exist_ok=True)
    marker = marker_for(target)
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if time.time() - marker.stat().st_mtime < STALE_BUILD_S:
            return  # another worker is writing it
        marker.unlink(missing_ok=True)
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    partial = target.with_name(f".{target.name}.partial")
    db = connect(database)
    try:
        write, mode = WRITERS[target.name]
        # the export reads in one transaction: one version of the data from first row to last
        with db.conn:
            db.execute("begin")
            built = version(db)
            encoding = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
            with open(partial, mode, **encoding) as fp:
                write(db, fp)
        if built == target.parent.name:
            partial.replace(target)
            _forget_older(target.parent)
    finally:
        db.conn.close()
        partial.unlink(missing_ok=True)
        marker.unlink(missing_ok=True)


def _forget_older(current: Path) -> None:
    """Remove the downloads of other versions of the data, except one being built (it may be
    of a newer version than this one)."""
    for other in current.parent.iterdir():
        if other.is_dir() and other != current and not any(other.glob(".*.building")):
            shutil.rmtree(other, ignore_errors=True)
