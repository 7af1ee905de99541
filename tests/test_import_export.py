"""`directory load` (HSDS JSON, HSDS data packages, the flat CSV) and `directory export`:
validation with every problem located, all or nothing, idempotent, round trips, no leaks."""

import hashlib
import json
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from directory import exporters
from directory.cli import main
from directory.db import connect
from directory.importers import ImportFailed, hsds_json
from directory.importers.load import load_file

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE_SERVICE = FIXTURES / "hsds_example_service.json"
EXAMPLE_PACKAGE = FIXTURES / "hsds_example_package"
EXAMPLE_ID = "ac148810-d857-441c-9679-408f346de14b"
SERVICE_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "service.json").read_text())
SERVICE_TABLES = ("search_area", "search_term", "search_language", "search_hours", "search_point",
                  "search_fts", "search_doc", "attribute", "phone", "schedule", "language",
                  "service_area", "service_at_location", "address", "location", "service",
                  "organization")  # fmt: skip
NS = uuid.UUID("0b7f3c1e-2d4a-4f5b-8c6d-7e8f9a0b1c2d")


@pytest.fixture
def wdb(writable_app):
    """A writable copy of the seeded database."""
    database = connect(writable_app.config["DATABASE"])
    yield database
    database.conn.close()


@pytest.fixture
def empty_db(wdb):
    """Gazetteer and taxonomy, but no services."""
    with wdb.conn:
        for table in SERVICE_TABLES:
            wdb.execute(f"delete from {table}")
    return wdb


def fingerprint(db) -> str:
    """A digest of every row of the tables an import writes (save_service stamps an
    organisation's last_modified with the time of writing, so that column is left out)."""
    digest = hashlib.sha256()
    for table in (*SERVICE_TABLES, "taxonomy", "taxonomy_term"):
        columns = "*"
        if table == "organization":
            columns = ", ".join(c for c in db[table].columns_dict if c != "last_modified")
        for row in db.execute(f"select {columns} from {table} order by 1"):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def fictional(i: int, **changes) -> dict:
    """A clearly fictional service in HSDS JSON with our profile."""
    service = {
        "id": str(uuid.uuid5(NS, f"s{i}")),
        "name": f"FICTIONAL service {i}",
        "description": "counselling and shelter",
        "last_modified": "2026-01-02T03:04:05+00:00",  # else the import stamps its own time
        "organization": {"id": str(uuid.uuid5(NS, f"o{i // 3}")),
                         "name": f"FICTIONAL org {i // 3}"},
        "source": {"url": "https://example.org/fictional", "date": "2026-01-01"},
        "phones": [{"number": "(02) 8931 8101"}, {"number": "1343"}],
        "schedules": [{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "08:00",
                       "closes_at": "17:00"}],
        "languages": [{"code": "war"}],
        "attributes": [{"taxonomy_term_id": "shelter"}],
        "service_at_locations": [{"location": {
            "id": str(uuid.uuid5(NS, f"l{i}")),
            "confidential": i % 2 == 0,
            "addresses": [{"address_1": f"{i} FICTIONAL Street", "city": "Pilar",
                           "state_province": "Sorsogon", "country": "PH"}],
        }}],
    }  # fmt: skip
    service.update(changes)
    return service


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


# --- formats --------------------------------------------------------------------------------


def test_hsds_example_service_imports_and_is_served(writable_app, wdb):
    report = load_file(wdb, EXAMPLE_SERVICE)
    assert report.imported == 1 and report.format == "hsds-json"
    # The example's latitude is 100: reported, and the area's point used instead.
    assert any(p.field.endswith("latitude") for p in report.warnings)
    body = writable_app.test_client().get(f"/api/services/{EXAMPLE_ID}").get_json()
    jsonschema.Draft202012Validator(SERVICE_SCHEMA).validate(body)
    assert body["name"] == "Community Counselling" and body["minimum_age"] == 12
    assert body["organization"]["name"] == "Example Organization Inc."
    assert body["phones"][0]["number"] == "+44 1234 234567"
    assert body["languages"][0]["code"] == "ur"
    assert body["attributes"][0]["taxonomy_term"]["name"] == "name"
    assert body["service_at_locations"][0]["location"]["psgc_code"] == "US"  # its country


def test_hsds_example_package_folder_and_zip(wdb, tmp_path):
    report = load_file(wdb, EXAMPLE_PACKAGE)
    assert (report.format, report.imported) == ("datapackage", 1)
    row = wdb.execute("select name, minimum_age, maximum_age from service where id = ?",
                      [EXAMPLE_ID]).fetchone()  # fmt: skip
    assert tuple(row) == ("Community Counselling", 12, 100)
    assert (
        wdb.execute("select count(*) from schedule where service_id = ?", [EXAMPLE_ID]).fetchone()[
            0
        ]
        == 1
    )
    zipped = tmp_path / "package.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for f in EXAMPLE_PACKAGE.iterdir():
            z.write(f, f"hsds/{f.name}")  # datapackage.json in a folder of the zip
    before = fingerprint(wdb)
    assert load_file(wdb, zipped).imported == 1
    assert fingerprint(wdb) == before  # the same data again: nothing changes


def test_list_page_and_json_lines(empty_db, tmp_path):
    services = [fictional(i) for i in range(4)]
    write_json(tmp_path / "list.json", services[:2])
    page = {"total_items": 1, "total_pages": 1, "page_number": 1, "size": 1, "first_page": True,
            "last_page": True, "empty": False, "contents": [services[2]]}  # fmt: skip
    write_json(tmp_path / "page.json", page)
    (tmp_path / "one.jsonl").write_text(json.dumps(services[3]) + "\n")
    assert load_file(empty_db, tmp_path / "list.json").imported == 2
    assert load_file(empty_db, tmp_path / "page.json").imported == 1
    assert load_file(empty_db, tmp_path / "one.jsonl").imported == 1
    names = {r[0] for r in empty_db.execute("select name from service")}
    assert names == {f"FICTIONAL service {i}" for i in range(4)}


def test_large_array_is_read_incrementally(tmp_path, monkeypatch):
    items = [fictional(i) for i in range(40)]
    path = tmp_path / "many.json"
    path.write_text("[\n" + ",\n".join(json.dumps(x) for x in items) + "\n]\n")
    monkeypatch.setattr(hsds_json, "CHUNK", 97)  # far smaller than one item
    got = list(hsds_json.iter_services(path))
    assert [obj for _, _, obj in got] == items
    assert [line for line, _, _ in got][:3] == [2, 3, 4]
    path.write_text("[\n" + json.dumps(items[0]) + ',\n{"id": 1,\n')
    with pytest.raises(hsds_json.BadJSON) as exc:
        list(hsds_json.iter_services(path))
    assert exc.value.line == 3


def test_addresses_resolve_to_psgc_areas(empty_db, tmp_path):
    pilar_sorsogon = empty_db.execute(
        "select c.code from area c join area p on p.code = c.parent_code "
        "where c.name = 'Pilar' and p.name = 'Sorsogon'"
    ).fetchone()[0]
    tacloban = empty_db.execute(
        "select code from area where name like 'City of Tacloban%' or name = 'Tacloban'"
    ).fetchone()[0]
    by_code = fictional(1)
    address = by_code["service_at_locations"][0]["location"]["addresses"][0]
    address.update(city="Somewhere", state_province="", psgc_code=tacloban)
    load_file(empty_db, write_json(tmp_path / "s.json", [fictional(0), by_code]))
    codes = [r[0] for r in empty_db.execute(
        "select l.area_code from location l join service_at_location sal on sal.location_id = l.id "
        "join service s on s.id = sal.service_id order by s.name"
    )]  # fmt: skip
    assert codes == [pilar_sorsogon, tacloban]


# --- validation, all or nothing -------------------------------------------------------------


def test_every_problem_is_reported_and_nothing_written(wdb, tmp_path):
    bad = [
        fictional(0),
        fictional(1, name=""),
        fictional(2, phones=[{"number": "call us"}]),
        fictional(3, organization=None, organization_id=str(uuid.uuid5(NS, "nobody"))),
        fictional(4, attributes=[{"taxonomy_term_id": "no-such-term"}]),
        fictional(5, id="not-a-uuid"),
        fictional(0),  # a duplicate id
    ]
    bad[5]["service_at_locations"][0]["location"]["addresses"][0]["city"] = "Atlantis"
    before = fingerprint(wdb)
    with pytest.raises(ImportFailed) as exc:
        load_file(wdb, write_json(tmp_path / "bad.json", bad))
    found = {(p.source, p.field) for p in exc.value.problems}
    assert {
        ("bad.json", "name"),
        ("bad.json", "phones[0].number"),
        ("bad.json", "organization_id"),
        ("bad.json", "attributes[0].taxonomy_term_id"),
        ("bad.json", "id"),
        ("bad.json", "service_at_locations[0].location.addresses[0].city"),
    } <= found
    by_field = {p.field: p for p in exc.value.problems}
    text = (tmp_path / "bad.json").read_text().splitlines()
    item_1_starts = by_field["name"].line
    assert text[item_1_starts - 1].strip() == "{" and '"FICTIONAL service 1"' not in "".join(
        text[: item_1_starts - 1]
    )  # the line where the bad record begins
    assert str(by_field["name"]).startswith(f"bad.json, line {item_1_starts} [name]: error: item 1")
    assert sum(1 for p in exc.value.problems if "duplicate" in p.message) == 1
    assert fingerprint(wdb) == before


def test_a_late_failure_changes_nothing(wdb, tmp_path):
    services = [fictional(i) for i in range(300)] + [fictional(300, minimum_age=200)]
    before = fingerprint(wdb)
    with pytest.raises(ImportFailed) as exc:
        load_file(wdb, write_json(tmp_path / "late.json", services))
    assert [(p.field, p.line is not None) for p in exc.value.problems] == [("minimum_age", True)]
    assert fingerprint(wdb) == before


KILLER = """
import os, sys
from directory.db import connect
from directory.importers import load
real, count = load._Writer.write, [0]
def dying(writer, plan):
    real(writer, plan)
    count[0] += 1
    if count[0] == int(sys.argv[3]):
        os._exit(9)  # like kill -9: no cleanup, no rollback by Python
load._Writer.write = dying
load.load_file(connect(sys.argv[1]), sys.argv[2], parallel=sys.argv[4] == "parallel")
"""


@pytest.mark.parametrize("reader", ["parallel", "serial"])
def test_an_import_killed_half_way_changes_nothing(writable_app, tmp_path, reader):
    path = writable_app.config["DATABASE"]
    db = connect(path)
    before = fingerprint(db)
    db.conn.close()
    data = write_json(tmp_path / "big.json", [fictional(i) for i in range(1500)])
    run = subprocess.run(  # killed once the first batch of 1,000 is written and indexed
        [sys.executable, "-c", KILLER, path, str(data), "1", reader],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        timeout=300,
    )
    assert run.returncode == 9, run.stderr
    db = connect(path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert fingerprint(db) == before
    db.conn.close()


def test_skip_invalid_imports_the_rest_and_lists_what_was_skipped(empty_db, tmp_path):
    services = [fictional(0), fictional(1, phones=[{"number": "none"}]), fictional(2)]
    report = load_file(empty_db, write_json(tmp_path / "s.json", services), skip_invalid=True)
    assert (report.imported, report.skipped_records) == (2, 1)
    assert [p.field for p in report.skipped] == ["phones[0].number"]
    assert "1 invalid service(s) skipped" in str(report)
    assert empty_db.execute("select count(*) from service").fetchone()[0] == 2


def test_dry_run_writes_nothing(wdb, tmp_path):
    before = fingerprint(wdb)
    report = load_file(wdb, write_json(tmp_path / "s.json", [fictional(0)]), dry_run=True)
    assert report.imported == 1 and "nothing written" in str(report)
    assert fingerprint(wdb) == before


def test_reimport_is_idempotent(wdb, tmp_path):
    path = write_json(tmp_path / "s.json", [fictional(i) for i in range(5)])
    load_file(wdb, path)
    once = fingerprint(wdb)
    load_file(wdb, path)
    assert fingerprint(wdb) == once


def test_unknown_format_is_refused(wdb, tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ImportFailed, match="expected HSDS JSON"):
        load_file(wdb, tmp_path / "x.txt")


def test_flat_csv_still_loads_with_line_numbers(wdb, tmp_path):
    listings = Path(__file__).parent.parent / "data" / "listings.csv"
    header = listings.read_text(encoding="utf-8").splitlines()[0] + "\n"
    path = tmp_path / "l.csv"
    path.write_text(header + "," * header.count(",") + "\n")
    with pytest.raises(ImportFailed) as exc:
        load_file(wdb, path)
    assert {(p.line, p.field) for p in exc.value.problems} >= {(2, "name"), (2, "source_url")}


# --- export and round trips -----------------------------------------------------------------


def _export_json(db, tmp_path, name="out.json") -> list[dict]:
    exporters.export(db, tmp_path / name, "json", include_confidential=True)
    return json.loads((tmp_path / name).read_text())


@pytest.mark.parametrize("fmt,name", [("json", "e.json"), ("hsds", "pkg"), ("hsds", "pkg.zip")])
def test_round_trip(writable_app, tmp_path, fmt, name):
    """The shipped listings (phones, hours, languages, areas, confidential shelters) plus the
    HSDS example: import → export → import gives the same data."""
    source = connect(writable_app.config["DATABASE"])
    load_file(source, EXAMPLE_SERVICE)
    original = _export_json(source, tmp_path, "original.json")
    exporters.export(source, tmp_path / name, fmt, include_confidential=True)
    with source.conn:
        for table in SERVICE_TABLES:
            source.execute(f"delete from {table}")
    report = load_file(source, tmp_path / name)
    assert report.imported == len(original) > 200
    again = _export_json(source, tmp_path, "again.json")
    assert again == original
    confidential = [
        sal["location"] for s in again for sal in s["service_at_locations"]
        if sal["location"]["confidential"]
    ]  # fmt: skip
    assert confidential and any(loc["addresses"] for loc in confidential)
    source.conn.close()


def test_flat_csv_round_trip_keeps_the_listings(writable_app, tmp_path):
    db = connect(writable_app.config["DATABASE"])
    original = _export_json(db, tmp_path, "original.json")
    exporters.export(db, tmp_path / "l.csv", "csv", include_confidential=True)
    with db.conn:
        for table in SERVICE_TABLES:
            db.execute(f"delete from {table}")
    load_file(db, tmp_path / "l.csv")
    again = _export_json(db, tmp_path, "again.json")

    def summary(services):
        return [
            (s["id"], s["name"], s["organization"]["name"], s["source"],
             sorted(a["taxonomy_term"]["code"] for a in s["attributes"]),
             [p["number"] for p in s["phones"]] and len(s["phones"]) > 0)
            for s in services
        ]  # fmt: skip

    assert summary(again) == summary(original)
    db.conn.close()


def test_exports_leave_confidential_addresses_out_and_say_so(wdb, tmp_path):
    street = "Northgate"
    summaries = {}
    for fmt, name in (("json", "e.json"), ("csv", "e.csv"), ("hsds", "pkg.zip"), ("hsds", "pkg")):
        summaries[name] = exporters.export(wdb, tmp_path / name, fmt)
        assert "left out" in str(summaries[name])
    assert street not in (tmp_path / "e.json").read_text()
    assert street not in (tmp_path / "e.csv").read_text()
    with zipfile.ZipFile(tmp_path / "pkg.zip") as z:
        assert all(street not in z.read(n).decode() for n in z.namelist())
        meta = json.loads(z.read("datapackage.json"))
    assert meta["confidential_addresses"] == "withheld" and "left out" in meta["description"]
    assert all(street not in f.read_text() for f in (tmp_path / "pkg").iterdir())

    # a confidential location is published at its city, never its barangay
    barangay = wdb.execute("select code from area where level = 'barangay' limit 1").fetchone()[0]
    with wdb.conn:
        wdb.execute(
            "update location set area_code = ?, description = 'behind the FICTIONAL chapel' "
            "where confidential = 1",
            [barangay],
        )
    exporters.export(wdb, tmp_path / "again.json", "json")
    published = (tmp_path / "again.json").read_text()
    assert barangay not in published and "FICTIONAL chapel" not in published

    full = exporters.export(wdb, tmp_path / "full.json", "json", include_confidential=True)
    assert street in (tmp_path / "full.json").read_text() and "INCLUDES" in str(full)


def test_public_data_page_and_downloads(client):
    page = client.get("/data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for needle in ("GeoNames", "CC BY 4.0", "CC BY-SA 4.0", "HSDS", "source", "confidential"):
        assert needle in text
    zipped = client.get("/data/hsds.zip")
    assert zipped.headers["Content-Disposition"] == 'attachment; filename="hsds.zip"'
    with zipfile.ZipFile(__import__("io").BytesIO(zipped.data)) as z:
        assert {"datapackage.json", "services.csv", "phones.csv"} <= set(z.namelist())
        assert all("Northgate" not in z.read(n).decode() for n in z.namelist())
    services = client.get("/data/services.json")
    assert "Northgate" not in services.get_data(as_text=True)
    assert len(services.get_json()) > 200
    listing = client.get("/data/listings.csv").get_data(as_text=True)
    assert listing.startswith("id,name,organization") and "Northgate" not in listing


# --- the commands ---------------------------------------------------------------------------


def test_cli_load_export(writable_app, tmp_path):
    env = {"DIRECTORY_DATABASE": writable_app.config["DATABASE"]}
    runner = CliRunner()
    data = write_json(tmp_path / "s.json", [fictional(0), fictional(1, name="")])
    result = runner.invoke(main, ["load", str(data)], env=env)
    assert result.exit_code == 1 and "Nothing was imported: 1 problem(s)." in result.output
    result = runner.invoke(main, ["load", str(data), "--skip-invalid", "--dry-run"], env=env)
    assert result.exit_code == 0 and "1 service(s) valid; nothing written" in result.output
    result = runner.invoke(main, ["load", str(data), "--skip-invalid"], env=env)
    assert result.exit_code == 0 and "1 service(s) imported" in result.output
    out = tmp_path / "export.zip"
    result = runner.invoke(main, ["export", "--format", "hsds", str(out)], env=env)
    assert result.exit_code == 0 and "left out" in result.output and zipfile.is_zipfile(out)


def make_big_file(path: Path, n: int) -> None:
    """n fictional services as one HSDS JSON list (for measuring large imports)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        for i in range(n):
            f.write((",\n" if i else "") + json.dumps(fictional(i)))
        f.write("\n]\n")


if __name__ == "__main__":  # python -m tests.test_import_export 100000 /tmp/big.json
    make_big_file(Path(sys.argv[2]), int(sys.argv[1]))


@pytest.mark.parametrize(
    "changes",
    [
        {"phones": [[1]]},
        {"phones": [{"number": 5551234}]},
        {"minimum_age": "²"},
        {"minimum_age": "9" * 5000},
        {"attributes": [{"taxonomy_term": {"id": "t1", "name": "x", "taxonomy_detail": [1]}}]},
        {"service_at_locations": [{"location": {"id": [], "latitude": {"a": 1}}}]},
        {"organization": "an org"},
        {"source": ["not", "an", "object"], "free": "perhaps"},
    ],
)
def test_malformed_values_are_reported_never_crash(wdb, tmp_path, changes):
    before = fingerprint(wdb)
    path = write_json(tmp_path / "odd.json", [fictional(0, **changes)])
    try:
        report = load_file(wdb, path)
    except ImportFailed as exc:
        assert exc.problems and all(p.source == "odd.json" for p in exc.problems)
        assert fingerprint(wdb) == before
    else:  # taken as it is (a number given as an int is still a number)
        assert report.imported == 1


def test_derived_ids_and_id_keys_match_the_uuid_module():
    from directory.ids import NAMESPACE, stable_uuid
    from directory.importers import id_key

    for i in range(2000):
        parts = (str(uuid.uuid5(NS, str(i))), ("phone", "address", "ß", "")[i % 4], str(i))
        assert stable_uuid(*parts) == str(uuid.uuid5(NAMESPACE, ":".join(parts)))
        text = parts[0]
        assert id_key(text) == id_key(text.upper()) == id_key("{" + text + "}")
        assert id_key(text) == uuid.UUID(text).bytes


def test_ids_are_kept_in_canonical_form(empty_db, tmp_path):
    service = fictional(0)
    service["id"] = "{" + service["id"].upper() + "}"
    load_file(empty_db, write_json(tmp_path / "upper.json", [service]))
    assert empty_db.execute("select id from service").fetchone()[0] == fictional(0)["id"]


def test_an_import_restores_the_connection_settings(wdb, tmp_path):
    wdb.execute("PRAGMA cache_size = -3000")
    load_file(wdb, write_json(tmp_path / "s.json", [fictional(0)]))
    assert wdb.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert wdb.execute("PRAGMA cache_size").fetchone()[0] == -3000


def test_a_reimport_that_breaks_a_reference_changes_nothing(wdb, tmp_path):
    load_file(wdb, write_json(tmp_path / "a.json", [fictional(0), fictional(1)]))
    phone = wdb.execute(
        "select id from phone where service_id = ? order by position", [fictional(0)["id"]]
    ).fetchone()[0]
    with wdb.conn:  # a language of another service that refers to the phone
        wdb.execute(
            "insert into language (id, service_id, phone_id, code) values (?, ?, ?, 'war')",
            [str(uuid.uuid5(NS, "ref")), fictional(1)["id"], phone],
        )
    before = fingerprint(wdb)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        load_file(wdb, write_json(tmp_path / "b.json", [fictional(0, phones=[])]))
    assert fingerprint(wdb) == before
    assert wdb.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_broken_item_is_reported_without_reading_the_rest_of_the_file(tmp_path, monkeypatch):
    items = [json.dumps(fictional(i)) for i in range(30)]
    items[2] = items[2].replace('"name": "', '"name": "\x01', 1)  # a raw control character
    path = tmp_path / "broken.json"
    path.write_text("[\n" + ",\n".join(items) + "\n]\n")
    monkeypatch.setattr(hsds_json, "CHUNK", 97)
    read: list[int] = []

    class Counted:
        def __init__(self, *args, **kwargs):
            self.file = open(*args, **kwargs)  # noqa: SIM115 - closed by __exit__

        def read(self, n=-1):
            text = self.file.read(n)
            read.append(len(text))
            return text

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(hsds_json, "open", Counted, raising=False)
    with pytest.raises(hsds_json.BadJSON) as exc:
        list(hsds_json.iter_services(path))
    assert exc.value.line == 4  # the item's first line
    assert "Invalid control character (line 4, column" in str(exc.value)
    assert sum(read) < path.stat().st_size / 3  # it stopped near the error, not at the end
    cut = tmp_path / "cut.json"  # an item cut short by the end of the file is still found
    cut.write_text("[\n" + items[0] + ",\n" + items[1][:40])
    with pytest.raises(hsds_json.BadJSON, match=r"line 3\b"):
        list(hsds_json.iter_services(cut))
