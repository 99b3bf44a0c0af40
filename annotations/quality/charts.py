"""Geometry of the dashboard's server-rendered SVG charts. Pure: no Django; templates draw the shapes.

Coordinates are SVG user units in a `WIDTH`-wide view box; the chart scales with its container.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 230  # left margin for row labels
ROW_HEIGHT = 26
BAR_HEIGHT = 16
PLOT_WIDTH = WIDTH - LABEL_WIDTH - 60  # right margin for totals
TICK_STEP = 0.2


@dataclass(frozen=True)
class Segment:
    category: str
    value: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    label: str
    total: int
    y: float
    segments: tuple[Segment, ...]
    end: float  # x where the bar ends, for its total label


@dataclass(frozen=True)
class StackedBars:
    bars: tuple[Bar, ...]
    height: float
    categories: tuple[str, ...]
    plot_x: float = LABEL_WIDTH
    plot_width: float = PLOT_WIDTH
    label_x: float = LABEL_WIDTH - 8


def stacked_bars(
    rows: Sequence[tuple[str, Mapping[str, int]]], categories: Sequence[str], *, scale: int | None = None
) -> StackedBars:
    """One horizontal bar per row, its parts in `categories` order; lengths comparable across rows, the full
    width standing for `scale` (by default the longest bar)."""
    longest = scale or max((sum(counts.get(c, 0) for c in categories) for _, counts in rows), default=0) or 1
    bars = []
    for index, (label, counts) in enumerate(rows):
        x = float(LABEL_WIDTH)
        segments = []
        for category in categories:
            value = counts.get(category, 0)
            width = PLOT_WIDTH * value / longest
            if value:
                segments.append(Segment(category, value, round(x, 2), round(width, 2)))
            x += width
        total = sum(counts.get(c, 0) for c in categories)
        bars.append(Bar(label, total, index * ROW_HEIGHT + 4, tuple(segments), round(x, 2)))
    return StackedBars(tuple(bars), len(rows) * ROW_HEIGHT + 8, tuple(categories))


@dataclass(frozen=True)
class IntervalMark:
    label: str
    value: float | None
    low: float | None
    high: float | None
    y: float
    x: float | None
    x_low: float | None
    x_high: float | None


@dataclass(frozen=True)
class Tick:
    value: float
    x: float


@dataclass(frozen=True)
class IntervalChart:
    marks: tuple[IntervalMark, ...]
    ticks: tuple[Tick, ...]
    height: float
    axis_y: float
    x_zero: float
    plot_x: float = LABEL_WIDTH
    plot_end: float = LABEL_WIDTH + PLOT_WIDTH
    label_x: float = LABEL_WIDTH - 8


def interval_chart(rows: Sequence[tuple[str, float | None, tuple[float, float] | None]]) -> IntervalChart:
    """A dot with a whisker per row (an estimate and its interval) on a shared axis from at most -1 to 1.

    The axis starts at 0, or lower when an interval reaches below it, so that negative agreement shows."""
    lowest = min((interval[0] for _, _, interval in rows if interval), default=0.0)
    lowest = min(lowest, min((value for _, value, _ in rows if value is not None), default=0.0))
    start = max(-1.0, min(0.0, _floor_step(lowest)))

    def x_of(value: float) -> float:
        return round(LABEL_WIDTH + PLOT_WIDTH * (value - start) / (1.0 - start), 2)

    marks = []
    for index, (label, value, interval) in enumerate(rows):
        marks.append(
            IntervalMark(
                label=label,
                value=value,
                low=interval[0] if interval else None,
                high=interval[1] if interval else None,
                y=index * ROW_HEIGHT + 4 + BAR_HEIGHT / 2,
                x=x_of(value) if value is not None else None,
                x_low=x_of(interval[0]) if interval else None,
                x_high=x_of(interval[1]) if interval else None,
            )
        )
    steps = round((1.0 - start) / TICK_STEP)
    # "+ 0.0" turns a -0.0 from float error into 0.0, which is how the label must read.
    ticks = tuple(Tick(round(start + TICK_STEP * i, 1) + 0.0, x_of(start + TICK_STEP * i)) for i in range(steps + 1))
    axis_y = len(rows) * ROW_HEIGHT + 8
    return IntervalChart(tuple(marks), ticks, axis_y + 22, axis_y, x_of(0.0))


def _floor_step(value: float) -> float:
    """Round down to a multiple of the tick step, so that ticks fall on 0 and 1; the rounding first keeps -0.4
    from becoming -0.6 through float error."""
    return math.floor(round(value / TICK_STEP, 9)) * TICK_STEP


@dataclass(frozen=True)
class Cell:
    row: int
    column: int
    value: int
    shade: float  # 0 (empty) to 1 (the largest cell)


def heatmap(matrix: Sequence[Sequence[int]]) -> list[list[Cell]]:
    largest = max((value for row in matrix for value in row), default=0) or 1
    return [
        [Cell(r, c, value, round(value / largest, 3)) for c, value in enumerate(row)] for r, row in enumerate(matrix)
    ]
