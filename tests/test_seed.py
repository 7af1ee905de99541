"""The shipped data: every listing loaded, with its source; confidential homes stay confidential."""

import csv
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"


def shipped_rows() -> list[dict]:
    with open(DATA / "listings.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_shipped_listing_is_loaded(db):
    assert db["service"].count == len(shipped_rows()) == 218


def test_every_listing_keeps_source_url_and_date(db):
    missing = db.execute(
        "select name from service where source_url is null or source_url = '' "
        "or source_date is null or source_date = ''"
    ).fetchall()
    assert missing == []


def test_phone_numbers_are_kept_as_published(db):
    published = {r["name"]: r["phones"] for r in shipped_rows() if r["phones"]}
    for name, raw in published.items():
        numbers = [
            r[0]
            for r in db.execute(
                "select p.number from phone p join service s on s.id = p.service_id "
                "where s.name = ? order by p.position",
                [name],
            )
        ]
        assert numbers, f"{name}: phones {raw!r} were dropped"
        for number in numbers:
            digits = "".join(ch for ch in number if ch.isdigit())
            assert digits and digits in "".join(ch for ch in raw if ch.isdigit()), (name, number)


def test_short_codes_stay_short_codes(db):
    codes = {r[0] for r in db.execute("select short_code from phone where short_code is not null")}
    assert {"163", "1343", "1383", "911"} <= codes


def test_old_metro_manila_landline_is_flagged_not_fixed(db):
    row = db.execute("select * from phone where number = '(02) 524-82-16'").fetchone()
    assert row["valid"] == 0 and row["needs_verification"] == 1 and row["e164"] is None
    assert "7" in row["problem"]


def test_referral_only_safe_homes_are_confidential(db):
    for name in ("Marillac Hills", "Shechem Children's Home", "Tahanan Sta. Luisa"):
        row = db.execute(
            "select l.confidential from location l join service_at_location sal "
            "on sal.location_id = l.id join service s on s.id = sal.service_id where s.name = ?",
            [name],
        ).fetchone()
        assert row is not None and row[0] == 1, name
    preda = db.execute(
        "select l.confidential from location l join service_at_location sal on sal.location_id = "
        "l.id join service s on s.id = sal.service_id where s.name like 'Preda Foundation%'"
    ).fetchone()
    assert preda[0] == 1


def test_youth_rehabilitation_centres_are_not_victim_facing(db):
    names = [r[0] for r in db.execute("select name from service where victim_facing = 0")]
    assert any("Bahay Pag-asa" in n for n in names)
    assert any("Rehabilitation Center for Youth" in n for n in names)
    assert "Marillac Hills" not in names


def test_gazetteer_has_regions_provinces_and_countries(db):
    count = dict(db.execute("select level, count(*) from area group by level").fetchall())
    assert count["region"] == 18
    assert count["province"] == 82
    assert count["country"] > 240
    assert count["barangay"] > 42000
