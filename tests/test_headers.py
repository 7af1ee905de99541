"""No third party, strict headers, no cookies for anonymous visitors, and a refusing production.

Every page type (every GET route of the app, parameters filled with real ids) is fetched; each
response must carry the security headers, set no cookie, and its HTML may load nothing from
another site: no external script, style sheet, image, frame or form target, no inline script,
and every link to another site carries rel="noopener noreferrer".
"""

import os
import stat
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from directory import create_app, security_headers
from directory.config import production_problems
from directory.db import connect
from tests import crawl

# Attributes that make the browser fetch something (or send a form) by themselves.
RESOURCE_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "form": ("action",),
    "button": ("formaction",),
    "base": ("href",),
}


def is_external(url: str | None) -> bool:
    """Whether a URL points at another host (scheme-relative or absolute, not this site)."""
    if not url:
        return False
    parts = urlsplit(url.strip())
    if parts.scheme in ("tel", "sms", "mailto"):
        return False
    if parts.scheme in ("data", "javascript", "blob", "file", "ftp"):
        return True
    return bool(parts.netloc) and parts.hostname not in ("localhost", "127.0.0.1")


class PageAudit(HTMLParser):
    """Collects what in a page would reach another site, or run as inline script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.external_links: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in RESOURCE_ATTRIBUTES.get(tag, ()):
            for value in (attrs.get(name) or "").split(","):
                url = value.strip().split(" ")[0]
                if (
                    tag == "link"
                    and "stylesheet" not in (attrs.get("rel") or "")
                    and not any(
                        r in (attrs.get("rel") or "")
                        for r in ("icon", "preload", "prefetch", "manifest")
                    )
                ):
                    continue  # <link rel="alternate"> etc. load nothing
                if is_external(url):
                    self.problems.append(f"<{tag} {name}={url!r}>")
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            if is_external((attrs.get("content") or "").partition("url=")[2]):
                self.problems.append("<meta refresh> to another site")
        for name in attrs:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name} on <{tag}>")
        if "style" in attrs and "url(" in (attrs.get("style") or ""):
            self.problems.append(f"style url() on <{tag}>")
        if tag == "script":
            self._in_script = not attrs.get("src")
        if tag == "a" and is_external(attrs.get("href")):
            rel = (attrs.get("rel") or "").split()
            self.external_links.append(attrs["href"])
            if not {"noopener", "noreferrer"} <= set(rel):
                self.problems.append(f"<a href={attrs['href']!r}> without noopener noreferrer")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline <script>")
        if "@import" in data and "http" in data:
            self.problems.append("@import of another site in inline style")


def audit(html: str) -> PageAudit:
    """Parse a page and return its audit."""
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def real_ids(seeded_path):
    """Real ids of each kind from the seeded database (a public one first, then a confidential)."""
    db = connect(str(seeded_path))
    one = lambda sql: [r[0] for r in db.execute(sql)]  # noqa: E731
    tables = db.table_names()
    ids = {
        "service": one(
            "select s.id from service s where s.url like 'http%' limit 1"
        ) + one(
            "select sal.service_id from service_at_location sal join location l "
            "on l.id = sal.location_id where l.confidential = 1 limit 1"
        ),
        "organization": one("select id from organization limit 1"),
        "location": one("select id from location limit 1"),
        "sal": one("select id from service_at_location limit 1"),
        "code": ["0800000000", "PH"],
        "taxonomy_term": one("select id from taxonomy_term limit 1"),
        "term": one("select id from taxonomy_term limit 1"),
        "taxonomy": one("select id from taxonomy limit 1") if "taxonomy" in tables else [],
    }  # fmt: skip
    db.conn.close()
    return ids


EXTRA_PAGES = (
    "/search?q=shelter",
    "/search?region=0800000000&type=shelter",
    "/search?near=Tacloban&sort=distance",
    "/search?page=0",
    "/search?age=abc",
    "/hotlines?region=0800000000",
    "/no-such-page",
    "/services/00000000-0000-0000-0000-000000000000",
    "/api/services?q=shelter&per_page=3",
    "/api/services?page=0",
    "/api/nothing",
)


@pytest.fixture(scope="module")
def responses(app, real_ids):
    """Every page type, fetched once as an anonymous visitor: [(url, response)]."""
    urls = []
    for rule in crawl.get_rules(app):
        if rule.arguments:
            ids = {k: [v for v in values if v][:2] for k, values in real_ids.items()}
            urls += [u for u in crawl.fill(rule, ids) if "does-not-exist" not in u][:3]
        else:
            urls.append(rule.rule)
    urls += list(EXTRA_PAGES) + ["/static/style.css", "/static/quick-exit.js"]
    out = []
    for url in dict.fromkeys(urls):
        response = app.test_client().get(url)
        response.get_data()  # read and close (static files are open until then)
        response.close()
        out.append((url, response))
    return out


def test_every_page_type_was_fetched(responses):
    paths = {url.split("?")[0] for url, _ in responses}
    for expected in ("/", "/search", "/hotlines", "/areas", "/privacy", "/api/services"):
        assert expected in paths
    assert any(p.startswith("/services/") for p in paths)
    assert any(p.startswith("/organizations/") for p in paths)
    statuses = {r.status_code for _, r in responses}
    assert 500 not in statuses, [(u, r.status_code) for u, r in responses if r.status_code == 500]
    assert {200, 400, 404} <= statuses


def test_no_page_loads_anything_from_another_site(responses):
    problems, pages, links = {}, 0, 0
    for url, response in responses:
        if response.mimetype != "text/html":
            continue
        pages += 1
        result = audit(response.get_data(as_text=True))
        links += len(result.external_links)
        if result.problems:
            problems[url] = result.problems
    assert pages >= 8
    assert links > 0, "no external link was checked (a listing's website should be one)"
    assert not problems, problems


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.example/x.js"></script>',
        '<link rel="stylesheet" href="//fonts.example/css">',
        '<img src="http://tracker.example/p.gif">',
        '<iframe src="https://maps.example/"></iframe>',
        '<form action="https://collect.example/"></form>',
        '<a href="https://example.org/">out</a>',
        '<a href="https://example.org/" rel="noopener">out</a>',
        "<script>alert(1)</script>",
        '<button onclick="x()">x</button>',
    ],
)
def test_the_audit_catches_third_party_resources(html):
    assert audit(f"<!doctype html><html><body>{html}</body></html>").problems


def test_the_audit_allows_local_resources():
    html = (
        '<link rel="stylesheet" href="/static/style.css"><script src="/static/x.js" defer>'
        '</script><a href="https://example.org/" rel="noopener noreferrer">out</a>'
        '<a href="tel:+63163">163</a><a href="/search?q=x">x</a><form action="/search"></form>'
    )
    assert audit(html).problems == []


def test_every_response_carries_the_security_headers(responses):
    for url, response in responses:
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'",
                          "base-uri 'none'", "script-src 'self'", "object-src 'none'"):  # fmt: skip
            assert directive in csp, (url, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
        assert headers.get("Referrer-Policy") == "no-referrer", url
        assert headers.get("X-Content-Type-Options") == "nosniff", url
        permissions = headers.get("Permissions-Policy", "")
        for feature in ("geolocation=()", "camera=()", "microphone=()"):
            assert feature in permissions, (url, feature)
        assert headers.get("X-Frame-Options") == "DENY", url


def test_anonymous_visitors_get_no_cookie(responses):
    """Public pages set no cookie (a sign-in form, behind the login, may: it needs a CSRF token)."""
    public = [
        (u, r)
        for u, r in responses
        if not security_headers.is_private(u.split("?")[0]) and r.status_code not in (401, 403)
    ]
    assert len(public) > 10
    for url, response in public:
        assert "Set-Cookie" not in response.headers, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url


def test_anonymous_visitors_get_no_cookie_when_choosing_a_language(client):
    for url in ("/?lang=fil", "/search?q=shelter&lang=ceb", "/hotlines?lang=fil"):
        response = client.get(url, headers={"Accept-Language": "fil"})
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, url


def test_the_privacy_page_is_linked_from_every_footer(responses):
    html_pages = [(u, r) for u, r in responses if r.mimetype == "text/html" and r.status_code < 300]
    for url, response in html_pages:
        assert 'href="/privacy"' in response.get_data(as_text=True), url
    privacy = dict(responses)["/privacy"].get_data(as_text=True)
    for words in ("analytics", "cookies", "search text", "Quick exit", "confidential"):
        assert words.lower() in privacy.lower(), words


def test_logged_in_pages_are_not_stored(app):
    """A signed-in user's pages, and anything behind a login, carry Cache-Control: no-store."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "someone"
    response = client.get("/")
    assert response.headers.get("Cache-Control") == "no-store"
    anonymous = app.test_client()
    for path in ("/manage", "/review", "/admin", "/login"):
        response = anonymous.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path
    assert security_headers.is_private("/manage/services/1")
    assert not security_headers.is_private("/managers-guide")


def test_a_view_may_set_its_own_permissions_policy(app):
    """A page that deliberately asks for location keeps the header it set."""
    private = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"]})

    @private.get("/_locate")
    def locate():
        return "ok", 200, {"Permissions-Policy": "geolocation=(self)"}

    response = private.test_client().get("/_locate")
    assert response.headers["Permissions-Policy"] == "geolocation=(self)"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# --------------------------------------------------------------------- production refusal


@pytest.fixture
def serve(app, tmp_path, monkeypatch):
    """Run `directory serve` against an app with the given config; gunicorn is stubbed."""
    started = []
    monkeypatch.setattr("directory.server.run_gunicorn", lambda *a, **k: started.append(k))

    def run(config: dict, *args: str, env: dict | None = None):
        served = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"], **config})
        served.instance_path = str(tmp_path / "instance")
        from directory.cli import main

        result = CliRunner().invoke(
            main, ["serve", *args], obj=ScriptInfo(create_app=lambda: served), env=env
        )
        return result, served, started

    return run


def test_serve_refuses_debug_in_production(serve):
    result, _, started = serve({"SECRET_KEY": "x" * 40}, env={"FLASK_DEBUG": "1"})
    assert result.exit_code != 0 and "debug" in result.output and not started


@pytest.mark.parametrize("key", ["", "changeme", "dev-secret", "you-will-never-guess"])
def test_serve_refuses_a_weak_secret_key(serve, key):
    result, _, started = serve({"SECRET_KEY": key})
    assert result.exit_code != 0 and "SECRET_KEY" in result.output and not started


def test_serve_starts_an_unconfigured_instance_with_its_own_random_key(serve, tmp_path):
    """No key configured: directory.security gives the instance a random one; serve accepts it."""
    result, served, started = serve({"TESTING": False, "SECRET_KEY_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert started and started[0]["workers"] == 2
    key = served.config["SECRET_KEY"]
    assert key == (tmp_path / "secret_key").read_text().strip() and len(key) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_serve_refuses_the_development_key(serve):
    result, _, started = serve({"SECRET_KEY": "dev"})
    assert result.exit_code != 0 and "SECRET_KEY" in result.output and not started


def test_serve_starts_with_a_real_key(serve):
    result, _, started = serve({"SECRET_KEY": "k" * 16 + "0123456789abcdef"})
    assert result.exit_code == 0, result.output
    assert started


def test_production_problems():
    assert production_problems({"SECRET_KEY": "a" * 32}) == []
    assert len(production_problems({"DEBUG": True, "SECRET_KEY": None})) == 2
