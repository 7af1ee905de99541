"""Translations (Flask-Babel): the interface language from ?lang=, then Accept-Language."""

import re
from pathlib import Path
from urllib.parse import urlencode

from babel import Locale
from babel.dates import get_day_names
from flask import current_app, g, request
from flask_babel import Babel, get_locale, get_translations, gettext

from directory import phones
from directory.search import Message

babel = Babel()

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
# Each language named in itself, for the switcher.
LANGUAGE_NAMES = {"en": "English", "fil": "Filipino", "ceb": "Cebuano"}


def select_locale() -> str:
    """The viewer's interface language: an explicit ?lang= choice, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile each .po into its .mo when the .mo is missing or older; returns those written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        try:
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
        except OSError:  # a read-only install: `make` compiled them already
            continue
        written.append(mo_path)
    return written


def lang_url(code: str) -> str:
    """This page's address with ?lang= set to another language (other parameters kept)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + "?" + urlencode([*args, ("lang", code)])


def keep_language(endpoint: str, values: dict) -> None:
    """Links built with url_for carry an explicit ?lang= choice to the next page."""
    if not request or endpoint == "static" or endpoint.startswith("api.") or "lang" in values:
        return
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        values["lang"] = chosen


def template_globals() -> dict:
    """The switcher's languages, the current one, and the language listings are written in."""
    current = get_locale()
    listing = current_app.config["LISTING_LANGUAGE"]
    return {
        "language_names": {c: LANGUAGE_NAMES.get(c, c) for c in current_app.config["LANGUAGES"]},
        "current_language": str(current or "en"),
        "lang_url": lang_url,
        "listing_language": listing,
        "listing_language_name": Locale.parse(listing).get_display_name(current or "en"),
    }


_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def days_text(byday: str | None) -> str:
    """iCalendar day codes ("MO,TU") as short day names in the viewer's language."""
    names = get_day_names("abbreviated", locale=get_locale() or "en")
    days = [d.strip().upper() for d in (byday or "").split(",") if d.strip()]
    return ", ".join(names[_DAY_CODES.index(d)] if d in _DAY_CODES else d for d in days)


class ExplainedError(Exception):
    """An error whose message keeps its translatable form, as search.QueryError's does: `message`
    is a search.Message (the English text with its `msgid` and `values`). str() is the English
    text (the JSON API, the command line, logs); a page shows it with `translated`. Subclasses
    mix in the built-in error they stand for: class Forbidden(ExplainedError, PermissionError).
    templates/_messages_from_code.html lists every msgid so that the catalogues have them."""

    def __init__(self, msgid: str, **values):
        self.message = Message(msgid, **values)
        self.msgid, self.values = self.message.msgid, self.message.values
        super().__init__(self.message)


def translated(text) -> str:
    """A message built in core code (a search parameter error, a search note, an ExplainedError
    or its `message`) in the viewer's language: its `msgid` translated and filled with its
    `values`. Plain text stays as it is."""
    msgid = getattr(text, "msgid", None)
    if msgid is None:
        return str(text)
    return gettext(msgid, **getattr(text, "values", {}))


def _catalogue():
    """The translations of this request's language, found once per request: Flask-Babel finds
    them for every string, and a page of results has a thousand (a third of its render time).
    Nothing here switches language mid-request (no force_locale)."""
    found = g.get("_catalogue")
    if found is None:
        found = g._catalogue = get_translations()
    return found


def phone_problem(text) -> str:
    """Why a published number is flagged, in the viewer's language (phones.PROBLEMS)."""
    parts = phones.problem_parts(text)
    if parts is None:
        return str(text)
    msgid, values = parts
    return gettext(msgid, **values)


def init_app(app) -> None:
    """Attach Babel to the app; compile catalogues that are missing; keep ?lang= on links."""
    compile_catalogues()
    babel.init_app(app, locale_selector=select_locale)
    app.url_defaults(keep_language)
    app.context_processor(template_globals)
    app.jinja_env.filters["status_text"] = status_text
    app.jinja_env.filters["days_text"] = days_text
    app.jinja_env.filters["translated"] = translated
    app.jinja_env.filters["phone_problem"] = phone_problem
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
    )
    # Listings are shown as entered; their text is marked with this language (BCP 47).
    app.config.setdefault("LISTING_LANGUAGE", "en")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _day(name: str) -> str:
    if name not in _DAYS:
        return name
    return get_day_names("abbreviated", locale=get_locale() or "en")[_DAYS.index(name)]


def status_text(status) -> str:
    """An open-now status (directory.hours.OpenStatus) in the viewer's language."""
    label = status.label
    if label == "Open 24 hours":
        return gettext("Open 24 hours")
    if label.startswith("Hours not known"):
        return gettext("Hours not known")
    if match := re.fullmatch(r"Open now · closes at (midnight|\d\d:\d\d)", label):
        clock = match.group(1)
        if clock == "midnight":
            return gettext("Open now · closes at midnight")
        return gettext("Open now · closes at %(time)s", time=clock)
    if match := re.fullmatch(r"Open now · closes (\w+) (\d\d:\d\d)", label):
        return gettext(
            "Open now · closes %(day)s %(time)s", day=_day(match.group(1)), time=match.group(2)
        )
    if match := re.fullmatch(r"Closed · opens (\w+) (\d\d:\d\d)", label):
        return gettext(
            "Closed · opens %(day)s %(time)s", day=_day(match.group(1)), time=match.group(2)
        )
    return label
