"""Opening hours: every hours value in the shipped research data, open-now, hostile input."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from directory.hours import HoursInfo, OpenStatus, parse_hours, status_at, weekly_minutes

MANILA = ZoneInfo("Asia/Manila")
# 2026-06-01 is a Monday.
MON, TUE, WED, FRI, SAT, SUN = 1, 2, 3, 5, 6, 7

# Every distinct hours value of ph-services.csv, ph-services-more.csv and
# international-services.csv, copied here so the tests do not depend on shared/.
# (raw, twenty_four_seven, [(byday, opens_at, closes_at), ...], note)
HOURS = [
    ("24/7", True, [], None),
    ("24/7 (helpline)", True, [], "(helpline)"),
    ("24/7 incl. holidays; toll-free", True, [], "incl. holidays; toll-free"),
    ("24/7; free", True, [], "free"),
    ("Mon-Sun 8:00 AM-4:00 PM", False, [("MO,TU,WE,TH,FR,SA,SU", "08:00", "16:00")], None),
    ("24/7 residential", True, [], "residential"),
    (
        "Mon-Fri 8:00 AM-5:00 PM, no noon break (2019 Citizen's Charter)",
        False,
        [("MO,TU,WE,TH,FR", "08:00", "17:00")],
        "(2019 Citizen's Charter)",
    ),
    (
        "Street sessions Tue-Sat 4:00 PM-9:00 PM",
        False,
        [("TU,WE,TH,FR,SA", "16:00", "21:00")],
        None,
    ),
    (
        "Mon-Fri 8:00 AM-5:00 PM (no noon break)",
        False,
        [("MO,TU,WE,TH,FR", "08:00", "17:00")],
        None,
    ),
    (
        "WCPU specialists 8:00 AM-5:00 PM; after hours cases are handled by social workers on duty",
        False,
        [(None, "08:00", "17:00")],
        "after hours cases are handled by social workers on duty",
    ),
    ("Mon-Fri 8:00 AM-5:00 PM, no noon break", False, [("MO,TU,WE,TH,FR", "08:00", "17:00")], None),
    ("24-hour", True, [], None),
    (
        "phone Mon-Fri 8am-10pm, weekends 9am-6pm; email and online form 24 hours",
        False,
        [("MO,TU,WE,TH,FR", "08:00", "22:00"), ("SA,SU", "09:00", "18:00")],
        "email and online form 24 hours",
    ),
    (
        "Mon-Sat 14:00-20:00 (a 2020 federal ministry video also lists Mon, Wed, Thu 10:00-12:00)",
        False,
        [("MO,TU,WE,TH,FR,SA", "14:00", "20:00")],
        "(a 2020 federal ministry video also lists Mon, Wed, Thu 10:00-12:00)",
    ),
    ("24/7 (since 15 March 2021)", True, [], "(since 15 March 2021)"),
    (
        "phone and email 24/7; chat and SMS 16:15-22:45 daily (Saturdays until 23:45)",
        True,
        [("MO,TU,WE,TH,FR,SU", "16:15", "22:45"), ("SA", "16:15", "23:45")],
        "phone and email 24/7",
    ),
    ("every day 11:00-21:00 (2019)", False, [("MO,TU,WE,TH,FR,SA,SU", "11:00", "21:00")], "(2019)"),
    (
        "every day 16:00-22:00; Wednesdays and Saturdays from 14:00 (2021)",
        False,
        [("MO,TU,WE,TH,FR,SA,SU", "16:00", "22:00")],
        "Wednesdays and Saturdays from 14:00 (2021)",
    ),
    (
        "7 days a week, 10:00-24:00 (2014 source)",
        False,
        [("MO,TU,WE,TH,FR,SA,SU", "10:00", "24:00")],
        "(2014 source)",
    ),
    ("Mon-Sat 9:00-20:00 (2021)", False, [("MO,TU,WE,TH,FR,SA", "09:00", "20:00")], "(2021)"),
    ("24 hours, 365 days", True, [], None),
    ("24 hours", True, [], None),
    ("any time", True, [], None),
    ("24 hours, every day", True, [], None),
    ("24/7/365", True, [], None),
    ("24/7 call centre", True, [], "call centre"),
    (
        "24/7 (about 50 police officers and gendarmes since Jan 2021)",
        True,
        [],
        "(about 50 police officers and gendarmes since Jan 2021)",
    ),
    ("police phone lines 24/7", True, [], "police phone lines 24/7"),
    ("tip desk staffed 24/7", True, [], "tip desk staffed 24/7"),
    ("24/7 (older source)", True, [], "(older source)"),
]

SCHEDULE_KEYS = {"freq", "byday", "opens_at", "closes_at", "description", "notes"}


def at(day: int, hour: int, minute: int = 0, zone=MANILA) -> datetime:
    """A moment in the week of Monday 2026-06-01."""
    return datetime(2026, 6, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(("raw", "twenty_four_seven", "schedules", "note"), HOURS)
def test_published_hours(raw, twenty_four_seven, schedules, note):
    info = parse_hours(raw)
    assert info.twenty_four_seven is twenty_four_seven
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in info.schedules] == schedules
    assert info.note == note


@pytest.mark.parametrize(("raw", "twenty_four_seven", "schedules", "note"), HOURS)
def test_schedules_fit_the_schedule_table_and_quote_their_source(
    raw, twenty_four_seven, schedules, note
):
    for s in parse_hours(raw).schedules:
        assert set(s) == SCHEDULE_KEYS
        assert s["description"] in raw
        assert s["freq"] in ("WEEKLY", None)
        assert (s["freq"] is None) == (s["byday"] is None)


def test_schedule_notes():
    (charter,) = parse_hours(
        "Mon-Fri 8:00 AM-5:00 PM, no noon break (2019 Citizen's Charter)"
    ).schedules
    assert charter["notes"] == "no noon break"
    (wcpu,) = parse_hours("WCPU specialists 8:00 AM-5:00 PM; after hours ...").schedules
    assert (wcpu["freq"], wcpu["byday"], wcpu["notes"]) == (None, None, "days not stated")


@pytest.mark.parametrize(
    ("raw", "schedules"),
    [
        ("Mon-Fri 8:00-5:00 PM", [("MO,TU,WE,TH,FR", "08:00", "17:00")]),
        ("Mon-Fri 1:00-5:00 PM", [("MO,TU,WE,TH,FR", "13:00", "17:00")]),
        ("Mon-Fri 22:00-02:00", [("MO,TU,WE,TH,FR", "22:00", "02:00")]),
        ("Sat 10pm-midnight", [("SA", "22:00", "24:00")]),
        ("Mon-Fri 8:00 AM-12NN", [("MO,TU,WE,TH,FR", "08:00", "12:00")]),
        ("Sat 9am-12 noon", [("SA", "09:00", "12:00")]),
        ("Fri-Mon 10:00-12:00", [("MO,FR,SA,SU", "10:00", "12:00")]),
        ("Mon, Wed, Thu 10:00-12:00", [("MO,WE,TH", "10:00", "12:00")]),
        ("Monday to Friday, 8:00 to 17:00", [("MO,TU,WE,TH,FR", "08:00", "17:00")]),
        ("weekdays 9.00-17.00", [("MO,TU,WE,TH,FR", "09:00", "17:00")]),
        ("08:00-17:00 Mon-Fri", [("MO,TU,WE,TH,FR", "08:00", "17:00")]),
        ("Lunes-Biyernes 8:00 AM - 5:00 PM", [("MO,TU,WE,TH,FR", "08:00", "17:00")]),
        ("Lunes-Linggo 8:00 AM - 5:00 PM", [("MO,TU,WE,TH,FR,SA,SU", "08:00", "17:00")]),
        ("8:00 AM - 5:00 PM bawat linggo", [(None, "08:00", "17:00")]),
        (
            "Mon-Fri 8:00-12:00 and 13:00-17:00",
            [("MO,TU,WE,TH,FR", "08:00", "12:00"), ("MO,TU,WE,TH,FR", "13:00", "17:00")],
        ),
        (
            "daily 9am-5pm (Sundays from 10am)",
            [("MO,TU,WE,TH,FR,SA", "09:00", "17:00"), ("SU", "10:00", "17:00")],
        ),
    ],
)
def test_more_formats(raw, schedules):
    info = parse_hours(raw)
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in info.schedules] == schedules


@pytest.mark.parametrize(
    "raw",
    [
        "Mon-Fri 9:00-5:00",  # a 12-hour clock without am/pm: not a night shift
        "8-5",
        "Mon-Fri",
        "closed",
        "By appointment",
        "we reply within 24 hours",
        "24:00-08:00",
        "Mon 25:00-26:00",
        "Wednesdays and Saturdays from 14:00",
    ],
)
def test_uncertain_text_becomes_a_note(raw):
    assert parse_hours(raw) == HoursInfo(twenty_four_seven=False, schedules=[], note=raw)


def test_modifier_that_does_not_fit_stays_a_note():
    info = parse_hours("Mon-Fri 8:00 AM-5:00 PM (Saturdays until 12:00)")
    assert [s["byday"] for s in info.schedules] == ["MO,TU,WE,TH,FR"]
    assert info.note == "(Saturdays until 12:00)"


EDGE_CASES = [
    "",
    "   ",
    "\x00",
    "\x00" * 50,
    "Mon-Fri\x00 8:00-17:00",
    "garbage",
    "😀",
    "😀 24/7 😀",
    "a" * 5000,
    "Mon-" * 1250,
    "1" * 5000,
    "8:00-" * 1000,
    "(" * 5000,
    ")" * 5000,
    "Mon, " * 1000,
    "24/7 " * 1000,
    "mon-fri 8:00-17:00 " * 250,
    "Monday and " * 500,
    ";" * 5000,
]


@pytest.mark.parametrize("raw", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_hostile_input_never_raises(raw):
    info = parse_hours(raw)
    assert isinstance(info, HoursInfo)
    weekly_minutes(info.schedules)
    status_at(info.schedules, info.twenty_four_seven, at(MON, 9))


def test_empty_means_nothing_known():
    assert parse_hours("") == HoursInfo(twenty_four_seven=False, schedules=[], note=None)
    assert parse_hours(None) == HoursInfo(twenty_four_seven=False, schedules=[], note=None)


def test_nul_bytes_are_dropped():
    info = parse_hours("Mon-Fri\x00 8:00-17:00")
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in info.schedules] == [
        ("MO,TU,WE,TH,FR", "08:00", "17:00")
    ]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_raises(raw):
    info = parse_hours(raw)
    weekly_minutes(info.schedules)
    status_at(info.schedules, info.twenty_four_seven, at(TUE, 12))


# --- weekly_minutes -------------------------------------------------------------------------

OFFICE = parse_hours("Mon-Fri 8:00 AM-5:00 PM").schedules
NIGHTS = parse_hours("Mon-Fri 22:00-02:00").schedules
SUNDAY_NIGHT = parse_hours("Sun 22:00-02:00").schedules
TO_MIDNIGHT = parse_hours("7 days a week, 10:00-24:00").schedules


def test_weekly_minutes():
    assert weekly_minutes(OFFICE) == [(d * 1440 + 480, d * 1440 + 1020) for d in range(5)]
    assert weekly_minutes(NIGHTS) == [(d * 1440 + 1320, d * 1440 + 1560) for d in range(5)]
    assert weekly_minutes(SUNDAY_NIGHT) == [(0, 120), (6 * 1440 + 1320, 7 * 1440)]
    assert weekly_minutes(TO_MIDNIGHT)[-1] == (6 * 1440 + 600, 7 * 1440)


def test_weekly_minutes_merges_and_skips_bad_rows():
    rows = [
        {"freq": "WEEKLY", "byday": "MO", "opens_at": "08:00", "closes_at": "12:00"},
        {"freq": "WEEKLY", "byday": "MO", "opens_at": "12:00", "closes_at": "17:00"},
        {"freq": "WEEKLY", "byday": "XX", "opens_at": "08:00", "closes_at": "17:00"},
        {"freq": "WEEKLY", "byday": None, "opens_at": "08:00", "closes_at": "17:00"},
        {"freq": "WEEKLY", "byday": "TU", "opens_at": "8am", "closes_at": "17:00"},
        {"freq": "WEEKLY", "byday": "WE", "opens_at": "24:00", "closes_at": "17:00"},
        {"freq": "MONTHLY", "byday": "1TH", "opens_at": "08:00", "closes_at": "17:00"},
        {"freq": None, "byday": None, "opens_at": "08:00", "closes_at": "17:00"},
        {},
        None,
    ]
    assert weekly_minutes(rows) == [(480, 1020)]
    assert weekly_minutes([]) == []


# --- status_at ------------------------------------------------------------------------------


def test_twenty_four_seven_is_always_open():
    assert status_at([], True, at(SUN, 3)) == OpenStatus("open", label="Open 24 hours")


def test_no_schedule_is_unknown():
    assert status_at([], False, at(MON, 9)).state == "unknown"
    assert status_at([], False, at(MON, 9)).label == "Hours not known"
    wcpu = parse_hours("WCPU specialists 8:00 AM-5:00 PM").schedules
    assert status_at(wcpu, False, at(MON, 9)).state == "unknown"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(MON, 9), OpenStatus("open", closes_at="17:00", label="Open now · closes at 17:00")),
        (at(MON, 8), OpenStatus("open", closes_at="17:00", label="Open now · closes at 17:00")),
        (
            at(MON, 7, 59),
            OpenStatus("closed", opens_at="Mon 08:00", label="Closed · opens Mon 08:00"),
        ),
        (at(MON, 17), OpenStatus("closed", opens_at="Tue 08:00", label="Closed · opens Tue 08:00")),
        (at(FRI, 18), OpenStatus("closed", opens_at="Mon 08:00", label="Closed · opens Mon 08:00")),
        (at(SAT, 10), OpenStatus("closed", opens_at="Mon 08:00", label="Closed · opens Mon 08:00")),
        (at(SUN, 10), OpenStatus("closed", opens_at="Mon 08:00", label="Closed · opens Mon 08:00")),
    ],
)
def test_office_hours(when, expected):
    assert status_at(OFFICE, False, when) == expected


def test_converts_from_utc():
    # Sunday 23:30 UTC is Monday 07:30 in Manila; Monday 00:30 UTC is 08:30 there.
    assert status_at(OFFICE, False, datetime(2026, 6, 7, 23, 30, tzinfo=UTC)).state == "closed"
    assert status_at(OFFICE, False, datetime(2026, 6, 8, 0, 30, tzinfo=UTC)).state == "open"
    # Friday 09:30 UTC is 17:30 in Manila: closed there, though 09:30 looks like office hours.
    friday = datetime(2026, 6, 5, 9, 30, tzinfo=UTC)
    assert status_at(OFFICE, False, friday).label == "Closed · opens Mon 08:00"


def test_other_timezone_with_summer_time():
    berlin = parse_hours("Mon-Sat 14:00-20:00").schedules
    # 12:30 UTC in June is 14:30 in Berlin (UTC+2), but 20:30 in Manila.
    monday = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    assert status_at(berlin, False, monday, "Europe/Berlin").label == "Open now · closes at 20:00"
    assert status_at(berlin, False, monday).state == "closed"


def test_naive_time_is_read_as_local():
    assert status_at(OFFICE, False, datetime(2026, 6, 1, 9, 0)).state == "open"


def test_unknown_timezone_is_unknown():
    assert status_at(OFFICE, False, at(MON, 9), "Mars/Olympus").state == "unknown"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (at(MON, 23), OpenStatus("open", closes_at="02:00", label="Open now · closes Tue 02:00")),
        (at(TUE, 1), OpenStatus("open", closes_at="02:00", label="Open now · closes at 02:00")),
        (at(SAT, 1, 59), OpenStatus("open", closes_at="02:00", label="Open now · closes at 02:00")),
        (
            at(SAT, 2),
            OpenStatus("closed", opens_at="Mon 22:00", label="Closed · opens Mon 22:00"),
        ),
        (
            at(MON, 21),
            OpenStatus("closed", opens_at="Mon 22:00", label="Closed · opens Mon 22:00"),
        ),
    ],
)
def test_past_midnight(when, expected):
    assert status_at(NIGHTS, False, when) == expected


def test_past_midnight_on_sunday_wraps_into_monday():
    late_sunday = status_at(SUNDAY_NIGHT, False, at(SUN, 23))
    assert late_sunday == OpenStatus("open", closes_at="02:00", label="Open now · closes Mon 02:00")
    early_monday = datetime(2026, 6, 8, 1, 0, tzinfo=MANILA)
    assert status_at(SUNDAY_NIGHT, False, early_monday).closes_at == "02:00"


def test_closing_at_24_00():
    assert status_at(TO_MIDNIGHT, False, at(SUN, 23)) == OpenStatus(
        "open", closes_at="24:00", label="Open now · closes at midnight"
    )
    monday = datetime(2026, 6, 8, 0, 0, tzinfo=MANILA)
    assert status_at(TO_MIDNIGHT, False, monday).label == "Closed · opens Mon 10:00"


def test_a_schedule_covering_the_whole_week_is_open_24_hours():
    rows = [
        {
            "freq": "WEEKLY",
            "byday": "MO,TU,WE,TH,FR,SA,SU",
            "opens_at": "00:00",
            "closes_at": "24:00",
        }
    ]
    assert status_at(rows, False, at(WED, 4)).label == "Open 24 hours"
