"""End-to-end checks in a real browser: search, a listing, quick exit (with and without JS), errors.

The quick exit must leave with ``location.replace``: afterwards Back goes to whatever was before
the directory (here a stand-in neutral page), never to the directory page that was open.
"""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REGION_LABEL = "Eastern Visayas"


def _region_value(page, label_text):
    option = page.locator("#region option", has_text=label_text)
    expect(option).to_have_count(1)
    value = option.get_attribute("value")
    assert value, f"the region option for {label_text!r} has no value"
    return value


def _search_region(page):
    """From the home page, search one region with the form; returns the region code."""
    page.goto("/")
    code = _region_value(page, REGION_LABEL)
    page.select_option("#region", value=code)
    page.locator("form.search button[type=submit]").click()
    page.wait_for_url(re.compile(r"/search\?.*region=" + code))
    return code


def _open_directory_after_another_site(page, previous_site_url, path):
    """History: a neutral previous site, then the directory page; returns history.length."""
    page.goto(previous_site_url)
    before = page.evaluate("history.length")
    page.goto(path)
    expect(page.locator("a.quick-exit[data-quick-exit]")).to_be_visible()
    length = page.evaluate("history.length")
    assert length == before + 1
    return length


def _assert_left_without_trace(page, live_server, quick_exit_url, previous_site_url, length):
    page.wait_for_url(lambda url: url == quick_exit_url)
    assert not page.url.startswith(live_server)
    # location.replace: the directory page's entry was replaced, not pushed over.
    assert page.evaluate("history.length") == length
    page.go_back()
    page.wait_for_url(lambda url: url == previous_site_url)
    assert not page.url.startswith(live_server)


def test_search_by_region_lists_cards(page):
    code = _search_region(page)

    cards = page.locator("article.card[data-service-id]")
    expect(cards.first).to_be_visible()
    assert cards.count() > 0
    expect(page.locator("p.summary")).to_contain_text(REGION_LABEL)
    # The form keeps the chosen region.
    expect(page.locator("#region")).to_have_value(code)


def test_open_listing_from_results(page):
    _search_region(page)
    link = page.locator("article.card h3 a").first
    name = link.inner_text().strip()
    service_id = page.locator("article.card").first.get_attribute("data-service-id")
    link.click()
    page.wait_for_url(re.compile(r"/services/[^/?#]+$"))

    assert page.url.endswith(f"/services/{service_id}")
    expect(page.locator("h1")).to_have_text(name)
    phones = page.locator("article.service a[href^='tel:']")
    no_phone = page.get_by_text("No phone number listed")
    assert phones.count() > 0 or no_phone.count() == 1, "neither a tel: link nor the notice"
    expect(page.get_by_role("heading", name="Where these facts come from")).to_be_visible()
    expect(page.locator("article.service")).to_contain_text("Source:")


def test_quick_exit_click_replaces_history(page, live_server, quick_exit_url, previous_site_url):
    length = _open_directory_after_another_site(
        page, previous_site_url, "/search?region=0800000000"
    )
    page.locator("a.quick-exit").click()
    _assert_left_without_trace(page, live_server, quick_exit_url, previous_site_url, length)


def test_quick_exit_escape_twice(page, live_server, quick_exit_url, previous_site_url):
    length = _open_directory_after_another_site(page, previous_site_url, "/")
    page.keyboard.press("Escape")
    page.wait_for_timeout(150)
    assert page.url.startswith(live_server), "one Escape alone must not leave"
    page.keyboard.press("Escape")
    _assert_left_without_trace(page, live_server, quick_exit_url, previous_site_url, length)


def test_quick_exit_is_a_plain_link_without_javascript(page_without_js, quick_exit_url):
    page = page_without_js
    page.goto("/hotlines")
    link = page.locator("a.quick-exit[data-quick-exit]")
    assert link.get_attribute("href") == quick_exit_url
    link.click()
    page.wait_for_url(lambda url: url == quick_exit_url)
    expect(page.locator("body")).to_contain_text("Nothing to see here.")


def test_bad_parameter_shows_error_beside_form(page):
    response = page.goto("/search?age=abc")
    assert response is not None and response.status == 400

    error = page.locator("form.search + p.error#error-age")
    expect(error).to_be_visible()
    expect(error).to_contain_text("age")
    expect(page.locator("#age")).to_have_attribute("aria-invalid", "true")
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    assert 'File "' not in body
