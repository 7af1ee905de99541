"""Serialise stored records as HSDS 3.0 JSON (with our profile's extra fields)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from directory import present

SERVICE_FIELDS = (
    "id", "organization_id", "name", "alternate_name", "description", "url", "email", "status",
    "interpretation_services", "application_process", "fees_description",
    "eligibility_description", "minimum_age", "maximum_age", "assured_date", "assurer_email",
    "alert", "last_modified",
)  # fmt: skip
PROFILE_FIELDS = ("kind", "gender", "other_channels", "hours_text", "hours_note", "notes")
PHONE_FIELDS = ("id", "service_id", "location_id", "number", "extension", "type", "description")
PHONE_PROFILE = ("e164", "short_code", "sms_body", "needs_verification", "problem", "tested_on")
SCHEDULE_FIELDS = ("id", "service_id", "location_id", "timezone", "freq", "byday", "opens_at",
                   "closes_at", "description", "notes")  # fmt: skip
LOCATION_FIELDS = ("id", "location_type", "organization_id", "name", "description", "latitude",
                   "longitude")  # fmt: skip
ADDRESS_FIELDS = ("id", "location_id", "address_1", "address_2", "city", "region",
                  "state_province", "postal_code", "country", "address_type")  # fmt: skip


def _clean(obj: dict) -> dict:
    """Drop null fields: HSDS types (number, string) do not admit null."""
    return {k: v for k, v in obj.items() if v is not None}


def _pick(row: dict, fields) -> dict:
    """The row's non-null values of these fields (one pass: it runs for every nested row)."""
    return {f: v for f in fields if (v := row.get(f)) is not None}


def phone(row: dict) -> dict:
    """An HSDS phone with our verification fields."""
    out = _pick(row, PHONE_FIELDS) | _pick(row, PHONE_PROFILE)
    extension = str(row.get("extension") or "")
    # HSDS types extension as a number; a textual one ("3454 to 3455") moves to the description.
    if extension.isdigit():
        out["extension"] = int(extension)
    elif extension:
        out.pop("extension", None)
        out["description"] = "; ".join(filter(None, [row.get("description"), f"local {extension}"]))
    out["sms"] = bool(row.get("sms"))
    out["needs_verification"] = bool(row.get("needs_verification"))
    return out


def location(row: dict) -> dict:
    """An HSDS location; confidential ones arrive here already stripped for the viewer."""
    out = _pick(row, LOCATION_FIELDS)
    out["confidential"] = bool(row.get("confidential"))
    if row.get("area_code"):
        out["psgc_code"] = row["area_code"]
    out["addresses"] = [
        _pick(a, ADDRESS_FIELDS) | ({"psgc_code": a["area_code"]} if a.get("area_code") else {})
        for a in row.get("addresses", [])
    ]
    return out


def schedule(row: dict) -> dict:
    """An HSDS schedule: the stored time zone (an IANA name) as HSDS's number, a UTC offset."""
    out = _pick(row, SCHEDULE_FIELDS)
    if "timezone" in out:
        offset = utc_offset(out.pop("timezone"))
        if offset is not None:
            out["timezone"] = offset
    return out


def utc_offset(zone: str) -> int | float | None:
    """The zone's offset from UTC in hours now (8 for Asia/Manila); None for an unknown zone."""
    try:
        hours = datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset().total_seconds() / 3600
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None
    return int(hours) if hours.is_integer() else hours


def service(record: dict, *, extra: dict | None = None) -> dict:
    """A full HSDS service object for a record from models.services.get_services."""
    out = _pick(record, SERVICE_FIELDS)
    out |= _pick(record, PROFILE_FIELDS)
    out["free"] = None if record.get("free") is None else bool(record["free"])
    out = _clean(out)
    out["twenty_four_seven"] = bool(record.get("twenty_four_seven"))
    out["victim_facing"] = bool(record.get("victim_facing"))
    out["source"] = _clean(
        {
            "url": record.get("source_url"),
            "date": record.get("source_date"),
            "confidence": record.get("confidence"),
        }
    )
    out["organization"] = _clean(
        {
            "id": record["organization"]["id"],
            "name": record["organization"]["name"],
            "description": "",
        }
    )
    out["phones"] = [phone(p) for p in record.get("phones", [])]
    out["schedules"] = [schedule(s) for s in record.get("schedules", [])]
    out["languages"] = [
        _pick(lang, ("id", "service_id", "name", "code", "note"))
        for lang in record.get("languages", [])
    ]
    out["service_areas"] = [
        _pick(a, ("id", "service_id", "name", "description", "extent", "extent_type"))
        | ({"psgc_code": a["area_code"]} if a.get("area_code") else {})
        for a in record.get("service_areas", [])
    ]
    out["service_at_locations"] = [
        {
            "id": loc["service_at_location_id"],
            "service_id": record["id"],
            "location_id": loc["id"],
            "location": location(loc),
        }
        for loc in record.get("locations", [])
    ]
    out["attributes"] = [
        {
            "id": t["attribute_id"],
            "link_id": record["id"],
            "link_type": "service_type",
            "link_entity": "service",
            "taxonomy_term_id": t["id"],
            "taxonomy_term": _pick(
                t, ("id", "code", "name", "description", "taxonomy", "taxonomy_id")
            ),
        }
        for t in record.get("taxonomy_terms", [])
    ]
    if extra:
        out |= extra
    return out


def page(contents: list, total: int, page_number: int, size: int, **extra) -> dict:
    """The HSDS API `Page` envelope."""
    total_pages = max(1, -(-total // size)) if size else 1
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": size,
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
        **extra,
    }


def open_now_extra(record: dict, now) -> dict:
    """Our profile's open-now field for a record."""
    status = present.open_status(record, now)
    return {"open_now": {"state": status.state, "label": status.label}}
