"""ZPL II output of a dose label (bank.zpl): one ^XA…^XZ format per label, sizes in print-head dots at
203 and 300 dpi, Code 128 fields whose invocation codes spell exactly the ISBT 128 data structures,
the Data Matrix carrying the compound message, the boxed check character, escaped text."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bank import isbt128
from bank.labels import LabelData
from bank.zpl import code128_field, field_text, label_zpl, render_labels_zpl

pytestmark = pytest.mark.requirement("DOS-LABELS", "DOS-ISBT128")

LABEL = LabelData(
    din="G123426000042",
    product_code="S0002VA0",
    product_name="Allogeneic adipose-tissue MSC",
    cells_text="50 × 10⁶ viable cells",
    volume_text="5 mL",
    expiry_local=datetime(2027, 4, 12, 23, 59, tzinfo=ZoneInfo("Europe/Paris")),
    storage_text="Store at ≤ −150 °C",
    trial_code="MAESTRO-4MS",
    subject_id="MAESTRO-4MS-001-017",
    dose_number=2,
    facility_name="Cell Therapy Unit",
    statements=(
        "Caution: New Drug—Limited by Federal (or United States) law to investigational use.",
        "For clinical trial use only",
    ),
    dose_count=3,
)


def interpret_code128(field: str) -> str:
    """What a scanner reads from ^BC mode N field data: follow the start and shift codes (ZPL II
    Table 'Code 128 invocation characters'); in subset C digits go in pairs."""
    out, subset, i = [], None, 0
    switch = {">:": "B", ">;": "C", ">9": "A", ">5": "C", ">6": "B", ">7": "A"}
    while i < len(field):
        pair = field[i : i + 2]
        if pair in switch and (subset is not None or pair in (">:", ">;", ">9")):
            subset, i = switch[pair], i + 2
        elif pair == "><":
            assert subset in ("A", "B")
            out.append(">")
            i += 2
        elif subset == "C":
            assert re.fullmatch(r"\d\d", pair), f"odd digit in subset C at {i}: {field!r}"
            out.append(pair)
            i += 2
        else:
            assert subset == "B" and field[i] != ">", field
            out.append(field[i])
            i += 1
    return "".join(out)


def unescape(text: str) -> str:
    return re.sub(r"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]).decode("cp1252"), text)


@pytest.mark.parametrize(
    "data",
    [
        LABEL.din_data,
        LABEL.product_data,
        LABEL.expiry_data,
        "=<S00011A0",
        "&>0271021234",
        "1234",
        "=W00000912345600",
        "A>1>2",
    ],
)
def test_code128_field_spells_the_data_exactly(data):
    assert interpret_code128(code128_field(data)) == data


def test_digit_runs_are_packed_in_subset_c():
    assert code128_field("=G12342600004200") == ">:=G>512342600004200"
    assert code128_field("&>0271022359") == ">:&><>50271022359"  # '>' of the data identifier escaped


@pytest.mark.parametrize("dpi, dots", [(203, 8), (300, 12)])
@pytest.mark.parametrize("size", ["100x100", "100x50"])
def test_label_format_structure(dpi, dots, size):
    zpl = label_zpl(LABEL, size, dpi)
    assert zpl.startswith("^XA\n^CI27\n") and zpl.rstrip().endswith("^XZ") and zpl.count("^XA") == 1
    assert f"^PW{100 * dots}" in zpl and f"^LL{int(size[4:]) * dots}" in zpl
    fields = re.findall(r"\^BCN,\d+,N,N,N,N\^FH_\^FD([^^]+)\^FS", zpl)
    assert sorted(interpret_code128(unescape(f)) for f in fields) == sorted(
        [LABEL.din_data, LABEL.product_data, LABEL.expiry_data]
    )
    assert LABEL.expiry_data == "&>0271022359"  # c=0 (2000s), 12 APR 2027 = day 102, time as printed
    matrix = re.findall(r"\^BXN,\d+,200,(\d+),(\d+),6,~,1\^FH_\^FD([^^]+)\^FS", zpl)
    assert len(matrix) == 1 and unescape(matrix[0][2]) == LABEL.matrix_data
    assert isbt128.parse_scan(unescape(matrix[0][2])).din == LABEL.din
    texts = [unescape(t) for t in re.findall(r"\^A0[NR],\d+,\d+\^FH_\^FD([^^]*)\^FS", zpl)]
    joined = " ".join(texts)
    assert "G1234 26 000042" in texts and LABEL.check_char in texts and "00" in texts
    assert "For clinical trial use only" in joined and "New Drug—Limited" in joined
    assert "10^6" in joined and "<= -150 °C" in joined and "MAESTRO-4MS" in joined


def test_check_character_is_printed_inside_its_box():
    zpl = label_zpl(LABEL, "100x100", 203)
    lines = zpl.splitlines()
    box = next(i for i, line in enumerate(lines) if re.match(r"\^FO\d+,\d+\^GB(\d+),\1,\d+\^FS", line))
    x, y, side = map(int, re.match(r"\^FO(\d+),(\d+)\^GB(\d+)", lines[box]).groups())
    cx, cy = map(int, re.match(r"\^FO(\d+),(\d+)", lines[box + 1]).groups())
    assert lines[box + 1].endswith(f"^FD{LABEL.check_char}^FS")
    assert x < cx < x + side and y <= cy < y + side


def test_positions_scale_with_the_print_head():
    def origins(zpl):
        return [tuple(map(int, m)) for m in re.findall(r"\^FO(\d+),(\d+)", zpl)]

    low, high = origins(label_zpl(LABEL, "100x100", 203)), origins(label_zpl(LABEL, "100x100", 300))
    assert len(low) == len(high)
    for (x1, y1), (x2, y2) in zip(low, high, strict=True):
        assert abs(x2 - x1 * 1.5) <= 1.5 and abs(y2 - y1 * 1.5) <= 1.5


def test_field_text_escapes_zpl_control_characters_and_code_page_1252():
    assert field_text("a^b~c_d") == "a_5Eb_7Ec_5Fd"
    assert field_text("≤ −150 °C × 10⁶") == "<= -150 _B0C _D7 10^6".replace("^", "_5E")
    assert unescape(field_text("New Drug—Limited")) == "New Drug—Limited"


def test_several_labels_and_refusals():
    assert render_labels_zpl([LABEL, LABEL], "100x50", 300).count("^XA") == 2
    with pytest.raises(ValueError):
        label_zpl(LABEL, "100x100", 600)
    with pytest.raises(ValueError):
        label_zpl(LABEL, "50x50", 203)
    with pytest.raises(ValueError):
        render_labels_zpl([], "100x100", 203)
