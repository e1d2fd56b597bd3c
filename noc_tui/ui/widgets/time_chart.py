"""TimeChart: a few series as block bar charts stacked over one time axis (UTC).

Drawn with Textual's own rendering (one Rich Text), in eighth blocks: deterministic in
snapshots, readable over SSH, with no plotting library (textual-plotext, the Textual
wrapper of plotext, is pinned to plotext < 6 and unreleased since 2024; a bar chart of
a few dozen buckets does not need it). Each series has its own scale, written in the
gutter; a bucket with no value (no calls) is a dot on the base line, so "no data" is
never read as zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from noc_tui.records.timefmt import DAY_MS, ms_to_iso

BLOCKS = " ▁▂▃▄▅▆▇█"
GUTTER = 15  # the series' names and scales
# How many buckets apart the axis's labels may be, by bucket size.
HOUR_TICKS = (1, 2, 3, 4, 6, 12, 24)
DAY_TICKS = (1, 2, 3, 5, 7, 14, 28)


@dataclass(frozen=True)
class ChartSeries:
    label: str
    values: Sequence[float | None]
    style: str
    scale: Callable[[float], str]  # writes the top of the scale ("1,234", "100%")
    top: float | None = None  # a fixed top (ASR: 1.0); None: the largest value
    floor: bool = False  # any value shows at least an eighth (ASR 0% is not "no calls")
    short: str | None = None  # the label where the scale shares its row ("Att ≤1,234")


class TimeChart(Widget):
    """Series per time bucket, one block column (or a few) per bucket."""

    DEFAULT_CSS = "TimeChart { height: 8; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.starts: list[int] = []
        self.step_ms = DAY_MS
        self.series: list[ChartSeries] = []
        self.axis_title = ""

    def show(self, starts: list[int], step_ms: int, series: list[ChartSeries],
             axis_title: str) -> None:
        self.starts, self.step_ms, self.series = starts, step_ms, series
        self.axis_title = axis_title
        self.refresh()

    def clear(self) -> None:
        self.show([], self.step_ms, [], "")

    def render(self) -> Text:
        return chart_text(self.starts, self.step_ms, self.series, self.axis_title,
                          self.size.width, self.size.height)


def chart_text(starts: list[int], step_ms: int, series: list[ChartSeries], axis_title: str,
               width: int, height: int) -> Text:
    """The chart in `width` x `height` cells: rows for each series (as many as fit,
    at least one), then the time axis."""
    n = len(starts)
    if not n or not series or width <= GUTTER:
        return Text("")
    rows = max(1, (height - 1) // len(series))
    col = max(1, (width - GUTTER) // n)  # columns a bucket takes
    bar = col - 1 if col >= 3 else col  # a gap between wide bars
    lines: list[Text] = []
    for s in series:
        top = s.top or max((v for v in s.values if v), default=0.0) or 1.0
        eighths = [None if v is None else
                   max(1 if s.floor else 0, round(min(v, top) / top * rows * 8))
                   for v in s.values]
        for r in range(rows):
            if rows == 1:
                # "≤" as on two rows: the top of the scale, never read as a value (a
                # carrier at 0% showed "ASR 100%"); the short label leaves it room.
                gutter = f"{s.short or s.label} ≤{s.scale(top)}"
            else:
                gutter = s.label if r == 0 else f"≤{s.scale(top)}" if r == 1 else ""
            line = Text(gutter[:GUTTER - 1].ljust(GUTTER), style="bold" if r == 0 else "dim",
                        no_wrap=True, overflow="crop", end="")
            base = r == rows - 1
            for e in eighths:
                if e is None:
                    line.append(("·" if base else " ") * bar, style="dim")
                else:
                    level = min(8, max(0, e - (rows - 1 - r) * 8))
                    line.append(BLOCKS[level] * bar, style=s.style)
                line.append(" " * (col - bar))
            lines.append(line)
    lines.append(_axis(starts, step_ms, col, axis_title))
    return Text("\n", no_wrap=True, overflow="crop", end="").join(lines)


def _axis(starts: list[int], step_ms: int, col: int, title: str) -> Text:
    """Labels under the buckets they name: hours ("06h", a day's first hour as
    "11-01"), or days ("10-28"), as many as fit without touching."""
    daily = step_ms >= DAY_MS

    def label(ts: int) -> str:
        iso = ms_to_iso(ts)
        hour = iso[11:13]
        return iso[5:10] if daily or hour == "00" else f"{hour}h"

    widest = max(len(label(t)) for t in starts) + 1
    every = next((k for k in (DAY_TICKS if daily else HOUR_TICKS) if k * col >= widest),
                 len(starts))
    chars = [" "] * (len(starts) * col)
    last = len(starts) - 1
    for i, ts in enumerate(starts):
        # Hours on round hours of the day; days counted back from the newest.
        due = (int(ms_to_iso(ts)[11:13]) % every == 0) if not daily else (last - i) % every == 0
        text = label(ts)
        at = i * col
        if due and at + len(text) <= len(chars) and all(c == " " for c in
                                                        chars[max(0, at - 1):at + len(text)]):
            chars[at:at + len(text)] = text
    axis = Text(title[:GUTTER - 1].ljust(GUTTER), style="dim", no_wrap=True, overflow="crop",
                end="")
    axis.append("".join(chars), style="dim")
    return axis
