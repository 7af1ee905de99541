"""Near a place: parse `near` and `radius_km`, find the nearest services, and those serving it.

No Flask here. `near` is a place name resolved offline by geo.resolve_area (region, province,
city/municipality or barangay; aliases, typos and missing diacritics included) or "lat,lon".
Services with a point (search_doc, public precision: a confidential location only ever adds
its city's point) sit in the `search_point` R*Tree; the nearest are found with a window that
grows (2 → 5 → 12 → 25 → 50 km … up to the radius) until it holds enough candidates, and only
those get an exact geodesic distance (geopy). Services without a point are not dropped: the
"serves this area" group holds those whose service area covers the place.

Inside SQL the distance is first estimated on a local flat projection of the ellipsoid (plain
arithmetic, so SQLite needs no math functions); its relative error is below `_eps(radius)`,
so only the thin band of rows whose estimate is within that error of a boundary is decided by
geodesic (the `geodesic_km` SQL function, registered by register()).
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

from geographiclib.geodesic import Geodesic
from geopy.distance import ELLIPSOIDS
from sqlite_utils import Database

from directory import geo, search_index

DEFAULT_RADIUS_KM = 50.0
MAX_RADIUS_KM = 500.0
WINDOWS_KM = (2.0, 5.0, 12.0, 25.0, 50.0, 100.0, 200.0)
SERVING_LIMIT = 20
NEAREST_TOWN_MAX_KM = 60.0  # a point farther than this from every town names no town
MAX_NEAR_CHARS = 200
# how far an R*Tree box corner (32-bit floats, 2 ulps at most) can be from its point:
# 2 ulps of 180° of longitude and of 90° of latitude are 3.4 m and 1.7 m at most
ROUNDING_KM = 0.01

_A = 6378.137  # WGS-84, as geopy's geodesic uses
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_POINT = re.compile(r"\s*([-+]?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*")
_NUMERIC = re.compile(r"[-+0-9.,;\s]+")


class NearError(ValueError):
    """`near` or `radius_km` is malformed: names the parameter and says why.

    `message` is the reason in English; `msgid` (with %(name)s placeholders) and `values` are
    the same reason to translate (templates/_messages_from_code.html lists every msgid)."""

    def __init__(self, parameter: str, message: str, values: dict | None = None):
        self.parameter = parameter
        self.msgid = message
        self.values = dict(values or {})
        self.message = message % self.values if self.values else message
        super().__init__(f"{parameter}: {self.message}")


@dataclass(frozen=True)
class Place:
    """Where `near` points: a named area, or a typed point with the town it lies nearest to."""

    name: str  # what to show: "Palo, Leyte, Region VIII (Eastern Visayas)" or "11.2, 125.0"
    lat: float
    lon: float
    code: str | None  # the named area's PSGC code (or ISO code); None for a typed point
    level: str | None
    area: geo.Area | None  # the area whose services "serve this area" (the town, for a point)
    approximate: bool = False  # the area's point is its parent's (barangays) or a fallback

    def as_json(self) -> dict:
        """The resolved place as the API's envelope states it."""
        return {
            "name": self.name,
            "code": self.code,
            "level": self.level,
            "latitude": self.lat,
            "longitude": self.lon,
            "approximate": self.approximate,
            "area": (
                {"code": self.area.code, "name": self.area.name, "level": self.area.level}
                if self.area
                else None
            ),
        }


# --------------------------------------------------------------------------- parsing


def parse_point(text: str) -> tuple[float, float] | None:
    """(lat, lon) for "lat,lon" text; None when it is not numbers; NearError when out of range."""
    if not _NUMERIC.fullmatch(text) or re.fullmatch(r"\d{10}", text):
        return None  # a name, or a 10-digit PSGC code
    match = _POINT.fullmatch(text)
    if not match:
        raise NearError(
            "near",
            "%(value)s is not a place or a latitude,longitude pair such as 11.24,125.00",
            {"value": repr(text[:40])},
        )
    lat, lon = float(match.group(1)), float(match.group(2))
    if not -90 <= lat <= 90:
        raise NearError(
            "near", "latitude must be from -90 to 90, not %(value)s", {"value": match.group(1)}
        )
    if not -180 <= lon <= 180:
        raise NearError(
            "near", "longitude must be from -180 to 180, not %(value)s", {"value": match.group(2)}
        )
    return lat, lon


def parse_radius(text: str | None) -> float:
    """radius_km: a number of kilometres above 0 and at most MAX_RADIUS_KM (default 50)."""
    if text is None or text.strip() == "":
        return DEFAULT_RADIUS_KM
    value = text.strip()
    if not re.fullmatch(r"\d{1,6}(\.\d{1,6})?|\.\d{1,6}", value):
        raise NearError(
            "radius_km",
            "must be a number of kilometres above 0 and at most %(max)s, not %(value)s",
            {"max": f"{MAX_RADIUS_KM:g}", "value": repr(value[:40])},
        )
    radius = float(value)
    if not 0 < radius <= MAX_RADIUS_KM:
        raise NearError(
            "radius_km",
            "must be above 0 and at most %(max)s km, not %(value)s",
            {"max": f"{MAX_RADIUS_KM:g}", "value": value[:40]},
        )
    return radius


def resolve_place(db: Database, text: str) -> Place:
    """The place `near` names. Raises geo.AmbiguousPlace / geo.UnknownPlace (with choices or
    suggestions) for names, NearError for malformed or out-of-range points."""
    text = (text or "").replace("\x00", "").strip()[:MAX_NEAR_CHARS]
    if not text:
        raise NearError("near", "is empty: give a place name or latitude,longitude")
    point = parse_point(text)
    if point is not None:
        lat, lon = point
        town = nearest_town(db, lat, lon)
        name = f"{lat:.5f}, {lon:.5f}"
        if town is not None:
            name += f" (near {geo.describe(db, town)})"
        return Place(name, lat, lon, None, None, town)
    area = geo.resolve_area(db, text)
    if area.lat is None or area.lon is None:
        raise NearError(
            "near",
            "%(place)s has no point to measure from; give a region, province, city or town",
            {"place": area.name},
        )
    return Place(
        geo.describe(db, area), area.lat, area.lon, area.code, area.level, area, area.approximate
    )


_TOWNS: dict[object, list[tuple[float, float, str]]] = {}
_TOWNS_LOCK = threading.Lock()


def nearest_town(db: Database, lat: float, lon: float) -> geo.Area | None:
    """The city or municipality whose point is nearest (offline reverse look-up), if near."""
    path = next((r[2] for r in db.execute("PRAGMA database_list") if r[1] == "main"), "")
    key = path or id(db.conn)
    fingerprint = db.execute("select max(rowid), count(*) from area").fetchone()[:]
    with _TOWNS_LOCK:
        towns = _TOWNS.get((key, fingerprint))
    if towns is None:
        towns = [
            (r[0], r[1], r[2])
            for r in db.execute(
                "select lat, lon, code from area where level = 'city' and lat is not null "
                "and approximate = 0"
            )
        ]
        with _TOWNS_LOCK:
            _TOWNS.clear()
            _TOWNS[(key, fingerprint)] = towns
    if not towns:
        return None
    ky, kx, t = _scales(lat)

    def approx(town: tuple[float, float, str]) -> float:
        dy = (town[0] - lat) * ky
        dx = (town[1] - lon) * kx * (1 - t * (town[0] - lat))
        return dy * dy + dx * dx

    best = min(towns, key=approx)
    if distance_km(lat, lon, best[0], best[1]) > NEAREST_TOWN_MAX_KM:
        return None
    return geo.get_area(db, best[2])


# --------------------------------------------------------------------------- distances


# geopy's geodesic is geographiclib's Inverse on this ellipsoid (in km); calling it directly
# gives the same number without building two geopy Points per call (~40% faster)
_GEOD = Geodesic(ELLIPSOIDS["WGS-84"][0], ELLIPSOIDS["WGS-84"][2])


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance on WGS-84, as geopy's `geodesic(...).km` computes it."""
    return _GEOD.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"]


def rounded(km: float) -> float:
    """Distances are shown to 100 m."""
    return round(km, 1)


def register(db: Database) -> None:
    """Make geodesic_km(lat1, lon1, lat2, lon2) callable from SQL on this connection."""
    db.conn.create_function("geodesic_km", 4, _geodesic_sql, deterministic=True)


def _geodesic_sql(lat1, lon1, lat2, lon2) -> float | None:
    if None in (lat1, lon1, lat2, lon2):
        return None
    return distance_km(lat1, lon1, lat2, lon2)


def _scales(lat0: float) -> tuple[float, float, float]:
    """km per degree of latitude and of longitude at lat0, and the longitude scale's slope."""
    s = math.sin(math.radians(lat0))
    w = 1 - _E2 * s * s
    meridional = _A * (1 - _E2) / w**1.5
    normal = _A / math.sqrt(w)
    ky = meridional * math.pi / 180
    kx = normal * math.cos(math.radians(lat0)) * math.pi / 180
    # cos(mean latitude) ≈ cos(lat0) · (1 − tan(lat0) · Δlat/2): the slope, per degree
    t = math.tan(math.radians(lat0)) * math.pi / 360
    return ky, kx, t


def _eps(radius_km: float) -> float:
    """A bound on the flat estimate's relative error within radius_km (measured: ≤ 1e-3 at
    500 km and 60° latitude, ≤ 4e-5 at 50 km; tests/test_nearby.py checks the bound)."""
    return 2e-4 + 4e-6 * radius_km


def _d2(table: str) -> str:
    """SQL: the squared flat estimate of the distance from the centre to the table's point, km²
    (search_doc `d` or the R*Tree `p`, whose +lat/+lon keep full precision)."""
    return (
        f"(({table}.lat - :near_lat) * :near_ky) * (({table}.lat - :near_lat) * :near_ky) + "
        f"(({table}.lon - :near_lon) * :near_kx * (1 - :near_t * ({table}.lat - :near_lat))) * "
        f"(({table}.lon - :near_lon) * :near_kx * (1 - :near_t * ({table}.lat - :near_lat)))"
    )


_D2 = _d2("d")


@dataclass(frozen=True)
class Circle:
    """The numbers a `near` condition needs, as SQL parameters."""

    lat: float
    lon: float
    radius_km: float

    def params(self) -> dict:
        ky, kx, t = _scales(self.lat)
        eps = _eps(self.radius_km)
        return {
            "near_lat": self.lat,
            "near_lon": self.lon,
            "near_ky": ky,
            "near_kx": kx,
            "near_t": t,
            "near_radius": self.radius_km,
            "near_in2": (self.radius_km * (1 - eps)) ** 2,
            "near_out2": (self.radius_km * (1 + eps)) ** 2,
            **{f"near_{k}": v for k, v in self.box(self.radius_km).items()},
        }

    def box(self, km: float) -> dict:
        """A latitude/longitude box holding every point within `km` (generously)."""
        km = km * (1 + _eps(self.radius_km)) * 1.01 + 0.01
        ky, _, _ = _scales(self.lat)
        dlat = km / ky
        far_lat = min(89.9, abs(self.lat) + dlat)
        _, kx_far, _ = _scales(far_lat)
        dlon = km / kx_far if kx_far > 1e-9 else 360.0
        return {
            "s": self.lat - dlat,
            "n": self.lat + dlat,
            "w": max(-180.0, self.lon - dlon),
            "e": min(180.0, self.lon + dlon),
        }


def window_sql(prefix: str = "near") -> str:
    """The R*Tree condition: d's point is inside the :{prefix}_s/n/w/e box."""
    return (
        "d.rowid in (select id from search_point where "
        f"min_lat >= :{prefix}_s and max_lat <= :{prefix}_n and "
        f"min_lon >= :{prefix}_w and max_lon <= :{prefix}_e)"
    )


def _band(table: str) -> str:
    d2 = _d2(table)
    return (
        f"(({d2}) <= :near_in2 or (({d2}) <= :near_out2 and "
        f"geodesic_km({table}.lat, {table}.lon, :near_lat, :near_lon) <= :near_radius))"
    )


def radius_sql(window: bool = True) -> str:
    """The exact condition 'd's point is within :near_radius km' (geodesic only in the band);
    window=False when the caller already restricts d to an R*Tree box."""
    return f"{window_sql()} and {_band('d')}" if window else _band("d")


def count_inside(db: Database, circle: Circle) -> int:
    """How many victim-facing services have a point within the circle.

    The R*Tree counts every point inside, the few services that are not victim-facing are
    counted apart (a partial index) and taken away. The tree's boxes are 32-bit floats (within
    ROUNDING_KM of the point): a point whose estimate is within that much of the band is
    decided by geodesic on its full-precision +lat/+lon, read for those few points only."""
    register(db)
    params = circle.params()
    inner = math.sqrt(params["near_in2"]) - ROUNDING_KM
    outer = math.sqrt(params["near_out2"]) + ROUNDING_KM
    d2 = _d2("p").replace("p.lat", "p.min_lat").replace("p.lon", "p.min_lon")
    every = db.execute(
        "select count(*) from search_point p where p.min_lat >= :near_s and "
        "p.max_lat <= :near_n and p.min_lon >= :near_w and p.max_lon <= :near_e and "
        f"(({d2}) <= :sure_in2 or (({d2}) <= :sure_out2 and "
        "geodesic_km(p.lat, p.lon, :near_lat, :near_lon) <= :near_radius))",
        {**params, "sure_in2": max(inner, 0) ** 2, "sure_out2": outer**2},
    ).fetchone()[0]
    others = db.execute(
        "select count(*) from search_doc d indexed by search_doc_not_victim_facing "
        "where d.victim_facing = 0 and d.lat between :near_s and :near_n "
        f"and d.lon between :near_w and :near_e and {_band('d')} "
        "and exists (select 1 from search_point p where p.id = d.rowid)",
        params,
    ).fetchone()[0]
    return every - others


def _where(clause: str) -> str:
    return " and " if " where " in clause else " where "


def nearest(
    db: Database, clause: str, params: dict, circle: Circle, count: int
) -> list[tuple[str, float]]:
    """The `count` nearest (service_id, km) within the circle among rows of `clause`.

    `clause` is a FROM + WHERE on search_doc `d` without any near condition. The window grows
    until its flat estimates hold `count` rows surely inside it; the estimate of the last
    one then bounds which rows can be among the nearest, and only those get a geodesic.
    """
    register(db)
    base = {**params, **circle.params()}
    eps = _eps(circle.radius_km)
    windows = [w for w in WINDOWS_KM if w < circle.radius_km] + [circle.radius_km]
    if "search_fts" in clause:  # the text match costs more than the window saves: one pass
        windows = [circle.radius_km]
    rows: list = []
    final = True
    for km in windows:
        final = km >= circle.radius_km
        box = {f"win_{k}": v for k, v in circle.box(km).items()}
        # a window's rows are surely within km of the centre; the last one is the circle
        inside = radius_sql() if final else f"{window_sql('win')} and ({_D2}) <= :win_in2"
        rows = db.execute(
            f"select ({_D2}) as a2 {clause}{_where(clause)}{inside} order by a2 limit :win_limit",
            {**base, **box, "win_in2": (km * (1 - eps)) ** 2, "win_limit": count},
        ).fetchall()
        if len(rows) >= count:
            break
    if not rows:
        return []
    # every row among the true nearest `count` has an estimate at most `bound`
    bound = math.sqrt(rows[-1][0]) * (1 + eps) / (1 - eps)
    bound = min(bound, circle.radius_km * (1 + eps))
    box = {f"win_{k}": v for k, v in circle.box(bound / (1 - eps)).items()}
    candidates = db.execute(
        f"select d.service_id, d.lat, d.lon, d.name_key {clause}{_where(clause)}"
        f"{window_sql('win')} and ({_D2}) <= :win_bound2 and {radius_sql(window=False)}",
        {**base, **box, "win_bound2": bound * bound},
    ).fetchall()
    known: dict[tuple[float, float], float] = {}  # many services share a city's point
    measured = []
    for sid, lat, lon, name_key in candidates:
        km = known.get((lat, lon))
        if km is None:
            km = known[(lat, lon)] = distance_km(circle.lat, circle.lon, lat, lon)
        measured.append((km, name_key, sid))
    measured.sort()
    return [(sid, km) for km, _, sid in measured[:count]]


def distances(db: Database, place: Place, service_ids: list[str]) -> dict[str, float]:
    """Geodesic km from the place to each service's public point (services without one are
    left out). A confidential location's point here is its city's: search_doc never holds
    more."""
    if not service_ids:
        return {}
    marks = ", ".join("?" for _ in service_ids)
    rows = db.execute(
        f"select d.service_id, d.lat, d.lon from search_doc d where d.service_id in ({marks}) "
        "and exists (select 1 from search_point p where p.id = d.rowid)",
        service_ids,
    ).fetchall()
    return {sid: distance_km(place.lat, place.lon, lat, lon) for sid, lat, lon in rows}


def serving_condition(db: Database, place: Place) -> tuple[str, dict, str] | None:
    """Services without a point whose service area covers the place, as a condition on
    search_doc `d`: (SQL, its parameters, the same as an FTS5 expression on the tags column).
    None when the place is no area (a point far from every town)."""
    if place.area is None:
        return None
    chain = [a.code for a in geo.ancestors(db, place.area.code)]
    serve = {f"serve{i}": code for i, code in enumerate(chain)}
    marks = ", ".join(f":{k}" for k in serve)
    within = place.area.level in ("region", "province")
    # serving the place or an area containing it; for a region or province, also a part of it
    inside = "select doc from search_area where code = :serve0 union " if within else ""
    sql = (
        "(d.lat is null or not exists (select 1 from search_point p where p.id = d.rowid)) "
        f"and d.rowid in ({inside}"
        f"select doc from search_area where exact = 1 and code in ({marks}))"
    )
    tokens = [search_index.tag("x", code) for code in chain]
    if within:
        tokens.append(search_index.tag("a", chain[0]))
    no_point = search_index.tag("p", 0)
    return sql, serve, f"tags : ({' OR '.join(tokens)}) AND tags : {no_point}"


def serving_page(db: Database, clause: str, params: dict, limit: int) -> tuple[list[str], int]:
    """The first `limit` ids of the clause's rows in the group's order, and how many there are."""
    rows = db.execute(  # one pass: the count rides along as a window function
        f"select d.service_id, count(*) over () {clause} "
        "order by d.scope_rank, d.twenty_four_seven desc, d.name_key limit :serve_limit",
        {**params, "serve_limit": limit},
    ).fetchall()
    return [r[0] for r in rows], (rows[0][1] if rows else 0)
