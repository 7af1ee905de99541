"""Clearly fictional listings shaped like real ones, loaded through the project's import path.

Every organisation and service name starts with "FICTIONAL"; phone numbers are marked as not
real. Points cluster around real towns of the shipped gazetteer (PSGC codes), a share of the
services have no location (hotlines serving a region, province or the whole country), a share
are confidential shelters, and the text mixes English, Tagalog and Cebuano words.
"""

import os
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlite_utils import Database

from directory import exporters, search_index
from directory.db import connect, init_db
from directory.models.services import save_service

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
NAMESPACE = uuid.UUID("6f1c2a51-3c1e-4d2b-9a5e-000000b3c4e5")

KINDS = (
    ("shelter", ("shelter", "psychosocial-support", "case-management"), 0.18),
    ("counselling", ("crisis-counselling", "psychosocial-support"), 0.22),
    ("legal", ("legal-aid", "law-enforcement"), 0.12),
    ("medical", ("medical-legal", "emergency-response"), 0.12),
    ("reintegration", ("reintegration", "education-livelihood", "family-tracing"), 0.14),
    ("hotline", ("hotline", "crisis-counselling", "online-reporting"), 0.16),
    ("prevention", ("prevention", "coordination"), 0.06),
)
WORDS = {
    "en": "child protection counselling shelter safe home legal aid medical examination "
    "trauma therapy survivors online exploitation trafficking family support referral "
    "social worker case management livelihood education aftercare reintegration girls boys "
    "youth women hotline report abuse rescue recovery community".split(),
    "tl": "bata proteksyon tulong kanlungan pamilya abogado kalusugan paaralan tahanan "
    "ligtas pang-aabuso sumbong serbisyo kabataan kababaihan payo gabay".split(),
    "ceb": "bata panabang puy-anan pamilya abogado kahimsog eskwelahan balay luwas "
    "pag-abuso sumbong serbisyo kabatan-onan kababayen-an tambag giya".split(),
}
LANGS = ("en", "tl", "ceb", "ilo", "war", "hil", "bik", "tsg")
CITY_WEIGHT = {
    "highly_urbanized_city": 25,
    "independent_component_city": 8,
    "component_city": 6,
    "municipality": 1,
    "submunicipality": 3,
}


def _id(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def _towns(db: Database) -> list[dict]:
    rows = db.query(
        "select code, name, kind, lat, lon, region_code, province_code from area "
        "where level = 'city' and lat is not null and approximate = 0"
    )
    return [dict(r) for r in rows if r["kind"] in CITY_WEIGHT]


def _text(rng: random.Random, n: int) -> str:
    lang = rng.choice(("en", "en", "tl", "ceb"))
    return " ".join(rng.choice(WORDS[lang]) for _ in range(n))


def records(db: Database, count: int, seed: int = 3) -> list[dict]:
    """`count` fictional service records in the importer's shape."""
    rng = random.Random(seed)
    towns = _towns(db)
    weights = [CITY_WEIGHT[t["kind"]] for t in towns]
    kind_weights = [k[2] for k in KINDS]
    orgs = max(1, count // 5)
    out = []
    for i in range(count):
        kind, terms, _ = rng.choices(KINDS, kind_weights)[0]
        town = rng.choices(towns, weights)[0]
        org_n = rng.randrange(orgs)
        org_id = _id("org", org_n)
        sid = _id("service", i)
        record = {
            "id": sid,
            "organization_id": org_id,
            "organization": {
                "id": org_id,
                "name": f"FICTIONAL Organisation {org_n}",
                "description": "Fictional organisation generated for benchmarks.",
                "website": None,
                "email": None,
            },
            "name": f"FICTIONAL {kind} service {i} {town['name']}",
            "alternate_name": None,
            "description": f"FICTIONAL listing for benchmarks. {_text(rng, rng.randint(12, 40))}",
            "status": "active",
            "kind": kind,
            "minimum_age": rng.choice((None, None, 0, 6, 12)),
            "maximum_age": rng.choice((None, 17, 18, 21, 24)),
            "gender": rng.choice((None, None, None, "female", "male")),
            "free": rng.choice((1, 1, 0, None)),
            "twenty_four_seven": int(kind == "hotline" or rng.random() < 0.1),
            "victim_facing": 1,
            "assured_date": (
                f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                if rng.random() < 0.4
                else None
            ),
            "source_url": "https://example.invalid/fictional",
            "source_date": "2025",
            "confidence": "low",
            "notes": "FICTIONAL benchmark data: not a real service.",
            "taxonomy_terms": list(dict.fromkeys(rng.sample(terms, rng.randint(1, len(terms))))),
            "phones": [
                {
                    "id": _id("phone", i),
                    "number": f"(000) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                    "type": "voice",
                    "description": "FICTIONAL number, not real",
                    "valid": 0,
                    "needs_verification": 1,
                    "problem": "fictional benchmark data",
                }
            ]
            if rng.random() < 0.9
            else [],
            "languages": [
                {"id": _id("lang", i, code), "code": code}
                for code in {"en", rng.choice(LANGS), rng.choice(LANGS)}
            ],
            "schedules": []
            if kind == "hotline"
            else [
                {
                    "id": _id("schedule", i),
                    "freq": "WEEKLY",
                    "byday": rng.choice(("MO,TU,WE,TH,FR", "MO,TU,WE,TH,FR,SA")),
                    "opens_at": "08:00",
                    "closes_at": rng.choice(("17:00", "16:00", "20:00")),
                    "description": "FICTIONAL hours",
                }
            ],
        }
        if kind == "hotline":
            reach = rng.random()
            if reach < 0.15:
                code, name = "PH", "Philippines"
            elif reach < 0.55 and town["region_code"]:
                code, name = town["region_code"], "region"
            elif town["province_code"]:
                code, name = town["province_code"], "province"
            else:
                code, name = town["code"], town["name"]
            record["service_areas"] = [{"id": _id("area", i), "area_code": code, "name": name}]
            record["locations"] = []
        else:
            confidential = int(kind == "shelter" and rng.random() < 0.6)
            lat = town["lat"] + rng.gauss(0, 0.03)
            lon = town["lon"] + rng.gauss(0, 0.03)
            record["service_areas"] = [
                {"id": _id("area", i), "area_code": town["code"], "name": town["name"]}
            ]
            record["locations"] = [
                {
                    "id": _id("location", i),
                    "name": record["name"],
                    "location_type": "physical",
                    "latitude": round(lat, 6),
                    "longitude": round(lon, 6),
                    "confidential": confidential,
                    "area_code": town["code"],
                    "addresses": [
                        {
                            "id": _id("address", i),
                            "address_1": f"{rng.randint(1, 999)} FICTIONAL Street",
                            "city": town["name"],
                            "state_province": "",
                            "postal_code": "",
                            "country": "PH",
                            "area_code": town["code"],
                        }
                    ],
                }
            ]
        out.append(record)
    return out


def build(path: Path, count: int) -> dict:
    """A fresh database at `path`: shipped data, then `count` fictional listings, indexed."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = connect(str(path))
    t0 = time.perf_counter()
    init_db(db, DATA_DIR)
    seeded = time.perf_counter()
    recs = records(db, count)
    generated = time.perf_counter()
    # One explicit transaction: sqlite-utils' per-insert SAVEPOINTs would otherwise each commit
    # (`with db.conn:` alone opens no transaction before the first SAVEPOINT).
    db.execute("begin")
    for record in recs:
        save_service(db, record, index=False)
    saved = time.perf_counter()
    search_index.index_services(db, [r["id"] for r in recs])
    db.conn.commit()
    indexed = time.perf_counter()
    db.execute("analyze")
    db.execute("pragma wal_checkpoint(truncate)")
    db.conn.close()
    return {
        "seed_s": seeded - t0,
        "generate_s": generated - seeded,
        "save_s": saved - generated,
        "index_s": indexed - saved,
        "load_s": indexed - generated,
        "db_mb": Path(path).stat().st_size / 1e6,
    }


def import_time(db_path: Path) -> dict:
    """`directory load` (the CLI, a process of its own) of every service of the bench database,
    exported as HSDS JSON, into a fresh database: wall seconds and the process's peak RSS."""
    json_path = db_path.with_suffix(".hsds.json")
    source = connect(str(db_path))
    with open(json_path, "w", encoding="utf-8") as fp:
        services = exporters.write_json(source, fp, include_confidential=True)
    source.conn.close()
    target = db_path.with_suffix(".import.sqlite")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    exe = Path(sys.executable).with_name("directory")
    env = {**os.environ, "DIRECTORY_DATABASE": str(target)}
    subprocess.run([str(exe), "init-db"], env=env, check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [str(exe), "load", str(json_path)], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    json_path.unlink()
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout)[-500:]}
    return {
        "services": services,
        "import_s": round(elapsed, 1),
        # the children's high-water mark: the load's own unless init-db's was higher
        "peak_rss_mb": round(max(peak, before) / 1024, 1),
        "report": done.stdout.strip().splitlines()[-1],
    }
