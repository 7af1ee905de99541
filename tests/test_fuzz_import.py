"""Fuzzed HSDS JSON imports: arbitrary shapes and values are reported as problems, never raised,
and a rejected import leaves the database exactly as it was."""

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.db import connect
from directory.importers import ImportFailed
from directory.importers.load import load_file

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    st.sampled_from(["", "\x00", "NCR", "Region VII", "0917-180-6037", "24/7", "x" * 3000]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from([
    "id", "name", "status", "description", "minimum_age", "maximum_age", "organization",
    "phones", "schedules", "languages", "service_areas", "service_at_locations", "attributes",
    "assured_date", "email", "url", "number", "address_1", "city", "state_province", "country",
    "psgc_code", "latitude", "longitude", "confidential", "byday", "opens_at", "closes_at",
])  # fmt: skip
SERVICES = st.dictionaries(FIELDS, VALUES, max_size=8)
DOCUMENTS = st.one_of(SERVICES, st.lists(SERVICES, max_size=3), VALUES)


@pytest.fixture(scope="module")
def import_copy(seeded_path, tmp_path_factory):
    """A private copy of the seeded database that the fuzzed imports may try to write to."""
    path = tmp_path_factory.mktemp("fuzz-import") / "directory.sqlite"
    shutil.copy(seeded_path, path)
    db = connect(str(path))
    yield db
    db.conn.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=DOCUMENTS, dry_run=st.booleans())
def test_hsds_json_import_reports_problems_and_changes_nothing_when_it_fails(
    import_copy, tmp_path_factory, document, dry_run
):
    before = import_copy.execute("select count(*), max(last_modified) from service").fetchone()
    path = tmp_path_factory.mktemp("json") / "services.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        report = load_file(import_copy, path, dry_run=dry_run)
    except ImportFailed as failed:
        assert failed.problems and all(str(p) for p in failed.problems)
        after = import_copy.execute("select count(*), max(last_modified) from service").fetchone()
        assert tuple(after) == tuple(before)
    else:
        assert report.imported >= 0
