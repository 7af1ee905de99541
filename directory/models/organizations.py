"""Organisations and the services they run."""

from sqlite_utils import Database


def get_organization(db: Database, organization_id: str) -> dict | None:
    """One organisation with the ids and names of its services."""
    row = db.execute("select * from organization where id = ?", [organization_id]).fetchone()
    if row is None:
        return None
    org = dict(row)
    org["services"] = [
        dict(r)
        for r in db.execute(
            "select id, name, description from service where organization_id = ? "
            "and status != 'defunct' order by name",
            [organization_id],
        )
    ]
    return org
