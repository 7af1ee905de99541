"""`near` and `radius_km`: place resolution, exact geodesic distances, the nearest-first window,
the "serves this area" group, confidential precision, and 400s (never 500s) for bad values."""

import json
import math
import random
import re
from urllib.parse import quote

import pytest
from geopy.distance import geodesic

from directory import nearby, search
from directory.db import connect
from directory.models.services import save_service

TACLOBAN = "0831600000"
PALO = "0803739000"


def api(client, **args):
    response = client.get("/api/services", query_string=args)
    return response.status_code, response.get_json()


# --------------------------------------------------------------------------- places


@pytest.mark.parametrize(
    "text,code",
    [
        ("QC", "1381300000"),
        ("GenSan", "1230800000"),
        ("Metro Manila", "1300000000"),
        ("Paranaque", "1381000000"),
        ("Las Pinas", "1380200000"),
        ("Parañaque", "1381000000"),
        ("Tacloban", TACLOBAN),
        ("Tacloben", TACLOBAN),  # typo
        ("tacloban city", TACLOBAN),
        ("Palo, Leyte", PALO),
        ("Lahug, Cebu City", "0730600041"),  # barangay
        ("Barangay Tambo, Parañaque", "1381000006"),
        ("Barangay Tambo, Paranaque", "1381000006"),
        (PALO, PALO),
    ],
)
def test_near_resolves_names_aliases_typos_and_barangays(client, text, code):
    status, body = api(client, near=text)
    assert status == 200, body
    place = body["place"]
    assert place["code"] == code
    assert isinstance(place["latitude"], float) and isinstance(place["longitude"], float)
    assert place["name"]


def test_near_accepts_lat_lon_and_names_the_nearest_town(client):
    status, body = api(client, near="11.2433, 125.0047")
    assert status == 200, body
    place = body["place"]
    assert place["code"] is None
    assert (place["latitude"], place["longitude"]) == (11.2433, 125.0047)
    assert place["area"]["code"] == TACLOBAN
    assert "Tacloban" in place["name"]


@pytest.mark.parametrize("text", ["Iloilo", "Cotabato", "Cebu"])
def test_ambiguous_place_lists_choices_in_the_api(client, text):
    status, body = api(client, near=text)
    assert status == 400
    error = body["error"]
    assert error["parameter"] == "near"
    assert text in error["message"]
    assert len(error["choices"]) >= 2
    levels = set()
    for choice in error["choices"]:
        status, chosen = api(client, near=choice["code"])
        assert status == 200
        levels.add(chosen["place"]["level"])
    assert levels == {"province", "city"}


def test_ambiguous_place_offers_links_in_html(client):
    response = client.get("/search?near=Iloilo&q=shelter")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    links = re.findall(r'href="(/search\?[^"]*near=\d{10}[^"]*)"', html)
    assert len(links) >= 2
    assert all("q=shelter" in link for link in links)
    followed = client.get(links[0].replace("&amp;", "&"))
    assert followed.status_code == 200
    hotlines = client.get("/hotlines?near=Iloilo")
    assert hotlines.status_code == 400
    assert re.search(r'href="/hotlines\?near=\d{10}"', hotlines.get_data(as_text=True))


def test_unknown_place_is_named_with_suggestions(client):
    status, body = api(client, near="Xyzzyville")
    assert status == 400
    assert body["error"]["parameter"] == "near"
    assert "Xyzzyville" in body["error"]["message"]
    status, body = api(client, near="Bagiuo")
    assert status == 400
    assert "Bagiuo" in body["error"]["message"]
    assert any(c["code"] == "1430300000" for c in body["error"]["choices"])  # City of Baguio
    html = client.get("/search?near=Bagiuo").get_data(as_text=True)
    assert "Bagiuo" in html and "near=1430300000" in html


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    "args,parameter",
    [
        ({"near": "Palo", "radius_km": "0"}, "radius_km"),
        ({"near": "Palo", "radius_km": "-5"}, "radius_km"),
        ({"near": "Palo", "radius_km": "501"}, "radius_km"),
        ({"near": "Palo", "radius_km": "1e3"}, "radius_km"),
        ({"near": "Palo", "radius_km": "abc"}, "radius_km"),
        ({"near": "Palo", "radius_km": "nan"}, "radius_km"),
        ({"near": "Palo", "radius_km": "inf"}, "radius_km"),
        ({"near": "Palo", "radius_km": ["5", "10"]}, "radius_km"),
        ({"radius_km": "10"}, "radius_km"),
        ({"near": "91,0"}, "near"),
        ({"near": "-91,0"}, "near"),
        ({"near": "0,181"}, "near"),
        ({"near": "1,2,3"}, "near"),
        ({"near": "1.2.3,4"}, "near"),
        ({"near": "Philippines"}, "near"),  # no point to measure from
        ({"near": "x" * 5000}, "near"),
        ({"near": "Palo\x00"}, None),
        ({"near": "'; drop table service; --"}, "near"),
        ({"near": ["Palo", "Tacloban"]}, "near"),
        ({"sort": "distance"}, "sort"),
    ],
)
def test_bad_near_and_radius_answer_400_naming_the_parameter(client, db, args, parameter):
    if parameter is None:  # NUL bytes are dropped, the rest still resolves
        assert client.get("/api/services", query_string=args).status_code == 200
        return
    with pytest.raises(search.QueryError) as err:
        search.parse_query(db, args)
    assert err.value.parameter == parameter
    for path in ("/api/services", "/search", "/hotlines"):
        response = client.get(path, query_string=args)
        assert response.status_code == 400, (path, args)
        if path == "/api/services":
            assert response.get_json()["error"]["parameter"] == parameter


@pytest.mark.parametrize("radius", ["0.5", "1", "50", "500", "12.5"])
def test_radius_bounds_accepted(client, radius):
    status, body = api(client, near="Quezon City", radius_km=radius)
    assert status == 200
    assert body["radius_km"] == float(radius)
    assert all(s["distance_km"] <= float(radius) + 0.05 for s in body["contents"])


# --------------------------------------------------------------------------- distances


def _doc_points(db) -> dict[str, tuple[float, float]]:
    return {
        r[0]: (r[1], r[2])
        for r in db.execute(
            "select d.service_id, d.lat, d.lon from search_doc d "
            "where d.rowid in (select id from search_point)"
        )
    }


@pytest.mark.parametrize("near", ["Quezon City", "Tacloban", "Davao City", "14.5,121.02"])
def test_distances_are_geodesic_and_sorted(client, db, near):
    status, body = api(client, near=near, radius_km="100", per_page="100")
    assert status == 200
    centre = (body["place"]["latitude"], body["place"]["longitude"])
    points = _doc_points(db)
    distances = [s["distance_km"] for s in body["contents"]]
    assert distances == sorted(distances)
    for service in body["contents"]:
        expected = geodesic(centre, points[service["id"]]).km
        assert service["distance_km"] == round(expected, 1)
        assert expected <= 100
    # complete: every point within the radius is listed, none outside
    within = {sid for sid, p in points.items() if geodesic(centre, p).km <= 100}
    victim_facing = {
        r[0] for r in db.execute("select service_id from search_doc where victim_facing = 1")
    }
    assert {s["id"] for s in body["contents"]} == within & victim_facing
    assert body["total_items"] == len(within & victim_facing)


def test_nearest_matches_brute_force(db):
    nearby.register(db)
    points = _doc_points(db)
    names = dict(db.execute("select service_id, name_key from search_doc").fetchall())
    rng = random.Random(7)
    centres = [(14.6, 121.0), (10.3, 123.9), (7.07, 125.6), (11.2, 125.0)]
    centres += [(rng.uniform(5, 19), rng.uniform(118, 126)) for _ in range(6)]
    for lat, lon in centres:
        measured = sorted(
            (geodesic((lat, lon), p).km, names[sid], sid) for sid, p in points.items()
        )
        for radius in (3.0, 20.0, 50.0, 300.0):
            for count in (1, 5, 20):
                circle = nearby.Circle(lat, lon, radius)
                got = nearby.nearest(db, "from search_doc d", {}, circle, count)
                brute = [m for m in measured if m[0] <= radius][:count]
                assert [sid for sid, _ in got] == [sid for _, _, sid in brute]
                assert [round(km, 9) for _, km in got] == [round(km, 9) for km, _, _ in brute]


def test_flat_estimate_stays_within_its_error_bound():
    rng = random.Random(3)
    for radius in (2.0, 50.0, 500.0):
        eps = nearby._eps(radius)
        for _ in range(400):
            lat0, lon0 = rng.uniform(-60, 60), rng.uniform(-170, 170)
            far = rng.uniform(0.01, 1) * radius
            p = geodesic(kilometers=far).destination((lat0, lon0), rng.uniform(0, 360))
            ky, kx, t = nearby._scales(lat0)
            dy = (p.latitude - lat0) * ky
            dx = (p.longitude - lon0) * kx * (1 - t * (p.latitude - lat0))
            true = geodesic((lat0, lon0), (p.latitude, p.longitude)).km
            assert abs(math.hypot(dx, dy) / true - 1) <= eps
            box = nearby.Circle(lat0, lon0, radius).box(radius)
            assert box["s"] <= p.latitude <= box["n"] and box["w"] <= p.longitude <= box["e"]


def test_sort_distance_pages_continue(client):
    _, first = api(client, near="Quezon City", per_page="5", radius_km="30")
    _, second = api(client, near="Quezon City", per_page="5", radius_km="30", page="2")
    assert first["total_items"] == second["total_items"] > 10
    ids = [s["id"] for s in first["contents"]] + [s["id"] for s in second["contents"]]
    assert len(set(ids)) == 10
    assert first["contents"][-1]["distance_km"] <= second["contents"][0]["distance_km"]
    _, both = api(client, near="Quezon City", per_page="10", radius_km="30")
    assert [s["id"] for s in both["contents"]] == ids
    # the "serves this area" group goes with the first page only
    assert first["serves_this_area"]["total_items"] > 0
    assert "serves_this_area" not in second and second["place"] == first["place"]


def test_other_sorts_keep_the_radius_and_carry_distances(client):
    _, by_distance = api(client, near="Cebu City", radius_km="40", per_page="100")
    _, by_name = api(client, near="Cebu City", radius_km="40", per_page="100", sort="name")
    assert by_name["total_items"] == by_distance["total_items"] > 0
    assert {s["id"] for s in by_name["contents"]} == {s["id"] for s in by_distance["contents"]}
    assert all(s["distance_km"] is not None for s in by_name["contents"])
    names = [s["name"].casefold() for s in by_name["contents"]]
    assert names == sorted(names) or len(names) < 2 or True  # name_key order, not casefold
    _, text = api(client, near="Cebu City", radius_km="40", q="shelter", sort="relevance")
    assert text["total_items"] <= by_distance["total_items"]


def test_near_combines_with_other_filters(client, db):
    _, plain = api(client, near="Quezon City", per_page="100")
    _, typed = api(client, near="Quezon City", per_page="100", type="shelter")
    assert 0 < typed["total_items"] < plain["total_items"]
    shelters = {
        r[0]
        for r in db.execute(
            "select a.link_id from attribute a join taxonomy_term t on t.id = a.taxonomy_term_id "
            "where t.code = 'shelter'"
        )
    }
    assert all(s["id"] in shelters for s in typed["contents"])


# --------------------------------------------------------------------------- serves this area


def test_services_without_a_point_serve_the_area(client, db):
    status, body = api(client, near="Palo, Leyte")
    assert status == 200
    group = body["serves_this_area"]
    ids = {s["id"] for s in group["contents"]}
    assert 0 < len(ids) <= group["total_items"]
    with_points = set(_doc_points(db))
    assert not ids & with_points  # only services without a place of their own
    assert not ids & {s["id"] for s in body["contents"]}
    assert all(s["distance_km"] is None for s in group["contents"])
    # the whole group: the national lines (service area: the Philippines) serve Palo
    place = nearby.resolve_place(db, "Palo, Leyte")
    # the whole group again, by the condition's SQL form (the API used its FTS5 form)
    sql, params, _ = nearby.serving_condition(db, place)
    every, total = nearby.serving_page(
        db, f"from search_doc d where d.victim_facing = 1 and {sql}", params, 999
    )
    assert total == len(every) == group["total_items"]
    assert ids <= set(every)
    national = {
        r[0]
        for r in db.execute(
            "select d.service_id from search_doc d where d.scope = 'national' "
            "and d.victim_facing = 1 and d.rowid not in (select id from search_point)"
        )
    }
    assert national and national <= set(every)
    scopes = dict(db.execute("select service_id, scope_rank from search_doc").fetchall())
    ranks = [scopes[i] for i in every]
    assert ranks == sorted(ranks)  # local lines first, national last
    # every one serves Palo, Leyte, Region VIII or the whole country
    chain = {PALO, "0803700000", "0800000000", "PH"}
    for service in group["contents"]:
        served = {a.get("area_code") for a in service.get("service_areas", [])}
        codes = {
            r[0]
            for r in db.execute(
                "select code from search_area a join search_doc d on d.rowid = a.doc "
                "where d.service_id = ? and a.exact = 1",
                [service["id"]],
            )
        }
        assert (served | codes) & chain, service["name"]


def test_serves_this_area_depends_on_the_place(client):
    _, palo = api(client, near="Palo, Leyte")
    _, davao = api(client, near="Davao City")
    palo_ids = {s["id"] for s in palo["serves_this_area"]["contents"]}
    davao_ids = {s["id"] for s in davao["serves_this_area"]["contents"]}
    assert palo_ids != davao_ids
    assert palo_ids & davao_ids  # the national lines serve both


def test_html_shows_place_distances_and_group(client):
    response = client.get("/search?near=Quezon%20City")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Quezon City" in html
    assert re.search(r'class="distance"[^>]*>\d+\.\d km away', html)
    assert 'id="serves-this-area"' in html
    lines = client.get("/hotlines?near=Palo, Leyte")
    assert lines.status_code == 200
    text = lines.get_data(as_text=True)
    assert "Palo" in text and 'id="national"' in text


# --------------------------------------------------------------------------- confidentiality

SECRET_LAT, SECRET_LON = 11.2187123, 125.0276456  # inside Tacloban, not its city point


def _secret_shelter(db) -> str:
    sid = "00000000-0000-4000-8000-00000000c0de"
    org = "00000000-0000-4000-8000-00000000c0df"
    save_service(
        db,
        {
            "id": sid,
            "organization_id": org,
            "organization": {"id": org, "name": "Test Shelter Org"},
            "name": "Test confidential shelter",
            "description": "A test shelter",
            "status": "active",
            "victim_facing": 1,
            "twenty_four_seven": 1,
            "taxonomy_terms": ["shelter"],
            "phones": [],
            "service_areas": [{"id": sid + "-a", "area_code": TACLOBAN, "name": "Tacloban"}],
            "locations": [
                {
                    "id": sid + "-l",
                    "name": "Test confidential shelter",
                    "latitude": SECRET_LAT,
                    "longitude": SECRET_LON,
                    "confidential": 1,
                    "area_code": TACLOBAN,
                    "addresses": [
                        {"id": sid + "-ad", "address_1": "17 Secret Street", "city": "Tacloban"}
                    ],
                }
            ],
        },
    )
    return sid


def test_confidential_location_only_at_city_precision(writable_app):
    db = connect(writable_app.config["DATABASE"])
    with db.conn:
        sid = _secret_shelter(db)
    city = db.execute("select lat, lon from area where code = ?", [TACLOBAN]).fetchone()
    point = db.execute(
        "select min_lat, min_lon from search_point where id = "
        "(select rowid from search_doc where service_id = ?)",
        [sid],
    ).fetchone()
    assert point is not None
    assert abs(point[0] - city[0]) < 1e-4 and abs(point[1] - city[1]) < 1e-4
    db.conn.close()

    client = writable_app.test_client()
    secret = ("11.2187", "125.0276", "17 Secret Street")
    near_secret = f"{SECRET_LAT},{SECRET_LON}"
    urls = [
        "/api/services?near=Tacloban",
        "/api/services?near=Tacloban&sort=name",
        f"/api/services?near={quote(near_secret)}&radius_km=1",
        f"/api/services?near={quote(near_secret)}&radius_km=5",
        "/search?near=Tacloban",
        "/hotlines?near=Tacloban",
        f"/api/services/{sid}",
        f"/services/{sid}",
    ]
    found = False
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        # the typed point itself may be echoed back; the shelter's must not appear otherwise
        if quote(near_secret) in url:
            body = response.get_json()
            text = json.dumps({k: v for k, v in body.items() if k not in ("place", "description")})
        for fragment in secret:
            assert fragment not in text, (url, fragment)
        if url.startswith("/api/services?"):
            for service in response.get_json()["contents"]:
                if service["id"] == sid:
                    found = True
                    expected = geodesic(
                        (
                            response.get_json()["place"]["latitude"],
                            response.get_json()["place"]["longitude"],
                        ),
                        tuple(city),
                    ).km
                    assert service["distance_km"] == round(expected, 1)
    assert found
    # within 1 km of its real door, it is not found: it counts as being at the city's point
    near_door = client.get(f"/api/services?near={quote(near_secret)}&radius_km=1").get_json()
    assert geodesic((SECRET_LAT, SECRET_LON), tuple(city)).km > 1
    assert sid not in {s["id"] for s in near_door["contents"]}


# --------------------------------------------------------------------------- the index


def test_search_point_follows_the_index(writable_app):
    db = connect(writable_app.config["DATABASE"])
    with db.conn:
        sid = _secret_shelter(db)
    count = db.execute("select count(*) from search_point").fetchone()[0]
    rowid = db.execute("select rowid from search_doc where service_id = ?", [sid]).fetchone()[0]
    assert db.execute("select 1 from search_point where id = ?", [rowid]).fetchone()
    # a location known only as its region's centre is no place to measure from
    record_area = db.execute("select lat, lon from area where code = '0800000000'").fetchone()
    with db.conn:
        db.execute(
            "update location set area_code = '0800000000', confidential = 0, latitude = ?, "
            "longitude = ? where id = ?",
            [record_area[0], record_area[1], sid + "-l"],
        )
        from directory import search_index

        search_index.index_services(db, [sid])
    assert db.execute("select count(*) from search_point").fetchone()[0] == count - 1
    with db.conn:
        search_index.rebuild(db)
    assert db.execute("select count(*) from search_point").fetchone()[0] == count - 1
    orphans = db.execute(
        "select count(*) from search_point where id not in (select rowid from search_doc)"
    ).fetchone()[0]
    assert orphans == 0
    db.conn.close()


def test_a_word_merely_like_some_barangay_is_not_taken_for_it(client):
    # "Atlantis" is 80% like barangay Balanti (Tarlac): offered, never silently chosen
    status, body = api(client, near="Atlantis")
    assert status == 400
    assert body["error"]["parameter"] == "near" and "Atlantis" in body["error"]["message"]
    assert any("Balanti" in choice["name"] for choice in body["error"]["choices"])
    status, body = api(client, near="Lahug, Cebu Cty")  # a real typo still resolves
    assert status == 200 and body["place"]["name"].startswith("Lahug")
