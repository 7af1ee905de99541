"""Accounts: sign-in, CSRF, rate limits, passwords, links, tokens, the CLI, the secret key."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from directory import create_app, security
from directory.db import get_db
from directory.models import audit, users
from directory.models.revisions import immediate

ORG_A = "04d71071-8a84-5b51-95f4-bb5d021bc805"
PASSWORD = "correct horse battery"


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def add_user(app, email="editor@example.org", role="editor", password=PASSWORD, orgs=(ORG_A,)):
    """Create an account directly (as the CLI would)."""
    from directory import auth

    with app.app_context():
        db = get_db()
        with immediate(db):
            return users.create_user(
                db, email, role, password_hash=auth.hash_password(password), org_ids=list(orgs)
            )


def login(client, email, password):
    """Post the sign-in form with its CSRF token."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def app(writable_app):
    """A writable app with one editor."""
    add_user(writable_app)
    return writable_app


def test_sign_in_and_out(app):
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert 'href="/login"' in home and "Sign out" not in home
    response = login(client, "editor@example.org", PASSWORD)
    assert response.status_code == 302 and response.location.endswith("/manage/")
    dashboard = client.get("/manage/").get_data(as_text=True)
    assert "editor@example.org" in dashboard and "Sign out" in dashboard
    client.post("/logout", data={"csrf_token": csrf_token(dashboard)})
    assert client.get("/manage/").status_code == 302


def test_passwords_are_argon2_hashes(app):
    with app.app_context():
        user = users.get_by_email(get_db(), "editor@example.org")
        stored = users.password_hash(get_db(), user.id)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_failure_does_not_reveal_whether_the_email_exists(app):
    unknown = login(app.test_client(), "nobody@example.org", "whatever-password")
    wrong = login(app.test_client(), "editor@example.org", "wrong-password!")
    assert unknown.status_code == wrong.status_code == 401

    def message(response):
        return re.search(r'role="alert">([^<]*)<', response.get_data(as_text=True)).group(1)

    assert message(unknown) == message(wrong)


def test_deactivated_accounts_cannot_sign_in(app):
    with app.app_context():
        db = get_db()
        user = users.get_by_email(db, "editor@example.org")
        with immediate(db):
            users.update_user(db, user.id, active=False)
    assert login(app.test_client(), "editor@example.org", PASSWORD).status_code == 401


def test_sign_in_attempts_are_rate_limited(app):
    client = app.test_client()
    statuses = [login(client, "editor@example.org", f"wrong-{i}").status_code for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # the right password does not get through either while the limit holds
    assert login(client, "editor@example.org", PASSWORD).status_code == 429


def test_the_rate_limit_is_per_email_too(app):
    statuses = []
    for i in range(11):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i}"
        statuses.append(login(client, "editor@example.org", f"wrong-{i}").status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    "url",
    ["/login", "/logout", "/account/password", "/manage/services/x/edit", "/review/1/approve"],
)
def test_posts_without_the_csrf_token_are_refused(app, url):
    client = app.test_client()
    login(client, "editor@example.org", PASSWORD)
    response = client.post(url, data={"email": "editor@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_session_api_calls_need_the_csrf_header_but_token_calls_do_not(app):
    client = app.test_client()
    login(client, "editor@example.org", PASSWORD)
    with app.app_context():
        db = get_db()
        sid = db.execute("select id from service where organization_id = ?", [ORG_A]).fetchone()[0]
        user = users.get_by_email(db, "editor@example.org")
        with immediate(db):
            token = users.create_token(db, user.id)
    version = client.get(f"/api/services/{sid}").headers["ETag"]
    url = f"/api/manage/services/{sid}"
    no_csrf = client.put(url, json={"alert": "x"}, headers={"If-Match": version})
    assert no_csrf.status_code == 400 and "CSRF" in no_csrf.get_json()["error"]["message"]
    page = client.get("/manage/").get_data(as_text=True)
    with_csrf = client.put(
        url, json={"alert": "x"}, headers={"If-Match": version, "X-CSRFToken": csrf_token(page)}
    )
    assert with_csrf.status_code == 202
    bearer = app.test_client().put(
        url, json={"alert": "y"}, headers={"If-Match": version, "Authorization": f"Bearer {token}"}
    )
    assert bearer.status_code == 202


def test_a_bearer_header_does_not_skip_csrf_for_a_cookie_session_on_pages(app):
    client = app.test_client()
    login(client, "editor@example.org", PASSWORD)
    response = client.post("/logout", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 400


def test_changing_the_password_ends_other_sessions(app):
    first, second = app.test_client(), app.test_client()
    login(first, "editor@example.org", PASSWORD)
    login(second, "editor@example.org", PASSWORD)
    page = first.get("/account/password").get_data(as_text=True)
    response = first.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(page),
            "current": PASSWORD,
            "password": "a brand new password",
            "confirm": "a brand new password",
        },
    )
    assert response.status_code == 302
    assert first.get("/manage/").status_code == 200
    assert second.get("/manage/").status_code == 302  # signed out
    assert login(app.test_client(), "editor@example.org", "a brand new password").status_code == 302


def _admin_client(app):
    add_user(app, "admin@example.org", "admin", orgs=())
    client = app.test_client()
    login(client, "admin@example.org", PASSWORD)
    return client


def test_an_admin_invites_a_user_with_a_one_time_link(app):
    admin = _admin_client(app)
    page = admin.get("/admin/users/new").get_data(as_text=True)
    response = admin.post(
        "/admin/users/new",
        data={"csrf_token": csrf_token(page), "email": "new@example.org", "role": "moderator"},
    )
    link = re.search(r'value="(http://localhost(/account/set-password/[^"]+))"', response.text)
    path = link.group(2)
    newcomer = app.test_client()
    form = newcomer.get(path).get_data(as_text=True)
    done = newcomer.post(
        path,
        data={
            "csrf_token": csrf_token(form),
            "password": "moderator password",
            "confirm": "moderator password",
        },
    )
    assert done.status_code == 302
    assert login(app.test_client(), "new@example.org", "moderator password").status_code == 302
    assert app.test_client().get(path).status_code == 404  # used once


def test_links_expire(app):
    with app.app_context():
        db = get_db()
        user = users.get_by_email(db, "editor@example.org")
        with immediate(db):
            raw = users.create_link(db, user.id, "reset", created_by=None, hours=1)
            assert users.check_link(db, raw) is not None
            past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
            db.execute("update user_link set expires_at = ?", [past])
        assert users.check_link(db, raw) is None
    assert app.test_client().get(f"/account/set-password/{raw}").status_code == 404


def test_admin_pages_and_audit_log_are_for_admins_only(app):
    editor = app.test_client()
    login(editor, "editor@example.org", PASSWORD)
    for url in ("/admin/users", "/admin/audit", "/admin/users/new"):
        assert editor.get(url).status_code == 403
    admin = _admin_client(app)
    log = admin.get("/admin/audit").get_data(as_text=True)
    assert "login" in log and "editor@example.org" in log


def test_every_sign_in_is_audited_and_the_log_is_append_only(app):
    login(app.test_client(), "editor@example.org", PASSWORD)
    login(app.test_client(), "editor@example.org", "wrong password")
    with app.app_context():
        db = get_db()
        actions = [e["action"] for e in audit.entries(db)]
        assert actions[:2] == ["login.failed", "login"]
        with pytest.raises(Exception, match="append-only"):
            db.execute("delete from audit_log")
        with pytest.raises(Exception, match="append-only"):
            db.execute("update audit_log set action = 'nothing'")


def test_cli_adds_users_and_prints_tokens(writable_app):
    from flask.cli import ScriptInfo

    from directory.cli import main

    cli = writable_app.test_cli_runner()

    class Runner:
        def invoke(self, args, input=None):
            info = ScriptInfo(create_app=lambda: writable_app)
            return cli.invoke(main, args=args, input=input, obj=info)

    runner = Runner()
    result = runner.invoke(
        args=["users", "add", "boss@example.org", "--role", "admin", "--password-stdin"],
        input="a long admin password\n",
    )
    assert result.exit_code == 0, result.output
    editor = runner.invoke(
        args=["users", "add", "ngo@example.org", "--role", "editor", "--org", ORG_A]
    )
    assert editor.exit_code == 0 and "/account/set-password/" in editor.output
    no_org = runner.invoke(args=["users", "add", "x@example.org", "--role", "editor"])
    assert no_org.exit_code != 0 and "organisation" in no_org.output
    short = runner.invoke(
        args=["users", "add", "y@example.org", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0
    token = runner.invoke(args=["users", "token", "ngo@example.org"]).output.strip()
    assert len(token) > 30
    response = writable_app.test_client().get(
        "/api/manage/change_requests", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    with writable_app.app_context():
        stored = [r["token_hash"] for r in get_db().query("select token_hash from api_token")]
    assert token not in stored
    assert (
        login(writable_app.test_client(), "boss@example.org", "a long admin password").status_code
        == 302
    )


def test_production_replaces_the_dev_key_with_a_persisted_random_one(seeded_path, tmp_path):
    config = {"DATABASE": str(seeded_path), "SECRET_KEY": "dev", "SECRET_KEY_DIR": str(tmp_path)}
    app = create_app(config)
    assert app.config["SECRET_KEY"] != "dev" and len(app.config["SECRET_KEY"]) >= 32
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == app.config["SECRET_KEY"]
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    again = create_app(config)
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_refuses_to_start_with_the_default_or_a_weak_key(seeded_path):
    with pytest.raises(security.InsecureConfig):
        create_app({"DATABASE": str(seeded_path), "SECRET_KEY": "dev", "SECRET_KEY_AUTO": False})
    with pytest.raises(security.InsecureConfig):
        create_app({"DATABASE": str(seeded_path), "SECRET_KEY": "changeme"})


def test_development_keeps_insecure_cookies_for_http(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


WEB_ROLES = ("anonymous", "partner", "editor", "moderator", "admin")
OTHER_ORG = "f9cc307e-03bb-53d9-8de1-de66fa42cc92"


@pytest.fixture(scope="module")
def web(seeded_path, tmp_path_factory):
    """A private app with a signed-in test client per role (the editor belongs to ORG_A)."""
    import shutil

    path = tmp_path_factory.mktemp("web") / "directory.sqlite"
    shutil.copy(seeded_path, path)
    app = create_app({"TESTING": True, "DATABASE": str(path)})
    clients = {"anonymous": app.test_client()}
    for role in WEB_ROLES[1:]:
        add_user(app, f"{role}@example.org", role, orgs=(ORG_A,) if role == "editor" else ())
        clients[role] = app.test_client()
        assert login(clients[role], f"{role}@example.org", PASSWORD).status_code == 302
    with app.app_context():
        db = get_db()

        def first(org):
            return db.execute("select id from service where organization_id = ?", [org]).fetchone()[
                0
            ]

        services = {"own": first(ORG_A), "other": first(OTHER_ORG)}
    return {"clients": clients, "service": services, "org": {"own": ORG_A, "other": OTHER_ORG}}


EDITORS_OWN = {"editor": (200, 403), "moderator": (200, 200), "admin": (200, 200)}
REVIEWERS = {"moderator": (200, 200), "admin": (200, 200)}
WEB_PAGES = {
    # page: (url template, {role: (own, other)}) - roles not named get 403
    "dashboard": ("/manage/", {r: (200, 200) for r in ("partner", "editor", "moderator", "admin")}),
    "edit": ("/manage/services/{sid}/edit", EDITORS_OWN),
    "history": ("/manage/services/{sid}/history", EDITORS_OWN),
    "new service": ("/manage/organizations/{org}/services/new", EDITORS_OWN),
    "organisation": ("/manage/organizations/{org}", EDITORS_OWN),
    "proposals": ("/manage/proposals", {r: (200, 200) for r in ("editor", "moderator", "admin")}),
    "verify": ("/manage/services/{sid}/verify", REVIEWERS),
    "review queue": ("/review/", REVIEWERS),
    "due": ("/review/due", REVIEWERS),
    "users": ("/admin/users", {"admin": (200, 200)}),
    "organisation admin": ("/admin/organizations/{org}", {"admin": (200, 200)}),
    "audit": ("/admin/audit", {"admin": (200, 200)}),
}


@pytest.mark.parametrize("target", ["own", "other"])
@pytest.mark.parametrize("role", WEB_ROLES)
@pytest.mark.parametrize("page", sorted(WEB_PAGES))
def test_web_authorisation_matrix(web, page, role, target):
    template, allowed = WEB_PAGES[page]
    url = template.format(sid=web["service"][target], org=web["org"][target])
    response = web["clients"][role].get(url)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
    else:
        expected = allowed.get(role, (403, 403))[0 if target == "own" else 1]
        assert response.status_code == expected, (page, role, target)


def test_an_admin_adds_an_organisation_and_its_editor_proposes_a_service(app):
    admin = _admin_client(app)
    page = admin.get("/admin/organizations/new").get_data(as_text=True)
    response = admin.post(
        "/admin/organizations/new",
        data={"csrf_token": csrf_token(page), "name": "Bahay Silungan Foundation"},
    )
    assert response.status_code == 302
    org_id = response.location.rsplit("/", 1)[-1]
    again = admin.post(
        "/admin/organizations/new",
        data={"csrf_token": csrf_token(page), "name": "Bahay Silungan Foundation"},
    )
    assert "already exists" in again.get_data(as_text=True)
    add_user(app, "bahay@example.org", "editor", orgs=(org_id,))
    editor = app.test_client()
    login(editor, "bahay@example.org", PASSWORD)
    assert editor.get(f"/manage/organizations/{org_id}/services/new").status_code == 200
    assert editor.get(f"/manage/organizations/{ORG_A}/services/new").status_code == 403
    with app.app_context():
        entries = [e["action"] for e in audit.entries(get_db())]
    assert "organization.create" in entries


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/manage/proposals", "/manage/proposals"),
        ("//evil.example/", "/manage/"),
        ("/\\evil.example/", "/manage/"),
        ("https://evil.example/", "/manage/"),
    ],
)
def test_sign_in_only_returns_to_a_page_of_this_site(app, target, expected):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "editor@example.org", "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.location == expected
