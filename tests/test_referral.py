"""Referral lists, printable and discreet slips, QR codes and "Text this" (no client data kept)."""

import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory import qr, sms_text
from directory.views import referral

BANTAY_BATA_HQ = "6b3f5423-fe86-586a-8d7a-4d6d8762962a"  # confidential, street address in data/
ACTIONLINE = "04d36b0b-50c7-5113-9caa-d1c2ea1559c9"  # "... Against Human Trafficking", 24/7
CPTCSA = "2a516fc9-0b58-5804-b359-4b23c8a2addc"  # "... Child Sexual Abuse"
THREE = f"{BANTAY_BATA_HQ},{ACTIONLINE},{CPTCSA}"
HQ_STREET = "Mother Ignacia"

# Words a discreet slip must never show, in each interface language.
SENSITIVE = {
    "en": ["abuse", "exploitation", "trafficking", "violence", "sexual"],
    "fil": ["abuso", "pang-aabuso", "pagsasamantala", "pananamantala", "karahasan", "sekswal"],
    "ceb": ["abuso", "pag-abuso", "pagpahimulos", "karahasan", "kapintasan", "sekswal"],
}
ALL_SENSITIVE = sorted({w for words in SENSITIVE.values() for w in words} | {"trafficking"})


def text_of(html: str) -> str:
    """The visible words of a page (tags dropped, entities decoded, spaces collapsed)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def get_html(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


# --- the list in the URL -------------------------------------------------------------------


def test_parse_ids_accepts_commas_and_repeats_in_order_without_duplicates():
    assert referral.parse_ids(["b,a", "c", "a", " ,d "]) == ["b", "a", "c", "d"]


@pytest.mark.parametrize("bad", ["a b", "<script>", "x" * 81, "-leading-dash"])
def test_parse_ids_rejects_malformed_ids(app, bad):
    with app.test_request_context(), pytest.raises(referral.ReferralError):
        referral.parse_ids([bad])


def test_parse_ids_caps_the_list(app):
    ids = ",".join(f"id{n}" for n in range(referral.MAX_SERVICES + 1))
    with app.test_request_context(), pytest.raises(referral.ReferralError):
        referral.parse_ids([ids])


def test_list_page_shows_picked_services_in_order_with_remove_links(client):
    html = get_html(client, f"/referral?ids={THREE}")
    order = re.findall(r'<li data-service-id="([^"]+)"', html)
    assert order == THREE.split(",")
    removes = [unescape(h) for h in re.findall(r'class="remove" href="([^"]+)"', html)]
    assert len(removes) == 3
    kept = parse_qs(urlsplit(removes[0]).query)["ids"][0].split(",")
    assert kept == [ACTIONLINE, CPTCSA]
    assert 'href="/referral/slip?ids=' in html


def test_list_page_notes_unknown_ids_and_rejects_malformed_ones(client):
    html = get_html(client, f"/referral?ids={ACTIONLINE},no-such-service")
    assert re.findall(r'<li data-service-id="([^"]+)"', html) == [ACTIONLINE]
    assert "no longer listed" in html
    bad = get_html(client, "/referral?ids=%3Cscript%3E", status=400)
    assert "is not a service id" in bad and "<script>" not in bad


def test_list_page_search_offers_services_to_add(client):
    html = get_html(client, f"/referral?ids={ACTIONLINE}&q=shelter")
    adds = [unescape(h) for h in re.findall(r'<ul class="add-list">.*?</ul>', html, re.S)]
    assert adds, "no services offered to add"
    links = re.findall(r'href="(/referral\?[^"]+)"', adds[0])
    assert links
    ids = parse_qs(urlsplit(unescape(links[0])).query)["ids"][0].split(",")
    assert ids[0] == ACTIONLINE and len(ids) == 2


def test_search_results_can_be_ticked_into_a_referral_list(client):
    html = get_html(client, "/search?q=shelter")
    assert '<form id="referral-pick"' in html and 'action="/referral"' in html
    boxes = re.findall(
        r'<input type="checkbox" name="ids" value="([^"]+)" form="referral-pick">', html
    )
    cards = re.findall(r'<article class="card" data-service-id="([^"]+)"', html)
    assert boxes and boxes == cards


def test_referral_pages_set_no_cookie_and_store_nothing(client, db):
    before = {t: db[t].count for t in db.table_names()}
    for url in (f"/referral?ids={THREE}", f"/referral/slip?ids={THREE}&discreet=1"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    assert {t: db[t].count for t in db.table_names()} == before


# --- slips ---------------------------------------------------------------------------------


def test_slip_has_name_phones_hours_referral_date_and_a_qr_per_service(client):
    html = get_html(client, f"/referral/slip?ids={ACTIONLINE},{CPTCSA}")
    text = text_of(html)
    assert "1343 Actionline Against Human Trafficking" in text
    assert "1343" in text and "Open 24 hours, every day" in text
    assert "What to bring, how to be referred" in text
    assert re.search(r"Printed on [A-Z][a-z]+ \d{1,2}, \d{4}", text)
    assert len(re.findall(r'<div class="slip-qr"><svg role="img"', html)) == 2
    assert f"/services/{ACTIONLINE}" in text
    assert 'class="slip slip-a4"' in html


def test_slip_never_shows_a_confidential_address(client):
    html = get_html(client, f"/referral/slip?ids={BANTAY_BATA_HQ}")
    assert HQ_STREET not in html
    assert "Not public: call first" in html


def test_slip_shows_a_public_address(client, db):
    row = db.execute(
        "select sal.service_id, a.address_1 from service_at_location sal "
        "join location l on l.id = sal.location_id join address a on a.location_id = l.id "
        "where not l.confidential and a.address_1 != '' limit 1"
    ).fetchone()
    assert row, "the seed has no public address"
    html = get_html(client, f"/referral/slip?ids={row[0]}")
    assert unescape(html).count(row[1]) >= 1


@pytest.mark.parametrize("size", ["a4", "half-letter"])
def test_slip_sizes(client, size):
    html = get_html(client, f"/referral/slip?ids={ACTIONLINE}&size={size}")
    assert f'class="slip slip-{size}"' in html


@pytest.mark.parametrize(
    "query",
    [f"ids={ACTIONLINE}&size=letter", f"ids={ACTIONLINE}&discreet=yes", "ids=", "ids=nope"],
)
def test_slip_rejects_bad_parameters_with_400(client, query):
    get_html(client, f"/referral/slip?{query}", status=400)


@pytest.mark.parametrize("lang", ["en", "fil", "ceb"])
def test_discreet_slip_has_a_neutral_title_and_no_sensitive_words(client, lang):
    html = get_html(client, f"/referral/slip?ids={THREE}&discreet=1&lang={lang}")
    lowered = text_of(html).lower()
    found = [w for w in ALL_SENSITIVE if w in lowered]
    assert found == [], f"discreet slip ({lang}) shows {found}"
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    assert title == {"en": "Useful contacts", "fil": "Mga kapaki-pakinabang na numero",
                     "ceb": "Mapuslanon nga mga numero"}[lang]  # fmt: skip
    assert "<svg" not in html  # a QR code would lead straight to the listing
    # Still useful: the numbers are all there.
    assert "1343" in html and "163" in html


def test_full_slip_does_show_the_names_the_discreet_one_hides(client):
    """The word-list check can fail: the plain slip carries the revealing names."""
    lowered = text_of(get_html(client, f"/referral/slip?ids={THREE}")).lower()
    assert "trafficking" in lowered and "sexual" in lowered and "abuse" in lowered


def test_is_sensitive_matches_inside_words():
    assert referral.is_sensitive("Anti-Trafficking Council")
    assert referral.is_sensitive("Sentro laban sa pang-aabuso")
    assert not referral.is_sensitive("Bantay Bata 163")


# --- QR codes ------------------------------------------------------------------------------


def test_qr_svg_is_inline_labelled_and_without_style_or_script():
    svg = qr.qr_svg("http://127.0.0.1:5000/services/abc", "QR code: Abc")
    assert svg.startswith('<svg role="img" viewBox=') and "<title>QR code: Abc</title>" in svg
    assert "style" not in svg and "<script" not in svg and "http" not in svg.split("</title>")[1]
    assert svg != qr.qr_svg("http://127.0.0.1:5000/services/abd", "QR code: Abc")


# --- "Text this" ---------------------------------------------------------------------------


def test_gsm7_length_counts_extension_characters_twice_and_refuses_others():
    assert sms_text.gsm7_length("Niño 163") == 8
    assert sms_text.gsm7_length("[x]") == 5
    assert sms_text.gsm7_length("a–b") is None


def test_to_gsm7_transliterates():
    assert (
        sms_text.to_gsm7("Mon–Fri · “Kanlungan” Señor Ăn 🙂") == 'Mon-Fri - "Kanlungan" Señor An ?'
    )


def test_compose_keeps_numbers_whole_and_fits_one_sms():
    name = "Regional Inter-Agency Committee " * 6
    text = sms_text.compose(name, ["(02) 8931 8101", "0917 123 4567"], "Mon–Fri 08:00–17:00")
    assert sms_text.gsm7_length(text) <= 160
    assert "(02) 8931 8101" in text and "0917 123 4567" in text
    assert text.startswith("Regional Inter-Agency") and "..." in text


@given(
    name=st.text(max_size=300),
    numbers=st.lists(st.from_regex(r"\+?[0-9 ()-]{3,20}", fullmatch=True), max_size=4),
    hours=st.text(max_size=200),
)
def test_compose_is_always_one_gsm7_message(name, numbers, hours):
    text = sms_text.compose(name, numbers, hours)
    length = sms_text.gsm7_length(text)
    assert length is not None and length <= sms_text.SMS_LIMIT


def test_service_page_offers_text_this_with_sms_link_and_no_number_field(client):
    html = get_html(client, f"/services/{ACTIONLINE}")
    body = unescape(re.search(r'<textarea id="sms-body"[^>]*>(.*?)</textarea>', html, re.S)[1])
    assert body.startswith("1343 Actionline") and "1343" in body
    assert sms_text.gsm7_length(body) <= 160
    href = unescape(re.search(r'class="sms-link" href="([^"]+)"', html)[1])
    assert href.startswith("sms:?body=") and unquote(href.removeprefix("sms:?body=")) == body
    assert 'type="tel"' not in html and "<form" not in html.split('id="text-this-title"')[1]
    assert 'data-copy-target="sms-body"' in html and "referral.js" in html


def test_text_this_leaves_out_numbers_that_need_verification(client, app):
    with app.test_request_context():
        service = {
            "name": "X",
            "phones": [
                {"number": "163", "short_code": "163", "valid": 1},  # as stored
                {"number": "02 1343", "short_code": "1343", "valid": 0, "needs_verification": 1},
            ],
            "twenty_four_seven": 1,
        }
        assert referral.sms_for(service) == "X: 163 (Open 24 hours, every day)"


# --- light pages, no map -------------------------------------------------------------------


def test_map_is_off_by_default_and_pages_carry_no_map_code(app, client):
    assert app.config["TILE_SERVER_URL"] is None
    html = get_html(client, "/search?q=shelter").lower()
    assert not re.search(r"leaflet|openlayers|maplibre|tile\.|\{z\}/\{x\}", html)


def test_results_page_of_20_services_weighs_under_60_kb(client):
    html = get_html(client, "/search?per_page=20")
    assert html.count('<article class="card"') == 20
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    weight = len(html.encode())
    for href in sheets:
        with client.get(href) as response:
            weight += len(response.data)
    assert weight < 60 * 1024, f"{weight} bytes"
