"""Concurrent edits through the API against a file database: nothing is silently overwritten.

8 threads x 50 requests: four moderators publish edits to one shared service (conflicting),
two publish to services of their own (non-conflicting), an editor proposes changes to the shared
service and a moderator approves proposals while the others write. Afterwards every accepted
change must be in the history exactly where its response said, and every accepted edit must
have been made on top of the version its writer had read (else it should have been a 409).
"""

import shutil
import threading
from collections import Counter

import pytest

from directory import create_app
from directory.db import connect
from directory.models import revisions, users
from directory.models.revisions import immediate

ROUNDS = 50
SHARED_ORG = "c4ae7e45-2150-581c-8e68-643f2ae9aee6"


@pytest.fixture
def setting(seeded_path, tmp_path):
    """A file database with the accounts, tokens and services the threads use."""
    path = tmp_path / "directory.sqlite"
    shutil.copy(seeded_path, path)
    app = create_app({"TESTING": True, "DATABASE": str(path)})
    db = connect(str(path))
    shared = db.execute("select id from service where organization_id = ?", [SHARED_ORG])
    shared = shared.fetchone()[0]
    own = [
        r[0]
        for r in db.execute(
            "select id from service where organization_id != ? order by id limit 2", [SHARED_ORG]
        )
    ]
    tokens = {}
    with immediate(db):
        for n in range(7):
            user = users.create_user(db, f"mod{n}@example.org", "moderator")
            tokens[f"mod{n}"] = users.create_token(db, user.id)
        editor = users.create_user(db, "ed@example.org", "editor", org_ids=[SHARED_ORG])
        tokens["editor"] = users.create_token(db, editor.id)
    yield {"app": app, "db": db, "tokens": tokens, "shared": shared, "own": own}
    db.conn.close()


def _version(etag: str) -> int:
    return int(etag.strip('"'))


def test_concurrent_edits_never_overwrite_silently(setting):
    app, tokens, shared = setting["app"], setting["tokens"], setting["shared"]
    results: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def log(**entry):
        with lock:
            results.append(entry)

    def writer(name: str, service_id: str, field: str):
        client = app.test_client()
        auth = {"Authorization": f"Bearer {tokens[name]}"}
        for i in range(ROUNDS):
            read = client.get(f"/api/services/{service_id}")
            etag = read.headers["ETag"]
            value = f"{name} round {i}"
            response = client.put(
                f"/api/manage/services/{service_id}",
                json={field: value},
                headers=auth | {"If-Match": etag},
            )
            body = response.get_json()
            log(
                kind="put", who=name, service=service_id, field=field, value=value,
                status=response.status_code, sent=_version(etag),
                version=body.get("version") if response.status_code == 200 else None,
                request=body.get("id") if response.status_code == 202 else None,
                current=body.get("current_version") if response.status_code == 409 else None,
            )  # fmt: skip

    def approver(name: str):
        client = app.test_client()
        auth = {"Authorization": f"Bearer {tokens[name]}"}
        for _ in range(ROUNDS):
            pending = client.get("/api/manage/change_requests?status=pending", headers=auth)
            for row in pending.get_json()["contents"][:1]:
                response = client.post(
                    f"/api/manage/change_requests/{row['id']}/approve", headers=auth
                )
                body = response.get_json()
                log(
                    kind="approve", who=name, service=row["service_id"], request=row["id"],
                    status=response.status_code, version=body.get("version"),
                )  # fmt: skip

    def guarded(target, *args):
        try:
            target(*args)
        except BaseException as exc:  # reported below: a thread must not fail silently
            errors.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(writer, f"mod{n}", shared, "description"))
        for n in range(4)
    ]
    threads += [
        threading.Thread(target=guarded, args=(writer, f"mod{4 + n}", sid, "description"))
        for n, sid in enumerate(setting["own"])
    ]
    threads.append(threading.Thread(target=guarded, args=(writer, "editor", shared, "alert")))
    threads.append(threading.Thread(target=guarded, args=(approver, "mod6")))
    assert len(threads) == 8
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)

    # Approve what is still pending, one by one (each merges onto the latest version).
    client = app.test_client()
    auth = {"Authorization": f"Bearer {tokens['mod6']}"}
    for row in client.get("/api/manage/change_requests?status=pending", headers=auth).get_json()[
        "contents"
    ]:
        response = client.post(f"/api/manage/change_requests/{row['id']}/approve", headers=auth)
        results.append(
            {
                "kind": "approve", "who": "mod6", "service": row["service_id"],
                "request": row["id"], "status": response.status_code,
                "version": response.get_json().get("version"),
            }
        )  # fmt: skip

    statuses = Counter((r["kind"], r["status"]) for r in results)
    assert set(statuses) <= {
        ("put", 200), ("put", 202), ("put", 409), ("approve", 200), ("approve", 409)
    }, statuses  # fmt: skip
    puts = [r for r in results if r["kind"] == "put"]
    assert len(puts) == 7 * ROUNDS

    db = setting["db"]
    for service_id in [shared, *setting["own"]]:
        history = {r["number"]: r for r in revisions.history(db, service_id)}
        accepted = [r for r in results if r["service"] == service_id and r["status"] == 200]
        # every accepted change is one revision, numbered as its response said, none lost
        assert sorted(history) == list(range(1, len(accepted) + 2))
        assert sorted(r["version"] for r in accepted) == list(range(2, len(accepted) + 2))
        for r in accepted:
            record = history[r["version"]]["record"]
            if r["kind"] == "put":
                # published on top of exactly the version its writer read: no lost update
                assert r["version"] == r["sent"] + 1, r
                assert record[r["field"]] == r["value"]
            else:
                previous = history[r["version"] - 1]["record"]
                # an approved proposal changed only its own field: the others' edits survive
                assert record["description"] == previous["description"]
        for r in results:
            if r["service"] == service_id and r["kind"] == "put" and r["status"] == 409:
                assert r["current"] > r["sent"]  # refused only because someone was first
        newest = history[max(history)]["record"]
        public = app.test_client().get(f"/api/services/{service_id}").get_json()
        assert public.get("description") == newest["description"]

    shared_puts = Counter(r["status"] for r in puts if r["service"] == shared)
    assert shared_puts[409] > 0, "the shared service never saw a conflict: the test is too weak"
    own_puts = Counter(r["status"] for r in puts if r["service"] in setting["own"])
    assert own_puts == {200: 2 * ROUNDS}  # nobody else wrote there: never a conflict
    # Every proposal was either published, or refused at approval because a later version
    # changed the same field - and then it is still pending, kept for a person to decide.
    proposals = {r["request"] for r in puts if r["status"] == 202}
    approved = {r["request"] for r in results if r["kind"] == "approve" and r["status"] == 200}
    refused = {r["request"] for r in results if r["kind"] == "approve" and r["status"] == 409}
    still_pending = {
        row["id"]
        for row in client.get(
            "/api/manage/change_requests?status=pending", headers=auth
        ).get_json()["contents"]
    }
    assert approved and proposals == approved | still_pending
    assert refused - approved == still_pending
    for request_id in still_pending:
        row = client.get(f"/api/manage/change_requests/{request_id}", headers=auth).get_json()
        base = revisions.get_revision(db, shared, row["base_version"])["record"]
        later = [h for h in revisions.history(db, shared) if h["number"] > row["base_version"]]
        assert any(h["record"]["alert"] != base["alert"] for h in later)  # a real clash
