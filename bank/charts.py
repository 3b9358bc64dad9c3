"""Charts drawn once with reportlab's graphics and shown both on screen (SVG, renderSVG) and in PDFs (the
same Drawing placed by bank.pdf), so there is no second chart stack: points in order, joined, with
horizontal reference lines (a limit, a specification, mean ± 3σ), out-of-trend points marked. Each
chart is shown with a plain table of its numbers beside it (the caller's), never alone."""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from markupsafe import Markup
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors

from bank.i18n import t

WIDTH, HEIGHT = 380, 230
_LEFT, _RIGHT, _BOTTOM, _TOP = 46, 92, 34, 22
FONT = "Helvetica"  # one of the PDF base fonts: the same name in the PDF and in SVG (a sans-serif there)


@dataclass(frozen=True)
class Reference:
    """A horizontal line across the chart: a limit (solid) or a statistic (dashed), labelled at its end."""

    label: str
    value: float
    colour: str = "#dc3545"
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    title: str
    x_label: str
    y_label: str
    points: Sequence[tuple[float, float]]
    references: Sequence[Reference] = ()
    marked: frozenset[int] = field(default_factory=frozenset)  # indexes of out-of-trend points
    number: Callable[[float], str] = lambda v: f"{v:g}"  # tick labels in the reader's notation


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _bounds(values: Sequence[float], floor_at_zero: bool) -> tuple[float, float, float]:
    low, high = min(values), max(values)
    if floor_at_zero:
        low = min(low, 0.0)
    if high == low:
        high = low + 1.0
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def scale(chart: Chart) -> Callable[[float, float], tuple[float, float]]:
    """Where a value pair is drawn (drawing coordinates, origin bottom left)."""
    x0, x1, _ = _bounds([x for x, _ in chart.points] or [0.0], floor_at_zero=False)
    y0, y1, _ = _bounds(
        [y for _, y in chart.points] + [r.value for r in chart.references] or [0.0], floor_at_zero=True
    )
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _BOTTOM - _TOP
    return lambda x, y: (_LEFT + (x - x0) / (x1 - x0) * plot_w, _BOTTOM + (y - y0) / (y1 - y0) * plot_h)


def drawing(chart: Chart) -> Drawing:
    d = Drawing(WIDTH, HEIGHT)
    at = scale(chart)
    x0, x1, x_step = _bounds([x for x, _ in chart.points] or [0.0], floor_at_zero=False)
    y0, y1, y_step = _bounds(
        [y for _, y in chart.points] + [r.value for r in chart.references] or [0.0], floor_at_zero=True
    )
    left, bottom = at(x0, y0)
    right, top = at(x1, y1)
    grey = colors.HexColor("#adb5bd")
    d.add(Rect(left, bottom, right - left, top - bottom, fillColor=None, strokeColor=grey, strokeWidth=0.5))
    for i in range(round((y1 - y0) / y_step) + 1):
        value = y0 + i * y_step
        _, y = at(x0, value)
        d.add(Line(left, y, right, y, strokeColor=colors.HexColor("#e9ecef"), strokeWidth=0.5))
        d.add(
            String(
                left - 4, y - 3, chart.number(round(value, 6)), fontName=FONT, fontSize=7, textAnchor="end"
            )
        )
    for i in range(round((x1 - x0) / x_step) + 1):
        value = x0 + i * x_step
        x, _ = at(value, y0)
        d.add(Line(x, bottom, x, bottom - 3, strokeColor=grey, strokeWidth=0.5))
        d.add(
            String(
                x, bottom - 12, chart.number(round(value, 6)), fontName=FONT, fontSize=7, textAnchor="middle"
            )
        )
    d.add(String((left + right) / 2, 4, chart.x_label, fontName=FONT, fontSize=8, textAnchor="middle"))
    d.add(String(4, HEIGHT - 10, chart.y_label, fontName=FONT, fontSize=8))
    for ref in chart.references:
        _, y = at(x0, ref.value)
        d.add(
            Line(
                left,
                y,
                right,
                y,
                strokeColor=colors.HexColor(ref.colour),
                strokeWidth=1,
                strokeDashArray=[3, 2] if ref.dashed else None,
            )
        )
        d.add(
            String(
                right + 3, y - 3, ref.label, fontName=FONT, fontSize=7, fillColor=colors.HexColor(ref.colour)
            )
        )
    placed = [at(x, y) for x, y in chart.points]
    if len(placed) > 1:
        d.add(
            PolyLine([c for p in placed for c in p], strokeColor=colors.HexColor("#0d6efd"), strokeWidth=1.2)
        )
    for i, (x, y) in enumerate(placed):
        out = i in chart.marked
        d.add(
            Circle(
                x,
                y,
                3.2 if out else 2.4,
                fillColor=colors.HexColor("#dc3545" if out else "#0d6efd"),
                strokeColor=colors.white,
                strokeWidth=0.5,
            )
        )
    return d


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def inline_svg(d: Drawing, title: str) -> Markup:
    """A drawing as inline SVG for a page (the XML prolog and DOCTYPE dropped), labelled with its title."""
    text = renderSVG.drawToString(d)
    text = _PROLOG.sub("", text, count=1).replace("<title>...</title>", "").replace("<desc>...</desc>", "")
    text = text.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(title)}" class="chart" ', 1)
    return Markup(text)


def svg(chart: Chart) -> Markup:
    return inline_svg(drawing(chart), chart.title)


class ChartWithTable(ABC):
    """A chart shown with the plain table of its numbers beside it: the class's COLUMNS (msgids) head the
    table in the reader's language, `rows()` fills it, `chart()` draws the figure."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def chart(self) -> Chart: ...

    def svg(self) -> Markup:
        return svg(self.chart())

    def columns(self) -> list[str]:
        return [t(heading).localized() for heading in self.COLUMNS]


@dataclass(frozen=True)
class Bars:
    """Horizontal bars of use against capacity (storage: positions used of the positions there)."""

    title: str
    labels: Sequence[str]
    used: Sequence[int]
    capacity: Sequence[int]


_BAR, _BAR_GAP, _LABEL_W = 12, 5, 150


def bars_drawing(bars: Bars) -> Drawing:
    height = _TOP + len(bars.labels) * (_BAR + _BAR_GAP) + 6
    d = Drawing(WIDTH, height)
    track = WIDTH - _LABEL_W - 60
    for i, (label, used, capacity) in enumerate(zip(bars.labels, bars.used, bars.capacity, strict=True)):
        y = height - _TOP - (i + 1) * (_BAR + _BAR_GAP) + _BAR_GAP
        share = used / capacity if capacity else 0.0
        shown = label if len(label) <= 34 else label[:33] + "…"  # the label column holds 34 characters
        d.add(String(4, y + 3, shown, fontName=FONT, fontSize=7.5))
        d.add(
            Rect(
                _LABEL_W,
                y,
                track,
                _BAR,
                fillColor=colors.HexColor("#f1f3f5"),
                strokeColor=colors.HexColor("#adb5bd"),
                strokeWidth=0.5,
            )
        )
        colour = "#dc3545" if share >= 0.9 else "#fd7e14" if share >= 0.75 else "#0d6efd"
        if used:
            d.add(Rect(_LABEL_W, y, track * share, _BAR, fillColor=colors.HexColor(colour), strokeColor=None))
        d.add(String(_LABEL_W + track + 4, y + 3, f"{used} / {capacity}", fontName=FONT, fontSize=7.5))
    return d


def bars_svg(bars: Bars) -> Markup:
    return inline_svg(bars_drawing(bars), bars.title)
