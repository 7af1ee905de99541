"""Accessibility in Debian's chromium: axe-core on every page type, keyboard-only search with a
visible focus, a 360 px layout without sideways scrolling, and the weight of a results page.

axe-core comes from the npm registry (tests/browser/package.json, installed by
tests/ensure_axe.sh) and is injected from disk: no CDN. The pages send a strict CSP that forbids
inline scripts, so the axe contexts bypass CSP; everything else runs under the real policy.
"""

import re
from pathlib import Path

import pytest

from .conftest import _new_context

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
ACTIONLINE = "04d36b0b-50c7-5113-9caa-d1c2ea1559c9"
BANTAY_BATA_HQ = "6b3f5423-fe86-586a-8d7a-4d6d8762962a"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    # Landmarks and headings (best-practice rules), on top of every WCAG 2.1 A/AA rule.
    "rules": {
        rule: {"enabled": True}
        for rule in (
            "region",
            "landmark-one-main",
            "landmark-unique",
            "page-has-heading-one",
            "heading-order",
            "landmark-no-duplicate-banner",
        )
    },
    "resultTypes": ["violations"],
}

PAGES = {
    "home": "/",
    "search results": "/search?q=shelter",
    "search with a 400 error": "/search?age=abc",
    "service": f"/services/{ACTIONLINE}",
    "organisation": None,  # found from the service page
    "hotlines": "/hotlines?region=0800000000",
    "areas": "/areas",
    "referral list": f"/referral?ids={ACTIONLINE},{BANTAY_BATA_HQ}&q=shelter",
    "referral slip": f"/referral/slip?ids={ACTIONLINE},{BANTAY_BATA_HQ}",
    "privacy": "/privacy",
    "not found": "/no-such-page",
}


@pytest.fixture(scope="module")
def axe_context(browser, live_server, quick_exit_url):
    """One context for the axe runs, with CSP bypassed so that axe can be injected."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run tests/ensure_axe.sh (`make test` does)", pytrace=False)
    context, outside = _new_context(browser, live_server, quick_exit_url, bypass_csp=True)
    yield context
    context.close()
    assert outside.blocked == [], f"pages requested outside addresses: {outside.blocked}"


def _organisation_path(page) -> str:
    page.goto(f"/services/{ACTIONLINE}")
    return page.locator("p.org a").first.get_attribute("href")


def run_axe(page) -> list[dict]:
    """axe-core's violations on the loaded page that are serious or critical."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def axe_page(axe_context):
    """One tab reused for every page type."""
    page = axe_context.new_page()
    yield page
    page.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violation(axe_page, name):
    page = axe_page
    path = PAGES[name] or _organisation_path(page)
    response = page.goto(path)
    expected = 400 if "400" in name else 404 if name == "not found" else 200
    assert response.status == expected
    assert run_axe(page) == []


def test_axe_run_does_report_a_broken_page(axe_page):
    """The check can fail: a form field without a label and low-contrast text are caught."""
    page = axe_page
    page.goto("/")
    page.evaluate(
        """() => {
            document.querySelector('label[for=q]').remove();
            document.querySelector('main h1').style.color = '#ddd';
        }"""
    )
    found = {v["id"] for v in run_axe(page)}
    assert {"label", "color-contrast"} <= found


def _focus_ring(page) -> dict:
    return page.evaluate(
        """() => {
            const s = getComputedStyle(document.activeElement);
            return {id: document.activeElement.id, style: s.outlineStyle,
                    width: parseFloat(s.outlineWidth), shadow: s.boxShadow};
        }"""
    )


def test_keyboard_only_search_with_visible_focus(page):
    page.goto("/")
    for _ in range(120):
        page.keyboard.press("Tab")
        ring = _focus_ring(page)
        if ring["id"] != "q":
            # Everything reached on the way shows where the focus is.
            assert ring["style"] != "none" and ring["width"] >= 2, ring
            continue
        break
    else:
        pytest.fail("Tab never reached the search field")
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    page.keyboard.type("shelter")
    page.keyboard.press("Tab")
    ring = _focus_ring(page)
    assert ring["id"] == "region" and ring["style"] != "none" and ring["width"] >= 2, ring
    page.keyboard.press("Shift+Tab")
    assert _focus_ring(page)["id"] == "q"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?.*q=shelter"))
    assert page.locator("article.card").count() > 0


NARROW_PAGES = [
    "/",
    "/search?q=shelter",
    f"/services/{ACTIONLINE}",
    "/hotlines?region=0800000000",
    f"/referral?ids={ACTIONLINE}",
    f"/referral/slip?ids={ACTIONLINE},{BANTAY_BATA_HQ}",
    "/search?q=shelter&lang=ceb",
]


def test_360px_wide_screen_needs_no_sideways_scrolling(browser, live_server, quick_exit_url):
    context, _ = _new_context(
        browser, live_server, quick_exit_url, viewport={"width": 360, "height": 740}
    )
    try:
        page = context.new_page()
        widths = {}
        for path in NARROW_PAGES:
            page.goto(path)
            widths[path] = page.evaluate("document.scrollingElement.scrollWidth")
        assert {p: w for p, w in widths.items() if w > 360} == {}
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ceb"])
def test_results_page_for_20_services_weighs_under_60_kb(page, lang):
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"/search?per_page=20&lang={lang}")
    page.wait_for_load_state("networkidle")
    assert page.locator("article.card").count() == 20
    sizes = {
        r.url: len(r.body())
        for r in responses
        if r.request.resource_type in ("document", "stylesheet")
    }
    assert any("style.css" in url for url in sizes), sizes
    total = sum(sizes.values())
    assert total < 60 * 1024, f"{total} bytes: {sizes}"


def test_no_map_code_or_tile_requests_by_default(page):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/search?q=shelter")
    page.goto(f"/services/{ACTIONLINE}")
    assert not [u for u in requests if re.search(r"tile|leaflet|maplibre|openlayers", u, re.I)]
    assert page.evaluate("typeof L === 'undefined' && typeof maplibregl === 'undefined'")
