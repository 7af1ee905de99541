"""Referral work in Debian's chromium: search by region in each language, tick services into a
referral list, print the slip to PDF (A4 and half-letter), the discreet wording as printed, and
"Text this" (one SMS, sms: link, copy button only with JavaScript)."""

import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from directory.sms_text import gsm7_length

pytestmark = pytest.mark.browser

REGION = "Eastern Visayas"
ACTIONLINE = "04d36b0b-50c7-5113-9caa-d1c2ea1559c9"
BANTAY_BATA_HQ = "6b3f5423-fe86-586a-8d7a-4d6d8762962a"
CPTCSA = "2a516fc9-0b58-5804-b359-4b23c8a2addc"
FIND_A_SERVICE = {
    "en": "Find a service",
    "fil": "Maghanap ng serbisyo",
    "ceb": "Pangita og serbisyo",
}
SENSITIVE = ["abuse", "abuso", "exploitation", "pagsasamantala", "pananamantala", "pagpahimulos",
             "trafficking", "violence", "karahasan", "kapintasan", "sexual", "sekswal"]  # fmt: skip
# PDF page sizes in points (1/72 in): A4 210 x 297 mm; half-letter 5.5 x 8.5 in.
PAGE_POINTS = {"a4": (595.3, 841.9), "half-letter": (396.0, 612.0)}


def _pdf_page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def test_search_by_region_in_each_language(page):
    for lang in ("en", "fil", "ceb"):
        page.goto(f"/?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        code = page.locator("#region option", has_text=REGION).get_attribute("value")
        page.select_option("#region", value=code)
        page.locator("form.search button[type=submit]").first.click()
        page.wait_for_url(re.compile(rf"/search\?.*region={code}"))
        # The chosen language stays with the search (hidden field), and results are listed.
        assert f"lang={lang}" in page.url
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("main h1")).to_have_text(FIND_A_SERVICE[lang])
        assert page.locator("article.card").count() > 0


def test_tick_results_into_a_list_and_print_the_slip(page):
    page.goto("/search?q=shelter")
    cards = page.locator("article.card")
    picked = [cards.nth(i).get_attribute("data-service-id") for i in range(2)]
    for i in range(2):
        cards.nth(i).get_by_label("Add to referral list").check()
    page.get_by_role("button", name="Make a referral list from the ticked services").click()
    page.wait_for_url(re.compile(r"/referral\?"))
    listed = page.locator("ol.referral-list > li")
    assert [listed.nth(i).get_attribute("data-service-id") for i in range(2)] == picked

    for size, link in (("a4", "Slip for A4 paper"), ("half-letter", "Slip for half-letter paper")):
        page.get_by_role("link", name=link).click()
        page.wait_for_url(re.compile(rf"/referral/slip\?.*size={size}"))
        expect(page.locator("article.slip section.slip-entry")).to_have_count(2)
        expect(page.locator(".slip-qr svg")).to_have_count(2)
        expect(page.locator("p.printed")).to_contain_text("Printed on")
        # Print preview: the site's header and tools are hidden, the slip is shown.
        page.emulate_media(media="print")
        expect(page.locator("header.site")).to_be_hidden()
        expect(page.locator(".slip-tools")).to_be_hidden()
        expect(page.locator("article.slip h1")).to_be_visible()
        pdf = page.pdf(prefer_css_page_size=True, print_background=False)
        page.emulate_media(media="null")
        sizes = _pdf_page_sizes(pdf)
        assert sizes, "no pages in the PDF"
        want = PAGE_POINTS[size]
        assert all(abs(w - want[0]) < 2 and abs(h - want[1]) < 2 for w, h in sizes), sizes
        page.go_back()


def test_discreet_slip_wording_as_printed(page):
    page.emulate_media(media="print")
    for lang in ("en", "fil", "ceb"):
        page.goto(
            f"/referral/slip?ids={ACTIONLINE},{CPTCSA},{BANTAY_BATA_HQ}&discreet=1&lang={lang}"
        )
        printed = page.locator("body").inner_text().lower()
        title = page.title().lower()
        assert [w for w in SENSITIVE if w in printed or w in title] == [], lang
        assert "1343" in printed  # the numbers are still there
        expect(page.locator("svg")).to_have_count(0)


def test_text_this_is_one_sms_with_an_sms_link_and_a_copy_button(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/services/{ACTIONLINE}")
    body = page.locator("#sms-body").input_value()
    assert body.startswith("1343 Actionline") and gsm7_length(body) <= 160
    href = page.locator("a.sms-link").get_attribute("href")
    assert href.startswith("sms:?body=") and unquote(href[len("sms:?body=") :]) == body
    button = page.get_by_role("button", name="Copy the text")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator(".copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == body


def test_text_this_works_without_javascript(page_without_js):
    page = page_without_js
    page.goto(f"/services/{ACTIONLINE}")
    expect(page.locator("#sms-body")).to_be_visible()
    expect(page.locator("a.sms-link")).to_be_visible()
    expect(page.locator("button.copy")).to_be_hidden()  # nothing that cannot work
