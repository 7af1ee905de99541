"""/api/services: the same parameters as /search, the HSDS Page envelope, valid HSDS services."""

import json
from pathlib import Path

import jsonschema
import pytest

from directory import hsds

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "service.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page",
             "empty", "contents"}  # fmt: skip


def validate(service: dict) -> None:
    VALIDATOR.validate(service)


def test_page_envelope_and_valid_services(client):
    body = client.get("/api/services?region=Region+VII&per_page=10").get_json()
    assert PAGE_KEYS <= set(body)
    assert body["page_number"] == 1 and body["size"] == 10 and body["first_page"] is True
    assert body["total_items"] >= len(body["contents"]) > 0
    for service in body["contents"]:
        validate(service)
        assert "source" in service and service["source"]["url"].startswith("http")


def test_every_shipped_service_validates(client):
    body = client.get("/api/services?per_page=100").get_json()
    seen = 0
    for page in range(1, body["total_pages"] + 1):
        for service in client.get(f"/api/services?per_page=100&page={page}").get_json()["contents"]:
            validate(service)
            seen += 1
    assert seen == body["total_items"]


def test_same_filters_as_search(client):
    api = client.get("/api/services?q=shelter&region=NCR&per_page=100").get_json()
    names = {s["name"] for s in api["contents"]}
    assert "Marillac Hills" in names
    assert "facets" not in api  # on request only
    faceted = client.get("/api/services?q=shelter&region=NCR&per_page=100&facets=1").get_json()
    assert faceted["contents"] == api["contents"] and faceted["total_items"] == api["total_items"]
    types = {f["code"]: f["count"] for f in faceted["facets"]["type"]}
    assert 0 < types["shelter"] <= api["total_items"]
    assert all(0 < n <= api["total_items"] for n in types.values())
    page = client.get("/search?q=shelter&region=NCR")
    assert page.status_code == 200
    assert client.get("/search?q=shelter&facets=1").status_code == 400  # an API parameter
    for bad in ("facets=maybe", "facets=1&near=Cebu%20City"):
        error = client.get(f"/api/services?{bad}").get_json()["error"]
        assert error["status"] == 400 and error["parameter"] == "facets"


def test_one_service(client, db):
    sid = db.execute("select id from service where name = 'Makabata Helpline 1383'").fetchone()[0]
    body = client.get(f"/api/services/{sid}").get_json()
    validate(body)
    assert {p.get("short_code") for p in body["phones"]} >= {"1383"}
    assert body["twenty_four_seven"] is True
    assert body["source"] == {
        "url": "https://www.pna.gov.ph/articles/1212207",
        "date": "2023-10-20",
        "confidence": "high",
    }


def test_confidential_location_has_no_street_and_city_point_only(client, db):
    sid = db.execute("select id from service where name = 'Marillac Hills'").fetchone()[0]
    raw = client.get(f"/api/services/{sid}").get_data(as_text=True)
    assert "Northgate" not in raw
    body = json.loads(raw)
    location = body["service_at_locations"][0]["location"]
    assert location["confidential"] is True and location["addresses"] == []
    city = db.execute(
        "select lat, lon from area where code = ?", [location["psgc_code"]]
    ).fetchone()
    assert (location["latitude"], location["longitude"]) == (city[0], city[1])


@pytest.mark.parametrize(
    "query,parameter",
    [("age=x", "age"), ("region=Mordor", "region"), ("per_page=0", "per_page"), ("foo=1", "foo")],
)
def test_errors_are_json_400_naming_the_parameter(client, query, parameter):
    response = client.get(f"/api/services?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["parameter"] == parameter and error["message"]


def test_unknown_service_is_json_404(client):
    response = client.get("/api/services/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404


def test_api_root(client):
    body = client.get("/api/").get_json()
    assert body["version"] == "3.0" and body["openapi_url"].endswith("/api/openapi.json")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("Asia/Manila", 8), ("Asia/Kolkata", 5.5), (None, None), ("Not/AZone", None)],
)
def test_a_schedules_time_zone_is_hsds_number_of_hours(client, db, stored, shown):
    sid = db.execute("select service_id from schedule limit 1").fetchone()[0]
    body = client.get(f"/api/services/{sid}").get_json()
    record = {**body["schedules"][0], "timezone": stored}
    out = hsds.schedule(record)
    assert out.get("timezone") == shown
    validate({**body, "schedules": [out]})
