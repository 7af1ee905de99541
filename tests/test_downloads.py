"""/data downloads: built once per version of the published data, kept on disk, rebuilt when the
data changes, and built in the background (503 + Retry-After meanwhile) for a large directory."""

import io
import json
import os
import threading
import time
import zipfile

from directory import create_app, downloads, exporters
from directory.db import connect
from directory.models import users

SERVICE = "select id, name from service where status = 'active' order by id limit 1"


def _json(response) -> list:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return json.loads(response.get_data(as_text=True))


def test_downloads_are_the_exports_and_follow_edits(writable_app, tmp_path):
    client = writable_app.test_client()
    db = connect(writable_app.config["DATABASE"])
    expected = io.StringIO()
    exporters.write_json(db, expected)
    first = client.get("/data/services.json")
    assert first.headers["Content-Length"] == str(len(first.data))
    assert _json(first) == json.loads(expected.getvalue())
    folder = downloads.folder_for(writable_app.config["DATABASE"])
    assert [p.name for p in folder.iterdir()] == [downloads.version(db)]

    org_id, org_name = db.execute(
        "select o.id, o.name from organization o join service s on s.organization_id = o.id limit 1"
    ).fetchone()
    with db.atomic():  # an organisation renamed by an admin: its services' listings change
        users.save_organization(db, "FICTIONAL Renamed Organisation", organization_id=org_id)
    names = {s["organization"]["name"] for s in _json(client.get("/data/services.json"))}
    assert "FICTIONAL Renamed Organisation" in names and org_name not in names
    assert [p.name for p in folder.iterdir()] == [downloads.version(db)]  # the old one is gone
    found = client.get("/api/services?q=renamed").get_json()  # and search knows the new name
    assert found["total_items"] > 0
    listing = client.get("/data/listings.csv").get_data(as_text=True)
    assert "FICTIONAL Renamed Organisation" in listing
    with zipfile.ZipFile(io.BytesIO(client.get("/data/hsds.zip").data)) as z:
        assert "FICTIONAL Renamed Organisation" in z.read("organizations.csv").decode()
    db.conn.close()


def test_a_large_directory_is_built_in_the_background(writable_app):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": writable_app.config["DATABASE"],
            "DOWNLOAD_BUILD_IN_REQUEST_MAX": 10,  # the shipped data counts as large here
        }
    )
    client = app.test_client()
    waiting = client.get("/data/services.json", headers={"Accept": "application/json"})
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"] == "60"
    assert waiting.get_json()["error"]["message"].startswith("This download is being prepared")
    page = client.get("/data/services.json?lang=fil")
    assert page.status_code in (200, 503)
    if page.status_code == 503:
        assert "Inihahanda pa ang download" in page.get_data(as_text=True)
    deadline = time.time() + 60
    while (response := client.get("/data/services.json")).status_code == 503:
        assert time.time() < deadline, "the background build did not finish"
        time.sleep(0.2)
    assert len(_json(response)) > 200
    folder = downloads.folder_for(app.config["DATABASE"])
    assert not list(folder.rglob(".*"))  # no partial file or build marker left behind


def _being_built_elsewhere(app, name: str):
    """(connection, downloads folder, the file, its build marker), as if another worker had
    started writing the file."""
    db = connect(app.config["DATABASE"])
    folder = downloads.folder_for(app.config["DATABASE"])
    target = folder / downloads.version(db) / name
    target.parent.mkdir(parents=True)
    marker = downloads.marker_for(target)
    marker.touch()
    return db, folder, target, marker


def test_a_build_left_by_a_dead_process_does_not_block(writable_app, monkeypatch):
    db, folder, target, marker = _being_built_elsewhere(writable_app, "listings.csv")
    # another worker is on it: a small download waits for it (here it never comes)
    monkeypatch.setattr(downloads, "WAIT_FOR_OTHER_S", 0.3)
    started = time.monotonic()
    assert downloads.ready(db, folder, "listings.csv", build_now=True) is None
    assert 0.3 <= time.monotonic() - started < 5
    old = time.time() - downloads.STALE_BUILD_S - 1
    os.utime(marker, (old, old))
    path = downloads.ready(db, folder, "listings.csv", build_now=True)
    assert path == target and path.read_text(encoding="utf-8").startswith("id,name")
    assert not marker.exists()
    db.conn.close()


def test_a_small_download_waits_for_another_worker_writing_it(writable_app):
    db, _, target, marker = _being_built_elsewhere(writable_app, "services.json")

    def other_worker():
        time.sleep(0.3)
        target.write_text("[]", encoding="utf-8")
        marker.unlink()

    worker = threading.Thread(target=other_worker)
    worker.start()
    response = writable_app.test_client().get("/data/services.json")
    worker.join()
    assert response.status_code == 200 and response.get_data(as_text=True) == "[]"
    db.conn.close()
