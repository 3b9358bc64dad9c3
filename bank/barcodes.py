"""Bar codes drawn on a reportlab canvas: Code 128 (ISO/IEC 15417) with reportlab's encoder and
Data Matrix ECC 200 (ISO/IEC 16022) with zxing-cpp's, drawn as vector modules so they stay crisp."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import zxingcpp
from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas

MM = 72 / 25.4  # points per millimetre
QUIET_MODULES = 10  # Code 128 quiet zone: at least 10 X on each side


def _check_ascii(data: str) -> None:
    if not data or any(not " " <= ch <= "~" for ch in data):
        raise ValueError(f"bar-code data must be printable ASCII: {data!r}")


def _code128(data: str, module: float, height: float) -> Code128:
    _check_ascii(data)
    quiet = QUIET_MODULES * module
    return Code128(
        data, barWidth=module, barHeight=height, humanReadable=0, quiet=1, lquiet=quiet, rquiet=quiet
    )


@lru_cache(maxsize=1024)
def code128_width(data: str, module: float) -> float:
    """Width in points of the Code 128 symbol for ``data``, quiet zones included."""
    return float(_code128(data, module, 1.0).width)


def draw_code128(canvas: Canvas, data: str, x: float, y: float, *, module: float, height: float) -> float:
    """Draw ``data`` as Code 128 with its bottom-left quiet-zone corner at (x, y); return its width.

    ``module`` is the X dimension (narrowest bar) and ``height`` the bar height, both in points.
    reportlab picks code sets A/B/C itself, so the DIN's digits pack into set C.
    """
    symbol = _code128(data, module, height)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    symbol.drawOn(canvas, x, y)
    canvas.restoreState()
    return float(symbol.width)


@lru_cache(maxsize=256)
def _datamatrix(data: str) -> tuple[tuple[bool, ...], ...]:
    _check_ascii(data)
    # reportlab's own ECC 200 encoder writes wrong codewords for = : ; < > ? @, which every ISBT 128
    # data identifier contains, so the symbol comes from zxing-cpp (zint) instead. Square symbols
    # are the ones label printers and verifiers expect.
    symbol = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.DataMatrix, force_square=True)
    pixels = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False))
    return tuple(tuple(bool(v) for v in row) for row in (pixels < 128))


def datamatrix_modules(data: str) -> list[list[bool]]:
    """Module matrix of the Data Matrix ECC 200 symbol for ``data`` (row 0 at the top, True = dark)."""
    return [list(row) for row in _datamatrix(data)]


def datamatrix_size(data: str) -> int:
    """Number of modules per side of the (square) symbol for ``data``."""
    return len(_datamatrix(data))


def draw_datamatrix(canvas: Canvas, data: str, x: float, y: float, *, module: float) -> float:
    """Draw ``data`` as Data Matrix with the symbol's bottom-left corner at (x, y); return its side.

    Each row's runs of dark modules become one rectangle and all go into a single filled path, so a
    rasteriser shows no hairline seams between modules. Leave a quiet zone of one module or more.
    """
    rows = _datamatrix(data)
    side = len(rows) * module
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        top = y + side - (r + 1) * module
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            path.rect(x + start * module, top, (c - start) * module, module)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
    return side
