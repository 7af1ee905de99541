"""Review before publishing, history and restore, verification, and the web edit form."""

import pytest

from directory import auth
from directory.db import get_db
from directory.models import change_requests as cr
from directory.models import revisions, users
from directory.models.revisions import immediate
from tests.pages import csrf, form_fields

ORG_A = "c4ae7e45-2150-581c-8e68-643f2ae9aee6"  # one service: phones, hours, a location
PASSWORD = "correct horse battery"


@pytest.fixture
def site(writable_app):
    """A writable app with an editor of ORG_A, a moderator, their tokens and ORG_A's service."""
    app = writable_app
    with app.app_context():
        db = get_db()
        with immediate(db):
            editor = users.create_user(
                db, "ed@example.org", "editor", password_hash=auth.hash_password(PASSWORD),
                org_ids=[ORG_A],
            )  # fmt: skip
            moderator = users.create_user(
                db, "mod@example.org", "moderator", password_hash=auth.hash_password(PASSWORD)
            )
            tokens = {
                "editor": users.create_token(db, editor.id),
                "moderator": users.create_token(db, moderator.id),
            }
        service_id = db.execute(
            "select id from service where organization_id = ? order by id", [ORG_A]
        ).fetchone()[0]
    return {"app": app, "tokens": tokens, "sid": service_id}


def api(site, role, method, url, **kwargs):
    """An API call with the role's bearer token."""
    headers = kwargs.pop("headers", {}) | {"Authorization": f"Bearer {site['tokens'][role]}"}
    return site["app"].test_client().open(url, method=method, headers=headers, **kwargs)


def public(site):
    """The public HTML page and API record of the service."""
    client = site["app"].test_client()
    sid = site["sid"]
    return client.get(f"/services/{sid}").get_data(as_text=True), client.get(f"/api/services/{sid}")


def propose(site, body):
    """An editor's PUT with the current ETag."""
    etag = site["app"].test_client().get(f"/api/services/{site['sid']}").headers["ETag"]
    return api(
        site, "editor", "PUT", f"/api/manage/services/{site['sid']}",
        json=body, headers={"If-Match": etag},
    )  # fmt: skip


def signed_in(site, email):
    """A test client signed in with the web form."""
    client = site["app"].test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf(page)})
    return client


def test_the_public_sees_the_old_version_until_approval(site):
    old_html, old_api = public(site)
    response = propose(site, {"description": "Brand-new description from the NGO"})
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending"
    html, record = public(site)
    assert "Brand-new description" not in html
    assert "Brand-new description" not in record.get_data(as_text=True)
    assert record.headers["ETag"] == old_api.headers["ETag"]
    approved = api(
        site,
        "moderator",
        "POST",
        f"/api/manage/change_requests/{response.get_json()['id']}/approve",
    )
    assert approved.status_code == 200
    html, record = public(site)
    assert "Brand-new description" in html
    assert record.get_json()["description"] == "Brand-new description from the NGO"
    assert record.headers["ETag"] != old_api.headers["ETag"]


def test_a_rejected_proposal_stays_visible_to_its_author_with_the_reason(site):
    response = propose(site, {"alert": "Closed forever"})
    rid = response.get_json()["id"]
    rejected = api(
        site, "moderator", "POST", f"/api/manage/change_requests/{rid}/reject",
        json={"reason": "The hotline is still open; we called it."},
    )  # fmt: skip
    assert rejected.status_code == 200
    no_reason = api(site, "moderator", "POST", f"/api/manage/change_requests/{rid}/reject", json={})
    assert no_reason.status_code in (400, 409)
    mine = api(site, "editor", "GET", "/api/manage/change_requests?status=rejected").get_json()
    assert mine["contents"][0]["reason"] == "The hotline is still open; we called it."
    assert mine["contents"][0]["changes"] == [
        {"field": "alert", "before": None, "after": "Closed forever"}
    ]
    editor = signed_in(site, "ed@example.org")
    page = editor.get("/manage/proposals").get_data(as_text=True)
    assert "rejected" in page and "we called it" in page
    assert "Closed forever" not in public(site)[0]
    again = api(site, "moderator", "POST", f"/api/manage/change_requests/{rid}/approve")
    assert again.status_code == 409  # already decided


def test_a_proposal_on_an_old_version_merges_when_the_fields_differ(site):
    first = propose(site, {"alert": "Moving in March"}).get_json()["id"]
    second = propose(site, {"fees_description": "Free for survivors"}).get_json()["id"]
    clash = propose(site, {"alert": "Moving in April"}).get_json()["id"]
    assert (
        api(site, "moderator", "POST", f"/api/manage/change_requests/{first}/approve").status_code
        == 200
    )
    merged = api(site, "moderator", "POST", f"/api/manage/change_requests/{second}/approve")
    assert merged.status_code == 200
    record = public(site)[1].get_json()
    assert record["alert"] == "Moving in March"
    assert record["fees_description"] == "Free for survivors"
    conflict = api(site, "moderator", "POST", f"/api/manage/change_requests/{clash}/approve")
    assert conflict.status_code == 409
    assert conflict.get_json()["conflicting_fields"] == ["alert"]
    assert public(site)[1].get_json()["alert"] == "Moving in March"  # nothing overwritten
    pending = api(site, "moderator", "GET", "/api/manage/change_requests?status=pending")
    assert [r["id"] for r in pending.get_json()["contents"]] == [clash]  # kept, not lost


def test_history_holds_every_revision_and_restore_makes_a_new_one(site):
    sid = site["sid"]
    original = public(site)[1].get_json()
    for text in ("first", "second"):
        etag = public(site)[1].headers["ETag"]
        api(
            site, "moderator", "PUT", f"/api/manage/services/{sid}",
            json={"description": text}, headers={"If-Match": etag},
        )  # fmt: skip
    history = api(site, "editor", "GET", f"/api/manage/services/{sid}/revisions").get_json()
    numbers = [(r["number"], r["action"], r["author"]) for r in history["contents"]]
    assert numbers == [
        (3, "edit", "mod@example.org"), (2, "edit", "mod@example.org"), (1, "initial", None)
    ]  # fmt: skip
    assert history["contents"][2]["record"]["description"] == original["description"]
    restored = api(site, "moderator", "POST", f"/api/manage/services/{sid}/revisions/1/restore")
    assert restored.status_code == 200 and restored.get_json()["version"] == 4
    assert public(site)[1].get_json()["description"] == original["description"]
    history = api(site, "editor", "GET", f"/api/manage/services/{sid}/revisions").get_json()
    assert [r["number"] for r in history["contents"]] == [4, 3, 2, 1]
    assert history["contents"][0]["restored_from"] == 1
    missing = api(site, "moderator", "POST", f"/api/manage/services/{sid}/revisions/9/restore")
    assert missing.status_code == 404
    with site["app"].app_context(), pytest.raises(Exception, match="append-only"):
        get_db().execute("update revision set record = '{}'")


def test_an_editor_restore_is_a_proposal(site):
    sid = site["sid"]
    etag = public(site)[1].headers["ETag"]
    api(
        site, "moderator", "PUT", f"/api/manage/services/{sid}",
        json={"alert": "temporary"}, headers={"If-Match": etag},
    )  # fmt: skip
    response = api(site, "editor", "POST", f"/api/manage/services/{sid}/revisions/1/restore")
    assert response.status_code == 202
    assert public(site)[1].get_json()["alert"] == "temporary"
    api(
        site,
        "moderator",
        "POST",
        f"/api/manage/change_requests/{response.get_json()['id']}/approve",
    )
    assert "alert" not in public(site)[1].get_json()


def test_verify_sets_only_the_assurance_and_tested_phones(site):
    sid = site["sid"]
    with site["app"].app_context():
        before = revisions.snapshot(get_db(), sid)
    phone_id = before["phones"][0]["id"]
    response = api(
        site, "moderator", "POST", f"/api/manage/services/{sid}/verify",
        json={"tested_phone_ids": [phone_id]},
    )  # fmt: skip
    assert response.status_code == 200
    with site["app"].app_context():
        after = revisions.snapshot(get_db(), sid)
    today = response.get_json()["assured_date"]
    assert after["assured_date"] == today and after["assurer_email"] == "mod@example.org"
    assert after["phones"][0]["tested_on"] == today
    assert cr.diff(before, after) == [
        {"field": "assured_date", "before": before["assured_date"], "after": today},
        {"field": "assurer_email", "before": before["assurer_email"], "after": "mod@example.org"},
        {"field": "phones", "before": cr._value("phones", before),
         "after": cr._value("phones", after)},
    ]  # fmt: skip
    assert "may be out of date" not in public(site)[0].lower()
    due = api(site, "moderator", "GET", "/api/manage/due_for_verification").get_json()
    assert sid not in {s["id"] for s in due["contents"]}
    assert due["total_items"] > 100  # shipped listings have never been verified by a person


def test_unverified_listings_are_due_and_flagged_publicly(site):
    due = api(site, "moderator", "GET", "/api/manage/due_for_verification").get_json()
    assert site["sid"] in {s["id"] for s in due["contents"]}
    moderator = signed_in(site, "mod@example.org")
    assert site["sid"] in moderator.get("/review/due").get_data(as_text=True)


def test_the_web_form_edits_every_kind_of_field_as_a_proposal(site):
    editor = signed_in(site, "ed@example.org")
    url = f"/manage/services/{site['sid']}/edit"
    page = editor.get(url).get_data(as_text=True)
    data = form_fields(page)
    unchanged = editor.post(url, data=data)
    assert unchanged.status_code == 302
    with site["app"].app_context():
        db = get_db()
        request = cr.list_requests(db, status="pending")[0]
        assert cr.diff(cr.base_record(db, request), request["record"]) == []
    blank_phone = next(
        k[: -len("-number")] for k, v in data.items() if k.endswith("-number") and v == [""]
    )
    data |= {
        f"{blank_phone}-number": ["0917 555 0199"],
        f"{blank_phone}-tested_on": ["2026-11-01"],
        "schedules-0-opens_at": ["07:30"],
        "languages-0-code": ["war"],
        "service_areas-0-place": ["Eastern Samar"],
        "locations-0-confidential": ["y"],
        "locations-0-address_1": ["12 Secret Street"],
        "minimum_age": ["12"],
        "eligibility_description": ["Girls 12-17"],
    }
    response = editor.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with site["app"].app_context():
        db = get_db()
        request = cr.list_requests(db, status="pending")[-1]
        changed = {c["field"] for c in cr.diff(cr.base_record(db, request), request["record"])}
    assert changed >= {
        "phones", "schedules", "languages", "service_areas", "locations", "minimum_age",
        "eligibility_description",
    }  # fmt: skip
    assert "12 Secret Street" not in public(site)[0]
    moderator = signed_in(site, "mod@example.org")
    review = moderator.get(f"/review/{request['id']}").get_data(as_text=True)
    assert "0917 555 0199" in review and "Girls 12-17" in review
    approve = moderator.post(f"/review/{request['id']}/approve", data={"csrf_token": csrf(review)})
    assert approve.status_code == 302
    html, record = public(site)
    assert "Girls 12-17" in html and "12 Secret Street" not in html
    assert "12 Secret Street" not in record.get_data(as_text=True)
    assert "+639175550199" in record.get_data(as_text=True)
    history = moderator.get(f"/manage/services/{site['sid']}/history").get_data(as_text=True)
    assert "ed@example.org" in history and "Restore this version" in history


def test_the_web_form_reports_invalid_fields_and_a_conflict(site):
    editor = signed_in(site, "ed@example.org")
    url = f"/manage/services/{site['sid']}/edit"
    data = form_fields(editor.get(url).get_data(as_text=True))
    bad = editor.post(url, data=data | {"phones-0-number": ["12345"]})
    assert bad.status_code == 400 and "phones[0].number" in bad.get_data(as_text=True)
    etag = public(site)[1].headers["ETag"]
    api(
        site, "moderator", "PUT", f"/api/manage/services/{site['sid']}",
        json={"alert": "changed meanwhile"}, headers={"If-Match": etag},
    )  # fmt: skip
    stale = editor.post(url, data=data)
    assert stale.status_code == 409
    assert "Someone else changed this listing" in stale.get_data(as_text=True)


def test_editors_cannot_open_another_organisations_forms(site):
    editor = signed_in(site, "ed@example.org")
    with site["app"].app_context():
        other = (
            get_db()
            .execute("select id from service where organization_id != ? limit 1", [ORG_A])
            .fetchone()[0]
        )
    assert editor.get(f"/manage/services/{other}/edit").status_code == 403
    assert editor.get(f"/manage/services/{other}/history").status_code == 403
    assert editor.get("/review/").status_code == 403
    page = editor.get(f"/manage/services/{site['sid']}/edit").get_data(as_text=True)
    forged = editor.post(
        f"/manage/services/{other}/edit", data=form_fields(page) | {"name": ["Hijacked"]}
    )
    assert forged.status_code == 403
