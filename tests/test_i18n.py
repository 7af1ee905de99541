"""Interface languages: English, Filipino (fil), Cebuano (ceb); switcher, Accept-Language, dates."""

import re
import shutil
from datetime import datetime
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from directory import hours, i18n, present

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "directory" / "translations"
LOCALES = ("fil", "ceb")
# Everything the public sees must be translated; staff-only pages may lag behind.
PUBLIC_SOURCES = (
    "templates/base.html",
    "templates/_language_switcher.html",
    "templates/_messages_from_code.html",
    "templates/macros/",
    "templates/public/",
    "templates/referral/",
    "templates/errors/",
    "directory/present.py",
    "directory/i18n.py",
    "directory/views/referral.py",
)
HOME_TITLE = {"en": "Need help now?", "fil": "Kailangan mo ba ng tulong ngayon?",
              "ceb": "Nagkinahanglan ka ba og tabang karon?"}  # fmt: skip


def catalogue(locale):
    with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def public_messages() -> set:
    """Message ids extracted now from the public templates and modules (not from the .pot)."""
    method_map = [("directory/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=method_map,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        if filename.replace("\\", "/").startswith(PUBLIC_SOURCES):
            found.add(message if isinstance(message, str) else message[0])
    return found


def h1(html: str) -> str:
    return unescape(re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)).strip()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_public_string_is_translated(locale):
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue(locale) if m.id}
    wanted = public_messages()
    assert len(wanted) > 150
    missing = sorted(m for m in wanted if m not in messages or not messages[m].string)
    assert missing == [], f"{locale}: untranslated public strings: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_their_placeholders(locale):
    cat = catalogue(locale)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in cat.check()]
    assert problems == []
    for message in cat:
        if message.id and message.string and isinstance(message.id, str):
            assert sorted(re.findall(r"%\(\w+\)s", message.id)) == sorted(
                re.findall(r"%\(\w+\)s", message.string)
            ), message.id


@pytest.mark.parametrize("locale", LOCALES)
def test_strings_needing_native_review_are_marked(locale):
    marked = [m for m in catalogue(locale) if "needs review by a native speaker" in m.auto_comments]
    assert 10 < len(marked) < len(catalogue(locale))


@pytest.mark.parametrize("lang", ["en", "fil", "ceb"])
def test_lang_parameter_chooses_the_interface_language(client, lang):
    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    assert h1(html) == HOME_TITLE[lang]
    assert f'<html lang="{lang}">' in html


@pytest.mark.parametrize(
    "header, lang",
    [("fil-PH,fil;q=0.9,en;q=0.5", "fil"), ("ceb,en;q=0.5", "ceb"), ("de-DE,de", "en")],
)
def test_accept_language_is_respected(client, header, lang):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert h1(html) == HOME_TITLE[lang]


def test_unknown_lang_falls_back_without_error(client):
    response = client.get("/?lang=xx", headers={"Accept-Language": "ceb"})
    assert response.status_code == 200
    assert h1(response.get_data(as_text=True)) == HOME_TITLE["ceb"]


@pytest.mark.parametrize(
    "path",
    ["/", "/search?q=shelter&region=0800000000", "/hotlines", "/areas", "/referral?ids=x",
     "/services/04d36b0b-50c7-5113-9caa-d1c2ea1559c9", "/no-such-page"],
)  # fmt: skip
def test_switcher_on_every_page_keeps_the_page_and_its_parameters(client, path):
    response = client.get(path)
    html = response.get_data(as_text=True)
    switcher = re.search(r'<nav class="languages".*?</nav>', html, re.S)
    assert switcher, f"no language switcher on {path}"
    links = {
        lang: unescape(href)
        for href, lang in re.findall(r'<a href="([^"]+)" lang="(\w+)"', switcher.group(0))
    }
    assert set(links) == {"en", "fil", "ceb"}
    want = urlsplit(path)
    for lang, href in links.items():
        got = urlsplit(href)
        assert got.path == want.path
        args = parse_qs(got.query)
        assert args.pop("lang") == [lang]
        assert args == parse_qs(want.query)


def test_chosen_language_is_carried_by_links_and_forms(client):
    html = client.get("/search?q=shelter&lang=ceb").get_data(as_text=True)
    nav = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S).group(1)
    assert all("lang=ceb" in href for href in re.findall(r'href="([^"]+)"', nav))
    assert '<input type="hidden" name="lang" value="ceb">' in html
    # The API ignores interface languages: its links are not touched.
    assert "/api/services?lang" not in html


def test_verification_date_is_formatted_per_locale(app):
    service = {"assured_date": "2026-11-03T10:00:00"}
    expected = {"en": "Nov 3, 2026", "fil": "Nob 3, 2026", "ceb": "Nob 3, 2026"}
    for lang, date_text in expected.items():
        with app.test_request_context(f"/?lang={lang}"):
            label = present.verification(service, datetime(2026, 11, 29).date())["label"]
        assert date_text in label, (lang, label)
    with app.test_request_context("/?lang=fil"):
        label = present.verification(service, datetime(2026, 11, 29).date())["label"]
    assert label.startswith("Na-verify ng isang tao")


def test_open_status_and_day_names_are_translated(app):
    office = [{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": "08:00",
               "closes_at": "17:00"}]  # fmt: skip
    saturday = datetime(2026, 11, 28, 12, 0)
    status = hours.status_at(office, False, saturday)
    assert status.label == "Closed · opens Mon 08:00"
    with app.test_request_context("/?lang=fil"):
        assert i18n.status_text(status) == "Sarado · bubukas Lun 08:00"
    with app.test_request_context("/?lang=ceb"):
        assert i18n.status_text(status) == "Sirado · moabli Lun 08:00"
    with app.test_request_context("/?lang=en"):
        assert i18n.status_text(status) == "Closed · opens Mon 08:00"


def test_printed_date_on_the_slip_is_localised(client):
    html = client.get("/referral/slip?ids=04d36b0b-50c7-5113-9caa-d1c2ea1559c9&lang=fil").get_data(
        as_text=True
    )
    months = (
        "Enero|Pebrero|Marso|Abril|Mayo|Hunyo|Hulyo|Agosto|Setyembre|Oktubre|Nobyembre|Disyembre"
    )
    assert re.search(rf"Na-print noong ({months}) \d{{1,2}}, \d{{4}}", html)


def test_catalogues_compile_when_the_mo_files_are_missing(tmp_path):
    shutil.copytree(CATALOGUES, tmp_path / "translations")
    for mo in (tmp_path / "translations").glob("*/LC_MESSAGES/*.mo"):
        mo.unlink()
    written = i18n.compile_catalogues(tmp_path / "translations")
    assert sorted(p.parent.parent.name for p in written) == ["ceb", "fil"]
    assert all(p.stat().st_size > 1000 for p in written)
    assert i18n.compile_catalogues(tmp_path / "translations") == []  # up to date now


def test_schedule_days_are_shown_in_the_viewers_language(app):
    with app.test_request_context("/?lang=fil"):
        assert i18n.days_text("MO,TU,SU") == "Lun, Mar, Lin"
    with app.test_request_context("/?lang=en"):
        assert i18n.days_text("MO, FR") == "Mon, Fri"
        assert i18n.days_text(None) == ""


def test_listing_text_stays_as_entered_and_is_marked_with_its_language(client):
    path = "/services/04d36b0b-50c7-5113-9caa-d1c2ea1559c9"
    html = client.get(f"{path}?lang=ceb").get_data(as_text=True)
    description = re.search(r'<p lang="en">(.*?)</p>', html, re.S)
    assert description and "hotline" in description.group(1).lower()  # not translated
    assert "Ang mga detalye sa listing gipakita sama sa pagkasulat sa tinubdan" in html
    english = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "Details from the listing are shown" not in english


def test_service_types_and_hotline_groups_are_translated(client):
    home = client.get("/?lang=ceb").get_data(as_text=True)
    assert ">Dinaliang tubag ug pagluwas</option>" in home
    hotlines = client.get("/hotlines?lang=fil").get_data(as_text=True)
    assert "Mga linyang pambansa (" in hotlines
