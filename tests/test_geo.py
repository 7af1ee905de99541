"""directory.geo: loading the gazetteer and resolving what people type into one area."""

import csv
import gzip
import time
from pathlib import Path

import pytest
import sqlite_utils

from directory import geo
from directory.geo import AmbiguousPlace, PlaceError, UnknownPlace, resolve_area
from directory.migrations import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "areas"

NCR, CAR, BARMM, NIR = "1300000000", "1400000000", "1900000000", "1800000000"
CALABARZON, MIMAROPA, REGION_VII = "0400000000", "1700000000", "0700000000"
CITY_OF_CEBU, QUEZON_CITY = "0730600000", "1381300000"
QUEZON_ISABELA = "0203122000"
ILOILO_PROVINCE, CITY_OF_ILOILO = "0603000000", "0631000000"
COTABATO_PROVINCE, CITY_OF_COTABATO = "1204700000", "1908703000"
LAHUG_CEBU, TAMBO_PARANAQUE = "0730600041", "1381000006"
REGION_CODES = {
    1: "0100000000",
    2: "0200000000",
    3: "0300000000",
    4: None,  # IV-A / IV-B, below
    5: "0500000000",
    6: "0600000000",
    7: "0700000000",
    8: "0800000000",
    9: "0900000000",
    10: "1000000000",
    11: "1100000000",
    12: "1200000000",
    13: "1600000000",
}
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII"]


def new_db() -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    migrations.apply(db)
    return db


@pytest.fixture(scope="module")
def db():
    database = new_db()
    started = time.perf_counter()
    count = geo.load_areas(database, DATA)
    database.load_seconds = time.perf_counter() - started
    database.loaded = count
    yield database
    geo.clear_cache(database)


def code_of(db, text, levels=None):
    return resolve_area(db, text, levels).code


# --------------------------------------------------------------------------- loading


def test_load_counts(db):
    def count(where):
        return db.execute(f"SELECT count(*) FROM area WHERE {where}").fetchone()[0]

    assert count("level = 'region'") == 18
    assert count("level = 'province'") == 82
    assert (
        count("kind IN ('highly_urbanized_city', 'independent_component_city', 'component_city')")
        == 150
    )
    assert count("kind = 'municipality'") == 1493
    assert count("level = 'barangay'") == 42010
    assert count("level = 'country'") == 249
    assert db.loaded == 249 + 43768 == db.execute("SELECT count(*) FROM area").fetchone()[0]


def test_load_counts_every_area(db):
    # Speed is for benchmarks; here, only that the whole gazetteer was loaded.
    assert db.loaded == db.execute("select count(*) from area").fetchone()[0] > 44000


def test_regions_hang_under_the_philippines(db):
    regions = geo.children(db, "PH")
    assert len(regions) == 18
    assert {r.parent_code for r in regions} == {"PH"}
    assert all(r.country_code == "PH" and r.kind == "region" for r in regions)
    ph = geo.get_area(db, "PH")
    assert (ph.name, ph.level, ph.country_code, ph.parent_code) == (
        "Philippines",
        "country",
        "PH",
        None,
    )


def test_levels_are_coarse_and_kinds_keep_psgc(db):
    cebu = geo.get_area(db, CITY_OF_CEBU)
    assert (cebu.level, cebu.kind) == ("city", "highly_urbanized_city")
    manila_district = geo.get_area(db, "1380605000")  # Santa Cruz, Manila
    assert (manila_district.level, manila_district.kind) == ("city", "submunicipality")
    assert geo.get_area(db, QUEZON_ISABELA).kind == "municipality"
    cebu_province = geo.get_area(db, "0702200000")  # PSGC: a province is in its own province
    assert (cebu_province.province_code, cebu_province.region_code) == ("0702200000", REGION_VII)


def test_barangays_inherit_their_city_point(db):
    lahug, cebu = geo.get_area(db, LAHUG_CEBU), geo.get_area(db, CITY_OF_CEBU)
    assert (lahug.lat, lahug.lon) == (cebu.lat, cebu.lon) == (10.31672, 123.89071)
    assert lahug.approximate and not cebu.approximate
    assert db.execute(
        "SELECT count(*) FROM area WHERE country_code = 'PH' AND level != 'country' "
        "AND (lat IS NULL OR lon IS NULL)"
    ).fetchone() == (0,)


def test_approximate_points(db):
    assert geo.get_area(db, REGION_VII).approximate  # derived mean of its towns
    assert geo.get_area(db, "0702200000").approximate  # province Cebu
    assert geo.get_area(db, CITY_OF_COTABATO).approximate  # fallback_province_centroid


def test_namesake_points_are_replaced(db):
    manila = geo.get_area(db, "1380600000")
    for code in ("1380608000", "1380604000", "1380614000"):  # Ermita, San Nicolas, Santa Ana
        district = geo.get_area(db, code)
        assert abs(district.lat - manila.lat) < 0.15 and abs(district.lon - manila.lon) < 0.15
        assert district.approximate
    # GeoNames' Kabasalan near Cotabato (124.65 E) is not the Zamboanga Sibugay town
    kabasalan = geo.get_area(db, "0908306000")
    assert kabasalan.lon < 123.5 and kabasalan.approximate


def test_aliases_are_normalised_and_point_at_areas(db):
    orphans = db.execute(
        "SELECT count(*) FROM area_alias WHERE code NOT IN (SELECT code FROM area)"
    ).fetchone()[0]
    assert orphans == 0
    aliases = [row[0] for row in db.execute("SELECT alias FROM area_alias")]
    assert all(alias == geo.normalize(alias) for alias in aliases)
    assert ("cebu city", CITY_OF_CEBU) in set(db.execute("SELECT alias, code FROM area_alias"))


# --------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Parañaque", "paranaque"),
        ("Las Piñas", "las pinas"),
        ("  City of  Las Piñas ", "city of las pinas"),
        ("Region IV-A (CALABARZON)", "region iv a calabarzon"),
        ("Brooke's Point", "brookes point"),
        ("Sta. Cruz", "sta cruz"),
        ("Trinidad & Tobago", "trinidad and tobago"),
        ("ÑAGA", "naga"),
    ],
)
def test_normalize(text, expected):
    assert geo.normalize(text) == expected


# --------------------------------------------------------------------------- resolving


@pytest.mark.parametrize(
    "text",
    ["NCR", "Metro Manila", "National Capital Region", "ncr", "metro manila"],
)
def test_ncr_aliases(db, text):
    assert code_of(db, text) == NCR


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("CAR", CAR),
        ("Cordillera", CAR),
        ("BARMM", BARMM),
        ("ARMM", BARMM),
        ("Bangsamoro", BARMM),
        ("Muslim Mindanao", BARMM),
        ("CALABARZON", CALABARZON),
        ("IV-A", CALABARZON),
        ("4A", CALABARZON),
        ("Region 4A", CALABARZON),
        ("Region IV-A", CALABARZON),
        ("MIMAROPA", MIMAROPA),
        ("IV-B", MIMAROPA),
        ("4B", MIMAROPA),
        ("SOCCSKSARGEN", "1200000000"),
        ("XII", "1200000000"),
        ("Region 12", "1200000000"),
        ("Caraga", "1600000000"),
        ("XIII", "1600000000"),
        ("Region 13", "1600000000"),
        ("NIR", NIR),
        ("Negros Island Region", NIR),
        ("Ilocos Region", "0100000000"),
        ("Cagayan Valley", "0200000000"),
        ("Central Luzon", "0300000000"),
        ("Bicol Region", "0500000000"),
        ("Western Visayas", "0600000000"),
        ("Central Visayas", REGION_VII),
        ("Eastern Visayas", "0800000000"),
        ("Zamboanga Peninsula", "0900000000"),
        ("Northern Mindanao", "1000000000"),
        ("Davao Region", "1100000000"),
        ("Region VII (Central Visayas)", REGION_VII),
    ],
)
def test_region_aliases(db, text, code):
    assert code_of(db, text) == code
    assert code_of(db, text, ("region",)) == code


@pytest.mark.parametrize("number", [n for n in REGION_CODES if REGION_CODES[n]])
def test_numbered_regions(db, number):
    code = REGION_CODES[number]
    assert code_of(db, f"Region {number}") == code
    assert code_of(db, f"Region {ROMAN[number - 1]}") == code
    assert code_of(db, f"region {ROMAN[number - 1].lower()}") == code


def test_region_vii_is_central_visayas_not_mimaropa(db):
    area = resolve_area(db, "Region VII")
    assert area.code == REGION_VII and area.name == "Region VII (Central Visayas)"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("QC", QUEZON_CITY),
        ("Quezon City", QUEZON_CITY),
        ("City of Quezon", QUEZON_CITY),
        ("GenSan", "1230800000"),
        ("General Santos", "1230800000"),
        ("CDO", "1030500000"),
        ("Cagayan de Oro", "1030500000"),
        ("Davao City", "1130700000"),
        ("Davao", "1130700000"),
        ("Cebu City", CITY_OF_CEBU),
        ("City of Cebu", CITY_OF_CEBU),
        ("Manila", "1380600000"),
        ("Makati", "1380300000"),
        ("Makati City", "1380300000"),
        ("Iloilo City", CITY_OF_ILOILO),
        ("City of Iloilo", CITY_OF_ILOILO),
        ("Cotabato City", CITY_OF_COTABATO),
        ("Zamboanga City", "0931700000"),
        ("Tacloban", "0831600000"),
        ("Tacloban City", "0831600000"),
        ("Pasay", "1381100000"),
        ("City of Pasay", "1381100000"),
        ("Isabela City", "0990101000"),
        ("Samal City", "1102317000"),
        ("Muñoz", "0304917000"),
        ("Tondo", "1380601000"),
        ("Cebu Province", "0702200000"),
        ("Province of Iloilo", ILOILO_PROVINCE),
        ("Mt. Province", "1404400000"),
        ("Compostela Valley", "1108200000"),
    ],
)
def test_city_and_province_aliases(db, text, code):
    assert code_of(db, text) == code


def test_quezon_city_is_never_the_town_of_quezon(db):
    assert code_of(db, "Quezon City") == QUEZON_CITY
    assert code_of(db, "quezon city", ("city",)) == QUEZON_CITY
    for text in ("Quezon City, Isabela", "Quezon City, Region II"):
        with pytest.raises(PlaceError):
            resolve_area(db, text)
    # the town itself is reachable with its province
    assert code_of(db, "Quezon, Isabela") == QUEZON_ISABELA


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Parañaque", "1381000000"),
        ("Paranaque", "1381000000"),
        ("PARAÑAQUE CITY", "1381000000"),
        ("Las Piñas", "1380200000"),
        ("Las Pinas", "1380200000"),
        ("las pinas city", "1380200000"),
    ],
)
def test_diacritics_and_case(db, text, code):
    assert code_of(db, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Tacloben", "0831600000"),
        ("Cagayan de oro", "1030500000"),
        ("Cagayan de Orro", "1030500000"),
        ("Davao Citty", "1130700000"),
        ("Zamboanga Peninsulla", "0900000000"),
        ("Calabarson", CALABARZON),
    ],
)
def test_typos(db, text, code):
    assert code_of(db, text) == code


def test_short_typo_prefers_big_units_over_barangays(db):
    with pytest.raises(AmbiguousPlace) as error:
        resolve_area(db, "Cebo")
    assert {a.code for a in error.value.choices} == {"0702200000", CITY_OF_CEBU}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Lahug, Cebu City", LAHUG_CEBU),
        ("Lahug, City of Cebu", LAHUG_CEBU),
        ("Lahug, Cebu", LAHUG_CEBU),
        ("Barangay Tambo, Parañaque", TAMBO_PARANAQUE),
        ("Brgy. Tambo, Paranaque City", TAMBO_PARANAQUE),
        ("Tambo, Parañaque, Metro Manila", TAMBO_PARANAQUE),
        ("Sta. Cruz, Manila", "1380605000"),
        ("Mandaue, Cebu", "0731300000"),  # an HUC sits beside its province in PSGC
        ("City of Naga, Camarines Sur", "0501724000"),
        ("Korea, Republic of", "KR"),
    ],
)
def test_comma_context(db, text, code):
    assert code_of(db, text) == code


def test_bare_barangay_name_is_ambiguous(db):
    with pytest.raises(AmbiguousPlace) as error:
        resolve_area(db, "Lahug")
    codes = [a.code for a in error.value.choices]
    assert LAHUG_CEBU in codes and len(codes) == 2
    assert "Lahug (barangay), City of Cebu, Region VII (Central Visayas)" in str(error.value)
    with pytest.raises(AmbiguousPlace) as error:
        resolve_area(db, "Poblacion")
    assert len(error.value.choices) == 10


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Iloilo", {ILOILO_PROVINCE, CITY_OF_ILOILO}),
        ("iloilo", {ILOILO_PROVINCE, CITY_OF_ILOILO}),
        ("Cotabato", {COTABATO_PROVINCE, CITY_OF_COTABATO}),
        ("Cebu", {"0702200000", CITY_OF_CEBU}),
        ("Maguindanao", {"1908700000", "1908800000"}),
    ],
)
def test_province_and_city_of_one_name_are_ambiguous(db, text, codes):
    with pytest.raises(AmbiguousPlace) as error:
        resolve_area(db, text)
    assert {a.code for a in error.value.choices} == codes
    assert isinstance(error.value, ValueError) and error.value.text == text
    message = str(error.value)
    assert message.startswith(f'"{text}" could be more than one place')
    for area in error.value.choices:
        assert area.name in message


def test_ambiguity_is_settled_by_city_or_province_or_levels(db):
    assert code_of(db, "Iloilo City") == CITY_OF_ILOILO
    assert code_of(db, "Iloilo Province") == ILOILO_PROVINCE
    assert code_of(db, "Iloilo", ("city",)) == CITY_OF_ILOILO
    assert code_of(db, "Iloilo", "province") == ILOILO_PROVINCE
    assert code_of(db, "Cotabato", ("province",)) == COTABATO_PROVINCE


def test_choices_put_bigger_units_first(db):
    with pytest.raises(AmbiguousPlace) as error:
        resolve_area(db, "Quezon")
    choices = error.value.choices
    assert [a.code for a in choices[:2]] == ["0405600000", QUEZON_CITY]
    assert QUEZON_ISABELA in {a.code for a in choices}


def test_region_beats_town_of_the_same_name(db):
    assert code_of(db, "Caraga") == "1600000000"
    assert code_of(db, "Caraga, Davao Oriental") == "1102504000"


def test_unknown_place_with_suggestions(db):
    with pytest.raises(UnknownPlace) as error:
        resolve_area(db, "Makaty")
    assert error.value.suggestions[0].code == "1380300000"
    assert "Did you mean: City of Makati" in str(error.value)
    with pytest.raises(UnknownPlace) as error:
        resolve_area(db, "Xyzzyville")
    assert error.value.suggestions == []
    assert str(error.value) == 'No place called "Xyzzyville" was found.'
    for text in ("", "   ", "9999999999"):
        with pytest.raises(UnknownPlace):
            resolve_area(db, text)


def test_psgc_codes(db):
    assert resolve_area(db, CITY_OF_CEBU).name == "City of Cebu"
    assert code_of(db, " 0730600041 ") == LAHUG_CEBU
    assert code_of(db, REGION_VII, ("region",)) == REGION_VII
    with pytest.raises(UnknownPlace) as error:
        resolve_area(db, "0702200000", ("region",))
    assert [a.code for a in error.value.suggestions] == [REGION_VII]


def test_levels_restrict_what_is_accepted(db):
    with pytest.raises(UnknownPlace) as error:
        resolve_area(db, "Cebu", ("region",))
    assert error.value.suggestions[0].code == REGION_VII
    assert {a.code for a in error.value.found_elsewhere} == {"0702200000", CITY_OF_CEBU}
    assert str(error.value).startswith('"Cebu" is not a region')
    with pytest.raises(UnknownPlace):
        resolve_area(db, "Region VII", ("province", "city"))
    assert code_of(db, "Cebu City", ("city", "barangay")) == CITY_OF_CEBU
    with pytest.raises(ValueError, match="levels"):
        resolve_area(db, "Cebu", ("town",))


def test_country_codes_only_when_countries_are_asked_for(db):
    assert code_of(db, "PH", ("country",)) == "PH"
    assert code_of(db, "us", ("country",)) == "US"
    assert code_of(db, "Philippines") == "PH"
    assert code_of(db, "South Korea", ("country",)) == "KR"
    assert code_of(db, "VI") == "0600000000"  # Region VI, not the Virgin Islands
    assert code_of(db, "VI", ("country",)) == "VI"
    with pytest.raises(UnknownPlace):
        resolve_area(db, "PH", ("region",))


def test_resolving_is_fast(db):
    resolve_area(db, "Cebu City")  # builds the index
    started = time.perf_counter()
    for _ in range(500):
        resolve_area(db, "Cebu City")
        resolve_area(db, "Lahug, Cebu City")
    exact = (time.perf_counter() - started) / 1000
    started = time.perf_counter()
    for _ in range(20):
        resolve_area(db, "Tacloben")
    fuzzy = (time.perf_counter() - started) / 20
    assert exact < 0.001 and fuzzy < 0.02


def test_cache_is_per_database(db):
    assert code_of(db, "QC") == QUEZON_CITY
    empty = new_db()
    with pytest.raises(UnknownPlace):
        resolve_area(empty, "QC")
    assert code_of(db, "QC") == QUEZON_CITY


# --------------------------------------------------------------------------- hierarchy


def test_ancestors_of_a_barangay_reach_the_country(db):
    lahug = geo.ancestors(db, LAHUG_CEBU)
    assert [a.code for a in lahug] == [LAHUG_CEBU, CITY_OF_CEBU, REGION_VII, "PH"]
    baler = db.execute(
        "SELECT code FROM area WHERE level = 'barangay' AND parent_code = "
        "(SELECT code FROM area WHERE name = 'Baler' AND kind = 'municipality') LIMIT 1"
    ).fetchone()[0]
    chain = geo.ancestors(db, baler)
    assert [a.level for a in chain] == ["barangay", "city", "province", "region", "country"]
    assert [a.name for a in chain[1:]] == [
        "Baler",
        "Aurora",
        "Region III (Central Luzon)",
        "Philippines",
    ]
    assert chain[0].province_code == chain[2].code and chain[0].region_code == chain[3].code
    assert geo.ancestors(db, "nope") == []


def test_children(db):
    ncr = geo.children(db, NCR)
    assert len(ncr) == 17 and {a.level for a in ncr} == {"city"}  # 16 cities and Pateros
    region_vii = geo.children(db, REGION_VII)
    # Negros Oriental and Siquijor moved to the Negros Island Region
    assert [a.name for a in region_vii[:2]] == ["Bohol", "Cebu"]
    assert {a.level for a in region_vii[2:]} == {"city"}
    assert {a.name for a in region_vii} >= {"Cebu", "Bohol", "City of Cebu", "City of Mandaue"}
    assert geo.children(db, LAHUG_CEBU) == []


def test_describe(db):
    lahug = geo.get_area(db, LAHUG_CEBU)
    assert geo.describe(db, lahug) == "Lahug, City of Cebu, Region VII (Central Visayas)"
    assert geo.describe(db, "0702200000") == "Cebu, Region VII (Central Visayas)"
    assert geo.describe(db, "PH") == "Philippines"


def test_island_groups(db):
    luzon = geo.island_group_regions("Luzon")
    visayas = geo.island_group_regions("the Visayas")
    mindanao = geo.island_group_regions("MINDANAO (island group)")
    assert (len(luzon), len(visayas), len(mindanao)) == (8, 4, 6)
    assert NCR in luzon and CAR in luzon and MIMAROPA in luzon
    assert NIR in visayas and REGION_VII in visayas and BARMM in mindanao
    every_region = {a.code for a in geo.children(db, "PH")}
    assert set(luzon) | set(visayas) | set(mindanao) == every_region
    assert geo.island_group_regions("Cebu") == []


# --------------------------------------------------------------------------- small data


def write_small_data(folder: Path, alias_code: str = "0100000000") -> None:
    rows = [
        ["0100000000", "Region I (Ilocos Region)", "region", "0000000000", "0100000000", "",
         "16.1", "120.4", "derived_mean_of_lgus", ""],
        ["0102800000", "Ilocos Norte", "province", "0100000000", "0100000000", "",
         "18.1", "120.7", "derived_mean_of_lgus", ""],
        ["0102801000", "Adams", "municipality", "0102800000", "0100000000", "0102800000",
         "18.45", "120.9", "geonames_name", "1"],
        ["0102801001", "Adams (Pob.)", "barangay", "0102801000", "0100000000", "0102800000",
         "", "", "", ""],
        ["0102805000", "City of Batac", "component_city", "0102800000", "0100000000",
         "0102800000", "18.1", "120.6", "fallback_province_centroid", ""],
    ]  # fmt: skip
    with gzip.open(folder / "ph_places.csv.gz", "wt", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            "psgc,name,level,parent_psgc,region_psgc,province_psgc,lat,lon,coord_source,"
            "geonames_id".split(",")
        )
        writer.writerows(rows)
    (folder / "countries.csv").write_text("alpha2,name\nPH,Philippines\nJP,Japan\n")
    (folder / "aliases.csv").write_text(f"alias,code,note\nIlocandia,{alias_code},\n")


def test_load_small_data_twice(tmp_path):
    write_small_data(tmp_path)
    db = new_db()
    assert geo.load_areas(db, tmp_path) == 7
    assert geo.load_areas(db, tmp_path) == 7  # a reload replaces, it does not duplicate
    assert db.execute("SELECT count(*) FROM area").fetchone()[0] == 7
    adams_pob = geo.get_area(db, "0102801001")
    assert (adams_pob.lat, adams_pob.lon, adams_pob.approximate) == (18.45, 120.9, True)
    assert not geo.get_area(db, "0102801000").approximate
    assert geo.get_area(db, "0102805000").approximate
    assert code_of(db, "Ilocandia") == "0100000000"
    assert code_of(db, "Batac City") == "0102805000"
    assert code_of(db, "Adams") == "0102801000"  # the town beats its barangay "Adams (Pob.)"
    assert code_of(db, "Japan") == "JP"


def test_bad_alias_file_changes_nothing(tmp_path):
    write_small_data(tmp_path)
    db = new_db()
    geo.load_areas(db, tmp_path)
    write_small_data(tmp_path, alias_code="0199999999")
    with pytest.raises(ValueError, match="0199999999"):
        geo.load_areas(db, tmp_path)
    assert code_of(db, "Ilocandia") == "0100000000"


def test_clear_cache_after_editing_areas(tmp_path):
    write_small_data(tmp_path)
    db = new_db()
    geo.load_areas(db, tmp_path)
    assert resolve_area(db, "Adams").name == "Adams"
    with db.conn:
        db.execute("UPDATE area SET name = 'Adams Town' WHERE code = '0102801000'")
    geo.clear_cache(db)
    assert resolve_area(db, "Adams").name == "Adams Town"
    assert (
        geo.describe(db, "0102801001")
        == "Adams (Pob.), Adams Town, Ilocos Norte, Region I (Ilocos Region)"
    )
    geo.clear_cache()
    assert [a.name for a in geo.ancestors(db, "0102801001")][:2] == ["Adams (Pob.)", "Adams Town"]


@pytest.mark.parametrize("text", ["Region 99", "Region 14", "Region XX", "Region 0"])
def test_a_region_number_is_never_guessed(db, text):
    with pytest.raises(geo.UnknownPlace):
        geo.resolve_area(db, text, levels=("region",))


def test_a_typo_in_a_region_word_still_resolves(db):
    assert geo.resolve_area(db, "Regoin VII", levels=("region",)).code == "0700000000"
