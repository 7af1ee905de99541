"""Referral-ready interface in Filipino and Cebuano: parameter errors and search notes on the
pages are in the viewer's language (the JSON API stays English), staff pages say whole sentences,
and the results page's headings do not skip a level."""

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from directory import auth, geo, nearby, phones, search
from directory.db import get_db
from directory.models import users
from directory.models.revisions import immediate
from tests.pages import csrf, literal_msgids

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "directory" / "translations"
LOCALES = ("fil", "ceb")
PASSWORD = "correct horse battery"
ORG_A = "c4ae7e45-2150-581c-8e68-643f2ae9aee6"

# (query string, English reason, Filipino, Cebuano), as shown after "<parameter>: "
ERRORS = [
    (
        "region=Atlantis",
        'No region called "Atlantis" was found.',
        'Walang nahanap na rehiyon na "Atlantis".',
        'Walay nakit-ang rehiyon nga "Atlantis".',
    ),
    (
        "age=abc",
        "must be a whole number from 0 to 120, not 'abc'",
        "dapat buong numero mula 0 hanggang 120, hindi 'abc'",
        "kinahanglan tibuok nga numero gikan sa 0 hangtod 120, dili 'abc'",
    ),
    (
        "near=91,10",
        "latitude must be from -90 to 90, not 91",
        "dapat mula -90 hanggang 90 ang latitude, hindi 91",
        "kinahanglan gikan sa -90 hangtod 90 ang latitude, dili 91",
    ),
    (
        "region=Bohol",
        '"Bohol" is not a region: it names Bohol (province). '
        "Did you mean: Region VII (Central Visayas); Region V (Bicol Region)?",
        'Hindi rehiyon ang "Bohol": ito ay Bohol (province). '
        "Ito ba ang ibig mong sabihin: Region VII (Central Visayas); Region V (Bicol Region)?",
        'Dili rehiyon ang "Bohol": kini ang Bohol (province). '
        "Kini ba ang imong gipasabot: Region VII (Central Visayas); Region V (Bicol Region)?",
    ),
]


def catalogue(locale):
    with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def shown_error(html: str) -> tuple[str, str]:
    """(parameter, reason) of the page's error paragraph, as a person reads them."""
    found = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', html, re.S)
    assert found, "no error shown"
    text = unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()
    parameter, _, reason = text.partition(": ")
    return parameter, reason


@pytest.mark.parametrize("page", ["/search", "/hotlines"])
@pytest.mark.parametrize("query, english, fil, ceb", ERRORS)
def test_parameter_errors_are_shown_in_the_viewers_language(client, page, query, english, fil, ceb):
    for lang, expected in (("fil", fil), ("ceb", ceb), ("en", english)):
        response = client.get(f"{page}?{query}", headers={"Accept-Language": lang})
        assert response.status_code == 400
        parameter, reason = shown_error(response.get_data(as_text=True))
        assert parameter == query.partition("=")[0]
        assert reason == expected, (lang, reason)
        if lang != "en":
            assert english not in response.get_data(as_text=True)


def test_lang_parameter_also_translates_the_error(client):
    html = client.get("/search?age=abc&lang=ceb").get_data(as_text=True)
    assert shown_error(html)[1] == ERRORS[1][3]


def test_an_ambiguous_place_is_explained_in_filipino_with_its_choices(client):
    response = client.get("/search?near=San+Jose", headers={"Accept-Language": "fil"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    reason = shown_error(html)[1]
    assert reason.startswith('Maaaring higit sa isang lugar ang "San Jose": San Jose City')
    assert reason.endswith("Pumili ng isa, o idagdag ang lalawigan o lungsod pagkatapos ng kuwit.")
    assert "Pumili ng lugar:" in html and "near=0304926000" in html  # the choices stay


def test_the_referral_list_search_error_is_translated(client):
    html = client.get("/referral?region=Atlantis", headers={"Accept-Language": "ceb"}).text
    assert 'Walay nakit-ang rehiyon nga "Atlantis".' in unescape(html)


def test_user_text_in_a_translated_error_is_escaped(client):
    html = client.get("/search?region=<b>x</b>", headers={"Accept-Language": "fil"}).text
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_search_notes_are_translated(client):
    words = "+".join(f"salita{i}" for i in range(25))
    for lang, note in (
        ("fil", "(ang unang 20 salita lang ang hinanap)"),
        ("ceb", "(ang unang 20 ka pulong ra ang gipangita)"),
        ("en", "(only the first 20 words were searched)"),
    ):
        html = client.get(f"/search?q={words}", headers={"Accept-Language": lang}).text
        summary = re.search(r'<p class="summary"[^>]*>(.*?)</p>', html, re.S).group(1)
        assert note in unescape(summary), (lang, summary)
    html = client.get("/search?q=%21%21%21&lang=fil").text
    assert "walang salitang mahahanap sa isinulat, kaya hindi ito pinansin" in html


@pytest.mark.parametrize(
    "query, parameter, message",
    [("region=Atlantis", "region", ERRORS[0][1]), ("age=abc", "age", ERRORS[1][1])],
)
@pytest.mark.parametrize("lang", ["fil", "ceb"])
def test_json_api_errors_stay_english_with_the_same_shape(client, query, parameter, message, lang):
    response = client.get(f"/api/services?{query}", headers={"Accept-Language": lang})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": {"status": 400, "message": message, "parameter": parameter}
    }


def test_query_error_keeps_english_text_and_its_translatable_form():
    error = search.QueryError("age", "must be from %(low)s to %(high)s, not %(value)s",
                              values={"low": 0, "high": 120, "value": 130})  # fmt: skip
    assert error.message == "must be from 0 to 120, not 130" and isinstance(error.message, str)
    assert str(error) == "age: must be from 0 to 120, not 130"
    assert error.msgid == "must be from %(low)s to %(high)s, not %(value)s"
    assert error.values == {"low": 0, "high": 120, "value": 130}
    plain = search.QueryError("q", "100% sure")  # no values: the text is not formatted
    assert plain.message == plain.msgid == "100% sure"


# --- every message the core code can show has a translation -----------------------------------


def _place_msgids() -> set[str]:
    area = geo.Area("0700000000", "Region VII", "region", "region", None, None, None, "PH",
                    None, None, False)  # fmt: skip
    found = {geo.AmbiguousPlace("x", [area, area]).msgid}
    for levels in (None, ("region",), ("province",), ("city", "barangay"), ("country",)):
        for elsewhere in ([], [area]):
            for suggestions in ([], [area]):
                error = geo.UnknownPlace("x", suggestions, levels=levels, found_elsewhere=elsewhere)
                found.add(error.msgid)
                assert str(error) == error.msgid % error.values
    return found


def core_msgids() -> set[str]:
    """Messages of errors and notes that the public pages show (hsds_api's are JSON only)."""
    found, _ = literal_msgids(ROOT / "directory" / "search.py", {"QueryError": 1, "Message": 0})
    found |= literal_msgids(ROOT / "directory" / "nearby.py", {"NearError": 1})[0]
    return found | _place_msgids()


def test_the_core_message_scan_finds_them():
    found = core_msgids()
    assert len(found) > 40
    assert "must be 1 or 0, not %(value)s" in found  # search.QueryError
    assert "only the first %(num)s words were searched" in found  # search.Message
    assert "latitude must be from -90 to 90, not %(value)s" in found  # nearby.NearError
    assert 'No place called "%(text)s" was found.' in found  # geo.UnknownPlace
    assert not [m for m in found if re.search(r"\{\w*\}", m)], "an f-string is not a msgid"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_core_message_is_translated_and_fills_its_placeholders(locale):
    messages = {m.id: m for m in catalogue(locale) if m.id and isinstance(m.id, str)}
    missing = sorted(m for m in core_msgids() if m not in messages or not messages[m].string)
    assert missing == [], f"{locale}: add these to templates/_messages_from_code.html and the .po"
    for msgid in core_msgids():
        values = {name: "X" for name in re.findall(r"%\((\w+)\)s", msgid)}
        assert "X" in messages[msgid].string % values or not values
        assert "needs review by a native speaker" in messages[msgid].auto_comments


@pytest.mark.parametrize("locale", LOCALES)
def test_no_catalogue_entry_is_left_unused(locale):
    """Fragments replaced by whole sentences leave no orphaned entry behind."""
    used = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=[("directory/**.py", "python"), ("templates/**.html", "jinja2")],
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        used.add(message if isinstance(message, str) else message[0])
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(locale) if m.id}
    assert sorted(ids - used) == []


# --- staff pages: whole sentences -------------------------------------------------------------

FRAGMENTS = ["by", "on", "pending", "then", "now", "hours.", "of version", "Signed in as",
             "Rejected by", "Choose a password for", "One-time link for", "New service for",
             "made against version", "published as version", "oldest first."]  # fmt: skip


def test_staff_templates_translate_no_sentence_fragments():
    folders = [ROOT / "templates" / d for d in ("manage", "review", "admin", "auth")]
    staff = [path for folder in folders for path in folder.glob("*.html")]
    assert len(staff) > 10
    for path in staff:
        for fragment in FRAGMENTS:
            assert f'_("{fragment}")' not in path.read_text(), (path.name, fragment)


def _add_user(app, email, role, orgs=()):
    with app.app_context():
        db = get_db()
        with immediate(db):
            user = users.create_user(
                db, email, role, password_hash=auth.hash_password(PASSWORD), org_ids=list(orgs)
            )
            return users.create_token(db, user.id)


def _signed_in(app, email, lang):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    token = csrf(client.get("/login").text)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    return client


def test_staff_pages_say_whole_sentences_in_filipino(writable_app):
    app = writable_app
    _add_user(app, "admin@example.org", "admin")
    admin = _signed_in(app, "admin@example.org", "fil")
    dashboard = admin.get("/manage/").text
    assert "Naka-sign in bilang <strong>admin@example.org</strong> (admin)" in dashboard
    form = admin.get("/admin/users/new").text
    link_page = admin.post(
        "/admin/users/new",
        data={"csrf_token": csrf(form), "email": "new@example.org", "role": "moderator"},
    ).text
    assert "<h1>Link na isang beses lang magagamit para kay new@example.org</h1>" in link_page
    assert "mawawalan ng bisa sa loob ng 168 oras.</p>" in link_page
    path = re.search(r'value="http://localhost(/account/set-password/[^"]+)"', link_page).group(1)
    newcomer = app.test_client()
    welcome = newcomer.get(path, headers={"Accept-Language": "fil"}).text
    assert "Pumili ng password para kay <strong>new@example.org</strong> (moderator)." in welcome
    form = admin.get("/account/password").text
    changed = admin.post(
        "/account/password",
        data={
            "csrf_token": csrf(form),
            "current": PASSWORD,
            "password": "a new long password",
            "confirm": "a new long password",
        },
        follow_redirects=True,
    ).text
    assert '<p class="notice" role="status">Napalitan na ang iyong password.</p>' in changed


def test_review_pages_say_whole_sentences_in_cebuano(writable_app):
    app = writable_app
    editor_token = _add_user(app, "ed@example.org", "editor", [ORG_A])
    moderator_token = _add_user(app, "mod@example.org", "moderator")
    with app.app_context():
        db = get_db()
        sql = "select id from service where organization_id = ? order by id"
        sid = db.execute(sql, [ORG_A]).fetchone()[0]
    client = app.test_client()
    etag = client.get(f"/api/services/{sid}").headers["ETag"]
    proposed = client.put(
        f"/api/manage/services/{sid}",
        json={"description": "A new description"},
        headers={"Authorization": f"Bearer {editor_token}", "If-Match": etag},
    )
    assert proposed.status_code == 202
    request_id = proposed.get_json()["id"]
    moderator = _signed_in(app, "mod@example.org", "ceb")
    detail = moderator.get(f"/review/{request_id}").text
    assert re.search(rf"<h1>Pagsusi #{request_id}: [^<]+</h1>", detail)
    assert "Gisugyot ni ed@example.org niadtong " in detail
    rejected = client.post(
        f"/api/manage/change_requests/{request_id}/reject",
        json={"reason": "<b>Kulang</b> ang detalye"},
        headers={"Authorization": f"Bearer {moderator_token}"},
    )
    assert rejected.status_code == 200
    editor = _signed_in(app, "ed@example.org", "ceb")
    page = editor.get(f"/manage/change_requests/{request_id}").text
    sentence = re.search(r'<p class="error">(Gisalikway ni .*?)</p>', page).group(1)
    assert sentence.startswith("Gisalikway ni mod@example.org niadtong ")
    assert sentence.endswith(": &lt;b&gt;Kulang&lt;/b&gt; ang detalye")  # escaped, whole
    history = editor.get(f"/manage/services/{sid}/history").text
    assert "Bersyon 1" in history
    due = moderator.get("/review/due").text
    assert re.search(
        r"\d+ ka listing nga wala pa ma-verify sa usa ka tawo sukad \S+, pinakakaraan una\.", due
    )


# --- heading structure ------------------------------------------------------------------------


def heading_levels(html: str) -> list[int]:
    main = re.search(r"<main\b.*?</main>", html, re.S).group(0)
    return [int(level) for level in re.findall(r"<h([1-6])\b", main)]


@pytest.mark.parametrize(
    "path",
    ["/search?q=shelter", "/search?per_page=20", "/search?near=Palo,+Leyte",
     "/search?q=zzzzqqq", "/search?age=abc", "/hotlines?region=0800000000"],
)  # fmt: skip
def test_headings_never_skip_a_level(client, path):
    levels = heading_levels(client.get(path).text)
    assert levels[0] == 1
    skips = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    assert skips == [], f"{path}: heading levels {levels}"


def test_results_have_their_own_heading_above_the_cards(client):
    html = client.get("/search?q=shelter&lang=fil").text
    section = re.search(
        r'<section class="results"[^>]*>\s*<h2 id="results-title">([^<]+)</h2>', html
    )
    assert section and section.group(1) == "Mga resulta"
    assert 'aria-labelledby="results-title"' in section.group(0)
    assert "<h3>" in html[section.end() :]


def test_place_error_classes_still_read_as_before():
    error = geo.UnknownPlace("Xyzzyville", [])
    assert str(error) == 'No place called "Xyzzyville" was found.'
    assert error.msgid == 'No place called "%(text)s" was found.'
    near = nearby.NearError("near", "latitude must be from -90 to 90, not %(value)s", {"value": 91})
    assert near.message == "latitude must be from -90 to 90, not 91"
    assert str(near) == "near: latitude must be from -90 to 90, not 91"


@pytest.mark.parametrize(
    "lang,text",
    [
        ("fil", "Walang pahina sa address na ito."),
        ("ceb", "Walay panid niining adres."),
        ("en", "There is no page at this address."),
    ],
)
def test_a_missing_page_says_so_in_the_viewers_language(client, lang, text):
    response = client.get("/no-such-page", headers={"Accept-Language": lang})
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)
    api = client.get("/api/no-such-thing", headers={"Accept-Language": lang})
    assert api.status_code == 404 and "not found" in api.get_json()["error"]["message"].lower()


def test_every_stored_phone_problem_is_a_known_message(db):
    problems = [r[0] for r in db.execute("select distinct problem from phone where problem != ''")]
    assert len(problems) >= 4
    for text in problems:
        parts = phones.problem_parts(text)
        assert parts is not None, text
        msgid, values = parts
        assert msgid % values == text


@pytest.mark.parametrize(
    "lang,text",
    [
        ("fil", "7-digit na landline sa Metro Manila sa lumang format"),
        ("ceb", "7-digit nga landline sa Metro Manila sa daang format"),
    ],
)
def test_a_flagged_number_says_why_in_the_viewers_language(client, db, lang, text):
    service_id = db.execute(
        "select service_id from phone where problem = ? limit 1", [phones.OLD_METRO_MANILA]
    ).fetchone()[0]
    html = client.get(f"/services/{service_id}", headers={"Accept-Language": lang}).text
    assert text in html and phones.OLD_METRO_MANILA not in html
