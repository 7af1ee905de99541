"""HSDS 3.0 JSON import: one service (the `service.json` shape), a list of them, or a `Page`.

`to_record` turns one HSDS service object (native JSON types, or the strings of a data package
row) into the nested record models.services.save_service writes, with every problem found.
Large JSON arrays and JSON Lines files are read one service at a time (`iter_services`).
"""

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlite_utils import Database

from directory import geo, phones
from directory.ids import stable_uuid
from directory.importers import Problem, id_key
from directory.models import taxonomies

STATUSES = {"active", "inactive", "defunct", "temporarily closed"}
PHONE_TYPES = {"text", "voice", "fax", "cell", "video", "pager", "textphone"}
GENDERS = {"female", "male"}
CONFIDENCE = {"high", "medium", "low"}
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}
SERVICE_TEXT = ("alternate_name", "description", "url", "email", "interpretation_services",
                "application_process", "fees_description", "eligibility_description",
                "assurer_email", "alert", "last_modified", "kind", "notes", "other_channels",
                "hours_text", "hours_note")  # fmt: skip
CHUNK = 1 << 20
MAX_WARNINGS = 1000
MAX_CACHED = 100_000  # places remembered per import
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
WHOLE_NUMBER = re.compile(r"\s*\d{1,9}(\.0+)?\s*")
CLOCK = re.compile(r"([01]?\d|2[0-4]):[0-5]\d(:[0-5]\d)?")
DIGIT = re.compile(r"\d")


@dataclass
class Context:
    """What an import has seen so far: ids, organisations, terms, resolved places (a cache)."""

    db: Database
    term_codes: dict[str, str] = field(default_factory=dict)  # term id → code
    codes: set[str] = field(default_factory=set)
    new_terms: dict[str, dict] = field(default_factory=dict)  # id → term from the file
    new_taxonomies: dict[str, dict] = field(default_factory=dict)
    # ids seen so far in the file, as 16 bytes each: memory stays small for large files
    organizations: set[bytes] = field(default_factory=set)
    service_ids: set[bytes] = field(default_factory=set)
    places: dict[tuple, tuple[str | None, str | None]] = field(default_factory=dict)
    areas: dict[str, geo.Area | None] = field(default_factory=dict)  # code → area, as looked up

    def __post_init__(self):
        self.term_codes = taxonomies.term_codes(self.db)
        self.codes = set(self.term_codes.values())

    def area(self, code: str) -> geo.Area | None:
        """geo.get_area, remembered for the import (the same places recur across listings)."""
        if code in self.areas:
            return self.areas[code]
        area = geo.get_area(self.db, code)
        if len(self.areas) < MAX_CACHED:
            self.areas[code] = area
        return area

    def known_organization(self, organization_id: str) -> bool:
        """Defined earlier in the file or already stored."""
        if id_key(organization_id) in self.organizations:
            return True
        found = self.db.execute(
            "select 1 from organization where id = ?", [organization_id]
        ).fetchone()
        return found is not None

    def term_code(self, term_id: str, term: dict | None, r: "Reader", where: str) -> str | None:
        """The code a term is stored under; a term new to the database is kept to be added."""
        if term_id in self.term_codes:
            return self.term_codes[term_id]
        if term_id in self.codes:  # a code given where an id was expected
            return term_id
        if not term or not term.get("name"):
            return None
        code = str(term.get("code") or term_id)
        if code in self.codes:
            code = term_id
        self.term_codes[term_id] = code
        self.codes.add(code)
        detail = term.get("taxonomy_detail")
        detail = detail if isinstance(detail, dict) else None
        if detail and _text(detail.get("id")) and _text(detail.get("name")):
            self.new_taxonomies[str(detail["id"])] = detail
        taxonomy_id = _text(term.get("taxonomy_id")) or _text((detail or {}).get("id"))
        if taxonomy_id and not self._known_taxonomy(taxonomy_id):
            r.warn(where, f"taxonomy {taxonomy_id[:60]!r} of term {term_id[:60]!r} is in neither "
                   "the file nor the database; the term is kept without it")  # fmt: skip
            taxonomy_id = None
        self.new_terms[term_id] = {**term, "id": term_id, "code": code, "taxonomy_id": taxonomy_id}
        return code

    def _known_taxonomy(self, taxonomy_id: str) -> bool:
        if taxonomy_id in self.new_taxonomies:
            return True
        found = self.db.execute("select 1 from taxonomy where id = ?", [taxonomy_id]).fetchone()
        return found is not None

    def pop_new_terms(self) -> tuple[list[dict], list[dict]]:
        """Taxonomies and terms met since the last call, to write before the services."""
        out = list(self.new_taxonomies.values()), list(self.new_terms.values())
        self.new_taxonomies, self.new_terms = {}, {}
        return out


class Reader:
    """Collects one record's problems with its source and position."""

    def __init__(self, source: str, line: int | None, label: str = ""):
        self.source, self.line, self.label = source, line, label
        self.problems: list[Problem] = []

    def error(self, field_name: str | None, message: str) -> None:
        """Record an error (the record is not imported)."""
        self.problems.append(Problem(self.source, self.line, field_name, self.label + message))

    def warn(self, field_name: str | None, message: str) -> None:
        """Record a warning (the record is imported)."""
        self.problems.append(
            Problem(self.source, self.line, field_name, self.label + message, "warning")
        )


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(value, r: Reader, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    r.error(name, f"expected true or false, got {str(value)[:40]!r}")
    return None


def _int(value, r: Reader, name: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not WHOLE_NUMBER.fullmatch(str(value)):
        r.error(name, f"expected a whole number from {low} to {high}, got {str(value)[:40]!r}")
        return None
    number = int(float(value))
    if not low <= number <= high:
        r.error(name, f"expected a whole number from {low} to {high}, got {number}")
        return None
    return number


def _float(value, r: Reader, name: str, limit: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        r.warn(name, f"not a number ({str(value)[:40]!r}); the area's point is used")
        return None
    if not -limit <= number <= limit:
        r.warn(name, f"{number} is out of range; the area's point is used")
        return None
    return number


def _uuid(value, r: Reader, name: str, default: tuple[str, ...] | None = None) -> str | None:
    """The UUID in its canonical form; a missing one is an error, or, given `default` (the parts
    of a stable id), derived from them."""
    text = _text(value)
    if not text:
        if default is None:
            r.error(name, "is required")
            return None
        return stable_uuid(*default)
    if CANONICAL_UUID.fullmatch(text):
        return text
    try:
        return str(uuid.UUID(text))
    except ValueError:
        r.error(name, f"not a UUID: {text[:60]!r}")
        return None


def _date(value, r: Reader, name: str) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat() if len(text) >= 10 else _bad_date()
    except ValueError:
        r.error(name, f"expected a date YYYY-MM-DD, got {text[:40]!r}")
        return None


def _bad_date():
    raise ValueError


def _list(value, r: Reader, name: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        r.error(name, "expected a list of objects")
        return []
    return value


def to_record(ctx: Context, obj: dict, r: Reader) -> dict | None:
    """One HSDS service object as a record for save_service; problems go to the reader."""
    if not isinstance(obj, dict):
        r.error(None, "expected a service object")
        return None
    sid = _uuid(obj.get("id"), r, "id")
    if sid and id_key(sid) in ctx.service_ids:
        r.error("id", f"duplicate: an earlier service in this file has id {sid}")
    name = _text(obj.get("name"))
    if not name:
        r.error("name", "is required")
    org = _organization(ctx, obj, r)
    status = (_text(obj.get("status")) or "active").lower()
    if status not in STATUSES:
        r.error("status", f"expected one of {', '.join(sorted(STATUSES))}, got {status[:40]!r}")
    source = obj.get("source") if isinstance(obj.get("source"), dict) else {}
    gender = (_text(obj.get("gender")) or "").lower() or None
    if gender and gender not in GENDERS:
        r.error("gender", f"expected female or male, got {gender[:40]!r}")
    confidence = (_text(source.get("confidence", obj.get("confidence"))) or "").lower() or None
    if confidence and confidence not in CONFIDENCE:
        r.error("source.confidence", "expected high, medium or low")
    minimum_age = _int(obj.get("minimum_age"), r, "minimum_age", 0, 120)
    maximum_age = _int(obj.get("maximum_age"), r, "maximum_age", 0, 120)
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        r.error("maximum_age", "is below minimum_age")
    free = _bool(obj.get("free"), r, "free")
    victim_facing = _bool(obj.get("victim_facing"), r, "victim_facing")
    record = {
        "id": sid,
        "name": name,
        "status": status,
        **{k: _text(obj.get(k)) for k in SERVICE_TEXT},
        "organization_id": org["id"] if org else None,
        "organization": org,
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
        "assured_date": _date(obj.get("assured_date"), r, "assured_date"),
        "gender": gender,
        "free": None if free is None else int(free),
        "twenty_four_seven": int(bool(_bool(obj.get("twenty_four_seven"), r, "twenty_four_seven"))),
        "victim_facing": 0 if victim_facing is False else 1,
        "source_url": _text(source.get("url", obj.get("source_url"))),
        "source_date": _text(source.get("date", obj.get("source_date"))),
        "confidence": confidence,
    }
    sid = sid or "?"
    locations = _locations(ctx, obj, sid, r)
    record["service_areas"] = _service_areas(ctx, obj, sid, r)
    record["phones"] = _phones(obj, sid, _country(ctx, locations, record["service_areas"]), r)
    record["schedules"] = _schedules(obj, sid, r)
    record["languages"] = [
        {
            "id": _uuid(lang.get("id"), r, "languages.id", (sid, "language", str(i))),
            "name": _text(lang.get("name")),
            "code": _text(lang.get("code")),
            "note": _text(lang.get("note")),
        }
        for i, lang in enumerate(_list(obj.get("languages"), r, "languages"))
    ]
    record["locations"] = locations
    record["taxonomy_terms"] = _terms(ctx, obj, r)
    if not any(p.severity == "error" for p in r.problems):
        ctx.service_ids.add(id_key(sid))
        if org:
            ctx.organizations.add(id_key(org["id"]))
    return record


def _organization(ctx: Context, obj: dict, r: Reader) -> dict | None:
    """The service's organisation: its details when the object gives them, or {"id": …} alone,
    a reference to one stored or defined earlier in the file, which the import leaves as it
    is (one defined earlier may not be written yet, and a second process checking the file
    sees only what was stored before the import began)."""
    org = obj.get("organization")
    org_id = _text(obj.get("organization_id"))
    if isinstance(org, dict) and (org.get("id") or org_id):
        oid = _uuid(org.get("id") or org_id, r, "organization.id")
        name = _text(org.get("name"))
        if not name:
            if oid and ctx.known_organization(oid):
                return {"id": oid}  # a reference: see _organization's docstring
            r.error("organization.name", "is required")
            return None
        return {
            "id": oid,
            "name": name,
            "description": _text(org.get("description")) or "",
            "website": _text(org.get("website")),
            "email": _text(org.get("email")),
        }
    if not org_id:
        r.error("organization_id", "is required (or a nested organization)")
        return None
    oid = _uuid(org_id, r, "organization_id")
    if oid and not ctx.known_organization(oid):
        r.error("organization_id", f"no organization with id {oid} in the file or the database")
        return None
    return {"id": oid} if oid else None


def _country(ctx: Context, locations: list[dict], service_areas: list[dict]) -> str:
    """The country phone numbers are read in: the service's address, location or area's."""
    for loc in locations:
        for address in loc["addresses"]:
            if address.get("country"):
                return address["country"]
    for item in [*locations, *service_areas]:
        if item.get("area_code") and (area := ctx.area(item["area_code"])):
            return area.country_code
    return "PH"


@lru_cache(maxsize=4096)
def _parse_phone(number: str, country: str) -> phones.ParsedPhone:
    """phones.validate_number, remembered: the same hotline numbers recur across listings."""
    return phones.validate_number(number, country)


def _phones(obj: dict, sid: str, country: str, r: Reader) -> list[dict]:
    out = []
    for i, p in enumerate(_list(obj.get("phones"), r, "phones")):
        number = _text(str(p.get("number") or "").strip("\"' "))  # the HSDS example quotes it
        label = f"phones[{i}]"
        if not number or not DIGIT.search(number):
            r.error(f"{label}.number", f"not a phone number: {str(number)[:40]!r}")
            continue
        parsed = _parse_phone(number, country if len(country) == 2 else "PH")
        ptype = (_text(p.get("type")) or parsed.type or "voice").lower()
        if ptype not in PHONE_TYPES:
            r.error(f"{label}.type", f"expected one of {', '.join(sorted(PHONE_TYPES))}")
        needs = _bool(p.get("needs_verification"), r, f"{label}.needs_verification")
        profiled = needs is not None  # a file in our profile says what it checked; keep it
        if needs is None:
            needs = parsed.needs_verification
            if needs:
                r.warn(f"{label}.number", f"{number}: {parsed.problem or 'does not validate'}; "
                       "flagged as needing verification")  # fmt: skip
        extension = _text(p.get("extension"))
        sms = _bool(p.get("sms"), r, f"{label}.sms")
        out.append(
            {
                "id": _uuid(p.get("id"), r, f"{label}.id", (sid, "phone", str(i))),
                "number": number,
                "extension": extension[:-2]
                if extension and extension.endswith(".0")
                else extension,
                "type": ptype,
                "description": _text(p.get("description")),
                "e164": _text(p.get("e164")) if profiled else parsed.e164,
                "short_code": _text(p.get("short_code")) if profiled else parsed.short_code,
                "sms": int(parsed.sms if sms is None else sms),
                "sms_body": _text(p.get("sms_body")) if profiled else parsed.sms_body,
                "valid": int(bool(parsed.valid)),
                "needs_verification": int(bool(needs)),
                "problem": _text(p.get("problem")) if profiled else parsed.problem,
                "tested_on": _text(p.get("tested_on")),
            }
        )
    return out


def _clock(value, r: Reader, name: str) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if not CLOCK.fullmatch(text):
        r.error(name, f"expected a time HH:MM, got {text[:40]!r}")
        return None
    return text


def _timezone(value, r: Reader, name: str) -> None:
    """Schedules are read in the service's country's zone (Asia/Manila for the Philippines):
    HSDS's timezone (a UTC offset) is not stored, and a different one is reported."""
    text = _text(value)
    if text is None or text in ("8", "+8", "8.0", "Asia/Manila"):
        return None
    r.warn(name, f"time zone {text[:40]!r} is not kept: hours are read in the country's zone")
    return None


def _schedules(obj: dict, sid: str, r: Reader) -> list[dict]:
    out = []
    for i, s in enumerate(_list(obj.get("schedules"), r, "schedules")):
        out.append(
            {
                "id": _uuid(s.get("id"), r, f"schedules[{i}].id", (sid, "schedule", str(i))),
                "timezone": _timezone(s.get("timezone"), r, f"schedules[{i}].timezone"),
                "freq": _text(s.get("freq")),
                "byday": _text(s.get("byday")),
                "opens_at": _clock(s.get("opens_at"), r, f"schedules[{i}].opens_at"),
                "closes_at": _clock(s.get("closes_at"), r, f"schedules[{i}].closes_at"),
                "description": _text(s.get("description")),
                "notes": _text(s.get("notes")),
            }
        )
    return out


def _area_by_code(ctx: Context, code, r: Reader, name: str) -> geo.Area | None:
    area = ctx.area(str(code).strip())
    if area is None:
        r.error(name, f"unknown PSGC or country code {str(code)[:20]!r}")
    return area


def resolve_address(ctx: Context, address: dict, r: Reader, name: str) -> geo.Area | None:
    """The area an address is in: its psgc_code, else its city / province / region names
    resolved one within the other ("Pilar, Sorsogon"), else its country."""
    if code := _text(address.get("psgc_code") or address.get("area_code")):
        return _area_by_code(ctx, code, r, f"{name}.psgc_code")
    country = (_text(address.get("country")) or "PH").upper()
    parts = tuple(_text(address.get(k)) for k in ("city", "state_province", "region"))
    key = (country, *parts)
    if key in ctx.places:
        code, message = ctx.places[key]
        if message:
            r.error(*message.split("\x00", 1))
        return ctx.area(code) if code else None
    area, message = _resolve_names(ctx.db, country, parts, name)
    ctx.places[key] = (area.code if area else None, message)
    if message:
        r.error(*message.split("\x00", 1))
    return area


def _resolve_names(db: Database, country: str, parts, name: str):
    """(area, None) or (None, "field\\0message")."""
    city, province, region = parts
    if country != "PH":
        area = geo.get_area(db, country)
        if area is None or area.level != "country":
            return None, f"{name}.country\x00unknown ISO 3166-1 code {country[:10]!r}"
        return area, None
    context, found = "", None
    for field_name, text, levels in (
        ("region", region, ("region",)),
        ("state_province", province, ("province", "region")),
        ("city", city, ("city", "barangay")),
    ):
        if not text or text.lower() in ("nationwide", "philippines"):
            continue
        if found is not None and field_name == "state_province" and _names(db, found, text):
            continue  # "Metro Manila" given as the province of an NCR address
        try:
            area = geo.resolve_area(db, f"{text}, {context}" if context else text, levels=levels)
        except geo.PlaceError as exc:
            return None, f"{name}.{field_name}\x00{exc}"
        if not _names(db, area, text):  # a near miss is a guess: an import takes exact names
            return None, (
                f'{name}.{field_name}\x00"{text[:60]}" is not a known name of a {levels[0]}; '
                f"did you mean {geo.describe(db, area)}? (or give its psgc_code)"
            )
        found, context = area, area.name
    return found or geo.get_area(db, "PH"), None


def _names(db: Database, area: geo.Area, text: str) -> bool:
    """Whether `text` is the area's name, one of its aliases or its code (not a fuzzy match)."""
    return geo.is_name_of(db, area, text)


def _locations(ctx: Context, obj: dict, sid: str, r: Reader) -> list[dict]:
    out = []
    for i, sal in enumerate(_list(obj.get("service_at_locations"), r, "service_at_locations")):
        loc = sal.get("location")
        label = f"service_at_locations[{i}].location"
        if not isinstance(loc, dict):
            r.error(label, "is required (a nested location)")
            continue
        lid = _uuid(loc.get("id") or sal.get("location_id"), r, f"{label}.id")
        addresses, area = [], None
        for j, a in enumerate(_list(loc.get("addresses"), r, f"{label}.addresses")):
            a_area = resolve_address(ctx, a, r, f"{label}.addresses[{j}]")
            area = area or a_area
            addresses.append(
                {
                    "id": _uuid(a.get("id"), r, f"{label}.addresses[{j}].id",
                                (lid or sid, "address", str(j))),
                    "attention": _text(a.get("attention")),
                    "address_1": _text(a.get("address_1")) or "",
                    "address_2": _text(a.get("address_2")),
                    "city": _text(a.get("city")) or "",
                    "region": _text(a.get("region")),
                    "state_province": _text(a.get("state_province")) or "",
                    "postal_code": _text(a.get("postal_code")) or "",
                    "country": (_text(a.get("country")) or "PH").upper(),
                    "address_type": _text(a.get("address_type")) or "physical",
                    "area_code": a_area.code if a_area else None,
                }
            )  # fmt: skip
        if code := _text(loc.get("psgc_code")):
            area = _area_by_code(ctx, code, r, f"{label}.psgc_code")
        lat = _float(loc.get("latitude"), r, f"{label}.latitude", 90)
        lon = _float(loc.get("longitude"), r, f"{label}.longitude", 180)
        if lat is None or lon is None:
            lat, lon = (area.lat, area.lon) if area else (None, None)
        out.append(
            {
                "id": lid,
                "name": _text(loc.get("name")),
                "location_type": _text(loc.get("location_type")) or "physical",
                "description": _text(loc.get("description")),
                "latitude": lat,
                "longitude": lon,
                "confidential": int(
                    bool(_bool(loc.get("confidential"), r, f"{label}.confidential"))
                ),
                "area_code": area.code if area else None,
                "addresses": addresses,
            }
        )
    return out


def _service_areas(ctx: Context, obj: dict, sid: str, r: Reader) -> list[dict]:
    out = []
    for i, a in enumerate(_list(obj.get("service_areas"), r, "service_areas")):
        label = f"service_areas[{i}]"
        area = None
        if code := _text(a.get("psgc_code") or a.get("area_code")):
            area = _area_by_code(ctx, code, r, f"{label}.psgc_code")
        elif name := _text(a.get("name")):
            try:
                area = geo.resolve_area(ctx.db, name[:200])
            except geo.PlaceError as exc:
                r.warn(f"{label}.name", f"{exc} (kept as text, not used to filter by area)")
        out.append(
            {
                "id": _uuid(a.get("id"), r, f"{label}.id", (sid, "area", str(i))),
                "name": _text(a.get("name")),
                "description": _text(a.get("description")),
                "extent": _text(a.get("extent")),
                "extent_type": _text(a.get("extent_type")),
                "uri": _text(a.get("uri")),
                "area_code": area.code if area else None,
            }
        )
    return out


def _terms(ctx: Context, obj: dict, r: Reader) -> list[str]:
    codes = []
    for i, attribute in enumerate(_list(obj.get("attributes"), r, "attributes")):
        term = (
            attribute.get("taxonomy_term")
            if isinstance(attribute.get("taxonomy_term"), dict)
            else None
        )
        term_id = _text(attribute.get("taxonomy_term_id")) or _text((term or {}).get("id"))
        if not term_id:
            r.error(f"attributes[{i}].taxonomy_term_id", "is required")
            continue
        code = ctx.term_code(term_id, term, r, f"attributes[{i}].taxonomy_term")
        if code is None:
            r.error(
                f"attributes[{i}].taxonomy_term_id",
                f"no taxonomy term with id {term_id[:60]!r} in the file or the database",
            )
        elif code not in codes:
            codes.append(code)
    return codes


def iter_services(path: Path) -> Iterator[tuple[int | None, str, object]]:
    """Yield (line, label, service object) from a JSON file (one service, a list, a Page) or
    JSON Lines; a top-level list and JSON Lines are read incrementally."""
    path = Path(path)
    with open(path, encoding="utf-8-sig") as f:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            for line_number, line in enumerate(f, 1):
                if line.strip():
                    yield line_number, f"line {line_number}: ", _loads(line, line_number)
            return
        head = f.read(CHUNK)
        start = head.lstrip()[:1]
        if start == "[":
            yield from _iter_array(f, head)
            return
        document = _loads(head + f.read(), None)
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        for i, item in enumerate(document["contents"]):
            yield None, f"contents[{i}]: ", item
    else:
        yield None, "", document


class BadJSON(ValueError):
    """The file is not valid JSON."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _loads(text: str, line: int | None):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {line or exc.lineno}, column {exc.colno}"
        raise BadJSON(
            f"not valid JSON: {exc.msg.removesuffix(' at')} ({where})", line or exc.lineno
        ) from None


def _maybe_cut_off(exc: json.JSONDecodeError, read: int) -> bool:
    """Whether a decoding error may only mean the item goes on past the `read` characters: an
    open string, or a failure within the last few characters (a literal such as "fals" cut
    short). Any other error is in the file, and reading on would only hold more of it."""
    return exc.msg.startswith("Unterminated string") or exc.pos >= read - 16


def _iter_array(f, buffer: str) -> Iterator[tuple[int | None, str, object]]:
    """The items of a top-level JSON array, decoded one by one from a file read in chunks."""
    decoder = json.JSONDecoder()
    pos = buffer.index("[") + 1
    line, counted = 1, 0  # line number at buffer[counted]
    index, eof = 0, False

    def refill(keep_from: int) -> None:
        nonlocal buffer, pos, counted, line, eof
        line += buffer.count("\n", counted, keep_from)
        more = f.read(CHUNK)
        eof = eof or not more
        buffer, pos, counted = buffer[keep_from:] + more, pos - keep_from, 0

    while True:
        while True:  # skip whitespace and the comma between items
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buffer) or eof:
                break
            refill(pos)
        if pos >= len(buffer):
            raise BadJSON("not valid JSON: the list is not closed with ]", line)
        line += buffer.count("\n", counted, pos)
        counted = pos
        if buffer[pos] == "]":
            return
        try:
            item, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if not eof and _maybe_cut_off(exc, len(buffer)):
                refill(pos)  # the item goes on past what was read
                continue
            where = line + buffer.count("\n", pos, exc.pos)
            column = exc.pos - buffer.rfind("\n", 0, exc.pos)
            message = (
                f"not valid JSON: {exc.msg.removesuffix(' at')} (line {where}, column {column})"
            )
            raise BadJSON(message, line) from None
        yield line, f"item {index} (line {line}): ", item
        index += 1
        pos = end
        if pos > CHUNK:  # drop what was read, now and then, not at every item
            refill(pos)
