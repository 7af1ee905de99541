"""/hotlines in pages: each group a page at a time, every line reachable, counts whole."""

import re

import pytest

from directory import search
from directory.models import hotlines


def _ids(html: str, group: str) -> list[str]:
    match = re.search(rf'<section class="line-group" id="{group}">(.*?)</section>', html, re.S)
    if match is None:
        return []
    return re.findall(r'<article[^>]*data-service-id="([^"]+)"', match.group(1))


def test_every_line_is_on_exactly_one_page_and_counts_stay_whole(client, db, monkeypatch):
    query = search.parse_query(db, {"region": "NCR"})
    every, counts = hotlines.lines_for(db, query)
    assert counts["national"] == len(every["national"]) > 6
    monkeypatch.setattr(hotlines, "PER_PAGE", 3)
    pages = hotlines.page_count(counts)
    assert pages == -(-max(counts.values()) // 3) > 2
    seen: dict[str, list[str]] = {key: [] for key, _ in hotlines.GROUPS}
    for page in range(1, pages + 1):
        html = client.get(f"/hotlines?region=NCR&page={page}").get_data(as_text=True)
        assert f"Page {page} of {pages}" in html
        assert ('rel="next"' in html) == (page < pages)
        assert ('rel="prev"' in html) == (page > 1)
        for key, _ in hotlines.GROUPS:
            ids = _ids(html, key)
            assert len(ids) <= 3
            seen[key] += ids
            if ids:
                assert f'id="{key}">\n    <h2>' in html
                heading = re.search(rf'id="{key}">\s*<h2>[^<]*\((\d+)\)</h2>', html)
                assert heading and int(heading.group(1)) == counts[key]
    for key, _ in hotlines.GROUPS:
        assert seen[key] == [s["id"] for s in every[key]]  # same lines, same order, no repeat


def test_a_later_page_still_counts_groups_that_ended_earlier(db, monkeypatch):
    monkeypatch.setattr(hotlines, "PER_PAGE", 2)
    query = search.parse_query(db, {"region": "NCR"})
    _, counts = hotlines.lines_for(db, query)
    query.page = hotlines.page_count(counts)
    groups, later = hotlines.lines_for(db, query)
    assert later == counts
    assert any(not groups[key] and counts[key] for key in counts)


@pytest.mark.parametrize(
    "args",
    [{"region": "NCR"}, {"region": "Region VIII"}, {"city": "Tacloban"}, {"type": "hotline"}],
)
def test_the_narrow_path_gives_the_general_paths_lines(db, monkeypatch, args):
    """FTS5 doing all the filtering, lines come from search_browse; the same as from SQL."""
    monkeypatch.setattr(hotlines, "PER_PAGE", 2)
    query = search.parse_query(db, args)
    clause, _, params = search.search_sql(query)
    assert search.all_in_fts(clause)
    pages = hotlines.page_count(hotlines._lines(db, clause, params, 0)[1])
    assert pages > 1
    for page in range(1, pages + 2):  # and one past the end: no lines, counts still whole
        skip = (page - 1) * 2
        narrow_lines, narrow_counts = hotlines._narrow_lines(db, params, skip)
        lines, counts = hotlines._lines(db, clause, params, skip)
        assert narrow_counts == counts and sum(counts.values()) > 2
        assert sorted(narrow_lines) == sorted(lines)
        by_scope = {scope: [sid for sid, s in narrow_lines if s == scope] for _, scope in lines}
        assert by_scope == {scope: [sid for sid, s in lines if s == scope] for _, scope in lines}
