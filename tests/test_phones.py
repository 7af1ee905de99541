"""Phone parsing: every phones value in the shipped research data, plus hostile input."""

import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import shortnumberinfo

from directory.phones import (
    EXTRA_SHORT_CODES,
    OLD_METRO_MANILA,
    PHONE_TYPES,
    ParsedPhone,
    PhoneError,
    display,
    parse_phones,
    require_valid,
    sms_href,
    tel_href,
    validate_number,
)

# Every distinct (country, phones) value of ph-services.csv, ph-services-more.csv and
# international-services.csv, copied here so the tests do not depend on shared/.
# Each number: (number as published, e164, short_code, type, valid, sms, problem fragment).
PUBLISHED = [
    (
        "PH",
        "163 (dial #163 from mobile; free for Globe and TM subscribers)",
        [
            ("163", None, "163", "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "163",
        [
            ("163", None, "163", "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "1383 | 0915-802-2375 (Globe) | 0960-377-9863 (Smart) | 09193541383 | 09158022375",
        [
            ("1383", None, "1383", "voice", True, False, None),
            ("0915-802-2375", "+639158022375", None, "cell", True, True, None),
            ("0960-377-9863", "+639603779863", None, "cell", True, True, None),
            ("09193541383", "+639193541383", None, "cell", True, True, None),
            ("09158022375", "+639158022375", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "1343 | (02) 1343 from outside Metro Manila (per 2015 source)",
        [
            ("1343", None, "1343", "voice", True, False, None),
            (
                "(02) 1343",
                None,
                None,
                "voice",
                False,
                False,
                "looks like short code 1343 with area code 02 in front; confirm how to dial it",
            ),
        ],
    ),
    (
        "PH",
        "1326 | Smart 0947-714-7105 | Globe 0966-976-5971 | DITO 0991-481-4225",
        [
            ("1326", None, "1326", "voice", True, False, None),
            ("0947-714-7105", "+639477147105", None, "cell", True, True, None),
            ("0966-976-5971", "+639669765971", None, "cell", True, True, None),
            ("0991-481-4225", "+639914814225", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "911",
        [
            ("911", None, "911", "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "(02) 8723-0401 | (02) 8537-4500 (PNP National HQ lines)",
        [
            ("(02) 8723-0401", "+63287230401", None, "voice", True, False, None),
            ("(02) 8537-4500", "+63285374500", None, "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "0945-863-2235 | (022)420-6460",
        [
            ("0945-863-2235", "+639458632235", None, "cell", True, True, None),
            (
                "(022)420-6460",
                None,
                None,
                "voice",
                False,
                False,
                "does not validate as a PH number",
            ),
        ],
    ),
    (
        "PH",
        "(032) 410 84 83",
        [
            ("(032) 410 84 83", "+63324108483", None, "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "0928-604-6425 | 0917-180-6037",
        [
            ("0928-604-6425", "+639286046425", None, "cell", True, True, None),
            ("0917-180-6037", "+639171806037", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "09688864759 (AlengPulis Cybersquad) | (02) 723-0401 local 5354 (ACG, 2021 list)",
        [
            ("09688864759", "+639688864759", None, "cell", True, True, None),
            ("(02) 723-0401", None, None, "voice", False, False, "7-digit"),
        ],
    ),
    (
        "PH",
        "Text ENDOSEC <space> message, send to 7444-28473",
        [
            (
                "7444-28473",
                None,
                "7444-28473",
                "text",
                False,
                True,
                "7444-28473 is not a known SMS short code in PH; confirm it still works",
            ),
        ],
    ),
    (
        "PH",
        "(02) 523-8231 to 38 local 3454 to 3455",
        [
            ("(02) 523-8231", None, None, "voice", False, False, "7-digit"),
        ],
    ),
    (
        "PH",
        "(02) 524-82-16",
        [
            ("(02) 524-82-16", None, None, "voice", False, False, "7-digit"),
        ],
    ),
    (
        "PH",
        "Text DSWD <space> blockchildporn <space> URL, send to 2327 | "
        "Text blockchildporn <space> URL, send to 0918-9122813",
        [
            ("2327", None, "2327", "text", True, True, None),
            ("0918-9122813", "+639189122813", None, "text", True, True, None),
        ],
    ),
    (
        "PH",
        "(02) 8931-9141",
        [
            ("(02) 8931-9141", "+63289319141", None, "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "0943 464 8026 | 0943 464 8086 | 0932 933 3251 (Smart) | "
        "0995 715 3926 | 0995 715 3934 (Globe)",
        [
            ("0943 464 8026", "+639434648026", None, "cell", True, True, None),
            ("0943 464 8086", "+639434648086", None, "cell", True, True, None),
            ("0932 933 3251", "+639329333251", None, "cell", True, True, None),
            ("0995 715 3926", "+639957153926", None, "cell", True, True, None),
            ("0995 715 3934", "+639957153934", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "1553",
        [
            ("1553", None, "1553", "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "(02) 8651-7800",
        [
            ("(02) 8651-7800", "+63286517800", None, "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "Telephone (63-2) 9208151 | Fax (63-2) 4415108",
        [
            ("(63-2) 9208151", None, None, "voice", False, False, "7-digit"),
            ("(63-2) 4415108", None, None, "fax", False, False, "7-digit"),
        ],
    ),
    (
        "PH",
        "(074) 442 3946 | (074) 446 5961 | 09060941064 | 09491417232",
        [
            ("(074) 442 3946", "+63744423946", None, "voice", True, False, None),
            ("(074) 446 5961", "+63744465961", None, "voice", True, False, None),
            ("09060941064", "+639060941064", None, "cell", True, True, None),
            ("09491417232", "+639491417232", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "(072) 8882505 | 09399586757",
        [
            ("(072) 8882505", "+63728882505", None, "voice", True, False, None),
            ("09399586757", "+639399586757", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "09177710966",
        [
            ("09177710966", "+639177710966", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "09088814109",
        [
            ("09088814109", "+639088814109", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "+639397624522",
        [
            ("+639397624522", "+639397624522", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "09088184444",
        [
            ("09088184444", "+639088184444", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "+63 2 563 4647 | Telefax +63 2 561 7118 | +63 2 563 2242",
        [
            ("+63 2 563 4647", None, None, "voice", False, False, "7-digit"),
            ("+63 2 561 7118", None, None, "voice", False, False, "7-digit"),
            ("+63 2 563 2242", None, None, "voice", False, False, "7-digit"),
        ],
    ),
    (
        "PH",
        "09194583293",
        [
            ("09194583293", "+639194583293", None, "cell", True, True, None),
        ],
    ),
    (
        "PH",
        "122 (QC Helpline, per 2020 source)",
        [
            ("122", None, "122", "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "122",
        [
            ("122", None, "122", "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "(632) 8426-7839 | (632) 8985-0234",
        [
            ("(632) 8426-7839", "+63284267839", None, "voice", True, False, None),
            ("(632) 8985-0234", "+63289850234", None, "voice", True, False, None),
        ],
    ),
    (
        "US",
        "1-800-422-4453 (1-800-4-A-CHILD; press 1 for a counsellor)",
        [
            ("1-800-422-4453", "+18004224453", None, "voice", True, False, None),
        ],
    ),
    (
        "US",
        "988 | 1-800-273-8255 (former number, still works)",
        [
            ("988", None, "988", "voice", True, False, None),
            ("1-800-273-8255", "+18002738255", None, "voice", True, False, None),
        ],
    ),
    (
        "CA",
        "1-800-668-6868",
        [
            ("1-800-668-6868", "+18006686868", None, "voice", True, False, None),
        ],
    ),
    (
        "GB",
        "0800 1111",
        [
            ("0800 1111", "+448001111", None, "voice", True, False, None),
        ],
    ),
    (
        "GB",
        "0808 800 5000 | +44 203 879 8560 "
        "(if you live outside the UK and are worried about a child in the UK; charged)",
        [
            ("0808 800 5000", "+448088005000", None, "voice", True, False, None),
            ("+44 203 879 8560", "+442038798560", None, "voice", True, False, None),
        ],
    ),
    (
        "AU",
        "1800 55 1800",
        [
            ("1800 55 1800", "+611800551800", None, "voice", True, False, None),
        ],
    ),
    (
        "DE",
        "116 111",
        [
            ("116 111", None, "116 111", "voice", True, False, None),
        ],
    ),
    (
        "SE",
        "116 111",
        [
            ("116 111", None, "116 111", "voice", True, False, None),
        ],
    ),
    (
        "NO",
        "116 111",
        [
            ("116 111", None, "116 111", "voice", True, False, None),
        ],
    ),
    (
        "FR",
        "119",
        [
            ("119", None, "119", "voice", True, False, None),
        ],
    ),
    (
        "NL",
        "0800-0432",
        [
            ("0800-0432", "+318000432", None, "voice", True, False, None),
        ],
    ),
    (
        "BE",
        "102",
        [
            ("102", None, "102", "voice", True, False, None),
        ],
    ),
    (
        "BE",
        "103",
        [
            ("103", None, "103", "voice", True, False, None),
        ],
    ),
    (
        "BE",
        "116 000 | +32 2 475 44 11 (office, 2019)",
        [
            ("116 000", None, "116 000", "voice", True, False, None),
            ("+32 2 475 44 11", "+3224754411", None, "voice", True, False, None),
        ],
    ),
    (
        "DE",
        "0800 22 55 530",
        [
            ("0800 22 55 530", "+498002255530", None, "voice", True, False, None),
        ],
    ),
    (
        "FR",
        "3018",
        [
            ("3018", None, "3018", "voice", True, False, None),
        ],
    ),
    (
        "TH",
        "1387",
        [
            ("1387", None, "1387", "voice", True, False, None),
        ],
    ),
    (
        "TH",
        "1300 | +66-99-130-1300 (international line for Thais abroad; call or text)",
        [
            ("1300", None, "1300", "voice", True, False, None),
            ("+66-99-130-1300", "+66991301300", None, "cell", True, True, None),
        ],
    ),
    (
        "KH",
        "1280 | (+855) 23 224 841 (administration)",
        [
            ("1280", None, "1280", "voice", True, False, None),
            ("(+855) 23 224 841", "+85523224841", None, "voice", True, False, None),
        ],
    ),
    (
        "ID",
        "129 | 021-129 | WhatsApp 08111-129-129",
        [
            ("129", None, "129", "voice", True, False, None),
            (
                "021-129",
                None,
                None,
                "voice",
                False,
                False,
                "looks like short code 129 with area code 021 in front; confirm how to dial it",
            ),
            ("08111-129-129", "+628111129129", None, "text", True, False, None),
        ],
    ),
    (
        "VN",
        "111",
        [
            ("111", None, "111", "voice", True, False, None),
        ],
    ),
    (
        "MY",
        "15999 | WhatsApp 019-261 5999",
        [
            ("15999", None, "15999", "voice", True, False, None),
            ("019-261 5999", "+60192615999", None, "text", True, False, None),
        ],
    ),
    (
        "US",
        "1-888-373-7888 | TTY 711",
        [
            ("1-888-373-7888", "+18883737888", None, "voice", True, False, None),
            ("711", None, "711", "textphone", True, False, None),
        ],
    ),
    (
        "CA",
        "1-833-900-1010",
        [
            ("1-833-900-1010", "+18339001010", None, "voice", True, False, None),
        ],
    ),
    (
        "GB",
        "08000 121 700",
        [
            ("08000 121 700", "+448000121700", None, "voice", True, False, None),
        ],
    ),
    (
        "NL",
        "0800-2000",
        [
            ("0800-2000", "+318002000", None, "voice", True, False, None),
        ],
    ),
    (
        "US",
        "1-800-THE-LOST (1-800-843-5678)",
        [
            ("1-800-843-5678", "+18008435678", None, "voice", True, False, None),
        ],
    ),
    (
        "CA",
        "1-866-658-9022",
        [
            ("1-866-658-9022", "+18666589022", None, "voice", True, False, None),
        ],
    ),
    (
        "NL",
        "+31 20 257 11 00 (office; not for reports)",
        [
            ("+31 20 257 11 00", "+31202571100", None, "voice", True, False, None),
        ],
    ),
    (
        "GB",
        "999 (immediate danger) | 101 (over 18: local police)",
        [
            ("999", None, "999", "voice", True, False, None),
            ("101", None, "101", "voice", True, False, None),
        ],
    ),
    (
        "AU",
        "000 (immediate danger) | Crime Stoppers 1800 333 000 (anonymous)",
        [
            ("000", None, "000", "voice", True, False, None),
            ("1800 333 000", "+611800333000", None, "voice", True, False, None),
        ],
    ),
    (
        "NL",
        "112 (emergency; ongoing abuse with known victim or location) | "
        "0900-8844 (non-emergency) | "
        "+31 (0)6 428 346 35 (CSAM in chat apps or social media) | "
        "Meld Misdaad Anoniem 0800-7000",
        [
            ("112", None, "112", "voice", True, False, None),
            ("0900-8844", "+319008844", None, "voice", True, False, None),
            ("+31 (0)6 428 346 35", "+31642834635", None, "cell", True, False, None),
            ("0800-7000", "+318007000", None, "voice", True, False, None),
        ],
    ),
    (
        "FR",
        "17 (emergency)",
        [
            ("17", None, "17", "voice", True, False, None),
        ],
    ),
    (
        "SE",
        "112 (ongoing crime or emergency) | 114 14 (non-emergency)",
        [
            ("112", None, "112", "voice", True, False, None),
            ("114 14", None, "114 14", "voice", True, False, None),
        ],
    ),
    (
        "NO",
        "112 (urgent) | 02800 (local police; older source)",
        [
            ("112", None, "112", "voice", True, False, None),
            ("02800", "+4702800", None, "voice", True, False, None),
        ],
    ),
    (
        "US",
        "1-877-4-HSI-TIP | 911 (emergency)",
        [
            ("1-877-4-HSI-TIP", "+18774474847", None, "voice", True, False, None),
            ("911", None, "911", "voice", True, False, None),
        ],
    ),
    (
        "US",
        "1-800-CALL-FBI",
        [
            ("1-800-CALL-FBI", "+18002255324", None, "voice", True, False, None),
        ],
    ),
    (
        "PH",
        "+632 372.7777 (Donor Care; pre-2019 Metro Manila format)",
        [
            ("+632 372.7777", None, None, "voice", False, False, "7-digit"),
        ],
    ),
]

# The numbers from the research data that fail validation: the list for the issue note.
FAILED = [
    ("PH", "(02) 1343", "looks like short code 1343 with area code 02 in front"),
    ("PH", "(022)420-6460", "does not validate as a PH number"),
    ("PH", "(02) 723-0401", OLD_METRO_MANILA),
    ("PH", "7444-28473", "is not a known SMS short code in PH"),
    ("PH", "(02) 523-8231", OLD_METRO_MANILA),
    ("PH", "(02) 524-82-16", OLD_METRO_MANILA),
    ("PH", "(63-2) 9208151", OLD_METRO_MANILA),
    ("PH", "(63-2) 4415108", OLD_METRO_MANILA),
    ("PH", "+63 2 563 4647", OLD_METRO_MANILA),
    ("PH", "+63 2 561 7118", OLD_METRO_MANILA),
    ("PH", "+63 2 563 2242", OLD_METRO_MANILA),
    ("ID", "021-129", "looks like short code 129 with area code 021 in front"),
    ("PH", "+632 372.7777", OLD_METRO_MANILA),
]


def _summary(p: ParsedPhone) -> tuple:
    return (p.number, p.e164, p.short_code, p.type, p.valid, p.sms)


@pytest.mark.parametrize(
    ("country", "raw", "expected"), PUBLISHED, ids=[f"{c}:{r[:40]}" for c, r, _ in PUBLISHED]
)
def test_published_phones(country, raw, expected):
    parsed = parse_phones(raw, country)
    assert [_summary(p) for p in parsed] == [e[:6] for e in expected]
    for p, (*_, problem) in zip(parsed, expected, strict=True):
        if problem is None:
            assert not p.needs_verification and p.problem is None
        else:
            assert p.needs_verification and problem in p.problem
            assert p.e164 is None, "a number that fails validation gets no E.164 form"
            assert tel_href(p) is None and sms_href(p) is None


@pytest.mark.parametrize(("country", "raw", "expected"), PUBLISHED)
def test_published_numbers_are_kept_as_published_and_never_gain_digits(country, raw, expected):
    for p in parse_phones(raw, country):
        assert p.number in raw
        assert p.type in PHONE_TYPES
        if p.e164:
            number = phonenumbers.parse(p.e164)
            spelled = phonenumbers.convert_alpha_characters_in_number(p.number)
            published_digits = re.sub(r"\D", "", spelled)
            national = phonenumbers.national_significant_number(number)
            assert published_digits.endswith(national)


def test_failed_list_is_complete():
    flagged = [
        (country, p.number, p.problem)
        for country, raw, _ in PUBLISHED
        for p in parse_phones(raw, country)
        if p.needs_verification
    ]
    assert [(c, n) for c, n, _ in flagged] == [(c, n) for c, n, _ in FAILED]
    for (_, _, problem), (_, _, fragment) in zip(flagged, FAILED, strict=True):
        assert fragment in problem


def test_published_number_count():
    assert sum(len(parse_phones(raw, country)) for country, raw, _ in PUBLISHED) == 111


@pytest.mark.parametrize(
    ("text", "country", "e164"),
    [
        ("0917-180-6037", "PH", "+639171806037"),
        ("(02) 8723-0401", "PH", "+63287230401"),
        ("(632) 8426-7839", "PH", "+63284267839"),
        ("09193541383", "PH", "+639193541383"),
        ("+639397624522", "PH", "+639397624522"),
        ("63 917 180 6037", "PH", "+639171806037"),
        ("1-800-422-4453", "US", "+18004224453"),
        ("1-800-4-A-CHILD", "US", "+18004224453"),
        ("1-800-CALL-FBI", "US", "+18002255324"),
        ("1-877-4-HSI-TIP", "US", "+18774474847"),
        ("1-800-668-6868", "CA", "+18006686868"),
        ("+44 203 879 8560", "PH", "+442038798560"),
        ("+31 (0)6 428 346 35", "NL", "+31642834635"),
        ("(+855) 23 224 841", "KH", "+85523224841"),
        ("02800", "NO", "+4702800"),
    ],
)
def test_known_numbers(text, country, e164):
    p = validate_number(text, country)
    assert (p.e164, p.valid, p.needs_verification, p.problem) == (e164, True, False, None)


def test_seven_digit_metro_manila_is_flagged_not_fixed():
    p = validate_number("(02) 524-82-16")
    assert (p.valid, p.needs_verification, p.e164) == (False, True, None)
    assert "7-digit" in p.problem
    assert p.number == "(02) 524-82-16"
    assert display(p) == "(02) 524-82-16"


@pytest.mark.parametrize(
    ("text", "country", "code", "emergency"),
    [
        ("163", "PH", "163", False),
        ("911", "PH", "911", True),
        ("1343", "PH", "1343", False),
        ("122", "PH", "122", False),
        ("116 111", "DE", "116 111", False),
        ("116 111", "SE", "116 111", False),
        ("988", "US", "988", False),
        ("911", "US", "911", True),
        ("1300", "TH", "1300", False),
        ("000", "AU", "000", True),
        ("112", "NL", "112", True),
        ("114 14", "SE", "114 14", False),
    ],
)
def test_short_codes(text, country, code, emergency):
    p = validate_number(text, country)
    assert (p.short_code, p.valid, p.e164, p.emergency) == (code, True, None, emergency)
    assert tel_href(p) == "tel:" + code.replace(" ", "")
    assert display(p, "PH") == code


@pytest.mark.parametrize(("text", "country"), [("116 111", "PH"), ("1234", "PH"), ("1300", "PH")])
def test_unknown_short_codes_are_flagged(text, country):
    p = validate_number(text, country)
    assert (p.valid, p.needs_verification) == (False, True)
    assert "not a known short code" in p.problem
    assert tel_href(p) is None


@pytest.mark.parametrize(
    ("region", "code"), [(r, c) for r, cs in EXTRA_SHORT_CODES.items() for c in cs]
)
def test_allow_list_only_holds_codes_phonenumbers_lacks(region, code):
    number = phonenumbers.parse(code, region)
    assert not shortnumberinfo.is_valid_short_number_for_region(number, region), (
        f"phonenumbers now knows {code} in {region}: remove it from EXTRA_SHORT_CODES"
    )


@pytest.mark.parametrize(
    "text",
    [
        "917 180 6037",  # mobile without its leading 0
        "7444-28473",  # phonenumbers alone would read this as the Baguio landline (074) 442 8473
    ],
)
def test_national_number_without_trunk_prefix_is_not_guessed(text):
    p = validate_number(text, "PH")
    assert (p.valid, p.needs_verification, p.e164) == (False, True, None)
    assert "leading 0" in p.problem


def test_labels_and_notes():
    fax, telefax = parse_phones("Fax (63-2) 4415108 | Telefax +63 2 561 7118")
    assert fax.type == "fax" and telefax.type == "voice"
    assert "telefax" in telefax.description
    (smart,) = parse_phones("Smart 0947-714-7105")
    assert (smart.number, smart.description, smart.type, smart.sms) == (
        "0947-714-7105",
        "Smart",
        "cell",
        True,
    )
    (crime,) = parse_phones("Crime Stoppers 1800 333 000 (anonymous)", "AU")
    assert crime.description == "Crime Stoppers; anonymous"
    (tty,) = parse_phones("TTY 711", "US")
    assert (tty.type, tty.short_code) == ("textphone", "711")
    (whatsapp,) = parse_phones("WhatsApp 08111-129-129", "ID")
    assert (whatsapp.type, whatsapp.sms, whatsapp.description) == ("text", False, "WhatsApp")
    assert tel_href(whatsapp) is None
    (thai,) = parse_phones("+66-99-130-1300 (international line for Thais abroad; call or text)")
    assert thai.sms and thai.type == "cell"


def test_extension_and_range():
    (p,) = parse_phones("(02) 523-8231 to 38 local 3454 to 3455")
    assert (p.number, p.extension) == ("(02) 523-8231", "3454")
    assert "range: (02) 523-8231 to 38" in p.description
    assert "local 3454 to 3455" in p.description
    (q,) = parse_phones("(02) 723-0401 local 5354 (ACG, 2021 list)")
    assert (q.number, q.extension, q.description) == ("(02) 723-0401", "5354", "ACG, 2021 list")
    valid = validate_number("(02) 8723-0401 loc. 123")
    assert tel_href(valid) == "tel:+63287230401;ext=123"
    assert display(valid) == "(02) 8723 0401 ext. 123"


def test_vanity_numbers():
    (lost,) = parse_phones("1-800-THE-LOST (1-800-843-5678)", "US")
    assert (lost.number, lost.e164, lost.description) == (
        "1-800-843-5678",
        "+18008435678",
        "1-800-THE-LOST",
    )
    (child,) = parse_phones("1-800-422-4453 (1-800-4-A-CHILD; press 1 for a counsellor)", "US")
    assert "1-800-4-A-CHILD" in child.description and not child.needs_verification
    (fbi,) = parse_phones("1-800-CALL-FBI", "US")
    assert (fbi.number, fbi.description) == ("1-800-CALL-FBI", "1-800-CALL-FBI")


def test_vanity_that_spells_another_number_is_flagged():
    (p,) = parse_phones("1-800-CALL-FBI (1-800-225-5325)", "US")
    assert p.needs_verification and "spell a different number" in p.problem
    assert tel_href(p) is None


def test_sms_instructions():
    endosec, *_ = parse_phones("Text ENDOSEC <space> message, send to 7444-28473")
    assert (endosec.sms, endosec.sms_body, endosec.type) == (True, "ENDOSEC <message>", "text")
    assert endosec.needs_verification and sms_href(endosec) is None
    dswd, mobile = parse_phones(
        "Text DSWD <space> blockchildporn <space> URL, send to 2327 | "
        "Text blockchildporn <space> URL, send to 0918-9122813"
    )
    assert (dswd.short_code, dswd.sms_body) == ("2327", "DSWD blockchildporn <URL>")
    assert sms_href(dswd) == "sms:2327?body=DSWD%20blockchildporn%20"
    assert sms_href(mobile) == "sms:+639189122813?body=blockchildporn%20"
    assert tel_href(mobile) is None, "published as a text-only line"
    (kids,) = parse_phones("Text HELP to 686868", "CA")
    assert sms_href(kids) == "sms:686868?body=HELP"


def test_links_and_display():
    mobile = validate_number("0917-180-6037")
    assert tel_href(mobile) == "tel:+639171806037"
    assert sms_href(mobile) == "sms:+639171806037"
    assert display(mobile) == "0917 180 6037"
    assert display(mobile, "US") == "+63 917 180 6037"
    landline = validate_number("(02) 8723-0401")
    assert display(landline) == "(02) 8723 0401"
    assert sms_href(landline) is None
    us = validate_number("1-800-422-4453", "US")
    assert display(us, "US") == "(800) 422-4453"
    assert display(us, "PH") == "+1 800-422-4453"
    canada = validate_number("1-800-668-6868", "CA")
    assert (canada.country, display(canada, "CA")) == ("CA", "(800) 668-6868")
    fax = parse_phones("Fax (02) 8723-0401")[0]
    assert tel_href(fax) is None and display(fax) == "(02) 8723 0401"


@pytest.mark.parametrize(
    ("raw", "numbers"),
    [
        ("0917 180 6037, 0918 912 2813", ["0917 180 6037", "0918 912 2813"]),
        ("0917-180-6037 / 0918-912-2813", ["0917-180-6037", "0918-912-2813"]),
        ("0917-180-6037 or 0918-912-2813", ["0917-180-6037", "0918-912-2813"]),
        ("0917-180-6037; (02) 8723-0401", ["0917-180-6037", "(02) 8723-0401"]),
        ("0917-180-6037\n(02) 8723-0401", ["0917-180-6037", "(02) 8723-0401"]),
        ("Region 7 office 0917 180 6037", ["0917 180 6037"]),
    ],
)
def test_separators(raw, numbers):
    assert [p.number for p in parse_phones(raw)] == numbers


def test_require_valid():
    assert require_valid("0917 180 6037", "PH").e164 == "+639171806037"
    with pytest.raises(PhoneError, match="7-digit Metro Manila"):
        require_valid("(02) 524-82-16", "PH")
    with pytest.raises(PhoneError, match="no phone number"):
        require_valid("", "PH")
    with pytest.raises(PhoneError):
        require_valid("0917-180-6037", "XX")


EDGE_CASES = [
    "",
    "   ",
    "\x00",
    "0917\x00180 6037",
    "\x00" * 100,
    "garbage",
    "see website",
    "📞",
    "📞 0917 180 6037 ☎️",
    "０９１７ １８０ ６０３７",
    "a" * 5000,
    "1" * 5000,
    "0917 180 6037 " * 350,
    "|" * 5000,
    "(" * 5000,
    ")" * 5000,
    "1-" * 2500,
    "Text " * 1000,
    "+",
    "-",
    "()",
    "(02",
    "<space>",
    "Text , send to",
    "send to 2327",
    "local 123",
    "to 38",
    "Fax",
    "+63",
    "1-800-",
    "1-800-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA",
]


@pytest.mark.parametrize("raw", EDGE_CASES, ids=range(len(EDGE_CASES)))
@pytest.mark.parametrize("country", ["PH", "US", "", "XX", "ph"])
def test_hostile_input_never_raises(raw, country):
    for p in [*parse_phones(raw, country), validate_number(raw, country)]:
        assert p.type in PHONE_TYPES
        display(p, country)
        tel_href(p)
        sms_href(p)
        if p.e164 is None and p.short_code is None:
            assert tel_href(p) is None


def test_empty_input():
    assert parse_phones("") == []
    assert parse_phones("   ") == []
    assert parse_phones(None) == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["PH", "US", "DE", ""]))
def test_random_text_never_raises(raw, country):
    for p in parse_phones(raw, country):
        assert p.type in PHONE_TYPES
        display(p)
        tel_href(p)
        sms_href(p)
    validate_number(raw, country)
