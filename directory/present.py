"""How records read to a person: phone links, open-now labels, how fresh the facts are."""

import re
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import has_request_context
from flask_babel import format_date, gettext

from directory import hours, phones
from directory.zones import service_timezone


def phone_view(phone: dict, viewer_country: str = "PH") -> dict:
    """Display text, tel: and sms: links and warnings for one stored phone row."""
    parsed = phones.ParsedPhone(
        number=phone["number"],
        extension=phone.get("extension"),
        type=phone.get("type") or "voice",
        e164=phone.get("e164"),
        short_code=phone.get("short_code"),
        sms=bool(phone.get("sms")),
        sms_body=phone.get("sms_body"),
        valid=bool(phone.get("valid")),
        needs_verification=bool(phone.get("needs_verification")),
        country="",  # the number's own country decides national vs international format
    )
    # The extension is shown beside the number ("local 5354"), not inside it.
    shown = phones.display(replace(parsed, extension=None), viewer_country)
    return {
        "shown": shown,
        "published": phone["number"],
        "extension": phone.get("extension"),
        "type": phone.get("type"),
        "description": phone.get("description"),
        "tel": phones.tel_href(parsed),
        "sms": phones.sms_href(parsed),
        "sms_body": phone.get("sms_body"),
        "needs_verification": bool(phone.get("needs_verification")),
        "problem": phone.get("problem"),
        "tested_on": phone.get("tested_on"),
    }


def open_status(service: dict, now: datetime) -> hours.OpenStatus:
    """Open now / closes at / hours unknown, in the service's own timezone."""
    country = next(
        (
            a["area_code"]
            for a in service.get("service_areas", [])
            if a.get("area_level") == "country"
        ),
        "PH",
    )
    schedules = service.get("schedules", [])
    zone = service_timezone(
        country, next((s.get("timezone") for s in schedules if s.get("timezone")), None)
    )
    return hours.status_at(schedules, bool(service.get("twenty_four_seven")), now, zone)


def source_year(source_date: str | None) -> int | None:
    """The year a source was published, when its date says."""
    match = re.search(r"\b(19|20)\d\d\b", source_date or "")
    return int(match.group(0)) if match else None


def _localised_date(day: date) -> str:
    """A date in the viewer's language inside a request (ISO 8601 outside one)."""
    if has_request_context():
        return format_date(day, format="medium")
    return day.isoformat()


def verification(service: dict, today: date, stale_after_days: int = 365) -> dict:
    """How fresh a listing's facts are, in plain words, and whether it may be out of date."""
    assured = service.get("assured_date")
    if assured:
        checked = date.fromisoformat(assured[:10])
        stale = (today - checked).days > stale_after_days
        label = gettext("Verified by a person on %(date)s", date=_localised_date(checked))
        return {"label": label, "stale": stale, "assured": True}
    year = source_year(service.get("source_date"))
    source = service.get("source_date")
    if year:
        label = gettext(
            "Unverified since %(year)s (source dated %(source)s)", year=year, source=source
        )
    elif source:
        label = gettext("Unverified; the source is %(source)s", source=source)
    else:
        label = gettext("Unverified; the source is undated")
    return {"label": label, "stale": True, "assured": False}


def manila_now() -> datetime:
    """The current time in the directory's home timezone."""
    return datetime.now(ZoneInfo("Asia/Manila"))
