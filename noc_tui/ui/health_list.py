"""What the two top-level lists (carriers, trunk groups) show alike: a row's alarm mark,
and the title's count, filter and hidden-columns parts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text

from noc_tui.ui import cells as fmt
from noc_tui.ui.widgets.columns import Fit


def alarm_mark(row: dict[str, Any], style_of: Callable[[str], str]) -> Text:
    """`!` for an open alarm that wants attention; an acknowledged one keeps a quiet mark
    until it clears."""
    if row.get("alarms"):
        return Text("!", style="bold " + style_of("down"))
    return Text("·", style="dim") if row.get("alarms_silenced") else Text("")


def count_part(noun: str, shown: int, total: int) -> tuple[int, Text]:
    """The title's count (rank 0: always shown), "of" the whole when a filter hides rows."""
    return (0, Text.assemble((f"{noun} ", "bold"),
                             (f"{shown} of {total}" if shown != total else f"{total}", "bold")))


def filter_parts(filter_text: str, fit: Fit | None) -> list[tuple[int, Text]]:
    """The filter in force (always shown) and the columns left out (rank 3)."""
    parts = []
    if filter_text:
        parts.append((0, Text("filter: ") + fmt.lit(filter_text, style="italic")))
    hidden = (fit.hidden_left + fit.hidden_right) if fit else 0
    if hidden:
        parts.append((3, Text(f"←→ {hidden} more column{'s' if hidden != 1 else ''}")))
    return parts
