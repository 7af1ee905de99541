"""Browser fixtures: the real app served on a loopback port, driven by Debian's chromium.

Chromium is required, not optional: when it is missing the tests fail (``make test`` installs it
first via tests/ensure_chromium.sh). The machine has no network, so the neutral quick-exit site
and any other outside address are intercepted: the quick-exit URL (and a stand-in "previous
site") get a tiny local body, anything else outside the directory is aborted and reported.
"""

import os
import shutil
import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from directory import create_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# A made-up page standing for "the site the person was on before": Back after a quick exit
# must land here (or nowhere), never on the directory.
PREVIOUS_SITE_URL = "https://previous.example/"
NEUTRAL_BODY = "<!doctype html><title>Neutral</title><p>Nothing to see here.</p>"


def _chromium_path():
    found = shutil.which("chromium")
    if found:
        return found
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    return None


@pytest.fixture(scope="session")
def live_app(seeded_path):
    """The real app on the seeded database (a private app instance for the server thread)."""
    return create_app({"TESTING": True, "DATABASE": str(seeded_path)})


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve the app on a free loopback port in a background thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def quick_exit_url(live_app):
    return live_app.config["QUICK_EXIT_URL"]


@pytest.fixture(scope="session")
def previous_site_url():
    return PREVIOUS_SITE_URL


@pytest.fixture(scope="session")
def browser():
    """A headless chromium (Debian's) for the whole session."""
    path = _chromium_path()
    if path is None:
        pytest.fail(
            "chromium is not installed: the browser tests need Debian's chromium "
            "(run tests/ensure_chromium.sh, or `apt-get install chromium`; `make test` does this)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


class Outside:
    """Requests that left the directory during a test: neutral pages served, others blocked."""

    def __init__(self, base_url, quick_exit_url):
        self.base = urlsplit(base_url).netloc
        self.neutral = {quick_exit_url, PREVIOUS_SITE_URL}
        self.blocked = []

    def handle(self, route):
        url = route.request.url
        if urlsplit(url).netloc == self.base:
            route.continue_()
        elif url in self.neutral:
            route.fulfill(status=200, content_type="text/html", body=NEUTRAL_BODY)
        else:
            self.blocked.append(url)
            route.abort()


def _new_context(browser, live_server, quick_exit_url, **options):
    context = browser.new_context(base_url=live_server, **options)
    context.set_default_timeout(5000)
    outside = Outside(live_server, quick_exit_url)
    context.route("**/*", outside.handle)
    return context, outside


@pytest.fixture
def page(browser, live_server, quick_exit_url):
    """A fresh page (own context) with JavaScript; no third-party request may be made."""
    context, outside = _new_context(browser, live_server, quick_exit_url)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert outside.blocked == [], f"pages requested outside addresses: {outside.blocked}"


@pytest.fixture
def page_without_js(browser, live_server, quick_exit_url):
    """A fresh page in a context with JavaScript disabled."""
    context, outside = _new_context(browser, live_server, quick_exit_url, java_script_enabled=False)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert outside.blocked == [], f"pages requested outside addresses: {outside.blocked}"
