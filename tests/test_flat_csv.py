"""The flat listing CSV importer: every problem named with its line and field; nothing invented."""

import csv

import pytest

from directory.importers.flat_csv import read_records

HEADER = [
    "id", "name", "organization", "kind", "taxonomy_terms", "description", "country", "region",
    "province", "city", "service_area", "address", "confidential", "phones", "other_channels",
    "hours", "languages", "languages_note", "minimum_age", "maximum_age", "gender", "free",
    "website", "email", "victim_facing", "source_url", "source_date", "confidence", "notes",
]  # fmt: skip


def write(tmp_path, rows: list[dict]):
    path = tmp_path / "listings.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in HEADER})
    return path


GOOD = {
    "name": "FICTIONAL Test Crisis Line",
    "organization": "FICTIONAL Test Org",
    "taxonomy_terms": "hotline;crisis-counselling",
    "region": "Region VIII (Eastern Visayas)",
    "province": "Leyte",
    "city": "Palo",
    "service_area": "Leyte",
    "address": "FICTIONAL 1 Test Street",
    "confidential": "yes",
    "phones": "0917-180-6037 | (02) 524-82-16",
    "hours": "Mon-Fri 8:00 AM-5:00 PM",
    "languages": "war;fil",
    "minimum_age": "7",
    "maximum_age": "17",
    "gender": "female",
    "free": "yes",
    "source_url": "https://example.org/fictional",
    "source_date": "2026-01-01",
    "confidence": "high",
}


def test_a_good_row_becomes_a_full_record(db, tmp_path):
    records, problems = read_records(db, write(tmp_path, [GOOD]))
    assert problems == []
    record = records[0]
    assert record["locations"][0]["area_code"] == "0803739000"  # Palo, Leyte
    assert record["locations"][0]["confidential"] == 1
    assert record["service_areas"][0]["area_code"] == "0803700000"  # Leyte province
    assert [p["e164"] for p in record["phones"]] == ["+639171806037", None]
    assert record["phones"][1]["needs_verification"] == 1
    assert record["phones"][1]["number"] == "(02) 524-82-16"
    assert record["schedules"][0]["byday"] == "MO,TU,WE,TH,FR"
    assert (record["minimum_age"], record["maximum_age"], record["gender"]) == (7, 17, "female")
    assert {lang["code"] for lang in record["languages"]} == {"war", "fil"}


@pytest.mark.parametrize(
    "change,field",
    [
        ({"name": ""}, "name"),
        ({"source_url": ""}, "source_url"),
        ({"region": "Region 99"}, "region"),
        ({"city": "Atlantis"}, "city"),
        ({"minimum_age": "old"}, "minimum_age"),
        ({"minimum_age": "18", "maximum_age": "10"}, "maximum_age"),
        ({"gender": "robot"}, "gender"),
        ({"free": "perhaps"}, "free"),
        ({"taxonomy_terms": "massage"}, "taxonomy_terms"),
        ({"country": "XX"}, "country"),
        ({"id": "not-a-uuid"}, "id"),
        ({"confidence": "certain"}, "confidence"),
    ],
)
def test_problems_name_line_and_field(db, tmp_path, change, field):
    path = write(tmp_path, [GOOD, {**GOOD, "name": "FICTIONAL Second", **change}])
    _, problems = read_records(db, path)
    assert problems, change
    assert all(p.line == 3 for p in problems)
    assert field in {p.field for p in problems}
    assert "line 3" in str(problems[0]) and f"[{field}]" in " ".join(map(str, problems))


def test_duplicate_ids_are_reported(db, tmp_path):
    same = {**GOOD, "id": "11111111-1111-4111-8111-111111111111"}
    _, problems = read_records(db, write(tmp_path, [same, {**same, "name": "FICTIONAL Other"}]))
    assert [(p.line, p.field) for p in problems] == [(3, "id")]


def test_names_that_repeat_across_provinces_resolve_in_context(db, tmp_path):
    row = {**GOOD, "region": "Region V (Bicol Region)", "province": "Sorsogon", "city": "Pilar"}
    row["service_area"] = "Pilar"
    records, problems = read_records(db, write(tmp_path, [row]))
    assert problems == []
    assert records[0]["locations"][0]["area_code"].startswith("05062")  # Sorsogon


def test_a_near_miss_place_name_is_an_error_not_a_guess(db, tmp_path):
    row = {**GOOD, "region": "Narnia Region", "province": "", "city": "", "service_area": ""}
    _, problems = read_records(db, write(tmp_path, [row]))
    assert [(p.line, p.field) for p in problems] == [(2, "region")]
    assert "Narnia Region" in problems[0].message and "did you mean" in problems[0].message
