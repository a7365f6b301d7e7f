"""Line and bar charts drawn on the server as SVG: no chart library, no script, nothing for the CSP.

This module computes the geometry (coordinates, paths, ticks) and the accessible text of a chart; the
macro `chart` of templates/_charts.html draws it, so every label reaches the page through an
autoescaped template and nothing is marked safe. Each chart is an `<svg role="img">` with a `<title>`
and a `<desc>` summarising it in words, and a data table with the same numbers for screen readers and
for anyone who would rather read them. Colours come from classes (`series-1`…) styled in
dashboards.css, so the charts follow the light and dark themes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from markupsafe import Markup

Formatter = Callable[[float], str]

WIDTH = 640
LINE_HEIGHT = 260
BAR_ROW_HEIGHT = 28
#: Room for the axis labels: values on the left of a line chart, names on the left of a bar chart.
LINE_MARGINS = (56, 16, 16, 36)  # left, top, right, bottom
BAR_MARGINS = (180, 8, 72, 24)
MAX_X_LABELS = 7
MAX_SERIES = 4  # as many as dashboards.css has colours for
MAX_LABEL_CHARS = 26
NO_DATA = "No data for this period."


def plain_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value_text: str


@dataclass(frozen=True)
class Line:
    name: str
    css_class: str
    path: str
    points: list[Point]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    label: str
    series: str
    value_text: str


@dataclass(frozen=True)
class Category:
    """A bar chart's row: its (shortened) name, where to write it, and its full name for the table."""

    text: str
    full_text: str
    y: float


@dataclass(frozen=True)
class DataTable:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    id: str
    kind: Literal["line", "bar"]
    title: str
    description: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    table: DataTable
    legend: list[tuple[str, str]]  # (series name, css class)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    empty_text: str = NO_DATA  # what the page says instead of a chart with nothing to draw

    @property
    def empty(self) -> bool:
        return not self.table.rows


def chart_id(title: str) -> str:
    """An id for the chart's elements (unique per page as long as titles are)."""
    return "chart-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "untitled")


def nice_ticks(top: float, count: int = 4, *, whole: bool = False) -> list[float]:
    """Round axis values from 0 to at least `top`: steps of 1, 2 or 5 times a power of ten (at least
    1 for `whole` numbers such as counts: no "1.5 conversations")."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(step, 1)
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def _check(labels: Sequence[str], series: Sequence[Series]) -> None:
    if not series or len(series) > MAX_SERIES:
        raise ValueError(f"a chart shows 1 to {MAX_SERIES} series")
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(labels)} labels")


def _table(first_header: str, labels: Sequence[str], series: Sequence[Series], fmt: Formatter) -> DataTable:
    return DataTable(
        headers=[first_header, *(one.name for one in series)],
        rows=[[label, *(fmt(one.values[i]) for one in series)] for i, label in enumerate(labels)],
    )


def _summary(labels: Sequence[str], series: Sequence[Series], fmt: Formatter) -> str:
    """What a sighted reader takes from the chart at a glance, in words: each series' highest and
    lowest point (ties: the first), and its total where totals make sense to the caller."""
    if not labels:
        return NO_DATA
    parts = []
    for one in series:
        high = max(range(len(labels)), key=lambda i: one.values[i])
        low = min(range(len(labels)), key=lambda i: one.values[i])
        parts.append(
            f"{one.name}: highest {fmt(one.values[high])} ({labels[high]}), "
            f"lowest {fmt(one.values[low])} ({labels[low]})."
        )
    return " ".join(parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter = plain_number,
    *,
    label_header: str = "Day",
) -> Chart:
    """A trend: one line per series over `labels` (days, oldest first), the y axis from zero."""
    _check(labels, series)
    left, top, right, bottom = LINE_MARGINS
    plot_width, plot_height = WIDTH - left - right, LINE_HEIGHT - top - bottom
    values = [v for one in series for v in one.values]
    ticks = nice_ticks(max(values, default=0.0), whole=all(float(v).is_integer() for v in values))
    scale_top = ticks[-1]

    def x_of(index: int) -> float:
        return left + (plot_width / 2 if len(labels) == 1 else plot_width * index / (len(labels) - 1))

    def y_of(value: float) -> float:
        return top + plot_height * (1 - max(value, 0.0) / scale_top)

    lines = []
    for number, one in enumerate(series, start=1):
        points = [
            Point(round(x_of(i), 1), round(y_of(v), 1), labels[i], fmt(v)) for i, v in enumerate(one.values)
        ]
        path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
        lines.append(Line(one.name, f"series-{number}", path, points))
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    return _chart(
        "line",
        title,
        labels,
        series,
        fmt,
        label_header,
        LINE_HEIGHT,
        LINE_MARGINS,
        x_ticks=[Tick(round(x_of(i), 1), labels[i]) for i in range(0, len(labels), every)],
        y_ticks=[Tick(round(y_of(value), 1), fmt(value)) for value in ticks],
        lines=lines if labels else [],
    )


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter = plain_number,
    *,
    label_header: str = "Name",
    empty_text: str = NO_DATA,
) -> Chart:
    """A comparison: one row per label (products, creators...), one horizontal bar per series in it,
    the value written at the bar's end."""
    _check(labels, series)
    left, top, right, bottom = BAR_MARGINS
    row_height = BAR_ROW_HEIGHT * len(series)
    height = top + bottom + max(row_height * len(labels), BAR_ROW_HEIGHT)
    plot_width = WIDTH - left - right
    scale_top = max((v for one in series for v in one.values), default=0.0) or 1.0
    bars = []
    categories = []
    for i, label in enumerate(labels):
        row_top = top + i * row_height
        categories.append(Category(_shorten(label), label, round(row_top + row_height / 2, 1)))
        for number, one in enumerate(series, start=1):
            value = max(one.values[i], 0.0)
            bars.append(
                Bar(
                    x=left,
                    y=round(row_top + (number - 1) * BAR_ROW_HEIGHT + 4, 1),
                    width=round(plot_width * value / scale_top, 1),
                    height=BAR_ROW_HEIGHT - 8,
                    css_class=f"series-{number}",
                    label=label,
                    series=one.name,
                    value_text=fmt(one.values[i]),
                )
            )
    return _chart(
        "bar",
        title,
        labels,
        series,
        fmt,
        label_header,
        height,
        BAR_MARGINS,
        bars=bars,
        categories=categories,
        empty_text=empty_text,
    )


def _chart(
    kind: Literal["line", "bar"],
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Formatter,
    label_header: str,
    height: int,
    margins: tuple[int, int, int, int],
    **drawing: Any,
) -> Chart:
    """What every chart has, around its `drawing` (a line chart's ticks and lines, a bar chart's bars
    and categories): its id, frame, words, legend and data table."""
    left, top, right, bottom = margins
    return Chart(
        id=chart_id(title),
        kind=kind,
        title=title,
        description=_summary(labels, series, fmt),
        width=WIDTH,
        height=height,
        left=left,
        top=top,
        right=WIDTH - right,
        bottom=height - bottom,
        table=_table(label_header, labels, series, fmt),
        legend=[(one.name, f"series-{number}") for number, one in enumerate(series, start=1)],
        **drawing,
    )


def render_chart(chart: Chart) -> Markup:
    """The chart as the page shows it (the template's macro; for tests and fragments)."""
    from talkshop.web.render import environment

    rendered: Markup = environment().get_template("_charts.html").module.chart(chart)  # type: ignore[attr-defined]
    return rendered
