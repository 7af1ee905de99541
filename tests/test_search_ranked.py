"""Searches run on the narrow tables (search.narrow_page) against the general path they
short-cut, and search_facet / search_browse against the search_doc columns they copy (kept by
triggers)."""

import pytest

from directory import nearby, search, search_index
from directory.db import connect

RANKED = [
    {"q": "counselling"},
    {"q": "shelter", "region": "Region V"},
    {"q": "women children", "type": "shelter"},
    {"q": "help", "language": "ceb"},
    {"q": "child", "per_page": "3"},  # small pages: the tie edge falls inside the hits
    {"q": "hotline", "per_page": "1"},
    {"q": "legal", "country": "PH", "per_page": "2"},
    {"q": "zzzznotaword"},
    {"type": "shelter"},  # no words: the browse order, from search_browse
    {"region": "Region VII", "per_page": "3"},
    {"q": "shelter", "sort": "name", "per_page": "4"},
    {"language": "ceb", "sort": "name", "per_page": "5"},
]


def _general(db, query: search.Query) -> tuple[int, list[str], dict]:
    clause, _, params = search.search_sql(query)
    total, ids, counts, national = search._page_and_facets(db, query, clause, params)
    return total, ids, search._facets(db, counts, national)


@pytest.mark.parametrize("args", RANKED)
def test_every_page_is_the_general_paths_page(db, args):
    query = search.parse_query(db, args)
    clause, _, _ = search.search_sql(query)
    assert search.narrow_order(search._order_keys(query), clause) is not None
    total, _, facets = _general(db, query)
    seen = []
    for page in range(1, max(1, -(-total // query.per_page)) + 1):
        query.page = page
        result = search.search(db, query)
        expected_total, expected_ids, expected_facets = _general(db, query)
        assert result.service_ids == expected_ids
        assert result.total == expected_total == total
        assert result.facets == expected_facets == facets
        without = search.search(db, query, facets=False)
        assert (without.total, without.service_ids) == (total, expected_ids)
        seen += result.service_ids
    assert len(seen) == len(set(seen)) == total


def test_ties_are_broken_by_name(db):
    """Services matching a word alike score alike; the page then goes by name, as before."""
    query = search.parse_query(db, {"q": "hotline", "per_page": "100"})
    clause, _, params = search.search_sql(query)
    rows = db.execute(
        f"select bm25(search_fts, {search.BM25_WEIGHTS}) as o, d.name_key, d.service_id "
        f"{clause} order by o, d.name_key",
        params,
    ).fetchall()
    scores = [r[0] for r in rows]
    assert len(scores) > len(set(scores)), "the shipped data has tied scores to test with"
    assert search.search(db, query).service_ids == [r[2] for r in rows][:100]


def test_other_orders_and_sql_filters_take_the_general_path(db):
    for args in ({"q": "shelter", "sort": "verified"}, {"q": "shelter", "age": "12"}, {}):
        query = search.parse_query(db, args)
        clause, _, _ = search.search_sql(query)
        assert search.narrow_order(search._order_keys(query), clause) is None


@pytest.mark.parametrize("place", ["Palo, Leyte", "Region VII", "Davao City", "Southern Leyte"])
def test_the_serves_this_area_group_is_the_general_paths(db, place):
    query = search.parse_query(db, {"near": place, "radius_km": "30"})
    result = search.search(db, query)
    condition = nearby.serving_condition(db, query.near)
    group = search.Filter(condition[0], condition[1], "")  # SQL only: the general path
    clause, _, params = search.search_sql(query, near=False, more=[group])
    assert search.narrow_order(search.DEFAULT_ORDER, clause) is None
    expected = nearby.serving_page(db, clause, params, nearby.SERVING_LIMIT)
    assert (result.serving_ids, result.serving_total) == expected
    assert result.serving_total > 0 and result.serving_ids


def _facet_rows(db) -> dict:
    return {
        r[0]: tuple(r[1:])
        for r in db.execute(
            "select f.rowid, r.codes, t.codes, l.codes, f.national from search_facet f "
            "join search_facet_set r on r.id = f.regions and r.kind = 'region' "
            "join search_facet_set t on t.id = f.types and t.kind = 'type' "
            "join search_facet_set l on l.id = f.languages and l.kind = 'language'"
        )
    }


def _doc_rows(db) -> dict:
    return {
        r[0]: tuple(r[1:])
        for r in db.execute(
            "select rowid, coalesce(facet_regions, ''), coalesce(facet_types, ''), "
            "coalesce(facet_languages, ''), scope = 'national' from search_doc"
        )
    }


def test_search_facet_follows_search_doc(writable_app):
    db = connect(writable_app.config["DATABASE"])
    try:
        assert _facet_rows(db) == _doc_rows(db) and len(_doc_rows(db)) > 150
        sid = db.execute(
            "select service_id from search_doc where facet_types like '%shelter%' limit 1"
        ).fetchone()[0]
        with db.atomic():
            db.execute("update service set victim_facing = 0 where id = ?", [sid])
            search_index.index_services(db, [sid])
        with db.atomic():
            db.execute("update search_doc set facet_languages = 'xx', scope = 'national' "
                       "where service_id = ?", [sid])  # fmt: skip
        assert _facet_rows(db) == _doc_rows(db)
        with db.atomic():
            db.execute("delete from search_doc where service_id = ?", [sid])
        assert _facet_rows(db) == _doc_rows(db)
        with db.atomic():
            search_index.rebuild(db)
        assert _facet_rows(db) == _doc_rows(db) and len(_doc_rows(db)) > 150
    finally:
        db.conn.close()
