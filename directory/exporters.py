"""Export the directory: HSDS JSON (a list of full services), an HSDS tabular data package
(datapackage.json + CSVs, a folder or .zip), or the flat listing CSV.

Confidential addresses are left out (the location keeps its city and the city's point) unless
include_confidential is given; every export says which it is. Services are read in batches, so
memory stays flat however many there are.
"""

import csv
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from directory import geo, hsds
from directory.models import catalog, taxonomies
from directory.models.services import get_services

BATCH = 500
FORMATS = ("hsds", "json", "csv")
LICENCE_NOTE = (
    "Compiled by the survivor-support service directory from public sources; each listing "
    "names its own source (source.url, source.date). Place names and coordinates contain data "
    "from GeoNames (geonames.org), CC BY 4.0. Data shaped by the Open Referral Human Services "
    "Data Specification 3.0 (schema CC BY-SA 4.0)."
)
WITHHELD = (
    "Confidential addresses (safe homes and shelters) are left out: such a location keeps only "
    "its city (psgc_code) and the city's point."
)
INCLUDED = "This export INCLUDES confidential addresses: do not publish it."

SERVICE_COLUMNS = ["id", "organization_id", "name", "alternate_name", "description", "url",
                   "email", "status", "interpretation_services", "application_process",
                   "fees_description", "eligibility_description", "minimum_age", "maximum_age",
                   "assured_date", "assurer_email", "alert", "last_modified", "kind", "gender",
                   "free", "twenty_four_seven", "victim_facing", "source_url", "source_date",
                   "confidence", "notes", "other_channels", "hours_text", "hours_note"]  # fmt: skip
TABLES = {
    "organizations.csv": ["id", "name", "alternate_name", "description", "email", "website",
                          "legal_status", "uri", "parent_organization_id"],
    "services.csv": SERVICE_COLUMNS,
    "locations.csv": ["id", "location_type", "organization_id", "name", "description",
                      "latitude", "longitude", "confidential", "psgc_code"],
    "addresses.csv": ["id", "location_id", "attention", "address_1", "address_2", "city",
                      "region", "state_province", "postal_code", "country", "address_type",
                      "psgc_code"],
    "service_at_location.csv": ["id", "service_id", "location_id", "description"],
    "phones.csv": ["id", "location_id", "service_id", "organization_id", "number", "extension",
                   "type", "description", "e164", "short_code", "sms", "sms_body",
                   "needs_verification", "problem", "tested_on"],
    "schedules.csv": ["id", "service_id", "location_id", "service_at_location_id", "timezone",
                      "freq", "byday", "opens_at", "closes_at", "description", "notes"],
    "languages.csv": ["id", "service_id", "location_id", "phone_id", "name", "code", "note"],
    "service_areas.csv": ["id", "service_id", "name", "description", "extent", "extent_type",
                          "uri", "psgc_code"],
    "attributes.csv": ["id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"],
    "taxonomies.csv": ["id", "name", "description", "uri", "version"],
    "taxonomy_terms.csv": ["id", "code", "name", "description", "parent_id", "taxonomy",
                           "language", "taxonomy_id", "term_uri"],
}  # fmt: skip
FLAT_COLUMNS = ["id", "name", "organization", "kind", "taxonomy_terms", "description", "country",
                "region", "province", "city", "service_area", "address", "confidential",
                "phones", "other_channels", "hours", "languages", "languages_note",
                "minimum_age", "maximum_age", "gender", "free", "website", "email",
                "victim_facing", "source_url", "source_date", "confidence", "notes"]  # fmt: skip


@dataclass
class ExportSummary:
    """What an export wrote."""

    path: str
    format: str
    services: int
    confidential_locations: int
    include_confidential: bool

    def __str__(self) -> str:
        note = INCLUDED if self.include_confidential else WITHHELD
        return (
            f"{self.path} ({self.format}): {self.services} service(s), "
            f"{self.confidential_locations} confidential location(s). {note}"
        )


def counts(db: Database) -> dict:
    """How many services, organisations and confidential locations there are."""
    return {
        "services": db.execute("select count(*) from service").fetchone()[0],
        "organizations": db.execute("select count(*) from organization").fetchone()[0],
        "confidential": db.execute(
            "select count(*) from location where confidential = 1"
        ).fetchone()[0],
    }


def iter_services(db: Database, *, include_confidential: bool = False) -> Iterator[dict]:
    """Every service as full HSDS JSON (organisation included), in id order, in batches."""
    taxonomy_rows = {
        t["id"]: {k: v for k, v in t.items() if v is not None}
        for t in taxonomies.all_taxonomies(db)
    }
    after = None
    while ids := catalog.service_ids_page(db, after, BATCH):
        records = get_services(db, ids, reveal_confidential=include_confidential)
        orgs = catalog.organization_rows(db, list({r["organization_id"] for r in records}))
        for record in records:
            out = hsds.service(record)
            if not include_confidential:
                _coarsen_confidential(db, out)
            for attribute in out["attributes"]:
                term = attribute["taxonomy_term"]
                if term.get("taxonomy_id") in taxonomy_rows:
                    term["taxonomy_detail"] = taxonomy_rows[term["taxonomy_id"]]
            org = orgs.get(record["organization_id"])
            if org:
                out["organization"] = {
                    k: v for k, v in org.items() if v not in (None, "") and k != "last_modified"
                }
                out["organization"]["description"] = org.get("description") or ""
            yield out
        after = ids[-1]


def _coarsen_confidential(db: Database, service: dict) -> None:
    """A confidential location as the public may see it: its city, not its barangay, and no
    description (which may say where it is)."""
    for sal in service.get("service_at_locations", []):
        location = sal["location"]
        if not location.get("confidential"):
            continue
        location.pop("description", None)
        code = location.get("psgc_code")
        if code:
            city = next((a for a in geo.ancestors(db, code) if a.level != "barangay"), None)
            if city is not None:
                location["psgc_code"] = city.code
            else:
                location.pop("psgc_code")


def write_json(db: Database, fp, *, include_confidential: bool = False) -> int:
    """Write a JSON list of full services to a text file; returns how many."""
    n = 0
    fp.write("[")
    for service in iter_services(db, include_confidential=include_confidential):
        fp.write(",\n" if n else "\n")
        fp.write(json.dumps(service, ensure_ascii=False))
        n += 1
    fp.write("\n]\n")
    return n


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _package_rows(service: dict) -> Iterator[tuple[str, dict]]:
    """(file, row) for one full service, HSDS tables plus our profile columns."""
    sid = service["id"]
    org = service["organization"]
    yield "organizations.csv", org
    source = service.get("source", {})
    yield (
        "services.csv",
        {
            **service,
            "organization_id": org["id"],
            "source_url": source.get("url"),
            "source_date": source.get("date"),
            "confidence": source.get("confidence"),
        },
    )
    for phone in service.get("phones", []):
        yield "phones.csv", {**phone, "service_id": sid}
    for schedule in service.get("schedules", []):
        yield "schedules.csv", {**schedule, "service_id": sid}
    for language in service.get("languages", []):
        yield "languages.csv", {**language, "service_id": sid}
    for area in service.get("service_areas", []):
        yield "service_areas.csv", {**area, "service_id": sid}
    for sal in service.get("service_at_locations", []):
        location = sal["location"]
        yield "service_at_location.csv", sal
        yield "locations.csv", location
        for address in location.get("addresses", []):
            yield "addresses.csv", {**address, "location_id": location["id"]}
    for attribute in service.get("attributes", []):
        yield "attributes.csv", attribute


def _datapackage_json(include_confidential: bool, n: int) -> dict:
    resources = [
        {
            "name": name.removesuffix(".csv"),
            "path": name,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {"fields": [{"name": c, "type": "string"} for c in columns]},
        }
        for name, columns in TABLES.items()
    ]
    return {
        "profile": "tabular-data-package",
        "name": "survivor-support-directory",
        "title": "Survivor-support service directory (Philippines), HSDS 3.0",
        "description": f"{n} services. {WITHHELD if not include_confidential else INCLUDED}",
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "confidential_addresses": "included" if include_confidential else "withheld",
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "title": "GeoNames place data, CC BY 4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
            },
            {
                "name": "CC-BY-SA-4.0",
                "title": "Open Referral HSDS 3.0 schema, CC BY-SA 4.0",
                "path": "https://creativecommons.org/licenses/by-sa/4.0/",
            },
        ],  # fmt: skip
        "sources": [{"title": "Each listing's own source: services.csv source_url, source_date"}],
        "notes": LICENCE_NOTE,
        "resources": resources,
    }


def _write_package(db: Database, open_csv, include_confidential: bool) -> int:
    """Write every table through open_csv(name) → text file; returns the number of services."""
    files, writers, seen = {}, {}, {name: set() for name in TABLES}
    try:
        for name, columns in TABLES.items():
            files[name] = open_csv(name)
            writers[name] = csv.DictWriter(files[name], columns, extrasaction="ignore")
            writers[name].writeheader()
        n = 0
        for service in iter_services(db, include_confidential=include_confidential):
            n += 1
            for name, row in _package_rows(service):
                if name in ("organizations.csv", "locations.csv"):
                    if row["id"] in seen[name]:
                        continue
                    seen[name].add(row["id"])
                writers[name].writerow({c: _cell(row.get(c)) for c in TABLES[name]})
        for row in taxonomies.all_taxonomies(db):
            writers["taxonomies.csv"].writerow({k: _cell(v) for k, v in row.items()})
        for row in taxonomies.all_terms(db):
            writers["taxonomy_terms.csv"].writerow({k: _cell(v) for k, v in row.items()})
    finally:
        for f in files.values():
            f.close()
    return n


def write_datapackage_dir(db: Database, folder: Path, *, include_confidential=False) -> int:
    """An HSDS tabular data package in a folder; returns the number of services."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = _write_package(
        db,
        lambda name: open(folder / name, "w", newline="", encoding="utf-8"),
        include_confidential,
    )
    meta = _datapackage_json(include_confidential, n)
    (folder / "datapackage.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return n


def write_datapackage_zip(db: Database, fp, *, include_confidential: bool = False) -> int:
    """An HSDS tabular data package as a .zip written to a binary file; returns how many."""
    with tempfile.TemporaryDirectory() as tmp:
        n = write_datapackage_dir(db, Path(tmp), include_confidential=include_confidential)
        with zipfile.ZipFile(fp, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(Path(tmp) / "datapackage.json", "datapackage.json")
            for name in TABLES:
                z.write(Path(tmp) / name, name)
    return n


def _flat_row(db: Database, service: dict) -> dict:
    """One full service as a row of the flat listing CSV (data/README.md)."""
    locations = [s["location"] for s in service.get("service_at_locations", [])]
    location = locations[0] if locations else {}
    chain = (
        {a.level: a.name for a in geo.ancestors(db, location["psgc_code"])}
        if location.get("psgc_code")
        else {}
    )
    country = next((a.get("country") for a in location.get("addresses", []) if a.get("country")),
                   None) or chain.get("country_code") or "PH"  # fmt: skip
    if location.get("psgc_code") and (area := geo.get_area(db, location["psgc_code"])):
        country = area.country_code
    address = next((a.get("address_1") for a in location.get("addresses", [])), "")
    source = service.get("source", {})
    phones_text = "; ".join(
        p["number"] + (f" local {p['extension']}" if p.get("extension") else "")
        for p in service.get("phones", [])
    )
    return {
        "id": service["id"],
        "name": service["name"],
        "organization": service["organization"]["name"],
        "kind": service.get("kind"),
        "taxonomy_terms": ";".join(
            a["taxonomy_term"].get("code") or a["taxonomy_term_id"]
            for a in service.get("attributes", [])
        ),
        "description": service.get("description"),
        "country": country,
        "region": chain.get("region") or ("Nationwide" if not location else ""),
        "province": chain.get("province"),
        "city": chain.get("city"),
        "service_area": "; ".join(
            a.get("psgc_code") or a.get("name") or "" for a in service.get("service_areas", [])
        ),
        "address": address,
        "confidential": "yes" if location.get("confidential") else "",
        "phones": phones_text,
        "other_channels": service.get("other_channels"),
        "hours": service.get("hours_text"),
        "languages": ";".join(
            lang["code"] for lang in service.get("languages", []) if lang.get("code")
        ),
        "languages_note": service.get("interpretation_services"),
        "minimum_age": service.get("minimum_age"),
        "maximum_age": service.get("maximum_age"),
        "gender": service.get("gender"),
        "free": {True: "yes", False: "no"}.get(service.get("free")),
        "website": service.get("url"),
        "email": service.get("email"),
        "victim_facing": "no" if service.get("victim_facing") is False else "yes",
        "source_url": source.get("url"),
        "source_date": source.get("date"),
        "confidence": source.get("confidence"),
        "notes": service.get("notes"),
    }


def write_flat_csv(db: Database, fp, *, include_confidential: bool = False) -> int:
    """The flat listing CSV (one service a row) to a text file; returns how many."""
    writer = csv.DictWriter(fp, FLAT_COLUMNS)
    writer.writeheader()
    n = 0
    for service in iter_services(db, include_confidential=include_confidential):
        writer.writerow({k: _cell(v) for k, v in _flat_row(db, service).items()})
        n += 1
    return n


def export(
    db: Database, path: Path, fmt: str, *, include_confidential: bool = False
) -> ExportSummary:
    """Write the export `fmt` (hsds: a folder, or a .zip by name; json; csv) to `path`."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt == "json":
        with open(path, "w", encoding="utf-8") as f:
            n = write_json(db, f, include_confidential=include_confidential)
    elif fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            n = write_flat_csv(db, f, include_confidential=include_confidential)
    elif path.suffix.lower() == ".zip":
        with open(path, "wb") as f:
            n = write_datapackage_zip(db, f, include_confidential=include_confidential)
    else:
        n = write_datapackage_dir(db, path, include_confidential=include_confidential)
    return ExportSummary(str(path), fmt, n, counts(db)["confidential"], include_confidential)
