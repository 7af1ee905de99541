"""An import writes its services a batch at a time (models.services.Batch): the tables end up
exactly as if each service had been saved on its own, even when services of one batch share,
move or drop locations."""

import copy
import uuid

import pytest

from directory.db import connect
from directory.importers import plan
from directory.importers.load import load_file
from directory.models import revisions, services
from tests.test_import_export import NS, SERVICE_TABLES, fictional, fingerprint, write_json


@pytest.fixture
def wdb(writable_app):
    """A writable copy of the seeded database."""
    database = connect(writable_app.config["DATABASE"])
    yield database
    database.conn.close()


def _location(i: int, name: str) -> dict:
    return {
        "location": {
            "id": str(uuid.uuid5(NS, f"l{i}")),
            "name": name,
            "addresses": [
                {"id": str(uuid.uuid5(NS, f"a{i}")), "address_1": f"{name} Street",
                 "city": "Pilar", "state_province": "Sorsogon", "country": "PH"}
            ],
        }
    }  # fmt: skip


def first_file() -> list[dict]:
    return [fictional(i) for i in range(8)]


def second_file() -> list[dict]:
    """The first file changed: locations shared, moved and dropped within one batch, a new
    service among stored ones, an organisation renamed, a phone list replaced."""
    services_ = copy.deepcopy(first_file())
    services_[1]["service_at_locations"] = [_location(1, "moved away")]  # its old one to 2
    services_[2]["service_at_locations"] = [_location(1, "shared, later version")]
    services_[3]["service_at_locations"] = []  # its location is no one's any more
    services_[4]["service_at_locations"] = [_location(4, "first"), _location(5, "taken")]
    services_[5]["service_at_locations"] = [_location(5, "taken, again")]
    services_[6]["organization"]["name"] = "FICTIONAL org renamed"
    services_[7]["phones"] = [{"number": "1343"}]
    services_[0]["languages"] = [{"code": "war"}, {"code": "ceb"}, {"code": "en"}]
    services_[0]["attributes"] = [{"taxonomy_term_id": "shelter"},
                                  {"taxonomy_term_id": "legal-aid"}]  # fmt: skip
    services_[0]["schedules"] *= 2
    services_[0]["schedules"][1] = {**services_[0]["schedules"][1], "byday": "SA"}
    services_.insert(3, fictional(20))
    return services_


class _OneByOne(services.Batch):
    """A batch written as saves were before batches: each service on its own, in turn."""

    def __init__(self):
        super().__init__()
        self.saves: list[tuple] = []

    def add(self, record: dict, **options) -> None:
        self.saves.append((record, options))

    def write(self, conn) -> None:
        for record, options in self.saves:
            single = services.Batch()
            single.add(record, **options)
            single.write(conn)


def row_order(db) -> dict:
    """The ids of each service's nested rows in the order they are stored (what reads without
    an ORDER BY, and the search index, see), by table and service."""
    order: dict = {}
    for table, key in (*((t, "service_id") for t in services.CHILD_TABLES), ("attribute",
                       "link_id")):  # fmt: skip
        for owner, row_id in db.execute(f"select {key}, id from {table} order by rowid"):
            order.setdefault((table, owner), []).append(row_id)
    return order


def _import_twice(db, first, second) -> tuple:
    with db.conn:
        for table in SERVICE_TABLES:
            db.execute(f"delete from {table}")
    load_file(db, first)
    once = fingerprint(db), row_order(db)
    report = load_file(db, second)
    return once, (fingerprint(db), row_order(db)), report.revised, report.imported


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_batches_leave_the_tables_as_saving_one_by_one_would(wdb, tmp_path, monkeypatch, size):
    first = write_json(tmp_path / "first.json", first_file())
    second = write_json(tmp_path / "second.json", second_file())
    start = fingerprint(wdb)
    monkeypatch.setattr(plan, "BATCH", size)
    batched = _import_twice(wdb, first, second)
    languages = wdb.execute(
        "select code from language where service_id = ? order by rowid", [fictional(0)["id"]]
    )
    assert [r[0] for r in languages] == ["war", "ceb", "en"]  # as in the file
    monkeypatch.setattr(plan, "Batch", _OneByOne)
    assert _import_twice(wdb, first, second) == batched
    assert start != batched[0] != batched[1]
    assert batched[3] == 9 and batched[2] >= 6  # stored services changed by the second file


def test_a_batch_with_an_unknown_term_raises_and_its_transaction_writes_nothing(wdb):
    record = revisions.snapshot(wdb, wdb.execute("select id from service").fetchone()[0])
    record["taxonomy_terms"] = ["shelter", "no-such-term"]
    before = fingerprint(wdb)
    batch = services.Batch()
    services.save_service(wdb, record, index=False, batch=batch)
    assert fingerprint(wdb) == before  # gathered, not written
    with pytest.raises(KeyError, match="no-such-term"), wdb.atomic():
        batch.write(wdb.conn)
    assert fingerprint(wdb) == before
