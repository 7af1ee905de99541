"""In a real browser, no page type makes a request that leaves 127.0.0.1, and none breaks the CSP.

Each page type is loaded (with JavaScript on) and every request the browser makes is recorded:
all must go to the directory itself. The console must report no Content-Security-Policy
violation (an inline script or style, or a resource from elsewhere, that the policy blocked).
"""

from urllib.parse import urlsplit

import pytest

from directory.db import connect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page_types(seeded_path):
    """One URL for each kind of page, with real ids from the seeded database."""
    db = connect(str(seeded_path))
    try:
        service = db.execute(
            "select id from service where url like 'http%' order by name limit 1"
        ).fetchone()[0]
        confidential = db.execute(
            "select sal.service_id from service_at_location sal join location l "
            "on l.id = sal.location_id where l.confidential = 1 limit 1"
        ).fetchone()[0]
        organization = db.execute("select organization_id from service where id = ?", [service])
        organization = organization.fetchone()[0]
    finally:
        db.conn.close()
    return [
        "/",
        "/search?q=shelter",
        "/search?region=0800000000&type=shelter",
        "/search?near=Tacloban&sort=distance",
        "/search?page=0",
        f"/services/{service}",
        f"/services/{confidential}",
        f"/organizations/{organization}",
        "/hotlines",
        "/hotlines?region=0800000000",
        "/areas",
        "/areas/0800000000",
        "/privacy",
        "/data",
        f"/referral?ids={service}",
        f"/referral/slip?ids={service}",
        "/login",
        "/no-such-page",
        "/api/services?per_page=2",
    ]


def test_no_request_leaves_the_machine(page, live_server, page_types):
    host = urlsplit(live_server).netloc
    requested, violations = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    statuses = {}
    for path in page_types:
        response = page.goto(path)
        statuses[path] = response.status if response else None
        page.wait_for_load_state("load")
    assert statuses["/"] == 200 and statuses["/privacy"] == 200
    assert all(status is not None and status < 500 for status in statuses.values()), statuses
    outside = [url for url in requested if urlsplit(url).netloc != host]
    assert not outside, outside
    # The pages did load their own style sheet and script (so requests were being watched).
    assert any(url.endswith("/static/style.css") for url in requested)
    assert any(url.endswith("/static/quick-exit.js") for url in requested)
    assert not violations, violations


def test_the_policy_would_block_a_third_party_resource(page, live_server):
    """Control: the CSP really stops a resource from elsewhere (the browser reports it)."""
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto("/privacy")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.src = 'https://cdn.example/tracker.js'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert any("Content Security Policy" in m for m in messages), messages
