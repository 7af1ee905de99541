"""The database: a connection per request (reused), migrations, first-start seeding from data/."""

import sqlite3
import threading
from pathlib import Path

import click
from flask import current_app, g, has_request_context
from sqlite_utils import Database

from directory import geo, timelimit
from directory.migrations import migrations


def connect(path: str) -> Database:
    """Open the SQLite file (or ':memory:') with the pragmas every connection needs."""
    conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    db = Database(conn)
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    return db


# Idle request connections kept per app. Opening one costs its schema parse, and closing it
# drops SQLite's page cache, so every request would read the search index cold.
POOL_SIZE = 8


class _Pool:
    """Idle request connections of one app (a worker's threads share it; a fork starts empty)."""

    def __init__(self) -> None:
        self.idle: list[Database] = []
        self.lock = threading.Lock()

    def take(self) -> Database | None:
        """An idle connection, or None when there is none."""
        with self.lock:
            return self.idle.pop() if self.idle else None

    def give(self, db: Database) -> bool:
        """Keep a connection for a later request; False when the pool is full (close it)."""
        with self.lock:
            if len(self.idle) < POOL_SIZE:
                self.idle.append(db)
                return True
        return False


def _pool(app) -> _Pool:
    return app.extensions.setdefault("directory_db_pool", _Pool())


def get_db() -> Database:
    """The request's database connection, opened on first use (or taken from the idle ones)."""
    if "db" not in g:
        if not has_request_context():  # CLI: its own connection, without a time limit
            g.db = connect(current_app.config["DATABASE"])
            return g.db
        db = _pool(current_app).take()
        if db is None:
            db = connect(current_app.config["DATABASE"])
            timelimit.apply(db, current_app.config["SQL_TIME_LIMIT_MS"])
        else:  # what it remembers from an earlier request starts afresh
            timelimit.restart(db)
            geo.forget(db)
        g.db = db
        g.db_pooled = True
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Hand the request's connection back (a transaction left open is rolled back), or close it."""
    db = g.pop("db", None)
    pooled = g.pop("db_pooled", False)
    if db is None:
        return
    if db.conn.in_transaction:
        db.conn.rollback()
    if not (pooled and _pool(current_app).give(db)):
        db.conn.close()


def is_seeded(db: Database) -> bool:
    """True once the schema exists and the gazetteer has been loaded."""
    return "area" in db.table_names() and db["area"].count > 0


def init_db(db: Database, data_dir: Path) -> dict:
    """Apply pending migrations and, on an empty database, load the shipped data."""
    migrations.apply(db)
    if is_seeded(db):
        return {}
    from directory.seed import seed

    return seed(db, Path(data_dir))


def ensure_database(app) -> None:
    """Create the database from data/ the first time the app starts."""
    path = app.config["DATABASE"]
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    try:
        init_db(db, Path(app.config["DATA_DIR"]))
        # Workers fork after this, so they share the index instead of each building it under
        # the request time limit.
        geo.warm(db)
    finally:
        db.conn.close()


@click.command("init-db")
def init_db_command() -> None:
    """Create the schema and load the shipped data if the database is empty."""
    db = get_db()
    counts = init_db(db, Path(current_app.config["DATA_DIR"]))
    click.echo(f"Database ready at {current_app.config['DATABASE']} {counts or ''}".strip())


def init_app(app) -> None:
    """Register teardown and CLI; create the database on first start."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
    ensure_database(app)
