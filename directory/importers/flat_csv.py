"""The flat listing CSV: one service a row, for people who keep listings in a spreadsheet.

Columns (see data/README.md): id, name, organization, kind, taxonomy_terms, description, country,
region, province, city, service_area, address, confidential, phones, other_channels, hours,
languages, languages_note, minimum_age, maximum_age, gender, free, website, email, victim_facing,
source_url, source_date, confidence, notes.
"""

import csv
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from directory import geo, hours, phones
from directory.ids import stable_uuid
from directory.importers import Problem

REQUIRED = ("name", "organization", "source_url", "source_date")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
GENDERS = {"female", "male"}
CONFIDENCE = {"high", "medium", "low"}
child_id = stable_uuid


def read_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, row) for each data row of a UTF-8 CSV file."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _flag(value: str, field: str, problems: list, source: str, line: int) -> int | None:
    value = value.lower()
    if not value:
        return None
    if value in YES:
        return 1
    if value in NO:
        return 0
    problems.append(Problem(source, line, field, f"expected yes or no, got {value!r}"))
    return None


def _age(value: str, field: str, problems: list, source: str, line: int) -> int | None:
    if not value:
        return None
    # isdigit() accepts "²" and 5,000-digit strings; only plain ASCII digits make an age.
    if re.fullmatch(r"[0-9]{1,3}", value) and int(value) <= 120:
        return int(value)
    problems.append(Problem(source, line, field, f"expected an age from 0 to 120, got {value!r}"))
    return None


def _resolve(db: Database, text: str, levels, field, problems, source, line) -> geo.Area | None:
    if not text:
        return None
    try:
        area = geo.resolve_area(db, text, levels=levels)
    except geo.PlaceError as exc:
        problems.append(Problem(source, line, field, str(exc)))
        return None
    name = text.split(",", 1)[0]
    if not geo.is_name_of(db, area, name):  # a typo-tolerant guess is fine for search, not here
        problems.append(
            Problem(
                source,
                line,
                field,
                f'"{name[:60]}" is not a known name of a {levels[0]}; '
                f"did you mean {geo.describe(db, area)}? (or give its PSGC code)",
            )
        )
        return None
    return area


def _place(db: Database, row: dict, problems, source, line) -> dict[str, geo.Area]:
    """Resolve region, then province within it, then city within those (names repeat a lot)."""
    found: dict[str, geo.Area] = {}
    context = ""
    for field, levels in (
        ("region", ("region",)),
        ("province", ("province",)),
        ("city", ("city",)),
    ):
        text = row.get(field, "")
        if not text or (field == "region" and text.lower() == "nationwide"):
            continue
        qualified = f"{text}, {context}" if context else text
        if area := _resolve(db, qualified, levels, field, problems, source, line):
            found[field] = area
            context = area.name
    return found


def _service_areas(db, row, place: dict[str, geo.Area], problems, source, line) -> list[dict]:
    text = row.get("service_area", "")
    if not text:
        return []
    areas = []
    for part in (p.strip() for p in text.split(";") if p.strip()):
        if regions := geo.island_group_regions(part):
            areas += [{"name": part, "area_code": code} for code in regions]
            continue
        # A name the row already placed (its own province or city) means that very place.
        same = next((place[f] for f in place if row.get(f, "").lower() == part.lower()), None)
        levels = ("country", "region", "province", "city", "barangay")
        if area := same or _resolve(db, part, levels, "service_area", problems, source, line):
            areas.append({"name": area.name, "area_code": area.code})
    return areas


def known_term_codes(db: Database) -> set[str]:
    """The taxonomy codes a row may name (a flat CSV cannot define new ones): read once a file."""
    return {r["code"] for r in db.query("select code from taxonomy_term")}


def row_to_record(
    db: Database, row: dict, source: str, line: int, known_terms: set[str] | None = None
) -> tuple[dict, list[Problem]]:
    """Convert one CSV row to a nested HSDS service record, with the problems found
    (`known_terms`: known_term_codes, when the caller reads many rows)."""
    problems: list[Problem] = []
    for field in REQUIRED:
        if not row.get(field):
            problems.append(Problem(source, line, field, "is required"))
    sid = row.get("id") or child_id("service", row.get("organization", ""), row.get("name", ""))
    try:
        sid = str(uuid.UUID(sid))
    except ValueError:
        problems.append(Problem(source, line, "id", f"not a UUID: {sid!r}"))
    country = (row.get("country") or "PH").upper()
    if not geo.get_area(db, country):
        problems.append(Problem(source, line, "country", f"unknown ISO 3166-1 code {country!r}"))
    org_name = row.get("organization", "")
    org_id = child_id("organization", org_name)

    gender = row.get("gender", "").lower() or None
    if gender and gender not in GENDERS:
        problems.append(Problem(source, line, "gender", f"expected female or male, got {gender!r}"))
        gender = None
    confidence = row.get("confidence", "").lower() or None
    if confidence and confidence not in CONFIDENCE:
        problems.append(Problem(source, line, "confidence", "expected high, medium or low"))
    minimum_age = _age(row.get("minimum_age", ""), "minimum_age", problems, source, line)
    maximum_age = _age(row.get("maximum_age", ""), "maximum_age", problems, source, line)
    if minimum_age is not None and maximum_age is not None and minimum_age > maximum_age:
        problems.append(Problem(source, line, "maximum_age", "is below minimum_age"))

    terms = [t.strip() for t in row.get("taxonomy_terms", "").split(";") if t.strip()]
    if known_terms is None:
        known_terms = known_term_codes(db)
    for term in terms:
        if term not in known_terms:
            problems.append(Problem(source, line, "taxonomy_terms", f"unknown term {term!r}"))

    hours_info = hours.parse_hours(row.get("hours", ""))
    parsed_phones = phones.parse_phones(row.get("phones", ""), country=country)
    placed = _place(db, row, problems, source, line)
    place = placed.get("city") or placed.get("province") or placed.get("region")
    confidential = _flag(row.get("confidential", ""), "confidential", problems, source, line)

    record = {
        "id": sid,
        "organization_id": org_id,
        "organization": {"id": org_id, "name": org_name, "description": "", "website": None},
        "name": row.get("name", ""),
        "description": row.get("description") or None,
        "url": row.get("website") or None,
        "email": row.get("email") or None,
        "status": "active",
        "interpretation_services": row.get("languages_note") or None,
        "application_process": None,
        "fees_description": None,
        "eligibility_description": None,
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
        "assured_date": None,
        "assurer_email": None,
        "alert": None,
        "kind": row.get("kind") or None,
        "gender": gender,
        "free": _flag(row.get("free", ""), "free", problems, source, line),
        "twenty_four_seven": 1 if hours_info.twenty_four_seven else 0,
        "victim_facing": 0
        if _flag(row.get("victim_facing", ""), "victim_facing", problems, source, line) == 0
        else 1,
        "source_url": row.get("source_url") or None,
        "source_date": row.get("source_date") or None,
        "confidence": confidence,
        "notes": row.get("notes") or None,
        "other_channels": row.get("other_channels") or None,
        "hours_note": hours_info.note,
        "hours_text": row.get("hours") or None,
        "phones": [
            {
                "id": child_id(sid, "phone", str(i)),
                "number": p.number,
                "extension": p.extension,
                "type": p.type,
                "description": p.description,
                "e164": p.e164,
                "short_code": p.short_code,
                "sms": 1 if p.sms else 0,
                "sms_body": p.sms_body,
                "valid": 1 if p.valid else 0,
                "needs_verification": 1 if p.needs_verification else 0,
                "problem": p.problem,
            }
            for i, p in enumerate(parsed_phones)
        ],
        "schedules": [
            {"id": child_id(sid, "schedule", str(i)), **s}
            for i, s in enumerate(hours_info.schedules)
        ],
        "languages": [
            {"id": child_id(sid, "language", code), "code": code, "name": None, "note": None}
            for code in (c.strip() for c in row.get("languages", "").split(";"))
            if code
        ],
        "service_areas": [
            {"id": child_id(sid, "area", str(i)), **a}
            for i, a in enumerate(_service_areas(db, row, placed, problems, source, line))
        ],
        "taxonomy_terms": terms,
        "locations": [],
    }
    if place is not None:
        location_id = child_id(sid, "location")
        address_text = row.get("address", "")
        record["locations"].append(
            {
                "id": location_id,
                "name": row.get("name"),
                "location_type": "physical",
                "latitude": place.lat,
                "longitude": place.lon,
                "confidential": 1 if confidential else 0,
                "area_code": place.code,
                "addresses": [
                    {
                        "id": child_id(sid, "address"),
                        "address_1": address_text,
                        "city": row.get("city", ""),
                        "state_province": row.get("province") or row.get("region", ""),
                        "region": row.get("region") or None,
                        "postal_code": "",
                        "country": country,
                        "address_type": "physical",
                        "area_code": place.code,
                    }
                ]
                if address_text
                else [],
            }
        )
    return record, problems


def read_records(db: Database, path: Path) -> tuple[list[dict], list[Problem]]:
    """All records of a flat CSV file with every problem found (nothing is written)."""
    records, problems = [], []
    source = Path(path).name
    seen: dict[str, int] = {}
    known_terms = known_term_codes(db)
    for line, row in read_rows(Path(path)):
        record, row_problems = row_to_record(db, row, source, line, known_terms)
        if record["id"] in seen:
            row_problems.append(
                Problem(source, line, "id", f"duplicate of line {seen[record['id']]}")
            )
        seen.setdefault(record["id"], line)
        records.append(record)
        problems += row_problems
    return records, problems
