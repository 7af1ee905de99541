"""search.py: parameters validated, filters as data, FTS input always escaped."""

from datetime import UTC, datetime

import pytest

from directory import geo, search


def run(db, **args):
    return search.search(db, search.parse_query(db, args))


def names(db, result) -> list[str]:
    ids = result.service_ids
    rows = db.execute(
        f"select id, name from service where id in ({','.join('?' * len(ids))})", ids
    ).fetchall()
    by_id = dict(rows)
    return [by_id[i] for i in ids]


def all_names(db, **args) -> list[str]:
    return names(db, run(db, per_page="100", **args))


@pytest.mark.parametrize(
    "alias", ["NCR", "Metro Manila", "National Capital Region", "1300000000", "ncr"]
)
def test_region_aliases_resolve_to_ncr(db, alias):
    query = search.parse_query(db, {"region": alias})
    assert query.area.code == "1300000000"


@pytest.mark.parametrize(
    "alias,code",
    [
        ("Region VII", "0700000000"),
        ("Central Visayas", "0700000000"),
        ("BARMM", "1900000000"),
        ("Bangsamoro", "1900000000"),
        ("NIR", "1800000000"),
        ("CALABARZON", "0400000000"),
        ("IV-A", "0400000000"),
    ],
)
def test_region_names_people_type(db, alias, code):
    assert search.parse_query(db, {"region": alias}).area.code == code


def test_region_filter_includes_national_and_regional_services(db):
    found = all_names(db, region="Region VIII")
    assert "Unified 911 emergency hotline" in found  # national
    assert "DSWD Field Office VIII" in found  # regional
    assert "PNP WCPC - Visayas desk" in found  # island group covering the region
    assert "PNP WCPC - Luzon desk" not in found
    assert "DSWD Field Office VII" not in found
    assert "Childline" not in found  # another country


def test_city_filter_includes_services_covering_the_city(db):
    found = all_names(db, city="Tacloban")
    assert "DSWD Field Office VIII" in found  # serves all of Region VIII
    assert "Regional Haven - Region VIII" in found
    assert "Unified 911 emergency hotline" in found
    assert "Cebu Provincial Bahay Pag-asa" not in found


def test_province_filter_excludes_other_cities_services(db):
    found = all_names(db, city="Lapu-Lapu")
    assert "Vicente Sotto Memorial Medical Center WCPU ('Pink Room')" not in found  # Cebu City
    assert "DSWD Field Office VII" in found


def test_city_must_be_inside_region(db):
    with pytest.raises(search.QueryError) as err:
        search.parse_query(db, {"region": "NCR", "city": "Tacloban"})
    assert err.value.parameter == "city"


def test_country_filter(db):
    found = all_names(db, country="GB")
    assert "Childline" in found and "Unified 911 emergency hotline" not in found


def test_free_text_ranks_name_matches(db):
    result = run(db, q="Marillac")
    assert names(db, result)[0] == "Marillac Hills"


def test_diacritics_and_stemming(db):
    assert "Las Piñas City Crisis Center for Women and their Children" in all_names(
        db, q="Las Pinas"
    )
    assert run(db, q="counselling").total == run(db, q="counsel").total > 0


def test_type_filter_and_unknown_type(db):
    found = all_names(db, type="medical-legal")
    assert "Philippine General Hospital Child Protection Unit (PGH-CPU)" in found
    with pytest.raises(search.QueryError) as err:
        search.parse_query(db, {"type": "spa"})
    assert err.value.parameter == "type"


def test_youth_justice_centres_are_left_out_unless_asked(db):
    assert not any("Bahay Pag-asa" in n for n in all_names(db, q="Bahay Pag-asa"))
    assert any("Bahay Pag-asa" in n for n in all_names(db, type="youth-justice"))


def test_age_and_gender_filters(db):
    adults = all_names(db, age="30")
    assert "Haven - National Center for Women" in adults
    assert "Nayon ng Kabataan" not in adults  # 7-17
    boys = all_names(db, gender="male", q="girls")
    assert "Marillac Hills" not in boys


def test_twenty_four_seven_and_free(db):
    found = all_names(db, twenty_four_seven="1")
    assert "Makabata Helpline 1383" in found and "DSWD Field Office VIII" not in found
    assert "Public Attorney's Office (PAO) - NCR" in all_names(db, free="1")


def test_open_now_uses_weekly_hours(db):
    query = search.parse_query(db, {"open_now": "1", "per_page": "100"})
    tuesday_10_manila = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    sunday_3am_manila = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
    day = names(db, search.search(db, query, now=tuesday_10_manila))
    night = names(db, search.search(db, query, now=sunday_3am_manila))
    assert "Makabata Helpline 1383" in day and "Makabata Helpline 1383" in night
    office = "Puerto Princesa City Social Welfare and Development Office (CSWDO)"
    hours = db.execute("select hours_text from service where name = ?", [office]).fetchone()
    weekday_only = [
        r[0]
        for r in db.execute(
            "select s.name from service s where s.hours_text like 'Mon-Fri 8:00 AM-5:00 PM%'"
        )
    ]
    assert weekday_only, hours
    for name in weekday_only:
        assert name in day and name not in night


def test_language_filter(db):
    assert "Unified 911 emergency hotline" in all_names(db, language="war")
    assert "Unified 911 emergency hotline" in all_names(db, language="Waray")
    with pytest.raises(search.QueryError):
        search.parse_query(db, {"language": "Klingon language!"})


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "te* AND do*",
        "NEAR(shelter counselling)",
        "shelter OR",
        "AND",
        "x" * 5000,
        "shelter\x00girls",
        "🆘 help 🙏",
        "'); drop table service; --",
        "^col:foo",
        "a" * 6000,
    ],
)
def test_any_text_searches_safely(db, text):
    result = run(db, q=text)
    assert result.total >= 0
    assert db["service"].count == 218


def test_fts_syntax_is_inert(db):
    assert run(db, q="te* AND do*").total == 0
    assert search.fts_query('shelter" OR "x')[0] == '"shelter" "OR" "x"'


@pytest.mark.parametrize(
    "args,parameter",
    [
        ({"age": "abc"}, "age"),
        ({"age": "-1"}, "age"),
        ({"age": "500"}, "age"),
        ({"page": "0"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"per_page": "1000"}, "per_page"),
        ({"region": "Narnia"}, "region"),
        ({"region": "Cebu"}, "region"),  # a province, not a region
        ({"country": "XX"}, "country"),
        ({"gender": "robot"}, "gender"),
        ({"open_now": "maybe"}, "open_now"),
        ({"sort": "random"}, "sort"),
        ({"sort": "distance"}, "sort"),
        ({"regoin": "NCR"}, "regoin"),
        ({"age": ["5", "9"]}, "age"),
        ({"minimum_age": "20", "maximum_age": "10"}, "maximum_age"),
    ],
)
def test_bad_parameters_name_the_parameter(db, args, parameter):
    with pytest.raises(search.QueryError) as err:
        search.parse_query(db, args)
    assert err.value.parameter == parameter
    assert err.value.message


def test_pagination_and_total(db):
    first = run(db, per_page="5")
    second = run(db, per_page="5", page="2")
    assert first.total == second.total > 10
    assert len(first.service_ids) == len(second.service_ids) == 5
    assert not set(first.service_ids) & set(second.service_ids)
    beyond = run(db, per_page="5", page="9999")
    assert beyond.service_ids == [] and beyond.total == first.total


def test_facets_count_results(db):
    result = run(db, type="shelter")
    by_region = {f["name"]: f["count"] for f in result.facets["region"]}
    assert by_region["Region XII (SOCCSKSARGEN)"] >= 3
    types = {f["code"]: f["count"] for f in result.facets["type"]}
    assert types["shelter"] == result.total


def test_sort_by_name_and_verified(db):
    by_name = all_names(db, sort="name", region="CAR")
    assert len(by_name) > 5
    assert by_name == sorted(by_name, key=geo.normalize)
    keys = [
        db.execute("select verified_key from search_doc where service_id = ?", [sid]).fetchone()[0]
        for sid in run(db, sort="verified", per_page="50").service_ids
    ]
    assert keys == sorted(keys, reverse=True)


def test_description_is_a_sentence(db):
    result = run(db, q="shelter", region="Region V")
    assert result.description.startswith(f"{result.total} service")
    assert "shelter" in result.description and "Region V" in result.description


def test_the_summary_is_translated_when_asked(db):
    query = search.parse_query(db, {"region": "Region VIII", "type": "shelter", "free": "1"})
    fil = {
        "%(num)d service": "%(num)d serbisyo",
        "serving %(place)s": "na naglilingkod sa %(place)s",
        "offering %(type)s": "na nag-aalok ng %(type)s",
        "Shelter and residential care": "Tirahan",
        "free of charge": "libre",
    }

    def gettext(message):
        return fil.get(message, message)

    def ngettext(one, many, n):
        return gettext(one if n == 1 else many)

    english = search.describe(query, 1)
    assert english == (
        "1 service serving Region VIII (Eastern Visayas) offering shelter and residential care "
        "free of charge"
    )
    translated = search.describe(query, 1, gettext, ngettext)
    assert translated == (
        "1 serbisyo na naglilingkod sa Region VIII (Eastern Visayas) na nag-aalok ng tirahan libre"
    )
