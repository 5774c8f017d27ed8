"""Bar charts drawn as SVG on the server: geometry here, markup in templates/admin/_chart.html.

No script and no style attributes (the CSP forbids both); colours and sizes are SVG presentation
attributes. Every chart has a title, a description and a data table beside it in the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 64
GRID = "#d0d7de"
INK = "#1b1f24"


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    tip: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    x_title: str
    y_title: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)  # category names and values
    grid: list[tuple[float, float, float, float]] = field(default_factory=list)  # x1, y1, x2, y2
    ticks: list[Text] = field(default_factory=list)
    legend: list[Series] = field(default_factory=list)
    vertical_axis_title: bool = True

    @property
    def x_title_at(self) -> Text:
        return Text(LEFT + (self.width - LEFT - RIGHT) / 2, self.height - 8, self.x_title)

    @property
    def y_title_at(self) -> Text:
        return Text(-(TOP + (self.height - TOP - BOTTOM) / 2), 16, self.y_title)


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """0 and round steps (1, 2, 5 × 10ⁿ) up to at least `top`."""
    if top <= 0:
        return [0, 1]
    rough = top / most
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    step = max(step, 1)
    return [step * n for n in range(math.ceil(top / step) + 1)]


def column_chart(
    chart: Chart,
    categories: list[str],
    series: list[Series],
    values: dict[str, list[float | None]],
    *,
    top: float | None = None,
    unit: str = "",
    show_totals: bool = False,
) -> Chart:
    """Vertical bars, one column per category, the series stacked in it (None: no data, drawn as a dash)."""
    totals = [sum(values[s.key][i] or 0 for s in series) for i in range(len(categories))]
    ticks = nice_ticks(top if top is not None else max(totals, default=0))
    scale_top = ticks[-1]
    base, plot_height = chart.height - BOTTOM, chart.height - TOP - BOTTOM
    band = (chart.width - LEFT - RIGHT) / max(len(categories), 1)
    for value in ticks:
        y = base - plot_height * value / scale_top
        chart.grid.append((LEFT, y, chart.width - RIGHT, y))
        chart.ticks.append(Text(LEFT - 6, y + 4, f"{value:g}{unit}", "end"))
    every = max(1, math.ceil(len(categories) / ((chart.width - LEFT - RIGHT) / 64)))
    for i, category in enumerate(categories):
        x, stacked = LEFT + band * i + band * 0.15, base
        if i % every == 0:
            chart.labels.append(Text(LEFT + band * (i + 0.5), base + 18, category))
        if all(values[s.key][i] is None for s in series):
            chart.labels.append(Text(LEFT + band * (i + 0.5), base - 4, "–"))
            continue
        for s in series:
            value = values[s.key][i] or 0
            if not value:
                continue
            height = plot_height * value / scale_top
            stacked -= height
            tip = f"{category}: {value:g}{unit} {s.label}".rstrip()
            chart.bars.append(Bar(x, stacked, band * 0.7, height, s.colour, tip))
        if show_totals and totals[i]:
            chart.labels.append(Text(LEFT + band * (i + 0.5), stacked - 4, f"{totals[i]:g}{unit}"))
    chart.legend = series if len(series) > 1 else []
    return chart


def bar_chart(
    chart: Chart, categories: list[str], series: list[Series], values: dict[str, list[float | None]]
) -> Chart:
    """Horizontal bars, one row per category, each series a bar of its own in the row."""
    label_width = 180
    row = 14 * len(series) + 14
    chart.height = TOP + row * len(categories) + BOTTOM
    plot_left, plot_width = label_width, chart.width - label_width - RIGHT - 40
    ticks = nice_ticks(max((v or 0 for s in series for v in values[s.key]), default=0))
    base = chart.height - BOTTOM
    for value in ticks:
        x = plot_left + plot_width * value / ticks[-1]
        chart.grid.append((x, TOP, x, base))
        chart.ticks.append(Text(x, base + 16, f"{value:g}"))
    for i, category in enumerate(categories):
        y = TOP + row * i + 7
        chart.labels.append(Text(plot_left - 8, y + row / 2, category, "end"))
        for j, s in enumerate(series):
            value = values[s.key][i]
            top = y + 14 * j
            if value is None:
                continue
            width = plot_width * value / ticks[-1]
            chart.bars.append(Bar(plot_left, top, max(width, 1), 12, s.colour, f"{category}, {s.label}: {value:g}"))
            chart.labels.append(Text(plot_left + width + 4, top + 10, f"{value:g}", "start"))
    chart.legend = series if len(series) > 1 else []
    chart.vertical_axis_title = False
    return chart
