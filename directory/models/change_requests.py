"""Change requests: proposed edits, parsed and validated from an HSDS body, reviewed, merged.

An editor's edit is stored whole, with the version it was made against. Approving publishes it
as a new revision; if the service changed meanwhile, the proposal's own changes are applied on
top of the current record when they touch other fields, and refused as a conflict otherwise.
"""

import copy
import json
import re
import uuid
from datetime import date

from sqlite_utils import Database

from directory import geo, hsds, phones
from directory.i18n import ExplainedError, Message
from directory.models import audit, revisions
from directory.models.revisions import Conflict, immediate
from directory.models.services import SERVICE_COLUMNS, now_iso

STATUSES = ("pending", "approved", "rejected")
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")
HSDS_PHONE_TYPES = ("text", "voice", "fax", "cell", "video", "pager", "textphone")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TEXT_FIELDS = tuple(
    c
    for c in SERVICE_COLUMNS
    if c not in revisions.PROTECTED_FIELDS
    and c
    not in (
        "organization_id", "minimum_age", "maximum_age", "free", "twenty_four_seven",
        "victim_facing", "source_url", "source_date", "confidence",
    )
)  # fmt: skip
BOOL_FIELDS = ("free", "twenty_four_seven", "victim_facing")
TIME_RE = re.compile(r"^([01]\d|2[0-4]):[0-5]\d(:[0-5]\d)?$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class Invalid(ValueError):
    """The body has invalid fields; `errors` lists each as {field, message}. Each message is a
    search.Message: English text (the JSON API) that a page shows with `translated`."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class Forbidden(ExplainedError, PermissionError):
    """The user may not do this to this record (English text; a page translates its msgid)."""


class AlreadyReviewed(ExplainedError, ValueError):
    """The change request was approved or rejected already."""


class NotFound(LookupError):
    """No such service, revision or change request."""


# ---------------------------------------------------------------- parsing an HSDS service body


def _same(rendered: dict, item: dict) -> bool:
    """An item sent back unchanged from its HSDS rendering (service_id and nulls aside)."""

    def norm(value):
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, dict):
            return {
                k: norm(v)
                for k, v in value.items()
                if v is not None and k not in ("service_id", "location_id")
            }
        return value

    return norm(rendered) == norm(item)


def _render_schedule(row: dict) -> dict:
    return hsds._pick(row, hsds.SCHEDULE_FIELDS)


def _render_language(row: dict) -> dict:
    return hsds._pick(row, ("id", "service_id", "name", "code", "note"))


def _render_area(row: dict) -> dict:
    out = hsds._pick(row, ("id", "service_id", "name", "description", "extent", "extent_type"))
    return out | ({"psgc_code": row["area_code"]} if row.get("area_code") else {})


class _Parser:
    """Collects every invalid field of one body instead of stopping at the first."""

    def __init__(self, db: Database, current: dict | None):
        self.db = db
        self.current = current
        self.errors: list[dict] = []

    def error(self, field: str, message: str, **values) -> None:
        """Note one invalid field: why, as a msgid with %(name)s placeholders and their values."""
        self.errors.append({"field": field, "message": Message(message, **values)})

    def text(self, value, field: str, *, required: bool = False, limit: int = 5000):
        """A trimmed string or None."""
        if value is None or value == "":
            if required:
                self.error(field, "is required")
            return None
        if not isinstance(value, str):
            self.error(field, "must be a string")
            return None
        value = value.strip()
        if len(value) > limit:
            self.error(field, "is longer than %(limit)s characters", limit=limit)
        if required and not value:
            self.error(field, "is required")
        return value or None

    def boolean(self, value, field: str, *, nullable: bool = False):
        """1, 0 (or None when nullable)."""
        if value is None and nullable:
            return None
        if isinstance(value, bool):
            return 1 if value else 0
        if value in (0, 1):
            return int(value)
        self.error(field, "must be true or false or null" if nullable else "must be true or false")
        return None

    def integer(self, value, field: str, low: int, high: int):
        """A whole number within bounds, or None."""
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.error(field, "must be a whole number")
            return None
        try:
            number = int(value)
        except ValueError:
            self.error(field, "must be a whole number")
            return None
        if not low <= number <= high:
            self.error(field, "must be between %(low)s and %(high)s", low=low, high=high)
        return number

    def iso_date(self, value, field: str):
        """A YYYY-MM-DD date, or None."""
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            self.error(field, "must be a date as YYYY-MM-DD")
            return None

    def area(self, text, field: str, *, required: bool = False) -> geo.Area | None:
        """The gazetteer area a code or place name resolves to (directory.geo.resolve_area)."""
        if text is None or text == "":
            if required:
                self.error(field, "is required (a PSGC code or place name)")
            return None
        try:
            return geo.resolve_area(self.db, str(text), geo.LEVELS)
        except geo.PlaceError as exc:
            self.error(field, exc.msgid, **exc.values)
            return None

    def items(self, body: dict, key: str) -> list[tuple[int, dict]]:
        """(index, object) for each item of a list field."""
        value = body.get(key)
        if not isinstance(value, list):
            self.error(key, "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((i, item))
            else:
                self.error(f"{key}[{i}]", "must be an object")
        return out

    def current_rows(self, key: str) -> "_Rows":
        """The current record's rows of a list field, by id."""
        return _Rows({row["id"]: row for row in (self.current or {}).get(key, [])})


class _Rows(dict):
    """Rows by id; looking up an id that is not a string (a malformed body) finds nothing."""

    def get(self, key, default=None):
        """The row with this id, or default."""
        return super().get(key, default) if isinstance(key, str) else default


def _new_id() -> str:
    return str(uuid.uuid4())


def _phones(p: _Parser, body: dict) -> list[dict]:
    current = p.current_rows("phones")
    out = []
    for i, item in p.items(body, "phones"):
        old = current.get(item.get("id"))
        if old is not None and _same(hsds.phone(old), item):
            out.append(old)
            continue
        field = f"phones[{i}]"
        number = p.text(item.get("number"), f"{field}.number", required=True, limit=100)
        extension = item.get("extension")
        extension = None if extension in (None, "") else str(extension).strip()
        kind = item.get("type") or None
        if kind is not None and kind not in HSDS_PHONE_TYPES:
            p.error(
                f"{field}.type", "must be one of %(choices)s", choices=", ".join(HSDS_PHONE_TYPES)
            )
        row = {
            "id": old["id"] if old else _new_id(),
            "location_id": old.get("location_id") if old else None,
            "organization_id": old.get("organization_id") if old else None,
            "number": number,
            "extension": extension,
            "type": kind,
            "description": p.text(item.get("description"), f"{field}.description", limit=500),
            "sms": p.boolean(item.get("sms", False), f"{field}.sms"),
            "sms_body": p.text(item.get("sms_body"), f"{field}.sms_body", limit=200),
            "tested_on": p.iso_date(item.get("tested_on"), f"{field}.tested_on"),
        }
        unchanged_number = old is not None and old["number"] == number
        if unchanged_number:
            # A number already on file keeps its verdict (even a flagged one) until it changes.
            for key in ("e164", "short_code", "valid", "needs_verification", "problem"):
                row[key] = old.get(key)
            row["type"] = row["type"] or old.get("type")
        elif number:
            try:
                parsed = phones.require_valid(number)
            except phones.PhoneError as exc:
                p.error(f"{field}.number", str(exc))
            else:
                row.update(
                    e164=parsed.e164,
                    short_code=parsed.short_code,
                    valid=1,
                    needs_verification=0,
                    problem=None,
                )
                row["type"] = row["type"] or parsed.type
                row["extension"] = row["extension"] or parsed.extension
        row["type"] = row["type"] or "voice"
        out.append(row)
    return out


def _schedules(p: _Parser, body: dict) -> list[dict]:
    current = p.current_rows("schedules")
    out = []
    for i, item in p.items(body, "schedules"):
        old = current.get(item.get("id"))
        if old is not None and _same(_render_schedule(old), item):
            out.append(old)
            continue
        field = f"schedules[{i}]"
        row = {
            "id": old["id"] if old else _new_id(),
            "location_id": old.get("location_id") if old else None,
            "service_at_location_id": old.get("service_at_location_id") if old else None,
            "timezone": p.text(item.get("timezone"), f"{field}.timezone", limit=64),
            "freq": p.text(item.get("freq"), f"{field}.freq", limit=20),
            "byday": p.text(item.get("byday"), f"{field}.byday", limit=40),
            "opens_at": p.text(item.get("opens_at"), f"{field}.opens_at", limit=8),
            "closes_at": p.text(item.get("closes_at"), f"{field}.closes_at", limit=8),
            "description": p.text(item.get("description"), f"{field}.description", limit=500),
            "notes": p.text(item.get("notes"), f"{field}.notes", limit=500),
        }
        if row["freq"] and row["freq"].upper() not in ("WEEKLY", "MONTHLY"):
            p.error(f"{field}.freq", "must be WEEKLY or MONTHLY")
        if row["byday"]:
            days = [d.strip().upper() for d in row["byday"].split(",")]
            if any(d not in DAYS for d in days):
                p.error(f"{field}.byday", "must be days like MO,TU,WE")
            row["byday"] = ",".join(days)
            row["freq"] = (row["freq"] or "WEEKLY").upper()
        for key in ("opens_at", "closes_at"):
            if row[key] and not TIME_RE.match(row[key]):
                p.error(f"{field}.{key}", "must be a time as HH:MM")
        out.append(row)
    return out


def _languages(p: _Parser, body: dict) -> list[dict]:
    current = p.current_rows("languages")
    out = []
    for i, item in p.items(body, "languages"):
        old = current.get(item.get("id"))
        if old is not None and _same(_render_language(old), item):
            out.append(old)
            continue
        field = f"languages[{i}]"
        code = p.text(item.get("code"), f"{field}.code", required=True, limit=20)
        if code and not LANG_RE.match(code):
            p.error(f"{field}.code", "must be an ISO 639 code such as fil, ceb, war, en")
        out.append(
            {
                "id": old["id"] if old else _new_id(),
                "location_id": old.get("location_id") if old else None,
                "phone_id": old.get("phone_id") if old else None,
                "code": code,
                "name": p.text(item.get("name"), f"{field}.name", limit=100),
                "note": p.text(item.get("note"), f"{field}.note", limit=500),
            }
        )
    return out


def _service_areas(p: _Parser, body: dict) -> list[dict]:
    current = p.current_rows("service_areas")
    out = []
    for i, item in p.items(body, "service_areas"):
        old = current.get(item.get("id"))
        if old is not None and _same(_render_area(old), item):
            out.append(old)
            continue
        field = f"service_areas[{i}]"
        named = item.get("psgc_code") or item.get("area_code") or item.get("name")
        area = p.area(named, field, required=True)
        out.append(
            {
                "id": old["id"] if old else _new_id(),
                "name": p.text(item.get("name"), f"{field}.name", limit=200)
                or (area.name if area else None),
                "description": p.text(item.get("description"), f"{field}.description"),
                "extent": old.get("extent") if old else None,
                "extent_type": old.get("extent_type") if old else None,
                "uri": old.get("uri") if old else None,
                "area_code": area.code if area else None,
            }
        )
    return out


def _coordinate(p: _Parser, value, field: str, limit: float):
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        p.error(field, "must be a number")
        return None
    try:
        number = float(value)
    except ValueError:
        p.error(field, "must be a number")
        return None
    if not -limit <= number <= limit:
        p.error(field, "must be between -%(limit)s and %(limit)s", limit=limit)
    return number


def _addresses(p: _Parser, items: list, field: str, area: geo.Area | None, old: dict | None):
    if not isinstance(items, list):
        p.error(field, "must be a list")
        return []
    current = _Rows({a["id"]: a for a in (old or {}).get("addresses", [])})
    out = []
    for j, item in enumerate(items):
        f = f"{field}[{j}]"
        if not isinstance(item, dict):
            p.error(f, "must be an object")
            continue
        named = item.get("psgc_code") or item.get("area_code")
        own = p.area(named, f"{f}.psgc_code") if named else area
        prior = current.get(item.get("id"))
        out.append(
            {
                "id": prior["id"] if prior else _new_id(),
                "attention": p.text(item.get("attention"), f"{f}.attention", limit=200),
                "address_1": p.text(item.get("address_1"), f"{f}.address_1", limit=500) or "",
                "address_2": p.text(item.get("address_2"), f"{f}.address_2", limit=500),
                "city": p.text(item.get("city"), f"{f}.city", limit=200) or "",
                "region": p.text(item.get("region"), f"{f}.region", limit=200),
                "state_province": p.text(item.get("state_province"), f"{f}.state_province") or "",
                "postal_code": p.text(item.get("postal_code"), f"{f}.postal_code", limit=20) or "",
                "country": p.text(item.get("country"), f"{f}.country", limit=2) or "PH",
                "address_type": p.text(item.get("address_type"), f"{f}.address_type", limit=20)
                or "physical",
                "area_code": own.code if own else None,
            }
        )
    return out


def _locations(p: _Parser, body: dict) -> list[dict]:
    current = p.current_rows("locations")
    out = []
    if "service_at_locations" in body:
        pairs = [
            (f"service_at_locations[{i}].location", item.get("location"))
            for i, item in p.items(body, "service_at_locations")
        ]
    else:
        pairs = [(f"locations[{i}]", item) for i, item in p.items(body, "locations")]
    for field, item in pairs:
        if not isinstance(item, dict):
            p.error(field, "must be an object")
            continue
        old = current.get(item.get("id"))
        if old is not None and _same(hsds.location(old), item):
            out.append(old)
            continue
        named = item.get("psgc_code") or item.get("area_code")
        area = p.area(named, f"{field}.psgc_code", required=True)
        kind = item.get("location_type") or "physical"
        if kind not in ("physical", "postal", "virtual"):
            p.error(f"{field}.location_type", "must be physical, postal or virtual")
        row = {
            "id": old["id"] if old else _new_id(),
            "organization_id": old.get("organization_id") if old else None,
            "name": p.text(item.get("name"), f"{field}.name", limit=300),
            "location_type": kind,
            "description": p.text(item.get("description"), f"{field}.description"),
            "latitude": _coordinate(p, item.get("latitude"), f"{field}.latitude", 90),
            "longitude": _coordinate(p, item.get("longitude"), f"{field}.longitude", 180),
            "confidential": p.boolean(item.get("confidential", False), f"{field}.confidential"),
            "area_code": area.code if area else None,
        }
        if row["latitude"] is None and row["longitude"] is None and area:
            row["latitude"], row["longitude"] = area.lat, area.lon
        if "addresses" in item:
            row["addresses"] = _addresses(p, item["addresses"], f"{field}.addresses", area, old)
        else:  # not sent: keep what is on file (a public copy never carries confidential ones)
            row["addresses"] = copy.deepcopy(old["addresses"]) if old else []
        out.append(row)
    return out


def _terms(p: _Parser, body: dict) -> list[str]:
    known = {r["id"]: r["code"] for r in p.db.query("select id, code from taxonomy_term")}
    codes = set(known.values())
    out = []
    if "attributes" in body:
        for i, item in p.items(body, "attributes"):
            term = item.get("taxonomy_term") or {}
            code = term.get("code") if isinstance(term, dict) else None
            term_id = item.get("taxonomy_term_id")
            code = code or (known.get(term_id) if isinstance(term_id, str) else None)
            if not isinstance(code, str) or code not in codes:
                p.error(f"attributes[{i}].taxonomy_term_id", "unknown taxonomy term")
            elif code not in out:
                out.append(code)
    else:
        value = body.get("taxonomy_terms")
        if not isinstance(value, list):
            p.error("taxonomy_terms", "must be a list of term codes")
            return []
        for i, code in enumerate(value):
            if not isinstance(code, str) or code not in codes:
                p.error(f"taxonomy_terms[{i}]", "unknown taxonomy term %(code)s", code=repr(code))
            elif code not in out:
                out.append(code)
    return out


def parse_service(db: Database, body, current: dict | None) -> dict:
    """The full record an HSDS service body asks for, on top of `current` (None to create):
    fields left out keep their current value; raise Invalid naming every bad field."""
    if not isinstance(body, dict):
        message = Message("must be a JSON object (an HSDS service)")
        raise Invalid([{"field": "body", "message": message}])
    p = _Parser(db, current)
    if current is not None:
        record = copy.deepcopy(current)
    else:
        record = {c: None for c in SERVICE_COLUMNS}
        record.update(status="active", twenty_four_seven=0, victim_facing=1)
        record.update(
            phones=[], schedules=[], languages=[], service_areas=[], locations=[],
            taxonomy_terms=[], source_date=date.today().isoformat(),
        )  # fmt: skip
    if current is None or "organization_id" in body:
        org_id = body.get("organization_id")
        org = (
            db.execute(
                "select id, name, description, website, email from organization where id = ?",
                [org_id],
            ).fetchone()
            if isinstance(org_id, str)
            else None
        )
        if org is None:
            p.error("organization_id", "no such organisation")
        else:
            record["organization_id"] = org["id"]
            record["organization"] = dict(org)
    for key in TEXT_FIELDS:
        if key in body:
            record[key] = p.text(body[key], key, required=key in ("name", "status"))
    if current is None and "name" not in body:
        p.error("name", "is required")
    for key in BOOL_FIELDS:
        if key in body:
            record[key] = p.boolean(body[key], key, nullable=key == "free")
    for key in ("minimum_age", "maximum_age"):
        if key in body:
            record[key] = p.integer(body[key], key, 0, 130)
    source = body.get("source")
    if source is not None:
        if not isinstance(source, dict):
            p.error("source", "must be an object {url, date, confidence}")
        else:
            for key, column in (("url", "source_url"), ("date", "source_date")):
                if key in source:
                    record[column] = p.text(source[key], f"source.{key}", limit=2000)
            if "confidence" in source:
                record["confidence"] = p.text(source["confidence"], "source.confidence")
    if record.get("status") and record["status"] not in SERVICE_STATUSES:
        p.error("status", "must be one of %(choices)s", choices=", ".join(SERVICE_STATUSES))
    if record.get("gender") and record["gender"] not in ("female", "male"):
        p.error("gender", "must be female, male or null (anyone)")
    if record.get("confidence") and record["confidence"] not in ("high", "medium", "low"):
        p.error("source.confidence", "must be high, medium or low")
    low, high = record.get("minimum_age"), record.get("maximum_age")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        p.error("maximum_age", "is below minimum_age")
    if record.get("url") and not re.match(r"^https?://\S+$", record["url"]):
        p.error("url", "must start with http:// or https://")
    if record.get("email") and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", record["email"]):
        p.error("email", "is not an email address")
    if "phones" in body:
        record["phones"] = _phones(p, body)
    if "schedules" in body:
        record["schedules"] = _schedules(p, body)
    if "languages" in body:
        record["languages"] = _languages(p, body)
    if "service_areas" in body:
        record["service_areas"] = _service_areas(p, body)
    if "service_at_locations" in body or "locations" in body:
        record["locations"] = _locations(p, body)
    if "attributes" in body or "taxonomy_terms" in body:
        record["taxonomy_terms"] = _terms(p, body)
    if p.errors:
        raise Invalid(p.errors)
    return record


# ---------------------------------------------------------------- diff and merge


def _summary(key: str, row: dict) -> str:
    if key == "phones":
        parts = [row.get("number") or ""]
        if row.get("extension"):
            parts.append(f"ext. {row['extension']}")
        parts.append(f"({row.get('type') or 'voice'}{', SMS' if row.get('sms') else ''})")
        if row.get("description"):
            parts.append(f"— {row['description']}")
        if row.get("tested_on"):
            parts.append(f"[tested {row['tested_on']}]")
        return " ".join(parts)
    if key == "schedules":
        return (
            f"{row.get('byday') or '?'} {row.get('opens_at') or '?'}–{row.get('closes_at') or '?'}"
            + (f" ({row['description']})" if row.get("description") else "")
        )
    if key == "languages":
        return row.get("code") or ""
    if key == "service_areas":
        return f"{row.get('name') or ''} [{row.get('area_code') or '?'}]"
    if key == "locations":
        addresses = "; ".join(
            ", ".join(filter(None, [a.get("address_1"), a.get("city")]))
            for a in row.get("addresses", [])
        )
        flag = "CONFIDENTIAL " if row.get("confidential") else ""
        return f"{flag}{row.get('name') or ''} [{row.get('area_code') or '?'}] {addresses}".strip()
    return json.dumps(row, sort_keys=True)


def _value(key: str, record: dict):
    value = record.get(key)
    if key in revisions.LIST_FIELDS:
        return [_summary(key, row) for row in value or []]
    if key == "taxonomy_terms":
        return list(value or [])
    return value


def diff(old: dict | None, new: dict) -> list[dict]:
    """Field by field, what changes from old to new: [{field, before, after}]."""
    out = []
    keys = [c for c in SERVICE_COLUMNS if c != "last_modified"]
    keys += [*revisions.LIST_FIELDS, "taxonomy_terms"]
    for key in keys:
        before = _value(key, old or {})
        after = _value(key, new)
        if key in revisions.LIST_FIELDS:
            raw_before = (old or {}).get(key) or []
            raw_after = new.get(key) or []
            if _comparable(raw_before) == _comparable(raw_after):
                continue
        elif before == after:
            continue
        out.append({"field": key, "before": before, "after": after})
    return out


def _comparable(rows: list[dict]) -> str:
    return json.dumps(rows, sort_keys=True, default=str)


def _changed_keys(a: dict, b: dict) -> set[str]:
    keys = [c for c in SERVICE_COLUMNS if c != "last_modified"]
    keys += [*revisions.LIST_FIELDS, "taxonomy_terms", "organization"]
    return {k for k in keys if _comparable([a.get(k)]) != _comparable([b.get(k)])}


def merge(base: dict, proposal: dict, current: dict) -> tuple[dict, list[str]]:
    """Apply the proposal's changes (relative to base) to current; the fields both changed."""
    mine = _changed_keys(base, proposal)
    theirs = _changed_keys(base, current)
    clash = sorted(mine & theirs)
    merged = copy.deepcopy(current)
    for key in mine:
        merged[key] = copy.deepcopy(proposal.get(key))
    return merged, clash


# ---------------------------------------------------------------- storing and reviewing


def _row(db: Database, row) -> dict:
    out = dict(row)
    out["record"] = json.loads(out["record"])
    emails = {
        r["id"]: r["email"]
        for r in db.query(
            "select id, email from user where id in (?, ?)",
            [out["author_id"], out["reviewer_id"] or -1],
        )
    }
    out["author_email"] = emails.get(out["author_id"])
    out["reviewer_email"] = emails.get(out["reviewer_id"])
    return out


def get(db: Database, request_id: int) -> dict | None:
    """One change request with its proposed record, or None."""
    row = db.execute("select * from change_request where id = ?", [request_id]).fetchone()
    return _row(db, row) if row else None


def list_requests(
    db: Database,
    *,
    status: str | None = None,
    org_ids: list[str] | tuple[str, ...] | None = None,
    service_id: str | None = None,
    limit: int = 200,
) -> list[dict]:
    """Change requests, newest first; org_ids limits them to those organisations."""
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if org_ids is not None:
        where.append(f"organization_id in ({', '.join('?' for _ in org_ids) or 'NULL'})")
        args += list(org_ids)
    if service_id:
        where.append("service_id = ?")
        args.append(service_id)
    sql = "select * from change_request" + (" where " + " and ".join(where) if where else "")
    order = " order by created_at asc, id asc" if status == "pending" else " order by id desc"
    return [_row(db, r) for r in db.query(sql + order + " limit ?", [*args, limit])]


def base_record(db: Database, request: dict) -> dict | None:
    """The record the proposal was made against (None for a new service)."""
    if request["base_version"] is None:
        return None
    found = revisions.get_revision(db, request["service_id"], request["base_version"])
    return found["record"] if found else None


def propose(db: Database, user, record: dict, *, kind: str, base_version: int | None) -> int:
    """Store an editor's proposal (call inside `immediate(db)`); its id."""
    if not user.can_edit(record["organization_id"]):
        raise Forbidden("not your organisation")
    if kind != "create":
        revisions.ensure_initial(db, record["id"])
    cursor = db.execute(
        "insert into change_request (service_id, organization_id, kind, base_version, record,"
        " author_id, created_at) values (?, ?, ?, ?, ?, ?, ?)",
        [
            record["id"],
            record["organization_id"],
            kind,
            base_version,
            json.dumps(record, sort_keys=True),
            user.id,
            now_iso(),
        ],
    )
    audit.record(
        db,
        f"change_request.{kind}",
        actor_id=user.id,
        actor_email=user.email,
        target_type="service",
        target_id=record["id"],
        detail={"change_request": cursor.lastrowid, "base_version": base_version},
    )
    return cursor.lastrowid


def submit(db: Database, user, service_id: str | None, body, *, if_match: int | None) -> dict:
    """Edit (service_id) or create (None) a service from an HSDS body, in one transaction:
    published at once for moderators and admins, a pending change request for editors.

    Raises NotFound, Forbidden, Invalid or Conflict (nothing written in those cases).
    """
    with immediate(db):
        if service_id is None:
            record = parse_service(db, body, None)
            record["id"] = _new_id()
            if not user.can_edit(record["organization_id"]):
                raise Forbidden("you may only create services for your organisation")
            if user.can_review:
                version = revisions.publish(db, record, author=user, action="create")
                return {"id": record["id"], "status": "published", "version": version}
            request_id = propose(db, user, record, kind="create", base_version=None)
            return {"id": request_id, "status": "pending", "service_id": record["id"]}
        current = revisions.snapshot(db, service_id)
        if current is None:
            raise NotFound(service_id)
        if not user.can_edit(current["organization_id"]):
            raise Forbidden("this service belongs to another organisation")
        version = revisions.current_version(db, service_id)
        if if_match is not None and if_match != version:
            raise Conflict(version)
        record = parse_service(db, body, current)
        record["id"] = service_id
        if not user.can_edit(record["organization_id"]):
            raise Forbidden("you may not move a service to another organisation")
        if user.can_review:
            number = revisions.publish(
                db, record, author=user, action="edit", expected_version=version
            )
            return {"id": service_id, "status": "published", "version": number}
        request_id = propose(db, user, record, kind="edit", base_version=version)
        return {"id": request_id, "status": "pending", "service_id": service_id}


def restore(db: Database, user, service_id: str, number: int) -> dict:
    """Restore an earlier revision: published at once by a moderator, proposed by an editor."""
    with immediate(db):
        current = revisions.snapshot(db, service_id)
        if current is None:
            raise NotFound(service_id)
        if not user.can_edit(current["organization_id"]):
            raise Forbidden("this service belongs to another organisation")
        old = revisions.get_revision(db, service_id, number)
        if old is None:
            raise NotFound(f"revision {number}")
        if user.can_review:
            version = revisions.restore(db, service_id, number, author=user)
            return {"id": service_id, "status": "published", "version": version}
        if not user.can_edit(old["record"]["organization_id"]):
            raise Forbidden("that revision belongs to another organisation")
        request_id = propose(
            db,
            user,
            old["record"],
            kind="restore",
            base_version=revisions.current_version(db, service_id),
        )
        return {"id": request_id, "status": "pending", "service_id": service_id}


def _already_reviewed(request: dict) -> AlreadyReviewed:
    if request["status"] == "approved":
        return AlreadyReviewed(
            "change request %(number)s is already approved", number=request["id"]
        )
    return AlreadyReviewed("change request %(number)s is already rejected", number=request["id"])


def approve(db: Database, request_id: int, reviewer) -> int:
    """Publish a pending proposal (merged onto later changes when they do not clash); the new
    version. Raises NotFound, Forbidden, AlreadyReviewed (a ValueError) or Conflict."""
    if not reviewer.can_review:
        raise Forbidden("only moderators and admins approve")
    with immediate(db):
        request = get(db, request_id)
        if request is None:
            raise NotFound(f"change request {request_id}")
        if request["status"] != "pending":
            raise _already_reviewed(request)
        proposal = request["record"]
        service_id = request["service_id"]
        current_version = revisions.current_version(db, service_id)
        if request["kind"] == "create":
            if current_version is not None:
                raise Conflict(current_version)
            record, expected = proposal, None
        elif request["base_version"] == current_version:
            record, expected = proposal, current_version
        else:
            current = revisions.snapshot(db, service_id)
            if current is None:
                raise NotFound(service_id)
            record, clash = merge(base_record(db, request) or current, proposal, current)
            if clash:
                raise Conflict(current_version, clash)
            expected = current_version
        version = revisions.publish(
            db,
            record,
            author=reviewer,
            action={"create": "create", "restore": "restore"}.get(request["kind"], "edit"),
            expected_version=expected,
            change_request_id=request_id,
            note=f"proposed by {request['author_email']}",
        )
        db.execute(
            "update change_request set status = 'approved', reviewer_id = ?, reviewed_at = ?,"
            " published_version = ? where id = ?",
            [reviewer.id, now_iso(), version, request_id],
        )
        audit.record(
            db,
            "change_request.approve",
            actor_id=reviewer.id,
            actor_email=reviewer.email,
            target_type="change_request",
            target_id=request_id,
            detail={"service": service_id, "version": version},
        )
        return version


def reject(db: Database, request_id: int, reviewer, reason: str) -> None:
    """Reject a pending proposal with a reason the author will see; it is kept."""
    if not reviewer.can_review:
        raise Forbidden("only moderators and admins reject")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid([{"field": "reason", "message": Message("is required")}])
    with immediate(db):
        request = get(db, request_id)
        if request is None:
            raise NotFound(f"change request {request_id}")
        if request["status"] != "pending":
            raise _already_reviewed(request)
        db.execute(
            "update change_request set status = 'rejected', reviewer_id = ?, reviewed_at = ?,"
            " reason = ? where id = ?",
            [reviewer.id, now_iso(), reason[:2000], request_id],
        )
        audit.record(
            db,
            "change_request.reject",
            actor_id=reviewer.id,
            actor_email=reviewer.email,
            target_type="change_request",
            target_id=request_id,
            detail={"service": request["service_id"], "reason": reason[:2000]},
        )


def verify(db: Database, user, service_id: str, *, on: str, tested_phone_ids=()) -> int:
    """ "Confirm still accurate" (moderators and admins); the new version."""
    if not user.can_review:
        raise Forbidden("only moderators and admins verify listings")
    with immediate(db):
        if revisions.current_version(db, service_id) is None:
            raise NotFound(service_id)
        return revisions.verify(
            db, service_id, author=user, on=on, tested_phone_ids=tested_phone_ids
        )
