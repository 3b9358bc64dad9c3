"""The PDF kit without the application: dose labels at both sizes rasterised by pdftoppm at 200 and
300 dpi with every bar code decoded by zxing-cpp to the exact ISBT 128 data, text read back with pypdf,
the check character inside its box, byte-identical deterministic output; documents numbered
"Page N of M" with the content digest in every footer."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from pypdf import PdfReader

from bank import isbt128
from bank.barcodes import datamatrix_modules
from bank.digest import canonical
from bank.labels import LabelData, LabelOverflowError, render_labels_pdf
from bank.pdf import (
    Document,
    KeyValueSection,
    Signature,
    TableSection,
    TextSection,
    build_document,
    content_digest,
)
from tests import support
from tests.support import decoded

pytestmark = pytest.mark.requirement("DOS-LABELS", "DOS-ISBT128")

US = "Caution: New Drug—Limited by Federal (or United States) law to investigational use."
EU = "For clinical trial use only"
AUTO = "FOR AUTOLOGOUS USE ONLY"

LABEL = LabelData(
    din="G123417654321",
    product_code="S1234100",
    product_name="Autologous adipose-derived mesenchymal stromal cells, cryopreserved",
    cells_text="1.0 × 10⁸ viable cells",
    volume_text="20 mL",
    expiry_local=datetime(2026, 5, 4, 23, 59, tzinfo=ZoneInfo("Europe/Paris")),
    storage_text="Store at ≤ −150 °C",
    trial_code="MESEMS",
    subject_id="FR-01-004",
    dose_number=2,
    dose_count=4,
    facility_name="Example Cell Therapy Facility",
    statements=(US, EU, AUTO),
    expiry_utc_shown=True,
)
OTHER = dataclasses.replace(
    LABEL,
    din="A999818123456",
    check_char="",
    product_code="S4321V00",
    statements=(US, EU),
    expiry_utc_shown=False,
)


def raster(pdf: bytes, dpi: int) -> list[Image.Image]:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the labels cannot be rasterised")
    return support.raster(pdf, dpi)


@pytest.fixture(scope="module", params=["100x100", "100x50"])
def labels_pdf(request) -> tuple[str, bytes]:
    return request.param, render_labels_pdf([LABEL, OTHER], request.param, deterministic=True)


@pytest.mark.parametrize("dpi", [200, 300])
def test_every_bar_code_decodes_to_the_exact_isbt_128_data(labels_pdf, dpi):
    _size, pdf = labels_pdf
    pages = raster(pdf, dpi)
    assert len(pages) == 2  # one page per label
    for label, page in zip((LABEL, OTHER), pages, strict=True):
        found = decoded(page)
        assert sorted(found["Code128"]) == sorted([label.din_data, label.product_data, label.expiry_data])
        assert found["DataMatrix"] == [label.matrix_data]
    assert LABEL.din_data == "=G12341765432100"
    assert LABEL.product_data == "=<S1234100"
    assert LABEL.expiry_data == "&>0261242359"  # 4 May 2026 is day 124; the wall-clock time as printed
    assert LABEL.matrix_data == "=+03000=G12341765432100=<S1234100&>0261242359"
    assert isbt128.parse_scan(LABEL.matrix_data).din == LABEL.din


def test_text_reads_back_with_din_statements_and_expiry_zone(labels_pdf):
    size, pdf = labels_pdf
    first, second = (page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(first.split())
    assert "G1234 17 654321" in flat and "S1234100" in flat
    for statement in (US, EU, AUTO):
        assert statement in flat
    assert "EXP 04 MAY 2026 23:59 CEST" in flat and "04 MAY 2026 21:59 UTC" in flat
    assert "Subject FR-01-004" in flat.replace("\xa0", " ")
    assert "A999 8" not in flat and "A9998 18 123456" in " ".join(second.split())
    assert AUTO not in second and "UTC" not in second.replace("CEST", "")


def _check_char_positions(
    pdf: bytes,
) -> tuple[list[tuple[float, float]], list[tuple[float, float, float, float]]]:
    """Where a lone 'A' is drawn, and every rectangle the page strokes or fills."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    chars: list[tuple[float, float]] = []

    def visit(text, cm, tm, _font, _size):
        if text.strip() == "A":
            chars.append((cm[4] + tm[4], cm[5] + tm[5]))

    page.extract_text(visitor_text=visit)
    ops = page.get_contents().operations
    rects = [tuple(float(v) for v in operands) for operands, op in ops if op == b"re"]
    return chars, rects


@pytest.mark.parametrize("size", ["100x100", "100x50"])
def test_check_character_is_printed_alone_inside_a_box(size):
    chars, rects = _check_char_positions(render_labels_pdf([LABEL], size, deterministic=True))
    assert len(chars) == 1, "the check character is a text of its own"
    x, y = chars[0]
    boxes = [
        (rx, ry, w, h)
        for rx, ry, w, h in rects
        if rx < x < rx + w and ry < y < ry + h and 3 < w < 8 * 2.84 and abs(w - h) < 0.01
    ]
    assert boxes, "a square frame surrounds the check character"


def test_deterministic_mode_gives_identical_bytes():
    assert render_labels_pdf([LABEL], deterministic=True) == render_labels_pdf([LABEL], deterministic=True)
    data = {"lot": "L-1", "when": datetime(2026, 1, 1, tzinfo=UTC)}
    doc = Document("Audit print", "Facility", [TextSection("Note", "x")], content=data)
    assert build_document(doc, deterministic=True) == build_document(doc, deterministic=True)


def test_label_data_refuses_what_would_print_a_wrong_label():
    with pytest.raises(ValueError, match="expected A"):
        dataclasses.replace(LABEL, check_char="B")
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(LABEL, expiry_local=datetime(2026, 5, 4, 23, 59))
    with pytest.raises(isbt128.Isbt128Error, match="flag"):
        dataclasses.replace(LABEL, flags="O0")
    with pytest.raises(isbt128.Isbt128Error, match="product"):
        dataclasses.replace(LABEL, product_code="S1234")
    with pytest.raises(ValueError, match="unknown label size"):
        render_labels_pdf([LABEL], "50x50")
    with pytest.raises(LabelOverflowError, match="statements"):
        render_labels_pdf([dataclasses.replace(LABEL, statements=(US * 6,))], "100x50")


def test_datamatrix_symbol_is_square_and_deterministic():
    modules = datamatrix_modules(LABEL.matrix_data)
    assert len(modules) == len(modules[0]) and modules == datamatrix_modules(LABEL.matrix_data)
    assert all(modules[-1]) and all(row[0] for row in modules)  # the L-shaped finder pattern


# --- Documents ---------------------------------------------------------------------------------

ROWS = [
    (f"T{i}", "Sterility (Ph. Eur. 2.6.27), membrane filtration, 14 days", "No growth", "Pass")
    for i in range(70)
]
CONTENT = {
    "lot": "L-2026-014",
    "results": [list(r) for r in ROWS],
    "released": datetime(2026, 5, 4, 10, tzinfo=UTC),
}


def long_document() -> Document:
    return Document(
        title="Certificate of analysis",
        facility="Example Cell Therapy Facility",
        reference="Lot L-2026-014",
        sections=[
            KeyValueSection("Lot", [("Lot", "L-2026-014"), ("Cells", "1.0 × 10⁸ per dose")]),
            TableSection("Results", ["Test", "Method", "Result", "Verdict"], ROWS, widths=[1, 4, 2, 1]),
        ],
        signatures=[
            Signature("Jane Doe", "Released", datetime(2026, 5, 4, 12, 0, tzinfo=ZoneInfo("Europe/Paris")))
        ],
        content=CONTENT,
        printed_at=datetime(2026, 5, 5, 8, 0, tzinfo=UTC),
    )


def test_long_table_pages_are_numbered_n_of_m_with_the_content_digest_in_every_footer():
    reader = PdfReader(io.BytesIO(build_document(long_document(), deterministic=True)))
    total = len(reader.pages)
    assert total >= 2
    digest = content_digest(CONTENT)
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {total}" in text
        assert re.search(r"Content SHA-256: ([0-9a-f]{64})", text).group(1) == digest
        assert "Test" in text  # the header row repeats on every page
    last = reader.pages[-1].extract_text()
    assert "Jane Doe" in last and "Released" in last and "2026-05-04 10:00:00 UTC" in last


def test_content_digest_is_canonical_and_can_be_recomputed():
    one = {
        "b": [1, Decimal("2.50")],
        "a": date(2026, 5, 4),
        "t": datetime(2026, 5, 4, 12, tzinfo=ZoneInfo("Europe/Paris")),
    }
    two = {"t": datetime(2026, 5, 4, 10, tzinfo=UTC), "a": date(2026, 5, 4), "b": [1, Decimal("2.50")]}
    assert canonical(one).encode() == b'{"a":"2026-05-04","b":[1,"2.50"],"t":"2026-05-04T10:00:00+00:00"}'
    assert content_digest(one) == content_digest(two)
    assert content_digest({**two, "b": [1, Decimal("2.5")]}) != content_digest(two)
    with pytest.raises(TypeError, match="digest"):
        content_digest({"x": object()})


def test_signature_and_table_input_is_checked():
    with pytest.raises(ValueError, match="timezone-aware"):
        Signature("Jane Doe", "Released", datetime(2026, 5, 4, 12, 0))
    bad = Document("T", "F", [TableSection("Results", ["a", "b"], [("only one",)])], content={})
    with pytest.raises(ValueError, match="2 cells"):
        build_document(bad)
