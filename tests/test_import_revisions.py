"""Re-imports and revisions: a re-import that changes a stored service is a new revision
attributed to the import; an identical re-import, or a first import, adds none."""

import json

import pytest
from click.testing import CliRunner

from directory.cli import main
from directory.db import connect
from directory.importers import ImportFailed
from directory.importers.load import load_file
from directory.models import revisions, users
from directory.models.services import now_iso
from tests.test_import_export import fictional, write_json


@pytest.fixture
def wdb(writable_app):
    """A writable copy of the seeded database."""
    database = connect(writable_app.config["DATABASE"])
    yield database
    database.conn.close()


def stored_revisions(db, service_id: str | None = None) -> list[tuple]:
    """(service_id, number, action, note) of every stored revision, or of one service's."""
    where, args = ("where service_id = ?", [service_id]) if service_id else ("", [])
    return [
        tuple(r)
        for r in db.execute(
            f"select service_id, number, action, note from revision {where}"
            " order by service_id, number",
            args,
        )
    ]


def import_audits(db) -> int:
    return db.execute("select count(*) from audit_log where action = 'service.import'").fetchone()[
        0
    ]


def services(n: int, **changes_by_index) -> list[dict]:
    """n fictional services; changes_by_index maps "s<i>" to the changes of service i."""
    return [fictional(i, **changes_by_index.get(f"s{i}", {})) for i in range(n)]


def test_a_first_import_records_no_revisions(wdb, tmp_path):
    before = stored_revisions(wdb)
    report = load_file(wdb, write_json(tmp_path / "first.json", services(6)))
    assert (report.imported, report.revised) == (6, 0)
    assert stored_revisions(wdb) == before
    sid = fictional(0)["id"]
    assert revisions.current_version(wdb, sid) == 1
    assert [r["action"] for r in revisions.history(wdb, sid)] == ["initial"]  # not stored


def test_a_changed_reimport_is_a_revision_naming_the_file(wdb, tmp_path):
    load_file(wdb, write_json(tmp_path / "listings.json", services(6)))
    changed = fictional(4)["id"]
    original = revisions.snapshot(wdb, changed)
    edits = {"description": "counselling only", "phones": [{"number": "1343"}]}
    report = load_file(wdb, write_json(tmp_path / "listings-v2.json", services(6, s4=edits)))
    assert (report.imported, report.revised) == (6, 1)
    assert "1 changed service(s) kept as new revisions" in str(report)
    assert stored_revisions(wdb) == [
        (changed, 1, "initial", "as shipped or imported, before the first edit"),
        (changed, 2, "import", "imported from listings-v2.json"),
    ]
    history = revisions.history(wdb, changed)
    assert history[1]["record"] == original  # what it was before the import
    assert history[0]["record"] == revisions.snapshot(wdb, changed)  # what the import made it
    assert history[0]["record"]["description"] == "counselling only"
    assert [p["number"] for p in history[0]["record"]["phones"]] == ["1343"]
    assert history[0]["author_email"] is None and history[0]["created_at"] <= now_iso()
    assert history[0]["record"]["last_modified"] == fictional(4)["last_modified"]  # the file's
    assert import_audits(wdb) == 1
    assert revisions.current_version(wdb, changed) == 2
    # the other five were identical: no history stored, still version 1
    assert all(revisions.current_version(wdb, fictional(i)["id"]) == 1 for i in range(4))


def test_an_identical_reimport_writes_no_revision(wdb, tmp_path):
    first = write_json(tmp_path / "a.json", services(5))
    load_file(wdb, first)
    load_file(wdb, write_json(tmp_path / "b.json", services(5, s1={"name": "FICTIONAL renamed"})))
    kept, audits = stored_revisions(wdb), import_audits(wdb)
    assert [r[1:3] for r in kept] == [(1, "initial"), (2, "import")]
    again = write_json(tmp_path / "c.json", services(5, s1={"name": "FICTIONAL renamed"}))
    report = load_file(wdb, again)
    assert (report.imported, report.revised) == (5, 0)
    assert "revision" not in str(report)
    assert stored_revisions(wdb) == kept and import_audits(wdb) == audits


def test_a_reimport_without_last_modified_restamps_it_but_is_no_revision(wdb, tmp_path):
    data = [{k: v for k, v in s.items() if k != "last_modified"} for s in services(3)]
    path = write_json(tmp_path / "undated.json", data)
    load_file(wdb, path)
    sid = data[0]["id"]
    old = "2020-01-01T00:00:00+00:00"
    wdb.execute("update service set last_modified = ? where id = ?", [old, sid])
    report = load_file(wdb, path)
    assert report.revised == 0 and stored_revisions(wdb) == []
    stamp = wdb.execute("select last_modified from service where id = ?", [sid]).fetchone()[0]
    assert stamp > old  # stamped with the import's time, as before


def test_an_import_continues_a_history_made_by_edits(wdb, tmp_path):
    load_file(wdb, write_json(tmp_path / "a.json", services(3)))
    sid = fictional(2)["id"]
    with revisions.immediate(wdb):
        record = revisions.snapshot(wdb, sid)
        record["alert"] = "closed on Fridays"
        assert revisions.publish(wdb, record, author=None, action="edit") == 2
    report = load_file(wdb, write_json(tmp_path / "b.json", services(3)))  # the alert is gone
    assert report.revised == 1
    assert [r[1:3] for r in stored_revisions(wdb, sid)] == [
        (1, "initial"),
        (2, "edit"),
        (3, "import"),
    ]
    assert revisions.snapshot(wdb, sid)["alert"] is None
    # and an earlier version can be restored over the import, as a new revision
    with revisions.immediate(wdb):
        assert revisions.restore(wdb, sid, 2, author=None) == 4
    assert revisions.snapshot(wdb, sid)["alert"] == "closed on Fridays"


def test_a_renamed_organisation_revises_each_of_its_imported_services(wdb, tmp_path):
    load_file(wdb, write_json(tmp_path / "a.json", services(6)))
    renamed = {"id": fictional(3)["organization"]["id"], "name": "FICTIONAL org renamed"}
    changes = {f"s{i}": {"organization": renamed} for i in (3, 4, 5)}  # the services of org 1
    report = load_file(wdb, write_json(tmp_path / "b.json", services(6, **changes)))
    assert report.revised == 3
    revised = {r[0] for r in stored_revisions(wdb) if r[2] == "import"}
    assert revised == {fictional(i)["id"] for i in (3, 4, 5)}
    newest = revisions.history(wdb, fictional(4)["id"])[0]["record"]
    assert newest["organization"]["name"] == "FICTIONAL org renamed"


def test_revisions_across_batches_are_kept_once_each(wdb, tmp_path, monkeypatch):
    from directory.importers import plan

    monkeypatch.setattr(plan, "BATCH", 2)
    load_file(wdb, write_json(tmp_path / "a.json", services(7)))
    edits = {f"s{i}": {"alert": f"alert {i}"} for i in (0, 3, 6)}
    report = load_file(wdb, write_json(tmp_path / "b.json", services(7, **edits)))
    assert report.revised == 3
    assert sorted(r[:3] for r in stored_revisions(wdb) if r[2] == "import") == sorted(
        (fictional(i)["id"], 2, "import") for i in (0, 3, 6)
    )


def test_a_failed_reimport_keeps_no_revision(wdb, tmp_path):
    load_file(wdb, write_json(tmp_path / "a.json", services(3)))
    bad = services(3, s0={"description": "changed"}) + [fictional(3, minimum_age=500)]
    with pytest.raises(ImportFailed):
        load_file(wdb, write_json(tmp_path / "b.json", bad))
    assert stored_revisions(wdb) == [] and import_audits(wdb) == 0
    assert revisions.snapshot(wdb, fictional(0)["id"])["description"] == "counselling and shelter"


def test_a_dry_run_keeps_no_revision(wdb, tmp_path):
    load_file(wdb, write_json(tmp_path / "a.json", services(2)))
    path = write_json(tmp_path / "b.json", services(2, s0={"description": "changed"}))
    report = load_file(wdb, path, dry_run=True)
    assert report.revised == 0 and stored_revisions(wdb) == []


def test_snapshots_of_many_equal_snapshot_of_each(wdb):
    ids = [r[0] for r in wdb.execute("select id from service order by id limit 40")]
    many = revisions.snapshots(wdb, ids + ["00000000-0000-4000-8000-000000000000"])
    assert list(many) == ids
    assert all(many[i] == json.loads(json.dumps(revisions.snapshot(wdb, i))) for i in ids)
    assert revisions.snapshots(wdb, []) == {}


def test_the_history_api_and_command_show_the_import(writable_app, wdb, tmp_path):
    env = {"DIRECTORY_DATABASE": writable_app.config["DATABASE"]}
    runner = CliRunner()
    first = write_json(tmp_path / "first.json", services(2))
    assert runner.invoke(main, ["load", str(first)], env=env).exit_code == 0
    second = write_json(tmp_path / "second.json", services(2, s1={"email": "help@example.org"}))
    result = runner.invoke(main, ["load", str(second)], env=env)
    assert result.exit_code == 0, result.output
    assert "2 service(s) imported; 1 changed service(s) kept as new revisions" in result.output
    with revisions.immediate(wdb):
        admin = users.create_user(wdb, "admin-import@example.org", "admin")
        token = users.create_token(wdb, admin.id)
    sid = fictional(1)["id"]
    response = writable_app.test_client().get(
        f"/api/manage/services/{sid}/revisions", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    newest, oldest = response.get_json()["contents"]
    assert (newest["number"], newest["action"], newest["note"]) == (
        2,
        "import",
        "imported from second.json",
    )
    assert newest["record"]["email"] == "help@example.org" and oldest["action"] == "initial"
