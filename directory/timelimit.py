"""A time limit on SQLite statements, so that no search can hold a worker.

Like Datasette's ``sqlite_timelimit``: a progress handler, called every few thousand virtual
machine steps, interrupts a statement that has run past its deadline; SQLite then raises
``sqlite3.OperationalError("interrupted")``, which the error handlers answer with a 503.

The deadline is per statement: the clock restarts whenever one of our statements starts (see
apply), so a page that runs many quick queries is not penalised, while any slow one is stopped.
Request connections get the limit (see ``db.get_db``); the CLI (imports, exports, backups) does not.
"""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

# How many SQLite virtual machine instructions between two checks of the clock.
CHECK_EVERY = 1000
INTERRUPTED = "interrupted"


class _Deadline:
    """The clock of one connection: restarted at each statement, checked by the handler."""

    def __init__(self, limit_ms: float) -> None:
        self.limit = limit_ms / 1000
        self.deadline = time.perf_counter() + self.limit
        self.enabled = True
        self.interrupted = False

    def restart(self, _sql: str | None = None) -> None:
        """A statement starts: give it the full limit."""
        self.deadline = time.perf_counter() + self.limit
        self.interrupted = False

    def expired(self) -> int:
        """Non-zero (interrupt) once the running statement is past its deadline."""
        if self.enabled and time.perf_counter() > self.deadline:
            self.interrupted = True
            return 1
        return 0


def apply(db: Database, limit_ms: float | None) -> None:
    """Limit every statement on this database's connection to limit_ms ms (0/None: no limit)."""
    if not limit_ms or limit_ms <= 0:
        return
    clock = _Deadline(limit_ms)
    # The clock restarts when one of our statements starts. A trace callback would also see
    # every statement FTS5 runs inside a search (thousands per page: a quarter of its time),
    # so statements are caught where sqlite-utils runs them: Database.execute (which the table
    # methods call) and Database.query (which runs its statement itself).
    run, ask = db.execute, db.query

    def execute(sql: str, parameters=None):
        clock.restart()
        return run(sql, parameters)

    def query(sql: str, params=None):
        clock.restart()
        return ask(sql, params)

    db.execute, db.query = execute, query
    # Tiny limits (tests) check at every step so that even a short statement is stopped.
    db.conn.set_progress_handler(clock.expired, 1 if limit_ms < 1 else CHECK_EVERY)
    db.time_limit = clock


def restart(db: Database) -> None:
    """Start this connection's clock afresh (a reused connection's last started long ago)."""
    clock = getattr(db, "time_limit", None)
    if clock is not None:
        clock.restart()


@contextmanager
def unlimited(db: Database) -> Iterator[None]:
    """Run a block (e.g. a full export inside a request) without the statement time limit."""
    clock = getattr(db, "time_limit", None)
    if clock is None:
        yield
        return
    clock.enabled = False
    try:
        yield
    finally:
        clock.enabled = True
        clock.restart()


def is_timeout(exc: BaseException, db: Database | None = None) -> bool:
    """True when a database error comes from this module stopping a slow statement."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    # Stopped inside a virtual table (FTS5) SQLite reports e.g. "vtable constructor failed".
    clock = getattr(db, "time_limit", None)
    return str(exc) == INTERRUPTED or bool(clock and clock.interrupted)
