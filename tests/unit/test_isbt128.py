"""ISBT 128 identifiers (DOMAIN.md §5, §7; ICCBBA ST-001): DIN, MOD 37-2 check character, data
structures, and scans that must be refused with a message saying what is wrong."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank import isbt128
from bank.isbt128 import Isbt128Error

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"


def mod37_2_as_written(din: str) -> str:
    """DOMAIN.md §5 word for word: s = ((s + v) * 2) mod 37 per character, then (38 − s) mod 37."""
    s = 0
    for ch in din:
        s = ((s + ALPHABET.index(ch)) * 2) % 37
    return ALPHABET[(38 - s) % 37]


@pytest.mark.parametrize(
    "din,check",
    [("G123417654321", "A"), ("A999818123456", "N"), ("W000009123456", "G")],
    ids=["st001-G1234", "st001-A9998", "st001-W0000"],
)
def test_check_characters_of_the_standards_worked_examples(din, check):
    assert isbt128.check_character(din) == check


fins = st.tuples(
    st.sampled_from("ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"),
    st.text("ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789", min_size=2, max_size=2),
    st.integers(0, 99),
).map(lambda t: f"{t[0]}{t[1]}{t[2]:02d}")


@given(fin=fins, year=st.integers(0, 99), seq=st.integers(1, 999_999))
def test_library_check_character_matches_the_algorithm_as_written(fin, year, seq):
    din = isbt128.make_din(fin, 2000 + year, seq)
    assert len(din) == 13
    assert isbt128.check_character(din) == mod37_2_as_written(din)


def test_din_assembly_and_round_trip_through_a_scan():
    din = isbt128.make_din("G1234", 2026, 42)
    assert din == "G123426000042"
    scanned = isbt128.parse_scan(isbt128.encode_din(din, "00"))
    assert (scanned.kind, scanned.din, scanned.flags) == ("din", din, "00")
    typed = isbt128.parse_scan(f"G1234 26 000042 {isbt128.check_character(din)}")
    assert typed.kind == "din_keyboard" and typed.din == din


def test_expiry_structure_encodes_julian_day_and_defaults_to_2359():
    assert isbt128.encode_expiry(datetime(2026, 2, 1, 14, 5)) == "&>0260321405"
    assert isbt128.encode_expiry(date(2026, 12, 31)) == "&>0263652359"
    assert isbt128.parse_scan("&>0260321405").expiry == datetime(2026, 2, 1, 14, 5)


def test_data_matrix_message_carries_din_product_and_expiry():
    din = "G123426000042"
    message = isbt128.encode_compound(
        [
            isbt128.encode_din(din),
            isbt128.encode_product("S0002V00"),
            isbt128.encode_expiry(date(2027, 1, 15)),
        ]
    )
    parts = isbt128.parse_concatenated(message)
    assert [p.kind for p in parts] == ["din", "product", "expiry"]
    merged = isbt128.parse_scan(message)
    assert merged.din == din and merged.product_code == "S0002V00"


@pytest.mark.parametrize(
    "text,says",
    [
        ("", "nothing was scanned"),
        ("G123426000042B", "does not match this DIN"),  # wrong check character
        ("G12342600004", "14 characters, got 12"),  # too short
        ("O123426000042A", "facility"),  # letter O is never a FIN's first character
        ("=G12342600", "too short"),  # DIN bar code cut short
        ("=%ABC", "unknown data identifier"),
        ("&>0263672359", "Julian day 367"),  # 2026 has 365 days
        ("&>0260322460", "hour 24"),
        ("HELLO-123", ""),
    ],
)
def test_invalid_scans_are_refused_saying_what_is_wrong(text, says):
    with pytest.raises(Isbt128Error) as e:
        isbt128.parse_scan(text)
    assert says.lower() in str(e.value).lower()


def test_wrong_check_character_message_does_not_reveal_the_right_one():
    din = "G123417654321"
    with pytest.raises(Isbt128Error) as e:
        isbt128.validate_din_with_check(din + "B")
    message = str(e.value)
    assert "expected" not in message and " A" not in message  # the right character is A
    assert "re-read the label" in message
