"""Request connections are kept and reused (db.get_db / close_db), never carrying a request's
state into the next one."""

import sqlite3
import threading
import time

import pytest

from directory import create_app, geo
from directory import db as db_module
from directory.db import connect, get_db


def test_a_request_reuses_the_connection_the_last_one_handed_back(app):
    with app.test_request_context("/"):
        first = get_db()
    with app.test_request_context("/"):
        assert get_db() is first
    with app.app_context():  # the CLI's connection is its own, and is closed
        cli = get_db()
        assert cli is not first
    assert cli not in db_module._pool(app).idle


def test_a_transaction_left_open_is_rolled_back(writable_app):
    with writable_app.test_request_context("/"):
        db = get_db()
        db.execute("begin")
        db.execute("update service set name = 'CHANGED' where id = (select min(id) from service)")
        assert db.conn.in_transaction
    with writable_app.test_request_context("/"):
        db = get_db()
        assert not db.conn.in_transaction
        assert db.execute("select count(*) from service where name = 'CHANGED'").fetchone()[0] == 0


def test_a_reused_connections_time_limit_starts_afresh(app):
    limited = create_app(
        {"TESTING": True, "DATABASE": app.config["DATABASE"], "SQL_TIME_LIMIT_MS": 50}
    )
    with limited.test_request_context("/"):
        first = get_db()
    time.sleep(0.1)  # longer than the limit: an old deadline would stop the next statement
    with limited.test_request_context("/"):
        db = get_db()
        assert db is first
        # straight on the sqlite3 connection, as get_services reads: no wrapper restarts the clock
        assert (
            db.conn.execute(
                "select count(*) from search_doc where name_key like '%a%'"  # many steps: checked
            ).fetchone()[0]
            > 0
        )


def test_at_most_pool_size_connections_are_kept(app):
    private = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"]})
    opened, ready, done = [], threading.Barrier(db_module.POOL_SIZE + 2), threading.Event()

    def request():
        with private.test_request_context("/"):
            opened.append(get_db())
            ready.wait()
            done.wait()

    threads = [threading.Thread(target=request) for _ in range(db_module.POOL_SIZE + 1)]
    for t in threads:
        t.start()
    ready.wait()
    done.set()
    for t in threads:
        t.join()
    idle = db_module._pool(private).idle
    assert len(opened) == db_module.POOL_SIZE + 1 and len(idle) == db_module.POOL_SIZE
    closed = [c for c in opened if c not in idle]
    assert len(closed) == 1
    with pytest.raises(sqlite3.ProgrammingError):  # the one beyond the pool's size is closed
        closed[0].conn.execute("select 1")


def test_a_reused_connection_sees_a_gazetteer_reloaded_elsewhere(writable_app):
    with writable_app.test_request_context("/"):
        first = get_db()
        with pytest.raises(geo.PlaceError):
            geo.resolve_area(first, "Fictionalville")
    other = connect(writable_app.config["DATABASE"])  # another process's reload, say
    with other.atomic():
        other.execute(
            "insert into area (code, name, level, kind, parent_code, region_code, country_code,"
            " lat, lon) values ('0899999000', 'Fictionalville', 'city', 'municipality', "
            "'0800000000', '0800000000', 'PH', 11.2, 125.0)"
        )
        other.execute("insert into area_alias values ('fictionalville', '0899999000')")
    other.conn.close()
    with writable_app.test_request_context("/"):
        db = get_db()
        assert db is first
        assert geo.resolve_area(db, "Fictionalville").code == "0899999000"
