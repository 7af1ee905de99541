"""Areas: the gazetteer (countries, PSGC regions → barangays), offline place resolution.

Plain functions over a sqlite_utils.Database; no Flask. The `area` and `area_alias` tables are
filled by load_areas() from data/areas/; resolve_area() turns what people type ("Lahug, Cebu
City", "Region VII", "QC", "Tacloben") into one Area, or says why it cannot.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import sys
import threading
import unicodedata
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlite_utils import Database

LEVELS = ("country", "region", "province", "city", "barangay")
# when one name matches several levels, the bigger unit wins (a province/city tie is asked)
_RANK = {"region": 0, "province": 1, "city": 2, "country": 3, "barangay": 4}
_CITY_KINDS = ("highly_urbanized_city", "independent_component_city", "component_city")
_KIND_RANK = {
    "highly_urbanized_city": 0,
    "independent_component_city": 1,
    "component_city": 2,
    "municipality": 3,
    "special_geographic_area": 4,
    "submunicipality": 5,
}
_LEVEL_OF_KIND = {
    "region": "region",
    "province": "province",
    "barangay": "barangay",
    **{k: "city" for k in _KIND_RANK},
}
_APPROXIMATE_SOURCES = {"fallback_province_centroid", "derived_mean_of_lgus"}
_ABBREVIATIONS = {"sta": "santa", "sto": "santo", "pob": "poblacion", "gen": "general"}
_CONTRACTIONS = {"santa": "sta", "santo": "sto"}

# Island groups as the listings use them (police desks are labelled Luzon / Visayas / Mindanao).
ISLAND_GROUPS = {
    "luzon": [
        "1300000000",  # NCR
        "1400000000",  # CAR
        "0100000000",  # I
        "0200000000",  # II
        "0300000000",  # III
        "0400000000",  # IV-A
        "1700000000",  # MIMAROPA
        "0500000000",  # V
    ],
    "visayas": ["0600000000", "0700000000", "0800000000", "1800000000"],  # VI, VII, VIII, NIR
    "mindanao": [
        "0900000000",  # IX
        "1000000000",  # X
        "1100000000",  # XI
        "1200000000",  # XII
        "1600000000",  # XIII
        "1900000000",  # BARMM
    ],
}

_SUBMUNICIPALITY_MAX_KM = 15.0
_ISOLATION_MAX_KM = 150.0
_FUZZY_MIN_SCORE = 80.0
_FUZZY_MIN_SCORE_BIG = 75.0
# Among 42,000 barangay names almost any word is 80% like one ("Atlantis" ~ Balanti): a typo
# is taken as a barangay only when closer than that; otherwise it is offered as a suggestion.
_FUZZY_MIN_SCORE_BARANGAY = 85.0
_FUZZY_MARGIN = 4.0
_MAX_CHOICES = 10
_MAX_SUGGESTIONS = 5


@dataclass(frozen=True, slots=True)
class Area:
    """One row of the gazetteer."""

    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None
    region_code: str | None
    province_code: str | None
    country_code: str
    lat: float | None
    lon: float | None
    approximate: bool


class PlaceError(ValueError):
    """A place name that does not resolve to exactly one area.

    str() is the message in English; `msgid` (with %(name)s placeholders) and `values` are the
    same message to translate (templates/_messages_from_code.html lists every msgid)."""

    def __init__(self, text: str, areas: list[Area], labels: dict[str, str] | None = None):
        super().__init__(text)
        self.text = text
        self.labels = labels or {}
        self._areas = areas

    def label(self, area: Area) -> str:
        """How an area is shown in the message."""
        return self.labels.get(area.code, area.name)

    @property
    def msgid(self) -> str:
        """The message to translate."""
        return "%(text)s"

    @property
    def values(self) -> dict:
        """The values of the msgid's placeholders."""
        return {"text": self.text}

    def __str__(self) -> str:
        return self.msgid % self.values


class AmbiguousPlace(PlaceError):
    """The text names several places; `choices` lists them, most likely first."""

    def __init__(self, text: str, choices: list[Area], labels: dict[str, str] | None = None):
        super().__init__(text, choices, labels)
        self.choices = choices

    @property
    def msgid(self) -> str:
        return (
            '"%(text)s" could be more than one place: %(places)s. '
            "Choose one, or add the province or city after a comma."
        )

    @property
    def values(self) -> dict:
        return {"text": self.text, "places": "; ".join(self.label(a) for a in self.choices)}


# What UnknownPlace says the text is not, by the levels asked for (the search form's fields and
# `near`); other levels get the general message with the level names in English.
_NOT_FOUND = {
    None: 'No place called "%(text)s" was found.',
    ("region",): 'No region called "%(text)s" was found.',
    ("province",): 'No province called "%(text)s" was found.',
    ("city", "barangay"): 'No city or barangay called "%(text)s" was found.',
}
_NOT_A = {
    ("region",): '"%(text)s" is not a region: it names %(places)s.',
    ("province",): '"%(text)s" is not a province: it names %(places)s.',
    ("city", "barangay"): '"%(text)s" is not a city or barangay: it names %(places)s.',
}
_NOT_FOUND_ANY = 'No %(what)s called "%(text)s" was found.'
_NOT_A_ANY = '"%(text)s" is not a %(what)s: it names %(places)s.'
_DID_YOU_MEAN = " Did you mean: %(suggestions)s?"


class UnknownPlace(PlaceError):
    """No area of the accepted levels has that name; `suggestions` are close ones."""

    def __init__(
        self,
        text: str,
        suggestions: list[Area],
        labels: dict[str, str] | None = None,
        levels: Iterable[str] | None = None,
        found_elsewhere: list[Area] | None = None,
    ):
        super().__init__(text, suggestions, labels)
        self.suggestions = suggestions
        self.levels = tuple(levels) if levels else None
        self.found_elsewhere = found_elsewhere or []

    @property
    def msgid(self) -> str:
        if self.found_elsewhere:
            message = _NOT_A.get(self.levels, _NOT_A_ANY)
        else:
            message = _NOT_FOUND.get(self.levels, _NOT_FOUND_ANY)
        return message + (_DID_YOU_MEAN if self.suggestions else "")

    @property
    def values(self) -> dict:
        values = {"text": self.text, "what": " or ".join(self.levels or ("place",))}
        if self.found_elsewhere:
            places = self.found_elsewhere[:3]
            values["places"] = ", ".join(f"{a.name} ({a.level})" for a in places)
        if self.suggestions:
            values["suggestions"] = "; ".join(self.label(a) for a in self.suggestions)
        return values


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = str.maketrans({"'": None, "\u2019": None})
_ABBREVIATED = frozenset(_ABBREVIATIONS) | frozenset(_CONTRACTIONS)


def normalize(text: str) -> str:
    """Casefold, strip diacritics and apostrophes, punctuation to spaces, collapse spaces."""
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ").translate(_APOSTROPHES)
    return _NOT_ALNUM.sub(" ", text).strip()


def name_aliases(name: str, level: str) -> set[str]:
    """The normalised names an area answers to, derived from its official name alone."""
    plain = normalize(name)
    if level != "city" and "(" not in name and "-" not in name:
        if _ABBREVIATED.isdisjoint(plain.split()):
            return {plain}
    forms = {plain}
    inner = re.findall(r"\((.*?)\)", name)
    if inner:
        forms.add(normalize(re.sub(r"\(.*?\)", " ", name)))
        forms.update(normalize(part) for part in inner if normalize(part) != "not a province")
    if "-" in name:
        forms.add(normalize(re.sub(r"\(.*?\)", " ", name).replace("-", "")))
    if level == "city":
        for form in list(forms):
            # "City of X", "Island Garden City of X", "X City": "X", "X city", "city of X"
            match = re.fullmatch(r"(?:.* )?city of (.+)", form) or re.fullmatch(r"(.+) city", form)
            if match:
                bare = match.group(1)
                forms.update({bare, f"{bare} city", f"city of {bare}"})
    for form in list(forms):
        words = form.split()
        for table in (_ABBREVIATIONS, _CONTRACTIONS):
            if any(w in table for w in words):
                forms.add(" ".join(table.get(w, w) for w in words))
    forms.discard("")
    return forms


# --------------------------------------------------------------------------- loading


def load_areas(db: Database, data_dir: Path) -> int:
    """Fill `area` and `area_alias` from data/areas/; return the number of areas."""
    data_dir = Path(data_dir)
    areas: dict[str, dict] = {}
    with open(data_dir / "countries.csv", encoding="utf-8", newline="") as f:
        countries = list(csv.DictReader(f))
    for row in countries:
        code = row["alpha2"].strip().upper()
        areas[code] = _area_row(code, row["name"].strip(), "country", "country", None, None, None)
        areas[code]["country_code"] = code
    sources: dict[str, str] = {}
    with gzip.open(data_dir / "ph_places.csv.gz", "rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        at = {column: i for i, column in enumerate(next(reader))}
        i_code, i_name, i_kind, i_parent = at["psgc"], at["name"], at["level"], at["parent_psgc"]
        i_region, i_province, i_lat, i_lon = (
            at["region_psgc"],
            at["province_psgc"],
            at["lat"],
            at["lon"],
        )
        i_source = at["coord_source"]
        for row in reader:
            code, kind, parent = row[i_code], row[i_kind], row[i_parent]
            area = _area_row(
                code,
                row[i_name].strip(),
                _LEVEL_OF_KIND[kind],
                kind,
                "PH" if parent in ("", "0000000000") else parent,
                row[i_region] or None,
                row[i_province] or None,
            )
            if row[i_lat] and row[i_lon]:
                area["lat"], area["lon"] = float(row[i_lat]), float(row[i_lon])
            area["approximate"] = int(row[i_source] in _APPROXIMATE_SOURCES)
            sources[code] = row[i_source]
            areas[code] = area
    _fix_namesake_points(areas, sources)
    _inherit_points(areas)

    aliases: set[tuple[str, str]] = set()
    for code, area in areas.items():
        for alias in name_aliases(area["name"], area["level"]):
            aliases.add((alias, code))
    for row in countries:
        if row.get("iso_name"):
            aliases.add((normalize(row["iso_name"]), row["alpha2"].strip().upper()))
    with open(data_dir / "aliases.csv", encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            code = row["code"].strip()
            if code not in areas:
                raise ValueError(f"aliases.csv line {line}: unknown area code {code!r}")
            aliases.add((normalize(row["alias"]), code))

    columns = list(_area_row("", "", "", "", None, None, None))
    upsert = (
        f"INSERT INTO area ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT(code) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in columns if c != "code")
    )
    conn = db.conn
    # one transaction whatever the connection's isolation level: fast, and all or nothing
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        conn.executemany(upsert, [tuple(a.values()) for a in areas.values()])
        conn.execute("DELETE FROM area_alias")
        conn.executemany("INSERT INTO area_alias (alias, code) VALUES (?, ?)", sorted(aliases))
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")
    clear_cache()
    return len(areas)


def _area_row(code, name, level, kind, parent, region, province) -> dict:
    return {
        "code": code,
        "name": name,
        "level": level,
        "kind": kind,
        "parent_code": parent,
        "region_code": region,
        "province_code": province,
        "country_code": "PH",
        "lat": None,
        "lon": None,
        "approximate": 0,
    }


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(math.sqrt(h))


def _fix_namesake_points(areas: dict[str, dict], sources: dict[str, str]) -> None:
    """Replace GeoNames points that belong to a namesake elsewhere by the parent's point.

    The name join picked, e.g., Ermita (Iloilo) for Manila's Ermita district and a hamlet near
    Cotabato for Kabasalan (Zamboanga Sibugay). A Manila district far from Manila, or a town far
    from every other town of its province, is such a case: it gets the province's (or city's)
    point, marked approximate. Districts without a point of their own take the city's, not the
    region's centroid.
    """
    groups: dict[str, list[dict]] = defaultdict(list)
    for code, area in areas.items():
        if area["level"] == "city" and sources.get(code, "").startswith("geonames"):
            groups[area["province_code"] or area["region_code"]].append(area)
    bad = []
    for code, area in areas.items():
        parent = areas.get(area["parent_code"] or "")
        if area["kind"] != "submunicipality" or not parent or parent["lat"] is None:
            continue
        own = sources.get(code, "").startswith("geonames")
        far = _haversine_km(area["lat"], area["lon"], parent["lat"], parent["lon"])
        if not own or far > _SUBMUNICIPALITY_MAX_KM:
            bad.append((area, parent))
    for group in groups.values():
        for area in group:
            if area["kind"] == "submunicipality":
                continue
            others = [o for o in group if o is not area]
            if others and all(
                _haversine_km(area["lat"], area["lon"], o["lat"], o["lon"]) > _ISOLATION_MAX_KM
                for o in others
            ):
                bad.append((area, areas.get(area["province_code"] or area["region_code"])))
    for area, fallback in bad:
        if fallback and fallback["lat"] is not None:
            area["lat"], area["lon"], area["approximate"] = fallback["lat"], fallback["lon"], 1


def _inherit_points(areas: dict[str, dict]) -> None:
    """Areas without a point (barangays) take their nearest ancestor's, marked approximate."""
    for area in areas.values():
        if area["lat"] is not None or area["level"] == "country":
            continue
        parent = areas.get(area["parent_code"] or "")
        while parent is not None and parent["lat"] is None:
            parent = areas.get(parent["parent_code"] or "")
        if parent is not None:
            area["lat"], area["lon"], area["approximate"] = parent["lat"], parent["lon"], 1


# --------------------------------------------------------------------------- look-ups


_COLUMNS = (
    "code, name, level, kind, parent_code, region_code, province_code, country_code, lat, lon, "
    "approximate"
)
_ORDER = (
    "CASE level WHEN 'country' THEN 0 WHEN 'region' THEN 1 WHEN 'province' THEN 2 "
    "WHEN 'city' THEN 3 ELSE 4 END, name"
)


def _to_area(row: tuple) -> Area:
    # Interned: 44,000 areas repeat a few hundred codes and kinds, and the server's workers
    # share one copy of the index (less to hold, fewer pages for them to copy).
    code, name, level, kind, parent, region, province, country, lat, lon, approximate = row
    return Area(
        code,
        name,
        sys.intern(level),
        sys.intern(kind),
        parent and sys.intern(parent),
        region and sys.intern(region),
        province and sys.intern(province),
        sys.intern(country),
        lat,
        lon,
        bool(approximate),
    )


def get_area(db: Database, code: str) -> Area | None:
    """The area with that code (10-digit PSGC or ISO alpha-2), or None."""
    row = db.execute(f"SELECT {_COLUMNS} FROM area WHERE code = ?", [code]).fetchone()
    return _to_area(row) if row else None


def ancestors(db: Database, code: str) -> list[Area]:
    """The area itself, then its parent, and so on up to its country."""
    return _index(db).chain(code)


def children(db: Database, code: str) -> list[Area]:
    """The areas directly under this one, bigger units first, then by name."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM area WHERE parent_code = ? ORDER BY {_ORDER}", [code]
    ).fetchall()
    return [_to_area(r) for r in rows]


def describe(db: Database, area: Area | str) -> str:
    """A display label with its parents: "Lahug, City of Cebu, Region VII (Central Visayas)"."""
    code = area if isinstance(area, str) else area.code
    chain = _index(db).chain(code)
    if len(chain) > 1:
        chain = [a for a in chain if a.level != "country"]
    return ", ".join(a.name for a in chain)


def island_group_regions(name: str) -> list[str]:
    """PSGC region codes of an island group ("Luzon", "Visayas", "Mindanao"); [] otherwise."""
    key = re.sub(r"^the | island group$| islands$| group$", "", normalize(name))
    return list(ISLAND_GROUPS.get(key, []))


# --------------------------------------------------------------------------- resolution


class _Index:
    """Everything resolve_area needs, in memory: areas by code, aliases, fuzzy choice lists."""

    def __init__(self, db: Database) -> None:
        self.areas: dict[str, Area] = {
            r[0]: _to_area(r) for r in db.execute(f"SELECT {_COLUMNS} FROM area")
        }
        self.aliases: dict[str, list[str]] = defaultdict(list)
        self._derived: dict[str, set[str]] = {}
        self._curated: dict[str, set[str]] = {}
        for alias, code in db.execute("SELECT alias, code FROM area_alias"):
            area = self.areas.get(code)
            if area is not None:
                self.aliases[alias].append(area.code)  # the area's own string, not a copy
        self.kids: dict[str, list[str]] = defaultdict(list)
        for area in self.areas.values():
            if area.parent_code:
                self.kids[area.parent_code].append(area.code)
        # fuzzy choices per level: a restricted resolve only scores its own levels' names
        self.keys_by_level: dict[str, list[str]] = defaultdict(list)
        for key, codes in self.aliases.items():
            for level in {self.areas[c].level for c in codes}:
                self.keys_by_level[level].append(key)

    def curated(self, alias: str) -> set[str]:
        """The areas this alias names by the curated table rather than by name rules (cached;
        only asked when an alias names several areas)."""
        found = self._curated.get(alias)
        if found is None:
            codes = self.aliases.get(alias, ())
            found = self._curated[alias] = {c for c in codes if alias not in self.derived(c)}
        return found

    def derived(self, code: str) -> set[str]:
        """The aliases the area's name gives by rule (cached)."""
        found = self._derived.get(code)
        if found is None:
            area = self.areas[code]
            found = self._derived[code] = name_aliases(area.name, area.level)
        return found

    def chain(self, code: str) -> list[Area]:
        out = []
        area = self.areas.get(code)
        while area is not None and len(out) < 10:
            out.append(area)
            area = self.areas.get(area.parent_code) if area.parent_code else None
        if out and out[-1].level != "country" and out[-1].country_code in self.areas:
            out.append(self.areas[out[-1].country_code])
        return out

    def within(self, code: str, scope: set[str]) -> bool:
        return any(a.code in scope for a in self.chain(code)[1:])

    def descendants(self, scope: set[str]) -> set[str]:
        out: set[str] = set()
        todo = list(scope)
        while todo:
            for kid in self.kids.get(todo.pop(), ()):
                if kid not in out:
                    out.add(kid)
                    todo.append(kid)
        return out


_CACHE: OrderedDict[tuple, _Index] = OrderedDict()
_CACHE_SIZE = 4
_GENERATION = [0]  # bumped by clear_cache()
_LOCK = threading.Lock()


def _signature(db: Database) -> tuple:
    """What identifies a gazetteer's content, cheaply (a few b-tree look-ups, no scan).

    Databases loaded from the same files share one index (a test suite makes many), and a reload
    elsewhere that changes the rows shows on the next connection; other in-place edits need
    clear_cache().
    """
    area_max = db.execute("SELECT max(rowid) FROM area").fetchone()[0]
    alias_max = db.execute("SELECT max(rowid) FROM area_alias").fetchone()[0]
    samples = ()
    if area_max:
        samples = tuple(
            db.execute(
                "SELECT rowid, code, name, parent_code, lat, lon FROM area"
                " WHERE rowid IN (?, ?, ?)",
                [1, area_max // 2, area_max],
            ).fetchall()
        )
    return area_max, alias_max, samples


def forget(db: Database) -> None:
    """Drop this connection's memo of the index: a connection reused by a later request looks
    at the gazetteer's signature again, so a reload by another process shows."""
    db.__dict__.pop("_geo_index", None)


def _index(db: Database) -> _Index:
    # A request asks for its connection's index once, not per place it shows (see forget).
    memo = getattr(db, "_geo_index", None)
    if memo is not None and memo[0] == _GENERATION[0]:
        return memo[1]
    index = _shared_index(db)
    db._geo_index = (_GENERATION[0], index)
    return index


def _shared_index(db: Database) -> _Index:
    signature = _signature(db)
    with _LOCK:
        index = _CACHE.get(signature)
        if index is not None:
            _CACHE.move_to_end(signature)
            return index
    index = _Index(db)
    with _LOCK:
        _CACHE[signature] = index
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return index


def is_name_of(db: Database, area: Area, text: str) -> bool:
    """Whether `text` is the area's name, one of its aliases or its code (not a fuzzy match)."""
    key = normalize(text)
    if key in (normalize(area.name), area.code.lower()):
        return True
    found = db.execute(
        "select 1 from area_alias where alias = ? and code = ?", [key, area.code]
    ).fetchone()
    return found is not None


def warm(db: Database) -> None:
    """Build the place index now (at start-up), so that no request pays for it."""
    _index(db)


def clear_cache(db: Database | None = None) -> None:
    """Forget the in-memory index of one database (or of all): call after editing areas."""
    with _LOCK:
        _GENERATION[0] += 1  # every connection's own memo is stale too
        if db is None:
            _CACHE.clear()
        else:
            _CACHE.pop(_signature(db), None)


_HINTS = (
    ("barangay", re.compile(r"(?:barangay|brgy|bgy|brg|barrio) (.+)")),
    ("province", re.compile(r"(?:province of|prov of) (.+)")),
    ("province", re.compile(r"(.+) (?:province|prov)")),
    ("city", re.compile(r"(?:city of|municipality of|town of) (.+)")),
    ("city", re.compile(r"(.+) (?:city|municipality|town)")),
    ("region", re.compile(r"(.+) region")),
)


def resolve_area(db: Database, text: str, levels: Iterable[str] | str | None = None) -> Area:
    """The one area `text` names (code, name or alias; "Barangay, City" narrows); else raise
    AmbiguousPlace or UnknownPlace (both PlaceError, a ValueError)."""
    index = _index(db)
    wanted = _check_levels(levels)
    raw = (text or "").strip()
    if not raw:
        raise UnknownPlace(text or "", [], levels=wanted)
    if re.fullmatch(r"\d{10}", raw):
        return _by_code(db, index, raw, wanted)
    # an ISO code only when countries were asked for: "VI" is Region VI, not the Virgin Islands
    if levels is not None and "country" in wanted and re.fullmatch(r"[A-Za-z]{2}", raw):
        area = index.areas.get(raw.upper())
        if area is not None and not _exact(index, normalize(raw), wanted, None):
            return area
    winners = _resolve(db, index, raw, wanted)
    return winners[0]


def _check_levels(levels: Iterable[str] | str | None) -> tuple[str, ...]:
    if levels is None:
        return LEVELS
    wanted = (levels,) if isinstance(levels, str) else tuple(levels)
    unknown = set(wanted) - set(LEVELS)
    if unknown or not wanted:
        raise ValueError(f"levels must be some of {LEVELS}, not {sorted(unknown) or wanted}")
    return wanted


def _by_code(db: Database, index: _Index, code: str, wanted: tuple[str, ...]) -> Area:
    area = index.areas.get(code)
    if area is None:
        raise UnknownPlace(code, [], levels=None if wanted == LEVELS else wanted)
    if area.level in wanted:
        return area
    suggestions = [a for a in index.chain(code) if a.level in wanted][:1]
    raise UnknownPlace(
        code,
        suggestions,
        _labels(db, suggestions),
        levels=wanted,
        found_elsewhere=[area],
    )


def _resolve(
    db: Database,
    index: _Index,
    raw: str,
    wanted: tuple[str, ...],
    scope: set[str] | None = None,
) -> list[Area]:
    """One winner, or raise; `scope` keeps only areas under those codes."""
    whole = normalize(raw)
    # the whole text first: names such as "Korea, Republic of" contain a comma
    found = _exact(index, whole, wanted, scope)
    if not found and "," in raw:
        head, _, context = raw.partition(",")
        if head.strip() and context.strip():
            return _resolve_in_context(db, index, raw, head, context, wanted, scope)
    hint, core = _hint(whole)
    if found:
        winners = _decide(index, found, hint)
    else:
        winners = []
        if hint and core:
            hinted = [a for a in _exact(index, core, wanted, scope) if a.level == hint]
            # a city hint never falls back to a municipality: "Quezon City" is not Quezon town
            if hint == "city":
                hinted = [a for a in hinted if a.kind in _CITY_KINDS]
            if hinted:
                winners = _decide(index, hinted, None)
        if not winners:
            winners = _fuzzy(db, index, raw, whole, hint, core, wanted, scope)
    if len(winners) > 1:
        raise AmbiguousPlace(raw, winners, _labels(db, winners))
    return winners


def _resolve_in_context(db, index, raw, head, context, wanted, scope) -> list[Area]:
    """ "Lahug, Cebu City": resolve the context, then the head among its descendants."""
    context_levels = tuple(level for level in LEVELS if level != "barangay")
    try:
        places = _resolve(db, index, context, context_levels, scope)
    except AmbiguousPlace as error:
        places = error.choices
    narrowed = {a.code for a in places}
    try:
        return _resolve(db, index, head, wanted, narrowed)
    except UnknownPlace:
        # PSGC puts highly urbanised cities beside, not inside, their province ("Mandaue,
        # Cebu"): retry within the context's region before giving up
        regions = {a.region_code for a in places if a.level == "province" and a.region_code}
        if not regions:
            raise
        winners = _resolve(db, index, head, wanted, regions)
        return winners


def _hint(whole: str) -> tuple[str | None, str]:
    for level, pattern in _HINTS:
        match = pattern.fullmatch(whole)
        if match:
            return level, match.group(1)
    return None, whole


def _exact(index: _Index, key: str, wanted, scope) -> list[Area]:
    codes = index.aliases.get(key)
    if not codes:
        return []
    found = [index.areas[c] for c in codes]
    found = [
        a for a in found if a.level in wanted and (scope is None or index.within(a.code, scope))
    ]
    # a curated alias ("Manila" is the city, "Caraga" the region) beats derived namesakes
    if len(found) > 1:
        curated = index.curated(key)
        if any(a.code in curated for a in found):
            found = [a for a in found if a.code in curated]
    return found


def _decide(index: _Index, found: list[Area], hint: str | None) -> list[Area]:
    """The winners among exact matches: bigger level first; province vs city is a tie."""
    if hint:
        hinted = [a for a in found if a.level == hint]
        found = hinted or found
    # PSGC lists Isabela City twice, the city inside a province-like entry: keep the inner one
    codes = {a.code for a in found}
    found = [
        a
        for a in found
        if not (
            a.level == "city"
            and any(
                c in codes and index.areas[c].level == "city" for c in index.kids.get(a.code, ())
            )
        )
    ]
    best = min(_RANK[a.level] for a in found)
    top = [a for a in found if _RANK[a.level] == best]
    if top[0].level == "province" and hint is None:
        top += [a for a in found if a.level == "city"]
    return _ordered(index, top)


def _ordered(index: _Index, areas: list[Area]) -> list[Area]:
    def weight(area: Area) -> tuple:
        parent = index.areas.get(area.parent_code or "")
        parent_kind = _KIND_RANK.get(parent.kind, 9) if parent else 9
        return (_RANK[area.level], _KIND_RANK.get(area.kind, 9), parent_kind, area.code)

    unique = {a.code: a for a in areas}
    return sorted(unique.values(), key=weight)[:_MAX_CHOICES]


def _fuzzy(db, index, raw, whole, hint, core, wanted, scope) -> list[Area]:
    """Typos: the closest alias when one clearly wins, else UnknownPlace with suggestions."""
    query, levels = whole, wanted
    if hint in ("barangay", "province") and hint in wanted:
        query, levels = core, (hint,)
    if scope is not None:
        allowed = index.descendants(scope)
        keys = {
            key
            for code in allowed
            if index.areas[code].level in levels
            for key in index.derived(code)
            if key in index.aliases
        }
        passes = [(sorted(keys), _FUZZY_MIN_SCORE)]
    else:
        # big units first and a little more leniently: "Cebo" is Cebu before barangay Cembo
        big = [k for level in levels if level != "barangay" for k in index.keys_by_level[level]]
        passes = [(big, _FUZZY_MIN_SCORE_BIG)] if big else []
        if "barangay" in levels:
            passes.append((index.keys_by_level["barangay"], _FUZZY_MIN_SCORE_BARANGAY))

    def eligible(key: str) -> list[Area]:
        return [
            a
            for a in (index.areas[c] for c in index.aliases[key])
            if a.level in levels and (scope is None or index.within(a.code, scope))
        ]

    results: list[tuple[str, float]] = []
    for keys, min_score in passes:
        if len(query) < 3 or not keys:
            break
        found = process.extract(query, keys, scorer=fuzz.ratio, limit=12, score_cutoff=60)
        seen = {k for k, _ in results}
        results += [(k, score) for k, score, _ in found if k not in seen and eligible(k)]
        results.sort(key=lambda r: -r[1])
        if not results or results[0][1] < min_score:
            continue
        best_key, best_score = results[0]
        if _numerals(query) != _numerals(best_key):
            break  # "Region 14" is not Region I, "Region XX" not Region X: never guess a number
        best = {a.code for a in eligible(best_key)}
        rivals = [
            key
            for key, score in results[1:]
            if score > best_score - _FUZZY_MARGIN and {a.code for a in eligible(key)} != best
        ]
        if not rivals:
            return _decide(index, eligible(best_key), hint)
        break

    suggestions = _unique([a for key, _ in results for a in eligible(key)])
    found_elsewhere = []
    if wanted != LEVELS and scope is None:
        found_elsewhere = _exact(index, whole, LEVELS, None) or (
            _exact(index, core, LEVELS, None) if hint else []
        )
        if found_elsewhere:
            found_elsewhere = _decide(index, found_elsewhere, hint)
        # "Cebu" given as a region: suggest the region it lies in
        containing = [a for f in found_elsewhere for a in index.chain(f.code) if a.level in wanted]
        suggestions = list({a.code: a for a in containing + suggestions}.values())
    suggestions = suggestions[:_MAX_SUGGESTIONS]
    raise UnknownPlace(
        raw,
        suggestions,
        _labels(db, suggestions),
        levels=None if wanted == LEVELS else wanted,
        found_elsewhere=_ordered(index, found_elsewhere) if found_elsewhere else None,
    )


_ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii"}


def _numerals(text: str) -> set[str]:
    """The numbers in a name (digits and roman numerals), which a typo must not change."""
    return {t for t in re.split(r"[^0-9a-z]+", text) if t.isdigit() or t in _ROMAN}


def _unique(areas: list[Area]) -> list[Area]:
    unique: dict[str, Area] = {}
    for area in areas:
        unique.setdefault(area.code, area)
    return list(unique.values())


def _labels(db: Database, areas: list[Area]) -> dict[str, str]:
    return {a.code: _label(db, a) for a in areas}


def _label(db: Database, area: Area) -> str:
    """ "City of Iloilo (highly urbanized city), Region VI (Western Visayas)"."""
    if area.level in ("region", "country"):
        return area.name
    head, _, rest = describe(db, area).partition(", ")
    head = f"{head} ({area.kind.replace('_', ' ')})"
    return f"{head}, {rest}" if rest else head
