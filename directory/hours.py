"""Opening hours: published text to HSDS schedule rows, and "open now" in the service's timezone.

Only what the text says for certain becomes a schedule; everything else is kept as a note, so
nothing published is lost and nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY = 1440
WEEK = 7 * DAY

_DAY_WORD = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?|lunes|martes|miyerk[ou]les|huwebes|biyernes|sabado|linggo)s?\b\.?"
)
_DAY_ITEM = rf"{_DAY_WORD}(?:\s*(?:-|–|—|to|through|thru|hanggang)\s*{_DAY_WORD})?"
_EVERY_DAY = r"daily|every\s*day|everyday|(?:7|seven)\s+days(?:\s+a\s+week)?|all\s+week|araw-araw"
DAYS_RE = re.compile(
    rf"\b(?:{_EVERY_DAY}|weekdays|weekends?|{_DAY_ITEM}(?:\s*(?:,|&|/|\band\b)\s*{_DAY_ITEM})*)",
    re.I,
)
_TIME = (
    r"(?:12\s*(?:noon|nn|mn|midnight)\b|noon|midday|midnight"
    r"|\d{1,2}(?:[:.]\d{2})?(?:\s*[ap]\.?\s?m\b\.?)?)"
)
RANGE_RE = re.compile(
    rf"(?<![\d:.])({_TIME})\s*(?:-|–|—|to|until|till|hanggang)\s*({_TIME})(?![\d:])", re.I
)
MODIFIER_RE = re.compile(
    rf"^(?P<days>{DAYS_RE.pattern})\s+(?P<edge>until|till|to|from)\s+(?P<time>{_TIME})$", re.I
)
TWENTY_FOUR_RE = re.compile(
    r"\b24\s*/\s*7(?:\s*/\s*365)?\b"
    r"|(?<!within )(?<!in )\b24[-\s]?(?:hours?|hrs?|oras)\b"
    r"(?:\s*,?\s*(?:a\s+day\s*,?\s*)?(?:every\s*day|daily|365\s+days(?:\s+a\s+year)?"
    r"|7\s+days(?:\s+a\s+week)?|all\s+year))?"
    r"|\bround[-\s]the[-\s]clock\b|\bany\s*time\b|\balways\s+open\b",
    re.I,
)
NOON_BREAK_RE = re.compile(r"\bno\s+(?:noon|lunch)\s+break\b", re.I)
SEGMENT_RE = re.compile(r";|\||\n|\r")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
VOICE_WORDS = {"phone", "phones", "call", "calls", "hotline", "helpline", "line", "lines"}
OTHER_CHANNELS = {
    "email", "e", "mail", "online", "form", "forms", "chat", "sms", "text", "texts", "web",
    "website", "whatsapp", "messenger", "app", "and", "or",
}  # fmt: skip


@dataclass
class HoursInfo:
    """What a published hours text says: 24/7, weekly schedules, and the rest as a note."""

    twenty_four_seven: bool = False
    schedules: list[dict] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class OpenStatus:
    """Whether a service is open at a moment, in words a hotline worker can read at a glance."""

    state: str  # "open" | "closed" | "unknown"
    closes_at: str | None = None
    opens_at: str | None = None
    label: str = "Hours not known"


def parse_hours(raw: str) -> HoursInfo:
    """Read a published hours text into HoursInfo; never raises, never guesses."""
    text = re.sub(r"\s+", " ", CONTROL_RE.sub(" ", str(raw or ""))).strip()
    info = HoursInfo()
    notes: list[str] = []
    for segment in _split_top_level(text):
        _parse_segment(segment, info, notes)
    info.note = "; ".join(notes) or None
    return info


def weekly_minutes(schedules: list[dict]) -> list[tuple[int, int]]:
    """Weekly open intervals as (start, end) minutes since Monday 00:00 local, merged and sorted."""
    spans = []
    for schedule in schedules or []:
        try:
            if str(schedule.get("freq") or "").upper() != "WEEKLY":
                continue
            days = [DAY_CODES.index(d.strip().upper()) for d in str(schedule["byday"]).split(",")]
            opens = _clock(schedule.get("opens_at"))
            closes = _clock(schedule.get("closes_at"), closing=True)
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
        if opens is None or closes is None or opens == closes or opens >= DAY:
            continue
        if closes < opens:
            closes += DAY  # past midnight: spills into the next day
        for day in days:
            start, end = day * DAY + opens, day * DAY + closes
            if end > WEEK:
                spans += [(start, WEEK), (0, end - WEEK)]
            else:
                spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def status_at(
    schedules: list[dict],
    twenty_four_seven: bool,
    when: datetime,
    timezone: str = "Asia/Manila",
) -> OpenStatus:
    """Open, closed or unknown at `when` (aware; naive is read as local time in `timezone`)."""
    if twenty_four_seven:
        return OpenStatus("open", label="Open 24 hours")
    intervals = weekly_minutes(schedules)
    if not intervals:
        return OpenStatus("unknown", label="Hours not known")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return OpenStatus("unknown", label="Hours not known (unknown timezone)")
    local = when.astimezone(zone) if when.tzinfo else when.replace(tzinfo=zone)
    now = local.weekday() * DAY + local.hour * 60 + local.minute
    if intervals == [(0, WEEK)]:
        return OpenStatus("open", label="Open 24 hours")

    for start, end in intervals:
        if start <= now < end:
            if end == WEEK and intervals[0][0] == 0:
                end = WEEK + intervals[0][1]  # runs on past Sunday midnight
            day, clock = _moment(end, closing=True)
            if day == now // DAY:
                words = "midnight" if clock == "24:00" else clock
                label = f"Open now · closes at {words}"
            else:
                label = f"Open now · closes {DAY_NAMES[day % 7]} {clock}"
            return OpenStatus("open", closes_at=clock, label=label)

    upcoming = [start for start, _ in intervals if start > now]
    start = upcoming[0] if upcoming else intervals[0][0] + WEEK
    day, clock = _moment(start)
    opens_at = f"{DAY_NAMES[day % 7]} {clock}"
    return OpenStatus("closed", opens_at=opens_at, label=f"Closed · opens {opens_at}")


# --- parsing -------------------------------------------------------------------------------


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and SEGMENT_RE.match(ch):
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _brackets(text: str) -> tuple[list[str], str]:
    """Top-level bracketed asides, and the text without them."""
    asides, rest, depth, start, kept = [], [], 0, 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                rest.append(text[kept:start])
                asides.append(text[start + 1 : i].strip())
                kept = i + 1
    rest.append(text[kept:])
    return [a for a in asides if a], re.sub(r"\s+", " ", "".join(rest)).strip()


def _days(text: str) -> list[int]:
    """Day indexes (0 = Monday) named by a DAYS_RE match."""
    lowered = text.lower()
    if re.search(_EVERY_DAY, lowered):
        return list(range(7))
    if "weekday" in lowered:
        return list(range(5))
    if "weekend" in lowered:
        return [5, 6]
    if lowered.strip(" .") == "linggo":
        return []  # alone, Filipino "linggo" is as likely "week" as "Sunday"
    days: list[int] = []
    for item in re.finditer(_DAY_ITEM, lowered):
        ends = [_day_index(w.group()) for w in re.finditer(_DAY_WORD, item.group())]
        ends = [d for d in ends if d is not None]
        if len(ends) == 2:
            first, last = ends
            span = [(first + k) % 7 for k in range((last - first) % 7 + 1)]
        else:
            span = ends[:1]
        days += [d for d in span if d not in days]
    return sorted(days)


def _day_index(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for prefix, index in (
        ("mon", 0), ("tue", 1), ("wed", 2), ("thu", 3), ("fri", 4), ("sat", 5), ("sun", 6),
        ("lunes", 0), ("martes", 1), ("miyerk", 2), ("huwebes", 3), ("biyernes", 4),
        ("sabado", 5), ("linggo", 6),
    ):  # fmt: skip
        if word.startswith(prefix):
            return index
    return None


def _time(text: str) -> tuple[int, str | None, bool] | None:
    """(minutes, am/pm, has minutes) for a time as written, or None."""
    t = text.strip().lower().replace(" ", "")
    if t in ("noon", "midday", "12noon", "12nn"):
        return 12 * 60, "pm", True
    if t in ("midnight", "12midnight", "12mn"):
        return 0, "am", True
    m = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?(?:([ap])\.?m\.?)?", t)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    meridiem = m.group(3) and m.group(3) + "m"
    if minute > 59 or (meridiem and not 1 <= hour <= 12) or hour > 24:
        return None
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour == 24 and minute:
        return None
    return hour * 60 + minute, meridiem, m.group(2) is not None


def _range(first: str, second: str) -> tuple[int, int] | None:
    """Opening and closing minutes for a written range, or None when it is ambiguous."""
    a, b = _time(first), _time(second)
    if a is None or b is None:
        return None
    (opens, a_mer, a_min), (closes, b_mer, b_min) = a, b
    if not (a_mer or a_min) or not (b_mer or b_min):
        return None  # "8-5": no minutes and no am/pm, so not certain
    if bool(a_mer) != bool(b_mer) and (a_mer or b_mer):
        bare, marked = (opens, b_mer) if not a_mer else (closes, a_mer)
        if bare >= 13 * 60:
            pass  # already a 24-hour clock time
        else:
            # "8:00-5:00 PM": the bare side takes whichever half of the day keeps open < close.
            same = bare % (12 * 60) + (12 * 60 if marked == "pm" else 0)
            other = bare % (12 * 60) + (0 if marked == "pm" else 12 * 60)
            if not a_mer:
                opens = same if same < closes else other
            else:
                closes = same if same > opens else other
    if opens >= DAY:
        return None
    if closes == 0:
        closes = DAY  # "22:00-00:00" and "to midnight" close at the end of the day
    if not a_mer and not b_mer and closes < opens and max(opens, closes) < 13 * 60:
        return None  # "9:00-5:00" on a 12-hour clock, not a night shift
    if closes == opens:
        return None
    return opens, closes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clock(value: object, closing: bool = False) -> int | None:
    m = re.match(r"^\s*(\d{1,2}):(\d{2})", str(value or ""))
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not closing)):
        return None
    return hour * 60 + minute


def _moment(minute_of_week: int, closing: bool = False) -> tuple[int, str]:
    """(day index, HH:MM) of a minute of the week; a closing on a day boundary reads 24:00."""
    if closing and minute_of_week % DAY == 0:
        return minute_of_week // DAY - 1, "24:00"
    return minute_of_week // DAY, _hhmm(minute_of_week % DAY)


def _is_other_channel(label: str) -> bool:
    """True when a label names only non-voice channels ('email and online form')."""
    words = set(re.findall(r"[a-z]+", label.lower()))
    return bool(words) and not words & VOICE_WORDS and words <= OTHER_CHANNELS


def _parse_segment(segment: str, info: HoursInfo, notes: list[str]) -> None:
    asides, body = _brackets(segment)

    twenty_four = TWENTY_FOUR_RE.search(body)
    if twenty_four:
        label = body[: twenty_four.start()].strip(" ,:-")
        if _is_other_channel(label):
            notes.append(segment)
            return
        info.twenty_four_seven = True
        if label:
            notes.append(segment)
        else:
            after = body[twenty_four.end() :].strip(" ,:-")
            notes += [after] if after else []
            notes += [f"({a})" for a in asides]
        return

    tokens = sorted(
        [("days", m) for m in DAYS_RE.finditer(body)]
        + [("range", m) for m in RANGE_RE.finditer(body)],
        key=lambda t: t[1].start(),
    )
    if not any(_range(m.group(1), m.group(2)) for kind, m in tokens if kind == "range"):
        notes.append(segment)
        return

    built: list[dict] = []
    pending: list[int] | None = None
    last_days: list[int] | None = None
    position = 0
    used: set[int] = set()
    leftover_from: int | None = None
    for i, (kind, m) in enumerate(tokens):
        if m.start() < position or i in used:
            continue
        if kind == "days":
            pending = _days(m.group())
            leftover_from = m.start()
            position = m.end()
            continue
        hours = _range(m.group(1), m.group(2))
        if hours is None:
            leftover_from = leftover_from if pending is not None else m.start()
            position = m.end()
            continue
        days = pending
        if days is None and i + 1 < len(tokens) and tokens[i + 1][0] == "days":
            between = body[m.end() : tokens[i + 1][1].start()]
            if not between.strip(" ,"):
                days = _days(tokens[i + 1][1].group())
                used.add(i + 1)
                position = tokens[i + 1][1].end()
        if days is None:
            days = last_days
        built.append({"days": days, "opens": hours[0], "closes": hours[1], "notes": []})
        last_days, pending, leftover_from = days, None, None
        position = max(position, m.end())

    trailing = body[position:].strip(" ,.-")
    if leftover_from is not None:
        notes.append(body[leftover_from:].strip(" ,"))
    elif trailing:
        built[-1]["notes"].append(trailing)

    for aside in asides:
        if NOON_BREAK_RE.fullmatch(aside.strip(" .")):
            built[-1]["notes"].append(aside)
        elif not _apply_modifier(aside, built):
            notes.append(f"({aside})")

    for item in built:
        info.schedules.append(_schedule_row(item, segment))


def _apply_modifier(aside: str, built: list[dict]) -> bool:
    """Apply '(Saturdays until 23:45)' to the range it qualifies; False if it does not fit."""
    m = MODIFIER_RE.match(aside.strip())
    if not m:
        return False
    days = _days(m.group("days"))
    moment = _time(m.group("time"))
    if not days or moment is None or not (moment[1] or moment[2]):
        return False
    minutes = moment[0]
    targets = [b for b in built if b["days"] and set(days) <= set(b["days"])]
    if len(targets) != 1:
        return False
    target = targets[0]
    changed = dict(target, days=days, notes=list(target["notes"]))
    if m.group("edge").lower() == "from":
        changed["opens"] = minutes
    else:
        changed["closes"] = minutes or DAY
    if changed["opens"] == changed["closes"] or changed["opens"] >= DAY:
        return False
    target["days"] = [d for d in target["days"] if d not in days]
    built.append(changed)
    if not target["days"]:
        built.remove(target)
    return True


def _schedule_row(item: dict, description: str) -> dict:
    days = item["days"]
    notes = list(item["notes"])
    if not days:
        notes.append("days not stated")
    return {
        "freq": "WEEKLY" if days else None,
        "byday": ",".join(DAY_CODES[d] for d in sorted(days)) if days else None,
        "opens_at": _hhmm(item["opens"]),
        "closes_at": _hhmm(item["closes"]),
        "description": description,
        "notes": "; ".join(notes) or None,
    }
