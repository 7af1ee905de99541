"""Staff pages (NGO manage, review, admin, sign-in) in Filipino and Cebuano: form labels, choices
and validation messages, the diff table, and the errors the models raise, while the JSON manage
API keeps answering in English."""

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from directory import auth, forms
from directory.db import get_db
from directory.models import change_requests as cr
from directory.models import users
from directory.models.revisions import immediate
from tests.pages import csrf, form_fields, literal_msgids

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "directory" / "translations"
LOCALES = ("fil", "ceb")
PASSWORD = "correct horse battery"
ORG_A = "c4ae7e45-2150-581c-8e68-643f2ae9aee6"  # one service: phones, hours, a location
REVIEW = "needs review by a native speaker"
STAFF_SOURCES = (
    "directory/forms.py",
    "directory/views/manage.py",
    "directory/views/review.py",
    "directory/views/admin.py",
    "directory/views/auth.py",
    "templates/manage/",
    "templates/review/",
    "templates/admin/",
    "templates/auth/",
)


def catalogue(locale):
    with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def text(html: str) -> str:
    """A page's visible text on one line, as a person reads it (entities decoded)."""
    html = re.sub(r"</?(p|li|ul|div|td|th|tr|br|h\d)\b[^>]*>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


@pytest.fixture
def site(writable_app):
    """A writable app with an admin, a moderator and an editor of ORG_A, and ORG_A's service."""
    app = writable_app
    tokens = {}
    with app.app_context():
        db = get_db()
        with immediate(db):
            for email, role, orgs in (
                ("admin@example.org", "admin", []),
                ("mod@example.org", "moderator", []),
                ("ed@example.org", "editor", [ORG_A]),
            ):
                user = users.create_user(
                    db, email, role, password_hash=auth.hash_password(PASSWORD), org_ids=orgs
                )
                tokens[role] = users.create_token(db, user.id)
        sql = "select id from service where organization_id = ? order by id"
        service_id = db.execute(sql, [ORG_A]).fetchone()[0]
    return {"app": app, "tokens": tokens, "sid": service_id}


def signed_in(site, role: str, lang: str):
    """A browser session of that role whose Accept-Language is `lang`."""
    client = site["app"].test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    email = {
        "admin": "admin@example.org",
        "moderator": "mod@example.org",
        "editor": "ed@example.org",
    }[role]
    token = csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def api(site, role: str, method: str, url: str, lang: str = "en", **kwargs):
    """A manage API call with the role's bearer token and an Accept-Language."""
    headers = kwargs.pop("headers", {}) | {
        "Authorization": f"Bearer {site['tokens'][role]}",
        "Accept-Language": lang,
    }
    return site["app"].test_client().open(url, method=method, headers=headers, **kwargs)


def propose(site, body: dict) -> int:
    """The editor proposes a change to ORG_A's service; the change request's id."""
    sid = site["sid"]
    etag = site["app"].test_client().get(f"/api/services/{sid}").headers["ETag"]
    response = api(
        site, "editor", "PUT", f"/api/manage/services/{sid}", json=body, headers={"If-Match": etag}
    )
    assert response.status_code == 202
    return response.get_json()["id"]


# --- the NGO edit form -------------------------------------------------------------------------

LABELS = {
    # field id: (English, Filipino, Cebuano)
    "alternate_name": ("Other name", "Ibang pangalan", "Laing ngalan"),
    "minimum_age": ("Minimum age", "Pinakamababang edad", "Pinakaubos nga edad"),
    "free": ("Free of charge", "Libre", "Libre"),
    "phones-0-number": ("Number", "Numero", "Numero"),
    "schedules-0-opens_at": ("Opens (HH:MM)", "Bubukas (HH:MM)", "Moabli (HH:MM)"),
    "locations-0-address_1": ("Street address", "Address (kalye)", "Adres (dalan)"),
    "source_url": (
        "Source of these facts (URL)",
        "Sanggunian ng impormasyong ito (URL)",
        "Tinubdan niini nga impormasyon (URL)",
    ),
}
OPTIONS = {
    # submitted value: (English, Filipino, Cebuano)
    "inactive": ("inactive", "hindi aktibo", "dili aktibo"),
    "female": ("female", "babae", "babaye"),
    "cell": ("mobile", "cellphone", "cellphone"),
}
COLUMN = {"en": 0, "fil": 1, "ceb": 2}


@pytest.mark.parametrize("lang", ["en", "fil", "ceb"])
def test_the_edit_form_speaks_the_viewers_language(site, lang):
    editor = signed_in(site, "editor", lang)
    html = editor.get(f"/manage/services/{site['sid']}/edit").text
    for field_id, names in LABELS.items():
        assert f'<label for="{field_id}">{names[COLUMN[lang]]}</label>' in html, field_id
    for value, names in OPTIONS.items():
        assert re.search(
            rf'<option (selected )?value="{value}">{names[COLUMN[lang]]}</option>', html
        ), value
    remove = {"en": "Remove", "fil": "Alisin", "ceb": "Tangtanga"}[lang]
    assert f"> {remove}</label>" in html  # a checkbox's label
    types = {"en": "Hotline or helpline", "fil": "Hotline o helpline", "ceb": "Hotline o helpline"}
    assert f'">{types[lang]}</label>' in html  # a service type's checkbox
    # Field names and submitted values stay as they are.
    assert 'name="minimum_age"' in html and 'name="phones-0-number"' in html
    assert '<option value="defunct">' in html


def test_a_translated_form_is_submitted_with_the_same_values(site):
    editor = signed_in(site, "editor", "ceb")
    url = f"/manage/services/{site['sid']}/edit"
    data = form_fields(editor.get(url).text) | {"status": ["temporarily closed"]}
    assert editor.post(url, data=data).status_code == 302
    with site["app"].app_context():
        request = cr.list_requests(get_db(), status="pending")[0]
    assert request["record"]["status"] == "temporarily closed"


@pytest.mark.parametrize(
    "lang, whole_number, too_long, summary",
    [
        (
            "fil",
            "Maglagay ng buong numero, gaya ng 12.",
            "Hanggang 300 na titik lang.",
            "Pinakamababang edad: Maglagay ng buong numero, gaya ng 12.",
        ),
        (
            "ceb",
            "Pagbutang og tibuok nga numero, sama sa 12.",
            "Hangtod 300 ka letra lang.",
            "Pinakaubos nga edad: Pagbutang og tibuok nga numero, sama sa 12.",
        ),
        (
            "en",
            "Give a whole number, such as 12.",
            "Use at most 300 characters.",
            "Minimum age: Give a whole number, such as 12.",
        ),
    ],
)
def test_form_validation_errors_are_translated(site, lang, whole_number, too_long, summary):
    editor = signed_in(site, "editor", lang)
    url = f"/manage/services/{site['sid']}/edit"
    data = form_fields(editor.get(url).text)
    data |= {"minimum_age": ["abc"], "name": ["x" * 301], "status": ["closed for good"]}
    response = editor.post(url, data=data)
    assert response.status_code == 400
    html = response.text
    assert f'<span class="error">{whole_number}</span>' in html
    assert f'<span class="error">{too_long}</span>' in html
    not_a_choice = {
        "fil": "Pumili ng isa sa mga pagpipilian.",
        "ceb": "Pagpili og usa sa mga kapilian.",
        "en": "Choose one of the options.",
    }
    assert f'<span class="error">{not_a_choice[lang]}</span>' in html
    errors = re.search(r'<div class="error" role="alert">(.*?)</div>', html, re.S).group(1)
    assert summary in text(errors)
    assert "l'" not in errors and "[" not in errors  # messages, not Python lists of them


def test_required_and_password_messages_are_translated(site):
    client = site["app"].test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ceb"
    page = client.get("/login").text
    assert '<label for="password">Password</label>' in page
    assert re.search(r'<input id="submit" name="submit" type="submit" value="Mag-sign in">', page)
    empty = client.post("/login", data={"csrf_token": csrf(page), "email": "", "password": ""})
    assert "Kinahanglan kini pun-an." in empty.text  # the field's own message
    wrong = client.post(
        "/login",
        data={"csrf_token": csrf(page), "email": "ed@example.org", "password": "not the password"},
    )
    assert "Ang maong email ug password dili motakdo sa usa ka aktibo nga account." in wrong.text
    editor = signed_in(site, "editor", "fil")
    form = editor.get("/account/password").text
    assert '<label for="current">Kasalukuyang password</label>' in form
    mismatch = editor.post(
        "/account/password",
        data={
            "csrf_token": csrf(form),
            "current": "wrong password!",
            "password": "short",
            "confirm": "a different one",
        },
    )
    assert "Gumamit ng 10 hanggang 1000 na titik." in mismatch.text
    assert "Hindi magkapareho ang dalawang password." in mismatch.text
    wrong_current = editor.post(
        "/account/password",
        data={
            "csrf_token": csrf(form),
            "current": "wrong password!",
            "password": "a long new password",
            "confirm": "a long new password",
        },
    )
    assert "Mali ang kasalukuyang password." in wrong_current.text


# --- errors raised by the models, shown on pages -----------------------------------------------


def test_invalid_fields_from_the_model_are_named_and_explained_in_cebuano(site):
    editor = signed_in(site, "editor", "ceb")
    url = f"/manage/services/{site['sid']}/edit"
    data = form_fields(editor.get(url).text) | {
        "schedules-0-byday": ["MO,XX"],
        "url": ["childhope.org.ph"],
    }
    response = editor.post(url, data=data)
    assert response.status_code == 400
    errors = re.search(r'<div class="error" role="alert">(.*?)</div>', response.text, re.S).group(1)
    shown = text(errors)
    assert "Oras 1 · Mga adlaw: kinahanglan mga adlaw sama sa MO,TU,WE" in shown
    assert "Website: kinahanglan magsugod sa http:// o https://" in shown
    assert 'data-field="schedules[0].byday"' in errors  # the API's name for the field, kept
    assert "must be" not in shown


def test_a_model_error_flashed_on_the_review_page_is_translated(site):
    request_id = propose(site, {"description": "A new description"})
    for lang, expected in (
        ("ceb", f"nasalikway na ang sugyot {request_id}"),
        ("fil", f"natanggihan na ang panukala {request_id}"),
        ("en", f"change request {request_id} is already rejected"),
    ):
        moderator = signed_in(site, "moderator", lang)
        token = csrf(moderator.get(f"/review/{request_id}").text)
        if lang == "ceb":
            rejected = api(
                site,
                "moderator",
                "POST",
                f"/api/manage/change_requests/{request_id}/reject",
                json={"reason": "Kulang ang detalye"},
            )
            assert rejected.status_code == 200
        response = moderator.post(
            f"/review/{request_id}/approve", data={"csrf_token": token}, follow_redirects=True
        )
        assert f'<p class="notice" role="status">{expected}</p>' in response.text, lang


def test_an_account_error_on_the_admin_pages_is_translated(site):
    admin = signed_in(site, "admin", "fil")
    form = admin.get("/admin/users/new").text
    assert '<option value="moderator">moderator</option>' in form
    assert "Gawin ang account at gumawa ng link ng imbitasyon" in form
    again = admin.post(
        "/admin/users/new",
        data={"csrf_token": csrf(form), "email": "ed@example.org", "role": "moderator"},
    )
    assert (
        '<p class="error" role="alert">may user na na may email na ed@example.org</p>' in again.text
    )
    with site["app"].app_context():
        me = users.get_by_email(get_db(), "admin@example.org")
    page = admin.get(f"/admin/users/{me.id}").text
    demoted = admin.post(
        f"/admin/users/{me.id}", data={"csrf_token": csrf(page), "role": "editor", "active": "y"}
    )
    assert "Hindi mo puwedeng alisin ang sarili mong tungkuling admin" in demoted.text


def test_error_pages_of_staff_views_are_translated(site):
    editor = signed_in(site, "editor", "ceb")
    missing = editor.get("/manage/services/no-such-service/edit")
    assert missing.status_code == 404
    assert "Walay ingon niini nga serbisyo." in missing.text


# --- the diff table and the words built in code ------------------------------------------------


@pytest.mark.parametrize(
    "lang, headings, row, status, kind",
    [
        ("fil", ("Bahagi", "Dati", "Pagkatapos"), "Paglalarawan", "naghihintay", "pag-edit"),
        ("ceb", ("Bahin", "Daan", "Bag-o"), "Paghulagway", "naghulat", "pag-edit"),
        ("en", ("Field", "Before", "After"), "Description", "pending", "edit"),
    ],
)
def test_the_diff_table_is_translated(site, lang, headings, row, status, kind):
    request_id = propose(site, {"description": "A new description"})
    for path in (f"/review/{request_id}", f"/manage/change_requests/{request_id}"):
        role = "moderator" if path.startswith("/review") else "editor"
        html = signed_in(site, role, lang).get(path).text
        table = re.search(r'<table class="diff">.*?</table>', html, re.S).group(0)
        first, before, after = headings
        assert f"<thead><tr><th>{first}</th><th>{before}</th><th>{after}</th></tr></thead>" in table
        assert f'<th scope="row">{row}</th>' in table
        assert "A new description" in table  # the values are shown as entered
        assert f'<strong class="status-pending">{status}</strong>' in html
        assert text(html).count(f"{kind} · ") == 1  # the proposal's kind


def test_a_proposal_without_changes_says_so_in_cebuano(site):
    editor = signed_in(site, "editor", "ceb")
    url = f"/manage/services/{site['sid']}/edit"
    unchanged = editor.post(url, data=form_fields(editor.get(url).text))
    assert unchanged.status_code == 302
    page = editor.get(unchanged.location).text
    assert "<p>Walay kausaban.</p>" in page


def test_the_users_page_says_yes_and_no_in_filipino(site):
    with site["app"].app_context():
        db = get_db()
        with immediate(db):
            users.update_user(db, users.get_by_email(db, "mod@example.org").id, active=False)
    html = signed_in(site, "admin", "fil").get("/admin/users").text
    rows = dict(
        re.findall(r">([\w.@]+@example\.org)</a></td>.*?<td>(oo|hindi)</td></tr>", html, re.S)
    )
    assert rows == {"admin@example.org": "oo", "mod@example.org": "hindi", "ed@example.org": "oo"}
    assert ">yes<" not in html and ">no<" not in html


def test_history_names_the_actions_in_filipino(site):
    request_id = propose(site, {"description": "A new description"})
    approved = api(site, "moderator", "POST", f"/api/manage/change_requests/{request_id}/approve")
    assert approved.status_code == 200
    html = signed_in(site, "editor", "fil").get(f"/manage/services/{site['sid']}/history").text
    assert "<small>(pag-edit)</small>" in html
    assert "<th>Bahagi</th>" in html


def test_field_labels_of_api_paths(app):
    with app.test_request_context("/?lang=fil"):
        assert forms.field_label("phones[0].number") == "Mga telepono 1 · Numero"
        assert forms.field_label("locations[1].addresses[0].city") == (
            "Mga lokasyon 2 · Mga address 1 · Lungsod"
        )
        assert forms.field_label("no_such_field") == "no_such_field"
    with app.test_request_context("/?lang=en"):
        assert forms.field_label("service_areas[2]") == "Service area 3"
        assert forms.field_label("twenty_four_seven") == "Open 24 hours, 7 days"


# --- the JSON manage API stays English ---------------------------------------------------------


@pytest.mark.parametrize("lang", LOCALES)
def test_the_manage_api_answers_in_english(site, lang):
    sid = site["sid"]
    etag = site["app"].test_client().get(f"/api/services/{sid}").headers["ETag"]
    invalid = api(
        site,
        "editor",
        "PUT",
        f"/api/manage/services/{sid}",
        lang=lang,
        json={"minimum_age": "abc", "url": "nowhere", "schedules": [{"byday": "XX"}]},
        headers={"If-Match": etag},
    )
    assert invalid.status_code == 400
    assert invalid.get_json()["errors"] == [
        {"field": "minimum_age", "message": "must be a whole number"},
        {"field": "url", "message": "must start with http:// or https://"},
        {"field": "schedules[0].byday", "message": "must be days like MO,TU,WE"},
    ]
    with site["app"].app_context():
        other = (
            get_db()
            .execute("select id from service where organization_id != ? limit 1", [ORG_A])
            .fetchone()[0]
        )
    other_etag = site["app"].test_client().get(f"/api/services/{other}").headers["ETag"]
    forbidden = api(
        site,
        "editor",
        "PUT",
        f"/api/manage/services/{other}",
        lang=lang,
        json={"alert": "x"},
        headers={"If-Match": other_etag},
    )
    assert forbidden.status_code == 403
    assert forbidden.get_json()["error"]["message"] == (
        "this service belongs to another organisation"
    )
    request_id = propose(site, {"alert": "Moving soon"})
    path = f"/api/manage/change_requests/{request_id}"
    assert api(site, "moderator", "POST", f"{path}/approve", lang=lang).status_code == 200
    again = api(site, "moderator", "POST", f"{path}/approve", lang=lang)
    assert again.status_code == 409
    assert (
        again.get_json()["error"]["message"] == f"change request {request_id} is already approved"
    )
    changes = api(site, "editor", "GET", path, lang=lang).get_json()["changes"]
    assert [c["field"] for c in changes] == ["alert"]  # field names, not labels


def test_model_errors_keep_english_text_and_their_translatable_form():
    error = users.AccountError("a user with the email %(email)s already exists", email="a@b.ph")
    assert str(error) == "a user with the email a@b.ph already exists"
    assert isinstance(error, ValueError) and isinstance(error.message, str)
    assert (error.msgid, error.values) == (
        "a user with the email %(email)s already exists",
        {"email": "a@b.ph"},
    )
    forbidden = cr.Forbidden("not your organisation")
    assert isinstance(forbidden, PermissionError) and str(forbidden) == "not your organisation"
    assert issubclass(cr.AlreadyReviewed, ValueError)


# --- every staff string is in both catalogues --------------------------------------------------


def model_msgids() -> set[str]:
    """The messages of errors the models raise to the staff pages."""
    calls = {"Forbidden": 0, "AlreadyReviewed": 0, "AccountError": 0, "Message": 0, "error": 1}
    found = set()
    for module in ("change_requests.py", "users.py"):
        msgids, built = literal_msgids(ROOT / "directory" / "models" / module, calls)
        assert built == [], f"{module}: pass a msgid and values, not text built at {built}"
        found |= msgids
    return found


def staff_msgids() -> set[str]:
    """Message ids extracted from the staff templates, forms and views."""
    found = set()
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=[("directory/**.py", "python"), ("templates/**.html", "jinja2")],
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        if filename.replace("\\", "/").startswith(STAFF_SOURCES):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_scans_find_the_staff_messages():
    models = model_msgids()
    assert len(models) > 45
    assert "this service belongs to another organisation" in models  # cr.Forbidden
    assert "change request %(number)s is already approved" in models  # cr.AlreadyReviewed
    assert "must be days like MO,TU,WE" in models  # a field of cr.Invalid
    assert "a user with the email %(email)s already exists" in models  # users.AccountError
    staff = staff_msgids()
    assert len(staff) > 200
    assert {"Minimum age", "Use at most %(max)d characters.", "Field", "No changes."} <= staff


@pytest.mark.parametrize("locale", LOCALES)
def test_every_staff_and_model_message_is_translated(locale):
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue(locale) if m.id}
    wanted = staff_msgids() | model_msgids()
    missing = sorted(m for m in wanted if m not in messages or not messages[m].string)
    assert missing == [], f"{locale}: add these to the .po (and models' to _messages_from_code)"
    for msgid in model_msgids():
        entry = messages[msgid]
        assert REVIEW in entry.auto_comments, msgid
        names = sorted(re.findall(r"%\((\w+)\)[sd]", msgid))
        assert sorted(re.findall(r"%\((\w+)\)[sd]", entry.string)) == names, msgid
    # form labels and messages with %(max)d keep their placeholders too
    for msgid in staff_msgids():
        string = messages[msgid].string
        string = string if isinstance(string, str) else string[0]
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(
            re.findall(r"%\(\w+\)[sd]", string)
        ), msgid


def test_a_forbidden_page_is_translated(site):
    client = signed_in(site, "editor", "ceb")
    response = client.get("/review/")
    assert response.status_code == 403
    assert "Dili kini mahimo sa imong account." in response.get_data(as_text=True)
