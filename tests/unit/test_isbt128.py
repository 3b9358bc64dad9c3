"""ISBT 128 identifiers (DOMAIN.md §5, §7; ICCBBA ST-001): DIN, MOD 37-2 check character, data
structures, and scans that must be refused with a message saying what is wrong."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank import isbt128
from bank.isbt128 import Isbt128Error

pytestmark = pytest.mark.requirement("DOS-ISBT128")

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


# --- Flag characters (ST-001 §2.4.1; DOMAIN.md §5 and §7) -------------------------------------------
# Type 3 flags carry the DIN's ISO/IEC 7064 MOD 37-2 check value plus 60 (the UK Red Book, Annex 2:
# G123 498 654 321 has check value 17, bar-code flags 77 and the eye-readable check character H).


@pytest.mark.parametrize(
    "din,value,flags,check",
    [("G123498654321", 17, "77", "H"), ("G123417654321", 10, "70", "A"), ("W000009123456", 16, "76", "G")],
)
def test_type3_flags_carry_the_check_value_plus_60(din, value, flags, check):
    assert isbt128.check_value(din) == value
    assert isbt128.type3_flags(din) == flags
    assert isbt128.check_character(din) == check
    assert isbt128.parse_scan(isbt128.encode_din(din, flags)).flags == flags


@pytest.mark.parametrize("flags", ["71", "60", "96"])
def test_a_wrong_type3_flag_is_refused_without_naming_the_right_one(flags):
    din = "G123417654321"  # its type 3 flags are 70
    with pytest.raises(Isbt128Error, match="do not carry this DIN's check value") as e:
        isbt128.parse_scan(f"={din}{flags}")
    assert "70" not in str(e.value)
    with pytest.raises(Isbt128Error):
        isbt128.encode_din(din, flags)
    with pytest.raises(Isbt128Error):
        isbt128.parse_scan(f"G1234 17 654321 {flags} A")  # the eye-readable form with flags


@pytest.mark.parametrize("flags,ok", [("00", True), ("59", True), ("A1", True), ("97", False), ("99", False)])
def test_type1_and_type2_flags_are_taken_and_unassigned_pairs_refused(flags, ok):
    din = "G123417654321"
    if ok:
        assert isbt128.validate_flags(flags, din) == flags
    else:
        with pytest.raises(Isbt128Error, match="not assigned"):
            isbt128.validate_flags(flags, din)


# --- What the scan box reads (parse_lookup) --------------------------------------------------------


@pytest.mark.parametrize(
    "text,din,flags,product",
    [
        ("G123417654321", "G123417654321", None, None),  # the DIN alone, as on a container record
        ("G1234 17 654321 A", "G123417654321", None, None),  # typed with its boxed check character
        ("g123417654321a", "G123417654321", None, None),  # any case
        ("G1234 17 654321 70 A", "G123417654321", "70", None),  # the printed form with flags
        ("G12341765432100", "G123417654321", "00", None),  # DIN + flags, no data identifier
        ("G123417654321 S0002VA0", "G123417654321", None, "S0002VA0"),  # a container: DIN + product code
        ("G1234 17 654321 A S0002VA0", "G123417654321", None, "S0002VA0"),
        ("=G12341765432170", "G123417654321", "70", None),  # the DIN bar code
        ("=+03000=G12341765432100=<S0002VA0&>0270152359", "G123417654321", "00", "S0002VA0"),  # Data Matrix
    ],
)
def test_the_scan_box_reads_every_printed_form_of_a_din(text, din, flags, product):
    found = isbt128.parse_lookup(text)
    assert (found.din, found.flags, found.product_code) == (din, flags, product)


@pytest.mark.parametrize("text", ["D-2026-0001", "MESEMS-01-003", "hello world", "G1234"])
def test_text_that_is_no_isbt_identifier_is_left_to_the_other_lookups(text):
    assert isbt128.parse_lookup(text) is None


@pytest.mark.parametrize(
    "text,says",
    [
        ("G123417654321B", "check character"),
        ("G12341765432171", "type 3"),
        ("G12341765432198", "not assigned"),
        ("=G12341765432171", "type 3"),
    ],
)
def test_the_scan_box_refuses_a_din_whose_check_or_flags_are_wrong(text, says):
    with pytest.raises(Isbt128Error, match=says):
        isbt128.parse_lookup(text)
