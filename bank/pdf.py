"""PDF kit for printed records (certificate of analysis, custody report, audit print): A4 documents
with header, key-value blocks, wrapping tables, the e-signature manifestation of 21 CFR 11.50 /
Annex 11 §14, "Page N of M" and a SHA-256 digest of the content the document shows in every footer."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from bank.digest import content_digest
from bank.i18n import Text, localize, t

FONT, FONT_BOLD = "Vera", "Vera-Bold"


def register_fonts() -> None:
    """Register Bitstream Vera, shipped inside reportlab: the same font on every machine (so output is
    reproducible) with the glyphs labels need (≤ − × ° µ —) that the PDF base-14 fonts lack."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    pdfmetrics.registerFont(TTFont(FONT, os.path.join(folder, "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, os.path.join(folder, "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


# --- The content digest ----------------------------------------------------------------------


# --- The document model ----------------------------------------------------------------------


@dataclass(frozen=True)
class DinText:
    """A DIN as printed for the eye (``G1234 26 000001``) with its keyboard check character in a box
    (ISBT 128 ST-001); usable as a value of a KeyValueSection."""

    din: str
    check_char: str


@dataclass(frozen=True)
class KeyValueSection:
    heading: str
    items: Sequence[tuple[str, str | DinText]]


@dataclass(frozen=True)
class TableSection:
    """A table whose cells wrap; ``widths`` are relative column widths (default: equal)."""

    heading: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None
    empty_text: str = t("None recorded.")


@dataclass(frozen=True)
class TextSection:
    heading: str
    text: str  # plain text; blank lines separate paragraphs


Section = KeyValueSection | TableSection | TextSection


@dataclass(frozen=True)
class Signature:
    """An e-signature manifestation: printed name, meaning and the UTC time of signing."""

    printed_name: str
    meaning: str
    signed_at: datetime

    def __post_init__(self) -> None:
        if self.signed_at.tzinfo is None:
            raise ValueError("signature time must be timezone-aware so it can be printed in UTC")


@dataclass(frozen=True)
class Document:
    """A printed record. ``content`` is the plain data the document shows (JSON-able, see
    ``canonical_json``); its digest is printed in every footer."""

    title: str
    facility: str
    sections: Sequence[Section]
    content: Any
    signatures: Sequence[Signature] = ()
    reference: str = ""  # e.g. the lot or dose identifier, printed in the header
    printed_at: datetime | None = None  # passed in, never read from the clock, so prints reproduce


def format_utc(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


# --- Drawing ---------------------------------------------------------------------------------

_MARGIN = 18 * mm
_WIDTH = A4[0] - 2 * _MARGIN
_GRID = colors.HexColor("#9a9a9a")
_SHADE = colors.HexColor("#e8e8e8")


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5)
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=20, spaceAfter=6
        ),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=10.5),
    }


SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
SUPERSCRIPT_RUN = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻]+")


def _shown(text: Any) -> str:
    """A document's text as the reader reads it: messages (t(...)) in the reader's language; data (names,
    values, identifiers) as it is. The content digest is computed from the data, never from this."""
    return text.localized() if isinstance(text, Text) else str(text)


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    # Vera has no ⁴–⁹ glyphs: superscript runs (10⁸ cells) are set as real superscripts instead.
    markup = SUPERSCRIPT_RUN.sub(
        lambda m: f"<super>{m.group().translate(SUPERSCRIPTS)}</super>", escape(_shown(text))
    )
    return Paragraph(markup.replace("\n", "<br/>"), style)


def _grid(header: bool) -> TableStyle:
    rules = [
        ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        rules.append(("BACKGROUND", (0, 0), (-1, 0), _SHADE))
    return TableStyle(rules)


def _din(value: DinText, st: dict[str, ParagraphStyle]) -> Table:
    din = f"{value.din[:5]} {value.din[5:7]} {value.din[7:]}"
    style = ParagraphStyle("din", parent=st["head"], fontSize=10, leading=12)
    table = Table([[_p(din, style), _p(value.check_char, style)]], colWidths=[42 * mm, 6 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BOX", (1, 0), (1, 0), 0.8, colors.black),
                ("ALIGN", (1, 0), (1, 0), "CENTER"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _section(section: Section, st: dict[str, ParagraphStyle]) -> list[Any]:
    head = _p(section.heading, st["heading"])
    if isinstance(section, KeyValueSection):
        rows = [
            [_p(k, st["head"]), _din(v, st) if isinstance(v, DinText) else _p(v, st["cell"])]
            for k, v in section.items
        ]
        table = Table(rows, colWidths=[0.32 * _WIDTH, 0.68 * _WIDTH])
        table.setStyle(_grid(header=False))
        table.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), _SHADE)]))
        return [KeepTogether([head, table])] if rows else [head]
    if isinstance(section, TextSection):
        return [head] + [_p(part.strip(), st["body"]) for part in section.text.split("\n\n") if part.strip()]
    if not section.rows:
        return [KeepTogether([head, _p(section.empty_text, st["body"])])]
    weights = list(section.widths or [1.0] * len(section.columns))
    if len(weights) != len(section.columns) or any(len(r) != len(section.columns) for r in section.rows):
        raise ValueError(f"table {section.heading!r}: every row needs {len(section.columns)} cells")
    widths = [_WIDTH * w / sum(weights) for w in weights]
    data = [[_p(c, st["head"]) for c in section.columns]]
    data += [[_p(c, st["cell"]) for c in row] for row in section.rows]
    table = Table(data, colWidths=widths, repeatRows=1)  # header row repeats on each page
    table.setStyle(_grid(header=True))
    return [head, table]


def _signatures(signatures: Sequence[Signature], st: dict[str, ParagraphStyle]) -> list[Any]:
    head = _p(t("Electronic signatures"), st["heading"])
    if not signatures:
        return [KeepTogether([head, _p(t("No electronic signature recorded."), st["body"])])]
    data = [[_p(c, st["head"]) for c in (t("Printed name"), t("Meaning"), t("Date and time (UTC)"))]]
    # The meaning is stored in English (the signature binds it) and printed in the reader's language.
    data += [
        [
            _p(s.printed_name, st["cell"]),
            _p(localize(s.meaning), st["cell"]),
            _p(format_utc(s.signed_at), st["cell"]),
        ]
        for s in signatures
    ]
    table = Table(data, colWidths=[0.4 * _WIDTH, 0.3 * _WIDTH, 0.3 * _WIDTH])
    table.setStyle(_grid(header=True))
    return [KeepTogether([head, table])]


def _canvas_class(footer_left: str, footer_centre: str) -> type[Canvas]:
    """A canvas that holds its pages until the end so each footer can say "Page N of M"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(FONT, 7)
                self.setFillColor(colors.black)
                self.drawString(_MARGIN, 10 * mm, footer_left)
                self.drawCentredString(A4[0] / 2, 6.5 * mm, footer_centre)
                page = t("Page %(number)s of %(total)s", number=number, total=total)
                self.drawRightString(A4[0] - _MARGIN, 10 * mm, page.localized())
                super().showPage()
            super().save()

    return NumberedCanvas


def build_document(doc: Document, *, deterministic: bool = False) -> bytes:
    """Draw ``doc`` as an A4 PDF. ``deterministic=True`` fixes the creation date and document id
    (reportlab's invariant mode) so the same document gives the same bytes."""
    st = _styles()
    digest = content_digest(doc.content)
    printed = localize(t("Printed %(when)s", when=format_utc(doc.printed_at))) if doc.printed_at else ""
    title, reference = _shown(doc.title), _shown(doc.reference)

    def header(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT_BOLD, 9)
        canvas.drawString(_MARGIN, A4[1] - 12 * mm, doc.facility)
        canvas.setFont(FONT, 9)
        canvas.drawRightString(A4[0] - _MARGIN, A4[1] - 12 * mm, " · ".join(filter(None, [title, reference])))
        canvas.setStrokeColor(_GRID)
        canvas.setLineWidth(0.5)
        canvas.line(_MARGIN, A4[1] - 14 * mm, A4[0] - _MARGIN, A4[1] - 14 * mm)
        canvas.line(_MARGIN, 13.5 * mm, A4[0] - _MARGIN, 13.5 * mm)
        canvas.restoreState()

    story: list[Any] = [_p(doc.title, st["title"])]
    if doc.reference:
        story.append(_p(doc.reference, st["body"]))
    story.append(Spacer(1, 4))
    for section in doc.sections:
        story.extend(_section(section, st))
    story.extend(_signatures(doc.signatures, st))

    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=doc.facility,
        subject=f"content SHA-256 {digest}",
        creator="msc-bank",
        invariant=1 if deterministic else 0,
    )
    canvasmaker = _canvas_class(localize(t("Content SHA-256: %(digest)s", digest=digest)), printed)
    template.build(story, onFirstPage=header, onLaterPages=header, canvasmaker=canvasmaker)
    return buffer.getvalue()
