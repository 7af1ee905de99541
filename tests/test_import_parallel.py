"""A large import is checked in a second process while this one writes (importers.parallel),
and a new service's search index rows are made from its record (search_index.Preparer): the
database ends up exactly as when one process reads the tables back, errors come back whole,
and a reader that dies or is left behind does not hang the import."""

import copy
import itertools
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from directory import search_index
from directory.db import connect
from directory.importers import ImportFailed, parallel, plan
from directory.importers.load import load_file
from tests.test_import_export import NS, SERVICE_TABLES, fictional, fingerprint, write_json
from tests.test_search_ranked import _facet_rows

INDEX_TABLES = ("search_doc", "search_fts", "search_area", "search_term", "search_language",
                "search_hours", "search_point", "search_facet", "search_browse")  # fmt: skip


def _location(key: str, **fields) -> dict:
    location = {
        "id": str(uuid.uuid5(NS, key)),
        "addresses": [{"address_1": f"{key} FICTIONAL Street", "city": "Palo",
                       "state_province": "Leyte", "country": "PH"}],
    }  # fmt: skip
    return {"location": {**location, **fields}}


def rich_file() -> list[dict]:
    """Fictional services covering what the index reads: confidential and exact locations,
    shared and redefined locations, organisations given, referred to and renamed within the
    file, a term the file defines, languages, hours in a time zone, 24/7, national and
    defunct services, a service with nothing but its name."""
    services = [fictional(i) for i in range(14)]
    org0 = services[0]["organization"]
    services[1].pop("organization")
    services[1]["organization_id"] = org0["id"]  # given just before, in the same batch
    services[8].pop("organization")
    services[8]["organization_id"] = org0["id"]  # given a batch or more before
    services[9]["organization"] = {"id": org0["id"]}  # nested, without its details
    services[10]["organization"] = {**org0, "name": "FICTIONAL org 0 renamed later"}
    services[4]["service_at_locations"] = [_location("shared", latitude=11.16, longitude=124.99)]
    services[11]["service_at_locations"] = [
        _location("shared", latitude=11.17, longitude=125.0, name="the later version")
    ]
    services[5]["service_at_locations"] = [_location("exact", latitude=11.158, longitude=124.99)]
    services[2]["attributes"] = [
        {
            "taxonomy_term": {
                "id": "fictional-term",
                "name": "FICTIONAL outreach",
                "code": "fictional-outreach",
            }
        }
    ]
    services[12]["attributes"] = [{"taxonomy_term_id": "fictional-term"}]  # fmt: skip
    services[3]["languages"] = [{"code": "ceb"}, {"code": "en"}, {"name": "no code"}]
    services[3]["schedules"] = [{"freq": "WEEKLY", "byday": "SA,SU", "opens_at": "09:00",
                                 "closes_at": "12:00", "timezone": "Asia/Manila"}]  # fmt: skip
    services[6]["twenty_four_seven"] = True
    services[6]["service_areas"] = [{"name": "Philippines", "area_code": "PH"}]
    services[7]["status"] = "defunct"
    services[13] = {
        "id": services[13]["id"],
        "name": "FICTIONAL bare service",
        "organization": services[13]["organization"],
        "last_modified": services[13]["last_modified"],
    }  # else stamped: see fictional
    return services


def _all(db, sql: str, params=()) -> list[tuple]:
    return [tuple(r) for r in db.execute(sql, params)]


def index_by_service(db) -> dict:
    """Every index row of each service, without rowids (a rebuild numbers them anew)."""
    out: dict = {}
    facets = _facet_rows(db)  # each document's facet sets, decoded
    for doc in db.execute("select * from search_doc"):
        row = dict(doc)
        rowid = row.pop("rowid")
        sid = row["service_id"]
        out[sid] = {"doc": row}
        for table, key in (("search_area", "doc"), ("search_term", "doc"),
                           ("search_language", "doc"), ("search_hours", "doc"),
                           ("search_point", "id")):  # fmt: skip
            rows = db.execute(f"select * from {table} where {key} = ?", [rowid])
            out[sid][table] = sorted(tuple(v for k, v in dict(r).items() if k != key) for r in rows)
        fts = "select name, organization, description, terms, areas, tags from search_fts"
        out[sid]["fts"] = _all(db, f"{fts} where rowid = ?", [rowid])
        out[sid]["facets"] = facets.get(rowid)
        out[sid]["browse"] = _all(
            db,
            "select scope_rank, twenty_four_seven, name_key, phone_count from search_browse "
            "where rowid = ?",
            [rowid],
        )
    out["totals"] = sorted(_all(db, "select kind, code, count from search_totals"))
    return out


def everything(db) -> tuple:
    """The service tables (search tables included) and each service's index rows."""
    return fingerprint(db), index_by_service(db)


@pytest.fixture
def two_copies(writable_app, tmp_path):
    """Two writable copies of the seeded database, without services."""
    first = writable_app.config["DATABASE"]
    second = str(tmp_path / "second.sqlite")
    dbs = []
    for path in (first, second):
        if path == second:
            shutil.copy(first, second)
        db = connect(path)
        with db.conn:
            for table in SERVICE_TABLES:
                db.execute(f"delete from {table}")
            db.execute("delete from search_totals")
        dbs.append(db)
    yield dbs
    for db in dbs:
        db.conn.close()


def second_file() -> list[dict]:
    """The rich file changed: stored services edited, moved and renamed, new ones among them."""
    services = copy.deepcopy(rich_file())
    services[0]["description"] = "now also legal aid"
    services[4]["service_at_locations"] = [_location("moved", latitude=11.2, longitude=125.0)]
    services[5]["organization"] = {**services[5]["organization"], "name": "FICTIONAL renamed"}
    services.insert(6, fictional(30))
    services.append(fictional(31, service_at_locations=[_location("shared")]))
    return services


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_a_second_reading_process_leaves_the_database_as_one_process_does(
    two_copies, tmp_path, monkeypatch, batch
):
    monkeypatch.setattr(plan, "BATCH", batch)
    first = write_json(tmp_path / "first.json", rich_file())
    second = write_json(tmp_path / "second.json", second_file())
    serial, forked = two_copies
    results = []
    for db, reader in ((serial, False), (forked, True)):
        one = load_file(db, first, parallel=reader)
        two = load_file(db, second, parallel=reader)
        assert (one.parallel, two.parallel) == (reader, reader)
        revised = {
            r[0] for r in db.execute("select service_id from revision where action = 'import'")
        }
        results.append((str(one), str(two), revised, everything(db)))
    assert results[0] == results[1]
    edited, moved, renamed = (fictional(i)["id"] for i in (0, 4, 5))
    assert {edited, moved, renamed} <= results[0][2]
    # the defunct service is stored but not indexed; the bare one is both
    index = results[0][3][1]
    assert fictional(7)["id"] not in index and rich_file()[13]["id"] in index


@pytest.mark.parametrize("batch", [2, 1000])
def test_index_rows_made_from_records_are_those_made_from_the_tables(
    two_copies, tmp_path, monkeypatch, batch
):
    monkeypatch.setattr(plan, "BATCH", batch)
    db = two_copies[0]
    load_file(db, write_json(tmp_path / "first.json", rich_file()), parallel=True)
    imported = index_by_service(db)
    with db.conn:
        search_index.rebuild(db)
    assert imported == index_by_service(db)
    renamed = rich_file()[0]["id"]  # its organisation was renamed by a later service
    assert imported[renamed]["fts"][0][1] == "FICTIONAL org 0 renamed later"
    shared = rich_file()[4]["id"]  # its location was given again, later, by another service
    assert imported[shared]["search_point"][0][-2:] == (11.17, 125.0)  # the exact lat, lon


def test_an_organisation_referred_to_before_it_is_written_is_found(two_copies, tmp_path):
    services = rich_file()[:3]  # the second refers by id to the first's, in the same batch
    for db, reader in zip(two_copies, (False, True), strict=True):
        report = load_file(db, write_json(tmp_path / "refs.json", services), parallel=reader)
        assert report.imported == 3
        organization_ids = {r[0] for r in db.execute("select organization_id from service")}
        assert organization_ids == {services[0]["organization"]["id"]}


def test_errors_found_by_the_second_process_are_reported_and_nothing_is_written(
    two_copies, tmp_path
):
    bad = rich_file()
    bad[5]["minimum_age"] = 500
    bad[9]["phones"] = [{"number": "+63 2"}, {}]
    path = write_json(tmp_path / "bad.json", bad)
    db = two_copies[0]
    before = fingerprint(db)
    failures = []
    for reader in (False, True):
        with pytest.raises(ImportFailed) as failed:
            load_file(db, path, parallel=reader)
        failures.append([str(p) for p in failed.value.problems])
        assert fingerprint(db) == before
    assert failures[0] == failures[1] and len(failures[0]) >= 2
    skipped = [str(load_file(db, path, parallel=r, skip_invalid=True)) for r in (False, True)]
    assert "2 invalid service(s) skipped" in skipped[0]


def test_a_dry_run_in_a_second_process_reports_and_writes_nothing(two_copies, tmp_path):
    db = two_copies[0]
    before = fingerprint(db)
    path = write_json(tmp_path / "ok.json", rich_file())
    reports = [str(load_file(db, path, dry_run=True, parallel=r)) for r in (False, True)]
    assert reports[0] == reports[1] and "14 service(s) valid" in reports[0]
    assert fingerprint(db) == before


def test_a_large_file_is_read_by_a_second_process_when_one_can_be_used(
    two_copies, tmp_path, monkeypatch
):
    db = two_copies[0]
    path = write_json(tmp_path / "s.json", [fictional(0)])
    assert load_file(db, path).parallel is False  # small: forking would cost more
    from directory.importers import load

    monkeypatch.setattr(load, "PARALLEL_MIN_BYTES", 0)
    assert load_file(db, path).parallel is parallel.available(db)
    package = tmp_path / "package"  # a data package folder: the size of its files
    package.mkdir()
    (package / "services.csv").write_text("x" * 100)
    (package / "phones.csv").write_text("x" * 50)
    assert load._size(package) == 150
    memory = connect(":memory:")
    assert not parallel.available(memory)
    with pytest.raises(ValueError, match="database file"):
        next(parallel.items(memory, lambda child_db: iter([1])))


def _fails_after_two(child_db):
    yield 1
    yield 2
    raise LookupError("FICTIONAL failure while reading")


def _unpicklable_failure(child_db):
    yield 1

    class Local(Exception):  # a class pickle cannot find by name
        pass

    raise Local("FICTIONAL failure of a kind that cannot be sent")


def _dies(child_db):
    yield 1
    os._exit(7)


def test_what_goes_wrong_in_the_second_process_is_raised_in_the_first(two_copies):
    db = two_copies[0]
    got = []
    with pytest.raises(LookupError, match="FICTIONAL failure while reading"):
        for item in parallel.items(db, _fails_after_two):
            got.append(item)
    assert got == [1, 2]
    with pytest.raises(parallel.ReaderFailed, match="cannot be sent"):
        list(parallel.items(db, _unpicklable_failure))
    with pytest.raises(parallel.ReaderFailed, match="exit code 7"):
        list(parallel.items(db, _dies))
    assert list(parallel.items(db, lambda child_db: iter(range(50)))) == list(range(50))


def _endless_with_a_folder(folder):
    def produce(child_db):
        folder.mkdir()  # as a data package's reader makes its temporary folder
        try:
            yield from itertools.count()
        finally:
            folder.rmdir()

    return produce


def test_a_writer_that_stops_early_stops_its_reader_which_cleans_up(two_copies, tmp_path):
    db = two_copies[0]
    folder = tmp_path / "reader's own"
    reader = parallel.items(db, _endless_with_a_folder(folder))
    assert next(reader) == 0 and folder.exists()
    reader.close()  # as when writing fails: the child is stopped, not left running
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("directory")]
    assert not folder.exists()


@pytest.mark.parametrize("reader", [False, True])
def test_importing_the_same_file_again_indexes_nothing_again(two_copies, tmp_path, reader):
    db = two_copies[0]
    services = rich_file()  # without what contradicts itself: a second organisation 0 and
    services[10]["organization"] = services[0]["organization"]  # a second "shared" location
    services[11]["service_at_locations"] = services[4]["service_at_locations"]
    path = write_json(tmp_path / "same.json", services)
    load_file(db, path, parallel=reader)
    version = db.execute("select n from search_version").fetchone()[0]
    report = load_file(db, path, parallel=reader)
    assert report.revised == 0
    assert db.execute("select n from search_version").fetchone()[0] == version


@pytest.mark.parametrize("reader", [False, True])
def test_a_stored_location_changed_by_a_new_service_moves_the_services_already_there(
    two_copies, tmp_path, reader
):
    db = two_copies[0]
    load_file(db, write_json(tmp_path / "a.json", rich_file()), parallel=reader)
    there = rich_file()[11]["id"]  # stored at "shared", and not in the next file
    newcomer = fictional(
        40, service_at_locations=[_location("shared", latitude=11.3, longitude=125.0)]
    )
    load_file(db, write_json(tmp_path / "b.json", [newcomer]), parallel=reader)
    point = db.execute(
        "select p.lat from search_point p join search_doc d on d.rowid = p.id "
        "where d.service_id = ?",
        [there],
    ).fetchone()
    assert point[0] == 11.3
    imported = index_by_service(db)
    with db.conn:
        search_index.rebuild(db)
    assert imported == index_by_service(db)


def test_a_write_that_fails_stops_the_reader_and_writes_nothing(two_copies, tmp_path, monkeypatch):
    from directory.importers import load

    db = two_copies[0]
    before = fingerprint(db)
    monkeypatch.setattr(plan, "BATCH", 2)
    real = load._Writer.write

    def failing(writer, batch_plan):
        real(writer, batch_plan)
        raise sqlite3.IntegrityError("FICTIONAL failure while writing")

    monkeypatch.setattr(load._Writer, "write", failing)
    with pytest.raises(sqlite3.IntegrityError, match="FICTIONAL"):
        load_file(db, write_json(tmp_path / "s.json", rich_file()), parallel=True)
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("directory")]
    assert fingerprint(db) == before


INTERRUPTED = """
import os, signal, sys
from directory.db import connect
from directory.importers import load
real = load._Writer.write
def interrupted(writer, batch_plan):
    real(writer, batch_plan)
    os.killpg(0, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
load._Writer.write = interrupted
try:
    load.load_file(connect(sys.argv[1]), sys.argv[2], parallel=True)
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_ctrl_c_stops_both_processes_and_writes_nothing(writable_app, tmp_path):
    path = writable_app.config["DATABASE"]
    db = connect(path)
    before = fingerprint(db)
    db.conn.close()
    data = write_json(tmp_path / "big.json", [fictional(i) for i in range(1500)])
    run = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, path, str(data)],
        cwd=Path(__file__).parent.parent,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal gives a command
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    with pytest.raises(ProcessLookupError):  # no reader left behind in its group
        os.killpg(run.pid, 0)
    db = connect(path)
    assert fingerprint(db) == before
    db.conn.close()
