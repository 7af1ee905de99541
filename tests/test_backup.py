"""`directory backup` (SQLite's online backup API, safe while the server runs) and
`directory restore` (refuses to overwrite without --force)."""

import sqlite3
import threading

import pytest
from click.testing import CliRunner

from directory.backup import BackupError, backup, restore
from directory.cli import main
from directory.db import connect


def count(path, table="service") -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        conn.close()


def test_backup_while_the_database_is_being_written(writable_app, tmp_path):
    live = writable_app.config["DATABASE"]
    before = count(live)
    stop = threading.Event()
    writes = [0]

    def writer():
        db = connect(live)
        while not stop.is_set():
            with db.conn:
                db.execute("update service set notes = ? where rowid = 1", [str(writes[0])])
            writes[0] += 1
        db.conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        reader = writable_app.test_client()
        assert reader.get("/api/services?per_page=1").status_code == 200
        info = backup(live, tmp_path / "copy.sqlite")
    finally:
        stop.set()
        thread.join()
    assert writes[0] > 0
    copy = sqlite3.connect(tmp_path / "copy.sqlite")
    assert copy.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert copy.execute("pragma journal_mode").fetchone()[0] == "delete"  # one file
    copy.close()
    assert info["services"] == count(tmp_path / "copy.sqlite") == before
    assert not (tmp_path / "copy.sqlite.partial").exists()


def test_backup_refuses_to_overwrite_without_force(writable_app, tmp_path):
    target = tmp_path / "b.sqlite"
    target.write_text("precious")
    with pytest.raises(BackupError, match="--force"):
        backup(writable_app.config["DATABASE"], target)
    assert target.read_text() == "precious"
    backup(writable_app.config["DATABASE"], target, force=True)
    assert count(target) > 200


def test_restore_refuses_without_force_then_restores(writable_app, tmp_path):
    live = writable_app.config["DATABASE"]
    saved = tmp_path / "saved.sqlite"
    backup(live, saved)
    conn = sqlite3.connect(live)
    with conn:
        conn.execute("delete from search_doc")
        conn.execute("update service set name = 'CHANGED'")
    conn.close()
    with pytest.raises(BackupError, match="--force"):
        restore(saved, live)
    assert count(live, "search_doc") == 0
    info = restore(saved, live, force=True)
    assert info["services"] == count(live) > 200
    assert count(live, "search_doc") > 200
    client = writable_app.test_client()
    names = {s["name"] for s in client.get("/api/services?per_page=100").get_json()["contents"]}
    assert "CHANGED" not in names and len(names) > 50


def test_restore_rejects_what_is_not_a_directory_database(writable_app, tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="not an SQLite database"):
        restore(junk, writable_app.config["DATABASE"], force=True)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("create table t (x)").connection.close()
    with pytest.raises(BackupError, match="not a directory database"):
        restore(other, writable_app.config["DATABASE"], force=True)
    assert count(writable_app.config["DATABASE"]) > 200


def test_restore_into_a_new_path(writable_app, tmp_path):
    saved = tmp_path / "saved.sqlite"
    backup(writable_app.config["DATABASE"], saved)
    fresh = tmp_path / "new" / "directory.sqlite"
    restore(saved, fresh)
    assert count(fresh) == count(saved)


def test_cli_backup_and_restore(writable_app, tmp_path):
    env = {"DIRECTORY_DATABASE": writable_app.config["DATABASE"]}
    runner = CliRunner()
    target = tmp_path / "b.sqlite"
    result = runner.invoke(main, ["backup", str(target)], env=env)
    assert result.exit_code == 0 and "service(s)" in result.output
    result = runner.invoke(main, ["backup", str(target)], env=env)
    assert result.exit_code == 1 and "--force" in result.output
    result = runner.invoke(main, ["restore", str(target)], env=env)
    assert result.exit_code == 1 and "--force" in result.output
    result = runner.invoke(main, ["restore", str(target), "--force"], env=env)
    assert result.exit_code == 0 and "Restored" in result.output
