"""Phone numbers as published: split, parse, validate, format, and turn into tel:/sms: links.

A wrong number is worse than none, so nothing here ever rewrites a number. A number that does
not validate is kept exactly as published, with `needs_verification` and a plain-English
`problem`; it gets no E.164 form and no link.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, shortnumberinfo

PHONE_TYPES = ("voice", "text", "fax", "cell", "textphone")

OLD_METRO_MANILA = (
    "7-digit Metro Manila landline in the pre-2019 format; confirm the current 8-digit number"
)

# Short codes the phonenumbers metadata (9.0.43) does not know, each from a sourced listing in
# the shipped data (data/ and shared/research). phonenumbers is asked first; add a code here
# only with its source, and drop it once phonenumbers validates it (a test checks this).
EXTRA_SHORT_CODES: dict[str, dict[str, str]] = {
    "PH": {
        "122": "Quezon City Helpline 122",
        "163": "Bantay Bata 163 child helpline",
        "1326": "Inter-Agency Response Center (I-ARC) hotline 1326",
        "1343": "1343 Actionline Against Human Trafficking",
        "1383": "Makabata Helpline 1383",
        "1553": "NCMH Crisis Hotline 1553",
        "2327": "DSWD 'blockchildporn' SMS reporting",
    },
    "ID": {"129": "SAPA 129 (Sahabat Perempuan dan Anak)"},
    "KH": {"1280": "Child Helpline Cambodia 1280"},
    "TH": {"1300": "1300 Social Assistance Centre", "1387": "Childline Thailand 1387"},
    "VN": {"111": "National Child Protection Hotline 111"},
}

PLAIN_VOICE_LABELS = {"tel", "tel.", "tel no", "tel. no.", "telephone", "phone", "landline", "call"}
TELEFAX_LABELS = {"telefax", "tel/fax", "tel-fax", "telfax", "phone/fax", "telephone/fax"}
TEXTPHONE_LABELS = {"tty", "tdd", "textphone", "tty/tdd"}
MESSAGING_APPS = {"whatsapp", "viber", "telegram", "signal", "line", "wechat"}
SMS_LABELS = {"sms", "text", "txt", "text to", "sms to", "text only"}
CALL_OR_TEXT = re.compile(r"\b(?:call\s*(?:or|/|and)\s*text|text\s*(?:or|/|and)\s*call)\b", re.I)
SMS_PLACEHOLDERS = {"message", "url", "link", "name", "report", "details", "complaint", "text"}

# A number as published: digits with spaces, dots, brackets and hyphens, optionally running on
# into an upper-case vanity spelling joined by hyphens (1-800-4-A-CHILD, 1-877-4-HSI-TIP).
NUMBER_RE = re.compile(
    r"[+(]{0,3}\+?\d(?:[\d().\s]|-(?=[0-9A-Z(]))*(?:(?<=-)[A-Z0-9]+(?:-[A-Z0-9]+)*)?"
)
SMS_SEND_RE = re.compile(
    r"^(?:text|sms|txt)\s+(?P<body>.*?)\s*,?\s*(?:and\s+)?send\s+(?:it\s+)?to\s*:?\s*(?P<num>.+)$",
    re.I | re.S,
)
SMS_TO_RE = re.compile(
    r"^(?:text|sms|txt)\s+(?P<body>(?!to\b)\S.*?)\s+to\s*:?\s*(?P<num>[+(]?\d.*)$", re.I | re.S
)
RANGE_RE = re.compile(r"^(?:to|–|—|/)\s*(\d{1,4})\b", re.I)
EXTENSION_RE = re.compile(
    r"^(?:local|loc\.?|ext\.?|extension|x)\s*[:.]?\s*(\d{1,6})"
    r"(?:\s*(?:to|-|–|/)\s*(\d{1,6}))?",
    re.I,
)
ALTERNATE_RE = re.compile(r"^\(([\d\s().+\-]{7,})\)")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LETTER_RE = re.compile(r"[^\W\d_]")
VANITY_RE = re.compile(r"\+?[0-9A-Z]+(?:-[0-9A-Z]+)+")
ASCII_LETTER_RE = re.compile(r"[A-Za-z]")
WHITESPACE_RE = re.compile(r"\s+")
SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")


# Every reason a number is flagged (phone.problem), as a msgid: the text stored is the English
# with the values filled in; problem_parts() finds the msgid and values again for a page.
PROBLEMS = (
    OLD_METRO_MANILA,
    "%(number)s is not a known SMS short code in %(region)s; confirm it still works",
    "%(number)s is not a known short code in %(region)s",
    "does not validate as a %(country)s number",
    "looks like short code %(code)s with area code %(area)s in front; confirm how to dial it",
    "too few digits for a phone number",
    "does not look like a phone number",
    "no country given and no +country code in the number",
    "published without the leading %(prefix)s or a country code; "
    "confirm the full number (it may be a short code)",
    "the letters %(spelled)s spell a different number from %(number)s",
    "no phone number given",
    "no phone number found in the text",
    "does not validate",
)
_PROBLEM_PATTERNS = [
    (msgid, re.compile(re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", re.escape(msgid))))
    for msgid in PROBLEMS
]


def problem_parts(text: str | None) -> tuple[str, dict] | None:
    """The msgid and values of a stored `problem` (None if it is not one of PROBLEMS)."""
    for msgid, pattern in _PROBLEM_PATTERNS:
        match = pattern.fullmatch(text or "")
        if match:
            return msgid, match.groupdict()
    return None


class PhoneError(ValueError):
    """A phone number typed into a form that cannot be accepted as it is."""


@dataclass
class ParsedPhone:
    """One published number, parsed; field names follow the HSDS phone table where they exist."""

    number: str
    extension: str | None = None
    type: str = "voice"
    description: str | None = None
    e164: str | None = None
    short_code: str | None = None
    sms: bool = False
    sms_body: str | None = None
    valid: bool = False
    needs_verification: bool = False
    problem: str | None = None
    country: str = "PH"
    emergency: bool = False


def parse_phones(raw: str, country: str = "PH") -> list[ParsedPhone]:
    """Split a published phones field into its numbers; keep every one, flag what fails."""
    text = _clean(raw)
    if not text:
        return []
    region = _region(country)
    out = []
    for part in _split(text):
        parsed = _parse_part(part, region)
        if parsed is not None:
            out.append(parsed)
    return out


def validate_number(text: str, country: str = "PH") -> ParsedPhone:
    """Parse one number typed into a form (no splitting); never raises."""
    cleaned = _clean(text)
    parsed = _parse_part(cleaned, _region(country)) if cleaned else None
    if parsed is None:
        return ParsedPhone(
            number=cleaned,
            country=_region(country) or "",
            needs_verification=True,
            problem="no phone number given",
        )
    return parsed


def require_valid(text: str, country: str = "PH") -> ParsedPhone:
    """Parse one number typed into a form, raising PhoneError with a clear reason if it fails."""
    parsed = validate_number(text, country)
    if not parsed.valid or parsed.problem:
        shown = parsed.number or "The phone number"
        raise PhoneError(f"{shown}: {parsed.problem or 'does not validate'}")
    return parsed


def tel_href(p: ParsedPhone) -> str | None:
    """A tel: link for a valid voice-capable number or short code, else None."""
    if p.type in ("fax", "text") or not p.valid or p.needs_verification:
        return None
    if p.e164:
        return f"tel:{p.e164}" + (f";ext={p.extension}" if p.extension else "")
    if p.short_code:
        return "tel:" + _digits(p.short_code)
    return None


def sms_href(p: ParsedPhone) -> str | None:
    """An sms: link (with the keyword as body, when known) for a valid SMS-capable number."""
    if not p.sms or not p.valid or p.needs_verification:
        return None
    target = p.e164 or (_digits(p.short_code) if p.short_code else None)
    if not target:
        return None
    if not p.sms_body:
        return f"sms:{target}"
    # Prefill only the literal keywords; the <placeholder> is for the sender to type.
    keyword = p.sms_body.split("<", 1)[0]
    if not keyword.strip():
        return f"sms:{target}"
    return f"sms:{target}?body={quote(keyword, safe='')}"


def display(p: ParsedPhone, viewer_country: str = "PH") -> str:
    """The number formatted for a reader in viewer_country; as published when not valid."""
    if p.e164 and p.valid:
        try:
            number = phonenumbers.parse(p.e164)
        except NumberParseException:
            return p.number
        if p.extension:
            number.extension = p.extension
        viewer = (viewer_country or "").upper()
        home = {p.country, phonenumbers.region_code_for_number(number)}
        fmt = PhoneNumberFormat.NATIONAL if viewer in home else PhoneNumberFormat.INTERNATIONAL
        return phonenumbers.format_number(number, fmt)
    if p.short_code:
        return p.short_code
    return p.number


# --- parsing -------------------------------------------------------------------------------


def _clean(raw: str | None) -> str:
    if not raw:
        return ""
    return SPACES_RE.sub(" ", CONTROL_RE.sub(" ", str(raw))).strip()


def _region(country: str | None) -> str | None:
    code = (country or "").strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def _is_vanity(text: str) -> bool:
    """1-800-CALL-FBI: digits and capitals joined by hyphens, at least two letters."""
    return (
        len(text) <= 30
        and VANITY_RE.fullmatch(text) is not None
        and text.lstrip("+")[:1].isdigit()
        and sum(ch.isalpha() for ch in text) >= 2
    )


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _alpha_to_digits(text: str) -> str:
    """phonenumbers.convert_alpha_characters_in_number, which leaves text without letters as
    it is (checked for every code point): most numbers skip its loop over each character."""
    if LETTER_RE.search(text) is None:
        return text
    return phonenumbers.convert_alpha_characters_in_number(text)


def _split_top_level(text: str, separators: re.Pattern[str]) -> list[str]:
    """Split on separators that are not inside brackets."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            m = separators.match(text, i)
            if m and m.end() > i:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


HARD_SEPARATORS = re.compile(r"\||;|\n|\r")
SOFT_SEPARATORS = re.compile(r",|\s+/\s+|\s+or\s+", re.I)


def _split(text: str) -> list[str]:
    out = []
    for part in _split_top_level(text, HARD_SEPARATORS):
        if SMS_SEND_RE.match(part) or SMS_TO_RE.match(part):
            out.append(part)
            continue
        pieces = _split_top_level(part, SOFT_SEPARATORS)
        # Only split "a, b" / "a or b" when each side is a number in its own right.
        if len(pieces) > 1 and all(len(_digits(p)) >= 7 for p in pieces):
            out.extend(pieces)
        else:
            out.append(part)
    return out


def _notes_and_rest(text: str) -> tuple[list[str], str]:
    """Pull out bracketed notes that contain letters; brackets of digits belong to the number."""
    notes, rest, depth, start = [], [], 0, 0
    buf_start = 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                inner = text[start + 1 : i]
                if LETTER_RE.search(inner) and not _is_vanity(inner.strip()):
                    rest.append(text[buf_start:start])
                    notes.append(inner.strip())
                    buf_start = i + 1
    rest.append(text[buf_start:])
    return [n for n in notes if n], WHITESPACE_RE.sub(" ", "".join(rest)).strip()


def _sms_body(body: str) -> str | None:
    tokens = [t.strip() for t in re.split(r"<\s*space\s*>", body, flags=re.I)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return None
    if len(tokens) > 1 and tokens[-1].lower() in SMS_PLACEHOLDERS:
        tokens[-1] = f"<{tokens[-1]}>"
    return " ".join(tokens)


def _parse_part(part: str, region: str | None) -> ParsedPhone | None:
    if not part:
        return None
    m = SMS_SEND_RE.match(part) or SMS_TO_RE.match(part)
    if m:
        p = _parse_number(m.group("num").strip(), region, sms_target=True)
        p.type = "text"
        p.sms = True
        p.sms_body = _sms_body(m.group("body"))
        p.description = _join([part, p.description])
        return p
    return _parse_number(part, region)


def _join(pieces: list[str | None]) -> str | None:
    seen: list[str] = []
    for piece in pieces:
        if piece and piece not in seen:
            seen.append(piece)
    return "; ".join(seen) or None


def _label_effect(label: str) -> tuple[str | None, bool, str | None]:
    """(phone type, takes SMS, description) implied by a leading label such as 'Fax' or 'Smart'."""
    key = label.lower().strip(" .:-")
    if not key:
        return None, False, None
    if key in TELEFAX_LABELS:
        return "voice", False, "telefax (phone and fax)"
    if key in ("fax", "fax no", "fax no."):
        return "fax", False, None
    if key in TEXTPHONE_LABELS:
        return "textphone", False, label
    if key in MESSAGING_APPS:
        return "text", False, label
    if key in SMS_LABELS:
        return "text", True, None
    if CALL_OR_TEXT.search(key):
        return None, True, None
    if key in ("mobile", "cell", "cellphone", "mobile phone", "cp", "cp no"):
        return "cell", False, None
    if key in PLAIN_VOICE_LABELS:
        return None, False, None
    return None, False, label


def _parse_number(text: str, region: str | None, sms_target: bool = False) -> ParsedPhone:
    notes, rest = _notes_and_rest(text)
    # The run with the most digits is the number, so "Region 7 office 0917..." is read right.
    runs = list(NUMBER_RE.finditer(rest))
    m = runs[0] if len(runs) == 1 else None
    if len(runs) > 1:
        m = max(runs, key=lambda c: len(_digits(_alpha_to_digits(c.group()))))
    if not m:
        return ParsedPhone(
            number=text,
            country=region or "",
            needs_verification=True,
            problem="no phone number found in the text",
            description=_join(notes),
        )
    label = rest[: m.start()].strip(" :-–,")
    number_text = m.group().strip().rstrip("(-. ")
    tail = rest[m.end() :].strip()

    description: list[str | None] = []
    kind, sms, label_note = _label_effect(label)
    description.append(label_note)

    extension = None
    alternate = None
    trailing: list[str] = []
    while tail:
        if rm := RANGE_RE.match(tail):
            joiner = "" if rm.group(0).startswith("/") else " "
            description.append(f"range: {number_text}{joiner}{rm.group(0).strip()}")
        elif em := EXTENSION_RE.match(tail):
            extension = extension or em.group(1)
            if em.group(2):
                description.append(em.group(0).strip())
        elif am := ALTERNATE_RE.match(tail):
            alternate = am.group(1).strip()
        else:
            trailing.append(tail)
            break
        tail = tail[(rm or em or am).end() :].strip(" ,")
    description.extend(trailing)

    checks: list[str] = []
    for note in notes:
        for piece in (s.strip() for s in note.split(";")):
            if _is_vanity(piece):
                checks.append(piece)
        if CALL_OR_TEXT.search(note):
            sms = True
    description.extend(notes)
    if ASCII_LETTER_RE.search(number_text):
        description.append(number_text)
        if alternate:
            # Dial the digits as published; check that the spelling agrees with them.
            checks.append(number_text)
            number_text = alternate
    elif alternate:
        description.append(alternate)

    p = _classify(number_text, region, sms_target)
    p.extension = extension
    if kind:
        p.type = kind
    p.sms = p.sms or sms
    if p.type in ("fax", "textphone") or (p.type == "text" and not sms and not sms_target):
        # A fax or TTY line or a messaging-app number is not an SMS line, even on a mobile.
        p.sms = False
    p.description = _join([*description, p.description])
    for spelled in checks:
        _check_vanity(p, spelled, region)
    return p


def _check_vanity(p: ParsedPhone, spelled: str, region: str | None) -> None:
    """Flag a vanity spelling that does not match the digits published beside it."""
    if not p.e164:
        return
    try:
        as_digits = phonenumbers.parse(
            phonenumbers.convert_alpha_characters_in_number(spelled), region
        )
    except NumberParseException:
        return
    if phonenumbers.format_number(as_digits, PhoneNumberFormat.E164) != p.e164:
        p.needs_verification = True
        p.problem = f"the letters {spelled} spell a different number from {p.number}"


@functools.cache
def _longest_short_code(region: str) -> int:
    """The most digits a short or emergency number of the region can have (its metadata's
    possible lengths, and ours); 99 when the metadata does not say."""
    lengths = [len(code) for code in EXTRA_SHORT_CODES.get(region, {})]
    metadata = phonenumbers.PhoneMetadata.short_metadata_for_region(region)
    for desc in (metadata.general_desc, metadata.emergency) if metadata else ():
        if desc is not None:
            if not desc.possible_length:
                return 99
            lengths += list(desc.possible_length)
    return max(lengths, default=99)


def _short_code_known(digits: str, region: str | None) -> tuple[bool, bool]:
    """(known, emergency) for a short code: phonenumbers first, then EXTRA_SHORT_CODES."""
    if not region or not digits:
        return False, False
    if len(digits) > _longest_short_code(region):
        return False, False  # too long to be one (and parsing it costs a tenth of a millisecond)
    try:
        number = phonenumbers.parse(digits, region)
    except NumberParseException:
        return False, False
    # is_possible_short_number is not used: the PH metadata rejects even 1343 and 1383 as
    # impossible lengths, so it would only add false alarms.
    valid = shortnumberinfo.is_valid_short_number_for_region(number, region)
    emergency = shortnumberinfo.is_emergency_number(digits, region)
    return valid or digits in EXTRA_SHORT_CODES.get(region, {}), emergency


def _short_code(number_text: str, region: str | None, known: bool, emergency: bool) -> ParsedPhone:
    if known:
        return ParsedPhone(
            number=number_text,
            short_code=number_text,
            valid=True,
            country=region or "",
            emergency=emergency,
        )
    return ParsedPhone(
        number=number_text,
        short_code=number_text,
        country=region or "",
        needs_verification=True,
        problem=f"{number_text} is not a known short code in {region or 'this country'}",
    )


def _with_country_code(text: str, region: str | None) -> str:
    """Read '(63-2) 9208151' or '(632) 8426-7839' as +63 2 ...: brackets round the country code."""
    if not region:
        return text
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix != "0":
        return text
    code = str(phonenumbers.country_code_for_region(region))
    m = re.match(rf"^\(\s*{code}\s*[-\s]?\s*([1-9]\d{{0,2}})\s*\)\s*", text)
    if m:
        return f"+{code} {m.group(1)} {text[m.end() :]}"
    return text


def _classify(number_text: str, region: str | None, sms_target: bool) -> ParsedPhone:
    """Validate one number as short code or full number; flag rather than guess."""
    digits = _digits(_alpha_to_digits(number_text))
    international = number_text.lstrip("(").startswith("+")
    bracketed = number_text.startswith("(")
    if not international and not bracketed and digits and len(digits) <= 6:
        known, emergency = _short_code_known(digits, region)
        if known:
            return _short_code(number_text, region, True, emergency)
        full = _full_number(number_text, digits, region, international)
        if full.valid or (full.problem or "").startswith("looks like short code"):
            return full
        return _short_code(number_text, region, False, False)
    if sms_target and not international and not digits.startswith("0"):
        cc = str(phonenumbers.country_code_for_region(region)) if region else ""
        if not (cc and digits.startswith(cc) and len(digits) > 10):
            known, _emergency = _short_code_known(digits, region)
            p = _short_code(number_text, region, known, False)
            if not known:
                p.problem = (
                    f"{number_text} is not a known SMS short code in {region or 'this country'}; "
                    "confirm it still works"
                )
            return p
    return _full_number(number_text, digits, region, international)


def _full_number(number_text: str, digits: str, region: str | None, international: bool):
    flagged = ParsedPhone(number=number_text, country=region or "", needs_verification=True)
    if len(digits) < 3:
        flagged.problem = "too few digits for a phone number"
        return flagged
    text = _with_country_code(_alpha_to_digits(number_text), region)
    international = international or text.startswith("+")
    try:
        number = phonenumbers.parse(text, region if not international else None)
    except NumberParseException:
        flagged.problem = (
            "does not look like a phone number"
            if region or international
            else "no country given and no +country code in the number"
        )
        return flagged
    number.extension = None
    home = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code
    )
    flagged.country = home if home and home != "ZZ" else (region or "")
    nsn = phonenumbers.national_significant_number(number)

    if not phonenumbers.is_valid_number(number):
        flagged.problem = _why_invalid(digits, nsn, flagged.country)
        return flagged

    cc = str(number.country_code)
    written_with_cc = international or (digits.startswith(cc) and digits[len(cc) :] == nsn)
    national = _digits(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(flagged.country)
    prefix = metadata.national_prefix if metadata else None
    if not written_with_cc and prefix and national.startswith(prefix) and digits == nsn:
        # phonenumbers quietly accepts a national number without its trunk prefix; for a
        # published number that usually means a short code or a truncated number.
        flagged.problem = (
            f"published without the leading {prefix} or a country code; "
            "confirm the full number (it may be a short code)"
        )
        return flagged

    if (
        region
        and region != flagged.country
        and phonenumbers.is_valid_number_for_region(number, region)
    ):
        # Shared plans (+1 toll-free across the US and Canada): keep the listing's country.
        flagged.country = region
    kind = phonenumbers.number_type(number)
    mobile = kind == PhoneNumberType.MOBILE
    return ParsedPhone(
        number=number_text,
        type="cell" if mobile else "voice",
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        sms=mobile and flagged.country == "PH",
        valid=True,
        country=flagged.country,
    )


def _why_invalid(digits: str, nsn: str, country: str) -> str:
    if country == "PH" and nsn.startswith("2") and len(nsn) == 8:
        return OLD_METRO_MANILA
    if digits.startswith("0"):
        for cut in (2, 3, 4):
            area, rest = digits[:cut], digits[cut:]
            if rest and _short_code_known(rest, country)[0]:
                return (
                    f"looks like short code {rest} with area code {area} in front; "
                    "confirm how to dial it"
                )
    return f"does not validate as a {country or 'known'} number"
