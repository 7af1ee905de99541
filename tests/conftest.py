"""Fixtures: the real app factory on a seeded temporary database (built once per session)."""

import shutil

import pytest

from directory import create_app
from directory.db import connect


@pytest.fixture(scope="session")
def seeded_path(tmp_path_factory):
    """A database file created from data/ exactly as on first start."""
    path = tmp_path_factory.mktemp("db") / "directory.sqlite"
    create_app({"TESTING": True, "DATABASE": str(path)})
    return path


@pytest.fixture(scope="session")
def app(seeded_path):
    """The app on the shared seeded database: for tests that only read."""
    return create_app({"TESTING": True, "DATABASE": str(seeded_path)})


@pytest.fixture
def client(app):
    """A test client for the read-only app."""
    return app.test_client()


@pytest.fixture
def writable_app(seeded_path, tmp_path):
    """An app on a private copy of the seeded database: for tests that write."""
    path = tmp_path / "directory.sqlite"
    shutil.copy(seeded_path, path)
    return create_app({"TESTING": True, "DATABASE": str(path)})


@pytest.fixture
def db(seeded_path):
    """A sqlite-utils Database on the shared seeded file (read-only use)."""
    database = connect(str(seeded_path))
    yield database
    database.conn.close()
