"""Maintainer script: turn the research files into the shipped flat listing file data/listings.csv.

Usage:  .venv/bin/python scripts/build_listings.py ../shared/research data/listings.csv

The research files keep facts exactly as published, with their sources. This script only adds
columns the directory needs, derived by the plain rules below and reviewable in the output:
a stable id, taxonomy terms, service area, confidential flag, eligibility (ages, gender) where
the source text states it, whether the service is free where the source says so, language codes,
and whether the service is for victims (youth rehabilitation centres for children in conflict with
the law are listed, but kept out of victim-facing searches). Nothing is invented: a rule that does
not match leaves the field blank. Run it again after the research files change; review the diff.
"""

import csv
import re
import sys
import uuid
from pathlib import Path

NAMESPACE = uuid.UUID("6f1c9a52-3a55-4c1e-9a7e-2f3d8c0b5e11")

COLUMNS = [
    "id", "name", "organization", "kind", "taxonomy_terms", "description", "country", "region",
    "province", "city", "service_area", "address", "confidential", "phones", "other_channels",
    "hours", "languages", "languages_note", "minimum_age", "maximum_age", "gender", "free",
    "website", "email",
    "victim_facing", "source_url", "source_date", "confidence", "notes",
]  # fmt: skip

# (term code, kinds that always carry it, pattern over name + services text)
TERM_RULES = [
    ("hotline", {"hotline", "helpline"}, r"hotline|helpline|\bline\b|tipline|tip line"),
    ("emergency-response", set(), r"emergency|rescue|quick response|crisis response"),
    ("crisis-counselling", set(), r"counsel|crisis intervention|listening line|crisis hotline"),
    ("psychosocial-support", set(), r"psycho|therap|mental health|trauma|stress debriefing"),
    ("shelter", {"residential_centre"}, r"shelter|residential|safe house|halfway house|custody"),
    ("medical-legal", {"hospital_unit"}, r"medical|forensic|medico|wcpu|protection units?\b"),
    ("legal-aid", {"legal_aid"}, r"legal|court|prosecution"),
    ("law-enforcement", {"law_enforcement"}, r"investigat|police|law enforce"),
    (
        "online-reporting",
        {"reporting_hotline"},
        r"csam|abuse material|cybercrime|online content|takedown|removal|url|blocking|tipline|"
        r"sextortion|images|osaec|osec|online sexual|webcam|live-?stream",
    ),
    ("reintegration", set(), r"reintegration|aftercare|rrptp|recovery|return assistance"),
    ("family-tracing", set(), r"family tracing|tracing|reunification|missing"),
    ("education-livelihood", set(), r"education|livelihood|skills|schooling|tesda|sponsorship"),
    (
        "case-management",
        {"field_office", "lgu_office"},
        r"case management|referr|social work|case conference|case study",
    ),
    ("coordination", {"task_force", "network", "intergovernmental"}, r"coordinat|network"),
    ("youth-justice", set(), r"conflict with the law|\bcicl\b|bahay pag-asa"),
    ("prevention", set(), r"prevention|advocacy|training|awareness"),
]

YOUTH_JUSTICE_NAME = re.compile(
    r"bahay pag-asa|rehabilitation center for youth|\brrcy\b|youth center", re.I
)
SHELTER_TEXT = re.compile(r"residential|shelter|safe house|children's home|home for girls", re.I)
ISLAND_GROUPS = {"Luzon (island group)": "Luzon", "Visayas (island group)": "Visayas",
                 "Mindanao (island group)": "Mindanao"}  # fmt: skip
LANGUAGE_CODES = {
    "english": "en", "spanish": "es", "french": "fr", "german": "de", "dutch": "nl",
    "tagalog": "tl", "filipino": "fil", "cebuano": "ceb", "ilocano": "ilo", "waray": "war",
    "tausug": "tsg", "hiligaynon": "hil", "bikol": "bik", "thai": "th", "khmer": "km",
    "vietnamese": "vi", "malay": "ms", "indonesian": "id", "swedish": "sv", "norwegian": "no",
}  # fmt: skip


def stable_id(source: str, name: str) -> str:
    """A UUID that stays the same for the same source row across rebuilds."""
    return str(uuid.uuid5(NAMESPACE, f"{source}:{name}"))


def taxonomy_terms(row: dict) -> list[str]:
    """Service-type terms from the row's kind and its own words."""
    text = f"{row['name']} {row['services']}".lower()
    terms = [
        code
        for code, kinds, pattern in TERM_RULES
        if row["kind"] in kinds or re.search(pattern, text)
    ]
    if is_youth_justice(row):
        terms = [t for t in terms if t not in ("reintegration",)] + (
            [] if "youth-justice" in terms else ["youth-justice"]
        )
    return terms


def is_youth_justice(row: dict) -> bool:
    """Youth rehabilitation centres for children in conflict with the law (not victim services)."""
    return row["kind"] == "residential_centre" and bool(YOUTH_JUSTICE_NAME.search(row["name"]))


def eligibility(row: dict) -> tuple[str, str, str]:
    """(minimum_age, maximum_age, gender) where the source text states them; blank otherwise."""
    text = row["services"].lower()
    words = set(re.findall(r"[a-z]+", f"{row['name'].lower()} {text}"))
    female = bool(words & {"girls", "girl", "women", "woman"})
    other = bool(
        words & {"boys", "boy", "men", "children", "child", "youth", "persons", "families"}
    )
    gender = "female" if female and not other else ""
    low = high = ""
    if m := re.search(
        r"(?:aged|girls|women|children|ages?)\s+(\d{1,2})\s*(?:-|to)\s*(?:below\s+)?(\d{1,2})\b",
        text,
    ):
        low, high = m.group(1), m.group(2)
        if re.search(r"to\s+below\s+\d", m.group(0)):
            high = str(int(high) - 1)
    elif m := re.search(r"\b(?:under|below)\s+(\d{1,2})\b", text):
        high = str(int(m.group(1)) - 1)
    elif m := re.search(r"\b(\d{1,2})\s+and\s+(?:above|older)\b", text):
        low = m.group(1)
    elif m := re.search(r"up to age (\d{1,2})", text):
        high = m.group(1)
    return low, high, gender


def service_area(row: dict) -> str:
    """Where a service takes clients from: country, island group, region, province or city."""
    region = row.get("region", "")
    if row.get("country", "PH") != "PH":
        return row["country"]
    if region == "Nationwide":
        return "PH"
    if region in ISLAND_GROUPS:
        return ISLAND_GROUPS[region]
    regional = row["kind"] in ("field_office", "task_force") or re.search(
        r"\bregion(al)?\b|\bRIACAT|\bIACAT\d|\bRSCC\b|\bRRCY\b", row["name"], re.I
    )
    if regional:
        return region
    provincial = re.search(r"provincial|province", row["name"], re.I)
    if provincial and row.get("province"):
        return row["province"]
    return row.get("city") or row.get("province") or region or row["country"]


def free_flag(row: dict) -> str:
    """'yes' / 'no' only where the source says so."""
    if row.get("free_of_charge") in ("yes", "no"):
        return row["free_of_charge"]
    text = f"{row['services']} {row.get('hours', '')} {row.get('phones', '')}".lower()
    # "free for Globe and TM subscribers" is not free for every caller.
    return "yes" if re.search(r"toll-free|free of charge|\bfree\b(?! for)", text) else ""


def language_codes(raw: str) -> str:
    """ISO 639 codes for the languages a row names (the full text stays in notes)."""
    found = [
        code for name, code in LANGUAGE_CODES.items() if re.search(rf"\b{name}\b", raw.lower())
    ]
    return ";".join(found)


def confidential(row: dict) -> str:
    """Safe homes: residential centres and NGO homes keep their street address confidential."""
    if row["kind"] == "residential_centre":
        return "yes"
    if row["kind"] == "ngo" and SHELTER_TEXT.search(f"{row['name']} {row['services']}"):
        return "yes"
    return ""


def build(research: Path) -> list[dict]:
    """All shipped listings, one dict per output row."""
    out = []
    for filename in ("ph-services.csv", "ph-services-more.csv", "international-services.csv"):
        with open(research / filename, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                row.setdefault("country", "PH")
                low, high, gender = eligibility(row)
                out.append(
                    {
                        "id": stable_id(filename, row["name"]),
                        "name": row["name"],
                        "organization": row["organization"],
                        "kind": row["kind"],
                        "taxonomy_terms": ";".join(taxonomy_terms(row)),
                        "description": row["services"],
                        "country": row["country"],
                        "region": ""
                        if row.get("region") in ISLAND_GROUPS
                        else row.get("region", ""),
                        "province": row.get("province", ""),
                        "city": row.get("city", ""),
                        "service_area": service_area(row),
                        "address": row.get("address", ""),
                        "confidential": confidential(row),
                        "phones": row["phones"],
                        "other_channels": row.get("other_channels", ""),
                        "hours": row["hours"],
                        "languages": language_codes(row["languages"]),
                        "languages_note": row["languages"],
                        "minimum_age": low,
                        "maximum_age": high,
                        "gender": gender,
                        "free": free_flag(row),
                        "website": row["website"],
                        "email": "",
                        "victim_facing": "no" if is_youth_justice(row) else "yes",
                        "source_url": row["source_url"],
                        "source_date": row["source_date"],
                        "confidence": row["confidence"],
                        "notes": row["notes"],
                    }
                )
    return out


def main(argv: list[str]) -> None:
    """Write data/listings.csv from the research folder."""
    research, target = Path(argv[1]), Path(argv[2])
    rows = build(research)
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} listings to {target}")


if __name__ == "__main__":
    main(sys.argv)
