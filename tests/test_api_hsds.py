"""The rest of the HSDS API: organisations, taxonomies, terms, services at locations, HSDS
parameters on /api/services, POST search, the error shape and the OpenAPI document."""

import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).parent / "schemas"
REMOTE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page",
             "empty", "contents"}  # fmt: skip


@cache
def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _registry() -> Registry:
    resources = []
    for name in ("taxonomy.json", "taxonomy_term.json", "metadata.json"):
        resource = Resource.from_contents(_schema(name), default_specification=DRAFT202012)
        resources += [(name, resource), (REMOTE + name, resource)]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    base = REMOTE + name if name.startswith("taxonomy") else ""
    schema = {**_schema(name), "$id": base} if base else _schema(name)
    return jsonschema.Draft202012Validator(
        schema, registry=_registry(), format_checker=jsonschema.FormatChecker()
    )


def check_page(body: dict, schema: str) -> list[dict]:
    assert PAGE_KEYS <= set(body)
    assert body["size"] >= len(body["contents"])
    for item in body["contents"]:
        validator(schema).validate(item)
    return body["contents"]


def service_id(db, name: str) -> str:
    return db.execute("select id from service where name = ?", [name]).fetchone()[0]


# --- organisations --------------------------------------------------------------------------


def test_organizations_paginated_and_valid(client, db):
    total = db.execute("select count(*) from organization").fetchone()[0]
    body = client.get("/api/organizations?per_page=50").get_json()
    assert body["total_items"] == total and body["total_pages"] == -(-total // 50)
    names = [o["name"] for o in check_page(body, "organization_list.json")]
    assert names == sorted(names) and len(names) == 50
    last = client.get(f"/api/organizations?per_page=50&page={body['total_pages']}").get_json()
    assert last["last_page"] is True and len(last["contents"]) == total - 50 * (
        body["total_pages"] - 1
    )


def test_organization_search_and_full(client):
    body = client.get("/api/organizations?search=field+office+NCR&full=1").get_json()
    names = [o["name"] for o in body["contents"]]
    assert names[0] == "DSWD Field Office NCR" and all("Field Office NCR" in n for n in names)
    org = check_page(body, "organization.json")[0]
    assert "Marillac Hills" in {s["name"] for s in org["services"]}
    plain = client.get("/api/organizations?search=field_office").get_json()
    assert plain["total_items"] == 0  # _ is a literal, not a LIKE wildcard


def test_one_organization_nests_its_services_without_confidential_streets(client, db):
    org_id = db.execute(
        "select organization_id from service where name = 'Marillac Hills'"
    ).fetchone()[0]
    raw = client.get(f"/api/organizations/{org_id}").get_data(as_text=True)
    assert "Northgate" not in raw
    body = json.loads(raw)
    validator("organization.json").validate(body)
    assert "Marillac Hills" in {s["name"] for s in body["services"]}


# --- taxonomies and terms -------------------------------------------------------------------


def test_taxonomies_and_terms(client, db):
    body = client.get("/api/taxonomies").get_json()
    taxonomies = check_page(body, "taxonomy.json")
    assert body["total_items"] == 1 and taxonomies[0]["name"] == "Survivor support service types"
    one = client.get(f"/api/taxonomies/{taxonomies[0]['id']}").get_json()
    assert one == taxonomies[0]

    count = db.execute("select count(*) from taxonomy_term").fetchone()[0]
    terms = client.get(f"/api/taxonomy_terms?per_page=100&taxonomy_id={one['id']}").get_json()
    assert terms["total_items"] == count
    assert check_page(terms, "taxonomy_term.json")[0]["code"] == "hotline"
    shelter = client.get("/api/taxonomy_terms/shelter").get_json()  # by code, too
    validator("taxonomy_term.json").validate(shelter)
    assert shelter["code"] == "shelter" and shelter["taxonomy_detail"]["id"] == one["id"]
    assert client.get(f"/api/taxonomy_terms/{shelter['id']}").get_json() == shelter


# --- services at locations ------------------------------------------------------------------


def test_service_at_locations(client, db):
    total = db.execute("select count(*) from service_at_location").fetchone()[0]
    body = client.get("/api/service_at_locations?per_page=100").get_json()
    assert body["total_items"] == total
    for sal in check_page(body, "service_at_location_list.json"):
        validator("service_at_location.json").validate(sal)
        assert sal["location"]["id"] == sal["location_id"] and sal["service"]["id"]


def test_confidential_service_at_location(client, db):
    sid = service_id(db, "Marillac Hills")
    body = client.get(f"/api/service_at_locations?service_id={sid}").get_json()
    assert body["total_items"] == 1
    sal_id = body["contents"][0]["id"]
    raw = client.get(f"/api/service_at_locations/{sal_id}").get_data(as_text=True)
    assert "Northgate" not in raw
    sal = json.loads(raw)
    validator("service_at_location.json").validate(sal)
    assert sal["location"]["confidential"] is True and sal["location"]["addresses"] == []


@pytest.mark.parametrize(
    "path",
    ["/api/organizations/nope", "/api/taxonomies/nope", "/api/taxonomy_terms/nope",
     "/api/service_at_locations/nope"],
)  # fmt: skip
def test_unknown_ids_are_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"status": 404, "message": response.get_json()["error"]["message"],
                  "parameter": "id"}
    }  # fmt: skip


@pytest.mark.parametrize(
    "url,parameter",
    [("/api/organizations?per_page=1000", "per_page"), ("/api/taxonomies?page=0", "page"),
     ("/api/taxonomy_terms?foo=1", "foo"), ("/api/service_at_locations?page=x", "page"),
     ("/api/services?taxonomy_id=nope", "taxonomy_id"),
     ("/api/services?modified_after=yesterday", "modified_after"),
     ("/api/services?minimal=maybe", "minimal"), ("/api/services?proximity=5000", "proximity"),
     ("/api/services?day=someday", "day"), ("/api/services?start_time=09:00", "day"),
     ("/api/services?day=monday&start_time=25:00", "start_time"),
     ("/api/services?near=Cebu+City&proximity=far", "proximity")],
)  # fmt: skip
def test_bad_parameters_are_json_400(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["parameter"] == parameter and error["message"]


# --- HSDS parameters on /api/services -------------------------------------------------------


def _ids(client, query: str) -> list[str]:
    body = client.get(f"/api/services?per_page=100&{query}").get_json()
    assert body["total_items"] <= 100, "narrow the test query"
    return [s["id"] for s in body["contents"]]


def test_minimal_and_one_to_one_shapes(client):
    minimal = client.get("/api/services?minimal=1&per_page=5").get_json()
    for s in check_page(minimal, "service_list.json"):
        assert set(s) == {"id", "name", "status", "last_modified"}
    flat = client.get("/api/services?full=0&per_page=5").get_json()
    for s in check_page(flat, "service_list.json"):
        assert "phones" not in s and s["organization"]["name"] and s["source"]["url"]


def test_organization_id_filter(client, db):
    org_id, count = db.execute(
        "select organization_id, count(*) from service where victim_facing = 1 "
        "group by organization_id order by count(*) desc limit 1"
    ).fetchone()
    ids = _ids(client, f"organization_id={org_id}")
    assert len(ids) == count > 1
    expected = {r[0] for r in db.execute(
        "select id from service where organization_id = ?", [org_id]
    )}  # fmt: skip
    assert set(ids) == expected


def test_taxonomy_id_filter_and_term(client, db):
    taxonomy_id = db.execute("select id from taxonomy").fetchone()[0]
    all_ids = client.get(f"/api/services?taxonomy_id={taxonomy_id}").get_json()["total_items"]
    typed = db.execute(
        "select count(distinct d.service_id) from search_doc d join search_term t "
        "on t.doc = d.rowid where d.victim_facing = 1"
    ).fetchone()[0]
    assert all_ids == typed
    term_id = db.execute("select id from taxonomy_term where code = 'legal-aid'").fetchone()[0]
    assert set(_ids(client, f"taxonomy_term_id={term_id}")) == set(_ids(client, "type=legal-aid"))


def test_modified_after(client):
    assert client.get("/api/services?modified_after=2999-01-01").get_json()["total_items"] == 0
    everything = client.get("/api/services").get_json()["total_items"]
    after = client.get("/api/services?modified_after=2000-01-01T00:00:00Z").get_json()
    assert after["total_items"] == everything


def test_postcode_never_matches_a_confidential_address(writable_app):
    from directory.db import connect

    db = connect(writable_app.config["DATABASE"])
    sid = service_id(db, "Marillac Hills")
    with db.conn:
        db.execute(
            "update address set postal_code = '1100' where location_id in "
            "(select location_id from service_at_location where service_id = ?)",
            [sid],
        )
    open_one = db.execute(
        "select s.id, a.location_id from service s join service_at_location sal on "
        "sal.service_id = s.id join location l on l.id = sal.location_id join address a on "
        "a.location_id = l.id where l.confidential = 0 and s.victim_facing = 1 limit 1"
    ).fetchone()
    with db.conn:
        db.execute("update address set postal_code = '1 100' where location_id = ?", [open_one[1]])
    db.conn.close()
    client = writable_app.test_client()
    assert _ids(client, "postcode=1100") == [open_one[0]]


def test_proximity_in_metres_is_radius_km(client):
    by_radius = client.get("/api/services?near=Tacloban&radius_km=30&per_page=100").get_json()
    by_proximity = client.get("/api/services?near=Tacloban&proximity=30000&per_page=100")
    assert by_proximity.get_json()["total_items"] == by_radius["total_items"] > 0


def test_day_and_times_are_philippine_time(client, db):
    always = db.execute(
        "select count(*) from search_doc where twenty_four_seven = 1 and victim_facing = 1"
    ).fetchone()[0]
    shape = "minimal=1&per_page=100"
    night = client.get(f"/api/services?day=sunday&start_time=02:00&end_time=03:00&{shape}")
    morning = client.get(f"/api/services?day=monday&start_time=09:00&end_time=10:00&{shape}")
    night_names = {s["name"] for s in night.get_json()["contents"]}
    morning_names = {s["name"] for s in morning.get_json()["contents"]}
    assert night.get_json()["total_items"] > always and morning.get_json()["total_items"] > always
    # Mon-Fri 8-5 in the Philippines; Mon-Sat 9:00-20:00 in Paris (Saturday evening there)
    assert "DSWD Field Office VI" in morning_names - night_names
    assert "3018 (national line for young victims of digital violence)" in night_names
    monday = client.get("/api/services?day=monday").get_json()["total_items"]
    assert monday >= morning.get_json()["total_items"]


def test_post_search_equals_get(client):
    get = client.get("/api/services?q=shelter&region=NCR&per_page=5&age=15&open_now=0")
    get = get.get_json()
    post = client.post(
        "/api/services/search",
        json={"q": "shelter", "region": "NCR", "per_page": 5, "age": 15, "open_now": False},
    )
    assert post.status_code == 200 and post.get_json() == get
    assert get["total_items"] > 0
    check_page(post.get_json(), "service.json")


@pytest.mark.parametrize(
    "body,parameter",
    [([1, 2], "body"), ({"age": "x"}, "age"), ({"nope": 1}, "nope"), ({"q": {"a": 1}}, "q")],
)
def test_post_search_errors(client, body, parameter):
    response = client.post("/api/services/search", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == parameter


def test_post_search_needs_json(client):
    response = client.post("/api/services/search", data="q=shelter")
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == "body"


# --- OpenAPI ---------------------------------------------------------------------------------


def _local(uri: str) -> dict:
    assert uri.startswith(REMOTE), uri
    return _schema(uri.rsplit("/", 1)[1])


class OfflineValidator(OpenAPIV31SpecValidator):
    """Resolves HSDS's schema URLs to the copies in tests/schemas (no network in tests)."""

    resolver_handlers = {"https": _local, "http": _local}


def test_openapi_document_validates(client):
    doc = client.get("/api/openapi.json").get_json()
    OfflineValidator(doc).validate()
    assert doc["openapi"].startswith("3.1")
    assert {"/services", "/services/{id}", "/services/search", "/organizations",
            "/organizations/{id}", "/taxonomies", "/taxonomies/{id}", "/taxonomy_terms",
            "/taxonomy_terms/{id}", "/service_at_locations", "/service_at_locations/{id}",
            "/openapi.json"} <= set(doc["paths"])  # fmt: skip
    names = {p["$ref"].rsplit("/", 1)[1] for p in doc["paths"]["/services"]["get"]["parameters"]}
    assert {"search", "taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after",
            "minimal", "full", "page", "per_page", "postcode", "proximity", "q", "region",
            "near", "radius_km", "open_now", "age", "day", "start_time"} <= names  # fmt: skip
    profile = doc["components"]["schemas"]
    assert "confidential" in profile["LocationProfile"]["properties"]
    assert "psgc_code" in profile["AddressProfile"]["properties"]
    assert {"e164", "short_code", "needs_verification"} <= set(
        profile["PhoneProfile"]["properties"]
    )
    assert {"assured_date", "source"} <= set(profile["ServiceProfile"]["properties"])


def test_openapi_validator_catches_a_broken_document(client):
    doc = client.get("/api/openapi.json").get_json()
    doc["paths"]["/services"]["get"]["responses"] = "nothing"
    with pytest.raises(Exception, match="nothing"):
        OfflineValidator(doc).validate()


def test_every_documented_parameter_is_accepted(client):
    doc = client.get("/api/openapi.json").get_json()
    for ref in doc["paths"]["/services"]["get"]["parameters"]:
        name = ref["$ref"].rsplit("/", 1)[1]
        response = client.get(f"/api/services?{name}=")
        assert response.status_code == 200, (name, response.get_json())
