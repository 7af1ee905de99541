"""Public pages through the test client: what hotline staff and caseworkers see."""

import re

import pytest


def service_id(db, name: str) -> str:
    return db.execute("select id from service where name = ?", [name]).fetchone()[0]


def test_home_shows_urgent_national_lines_above_search(client):
    html = client.get("/").get_data(as_text=True)
    for code in ("911", "163", "1383"):
        assert f'href="tel:{code}"' in html
    assert html.index('href="tel:911"') < html.index('role="search"')


@pytest.mark.parametrize("path", ["/", "/search", "/hotlines", "/areas", "/search?q=shelter"])
def test_every_page_has_quick_exit(client, path):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r"<a[^>]*data-quick-exit[^>]*>", html)
    assert match and 'href="https://' in match.group(0)
    assert "quick-exit.js" in html


def test_hotlines_for_a_region_lists_national_and_regional_lines_24_7_first(client):
    html = client.get("/hotlines?region=Region+XI").get_data(as_text=True)
    assert "Lines serving Region XI (Davao Region)" in html
    assert 'href="tel:911"' in html and 'href="tel:163"' in html
    assert "Davao City Kean Gabriel Hotline" in html  # a local line
    national = html[html.index('id="national"') :]
    first_cards = re.findall(r'<p class="status status-(\w+)">', national)
    assert first_cards[0] == "open" and "unknown" in first_cards
    assert first_cards.index("unknown") > max(
        i for i, s in enumerate(first_cards) if s == "open" and i < first_cards.index("unknown")
    )


def test_hotlines_show_sms_links_and_verification(client):
    html = client.get("/hotlines?region=NCR").get_data(as_text=True)
    assert 'href="sms:' in html
    assert "Unverified since" in html or "Verified by a person" in html


def test_region_with_only_national_lines_says_so(client):
    html = client.get("/hotlines?region=Region+IV-B").get_data(as_text=True)
    # MIMAROPA has regional services, but none with a phone listed in the shipped data
    assert "No line based in MIMAROPA Region is listed" in html
    assert 'href="tel:1383"' in html
    assert 'id="island_group"' in html and "PNP WCPC - Luzon desk" in html
    assert 'id="regional"' not in html


def test_hotlines_bad_region_is_400_beside_the_form(client):
    response = client.get("/hotlines?region=Atlantis")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "Atlantis" in html and "Traceback" not in html


def test_search_page_results_facets_and_pages(client):
    html = client.get("/search?type=shelter&per_page=5").get_data(as_text=True)
    assert html.count('class="card"') == 5
    assert "By region" in html and "By type" in html
    assert 'rel="next"' in html and "page=2" in html


def test_search_results_show_what_a_caseworker_needs(client, db):
    html = client.get("/search?q=Marillac").get_data(as_text=True)
    assert "Marillac Hills" in html
    assert "Department of Social Welfare" in html or "DSWD" in html
    assert "City of Muntinlupa" in html
    assert re.search(r"Unverified since \d{4}|source is undated", html)
    assert "status-" in html


@pytest.mark.parametrize(
    "query,parameter",
    [("age=abc", "age"), ("region=Narnia", "region"), ("page=-3", "page"), ("sort=x", "sort")],
)
def test_search_bad_input_is_400_with_message_beside_form(client, query, parameter):
    response = client.get(f"/search?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="error-{parameter}"' in html
    assert 'aria-invalid="true"' in html or parameter in ("page", "sort")


def test_service_page_has_everything_for_a_referral(client, db):
    sid = service_id(db, "Makabata Helpline 1383")
    html = client.get(f"/services/{sid}").get_data(as_text=True)
    assert "<h1>Makabata Helpline 1383</h1>" in html
    assert 'href="tel:1383"' in html and 'href="tel:+639158022375"' in html
    assert "Open 24 hours" in html
    assert "https://www.pna.gov.ph/articles/1212207" in html and "2023-10-20" in html
    assert "Who can use it" in html and "How to be referred" in html


def test_confidential_address_is_not_shown(client, db):
    sid = service_id(db, "Marillac Hills")
    html = client.get(f"/services/{sid}").get_data(as_text=True)
    assert "Northgate Avenue" not in html
    assert "City of Muntinlupa" in html
    assert "confidential" in html


def test_public_address_is_shown(client, db):
    sid = service_id(db, "ECPAT Philippines")
    html = client.get(f"/services/{sid}").get_data(as_text=True)
    assert "143 Anonas Extension" in html


def test_phone_needing_verification_is_marked(client, db):
    sid = service_id(db, "DOJ Office of Cybercrime")
    html = client.get(f"/services/{sid}").get_data(as_text=True)
    assert "(02) 524-82-16" in html
    assert "Needs verification" in html and "8-digit" in html
    assert 'href="tel:' not in html.split("(02) 524-82-16")[0].rsplit("<li>", 1)[-1]


def test_unknown_service_and_organization_are_404_pages(client):
    for path in ("/services/nope", "/organizations/nope", "/areas/9999999999"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Traceback" not in response.get_data(as_text=True)


def test_organization_lists_its_services(client, db):
    org = db.execute(
        "select id from organization where name = 'Department of Social Welfare and Development'"
    ).fetchone()[0]
    html = client.get(f"/organizations/{org}").get_data(as_text=True)
    assert "DSWD Field Office V" in html


def test_areas_browse_region_province_city_with_counts(client):
    html = client.get("/areas").get_data(as_text=True)
    assert "Region VII (Central Visayas)" in html
    region = client.get("/areas/0700000000").get_data(as_text=True)
    assert "/areas/0702200000" in region  # Cebu province
    province = client.get("/areas/0702200000").get_data(as_text=True)
    assert "City of Naga" in province
    counts = re.findall(r"<td>(\d+)</td>", region)
    assert counts and any(int(c) > 0 for c in counts)


def test_search_summary_in_filipino_and_cebuano(client):
    fil = client.get("/search?region=Region+VIII&lang=fil").get_data(as_text=True)
    assert re.search(r"\d+ serbisyo na naglilingkod sa Region VIII", fil)
    ceb = client.get("/search?region=Region+VIII&free=1&lang=ceb").get_data(as_text=True)
    summary = r"\d+ ka serbisyo nga nagserbisyo sa Region VIII \(Eastern Visayas\) libre"
    assert re.search(summary, ceb)
