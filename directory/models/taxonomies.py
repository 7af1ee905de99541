"""Taxonomies and their terms, as the HSDS API lists them."""

from sqlite_utils import Database

TAXONOMY_COLUMNS = ("id", "name", "description", "uri", "version")
TERM_COLUMNS = ("id", "code", "name", "description", "parent_id", "taxonomy", "taxonomy_id",
                "language")  # fmt: skip


def list_taxonomies(db: Database, page: int, per_page: int) -> tuple[list[dict], int]:
    """One page of taxonomies (by name) and how many there are."""
    total = db.execute("select count(*) from taxonomy").fetchone()[0]
    rows = db.execute(
        f"select {', '.join(TAXONOMY_COLUMNS)} from taxonomy order by name, id limit ? offset ?",
        [per_page, (page - 1) * per_page],
    ).fetchall()
    return [dict(r) for r in rows], total


def get_taxonomy(db: Database, taxonomy_id: str) -> dict | None:
    """One taxonomy, or None."""
    row = db.execute(
        f"select {', '.join(TAXONOMY_COLUMNS)} from taxonomy where id = ?", [taxonomy_id]
    ).fetchone()
    return dict(row) if row else None


def list_terms(
    db: Database, page: int, per_page: int, *, taxonomy_id: str | None = None
) -> tuple[list[dict], int]:
    """One page of taxonomy terms (in the taxonomy's order), optionally of one taxonomy."""
    where, params = ("where taxonomy_id = ?", [taxonomy_id]) if taxonomy_id else ("", [])
    total = db.execute(f"select count(*) from taxonomy_term {where}", params).fetchone()[0]
    rows = db.execute(
        f"select {', '.join(TERM_COLUMNS)} from taxonomy_term {where} "
        "order by position, code limit ? offset ?",
        [*params, per_page, (page - 1) * per_page],
    ).fetchall()
    return [dict(r) for r in rows], total


def get_term(db: Database, term_id: str) -> dict | None:
    """One taxonomy term, by id (or by code), or None."""
    row = db.execute(
        f"select {', '.join(TERM_COLUMNS)} from taxonomy_term where id = ? or code = ? "
        "order by id = ? desc limit 1",
        [term_id, term_id, term_id],
    ).fetchone()
    return dict(row) if row else None


def all_taxonomies(db: Database) -> list[dict]:
    """Every taxonomy (for exports)."""
    return [dict(r) for r in db.execute(f"select {', '.join(TAXONOMY_COLUMNS)} from taxonomy")]


def all_terms(db: Database) -> list[dict]:
    """Every taxonomy term (for exports)."""
    return [
        dict(r)
        for r in db.execute(
            f"select {', '.join(TERM_COLUMNS)} from taxonomy_term order by position, code"
        )
    ]


def term_codes(db: Database) -> dict[str, str]:
    """Term id → code, for every term."""
    return {r[0]: r[1] for r in db.execute("select id, code from taxonomy_term")}


def save_taxonomy(db: Database, taxonomy: dict) -> None:
    """Insert or update one taxonomy (call inside a transaction)."""
    row = {c: taxonomy.get(c) for c in TAXONOMY_COLUMNS}
    row["description"] = row["description"] or ""
    db["taxonomy"].upsert(row, pk="id")


def save_term(db: Database, term: dict) -> None:
    """Insert or update one taxonomy term (call inside a transaction)."""
    row = {c: term.get(c) for c in TERM_COLUMNS}
    row["description"] = row["description"] or ""
    existing = db.execute("select position from taxonomy_term where id = ?", [row["id"]]).fetchone()
    if existing is None:
        row["position"] = db.execute(
            "select coalesce(max(position), -1) + 1 from taxonomy_term"
        ).fetchone()[0]
    db["taxonomy_term"].upsert(row, pk="id")
