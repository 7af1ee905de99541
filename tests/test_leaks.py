"""Confidential locations never leak: a crawl of every public page, API endpoint, format and export.

The fixture adds made-up listings to a private copy of the seeded database: confidential ones
with distinctive street text, an exact point far from their city's point and a made-up barangay,
and one public (not confidential) listing whose street must show: the proof that the crawl can
see a leak at all. Then it fetches every GET route of ``app.url_map`` (URL parameters filled
with the confidential records' ids and with guessed ids) with every search and format flag, the
POST API search with the same parameters in its body, error pages, and the export command; and
it asserts the secrets appear in none of them, nor in the search index, nor in the logs.
"""

import json
import logging
import re
import shutil
from dataclasses import dataclass
from urllib.parse import unquote_plus

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from directory import create_app, search_index
from directory.db import connect
from directory.ids import stable_uuid
from directory.models.services import save_service
from tests import crawl

# The made-up confidential shelter.
STREET = "FICTIONAL-LEAK-STREET-7731"
# Never typed into any request: may not appear anywhere, not even echoed.
HIDDEN = ("SECRETLANE-0042", "HIDDENPUROK-9921", "ATTNHIDDEN-3310", "LOCDESCHIDDEN-6604")
LAT, LON = 10.123456789, 123.987654321
CITY_CODE = "0731100000"  # City of Lapu-Lapu, about 21 km north of the point above
BARANGAY_CODE = "0731100999"
BARANGAY_NAME = "Qzlihimtago 8842"
SHELTER_NAME = "Kanlungan Zephyrine Safe Home"
SHELTER_ORG = "Zephyrine Testing Foundation"
# The second shelter sits directly in a city (no barangay) and serves its region.
SHELTER2_NAME = "Bahay Xylocarpa Refuge"
STREET2 = "FICTIONAL-LEAK-AVENUE-5190"
LAT2, LON2 = 14.987654321, 120.123456789
CITY2_CODE = "0305416000"  # City of San Fernando, Pampanga
# The public control listing: its street must appear (the crawl sees what it checks).
CONTROL_NAME = "Quillwort Open Drop-in Centre"
CONTROL_STREET = "PUBLIC-CONTROL-STREET-5511"

SHELTER_ID = "7e1f1c3a-0000-4000-8000-000000007731"
SHELTER2_ID = "7e1f1c3a-0000-4000-8000-000000005190"
CONTROL_ID = "7e1f1c3a-0000-4000-8000-000000005511"
ORG_ID = "7e1f1c3a-0000-4000-8000-0000000000aa"


def _coordinate_forms(value: float) -> set[str]:
    """The value written with 3 or more decimals, rounded or cut: finer than any city point."""
    whole, decimals = f"{value:.9f}".split(".")
    forms = {f"{value:.{p}f}" for p in range(3, 10)}
    forms |= {f"{whole}.{decimals[:p]}" for p in range(3, 10)}
    return forms


def _pattern(strings) -> re.Pattern:
    """Any of the strings, not inside a longer number."""
    alternatives = "|".join(re.escape(s) for s in sorted(strings, key=len, reverse=True))
    return re.compile(rf"(?<![\d.])(?:{alternatives})(?!\d)")


COORDINATES = _pattern(
    _coordinate_forms(LAT)
    | _coordinate_forms(LON)
    | _coordinate_forms(LAT2)
    | _coordinate_forms(LON2)
)


def _record(sid, name, street, area_code, *, confidential, extra_address=None, areas=()):
    address = {
        "id": stable_uuid(sid, "ad1"),
        "address_1": street,
        "city": "",
        "state_province": "",
        "region": None,
        "postal_code": "",
        "country": "PH",
        "address_type": "physical",
        "area_code": area_code,
        **(extra_address or {}),
    }
    return {
        "id": sid,
        "organization_id": ORG_ID,
        "organization": {"id": ORG_ID, "name": SHELTER_ORG, "description": ""},
        "name": name,
        "description": "A made-up listing used only by the leak tests.",
        "status": "active",
        "twenty_four_seven": 1,
        "victim_facing": 1,
        "free": 1,
        "minimum_age": 10,
        "maximum_age": 17,
        "source_url": "https://example.org/made-up",
        "source_date": "2026-01-01",
        "phones": [{"id": stable_uuid(sid, "ph1"), "number": "(032) 555 0199", "valid": 0}],
        "languages": [{"id": stable_uuid(sid, "la1"), "code": "ceb"}],
        "service_areas": [
            {"id": stable_uuid(sid, "sa", str(i)), "name": n, "area_code": c}
            for i, (n, c) in enumerate(areas)
        ],
        "taxonomy_terms": ["shelter"],
        "locations": [
            {
                "id": stable_uuid(sid, "lo1"),
                "name": name,
                "location_type": "physical",
                "description": "LOCDESCHIDDEN-6604 behind the chapel" if confidential else None,
                "latitude": None,
                "longitude": None,
                "confidential": 1 if confidential else 0,
                "area_code": area_code,
                "addresses": [address],
            }
        ],
    }


@dataclass
class Fixture:
    app: object
    path: str
    ids: dict


@pytest.fixture(scope="module")
def leaky(seeded_path, tmp_path_factory):
    """A private database with the made-up listings, and an app on it."""
    path = tmp_path_factory.mktemp("leaks") / "directory.sqlite"
    shutil.copy(seeded_path, path)
    db = connect(str(path))
    with db.conn:
        db["area"].insert(
            {"code": BARANGAY_CODE, "name": BARANGAY_NAME, "level": "barangay",
             "kind": "barangay", "parent_code": CITY_CODE, "region_code": "0700000000",
             "province_code": None, "country_code": "PH", "lat": 10.2, "lon": 123.9,
             "approximate": 0}
        )  # fmt: skip
        terms = {r["code"] for r in db.query("select code from taxonomy_term")}
        term = "shelter" if "shelter" in terms else sorted(terms)[0]
        shelter = _record(
            SHELTER_ID, SHELTER_NAME, f"{STREET} corner {HIDDEN[0]}", BARANGAY_CODE,
            confidential=True,
            extra_address={"address_2": f"Purok {HIDDEN[1]}", "attention": HIDDEN[2]},
        )  # fmt: skip
        shelter2 = _record(
            SHELTER2_ID, SHELTER2_NAME, STREET2, CITY2_CODE, confidential=True,
            areas=[("Central Luzon", "0300000000")],
        )  # fmt: skip
        control = _record(CONTROL_ID, CONTROL_NAME, CONTROL_STREET, CITY_CODE, confidential=False)
        for record in (shelter, shelter2, control):
            record["taxonomy_terms"] = [term]
            save_service(db, record, index=False)
        # The exact points, set on the rows as an editor's import would leave them.
        for sid, lat, lon in ((SHELTER_ID, LAT, LON), (SHELTER2_ID, LAT2, LON2),
                              (CONTROL_ID, 10.3, 123.95)):  # fmt: skip
            db.execute(
                "update location set latitude = ?, longitude = ? where id in "
                "(select location_id from service_at_location where service_id = ?)",
                [lat, lon, sid],
            )
        search_index.index_services(db, [SHELTER_ID, SHELTER2_ID, CONTROL_ID])
    ids = {
        "service": [SHELTER_ID, SHELTER2_ID, CONTROL_ID],
        "organization": [ORG_ID],
        "location": [stable_uuid(SHELTER_ID, "lo1"), stable_uuid(SHELTER2_ID, "lo1")],
        "sal": [
            r[0]
            for r in db.execute(
                "select id from service_at_location where service_id in (?, ?)",
                [SHELTER_ID, SHELTER2_ID],
            )
        ],  # fmt: skip
        "code": [BARANGAY_CODE, CITY_CODE, CITY2_CODE, "0700000000", "PH"],
        "taxonomy_term": [r[0] for r in db.execute("select id from taxonomy_term limit 2")],
        "taxonomy": [r[0] for r in db.execute("select id from taxonomy limit 1")]
        if "taxonomy" in db.table_names()
        else [],
    }
    ids["sal"] = ids["sal"] + ids["location"]
    ids["term"] = ids["taxonomy_term"]
    db.conn.close()
    app = create_app({"TESTING": True, "DATABASE": str(path)})
    return Fixture(app, str(path), ids)


QUERY_VARIANTS = {
    "plain": {},
    "q=name": {"q": SHELTER_NAME},
    "q=name2": {"q": SHELTER2_NAME},
    "search=name": {"search": SHELTER_NAME},
    "q=organization": {"q": SHELTER_ORG},
    "q=street": {"q": STREET},
    "q=street2": {"q": STREET2},
    "q=barangay": {"q": BARANGAY_NAME},
    "city=city": {"city": CITY_CODE},
    "city=barangay": {"city": BARANGAY_CODE},
    "near=point,sort=distance": {"near": f"{LAT},{LON}", "sort": "distance"},
    "near=point,radius=3": {"near": f"{LAT},{LON}", "radius_km": "3"},
    "near=point2,sort=distance": {"near": f"{LAT2},{LON2}", "sort": "distance", "radius_km": "100"},
    "near=city,sort=distance": {"near": "Lapu-Lapu", "sort": "distance"},
    "near=barangay": {"near": BARANGAY_NAME},
    "minimal": {"q": SHELTER_NAME, "minimal": "true"},
    "full": {"q": SHELTER_NAME, "full": "true", "full_service": "true"},
    "facets": {"type": "shelter", "region": "0700000000", "per_page": "100"},
    "organization_id": {"organization_id": ORG_ID},
    "service_id": {"service_id": SHELTER_ID},
    "ids": {"ids": f"{SHELTER_ID},{SHELTER2_ID}"},
    "ids-list": [("ids", SHELTER_ID), ("ids", SHELTER2_ID)],
    "slip-discreet": {"ids": SHELTER_ID, "discreet": "1"},
    "sort=name,page=2": {"sort": "name", "page": "2", "per_page": "5"},
    "lang=fil": {"q": SHELTER_NAME, "lang": "fil"},
    "bad-parameter": {"q": SHELTER_NAME, "page": "0"},
    "json": {"q": SHELTER_NAME, "format": "json"},
}
FORMAT_VARIANTS = ("minimal", "full", "lang=fil", "json", "ids", "slip-discreet")
# Secrets the user may type (echoed back legitimately): checked only when not in the request.
TYPED = {"street": STREET, "street2": STREET2}
# The barangay is gazetteer data: its own page (/areas/<code>) and searches for it may name it.
BARANGAY = {"barangay": BARANGAY_NAME, "barangay code": BARANGAY_CODE}


def _leaks(text: str, request_text: str) -> list[str]:
    """The street, hidden address parts and exact point found in a text shown for a request."""
    request_text = unquote_plus(request_text)
    found = [s for s in HIDDEN[:3] if s in text]
    found += [label for label, s in TYPED.items() if s in text and s not in request_text]
    if not COORDINATES.search(request_text):
        found += [f"coordinates {m}" for m in set(COORDINATES.findall(text))]
    return found


def _finer_than_city(text: str, request_text: str) -> list[str]:
    """Barangay-level detail and the location's own description found in a text."""
    request_text = unquote_plus(request_text)
    found = [HIDDEN[3]] if HIDDEN[3] in text else []
    if not any(s in request_text for s in BARANGAY.values()):
        found += [label for label, s in BARANGAY.items() if s in text]
    return found


def _is_download(response) -> bool:
    return "attachment" in response.headers.get("Content-Disposition", "") or (
        response.mimetype not in ("text/html", "application/json")
    )


def crawl_app(app, ids, client, list_variants) -> tuple[crawl.Crawl, list]:
    """Fetch every route with these flags: (crawl record, [(label, request, texts)])."""
    record = crawl.Crawl()
    bodies = []

    def fetch(label, url, method="GET", **kwargs):
        response = client.open(url, method=method, **kwargs)
        record.fetched.append((label, url, response.status_code))
        body = kwargs.get("json")
        bodies.append(
            (label, url + (f" {json.dumps(body)}" if body else ""), crawl.texts(response))
        )
        return response

    for rule in crawl.get_rules(app):
        # A list takes every search and format flag; one record's page, the format flags.
        variants = FORMAT_VARIANTS if rule.arguments else list_variants
        for url in crawl.fill(rule, ids):
            first = fetch("plain", url)
            record.routes.setdefault(rule.rule, set()).add("plain")
            if _is_download(first) or first.status_code in (301, 302, 303, 401, 403, 404):
                continue  # a file, a login wall or nothing: the flags change none of them
            if not rule.arguments:
                probe = fetch("q=name", crawl.with_args(url, QUERY_VARIANTS["q=name"]))
                record.routes[rule.rule].add("q=name")
                if probe.get_data() == first.get_data():
                    continue  # the page ignores its query string: other flags change nothing
            for label in variants:
                if label not in ("plain", "q=name"):
                    fetch(label, crawl.with_args(url, QUERY_VARIANTS[label]))
                    record.routes[rule.rule].add(label)
    for rule in crawl.post_rules(app):
        if rule.arguments or rule.rule != "/api/services/search":
            continue  # the other POSTs change data (and need a login and a CSRF token)
        for label in list_variants:
            if isinstance(QUERY_VARIANTS[label], dict):
                fetch(f"POST {label}", rule.rule, method="POST", json=QUERY_VARIANTS[label])
                record.routes.setdefault(f"POST {rule.rule}", set()).add(label)
    # Error pages: unknown paths, wrong methods, bad parameters naming the secret.
    for url in (f"/services/{STREET}", f"/{STREET}", "/api/nothing-here", f"/areas/{STREET}"):
        fetch("error", url)
    fetch("error", "/search", method="DELETE")
    return record, bodies


@pytest.fixture(scope="module")
def crawled(leaky):
    """Everything, as an anonymous visitor (module): (crawl record, [(label, request, texts)])."""
    return crawl_app(leaky.app, leaky.ids, leaky.app.test_client(), list(QUERY_VARIANTS))


def test_the_crawl_reaches_every_route(leaky, crawled):
    record, _ = crawled
    rules = {r.rule for r in crawl.get_rules(leaky.app)}
    assert rules <= set(record.routes), rules - set(record.routes)
    assert len(record.fetched) > 200
    statuses = {status for _, _, status in record.fetched}
    assert 500 not in statuses, [f for f in record.fetched if f[2] == 500][:5]


def test_the_crawl_sees_the_confidential_listing(crawled):
    """The shelters are served (by name and id): their secrets' absence means something."""
    _, bodies = crawled
    by_url = {url: "".join(texts) for _, url, texts in bodies}
    page = by_url[f"/services/{SHELTER_ID}"]
    assert SHELTER_NAME in page and "(032)" in page
    api = by_url[f"/api/services/{SHELTER_ID}"]
    assert SHELTER_NAME in api
    found = by_url[crawl.with_args("/search", {"q": SHELTER_NAME})]
    assert SHELTER_ID in found


def test_the_public_street_is_shown(crawled):
    """Control: a listing that is not confidential shows its street, so the checks can fail."""
    _, bodies = crawled
    control = [url for _, url, texts in bodies if CONTROL_STREET in "".join(texts)]
    assert any(url.startswith(f"/services/{CONTROL_ID}") for url in control) or any(
        url.startswith(f"/api/services/{CONTROL_ID}") for url in control
    ), "the public control street appears nowhere: the crawl is not seeing addresses"
    assert _leaks(f"x {HIDDEN[0]} {LAT}", "") and _leaks(f"{LON:.4f}", "/search")


def test_no_secret_in_any_response(crawled):
    _, bodies = crawled
    leaks = []
    for label, url, texts in bodies:
        for text in texts:
            if found := _leaks(text, url):
                leaks.append((label, url, found))
    assert not leaks, f"{len(leaks)} leaking responses, e.g. {leaks[:8]}"


def test_no_barangay_or_location_description_in_any_response(crawled):
    """A confidential location shows its city, not its barangay nor its own description."""
    _, bodies = crawled
    leaks = []
    for label, url, texts in bodies:
        for text in texts:
            if found := _finer_than_city(text, url):
                leaks.append((label, url, found))
    assert not leaks, f"{len(leaks)} leaking responses, e.g. {leaks[:8]}"


def _found_by(bodies, labels) -> list:
    """Responses of list routes, for these variants, that include a shelter but not the control
    (a public listing in the same city: what a city-level match would also find)."""
    found = []
    for label, url, texts in bodies:
        if "/" in url.split("?")[0].split(" ")[0].removeprefix("/api/").strip("/"):
            continue  # one record's page: it shows the record whatever the query says
        if label.removeprefix("POST ") in labels:
            text = "".join(texts)
            if SHELTER_ID in text and CONTROL_ID not in text:
                found.append((label, url))
            elif SHELTER2_ID in text:
                found.append((label, url))
    return found


def test_street_searches_do_not_find_the_shelter(crawled):
    """Searching by the hidden street must not single out the shelter."""
    found = _found_by(crawled[1], ("q=street", "q=street2"))
    assert not found, found


def test_barangay_searches_do_not_find_the_shelter(crawled):
    """Searching by its barangay (name or code) must not single out the shelter."""
    found = _found_by(crawled[1], ("q=barangay", "city=barangay"))
    assert not found, found


def test_near_the_exact_point_does_not_reveal_it(leaky):
    """With `near` at the shelter's true point, it is no nearer than its city's point."""
    client = leaky.app.test_client()
    body = client.get(f"/api/services?near={LAT},{LON}&radius_km=3").get_json()
    assert SHELTER_ID not in json.dumps(body)
    body = client.get(f"/api/services?near={LAT},{LON}&sort=distance&radius_km=100").get_json()
    distances = {s["id"]: s.get("distance_km") for s in body["contents"]}
    assert SHELTER_ID in distances, "the shelter's city is within 100 km: it should be listed"
    assert distances[SHELTER_ID] > 15, distances[SHELTER_ID]


def test_the_search_index_holds_no_street_text(leaky):
    db = connect(leaky.path)
    try:
        for row in db.execute("select * from search_fts"):
            text = " ".join(str(v) for v in row)
            assert STREET not in text and STREET2 not in text
            assert not any(h in text for h in HIDDEN)
        rows = db.execute(
            "select f.* from search_fts f join search_doc d on d.rowid = f.rowid "
            "where d.service_id in (?, ?)",
            [SHELTER_ID, SHELTER2_ID],
        ).fetchall()
        assert len(rows) == 2
        for row in rows:
            text = " ".join(str(v) for v in row)
            for word in ("FICTIONAL", "7731", "5190", "SECRETLANE", "HIDDENPUROK", "ATTNHIDDEN"):
                assert word not in text.upper(), f"{word} is in the search index"
        for row in db.execute(
            "select lat, lon, area_code from search_doc where service_id in (?, ?)",
            [SHELTER_ID, SHELTER2_ID],
        ):
            assert (row["lat"], row["lon"]) not in ((LAT, LON), (LAT2, LON2))
        near = db.execute(
            "select count(*) from search_point where min_lat between ? and ? "
            "and min_lon between ? and ?",
            [LAT - 0.01, LAT + 0.01, LON - 0.01, LON + 0.01],
        ).fetchone()[0]
        assert near == 0
    finally:
        db.conn.close()


def test_exports_without_confidential_hold_no_secret(leaky, tmp_path):
    """`directory export` in every format (as published: without --include-confidential)."""
    from directory.cli import main

    assert "export" in main.commands
    runner = CliRunner()
    outputs = []
    for fmt, name in (("hsds", "hsds.zip"), ("hsds", "hsds-folder"), ("json", "services.json"),
                      ("csv", "listings.csv")):  # fmt: skip
        target = tmp_path / name
        result = runner.invoke(
            main,
            ["export", "--format", fmt, str(target)],
            obj=ScriptInfo(create_app=lambda: leaky.app),
        )
        assert result.exit_code == 0, result.output
        files = (
            [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        )
        assert files
        for file in files:
            data = file.read_bytes()
            if data[:2] == b"PK":
                import io
                import zipfile

                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    outputs += [
                        (f"{name}/{m}", z.read(m).decode("utf-8", "replace")) for m in z.namelist()
                    ]
            else:
                outputs.append((str(file.name), data.decode("utf-8", "replace")))
        outputs.append((f"{name} output", result.output))
    assert any(SHELTER_NAME in text for _, text in outputs), "the shelter is not exported at all"
    leaks = [(name, _leaks(text, "")) for name, text in outputs if _leaks(text, "")]
    assert not leaks, leaks


def test_logs_hold_no_secret(leaky, caplog):
    """What the app logs while answering searches for the secrets holds none of them."""
    caplog.set_level(logging.DEBUG)
    client = leaky.app.test_client()
    for args in QUERY_VARIANTS.values():
        client.get(crawl.with_args("/search", args))
        client.get(crawl.with_args("/api/services", args))
    assert not _leaks(caplog.text, ""), caplog.text[:2000]


def test_the_search_index_holds_no_barangay(leaky):
    db = connect(leaky.path)
    try:
        rows = db.execute(
            "select f.areas, d.area_code from search_fts f join search_doc d on d.rowid = f.rowid "
            "where d.service_id = ?",
            [SHELTER_ID],
        ).fetchall()
        assert rows
        for areas, area_code in rows:
            assert BARANGAY_NAME.split()[0] not in areas and area_code != BARANGAY_CODE
        assert not db.execute(
            "select 1 from search_area a join search_doc d on d.rowid = a.doc "
            "where d.service_id = ? and a.code = ?",
            [SHELTER_ID, BARANGAY_CODE],
        ).fetchone()
    finally:
        db.conn.close()


# --------------------------------------------------------- signed in, but not entitled

PASSWORD = "correct horse battery staple"
SIGNED_IN_VARIANTS = ["plain", "q=name", "q=street", "near=point,sort=distance", "minimal", "full"]


def _sign_in(app, email: str, role: str, orgs: list[str]):
    """A client signed in through the form, and an API token, for a new account."""
    from directory import auth
    from directory.db import get_db
    from directory.models import users

    with app.app_context():
        db = get_db()
        with db.conn:
            user = users.create_user(
                db, email, role, password_hash=auth.hash_password(PASSWORD), org_ids=orgs
            )
            token = users.create_token(db, user.id)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf.group(1) if csrf else ""}
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client, token


@pytest.fixture(scope="module")
def signed_in(leaky, seeded_path):
    """An editor of another organisation, signed in: sees no more than the public."""
    db = connect(leaky.path)
    other = db.execute("select id from organization where id != ? limit 1", [ORG_ID]).fetchone()[0]
    db.conn.close()
    client, token = _sign_in(leaky.app, "other-editor@example.org", "editor", [other])
    return client, token


def test_a_signed_in_editor_of_another_organisation_sees_no_secret(leaky, signed_in):
    client, token = signed_in
    record, bodies = crawl_app(leaky.app, leaky.ids, client, SIGNED_IN_VARIANTS)
    assert any(p.startswith("/manage") and s == 200 for _, p, s in record.fetched)
    token_client = leaky.app.test_client()
    for sid in (SHELTER_ID, SHELTER2_ID):
        for url in (f"/api/services/{sid}", f"/api/manage/services/{sid}"):
            response = token_client.get(url, headers={"Authorization": f"Bearer {token}"})
            bodies.append(("token", url, crawl.texts(response)))
    leaks = [(label, url, found) for label, url, texts in bodies for text in texts
             if (found := _leaks(text, url))]  # fmt: skip
    assert not leaks, f"{len(leaks)} leaking responses, e.g. {leaks[:8]}"


def test_an_entitled_partner_sees_the_street(leaky):
    """Control: a vetted partner may reveal the address, so the signed-in crawl can see it."""
    client, token = _sign_in(leaky.app, "partner@example.org", "partner", [])
    response = leaky.app.test_client().get(
        f"/api/services/{SHELTER_ID}?reveal_reason=case+referral",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert STREET in response.get_data(as_text=True)
