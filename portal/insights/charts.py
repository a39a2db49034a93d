"""Charts as inline SVG: the geometry here, the markup in `templates/macros/charts.html`.

Why our own small layouts rather than pygal: pygal writes whole SVG documents that carry their
own `<style>` element and `style` attributes and, for tooltips, a script; our
Content-Security-Policy (`style-src 'self'`, no inline scripts) blocks all three, and allowing
them would weaken the policy for every page. Its colours are set in Python, so a practice's
theme (`--brand`, `--accent`, ...) would not reach the charts, and its markup is not ours to
make accessible. The few charts a dashboard needs are a few hundred lines: nice ticks, a linear
scale, label positions. The macros turn the result into SVG whose colours are CSS classes
(static/css/charts.css), that prints, and that comes with its numbers in a table.

Everything is laid out in viewBox units on a canvas `WIDTH` wide. The SVG scales to its box;
`FONT` is chosen so labels stay legible when the chart is about 300 px wide (a 360 px phone).
Amounts are `Decimal`; floats appear only as coordinates.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import SimpleNamespace
from typing import Any

from flask_babel import lazy_gettext as _l

Formatter = Callable[[Decimal], str]

WIDTH = 480.0
FONT = 20.0  # .chart text in charts.css: keep the two in step
TICK_FONT = 18.0  # .chart__tick
LINE = FONT * 1.25
CHAR = 0.58  # average glyph width as a share of the font size, generous for system fonts
PAD = 8.0
PLOT_HEIGHT = 240.0
SERIES_CLASSES = 4  # chart__series--1 .. --4
ZERO = Decimal(0)
NO_VALUE = "\u2013"  # an en dash in the table where a series has no value


# --- Input ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    name: Any  # str or a lazy string
    values: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class Segment:
    label: str
    value: Decimal


@dataclass(frozen=True)
class Stack:
    label: str
    segments: tuple[Segment, ...]


def _amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"chart values are Decimal (or int), not {type(value).__name__}")


def _as_series(series: Iterable[Any] | Mapping[str, Sequence[Any]]) -> list[Series]:
    """Series from Series objects, (name, values) pairs or a name -> values mapping."""
    items = series.items() if isinstance(series, Mapping) else series
    result = []
    for item in items:
        name, values = (item.name, item.values) if isinstance(item, Series) else item
        result.append(Series(name, tuple(_amount(v) for v in values)))
    return result


def _as_stacks(stacks: Iterable[Any]) -> list[Stack]:
    """Stacks from Stack objects or (label, [(segment label, value), ...]) pairs."""
    result = []
    for item in stacks:
        label, segments = (item.label, item.segments) if isinstance(item, Stack) else item
        result.append(Stack(str(label), tuple(
            s if isinstance(s, Segment) else Segment(str(s[0]), _amount(s[1]))  # type: ignore[arg-type]
            for s in segments)))
    return result


# --- Output: plain data the macros print ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class Span:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Label:
    spans: tuple[Span, ...]
    css: str
    transform: str | None = None


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    css: str
    tip: str = ""
    value: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str


@dataclass(frozen=True, slots=True)
class Polyline:
    points: str
    css: str


@dataclass(frozen=True, slots=True)
class Dot:
    cx: float
    cy: float
    r: float
    css: str
    tip: str


@dataclass(frozen=True, slots=True)
class LegendEntry:
    swatch: Box
    label: Label


@dataclass(frozen=True, slots=True)
class TableRow:
    label: Any
    cells: tuple[str, ...]
    total: bool = False


@dataclass(frozen=True, slots=True)
class TableGroup:
    label: str | None
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class Table:
    caption: Any
    summary: Any
    header: tuple[Any, ...]
    groups: tuple[TableGroup, ...]

    @property
    def columns(self) -> int:
        return len(self.header)


@dataclass
class Chart:
    kind: str
    id: str
    title: Any
    description: Any
    width: float
    height: float
    table: Table
    ticks: list[Decimal] = field(default_factory=list)
    zero_y: float | None = None
    grid: list[Rule] = field(default_factory=list)
    tick_labels: list[Label] = field(default_factory=list)
    zero: Rule | None = None
    bars: list[Box] = field(default_factory=list)
    value_labels: list[Label] = field(default_factory=list)
    category_labels: list[Label] = field(default_factory=list)
    polylines: list[Polyline] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    leaders: list[Rule] = field(default_factory=list)
    segment_labels: list[Label] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.id}-desc"

    @property
    def view_box(self) -> str:
        return f"0 0 {_r(self.width)} {_r(self.height)}"


# --- Geometry helpers ----------------------------------------------------------------------

def _r(value: float) -> float:
    return round(value, 2)


def _text_width(text: str, size: float = FONT) -> float:
    return len(text) * size * CHAR


def _fit(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max(max_chars - 1, 1)].rstrip() + "…"


def _wrap(text: str, max_chars: int, max_lines: int = 2) -> list[str]:
    """Words onto at most `max_lines` lines of `max_chars`; what doesn't fit ends in `…`."""
    max_chars = max(max_chars, 2)
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= max_chars or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    lines = [_fit(line, max_chars) for line in lines]
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = [*lines[:max_lines - 1],
                 last + "…" if len(last) < max_chars else _fit(last + "…", max_chars)]
    return lines


def _wraps_fully(text: str, lines: list[str]) -> bool:
    return " ".join(lines) == " ".join(text.split())


def nice_ticks(low: Decimal, high: Decimal, target: int = 5) -> list[Decimal]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) from at or below
    min(low, 0) to at or above max(high, 0), about `target` of them."""
    low, high = min(low, ZERO), max(high, ZERO)
    if low == high:
        return [ZERO, Decimal(1)]
    raw = (high - low) / (max(target, 2) - 1)
    magnitude = Decimal(10) ** raw.adjusted()
    step = next(m * magnitude for m in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5),
                                        Decimal(10)) if m * magnitude >= raw)
    first = (low / step).to_integral_value(ROUND_FLOOR)
    last = (high / step).to_integral_value(ROUND_CEILING)
    return [(first + i) * step for i in range(int(last - first) + 1)]


class _Scale:
    """Value to y: `high` at `top`, `low` at `top + height`."""

    def __init__(self, low: Decimal, high: Decimal, top: float, height: float) -> None:
        self.low, self.high, self.top, self.height = low, high, top, height

    def y(self, value: Decimal) -> float:
        return self.top + float((self.high - value) / (self.high - self.low)) * self.height

    @property
    def bottom(self) -> float:
        return self.top + self.height


def make_chart_id(title: Any, description: Any, given: str | None = None, *data: Any) -> str:
    """An id for the title/desc references: the given one, else one made from the chart's
    texts and data, so the same chart gets the same id and two charts on a page differ."""
    if given:
        return given
    text = "\n".join(map(repr, (str(title), str(description), *data)))
    slug = re.sub(r"[^a-z0-9]+", "-", str(title).lower()).strip("-")[:32] or "chart"
    return f"chart-{slug}-{hashlib.blake2s(text.encode(), digest_size=4).hexdigest()}"


def _series_class(index: int) -> str:
    return f"chart__series--{index % SERIES_CLASSES + 1}"


def _legend(names: Sequence[str], top: float) -> tuple[list[LegendEntry], float]:
    """Legend entries flowing left to right, wrapping; (entries, height used)."""
    if len(names) < 2:
        return [], 0.0
    entries, x, y, swatch = [], PAD, top, FONT * 0.8
    for index, name in enumerate(names):
        text = _fit(str(name), int((WIDTH - 2 * PAD - swatch - 6) / (FONT * CHAR)))
        width = swatch + 6 + _text_width(text) + 16
        if x > PAD and x + width > WIDTH - PAD:
            x, y = PAD, y + LINE
        entries.append(LegendEntry(
            Box(_r(x), _r(y + (LINE - swatch) / 2), swatch, swatch,
                f"chart__swatch {_series_class(index)}"),
            Label((Span(_r(x + swatch + 6), _r(y + LINE / 2 + FONT * 0.35), text),),
                  "chart__legend")))
        x += width
    return entries, y + LINE - top


def _table(caption: Any, categories: Sequence[str], series: Sequence[Series], fmt: Formatter,
           category_header: Any = None) -> Table:
    header = (category_header or _l("Item"), *(s.name for s in series))
    rows = tuple(
        TableRow(str(category), tuple(NO_VALUE if s.values[i] is None else fmt(s.values[i])
                                      for s in series))
        for i, category in enumerate(categories))
    return Table(caption, _l("Show the numbers"), header, (TableGroup(None, rows),))


def data_table(caption: Any, categories: Sequence[str],
               series: Iterable[Any] | Mapping[str, Sequence[Any]], fmt: Formatter,
               category_header: Any = None) -> Table:
    """The numbers behind a chart: a row per category, a column per series."""
    series_list = _as_series(series)
    _check_lengths(categories, series_list)
    return _table(caption, categories, series_list, fmt, category_header)


def _check_lengths(categories: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for "
                             f"{len(categories)} categories")


# --- Axes shared by bar and line charts ----------------------------------------------------

@dataclass
class _Axes:
    left: float
    band: float
    scale: _Scale
    ticks: list[Decimal]
    grid: list[Rule]
    tick_labels: list[Label]
    zero: Rule


def _axes(values: Sequence[Decimal], tick_fmt: Formatter, top: float, n: int,
          min_left: float = 0.0) -> _Axes:
    ticks = nice_ticks(min(values, default=ZERO), max(values, default=ZERO))
    texts = [tick_fmt(t) for t in ticks]
    left = max(PAD + max(_text_width(t, TICK_FONT) for t in texts) + PAD, min_left)
    right = WIDTH - PAD
    scale = _Scale(ticks[0], ticks[-1], top, PLOT_HEIGHT)
    grid, labels = [], []
    for tick, text in zip(ticks, texts, strict=True):
        y = _r(scale.y(tick))
        grid.append(Rule(_r(left), y, _r(right), y, "chart__gridline"))
        labels.append(Label((Span(_r(left - PAD), _r(y + TICK_FONT * 0.35), text),),
                            "chart__tick chart__text--end"))
    zero_y = _r(scale.y(ZERO))
    return _Axes(left, (right - left) / max(n, 1), scale, ticks, grid, labels,
                 Rule(_r(left), zero_y, _r(right), zero_y, "chart__zero"))


def _category_labels(categories: Sequence[str], axes: _Axes, top: float
                     ) -> tuple[list[Label], float]:
    """Labels under the bands: wrapped on two lines if they fit, else slanted; (labels, height)."""
    if not categories:
        return [], 0.0
    max_chars = int(axes.band * 0.95 / (FONT * CHAR))
    wrapped = [_wrap(c, max_chars) for c in categories]
    if max_chars >= 3 and all(_wraps_fully(c, w) for c, w in zip(categories, wrapped,
                                                                 strict=True)):
        labels = []
        for i, lines in enumerate(wrapped):
            x = _r(axes.left + axes.band * (i + 0.5))
            labels.append(Label(tuple(Span(x, _r(top + FONT * 0.8 + j * LINE), line)
                                      for j, line in enumerate(lines)),
                                "chart__category chart__text--middle"))
        return labels, max(len(w) for w in wrapped) * LINE + PAD
    texts = [_fit(c, 16) for c in categories]
    labels = []
    for i, text in enumerate(texts):
        x, y = _r(axes.left + axes.band * (i + 0.5) + FONT * 0.3), _r(top + 4)
        labels.append(Label((Span(x, y, text),), "chart__category chart__text--end",
                            f"rotate(-45 {x} {y})"))
    return labels, max(_text_width(t) for t in texts) * math.sqrt(0.5) + FONT + PAD


def _slanted_left(categories: Sequence[str], n: int) -> float:
    """The left margin slanted labels need so the first one stays on the canvas."""
    first = _fit(categories[0], 16) if categories else ""
    return _text_width(first) * math.sqrt(0.5) - (WIDTH / max(n, 1)) / 2 + PAD


# --- Bar charts ----------------------------------------------------------------------------

def grouped_bar_chart(title: Any, description: Any, categories: Sequence[str],
                      series: Iterable[Any] | Mapping[str, Sequence[Any]], fmt: Formatter, *,
                      tick_fmt: Formatter | None = None, chart_id: str | None = None,
                      category_header: Any = None) -> Chart:
    """Bars per category, one per series side by side (this year next to last year)."""
    categories = [str(c) for c in categories]
    series_list = _as_series(series)
    _check_lengths(categories, series_list)
    return _bar_layout("grouped-bar" if len(series_list) > 1 else "bar", title, description,
                       categories, series_list, fmt, tick_fmt or fmt, chart_id, category_header)


def bar_chart(title: Any, description: Any, categories: Sequence[str], values: Sequence[Any],
              fmt: Formatter, *, value_name: Any = None, tick_fmt: Formatter | None = None,
              chart_id: str | None = None, category_header: Any = None) -> Chart:
    """A bar per category."""
    return grouped_bar_chart(title, description, categories,
                             [(value_name or _l("Amount"), values)], fmt, tick_fmt=tick_fmt,
                             chart_id=chart_id, category_header=category_header)


def _bar_layout(kind: str, title: Any, description: Any, categories: list[str],
                series: list[Series], fmt: Formatter, tick_fmt: Formatter, given_id: str | None,
                category_header: Any) -> Chart:
    values = [v for s in series for v in s.values if v is not None]
    n, k = max(len(categories), 1), max(len(series), 1)
    top = PAD + FONT
    axes = _axes(values, tick_fmt, top, n)
    trial, _height = _category_labels(categories, axes, 0)
    if trial and trial[0].transform:  # slanted labels: keep the first one on the canvas
        axes = _axes(values, tick_fmt, top, n, _slanted_left(categories, n))
    group = axes.band * (0.6 if k == 1 else 0.75)
    bar_width = group / k
    texts = {(i, j): fmt(v) for j, s in enumerate(series) for i, v in enumerate(s.values)
             if v is not None}
    show_values = k == 1 and all(_text_width(t) <= axes.band * 0.95 for t in texts.values())
    below = FONT + 4 if show_values and any(v < 0 for v in values) else 0.0

    chart = Chart(kind, make_chart_id(title, description, given_id, categories, series),
                  title, description, WIDTH, 0,
                  _table(title, categories, series, fmt, category_header),
                  ticks=axes.ticks, zero_y=axes.zero.y1, grid=axes.grid,
                  tick_labels=axes.tick_labels, zero=axes.zero)
    zero_y = axes.scale.y(ZERO)
    for j, s in enumerate(series):
        for i, value in enumerate(s.values):
            if value is None:
                continue
            x = axes.left + axes.band * i + (axes.band - group) / 2 + bar_width * j
            y = axes.scale.y(value)
            top_y, height = min(y, zero_y), abs(y - zero_y)
            tip = f"{categories[i]}: {texts[i, j]}" if k == 1 else (
                f"{s.name}, {categories[i]}: {texts[i, j]}")
            css = f"chart__bar {_series_class(j)}" + (" chart__bar--negative" if value < 0
                                                       else "")
            chart.bars.append(Box(_r(x), _r(top_y), _r(bar_width), _r(height), css, tip, value))
            if show_values:
                label_y = top_y - 6 if value >= 0 else top_y + height + FONT * 0.9
                chart.value_labels.append(Label(
                    (Span(_r(x + bar_width / 2), _r(label_y), texts[i, j]),),
                    "chart__value chart__text--middle"))
    labels_top = axes.scale.bottom + below + PAD
    chart.category_labels, labels_height = _category_labels(categories, axes, labels_top)
    chart.legend, legend_height = _legend([s.name for s in series],
                                          labels_top + labels_height)
    chart.height = _r(labels_top + labels_height + legend_height + PAD)
    return chart


# --- Bars lying down (categories with long names) -------------------------------------------

HBAR_LABEL_SHARE = 0.42  # of the width, for the category names
HBAR_BAR = 22.0
HBAR_GAP = 4.0
HBAR_ROW_GAP = 14.0


def hbar_chart(title: Any, description: Any, categories: Sequence[str],
               series: Iterable[Any] | Mapping[str, Sequence[Any]], fmt: Formatter, *,
               chart_id: str | None = None, category_header: Any = None) -> Chart:
    """A row per category: its name on the left (on up to three lines), a bar per series, and
    each value in a column on the right. Long Dutch names stay readable on a phone, where
    upright bars would need slanted labels. Negative values run left of the zero line."""
    categories = [str(c) for c in categories]
    series_list = _as_series(series)
    _check_lengths(categories, series_list)
    values = [v for s in series_list for v in s.values if v is not None]
    k = max(len(series_list), 1)
    texts = {(i, j): fmt(v) for j, s in enumerate(series_list) for i, v in enumerate(s.values)
             if v is not None}
    label_width = WIDTH * HBAR_LABEL_SHARE
    value_width = max((_text_width(t) for t in texts.values()), default=0.0)
    left, right = label_width + PAD, WIDTH - PAD - value_width - PAD
    low, high = min(min(values, default=ZERO), ZERO), max(max(values, default=ZERO), ZERO)
    if low == high:
        high = Decimal(1)

    def x(value: Decimal) -> float:
        return left + float((value - low) / (high - low)) * (right - left)

    chart = Chart("hbar", make_chart_id(title, description, chart_id, categories, series_list),
                  title, description, WIDTH, 0,
                  _table(title, categories, series_list, fmt, category_header))
    max_chars = int((label_width - PAD) / (FONT * CHAR))
    block = k * HBAR_BAR + (k - 1) * HBAR_GAP
    top = PAD
    for i, category in enumerate(categories):
        lines = _wrap(category, max_chars, max_lines=3)
        height = max(len(lines) * LINE, block)
        label_top = top + (height - len(lines) * LINE) / 2
        chart.category_labels.append(Label(
            tuple(Span(PAD, _r(label_top + FONT * 0.9 + n * LINE), line)
                  for n, line in enumerate(lines)), "chart__category chart__text--start"))
        bar_top = top + (height - block) / 2
        for j, s in enumerate(series_list):
            value = s.values[i]
            y = bar_top + j * (HBAR_BAR + HBAR_GAP)
            if value is None:
                continue
            start, end = sorted((x(ZERO), x(value)))
            tip = f"{category}: {texts[i, j]}" if k == 1 else (
                f"{s.name}, {category}: {texts[i, j]}")
            css = f"chart__bar {_series_class(j)}" + (" chart__bar--negative" if value < 0
                                                       else "")
            chart.bars.append(Box(_r(start), _r(y), _r(max(end - start, 1.0)), HBAR_BAR, css,
                                  tip, value))
            chart.value_labels.append(Label(
                (Span(_r(WIDTH - PAD), _r(y + HBAR_BAR / 2 + FONT * 0.35), texts[i, j]),),
                "chart__value chart__text--end"))
        top += height + HBAR_ROW_GAP
    zero_x = _r(x(ZERO))
    chart.zero = Rule(zero_x, PAD / 2, zero_x, _r(top - HBAR_ROW_GAP + PAD / 2), "chart__zero")
    chart.legend, legend_height = _legend([s.name for s in series_list], top)
    chart.height = _r(top + legend_height + PAD)
    return chart


# --- Line chart ----------------------------------------------------------------------------

def line_chart(title: Any, description: Any, categories: Sequence[str],
               series: Iterable[Any] | Mapping[str, Sequence[Any]], fmt: Formatter, *,
               tick_fmt: Formatter | None = None, chart_id: str | None = None,
               category_header: Any = None) -> Chart:
    """Values over time (months), one line per series; a missing value (None) breaks the line."""
    categories = [str(c) for c in categories]
    series_list = _as_series(series)
    _check_lengths(categories, series_list)
    values = [v for s in series_list for v in s.values if v is not None]
    n = max(len(categories), 1)
    axes = _axes(values, tick_fmt or fmt, PAD + FONT, n)
    chart = Chart("line", make_chart_id(title, description, chart_id, categories, series_list),
                  title, description, WIDTH, 0,
                  _table(title, categories, series_list, fmt, category_header),
                  ticks=axes.ticks, zero_y=axes.zero.y1, grid=axes.grid,
                  tick_labels=axes.tick_labels, zero=axes.zero)
    xs = [axes.left + axes.band * (i + 0.5) for i in range(len(categories))]
    for j, s in enumerate(series_list):
        run: list[str] = []
        for i, value in enumerate([*s.values, None]):
            if value is None:
                if len(run) > 1:
                    chart.polylines.append(Polyline(" ".join(run),
                                                    f"chart__line {_series_class(j)}"))
                run = []
                continue
            x, y = _r(xs[i]), _r(axes.scale.y(value))
            run.append(f"{x},{y}")
            tip = f"{categories[i]}: {fmt(value)}" if len(series_list) == 1 else (
                f"{s.name}, {categories[i]}: {fmt(value)}")
            chart.dots.append(Dot(x, y, 5.0, f"chart__dot {_series_class(j)}", tip))

    labels_top = axes.scale.bottom + PAD
    widest = max((_text_width(c) for c in categories), default=0.0)
    every = max(1, math.ceil((min(widest, _text_width("x" * 10)) + FONT * 0.5) / axes.band))
    max_chars = int(axes.band * every * 0.95 / (FONT * CHAR))
    for i, category in enumerate(categories):
        if i % every == 0:
            chart.category_labels.append(Label(
                (Span(_r(xs[i]), _r(labels_top + FONT * 0.8), _fit(category, max_chars)),),
                "chart__category chart__text--middle"))
    legend_top = labels_top + LINE + PAD
    chart.legend, legend_height = _legend([s.name for s in series_list], legend_top)
    chart.height = _r(legend_top + legend_height + PAD)
    return chart


# --- Stacked bars (balance sheet composition) ----------------------------------------------

def stacked_bar(title: Any, description: Any, stacks: Iterable[Any], fmt: Formatter, *,
                chart_id: str | None = None, category_header: Any = None) -> Chart:
    """One or two stacked columns, each segment labelled beside its column: assets next to
    equity and liabilities. Negative segments (negative equity) stack below the zero line."""
    stack_list = _as_stacks(stacks)
    if not 1 <= len(stack_list) <= 2:
        raise ValueError("a stacked bar chart has one or two columns")
    column, gap = 64.0, 28.0
    if len(stack_list) == 2:
        xs = [WIDTH / 2 - gap / 2 - column, WIDTH / 2 + gap / 2]
        areas = [(PAD, xs[0] - 14, "end"), (xs[1] + column + 14, WIDTH - PAD, "start")]
    else:
        xs = [WIDTH * 0.3]
        areas = [(xs[0] + column + 14, WIDTH - PAD, "start")]
    max_chars = int((areas[0][1] - areas[0][0]) / (FONT * CHAR))

    label_lines = [[[*_wrap(s.label, max_chars), fmt(s.value)] for s in stack.segments
                    if s.value != 0] for stack in stack_list]
    needed = max(sum(len(lines) * LINE + 6 for lines in side) for side in label_lines)
    plot = max(PLOT_HEIGHT + 40, needed)
    highs = [sum((s.value for s in st.segments if s.value > 0), ZERO) for st in stack_list]
    lows = [sum((s.value for s in st.segments if s.value < 0), ZERO) for st in stack_list]
    high, low = max(highs), min(lows)
    if high == low:
        high = Decimal(1)
    top = PAD + FONT / 2
    scale = _Scale(low, high, top, plot)
    zero_y = _r(scale.y(ZERO))
    table = Table(title, _l("Show the numbers"), (category_header or _l("Item"), _l("Amount")),
                  tuple(TableGroup(st.label, (
                      *(TableRow(s.label, (fmt(s.value),)) for s in st.segments),
                      TableRow(_l("Total"), (fmt(sum((s.value for s in st.segments),
                                                          ZERO)),), total=True)))
                        for st in stack_list))
    chart = Chart("stacked-bar", make_chart_id(title, description, chart_id, stack_list), title,
                  description, WIDTH, 0, table, zero_y=zero_y,
                  zero=Rule(_r(xs[0] - 6), zero_y, _r(xs[-1] + column + 6), zero_y,
                            "chart__zero"))
    name_lines = 1
    for index, stack in enumerate(stack_list):
        x = xs[index]
        up = down = ZERO
        placed: list[tuple[float, list[str]]] = []  # (segment middle, label lines)
        lines_iter = iter(label_lines[index])
        for number, segment in enumerate(stack.segments):
            value = segment.value
            if value == 0:
                continue
            start = up if value > 0 else down
            end = start + value
            if value > 0:
                up = end
            else:
                down = end
            y_start, y_end = scale.y(start), scale.y(end)
            y, height = min(y_start, y_end), abs(y_end - y_start)
            css = f"chart__bar chart__segment {_series_class(number)}" + (
                " chart__bar--negative" if value < 0 else "")
            chart.bars.append(Box(_r(x), _r(y), column, _r(height), css,
                                  f"{stack.label}, {segment.label}: {fmt(value)}", value))
            placed.append((y + height / 2, next(lines_iter)))
        if index < len(areas):
            _side_labels(chart, placed, areas[index], x, column, top, top + plot)
        # The name under its column: with two columns each name has its half of the
        # canvas, running outwards from the gap between them, on up to two lines.
        if len(stack_list) == 2:
            anchor, text_x = ("end", x + column) if index == 0 else ("start", x)
            room = (WIDTH / 2 - PAD) if index == 0 else (WIDTH - PAD - x)
        else:
            anchor, text_x, room = "middle", x + column / 2, column + gap
        lines = _wrap(stack.label, int(room / (FONT * CHAR)))
        name_lines = max(name_lines, len(lines))
        chart.category_labels.append(Label(
            tuple(Span(_r(text_x), _r(top + plot + PAD + FONT * 0.8 + n * LINE), line)
                  for n, line in enumerate(lines)), f"chart__category chart__text--{anchor}"))
    chart.height = _r(top + plot + PAD + name_lines * LINE + PAD)
    return chart


def _side_labels(chart: Chart, placed: list[tuple[float, list[str]]],
                 area: tuple[float, float, str], x: float, column: float, top: float,
                 bottom: float) -> None:
    """Labels beside a column, each near its segment, pushed apart so none overlap."""
    left, right, anchor = area
    text_x = right if anchor == "end" else left
    boxes: list[list[float]] = []  # [top, height]
    for middle, lines in sorted(placed, key=lambda p: p[0]):
        height = len(lines) * LINE
        lowest = boxes[-1][0] + boxes[-1][1] + 6 if boxes else top
        boxes.append([max(middle - height / 2, lowest), height])
    if boxes and boxes[-1][0] + boxes[-1][1] > bottom:  # pushed past the bottom: pull up
        end = bottom
        for box in reversed(boxes):
            box[0] = min(box[0], end - box[1])
            end = box[0] - 6
        start = top  # ... but not past the top
        for box in boxes:
            box[0] = max(box[0], start)
            start = box[0] + box[1] + 6
    for (middle, lines), (start, height) in zip(sorted(placed, key=lambda p: p[0]), boxes,
                                                strict=True):
        spans = tuple(Span(_r(text_x), _r(start + FONT * 0.85 + i * LINE), line)
                      for i, line in enumerate(lines))
        chart.segment_labels.append(Label(spans, f"chart__segment-label chart__text--{anchor}"))
        edge = x if anchor == "end" else x + column
        label_edge = text_x + 4 if anchor == "end" else text_x - 4
        chart.leaders.append(Rule(_r(label_edge), _r(start + height / 2), _r(edge),
                                  _r(middle), "chart__leader"))


# --- Jinja ---------------------------------------------------------------------------------

LAYOUTS = SimpleNamespace(bar=bar_chart, grouped_bar=grouped_bar_chart, line=line_chart,
                          stacked=stacked_bar, table=data_table, hbar=hbar_chart)


def register(env: Any) -> None:
    """Make the layouts available to templates/macros/charts.html as `chart_layout`."""
    env.globals["chart_layout"] = LAYOUTS


def init_app(app: Any) -> None:
    register(app.jinja_env)
