"""The manage JSON API: the authorisation matrix, validation (400 per field), ETags and 409."""

import shutil

import pytest

from directory import create_app
from directory.db import connect
from directory.models import revisions, users

ORG_A = "04d71071-8a84-5b51-95f4-bb5d021bc805"  # three services, confidential addresses
ORG_B = "f9cc307e-03bb-53d9-8de1-de66fa42cc92"
ROLES = ("anonymous", "partner", "editor", "moderator", "admin")


def _service_of(db, org_id: str) -> str:
    return db.execute(
        "select id from service where organization_id = ? order by id limit 1", [org_id]
    ).fetchone()[0]


@pytest.fixture(scope="module")
def world(seeded_path, tmp_path_factory):
    """An app on a private database with one account per role and an API token each."""
    path = tmp_path_factory.mktemp("manage") / "directory.sqlite"
    shutil.copy(seeded_path, path)
    app = create_app({"TESTING": True, "DATABASE": str(path)})
    db = connect(str(path))
    tokens = {"anonymous": None}
    with revisions.immediate(db):
        for role in ROLES[1:]:
            orgs = [ORG_A] if role == "editor" else []
            user = users.create_user(db, f"{role}@example.org", role, org_ids=orgs)
            tokens[role] = users.create_token(db, user.id)
        other = users.create_user(db, "editor-b@example.org", "editor", org_ids=[ORG_B])
        tokens["editor_b"] = users.create_token(db, other.id)
    world = {
        "app": app,
        "db": db,
        "tokens": tokens,
        "service": {"own": _service_of(db, ORG_A), "other": _service_of(db, ORG_B)},
        "org": {"own": ORG_A, "other": ORG_B},
    }
    yield world
    db.conn.close()


def call(world, role, method, url, json=None, headers=None):
    """One API request as that role (bearer token; none for anonymous)."""
    headers = dict(headers or {})
    if world["tokens"].get(role):
        headers["Authorization"] = f"Bearer {world['tokens'][role]}"
    client = world["app"].test_client()
    return client.open(url, method=method, json=json, headers=headers)


def etag(world, service_id: str) -> str:
    """The current ETag from the public API."""
    return world["app"].test_client().get(f"/api/services/{service_id}").headers["ETag"]


def pending_request(world, target: str) -> int:
    """A fresh pending change request for the own (editor) or other (editor_b) service."""
    role = "editor" if target == "own" else "editor_b"
    sid = world["service"][target]
    response = call(
        world, role, "PUT", f"/api/manage/services/{sid}",
        json={"alert": f"proposal by {role}"}, headers={"If-Match": etag(world, sid)},
    )  # fmt: skip
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def _put(world, role, target):
    sid = world["service"][target]
    return call(
        world, role, "PUT", f"/api/manage/services/{sid}",
        json={"alert": f"edited by {role}"}, headers={"If-Match": etag(world, sid)},
    )  # fmt: skip


def _post(world, role, target):
    body = {"organization_id": world["org"][target], "name": f"New service by {role}"}
    return call(world, role, "POST", "/api/manage/services", json=body)


def _approve(world, role, target):
    rid = pending_request(world, target)
    return call(world, role, "POST", f"/api/manage/change_requests/{rid}/approve")


def _reject(world, role, target):
    rid = pending_request(world, target)
    return call(
        world, role, "POST", f"/api/manage/change_requests/{rid}/reject", json={"reason": "no"}
    )


def _get_request(world, role, target):
    rid = pending_request(world, target)
    return call(world, role, "GET", f"/api/manage/change_requests/{rid}")


ENDPOINTS = {
    "get service": lambda w, r, t: call(w, r, "GET", f"/api/manage/services/{w['service'][t]}"),
    "put service": _put,
    "post service": _post,
    "list change requests": lambda w, r, t: call(w, r, "GET", "/api/manage/change_requests"),
    "get change request": _get_request,
    "approve": _approve,
    "reject": _reject,
    "revisions": lambda w, r, t: call(
        w, r, "GET", f"/api/manage/services/{w['service'][t]}/revisions"
    ),
    "restore": lambda w, r, t: call(
        w, r, "POST", f"/api/manage/services/{w['service'][t]}/revisions/1/restore"
    ),
    "verify": lambda w, r, t: call(w, r, "POST", f"/api/manage/services/{w['service'][t]}/verify"),
    "due": lambda w, r, t: call(w, r, "GET", "/api/manage/due_for_verification"),
    "audit log": lambda w, r, t: call(w, r, "GET", "/api/manage/audit_log"),
}
# expected status: endpoint -> role -> (own organisation, other organisation)
OK, PENDING, CREATED = 200, 202, 201
EXPECTED = {
    "get service": {"editor": (OK, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "put service": {"editor": (PENDING, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "post service": {
        "editor": (PENDING, 403),
        "moderator": (CREATED,) * 2,
        "admin": (CREATED,) * 2,
    },
    "list change requests": {"editor": (OK, OK), "moderator": (OK, OK), "admin": (OK, OK)},
    "get change request": {"editor": (OK, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "approve": {"editor": (403, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "reject": {"editor": (403, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "revisions": {"editor": (OK, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "restore": {"editor": (PENDING, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "verify": {"editor": (403, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "due": {"editor": (403, 403), "moderator": (OK, OK), "admin": (OK, OK)},
    "audit log": {"editor": (403, 403), "moderator": (403, 403), "admin": (OK, OK)},
}


def expected_status(endpoint: str, role: str, target: str) -> int:
    """Anonymous: 401; partners may not manage anything: 403; the rest from the table."""
    if role == "anonymous":
        return 401
    if role == "partner":
        return 403
    return EXPECTED[endpoint][role][0 if target == "own" else 1]


@pytest.mark.parametrize("target", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_authorisation_matrix(world, endpoint, role, target):
    response = ENDPOINTS[endpoint](world, role, target)
    assert response.status_code == expected_status(endpoint, role, target), (
        endpoint,
        role,
        target,
        response.get_json(),
    )


def test_the_matrix_covers_every_manage_endpoint(world):
    rules = {
        (rule.rule, method)
        for rule in world["app"].url_map.iter_rules()
        if rule.rule.startswith("/api/manage")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert len(rules) == len(ENDPOINTS), sorted(rules)


def test_a_forbidden_edit_changes_nothing(world):
    sid = world["service"]["other"]
    before = revisions.snapshot(world["db"], sid)
    version = etag(world, sid)
    response = call(
        world, "editor", "PUT", f"/api/manage/services/{sid}",
        json={"name": "Hijacked", "phones": [{"number": "0917 000 0000"}]},
        headers={"If-Match": version},
    )  # fmt: skip
    assert response.status_code == 403
    assert revisions.snapshot(world["db"], sid) == before
    assert etag(world, sid) == version


def test_an_editor_cannot_move_a_service_to_another_organisation(world):
    sid = world["service"]["own"]
    response = call(
        world, "editor", "PUT", f"/api/manage/services/{sid}",
        json={"organization_id": ORG_B}, headers={"If-Match": etag(world, sid)},
    )  # fmt: skip
    assert response.status_code == 403


def test_a_bad_token_is_refused_and_never_falls_back(world):
    sid = world["service"]["own"]
    response = (
        world["app"]
        .test_client()
        .get(f"/api/manage/services/{sid}", headers={"Authorization": "Bearer not-a-token"})
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_400_names_each_invalid_field(world):
    sid = world["service"]["own"]
    response = call(
        world, "moderator", "PUT", f"/api/manage/services/{sid}",
        json={
            "name": "",
            "minimum_age": "ten",
            "maximum_age": 300,
            "url": "javascript:alert(1)",
            "phones": [{"number": "0917 123 4567"}, {"number": "12345"}],
            "service_areas": [{"name": "Nowhereville Qzx"}],
            "languages": [{"code": "Tagalog!"}],
            "schedules": [{"byday": "XX", "opens_at": "25:00"}],
            "attributes": [{"taxonomy_term_id": "nope"}],
        },
        headers={"If-Match": etag(world, sid)},
    )  # fmt: skip
    assert response.status_code == 400
    body = response.get_json()
    fields = {e["field"] for e in body["errors"]}
    assert fields >= {
        "name", "minimum_age", "maximum_age", "url", "phones[1].number", "service_areas[0]",
        "languages[0].code", "schedules[0].byday", "schedules[0].opens_at",
        "attributes[0].taxonomy_term_id",
    }  # fmt: skip
    assert "phones[0].number" not in fields  # a valid mobile number
    assert "phones[1].number" in body["error"]["message"]


def test_invalid_json_and_missing_if_match(world):
    sid = world["service"]["own"]
    no_match = call(world, "moderator", "PUT", f"/api/manage/services/{sid}", json={"alert": "x"})
    assert no_match.status_code == 428
    bad_match = call(
        world, "moderator", "PUT", f"/api/manage/services/{sid}",
        json={"alert": "x"}, headers={"If-Match": "banana"},
    )  # fmt: skip
    assert bad_match.status_code == 400
    not_json = call(
        world, "moderator", "PUT", f"/api/manage/services/{sid}",
        headers={"If-Match": etag(world, sid), "Content-Type": "text/plain"},
    )  # fmt: skip
    assert not_json.status_code == 400
    missing = call(
        world, "moderator", "PUT", "/api/manage/services/no-such-id",
        json={"alert": "x"}, headers={"If-Match": '"1"'},
    )  # fmt: skip
    assert missing.status_code == 404


def test_etag_is_the_version_and_a_stale_one_gets_409_with_the_current(world):
    sid = world["service"]["own"]
    first = etag(world, sid)
    ok = call(
        world, "moderator", "PUT", f"/api/manage/services/{sid}",
        json={"alert": "first writer"}, headers={"If-Match": first},
    )  # fmt: skip
    assert ok.status_code == 200
    assert ok.get_json()["version"] == int(first.strip('"')) + 1
    assert etag(world, sid) == f'"{ok.get_json()["version"]}"' == ok.headers["ETag"]
    stale = call(
        world, "admin", "PUT", f"/api/manage/services/{sid}",
        json={"alert": "second writer"}, headers={"If-Match": first},
    )  # fmt: skip
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["current_version"] == ok.get_json()["version"]
    assert body["current"]["alert"] == "first writer"
    assert [c["author"] for c in body["changes_since"]] == ["moderator@example.org"]
    assert revisions.snapshot(world["db"], sid)["alert"] == "first writer"
    editor_stale = call(
        world, "editor", "PUT", f"/api/manage/services/{sid}",
        json={"alert": "editor writer"}, headers={"If-Match": first},
    )  # fmt: skip
    assert editor_stale.status_code == 409


def test_round_trip_of_the_full_record_changes_nothing(world):
    sid = world["service"]["own"]
    full = call(world, "editor", "GET", f"/api/manage/services/{sid}")
    assert full.status_code == 200
    before = revisions.snapshot(world["db"], sid)
    response = call(
        world, "moderator", "PUT", f"/api/manage/services/{sid}",
        json=full.get_json(), headers={"If-Match": full.headers["ETag"]},
    )  # fmt: skip
    assert response.status_code == 200
    after = revisions.snapshot(world["db"], sid)
    assert {k: v for k, v in after.items() if k != "last_modified"} == {
        k: v for k, v in before.items() if k != "last_modified"
    }


def test_confidential_addresses_are_for_entitled_viewers_only(world):
    db = world["db"]
    sid = db.execute(
        "select sal.service_id from service_at_location sal join location l on l.id ="
        " sal.location_id join address a on a.location_id = l.id join service s on"
        " s.id = sal.service_id where l.confidential = 1 and a.address_1 != ''"
        " and s.organization_id = ? limit 1",
        [ORG_A],
    ).fetchone()[0]
    street = revisions.snapshot(db, sid)["locations"][0]["addresses"][0]["address_1"]
    anonymous = world["app"].test_client().get(f"/api/services/{sid}")
    assert street not in anonymous.get_data(as_text=True)
    for role, shown in (("editor", True), ("partner", True), ("editor_b", False)):
        response = call(world, role, "GET", f"/api/services/{sid}?reveal_reason=referral+call")
        assert (street in response.get_data(as_text=True)) is shown, role
        assert "no-store" in response.headers["Cache-Control"]
        # Without a stated reason nobody sees it, entitled or not.
        plain = call(world, role, "GET", f"/api/services/{sid}")
        assert street not in plain.get_data(as_text=True), role
    reveals = db.execute(
        "select actor_email, target_id, detail from audit_log where action = 'reveal_address'"
    ).fetchall()
    assert [(r[1], "referral call" in r[2]) for r in reveals] == [(sid, True), (sid, True)]


def test_editor_proposal_keeps_the_address_when_addresses_are_left_out(world):
    sid = world["service"]["own"]
    public = world["app"].test_client().get(f"/api/services/{sid}").get_json()
    for sal in public["service_at_locations"]:
        sal["location"].pop("addresses", None)
    before = revisions.snapshot(world["db"], sid)
    response = call(
        world, "moderator", "PUT", f"/api/manage/services/{sid}",
        json={"service_at_locations": public["service_at_locations"], "alert": "addr kept"},
        headers={"If-Match": etag(world, sid)},
    )  # fmt: skip
    assert response.status_code == 200
    after = revisions.snapshot(world["db"], sid)
    assert [loc["addresses"] for loc in after["locations"]] == [
        loc["addresses"] for loc in before["locations"]
    ]


def test_create_publishes_for_a_moderator_and_queues_for_an_editor(world):
    body = {
        "organization_id": ORG_A,
        "name": "Kanlungan drop-in centre",
        "phones": [{"number": "0917 555 0101", "tested_on": "2026-01-05"}],
        "service_areas": [{"name": "Cebu City"}],
        "languages": [{"code": "ceb"}],
    }
    published = call(world, "moderator", "POST", "/api/manage/services", json=body)
    assert published.status_code == 201
    sid = published.get_json()["id"]
    record = world["app"].test_client().get(f"/api/services/{sid}").get_json()
    assert record["name"] == "Kanlungan drop-in centre"
    assert record["phones"][0]["e164"] == "+639175550101"
    assert record["phones"][0]["tested_on"] == "2026-01-05"
    proposed = call(world, "editor", "POST", "/api/manage/services", json=body | {"name": "Q"})
    assert proposed.status_code == 202
    pending = proposed.get_json()
    assert pending["status"] == "pending"
    hidden = world["app"].test_client().get(f"/api/services/{pending['service_id']}")
    assert hidden.status_code == 404
    missing_name = call(world, "moderator", "POST", "/api/manage/services", json={})
    assert missing_name.status_code == 400
    assert {e["field"] for e in missing_name.get_json()["errors"]} == {"organization_id", "name"}


def test_editors_list_only_their_organisations_requests(world):
    pending_request(world, "own")
    pending_request(world, "other")
    mine = call(world, "editor", "GET", "/api/manage/change_requests?status=pending").get_json()
    assert mine["contents"] and {r["organization_id"] for r in mine["contents"]} == {ORG_A}
    every = call(world, "moderator", "GET", "/api/manage/change_requests?status=pending")
    assert {r["organization_id"] for r in every.get_json()["contents"]} >= {ORG_A, ORG_B}
    bad = call(world, "moderator", "GET", "/api/manage/change_requests?status=maybe")
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        {"phones": "0917"},
        {"phones": [{"id": ["x"], "number": 917}]},
        {"phones": [None, {"number": "0917 123 4567", "extension": {"a": 1}}]},
        {"schedules": [{"id": {}, "byday": ["MO"], "opens_at": 8}]},
        {"languages": [{"code": ["en"]}]},
        {"service_areas": [{"psgc_code": ["x"]}], "minimum_age": [1]},
        {"service_at_locations": [{"location": {"id": 3, "latitude": "north"}}]},
        {"service_at_locations": [{"location": {"psgc_code": "NCR", "addresses": "x"}}]},
        {"service_at_locations": [{"location": {"addresses": [{"id": [1], "city": 5}]}}]},
        {"attributes": [{"taxonomy_term": {"code": ["x"]}, "taxonomy_term_id": ["y"]}]},
        {"taxonomy_terms": [["x"]], "source": "web", "free": "maybe", "minimum_age": "9" * 5000},
        {"organization_id": ["x"], "name": {"en": "x"}, "status": 3},
    ],
)
def test_malformed_bodies_answer_400_never_500(world, body):
    sid = world["service"]["own"]
    response = call(
        world, "moderator", "PUT", f"/api/manage/services/{sid}",
        json=body, headers={"If-Match": etag(world, sid)},
    )  # fmt: skip
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["message"]
