"""search_index + search: filters as FTS5 tags, facet columns, running totals, circle counts.

Each fast path is checked against the plain SQL it replaces, on the shipped data.
"""

import sqlite3
from collections import Counter

import pytest

from directory import nearby, search, search_index
from directory.db import connect

QUERIES = [
    {"region": "Region VII"},
    {"region": "NCR", "type": "shelter"},
    {"province": "Leyte"},
    {"city": "Tacloban"},
    {"city": "Lahug, Cebu City"},
    {"type": "hotline"},
    {"type": "youth-justice"},
    {"language": "ceb"},
    {"language": "tl", "region": "Region XI"},
    {"gender": "female"},
    {"twenty_four_seven": "1"},
    {"free": "1", "region": "Region VIII"},
    {"country": "PH", "type": "legal-aid"},
    {"country": "US"},
    {"q": "counselling"},
    {"q": "shelter", "region": "Region V"},
    {"q": "women children", "type": "shelter", "language": "en"},
    {"q": "bahay", "type": "youth-justice"},
    {"age": "14", "region": "Region III"},
    {"near": "Palo, Leyte", "type": "hotline", "radius_km": "200"},
    {"near": "Davao City", "q": "help", "radius_km": "100"},
]


def _reference(db, query: search.Query) -> list[str]:
    """The hits by plain SQL on the narrow tables, every filter as its SQL, no tag."""
    nearby.register(db)
    filters = search.build_filters(query)
    where = [f.sql for f in filters]
    params = {k: v for f in filters for k, v in f.params.items()}
    source = "search_doc d"
    if query.fts:
        source = "search_fts join search_doc d on d.rowid = search_fts.rowid"
        where.insert(0, "search_fts match :words")
        params["words"] = query.fts
    sql = f"select d.service_id from {source}" + (" where " + " and ".join(where) if where else "")
    return [r[0] for r in db.execute(sql, params)]


def _every_page(db, args: dict) -> tuple[set[str], search.SearchResult]:
    query = search.parse_query(db, {**args, "per_page": "100"})
    first = search.search(db, query)
    found = list(first.service_ids)
    for page in range(2, first.total_pages + 1):
        query.page = page
        found += search.search(db, query).service_ids
    assert len(found) == len(set(found)) == first.total
    return set(found), first


@pytest.mark.parametrize("args", QUERIES, ids=lambda a: "&".join(f"{k}={v}" for k, v in a.items()))
def test_filters_as_tags_find_exactly_what_sql_finds(db, args):
    query = search.parse_query(db, args)
    expected = _reference(db, query)
    found, result = _every_page(db, args)
    assert found == set(expected)
    assert result.total == len(expected)


@pytest.mark.parametrize("args", QUERIES[:14], ids=str)
def test_facet_counts_match_the_narrow_tables(db, args):
    query = search.parse_query(db, args)
    hits = _reference(db, query)
    facets = search.search(db, query).facets
    marks = ", ".join("?" for _ in hits)
    regions = dict(db.execute(
        f"select a.code, count(distinct a.doc) from search_area a join area ar on ar.code = a.code "
        f"join search_doc d on d.rowid = a.doc where ar.level = 'region' "
        f"and d.service_id in ({marks}) group by a.code", hits,
    ).fetchall())  # fmt: skip
    types = dict(db.execute(
        f"select t.code, count(*) from search_term t join search_doc d on d.rowid = t.doc "
        f"where d.service_id in ({marks}) group by t.code", hits,
    ).fetchall())  # fmt: skip
    languages = dict(db.execute(
        f"select l.code, count(*) from search_language l join search_doc d on d.rowid = l.doc "
        f"where d.service_id in ({marks}) group by l.code", hits,
    ).fetchall())  # fmt: skip
    national = db.execute(
        f"select count(*) from search_doc where scope = 'national' and service_id in ({marks})",
        hits,
    ).fetchone()[0]
    assert {f["code"]: f["count"] for f in facets["region"]} == regions
    assert {f["code"]: f["count"] for f in facets["type"]} == types
    assert {f["code"]: f["count"] for f in facets["language"]} == languages
    assert facets["nationwide"] == national
    names = [f["name"] for f in facets["region"]]
    assert names == sorted(names)
    counts = [f["count"] for f in facets["type"]]
    assert counts == sorted(counts, reverse=True)


def _directory_facets(db) -> tuple[int, dict, dict]:
    """What an unfiltered search must report, counted from scratch."""
    result = search.search(db, search.parse_query(db, {}))
    query = search.parse_query(db, {})
    query.extra = [search.Filter("1 = 1", {}, "")]  # any filter: the counted path, not totals
    counted = search.search(db, query)
    assert counted.total == result.total
    return result.total, result.facets, counted.facets


def test_an_unfiltered_search_reads_the_totals_kept_by_the_index(db):
    total, kept, counted = _directory_facets(db)
    victim_facing = db.execute("select count(*) from search_doc where victim_facing = 1")
    assert total == victim_facing.fetchone()[0] > 150
    assert kept == counted
    assert kept["type"] and kept["region"] and kept["nationwide"] > 10


def test_totals_follow_edits_and_removals(writable_app):
    db = connect(writable_app.config["DATABASE"])
    try:
        before_total, before, _ = _directory_facets(db)
        sid = db.execute(
            "select service_id from search_doc where victim_facing = 1 and facet_types "
            "like '%shelter%' and facet_types not like '%hotline%' and scope = 'local' limit 1"
        ).fetchone()[0]
        with db.atomic():  # a shelter becomes a hotline
            db.execute(
                "update attribute set taxonomy_term_id = (select id from taxonomy_term "
                "where code = 'hotline') where link_id = ? and taxonomy_term_id = "
                "(select id from taxonomy_term where code = 'shelter')",
                [sid],
            )
            search_index.index_services(db, [sid])  # its old counts out, its new ones in
        total, kept, counted = _directory_facets(db)
        assert kept == counted and total == before_total
        change = Counter({f["code"]: f["count"] for f in kept["type"]})
        change.subtract({f["code"]: f["count"] for f in before["type"]})
        assert change["shelter"] < 0 and change["hotline"] == 1
        with db.atomic():
            db.execute("update service set victim_facing = 0 where id = ?", [sid])
            search_index.index_services(db, [sid])
        total, kept, counted = _directory_facets(db)
        assert kept == counted and total == before_total - 1
        with db.atomic():
            db.execute("update service set status = 'defunct' where id = ?", [sid])
            db.execute("update service set victim_facing = 1 where id = ?", [sid])
            search_index.index_services(db, [sid])
        total, kept, counted = _directory_facets(db)
        assert kept == counted and total == before_total - 1
        with db.atomic():
            search_index.rebuild(db)
        assert _directory_facets(db)[:2] == (total, kept)
    finally:
        db.conn.close()


def _brute_force_count(db, lat: float, lon: float, km: float) -> int:
    rows = db.execute(
        "select d.lat, d.lon from search_doc d where d.victim_facing = 1 "
        "and d.rowid in (select id from search_point)"
    ).fetchall()
    return sum(1 for a, b in rows if nearby.distance_km(lat, lon, a, b) <= km)


@pytest.mark.parametrize("place", ["Palo, Leyte", "Quezon City", "Davao City", "Cebu City"])
@pytest.mark.parametrize("km", [1.0, 12.0, 50.0, 300.0])
def test_the_count_inside_a_circle_is_exact(db, place, km):
    where = nearby.resolve_place(db, place)
    circle = nearby.Circle(where.lat, where.lon, km)
    assert nearby.count_inside(db, circle) == _brute_force_count(db, where.lat, where.lon, km)


def test_points_a_metre_from_the_edge_land_on_their_own_side(db):
    points = db.execute(
        "select d.lat, d.lon from search_doc d where d.victim_facing = 1 "
        "and d.rowid in (select id from search_point) limit 25"
    ).fetchall()
    assert len(points) == 25
    for lat, lon in points:
        # a centre about 5 km away: at that radius the R*Tree's rounding (a metre or two) is
        # wider than the flat estimate's error band, so only the margin keeps the count exact
        centre = (lat + 0.03, lon + 0.035)
        km = nearby.distance_km(*centre, lat, lon)
        for radius in (km - 0.001, km + 0.001):  # a metre inside, a metre outside
            circle = nearby.Circle(*centre, radius)
            expected = _brute_force_count(db, *centre, radius)
            assert nearby.count_inside(db, circle) == expected, (lat, lon, radius)


def test_tags_are_digits_after_a_letter_and_survive_the_tokenizer():
    values = ["0700000000", "PH", "crisis-counselling", "ceb", "any", "1", "Ñ", "es", "aes"]
    tokens = [search_index.tag("a", v) for v in values]
    assert len(set(tokens)) == len(values)
    assert all(t[0] == "a" and t[1:].isdigit() for t in tokens)
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "create virtual table f using fts5(body, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    conn.executemany("insert into f (rowid, body) values (?, ?)", enumerate(tokens))
    for rowid, token in enumerate(tokens):
        assert conn.execute("select rowid from f where f match ?", [token]).fetchall() == [(rowid,)]


def test_words_are_not_looked_for_among_the_tags(db):
    token = search_index.tag("t", "shelter")
    assert search.search(db, search.parse_query(db, {"q": token})).total == 0
