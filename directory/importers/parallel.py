"""Read and check an import's records in a second process while this one writes them.

Decoding JSON and validating records (phone numbers, places) is about a third of a large
import; the writing is SQLite and the search index. On a machine with two cores the two halves
overlap: a forked child reads the file with its own read-only connection and sends what it
makes (importers.plan: a batch of services ready to write) through a bounded queue, so memory
stays flat however large the file.

The child sees the database as it was committed before the import, which is what validation
needs: what the file itself defines is remembered by the reader (hsds_json.Context), not looked
up in the tables being written.
"""

import ctypes
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from sqlite_utils import Database

from directory.db import connect

DEPTH = 4  # items the child may run ahead of the writer (each a batch of services)
POLL_S = 1.0  # how often each side checks that the other is still there
STOP_WAIT_S = 5.0  # for a child told to stop to clean up, before it is killed
PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies


class ReaderFailed(RuntimeError):
    """The reading process stopped without finishing, or raised something that cannot be
    sent back as it was."""


def database_file(db: Database) -> str | None:
    """The file behind a connection, or None for an in-memory (or temporary) database."""
    for _seq, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return path or None
    return None


def available(db: Database) -> bool:
    """Whether a second reading process can be used here: the database is a file another
    connection can open, fork exists, and no other thread runs (forking a threaded process
    can copy a lock held by another thread and hang the child)."""
    return (
        database_file(db) is not None
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def items(db: Database, produce: Callable[[Database], Iterator[Any]]) -> Iterator[Any]:
    """What produce(connection) yields, produced in a forked child that has its own
    connection to db's file, and yielded here in the same order. An exception raised by
    produce is raised here (ReaderFailed when it cannot be pickled); a child that dies raises
    ReaderFailed. Closing the iterator early stops the child."""
    path = database_file(db)
    if path is None:
        raise ValueError("a second reading process needs a database file")
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=DEPTH)
    child = context.Process(
        target=_produce_in_child,
        args=(channel, path, produce, os.getpid()),
        name="directory-import-reader",
        daemon=True,
    )
    child.start()
    try:
        while True:
            kind, payload = _receive(channel, child)
            if kind == "item":
                yield payload
            elif kind == "error":
                raise payload
            else:
                return
    finally:
        if child.is_alive():
            child.terminate()  # it stops what it reads, cleanly (see _Stopped)
            child.join(STOP_WAIT_S)
            if child.is_alive():
                child.kill()
        child.join()
        channel.close()
        channel.join_thread()


def _receive(channel, child) -> tuple[str, Any]:
    """The next message from the child; ReaderFailed if it died without sending one."""
    while True:
        try:
            return channel.get(timeout=POLL_S)
        except queue.Empty:
            if not child.is_alive():
                try:  # it may have sent its last message just before exiting
                    return channel.get(timeout=POLL_S)
                except queue.Empty:
                    raise ReaderFailed(
                        f"the process reading the file stopped (exit code {child.exitcode})"
                    ) from None


class _Stopped(BaseException):
    """The writer stopped early (SIGTERM): nothing more is wanted."""


def _stop(_signum, _frame) -> None:
    raise _Stopped


def _produce_in_child(channel, path: str, produce, parent: int) -> None:
    _die_with(parent)
    signal.signal(signal.SIGTERM, _stop)
    # Ctrl-C reaches the whole process group: the writer handles it, and stops this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    db = connect(path)
    release = _free_memory_releaser()
    produced = produce(db)
    stopped = False
    try:
        for item in produced:
            _send(channel, ("item", item), parent)
            del item
            release()
        _send(channel, ("done", None), parent)
    except _Stopped:
        stopped = True
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the writer
        _send(channel, ("error", _sendable(exc)), parent)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if close := getattr(produced, "close", None):
            close()  # what it opened (a package's temporary folder) is cleaned up
        db.conn.close()
        channel.close()
        if stopped:  # nobody reads what is still in the pipe: do not wait for it
            channel.cancel_join_thread()
        else:
            channel.join_thread()  # everything sent reaches the pipe before the child exits


def _die_with(parent: int) -> None:
    """Have Linux kill this process when the writer dies: an import killed half-way leaves no
    reader behind (one blocked writing to a pipe nobody reads would never notice)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: _send still notices when the queue is full
        pass
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(1)


def _free_memory_releaser() -> Callable[[], object]:
    """glibc's malloc_trim(0), or a no-op elsewhere. Each item's records are freed once it is
    sent, but between them lie the few small objects kept for the whole file (the ids seen, to
    find duplicates), so the freed pages stay with the process: at 100,000 services the reader
    grew by 90 MB without it and by 25 MB with it."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


def _send(channel, message: tuple, parent: int) -> None:
    """Put a message on the queue, waiting while it is full; give up if the writer is gone."""
    while True:
        try:
            channel.put(message, timeout=POLL_S)
            return
        except queue.Full:
            if os.getppid() != parent:  # the writer died: nobody will read this
                os._exit(1)


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a ReaderFailed with its traceback."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling failure means: send its text instead
        text = "".join(traceback.format_exception(exc)).rstrip()
        return ReaderFailed(f"reading the file failed:\n{text}")
