"""Seed a new database from data/: gazetteer, taxonomy, then the shipped listings."""

import csv
from pathlib import Path

from sqlite_utils import Database

from directory import geo, search_index
from directory.ids import stable_uuid
from directory.importers import ImportFailed
from directory.importers.flat_csv import read_records
from directory.models.services import save_service

TAXONOMY_ID = stable_uuid("taxonomy", "survivor-services")


def load_taxonomy(db: Database, path: Path) -> int:
    """Load our service-type taxonomy (data/taxonomy.csv)."""
    db["taxonomy"].upsert(
        {
            "id": TAXONOMY_ID,
            "name": "Survivor support service types",
            "description": "Service types for survivors of sexual abuse and exploitation.",
            "version": "1",
        },
        pk="id",
    )
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    db["taxonomy_term"].upsert_all(
        [
            {
                "id": stable_uuid("term", row["code"]),
                "code": row["code"],
                "name": row["name"],
                "description": row["description"],
                "taxonomy": "survivor-services",
                "taxonomy_id": TAXONOMY_ID,
                "language": "en",
                "position": i,
            }
            for i, row in enumerate(rows)
        ],
        pk="id",
    )
    return len(rows)


def load_listings(db: Database, path: Path) -> int:
    """Load the shipped listings; any error aborts the whole load."""
    records, problems = read_records(db, path)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ImportFailed(errors)
    for record in records:
        save_service(db, record, index=False)
    return len(records)


def seed(db: Database, data_dir: Path) -> dict:
    """Load everything in data/ into an empty database, in one transaction."""
    with db.atomic():
        counts = {
            "areas": geo.load_areas(db, data_dir / "areas"),
            "taxonomy_terms": load_taxonomy(db, data_dir / "taxonomy.csv"),
            "services": load_listings(db, data_dir / "listings.csv"),
        }
        search_index.rebuild(db)
    return counts
