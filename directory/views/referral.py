"""Referral lists and slips: services picked into a list kept only in the page URL.

Nothing about the client is asked for or stored: the list is the `ids` parameter, the slip is
rendered from it and printed by the browser, and "Text this" only prepares a message body.
"""

import re
from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import format_date, gettext
from markupsafe import Markup

from directory import present, qr, search, sms_text
from directory.db import get_db
from directory.models.services import get_services
from directory.views.errors import error_response
from directory.views.public import _regions

bp = Blueprint("referral", __name__, url_prefix="/referral")

MAX_SERVICES = 12
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
SIZES = ("a4", "half-letter")
# Words that never appear on a discreet slip, in English, Filipino and Cebuano (lower case,
# matched inside words so "trafficking" catches "anti-trafficking").
SENSITIVE_WORDS = (
    "abuse", "abuso", "exploit", "traffick", "violence", "violent", "sexual", "sex ",
    "pornograph", "osec", "vawc", "slavery", "rape", "incest", "molest", "grooming",
    "crisis", "pang-aabuso", "pag-abuso", "karahasan", "pananamantala", "pagsasamantala",
    "sekswal", "seksuwal", "pagpanglugos", "pagbaligya",
)  # fmt: skip
SEARCH_KEYS = ("q", "region")


class ReferralError(ValueError):
    """The `ids` parameter is malformed."""


def parse_ids(values: list[str]) -> list[str]:
    """Service ids from `ids` (repeated and/or comma-separated), in order, without repeats."""
    ids: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not ID_RE.fullmatch(part):
                raise ReferralError(gettext("%(id)s is not a service id", id=part[:40]))
            if part not in ids:
                ids.append(part)
    if len(ids) > MAX_SERVICES:
        raise ReferralError(gettext("A referral list holds at most %(n)s services", n=MAX_SERVICES))
    return ids


def is_sensitive(text: str | None) -> bool:
    """True when the text holds a word a discreet slip must not show."""
    lowered = f" {(text or '').lower()} "
    return any(word in lowered for word in SENSITIVE_WORDS)


def hours_line(service: dict) -> str:
    """The service's hours in a few words: 24/7, as published, or unknown."""
    if service.get("twenty_four_seven"):
        return gettext("Open 24 hours, every day")
    if service.get("hours_text"):
        return service["hours_text"]
    return gettext("Hours not known: call first")


def dial_numbers(service: dict) -> list[str]:
    """Numbers a person can dial, as shown, for texts and slips (unverified ones left out)."""
    views = [present.phone_view(p) for p in service.get("phones", [])]
    return [v["shown"] for v in views if v["tel"]]


def sms_for(service: dict) -> str:
    """The SMS-ready text for one service (name, numbers, hours) within one GSM-7 message."""
    return sms_text.compose(service["name"], dial_numbers(service), hours_line(service))


def slip_entry(service: dict, number: int, discreet: bool) -> dict:
    """What the slip shows for one service; discreet slips replace revealing wording."""
    name, org = service["name"], service["organization"]["name"]
    if discreet and (is_sensitive(name) or is_sensitive(org)):
        name, org = gettext("Contact %(n)s", n=number), None
    process = service.get("application_process")
    if discreet and is_sensitive(process):
        process = None
    confidential = any(loc.get("confidential") for loc in service.get("locations", []))
    addresses = [
        a["address_1"]
        for loc in service.get("locations", [])
        if not loc.get("confidential")
        for a in loc.get("addresses", [])
        if a.get("address_1")
    ]
    if discreet:
        addresses = [a for a in addresses if not is_sensitive(a)]
    hours = hours_line(service)
    if discreet and is_sensitive(hours):
        hours = gettext("Call to ask for the hours")
    phones = [present.phone_view(p) for p in service.get("phones", [])]
    if discreet:
        phones = [{**p, "description": None} for p in phones]
    listing = url_for("public.service_page", service_id=service["id"], _external=True)
    return {
        "id": service["id"],
        "name": name,
        "organization": org,
        "phones": phones,
        "hours": hours,
        "addresses": addresses,
        "confidential": confidential,
        "process": process,
        "listing": listing,
        "qr": None if discreet else qr_markup(listing, name),
    }


def qr_markup(url: str, name: str) -> Markup:
    """A QR code for a listing as inline SVG, safe to place in a template."""
    return Markup(qr.qr_svg(url, gettext("QR code: %(name)s", name=name)))


def _ids_or_error():
    try:
        return parse_ids(request.args.getlist("ids")), None
    except ReferralError as exc:
        return [], error_response(400, str(exc), "ids")


def _picked(ids: list[str]) -> tuple[list[dict], list[str]]:
    services = get_services(get_db(), ids)
    found = {s["id"] for s in services}
    return services, [i for i in ids if i not in found]


@bp.get("")
def list_page():
    """The referral list: picked services, remove links, slip links, and a search to add more."""
    ids, error = _ids_or_error()
    if error:
        return error
    services, missing = _picked(ids)
    ids = [s["id"] for s in services]
    db = get_db()
    search_args = {k: request.args[k] for k in SEARCH_KEYS if request.args.get(k)}
    found, search_error = [], None
    if search_args:
        try:
            query = search.parse_query(db, search_args)
            query.per_page = 10
            found = get_services(db, search.search(db, query).service_ids)
        except search.QueryError as exc:
            search_error = exc
    regions = public_regions(db)
    status = 400 if search_error else 200
    return render_template(
        "referral/list.html",
        services=services,
        ids=ids,
        missing=missing,
        found=[s for s in found if s["id"] not in ids],
        search_args=search_args,
        search_error=search_error,
        regions=regions,
        max_services=MAX_SERVICES,
        sizes=SIZES,
    ), status


def public_regions(db) -> list:
    """Regions for the add-more search form (the same list as the public search form)."""
    return _regions(db)


@bp.get("/slip")
def slip_page():
    """A printable slip for the list: A4 or half-letter, plain or discreet, dated today."""
    ids, error = _ids_or_error()
    if error:
        return error
    size = request.args.get("size", "a4")
    if size not in SIZES:
        return error_response(400, gettext("size must be a4 or half-letter"), "size")
    discreet = request.args.get("discreet", "0")
    if discreet not in ("0", "1"):
        return error_response(400, gettext("discreet must be 0 or 1"), "discreet")
    services, missing = _picked(ids)
    if not services:
        return error_response(400, gettext("Pick at least one service for a slip"), "ids")
    entries = [slip_entry(s, n, discreet == "1") for n, s in enumerate(services, start=1)]
    return render_template(
        "referral/slip.html",
        entries=entries,
        ids=[s["id"] for s in services],
        missing=missing,
        size=size,
        discreet=discreet == "1",
        printed=format_date(present.manila_now().date(), format="long"),
        sizes=SIZES,
    )


def sms_href(body: str) -> str:
    """An sms: link with only a body: the person picks the recipient on their own phone."""
    return f"sms:?body={quote(body, safe='')}"


@bp.app_context_processor
def referral_helpers() -> dict:
    """Helpers for "Text this" on listings, and the site's map setting (no map unless set)."""
    return {
        "sms_for": sms_for,
        "sms_href": sms_href,
        "sms_length": sms_text.gsm7_length,
        "sms_limit": sms_text.SMS_LIMIT,
        "tile_server_url": current_app.config.get("TILE_SERVER_URL"),
    }


@bp.record_once
def _map_off_by_default(state) -> None:
    # Map tiles are a third-party request: no map unless a deployment sets TILE_SERVER_URL.
    state.app.config.setdefault("TILE_SERVER_URL", None)
