"""Hardened against bad input: fuzzed parameters never cause a 500 or show a traceback.

Hypothesis throws arbitrary unicode, huge values, repeated parameters, wrong types and broken
percent-encoding at every public parameter of /search, /api/services, /hotlines, /areas/<code>
and /services/<id>, and arbitrary rows at the flat CSV importer. Also here: the request size
limit (413), the SQLite statement time limit (503) and the pagination bounds.
Set FUZZ_EXAMPLES to run more examples per test (default 100).
"""

import csv
import os
import re
import sqlite3
import time
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory import create_app, search, timelimit
from directory.db import connect, get_db
from directory.hsds_api import EXTRA_PARAMETERS
from directory.importers import Problem
from directory.importers.flat_csv import read_records

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")
ACCEPTABLE = {200, 301, 302, 308, 400, 404, 405, 413, 414}
RUN = {"examples": 0, "requests": 0}

SEARCH_PARAMETERS = sorted(search.SEARCH_PARAMETERS | {"lang"})
API_PARAMETERS = sorted(search.SEARCH_PARAMETERS | set(EXTRA_PARAMETERS))

# Values a parameter might get: anything, numbers of every size and shape, and the tricky ones.
WEIRD = st.sampled_from([
    "", " ", "0", "-1", "1e309", "nan", "inf", "-0", "1.5", "99999999999999999999", "9" * 5000,
    "true", "yes", "[]", "{}", "null", "'", '"', "\\", "%", "%00", "\x00", "*", "NEAR(a b)",
    "a OR b", "a AND NOT b", "\"unbalanced", "^x", "x*", "col:x", "1,2", "91,181", "-91,-181",
    "10.3,123.9", "Tacloban", "Manila", "0800000000", "PH", "XX", "shelter", "fil", "female",
    "distance", "relevance", "🙂", "ñ", "İ", "\u202e", "\ufeff", "a" * 100_000,
])  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    WEIRD,
)


def pairs(names: list[str]) -> st.SearchStrategy:
    """Query pairs: known names (often repeated) and unknown ones, with any values."""
    name = st.one_of(st.sampled_from(names), st.sampled_from(names), st.text(max_size=12))
    return st.lists(st.tuples(name, VALUES), max_size=8)


def raw_query() -> st.SearchStrategy:
    """A query string of arbitrary bytes, percent-encoded (may not even be UTF-8)."""
    return st.binary(max_size=80).map(lambda b: "".join(f"%{x:02X}" for x in b))


@pytest.fixture(scope="module")
def fuzz_client(app, request):
    """One client for every fuzz test; reports how many examples ran."""
    yield app.test_client()
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(
            f"\ntests/test_fuzz.py: {RUN['examples']} fuzz examples run "
            f"({RUN['requests']} requests)"
        )


def check(client, url: str):
    """Fetch; the answer is never a 500 and never shows a traceback."""
    RUN["requests"] += 1
    response = client.get(url)
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code in ACCEPTABLE, (url, response.status_code)
    assert not TRACEBACK.search(body), url
    return response


@pytest.mark.parametrize(
    "path, names",
    [
        ("/search", SEARCH_PARAMETERS),
        ("/api/services", API_PARAMETERS),
        ("/hotlines", SEARCH_PARAMETERS),
    ],
)
def test_search_parameters(fuzz_client, path, names):
    @FUZZ
    @given(query=pairs(names))
    def run(query):
        RUN["examples"] += 1
        check(fuzz_client, f"{path}?{urlencode(query)}")

    run()


@FUZZ
@given(raw=raw_query(), path=st.sampled_from(["/search", "/api/services", "/hotlines"]))
def test_undecodable_query_strings(fuzz_client, raw, path):
    RUN["examples"] += 1
    check(fuzz_client, f"{path}?q={raw}&near={raw}&{raw}={raw}")


@FUZZ
@given(
    segment=st.one_of(st.text(min_size=1, max_size=200), WEIRD.filter(bool)),
    query=pairs(["lang", "q", "page"]),
)
def test_area_and_service_paths(fuzz_client, segment, query):
    RUN["examples"] += 1
    segment = quote(segment, safe="")
    for path in (f"/areas/{segment}", f"/services/{segment}", f"/api/services/{segment}"):
        check(fuzz_client, f"{path}?{urlencode(query)}")


def test_the_fuzz_checks_can_fail(app):
    """A view that breaks is caught: a 500 and a traceback both fail `check`."""
    private = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"]})

    @private.get("/_boom")
    def boom():
        raise RuntimeError("boom")

    @private.get("/_trace")
    def trace():
        return 'Traceback (most recent call last):\n  File "x.py", line 1', 400

    client = private.test_client()
    with pytest.raises(AssertionError):
        check(client, "/_boom")
    with pytest.raises(AssertionError):
        check(client, "/_trace")
    RUN["requests"] -= 2


# ----------------------------------------------------------------------------- flat CSV

COLUMNS = (
    "id", "name", "organization", "kind", "taxonomy_terms", "description", "country", "region",
    "province", "city", "service_area", "address", "confidential", "phones", "other_channels",
    "hours", "languages", "languages_note", "minimum_age", "maximum_age", "gender", "free",
    "website", "email", "victim_facing", "source_url", "source_date", "confidence", "notes",
)  # fmt: skip
CELL = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40),
    WEIRD.filter(lambda v: "\x00" not in v and len(v) < 6000),
    st.sampled_from(["Region VIII", "Leyte", "Tacloban City", "yes", "no", "12", "0917 123 4567",
                     "24/7", "Mon-Fri 8-5", "shelter", "counselling", "2024-01-01"]),
)  # fmt: skip
# flat_csv._age crashes on a digit int() refuses ("²") or more than 4300 digits: pinned by
# test_flat_csv_ages_that_crash_today below; kept out of the fuzzing until flat_csv is fixed.
AGE_CELL = CELL.filter(
    lambda v: len(v) < 4300 and not any(c.isdigit() and not c.isdecimal() for c in v)
)
ROW = st.fixed_dictionaries(
    {}, optional={c: AGE_CELL if c.endswith("_age") else CELL for c in COLUMNS}
)


@pytest.fixture(scope="module")
def import_db(seeded_path):
    """The seeded database, read by the importer (which writes nothing)."""
    db = connect(str(seeded_path))
    yield db
    db.conn.close()


@FUZZ
@given(rows=st.lists(ROW, min_size=1, max_size=4), extra=st.sampled_from(["", "bogus_column"]))
def test_flat_csv_rows_report_problems_never_raise(import_db, tmp_path_factory, rows, extra):
    RUN["examples"] += 1
    path = tmp_path_factory.mktemp("csv") / "listings.csv"
    header = list(COLUMNS) + ([extra] if extra else [])
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    records, problems = read_records(import_db, path)
    assert len(records) == len(rows)
    assert all(isinstance(p, Problem) and p.line for p in problems)
    for row in rows:
        if not (row.get("name", "").strip() and row.get("organization", "").strip()):
            assert problems, "a row without a name or organisation passed"


@pytest.mark.parametrize("age", ["²", "9" * 5000])
def test_flat_csv_odd_ages_are_reported_not_raised(import_db, tmp_path, age):
    path = tmp_path / "listings.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["name", "organization", "minimum_age"])
        writer.writeheader()
        writer.writerow({"name": "A", "organization": "B", "minimum_age": age})
    _, problems = read_records(import_db, path)
    assert any(p.field == "minimum_age" for p in problems)


# ----------------------------------------------------------------------- size and time limits


@pytest.mark.parametrize(
    "path, json_answer", [("/search", False), ("/api/services", True), ("/", False)]
)
def test_request_bodies_over_the_limit_are_refused(app, path, json_answer):
    client = app.test_client()
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post(path, data=b"x" * (limit + 1), content_type="application/octet-stream")
    assert response.status_code == 413
    if json_answer:
        assert response.get_json()["error"]["status"] == 413
    else:
        assert response.mimetype == "text/html" and "413" in response.get_data(as_text=True)
    small = client.get(path, data=b"x" * 10)
    assert small.status_code == 200


def test_a_body_over_the_limit_is_refused_where_a_view_reads_it(app):
    """POST /api/services/search reads a JSON body: over the limit it answers 413, not 500."""
    rules = {r.rule for r in app.url_map.iter_rules() if "POST" in r.methods}
    assert "/api/services/search" in rules
    client = app.test_client()
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"q": "' + b"a" * limit + b'"}'
    response = client.post("/api/services/search", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413


SLOW_SQL = (
    "with recursive c(x) as (select 1 union all select x + 1 from c where x < 50000000) "
    "select count(*) from c"
)


def test_the_time_limit_stops_a_slow_statement():
    db = connect(":memory:")
    timelimit.apply(db, 50)
    started = time.perf_counter()
    with pytest.raises(sqlite3.OperationalError) as caught:
        db.execute(SLOW_SQL).fetchone()
    assert timelimit.is_timeout(caught.value)
    assert time.perf_counter() - started < 2
    # The clock restarts for each statement: later quick ones run.
    time.sleep(0.06)
    assert db.execute("select 1").fetchone()[0] == 1
    with timelimit.unlimited(db):
        assert db.execute(SLOW_SQL.replace("50000000", "200000")).fetchone()[0] == 200000
    with pytest.raises(sqlite3.OperationalError):
        db.execute(SLOW_SQL).fetchone()
    db.conn.close()


QUICK_SQL = SLOW_SQL.replace("50000000", "20000")


def test_the_clock_restarts_for_queries_and_table_methods_too():
    db = connect(":memory:")
    timelimit.apply(db, 50)
    db.execute("create table t (x integer)")
    time.sleep(0.06)  # the last statement's deadline is long past
    # long enough (>1,000 VM steps) for the handler to look at the clock, well under 50 ms
    quick = QUICK_SQL.replace("select count(*) from c", "select count(*) as x from c")
    assert list(db.query(quick)) == [{"x": 20000}]
    time.sleep(0.06)
    db["t"].insert_all([{"x": i} for i in range(3)])
    time.sleep(0.06)
    assert db["t"].count == 3
    with pytest.raises(sqlite3.OperationalError) as caught:
        list(db.query(SLOW_SQL))
    assert timelimit.is_timeout(caught.value)
    db.conn.close()


def test_the_time_limit_is_for_requests_only(app):
    """CLI work (imports, exports, backups) runs in an app context without a request: no limit."""
    with app.app_context():
        db = get_db()
        assert getattr(db, "time_limit", None) is None
    with app.test_request_context("/"):
        db = get_db()
        assert db.time_limit.limit == app.config["SQL_TIME_LIMIT_MS"] / 1000


@pytest.fixture
def hasty_app(app):
    """The app with a time limit no statement can meet."""
    return create_app(
        {"TESTING": True, "DATABASE": app.config["DATABASE"], "SQL_TIME_LIMIT_MS": 1e-6}
    )


@pytest.mark.parametrize("url", ["/search?q=shelter", "/api/services?q=shelter", "/hotlines"])
def test_a_search_over_the_time_limit_answers_503_not_500(hasty_app, url):
    response = hasty_app.test_client().get(url)
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "took too long" in body and not TRACEBACK.search(body)
    if url.startswith("/api"):
        assert response.get_json()["error"]["status"] == 503


def test_other_database_errors_stay_500_without_details(app):
    private = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"]})

    @private.get("/_broken")
    def broken():
        raise sqlite3.OperationalError("no such table: secret_internal_name")

    response = private.test_client().get("/_broken")
    assert response.status_code == 500
    assert "secret_internal_name" not in response.get_data(as_text=True)


# ------------------------------------------------------------------------- pagination bounds


@pytest.mark.parametrize("path", ["/search", "/api/services"])
@pytest.mark.parametrize(
    "args, status",
    [
        ("page=0", 400),
        ("page=-1", 400),
        (f"page={search.MAX_PAGE + 1}", 400),
        (f"page={search.MAX_PAGE}", 200),
        ("per_page=0", 400),
        ("per_page=101", 400),
        ("per_page=100", 200),
        ("per_page=1", 200),
        ("page=1&page=2", 400),
        ("page=2&page=2", 200),
        ("per_page=1e2", 400),
    ],
)
def test_pagination_bounds(client, path, args, status):
    response = client.get(f"{path}?{args}")
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if path == "/api/services" and status == 200:
        body = response.get_json()
        assert len(body["contents"]) <= body["size"] <= 100
