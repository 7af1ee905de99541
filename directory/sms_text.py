"""SMS-ready text: at most 160 GSM-7 characters (one SMS), transliterated when needed."""

import unicodedata

# GSM 03.38 default alphabet (one septet each) and its extension table (two septets each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
SMS_LIMIT = 160
ELLIPSIS = "..."

# Common characters outside GSM-7, mapped to the nearest plain ones.
_REPLACEMENTS = {
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u00b7": "-", "\u2022": "-", "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u00d7": "x", "\u2192": "->", "\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "TM",
    "\u00ba": "o", "\u00aa": "a", "\t": " ",
}  # fmt: skip


def gsm7_length(text: str) -> int | None:
    """Septets the text takes in GSM-7, or None if a character is outside the alphabet."""
    total = 0
    for char in text:
        if char in GSM7_BASIC:
            total += 1
        elif char in GSM7_EXTENSION:
            total += 2
        else:
            return None
    return total


def to_gsm7(text: str) -> str:
    """The text with every character outside GSM-7 replaced by a close plain equivalent."""
    out = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
            continue
        if char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if plain and all(c in GSM7_BASIC for c in plain):
            out.append(plain)
        elif unicodedata.category(char).startswith("Z"):
            out.append(" ")
        else:
            out.append("?")
    return " ".join("".join(out).split())


def _fit(text: str, budget: int) -> str:
    """Cut text (already GSM-7) to at most `budget` septets, marking the cut with '...'."""
    if (gsm7_length(text) or 0) <= budget:
        return text
    if budget < len(ELLIPSIS) + 1:
        return ""
    kept = ""
    for char in text:
        if gsm7_length(kept + char + ELLIPSIS) > budget:
            break
        kept += char
    return kept.rstrip(" ,;:-") + ELLIPSIS


def compose(name: str, numbers: list[str], hours: str | None, limit: int = SMS_LIMIT) -> str:
    """'Name: number(s) (hours)' in GSM-7 within `limit` septets; numbers are never cut."""
    name = to_gsm7(name or "")
    hours = to_gsm7(hours or "")
    shown: list[str] = []
    for number in (to_gsm7(n) for n in numbers if n):
        candidate = ", ".join([*shown, number])
        if shown and gsm7_length(f"{name[:20]}: {candidate}") > limit:
            break
        if number not in shown:
            shown.append(number)
    contact = ", ".join(shown)
    tail = f": {contact}" if contact else ""
    # The name gets what the number leaves, keeping at least a short name; hours fill the rest.
    room_for_name = limit - gsm7_length(tail)
    name = _fit(name, max(room_for_name, 0))
    text = f"{name}{tail}"
    if hours:
        room = limit - gsm7_length(text) - len(" ()")
        hours = _fit(hours, room) if room > len(ELLIPSIS) + 3 else ""
        if hours:
            text = f"{text} ({hours})"
    return text[:limit] if gsm7_length(text) > limit else text
