"""The HSDS API beyond the shared search: its extra parameters as search filters, and the
shapes of organisations, taxonomies, terms and services at locations.

No Flask here: functions take plain mappings and a Database.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlite_utils import Database

from directory import hsds, search
from directory.models.catalog import ORGANIZATION_COLUMNS

MANILA_OFFSET = 8 * 60  # Asia/Manila is UTC+8 all year (no daylight saving)
WEEK = 7 * 24 * 60
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXTRA_PARAMETERS = frozenset({
    "taxonomy_id", "organization_id", "modified_after", "minimal", "full", "postcode",
    "proximity", "day", "start_time", "end_time", "facets",
})  # fmt: skip
PAGE_PARAMETERS = frozenset({"page", "per_page"})


@dataclass
class Shape:
    """How each service of a list is shown: minimal, one-to-one fields, or fully nested."""

    minimal: bool = False
    full: bool = True
    facets: bool = False  # counts by region, type and language over every hit, on request


def parse_services_query(
    db: Database, args: Mapping, *, per_page_max: int = 100
) -> tuple[search.Query, Shape]:
    """The shared search parameters plus HSDS's; raise search.QueryError naming a bad one."""
    lists = search._as_lists(args)
    proximity = _single(lists, "proximity")
    if proximity:
        if _single(lists, "radius_km"):
            raise search.QueryError("proximity", "is another name for radius_km; give one")
        if not _single(lists, "near"):
            raise search.QueryError(
                "proximity",
                "needs near (a place or lat,lon): postcode centroids are not known here",
            )
        if not re.fullmatch(r"[0-9]{1,7}(\.[0-9]+)?", proximity):
            raise search.QueryError(
                "proximity",
                "must be a distance in metres, not %(value)s",
                values={"value": repr(proximity[:40])},
            )
        lists = {**lists, "radius_km": [f"{float(proximity) / 1000:g}"]}
    query = search.parse_query(db, lists, allowed=set(EXTRA_PARAMETERS), per_page_max=per_page_max)
    query.extra = extra_filters(db, lists)
    shape = Shape(
        minimal=_bool(lists, "minimal"),
        full=_bool(lists, "full", default=True),
        facets=_bool(lists, "facets"),
    )
    if shape.facets and query.near is not None:
        raise search.QueryError(
            "facets", "is not available with near: counts over a whole radius cost too much"
        )
    return query, shape


def _single(args: dict, name: str) -> str | None:
    return search._single(args, name)


def _bool(args: dict, name: str, default: bool = False) -> bool:
    if _single(args, name) in (None, ""):
        return default
    return search._bool(args, name)


def parse_list(
    args: Mapping,
    *,
    per_page_max: int = 100,
    values: frozenset[str] = frozenset(),
    flags: frozenset[str] = frozenset(),
) -> tuple[int, int, dict]:
    """(page, per_page, {name: value}) of a plain list endpoint: `values` are strings, `flags`
    booleans; any other parameter raises search.QueryError."""
    lists = search._as_lists(args)
    for name in lists:
        if name not in PAGE_PARAMETERS and name not in values and name not in flags:
            raise search.QueryError(name, "is not a parameter of this list")
    page = search._int(lists, "page", 1, search.MAX_PAGE) or 1
    per_page = search._int(lists, "per_page", 1, per_page_max) or 20
    options: dict = {name: _single(lists, name) or None for name in values}
    options |= {name: _bool(lists, name) for name in flags}
    return page, per_page, options


def _parse_datetime(value: str) -> str:
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise search.QueryError(
            "modified_after",
            "must be an ISO 8601 date or date-time, not %(value)s",
            values={"value": repr(text[:40])},
        ) from None
    return parsed.isoformat()


def _clock(args: dict, name: str) -> int | None:
    value = _single(args, name)
    if not value:
        return None
    match = re.fullmatch(r"([01]?\d|2[0-4]):([0-5]\d)(?::[0-5]\d)?", value)
    if not match or (int(match.group(1)) == 24 and match.group(2) != "00"):
        raise search.QueryError(
            name, "must be a time HH:MM, not %(value)s", values={"value": repr(value[:40])}
        )
    return int(match.group(1)) * 60 + int(match.group(2))


def extra_filters(db: Database, args: dict) -> list[search.Filter]:
    """Conditions on search_doc `d` for the HSDS parameters search.py does not know."""
    out: list[search.Filter] = []
    if organization_id := _single(args, "organization_id"):
        out.append(
            search.Filter(
                "d.organization_id = :hsds_org",
                {"hsds_org": organization_id},
                "of one organisation",
            )
        )
    if taxonomy_id := _single(args, "taxonomy_id"):
        found = db.execute("select name from taxonomy where id = ?", [taxonomy_id]).fetchone()
        if found is None:
            raise search.QueryError(
                "taxonomy_id",
                "unknown taxonomy %(value)s",
                values={"value": repr(taxonomy_id[:40])},
            )
        out.append(
            search.Filter(
                "d.rowid in (select st.doc from search_term st join taxonomy_term t "
                "on t.code = st.code where t.taxonomy_id = :hsds_taxonomy)",
                {"hsds_taxonomy": taxonomy_id},
                f"with a term of {found[0]}",
            )
        )
    if modified_after := _single(args, "modified_after"):
        out.append(
            search.Filter(
                "d.service_id in (select id from service where last_modified >= :hsds_modified)",
                {"hsds_modified": _parse_datetime(modified_after)},
                f"modified on or after {modified_after[:40]}",
            )
        )
    if postcode := _single(args, "postcode"):
        # A confidential location's postcode is not public, so it never matches.
        out.append(
            search.Filter(
                "d.service_id in (select sal.service_id from service_at_location sal "
                "join location l on l.id = sal.location_id join address a "
                "on a.location_id = l.id where l.confidential = 0 "
                "and upper(replace(a.postal_code, ' ', '')) = :hsds_postcode)",
                {"hsds_postcode": postcode.replace(" ", "").upper()[:20]},
                f"at postcode {postcode[:20]}",
            )
        )
    out += _day_filters(args)
    return out


def _day_filters(args: dict) -> list[search.Filter]:
    """The UK profile's day / start_time / end_time: open on that day (for that span)."""
    day = _single(args, "day")
    start, end = _clock(args, "start_time"), _clock(args, "end_time")
    if not day:
        if start is not None or end is not None:
            raise search.QueryError("day", "is needed with start_time and end_time")
        return []
    index = DAYS.index(day.lower()) if day.lower() in DAYS else None
    if index is None:
        raise search.QueryError(
            "day",
            "must be a day name (monday … sunday), not %(value)s",
            values={"value": repr(day[:20])},
        )
    if start is not None and end is not None and end <= start:
        raise search.QueryError("end_time", "must be after start_time")
    local_start = index * 1440 + (start if start is not None else 0)
    if start is not None and end is None:
        local_end = local_start + 1  # open at start_time
    else:
        local_end = index * 1440 + (end if end is not None else 1440)
    whole_span = start is not None and end is not None
    spans = _utc_spans(local_start, local_end)
    label = (
        DAYS[index].capitalize()
        + (f" {start // 60:02}:{start % 60:02}" if start is not None else "")
        + (f"–{end // 60:02}:{end % 60:02}" if end is not None else "")
    )
    conditions, params = [], {}
    for i, (s, e) in enumerate(spans):
        params[f"hsds_s{i}"], params[f"hsds_e{i}"] = s, e
        if whole_span or start is not None:  # open throughout
            test = f"h.start_minute <= :hsds_s{i} and h.end_minute >= :hsds_e{i}"
        else:  # open at some time that day
            test = f"h.start_minute < :hsds_e{i} and h.end_minute > :hsds_s{i}"
        conditions.append(f"exists (select 1 from search_hours h where h.doc = d.rowid and {test})")
    joiner = " and " if (whole_span or start is not None) else " or "
    sql = f"(d.twenty_four_seven = 1 or ({joiner.join(conditions)}))"
    return [search.Filter(sql, params, f"open {label}")]


def _utc_spans(local_start: int, local_end: int) -> list[tuple[int, int]]:
    """A local (Manila) weekly span in minutes as one or two UTC spans within the week."""
    s, e = (local_start - MANILA_OFFSET) % WEEK, (local_end - MANILA_OFFSET) % WEEK or WEEK
    return [(s, WEEK), (0, e)] if e <= s else [(s, e)]


def args_from_json(body: object) -> dict[str, list[str]]:
    """The parameters of a POSTed JSON search body, as lists of strings like a query string."""
    if not isinstance(body, dict):
        raise search.QueryError("body", "must be a JSON object of search parameters")
    out: dict[str, list[str]] = {}
    for name, value in body.items():
        values = value if isinstance(value, list) else [value]
        strings = []
        for v in values:
            if isinstance(v, bool):
                strings.append("1" if v else "0")
            elif isinstance(v, (int, float, str)):
                strings.append(str(v))
            elif v is None:
                continue
            else:
                raise search.QueryError(str(name)[:40], "must be a string, number or boolean")
        out[str(name)] = strings
    return out


# --- shapes ---------------------------------------------------------------------------------


def service_item(record: dict, shape: Shape, extra: dict | None = None) -> dict:
    """A service of a list: minimal (id, name, status, last_modified), one-to-one, or full."""
    if shape.minimal:
        return {k: record[k] for k in ("id", "name", "status", "last_modified") if record.get(k)}
    out = hsds.service(record, extra=extra)
    if not shape.full:
        out = {k: v for k, v in out.items() if not isinstance(v, list)}
    return out


def organization(row: dict, services: list[dict] | None = None) -> dict:
    """An HSDS organisation; with `services`, the fully nested one."""
    out = hsds._clean({c: row.get(c) for c in ORGANIZATION_COLUMNS})
    out["description"] = row.get("description") or ""
    if services is not None:
        out["services"] = services
    return out


def taxonomy(row: dict) -> dict:
    """An HSDS taxonomy."""
    out = hsds._clean(dict(row))
    out["description"] = row.get("description") or ""
    return out


def taxonomy_term(row: dict, taxonomy_row: dict | None = None) -> dict:
    """An HSDS taxonomy term (with its taxonomy's details when given)."""
    out = hsds._clean(dict(row))
    out["description"] = row.get("description") or ""
    if taxonomy_row:
        out["taxonomy_detail"] = taxonomy(taxonomy_row)
    return out


def service_at_location(sal_id: str, record: dict, location_id: str) -> dict | None:
    """An HSDS service at location: the location (as the viewer may see it) and the service."""
    loc = next((x for x in record.get("locations", []) if x["id"] == location_id), None)
    if loc is None:
        return None
    service = hsds.service(record)
    service.pop("service_at_locations", None)
    return {
        "id": sal_id,
        "service_id": record["id"],
        "location_id": location_id,
        "location": hsds.location(loc),
        "service": service,
    }
