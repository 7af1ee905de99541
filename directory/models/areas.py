"""Browsing areas: region → province → city, with how many services serve each."""

from sqlite_utils import Database

from directory import geo


def children_with_counts(db: Database, code: str) -> list[dict]:
    """The areas directly under `code` with the number of services located in or serving them."""
    rows = db.execute(
        "select a.code, a.name, a.level, a.kind, "
        "(select count(*) from search_area s join search_doc d on d.rowid = s.doc "
        " where s.code = a.code and d.victim_facing = 1) as services "
        "from area a where a.parent_code = ? and a.level != 'barangay' order by a.name",
        [code],
    ).fetchall()
    return [dict(r) for r in rows]


def area_page(db: Database, code: str) -> dict | None:
    """An area with its ancestors (for breadcrumbs) and its children with counts."""
    area = geo.get_area(db, code)
    if area is None:
        return None
    return {
        "area": area,
        "ancestors": list(reversed(geo.ancestors(db, code)[1:])),
        "children": children_with_counts(db, code),
    }
