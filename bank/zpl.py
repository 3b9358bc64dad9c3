"""ZPL II for Zebra-compatible thermal printers: the dose label laid out by ``bank.labels`` (same
elements, same millimetre positions) written as ^XA…^XZ for 203 dpi (8 dots/mm) or 300 dpi
(12 dots/mm) print heads, so a lab prints without label middleware.

Code 128 data is written with explicit subset invocation codes (start B, subset C for digit runs), so
the symbol does not depend on a printer's 'automatic mode' and a ``>`` of an ISBT 128 data identifier
(``&>``, ``=>``) is written as the invocation ``><``. Text fields go through ^FH hex escapes in code page
1252 (^CI27); characters the printer's font lacks are spelt out (``≤`` → ``<=``, ``10⁶`` → ``10^6``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bank.barcodes import datamatrix_size
from bank.labels import LABEL_SIZES, LEADING, Frame, LabelData, Linear, Matrix, Text, label_elements
from bank.pdf import SUPERSCRIPT_RUN, SUPERSCRIPTS

DOTS_PER_MM = {203: 8, 300: 12}  # Zebra print heads: 203 dpi = 8 dots/mm, 300 dpi = 12 dots/mm
LABEL_MM = {"100x100": (100, 100), "100x50": (100, 50)}
_SPELT = {"−": "-", "≤": "<=", "≥": ">=", "→": "->", "…": "..."}
_DIGITS = re.compile(r"[0-9]+")


def _dots(mm: float, dpm: int) -> int:
    return round(mm * dpm)


def field_text(text: str) -> str:
    """Field data for ^FH_: printable ASCII as is, '^', '~', '_' and every code page 1252 byte as _XX."""
    text = SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group().translate(SUPERSCRIPTS), text)
    for char, spelt in _SPELT.items():
        text = text.replace(char, spelt)
    out = []
    for byte in text.encode("cp1252", errors="replace"):
        ch = chr(byte)
        out.append(ch if " " <= ch <= "~" and ch not in "^~_" else f"_{byte:02X}")
    return "".join(out)


def code128_field(data: str) -> str:
    """^BC field data in mode N with explicit invocation codes: start B (``>:``), runs of 4 or more
    digits in subset C (``>5``, an even number of digits), back to B (``>6``); ``>`` as ``><``."""
    if not data or any(not " " <= ch <= "~" for ch in data):
        raise ValueError(f"Code 128 data must be printable ASCII: {data!r}")
    out, pos, subset = [], 0, None
    for match in _DIGITS.finditer(data):
        if len(match.group()) < 4:
            continue
        start, end = match.start(), match.end()
        if (end - start) % 2:  # subset C packs pairs: one digit stays in B
            start += 1
        if start > pos:
            out.append(">:" if subset is None else ">6")
            out.append(data[pos:start].replace(">", "><"))
            subset = "B"
        out.append(">;" if subset is None else ">5")
        out.append(data[start:end])
        subset, pos = "C", end
    if pos < len(data):
        out.append(">:" if subset is None else ">6")
        out.append(data[pos:].replace(">", "><"))
    return "".join(out)


def _text(el: Text, dpm: int) -> str:
    height = max(10, _dots(el.size * 25.4 / 72, dpm))
    # ZPL places the top of the character cell; the kit's y is the top of a line box LEADING × size high.
    y = el.y + (LEADING - 1) * el.size * 25.4 / 72 / 2
    rotation = "R" if el.rotated else "N"
    return (
        f"^FO{_dots(el.x, dpm)},{_dots(y, dpm)}^A0{rotation},{height},{height}^FH_^FD{field_text(el.text)}^FS"
    )


def _linear(el: Linear, dpm: int) -> str:
    module = max(1, _dots(el.module, dpm))
    height = _dots(el.height, dpm)
    return (
        f"^FO{_dots(el.x, dpm)},{_dots(el.y, dpm)}^BY{module},3,{height}"
        f"^BCN,{height},N,N,N,N^FH_^FD{field_text(code128_field(el.data))}^FS"
    )


def _matrix(el: Matrix, dpm: int) -> str:
    side = datamatrix_size(el.data)  # the same symbol size as the PDF (square ECC 200)
    module = max(1, _dots(el.module, dpm))
    return (
        f"^FO{_dots(el.x, dpm)},{_dots(el.y, dpm)}^BXN,{module},200,{side},{side},6,~,1"
        f"^FH_^FD{field_text(el.data)}^FS"
    )


def _frame(el: Frame, dpm: int) -> str:
    line = max(1, _dots(el.line, dpm))
    if el.h == 0:
        return f"^FO{_dots(el.x, dpm)},{_dots(el.y, dpm)}^GB{_dots(el.w, dpm)},{line},{line}^FS"
    return f"^FO{_dots(el.x, dpm)},{_dots(el.y, dpm)}^GB{_dots(el.w, dpm)},{_dots(el.h, dpm)},{line}^FS"


def label_zpl(label: LabelData, size: str = "100x100", dpi: int = 203) -> str:
    """One label as a ZPL II format (^XA…^XZ): width ^PW and length ^LL in dots of the print head."""
    if dpi not in DOTS_PER_MM:
        raise ValueError(f"printer resolution must be 203 or 300 dpi, not {dpi!r}")
    if size not in LABEL_SIZES:
        raise ValueError(f"unknown label size {size!r}; choose one of {', '.join(LABEL_SIZES)}")
    dpm = DOTS_PER_MM[dpi]
    width, length = LABEL_MM[size]
    lines = [
        "^XA",
        "^CI27",
        f"^PW{_dots(width, dpm)}",
        f"^LL{_dots(length, dpm)}",
        "^LH0,0",
        f"^FX{field_text(f'{label.din} {label.product_code} dose label {size} mm {dpi} dpi')}^FS",
    ]
    for el in label_elements(label, size):
        if isinstance(el, Text):
            lines.append(_text(el, dpm))
        elif isinstance(el, Linear):
            lines.append(_linear(el, dpm))
        elif isinstance(el, Matrix):
            lines.append(_matrix(el, dpm))
        else:
            lines.append(_frame(el, dpm))
    lines.append("^XZ")
    return "\n".join(lines) + "\n"


def render_labels_zpl(labels: Sequence[LabelData], size: str = "100x100", dpi: int = 203) -> str:
    """Every label, one ^XA…^XZ format each, ready to send to the printer (port 9100 or a spooler)."""
    if not labels:
        raise ValueError("no labels to render")
    return "".join(label_zpl(label, size, dpi) for label in labels)
