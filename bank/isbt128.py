"""ISBT 128 identifiers: Donation Identification Numbers (DIN), keyboard check characters and the
bar-coded data structures of a cellular therapy label (ICCBBA ST-001 §2.4.1 DIN, §2.4.3 product code,
§2.4.4/2.4.5 expiry, §2.4.23 compound message; check character ISO/IEC 7064 MOD 37-2)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from stdnum.iso7064 import mod_37_2

from bank.i18n import t


class Isbt128Error(ValueError):
    """Text that is not a valid ISBT 128 identifier or data structure; the message says what is wrong."""


# Data identifiers (ST-001 Table 2). The DIN is the one structure whose second data identifier
# character is also the first character of its content (=αppppyynnnnnnff).
DI_DIN = "="
DI_PRODUCT = "=<"
DI_EXPIRY_DATE = "=>"
DI_EXPIRY = "&>"
DI_COMPOUND = "=+"

_FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"  # A–N, P–Z, 1–9: letter O never used
_FIN_NEXT = "ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789"
_DIGITS = re.compile(r"[0-9]+")
_FLAGS = re.compile(r"[0-9A-HJ-NPR-Y]{2}")  # ST-001 §2.4.1: {0–9}, {A–H; J–N; P; R–Y}
_PRODUCT = re.compile(r"[A-Z][A-Z0-9]{4}[A-Za-z0-9][A-Z0-9][a-z0-9]")  # αoooo t d s
_AIM_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")  # symbology identifier some scanners prepend
_CHECK_SYMBOLS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"  # ISO/IEC 7064 values 0–36
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

ScanKind = Literal["din", "din_keyboard", "product", "expiry", "compound"]


@dataclass(frozen=True)
class ScanResult:
    """What a scanned or typed string identified. Fields not carried by the string are None.

    ``expiry`` is the naive wall-clock time encoded on the label (the structure has no time zone).
    ``check_char`` is computed for a bar-coded DIN and verified for a typed one.
    """

    kind: ScanKind
    raw: str
    din: str | None = None
    flags: str | None = None
    check_char: str | None = None
    product_code: str | None = None
    expiry: datetime | None = None


# --- DIN and check character -----------------------------------------------------------------


def validate_fin(fin: str) -> str:
    """Return the Facility Identification Number ``[A-NP-Z1-9][A-NP-Z0-9]{2}[0-9]{2}`` or raise."""
    if not isinstance(fin, str) or len(fin) != 5:
        raise Isbt128Error(t("facility identification number %(fin)s must have 5 characters", fin=repr(fin)))
    allowed_sets = (_FIN_FIRST, _FIN_NEXT, _FIN_NEXT, "0123456789", "0123456789")
    for pos, (char, allowed) in enumerate(zip(fin, allowed_sets, strict=True), start=1):
        if char not in allowed:
            rule = {1: t("A–N, P–Z or 1–9"), 2: t("A–N, P–Z or 0–9"), 3: t("A–N, P–Z or 0–9")}.get(
                pos, t("a digit")
            )
            raise Isbt128Error(
                t(
                    "facility identification number %(fin)s: character %(position)s %(char)s must be %(rule)s",
                    fin=repr(fin),
                    position=pos,
                    char=repr(char),
                    rule=rule,
                )
            )
    return fin


def validate_din(din: str) -> str:
    """Return the 13-character DIN (FIN 5 + year 2 + sequence 6) or raise saying which part is wrong."""
    if not isinstance(din, str) or len(din) != 13:
        got = len(din) if isinstance(din, str) else type(din).__name__
        raise Isbt128Error(
            t("a DIN has 13 characters (facility 5, year 2, sequence 6), got %(got)s", got=got)
        )
    validate_fin(din[:5])
    if not _DIGITS.fullmatch(din[5:7]):
        raise Isbt128Error(t("DIN year %(year)s (characters 6–7) must be two digits", year=repr(din[5:7])))
    if not _DIGITS.fullmatch(din[7:]):
        raise Isbt128Error(
            t("DIN sequence number %(sequence)s (characters 8–13) must be six digits", sequence=repr(din[7:]))
        )
    return din


def check_value(din13: str) -> int:
    """The ISO/IEC 7064 MOD 37-2 check value (0–36) of a DIN: the boxed keyboard character is its symbol,
    a type-3 flag pair its value plus 60 (ST-001 §2.4.1, DOMAIN.md §5 and §7)."""
    return _CHECK_SYMBOLS.index(check_character(din13))


def type3_flags(din13: str) -> str:
    """Flag characters of type 3 for a DIN: its check value plus 60, two digits (``60``–``96``)."""
    return f"{check_value(din13) + 60:02d}"


def validate_flags(flags: str, din: str | None = None) -> str:
    """Return the two flag characters after a DIN or raise (ST-001 §2.4.1). Characters: 0–9, A–H, J–N, P,
    R–Y. Two digits are type 1 (``00``–``59``, process control) or type 3 (``60``–``96``: the DIN's MOD
    37-2 check value plus 60, verified against ``din`` when it is given); ``97``–``99`` are not assigned.
    A pair with a letter is type 2 (local use)."""
    if not isinstance(flags, str) or not _FLAGS.fullmatch(flags):
        raise Isbt128Error(
            t("flag characters %(flags)s must be two of 0–9, A–H, J–N, P, R–Y", flags=repr(flags))
        )
    if flags.isdigit():
        value = int(flags)
        if value > 96:
            raise Isbt128Error(
                t("flag characters %(flags)s are not assigned (type 1: 00–59, type 3: 60–96)", flags=flags)
            )
        if value >= 60 and din is not None and flags != type3_flags(din):
            # Like the keyboard check character, never say which pair would be right: re-read or re-scan.
            raise Isbt128Error(
                t(
                    "flag characters %(flags)s (type 3) do not carry this DIN's check value: the DIN or the "
                    "flags were misread; scan the bar code again",
                    flags=flags,
                )
            )
    return flags


def make_din(fin: str, year: int, sequence: int) -> str:
    """Assign a DIN. ``year`` is 0–99 or a four-digit year (its last two digits are used)."""
    validate_fin(fin)
    if isinstance(year, bool) or not isinstance(year, int) or not (0 <= year <= 99 or 1000 <= year <= 9999):
        raise Isbt128Error(t("DIN year %(year)s must be 0–99 or a four-digit year", year=repr(year)))
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= 999_999:
        raise Isbt128Error(t("DIN sequence number %(sequence)s must be 1–999999", sequence=repr(sequence)))
    return f"{fin}{year % 100:02d}{sequence:06d}"


def check_character(din13: str) -> str:
    """Keyboard check character of a DIN: ISO/IEC 7064 MOD 37-2 over its 13 characters (ST-001 App. A)."""
    return mod_37_2.calc_check_digit(validate_din(din13))


def format_din(din: str, flags: str | None = "00") -> str:
    """Eye-readable DIN as printed: ``G1234 17 654321 00 A`` (FIN, year, sequence, flags, check).

    ``flags=None`` leaves the flags out (``G1234 17 654321 A``), the form people type back.
    """
    validate_din(din)
    parts = [din[:5], din[5:7], din[7:]]
    if flags is not None:
        parts.append(validate_flags(flags, din))
    return " ".join([*parts, check_character(din)])


def validate_din_with_check(text: str) -> str:
    """Return the DIN from a typed DIN + check character (spaces allowed, any case) or raise."""
    compact = "".join(text.split()).upper()
    if len(compact) == 13:
        raise Isbt128Error(t("check character missing: type the boxed character printed after the DIN"))
    if len(compact) != 14:
        raise Isbt128Error(
            t("a DIN with its check character has 14 characters, got %(got)s", got=len(compact))
        )
    din, typed = validate_din(compact[:13]), compact[13]
    expected = check_character(din)
    if typed != expected:
        # Do not say which character would be right: the check character exists so that a person
        # re-reads the label (or scans it) instead of correcting the typed DIN from a hint.
        raise Isbt128Error(
            t(
                "check character %(typed)s does not match this DIN: re-read the label or scan the bar code",
                typed=typed,
            )
        )
    return din


# --- Product code and dates ------------------------------------------------------------------


def make_product_code(description_code: str, donation_type: str, division: str = "00") -> str:
    """Product code data content ``αoooo t ds`` (ST-001 §2.4.3): a 5-character Product Description Code
    (``S`` + 4 for cellular therapy, ``A``–``D`` national/local), the type of donation (``1``
    autologous only, ``V`` volunteer allogeneic…) and the 2-character division code (``00`` undivided)."""
    return validate_product_code(f"{description_code}{donation_type}{division}")


def validate_product_code(code: str) -> str:
    if not isinstance(code, str) or len(code) != 8:
        raise Isbt128Error(
            t(
                "a product code has 8 characters (description 5, donation type 1, division 2): %(code)s",
                code=repr(code),
            )
        )
    if not re.fullmatch(r"[A-Z][A-Z0-9]{4}", code[:5]):
        raise Isbt128Error(
            t(
                "product description code %(code)s must be a capital letter and 4 of A–Z, 0–9",
                code=repr(code[:5]),
            )
        )
    if not _PRODUCT.fullmatch(code):
        raise Isbt128Error(
            t(
                "product code %(code)s: type of donation %(donation)s must be a letter or digit and division "
                "%(division)s a capital letter or digit followed by a lower-case letter or digit",
                code=repr(code),
                donation=repr(code[5]),
                division=repr(code[6:]),
            )
        )
    return code


def _year_digits(year: int) -> str:
    # c is the century counted from 2000 (0 = 2000–2099), the convention of current ISBT 128 labels.
    if not 2000 <= year <= 2999:
        raise Isbt128Error(t("year %(year)s cannot be encoded as cyy (2000–2999)", year=year))
    return f"{(year - 2000) // 100}{year % 100:02d}"


def format_label_date(value: datetime) -> str:
    """Eye-readable date and time with a month abbreviation, unambiguous in every country: ``04 MAY 2026 23:59``."""
    return f"{value.day:02d} {_MONTHS[value.month - 1]} {value.year} {value:%H:%M}"


# --- Encoding bar-code data ------------------------------------------------------------------


def encode_din(din: str, flags: str = "00") -> str:
    """DIN data structure 001: ``=`` + 13-character DIN + 2 flags, e.g. ``=G12341765432100``."""
    return f"{DI_DIN}{validate_din(din)}{validate_flags(flags, din)}"


def encode_product(code: str) -> str:
    """Product code data structure 003: ``=<`` + ``αooootds``, e.g. ``=<S1234V00``."""
    return f"{DI_PRODUCT}{validate_product_code(code)}"


def encode_expiry(value: datetime | date) -> str:
    """Expiration date and time, data structure 005: ``&>cyyjjjhhmm``.

    A ``datetime`` is encoded by its wall-clock fields as given (convert it to the zone printed on the
    label first); a plain ``date`` expires at 23:59, the default ST-001 §2.4.5 prescribes.
    """
    hhmm = f"{value:%H%M}" if isinstance(value, datetime) else "2359"
    return f"{DI_EXPIRY}{_year_digits(value.year)}{value.timetuple().tm_yday:03d}{hhmm}"


def encode_compound(structures: Sequence[str]) -> str:
    """Compound message (structure 023, undefined sequence ``=+nn000``) for a Data Matrix symbol."""
    if not 1 <= len(structures) <= 99:
        raise Isbt128Error(
            t("a compound message holds 1–99 data structures, got %(got)s", got=len(structures))
        )
    body = "".join(structures)
    parsed = parse_concatenated(body)  # refuse anything we could not read back
    if len(parsed) != len(structures):
        raise Isbt128Error(t("compound message parts are not single data structures"))
    return f"{DI_COMPOUND}{len(structures):02d}000{body}"


# --- Parsing -----------------------------------------------------------------------------------


def _decode_date(content: str, what: str) -> datetime:
    if not _DIGITS.fullmatch(content):
        form = "cyyjjjhhmm" if len(content) > 6 else "cyyjjj"
        raise Isbt128Error(
            t("%(what)s %(content)s must be digits (%(form)s)", what=what, content=repr(content), form=form)
        )
    year = 2000 + 100 * int(content[0]) + int(content[1:3])
    day, days = int(content[3:6]), 366 if calendar.isleap(year) else 365
    if not 1 <= day <= days:
        raise Isbt128Error(
            t(
                "invalid Julian day %(day)s in %(what)s: %(year)s has %(days)s days",
                day=str(day).zfill(3),
                what=what,
                year=year,
                days=days,
            )
        )
    hour, minute = (int(content[6:8]), int(content[8:10])) if len(content) == 10 else (23, 59)
    if hour > 23:
        raise Isbt128Error(t("invalid hour %(hour)s in %(what)s (00–23)", hour=str(hour).zfill(2), what=what))
    if minute > 59:
        raise Isbt128Error(
            t("invalid minute %(minute)s in %(what)s (00–59)", minute=str(minute).zfill(2), what=what)
        )
    return datetime(year, 1, 1, hour, minute) + timedelta(days=day - 1)


def _take(text: str, pos: int, di: str, length: int, name: str) -> str:
    content = text[pos + len(di) : pos + len(di) + length]
    if len(content) < length:
        raise Isbt128Error(
            t(
                "%(name)s %(text)s is too short: needs %(length)s characters after %(di)s, got %(got)s",
                name=name,
                text=repr(text[pos:]),
                length=length,
                di=repr(di),
                got=len(content),
            )
        )
    return content


def _parse_one(text: str, pos: int) -> tuple[ScanResult, int]:
    """Parse the data structure starting at ``pos``; return it and the position after it."""
    di = text[pos : pos + 2]
    if di == DI_PRODUCT:
        code = _take(text, pos, di, 8, t("product code"))
        return ScanResult("product", text, product_code=validate_product_code(code)), pos + 10
    if di in (DI_EXPIRY, DI_EXPIRY_DATE):
        n = 10 if di == DI_EXPIRY else 6
        expiry = _decode_date(_take(text, pos, di, n, t("expiry")), t("expiry"))
        return ScanResult("expiry", text, expiry=expiry), pos + 2 + n
    if len(di) == 2 and di[0] == DI_DIN and di[1] in _FIN_FIRST:
        content = _take(text, pos, DI_DIN, 15, t("DIN data structure"))
        din = validate_din(content[:13])
        flags = validate_flags(content[13:], din)
        return ScanResult("din", text, din=din, flags=flags, check_char=check_character(din)), pos + 16
    if di[:1] in ("=", "&") and len(di) == 2:
        raise Isbt128Error(
            t(
                "unknown data identifier %(di)s at position %(position)s: this system reads the DIN (=α), "
                "product code (=<), expiry (&> or =>) and compound message (=+)",
                di=repr(di),
                position=pos + 1,
            )
        )
    raise Isbt128Error(
        t(
            "not an ISBT 128 data structure at position %(position)s: %(text)s",
            position=pos + 1,
            text=repr(text[pos : pos + 8]),
        )
    )


def parse_concatenated(text: str) -> list[ScanResult]:
    """Data structures concatenated without separators (a Data Matrix), with or without the
    compound-message header ``=+aabbb``; the count announced by the header is verified."""
    announced, pos = None, 0
    if text.startswith(DI_COMPOUND):
        header = _take(text, 0, DI_COMPOUND, 5, t("compound message"))
        if not _DIGITS.fullmatch(header):
            raise Isbt128Error(
                t("compound message header %(header)s must be 5 digits (aabbb)", header=repr(header))
            )
        announced, pos = int(header[:2]), 7
    results: list[ScanResult] = []
    while pos < len(text):
        if text.startswith(DI_COMPOUND, pos):
            raise Isbt128Error(
                t("a compound message header can only come first (position %(position)s)", position=pos + 1)
            )
        result, pos = _parse_one(text, pos)
        if any(r.kind == result.kind for r in results):
            raise Isbt128Error(t("the message carries two %(kind)s data structures", kind=result.kind))
        results.append(result)
    if not results:
        raise Isbt128Error(t("the message carries no data structure"))
    if announced is not None and announced != len(results):
        raise Isbt128Error(
            t("compound message announces %(announced)s data structures but 1 follows", announced=announced)
            if len(results) == 1
            else t(
                "compound message announces %(announced)s data structures but %(count)s follow",
                announced=announced,
                count=len(results),
            )
        )
    return results


def parse_scan(text: str) -> ScanResult:
    """Identify what a hand scanner typed (bar code + Enter) or a person typed from the eye-readable
    label: a DIN, product code or expiry structure, a Data Matrix message, or a DIN with its check
    character (``G123417654321A``, ``G1234 17 654321 A``, ``G1234 17 654321 00 A``)."""
    raw = text.strip()
    body = _AIM_PREFIX.sub("", raw)
    if not body:
        raise Isbt128Error(t("nothing was scanned"))
    if body[0] not in "=&":
        tokens = body.split()
        flags = None
        if [len(t) for t in tokens] == [5, 2, 6, 2, 1]:  # the printed form with flags
            flags = tokens.pop(3).upper()
        din = validate_din_with_check("".join(tokens))
        if flags is not None:
            validate_flags(flags, din)
        return ScanResult("din_keyboard", raw, din=din, flags=flags, check_char=check_character(din))
    parts = parse_concatenated(body)
    if len(parts) == 1 and not body.startswith(DI_COMPOUND):
        return ScanResult(**{**parts[0].__dict__, "raw": raw})
    merged: dict[str, object] = {}
    for part in parts:
        merged.update({k: v for k, v in part.__dict__.items() if v is not None and k not in ("kind", "raw")})
    return ScanResult("compound", raw, **merged)  # type: ignore[arg-type]


# A DIN as the scan box may receive it typed or scanned without data identifiers: the 13 characters,
# then optionally the flags, the boxed check character and a product code (with its division), in that
# order, spaces anywhere (``G1234 26 000001 00 A S0002VA0``, ``G123426000001 S0002VA0``).
_TYPED_DIN = re.compile(
    r"(?P<din>[A-NP-Z1-9][A-NP-Z0-9]{2}[0-9]{10})(?P<flags>[0-9A-HJ-NPR-Y]{2})?(?P<check>[0-9A-Z*])?"
    r"(?P<product>[A-Z][A-Z0-9]{4}[A-Za-z0-9][A-Z0-9][a-z0-9])?"
)


def parse_lookup(text: str) -> ScanResult | None:
    """What the scan box received, read leniently for finding a record (not for a custody check, which
    uses parse_scan): a bar code with data identifiers (DIN, product code, Data Matrix message) exactly
    as parse_scan reads it; otherwise a DIN typed with or without its flags and check character, and
    optionally followed by a product code. Flags and a check character, when present, are verified
    (ST-001 §2.4.1; DOMAIN.md §5). Returns None for text that is no ISBT 128 identifier (a donor code,
    a subject id); raises Isbt128Error for an identifier that is one but is wrong."""
    raw = text.strip()
    body = _AIM_PREFIX.sub("", raw)
    if body[:1] in ("=", "&"):
        return parse_scan(raw)
    compact = "".join(body.split())
    found = _TYPED_DIN.fullmatch(compact) or _TYPED_DIN.fullmatch(compact.upper())
    if found is None:
        return None
    din = validate_din(found["din"])
    if found["check"] is not None:
        validate_din_with_check(din + found["check"])
    if found["flags"] is not None:
        validate_flags(found["flags"], din)
    product = validate_product_code(found["product"]) if found["product"] else None
    kind: ScanKind = "compound" if product else "din_keyboard"
    return ScanResult(
        kind, raw, din=din, flags=found["flags"], check_char=check_character(din), product_code=product
    )
