"""Dose labels: the ISBT 128 content of a cellular therapy dose label (DIN with boxed check character,
product code, expiry, Data Matrix; ST-001, DOMAIN §5), laid out once in millimetres as plain elements
and drawn to PDF here; ``bank.zpl`` draws the same elements for Zebra printers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from bank import isbt128
from bank.barcodes import QUIET_MODULES, code128_width, datamatrix_size, draw_code128, draw_datamatrix
from bank.i18n import t
from bank.pdf import FONT, FONT_BOLD, SUPERSCRIPT_RUN, SUPERSCRIPTS, register_fonts

LABEL_SIZES: dict[str, tuple[float, float]] = {"100x100": (100 * mm, 100 * mm), "100x50": (100 * mm, 50 * mm)}
LEADING = 1.2  # line box height / font size
_ASCENT = 0.93  # Vera's ascent: baseline sits this far (× size) below the top of a line box
_SUPER_SCALE, _SUPER_RISE = 0.65, 0.38


# The kit's own words by label language (the domain gives every other text already in that language).
WORDS = {
    "en": {"trial": "Trial", "subject": "Subject", "dose": "Dose", "of": "of"},
    "fr": {"trial": "Essai", "subject": "Sujet", "dose": "Dose", "of": "sur"},
}
# Months written out (abbreviated) so a date never reads two ways: 03 DÉC 2027, not 03/12 or 12/03.
MONTHS = {
    "en": ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    "fr": ("JANV", "FÉVR", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOÛT", "SEPT", "OCT", "NOV", "DÉC"),
}


class LabelOverflowError(ValueError):
    """Label text does not fit its area even at the smallest legible size; nothing is printed."""


@dataclass(frozen=True)
class LabelData:
    """Everything printed on one dose label. Texts are printed as given (``cells_text`` may use
    superscripts: ``1.0 × 10⁸ viable cells``); ``expiry_local`` is aware, in the zone to print."""

    din: str
    product_code: str  # αooootds, e.g. S1234V00 (see isbt128.make_product_code)
    product_name: str
    cells_text: str
    volume_text: str
    expiry_local: datetime
    storage_text: str
    trial_code: str
    subject_id: str
    dose_number: int
    facility_name: str
    statements: tuple[str, ...] = ()
    flags: str = "00"
    check_char: str = ""  # empty: computed; given: verified against the DIN
    expiry_utc_shown: bool = False  # print UTC beneath the local expiry (shipping across zones)
    dose_count: int | None = None  # prints "Dose 2 of 4"
    extra_lines: tuple[str, ...] = ()
    language: str = "en"  # of the kit's words: trial, subject, dose, expiry month

    def __post_init__(self) -> None:
        if self.language not in WORDS:
            raise ValueError(f"label language must be one of {', '.join(WORDS)}, not {self.language!r}")
        expected = isbt128.check_character(self.din)
        if self.check_char and self.check_char != expected:
            raise ValueError(
                f"check character {self.check_char} does not belong to DIN {self.din}: expected {expected}"
            )
        object.__setattr__(self, "check_char", expected)
        isbt128.validate_flags(self.flags)
        isbt128.validate_product_code(self.product_code)
        if self.expiry_local.tzinfo is None:
            raise ValueError("expiry_local must be timezone-aware: the label prints its zone")

    @property
    def din_data(self) -> str:
        return isbt128.encode_din(self.din, self.flags)

    @property
    def product_data(self) -> str:
        return isbt128.encode_product(self.product_code)

    @property
    def expiry_data(self) -> str:
        return isbt128.encode_expiry(self.expiry_local)  # wall-clock time as printed on the label

    @property
    def matrix_data(self) -> str:
        return isbt128.encode_compound([self.din_data, self.product_data, self.expiry_data])


# --- Layout elements (millimetres from the label's top-left corner, as printers count) ------------


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # top of the line box; the baseline is _ASCENT × size below
    size: float  # points
    text: str
    bold: bool = False
    rotated: bool = False  # 90° clockwise, reading downwards; (x, y) is then the top-left of its box


@dataclass(frozen=True)
class Linear:
    """A Code 128 symbol; (x, y) is the top-left of the bars, the quiet zones lie outside."""

    x: float
    y: float
    module: float
    height: float
    data: str


@dataclass(frozen=True)
class Matrix:
    x: float
    y: float
    module: float
    data: str


@dataclass(frozen=True)
class Frame:
    """A rectangle outline of line width ``line``; ``h == 0`` draws a horizontal rule."""

    x: float
    y: float
    w: float
    h: float
    line: float


Element = Text | Linear | Matrix | Frame
Line = tuple[str, bool, float]  # text, bold, size relative to the block's size


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points, superscript runs set smaller (Vera has no ⁴–⁹ glyphs)."""
    return _unit_width(text, bold) * size


@lru_cache(maxsize=8192)
def _unit_width(text: str, bold: bool) -> float:
    # Width at 1 pt: a glyph's advance scales with the size, and fitting a block tries many sizes of
    # the same few strings (most of a label's layout time before it was remembered).
    font, total, pos = FONT_BOLD if bold else FONT, 0.0, 0
    for match in SUPERSCRIPT_RUN.finditer(text):
        total += stringWidth(text[pos : match.start()], font, 1.0)
        total += stringWidth(match.group().translate(SUPERSCRIPTS), font, _SUPER_SCALE)
        pos = match.end()
    return total + stringWidth(text[pos:], font, 1.0)


def _wrap(text: str, size: float, bold: bool, width: float) -> list[str]:
    # Split on plain spaces only: a no-break space (U+00A0) keeps "Dose 2 of 4" on one line. A word is
    # never broken (a subject id MESEMS-0042-S017 stays whole): one too wide for its area makes the block
    # try a smaller size, then refuse.
    lines: list[str] = []
    for word in filter(None, text.split(" ")):
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(joined, size, bold) <= width:
            lines[-1] = joined
        else:
            lines.append(word)
    return lines or [""]


def _block(
    x: float,
    y: float,
    w: float,
    h: float,
    lines: Sequence[Line],
    sizes: tuple[float, float],
    what: str,  # the area, named for a refusal (a message in the reader's language)
    wrap: bool = True,
) -> list[Text]:
    """Set ``lines`` in the box at the largest size in ``sizes`` (max, min) that fits, wrapping them
    unless ``wrap`` is false; refuse rather than overlap or print illegibly small text."""
    size, smallest = sizes
    while size >= smallest - 1e-6:
        wrapped = [
            (part, bold, size * scale)
            for text, bold, scale in lines
            if text
            for part in (_wrap(text, size * scale, bold, w * mm) if wrap else [text])
        ]
        fits = all(text_width(t, s, b) <= w * mm for t, b, s in wrapped)
        if fits and sum(s * LEADING for _, _, s in wrapped) <= h * mm:
            out, top = [], y
            for text, bold, s in wrapped:
                out.append(Text(x, top, s, text, bold))
                top += s * LEADING / mm
            return out
        size -= 0.25
    raise LabelOverflowError(
        t(
            "%(what)s does not fit a %(width)s × %(height)s mm area even at %(size)s pt",
            what=what,
            width=round(w),
            height=round(h),
            size=smallest,
        )
    )


def _linear(data: str, x: float, y: float, w: float, module: float, height: float) -> tuple[Linear, float]:
    """Place a Code 128 symbol whose left quiet zone starts at x; return it and where its bars start."""
    quiet = QUIET_MODULES * module
    if code128_width(data, module * mm) / mm > w + 1e-6:
        raise LabelOverflowError(
            t("bar code “%(data)s” is wider than its %(width)s mm area", data=data, width=w)
        )
    return Linear(x + quiet, y, module, height, data), x + quiet


def _din(label: LabelData, x: float, y: float, w: float, size: float) -> list[Element]:
    """Eye-readable DIN ``G1234 17 654321``, flags rotated, check character in a box (ST-001 §7.5)."""
    main = " ".join((label.din[:5], label.din[5:7], label.din[7:]))
    while text_width(main, size, True) / mm + 0.9 * size / mm + 1.6 * size / mm + 2.0 > w:
        size -= 0.25
    flag_size, side = size * 0.55, size * 1.3 / mm
    flags_x = x + text_width(main, size, True) / mm + 0.8
    box_x = flags_x + flag_size * LEADING / mm + 0.8
    box_y = y + (size * LEADING / mm - side) / 2
    char_w = text_width(label.check_char, size, True) / mm
    cap = 0.73 * size / mm  # Vera cap height: centre the capital in its box
    return [
        Text(x, y, size, main, bold=True),
        Text(
            flags_x,
            y + (size * LEADING / mm - text_width(label.flags, flag_size) / mm) / 2,
            flag_size,
            label.flags,
            rotated=True,
        ),
        Frame(box_x, box_y, side, side, 0.3),
        Text(
            box_x + (side - char_w) / 2,
            box_y + (side + cap) / 2 - _ASCENT * size / mm,
            size,
            label.check_char,
            bold=True,
        ),
    ]


def _zone(moment: datetime) -> str:
    name = moment.tzname() or ""
    if not name or name[0] in "+-" or name.startswith("UTC"):
        offset = moment.strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}" if offset not in ("+0000", "") else "UTC"
    return name


def _date(moment: datetime, language: str) -> str:
    """``03 DEC 2027 23:59`` with the month in the label language (ISBT 128 eye-readable order)."""
    return f"{moment:%d} {MONTHS[language][moment.month - 1]} {moment:%Y %H:%M}"


def _texts(label: LabelData) -> dict[str, list[Line]]:
    local, words, nbsp = label.expiry_local, WORDS[label.language], "\u00a0"
    expiry: list[Line] = [(f"EXP {_date(local, label.language)} {_zone(local)}", True, 1.0)]
    if label.expiry_utc_shown:
        expiry.append((f"= {_date(local.astimezone(UTC), label.language)} UTC", False, 0.9))
    dose = f"{words['dose']}{nbsp}{label.dose_number}" + (
        f"{nbsp}{words['of']}{nbsp}{label.dose_count}" if label.dose_count else ""
    )
    return {
        "expiry": expiry,
        "trial": [(f"{words['trial']}{nbsp}{label.trial_code}", True, 1.0), (dose, True, 1.0)],
        # One line: the subject id is never split (the block refuses what does not fit).
        "subject": [(f"{words['subject']}{nbsp}{label.subject_id}", True, 1.0)],
        "product": [
            (label.product_name, True, 1.15),
            (f"{label.cells_text} · {label.volume_text}", False, 1.0),
            (label.storage_text, True, 1.0),
            *((t, False, 1.0) for t in label.extra_lines),
        ],
        "statements": [(s, True, 1.0) for s in label.statements],
        "facility": [(label.facility_name, True, 1.0)],
    }


def _layout_100x100(label: LabelData) -> list[Element]:
    module, bars, texts = 0.28, 13.0, _texts(label)
    din, din_x = _linear(label.din_data, 3, 11, 47, module, bars)
    product, product_x = _linear(label.product_data, 3, 57, 47, module, bars)
    expiry, expiry_x = _linear(label.expiry_data, 51.5, 57, 46, module, bars)
    dm_module = 15.0 / datamatrix_size(label.matrix_data)
    return [
        *_block(4, 3, 92, 5.5, texts["facility"], (9, 6), t("facility name")),
        Frame(4, 9.2, 92, 0, 0.25),
        din,
        *_din(label, din_x, 25, 44, 13),
        Matrix(81, 11, dm_module, label.matrix_data),
        *_block(52, 11.5, 27, 14, texts["trial"], (10, 6), t("trial and dose")),
        *_block(52, 26.5, 44, 6, texts["subject"], (10, 5.5), t("subject id (one line)"), wrap=False),
        Frame(4, 33, 92, 0, 0.25),
        *_block(4, 34.5, 92, 20.5, texts["product"], (10.5, 6), t("product description")),
        Frame(4, 55.5, 92, 0, 0.25),
        product,
        *_block(product_x, 70.5, 42, 6, [(label.product_code, True, 1.0)], (11, 8), t("product code")),
        expiry,
        *_block(expiry_x, 70.5, 42, 8.5, texts["expiry"], (9, 6), t("expiry"), wrap=False),
        Frame(4, 80, 92, 0, 0.25),
        *_block(4, 81, 92, 17, texts["statements"], (8, 5.5), t("statements")),
    ]


def _layout_100x50(label: LabelData) -> list[Element]:
    module, bars, texts = 0.25, 8.0, _texts(label)
    din, din_x = _linear(label.din_data, 1.5, 2.5, 44, module, bars)
    product, product_x = _linear(label.product_data, 47, 2.5, 44, module, bars)
    expiry, expiry_x = _linear(label.expiry_data, 1.5, 18, 38, module, 7.5)
    dm_module = 12.0 / datamatrix_size(label.matrix_data)
    # Compact: extra lines are left out; the facility name goes beside the product code.
    items = (texts["trial"][0], texts["subject"][0], texts["trial"][1])
    trial = " · ".join(text.replace(" ", "\u00a0") for text, _, _ in items)  # items never split
    info = [*texts["product"][:3], (trial, True, 1.0)]
    return [
        din,
        *_din(label, din_x, 11, 41, 10.5),
        product,
        *_block(product_x, 11, 17, 4.8, [(label.product_code, True, 1.0)], (10, 7), t("product code")),
        *_block(product_x + 18, 11, 25, 5, texts["facility"], (6.5, 4.5), t("facility name")),
        Frame(2, 16.8, 96, 0, 0.25),
        expiry,
        *_block(expiry_x, 26.5, 35, 8, texts["expiry"], (7.5, 5), t("expiry"), wrap=False),
        *_block(40.5, 18, 44, 19, info, (7.5, 5), t("product description")),
        Matrix(86, 19, dm_module, label.matrix_data),
        Frame(2, 37.2, 96, 0, 0.25),
        *_block(3, 37.8, 94, 11, texts["statements"], (7, 5), t("statements")),
    ]


def label_elements(label: LabelData, size: str = "100x100") -> list[Element]:
    """The label laid out as elements in millimetres; ``size`` is a key of ``LABEL_SIZES``."""
    if size not in LABEL_SIZES:
        raise ValueError(f"unknown label size {size!r}; choose one of {', '.join(LABEL_SIZES)}")
    register_fonts()  # text is measured with the fonts it is drawn with
    return _layout_100x100(label) if size == "100x100" else _layout_100x50(label)


# --- PDF --------------------------------------------------------------------------------------


def _draw_text(canvas: Canvas, x: float, y: float, text: str, size: float, bold: bool) -> None:
    font, pos = FONT_BOLD if bold else FONT, 0
    for match in SUPERSCRIPT_RUN.finditer(text):
        plain = text[pos : match.start()]
        canvas.setFont(font, size)
        canvas.drawString(x, y, plain)
        x += stringWidth(plain, font, size)
        sup = match.group().translate(SUPERSCRIPTS)
        canvas.setFont(font, size * _SUPER_SCALE)
        canvas.drawString(x, y + size * _SUPER_RISE, sup)
        x += stringWidth(sup, font, size * _SUPER_SCALE)
        pos = match.end()
    canvas.setFont(font, size)
    canvas.drawString(x, y, text[pos:])


def _draw(canvas: Canvas, element: Element, height: float) -> None:
    def top(y_mm: float) -> float:  # label millimetres from the top → PDF points from the bottom
        return height - y_mm * mm

    if isinstance(element, Text):
        if element.rotated:
            canvas.saveState()
            canvas.translate(element.x * mm + (LEADING - _ASCENT) * element.size, top(element.y))
            canvas.rotate(-90)
            _draw_text(canvas, 0, 0, element.text, element.size, element.bold)
            canvas.restoreState()
        else:
            _draw_text(
                canvas,
                element.x * mm,
                top(element.y) - _ASCENT * element.size,
                element.text,
                element.size,
                element.bold,
            )
    elif isinstance(element, Linear):
        quiet = QUIET_MODULES * element.module * mm
        draw_code128(
            canvas,
            element.data,
            element.x * mm - quiet,
            top(element.y + element.height),
            module=element.module * mm,
            height=element.height * mm,
        )
    elif isinstance(element, Matrix):
        side = datamatrix_size(element.data) * element.module
        draw_datamatrix(
            canvas, element.data, element.x * mm, top(element.y + side), module=element.module * mm
        )
    else:
        canvas.setLineWidth(element.line * mm)
        if element.h == 0:
            canvas.line(element.x * mm, top(element.y), (element.x + element.w) * mm, top(element.y))
        else:
            canvas.rect(element.x * mm, top(element.y + element.h), element.w * mm, element.h * mm)


def render_labels_pdf(
    labels: Sequence[LabelData], size: str = "100x100", deterministic: bool = False
) -> bytes:
    """One page per label, page size = label size. ``deterministic=True`` gives identical bytes for
    identical labels (fixed creation date and document id)."""
    if not labels:
        raise ValueError("no labels to render")
    layouts = [label_elements(label, size) for label in labels]  # refuse before drawing anything
    width, height = LABEL_SIZES[size]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1 if deterministic else 0)
    canvas.setTitle(f"Dose labels {labels[0].din}" + (f" (+{len(labels) - 1})" if len(labels) > 1 else ""))
    canvas.setAuthor(labels[0].facility_name)
    canvas.setCreator("msc-bank")
    for elements in layouts:
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setStrokeColorRGB(0, 0, 0)
        for element in elements:
            _draw(canvas, element, height)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
