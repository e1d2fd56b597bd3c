"""How values are shown in cells and labels: always literal, never markup.

Everything that comes from data (carrier names, SIP reasons, numbers, paths) goes
through `lit`, which builds a rich Text (no markup parsing) after making control
characters, ANSI escapes and bidi overrides visible (noc_tui.records.printable) instead
of letting them act on the terminal or reorder the line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from noc_tui.records.currency import decimals
from noc_tui.records.printable import printable, printable_lines
from noc_tui.records.timefmt import ms_to_iso

DASH = "—"
# The one escaping of control characters and bidi marks, shared with the CLI.
clean = printable


def lit(value: Any, style: str = "", justify: str = "left") -> Text:
    return Text(clean(value), style=style, justify=justify,  # type: ignore[arg-type]
                no_wrap=True, overflow="ellipsis", end="")


def block(value: Any, style: str = "") -> Text:
    """Multi-line literal text: each line made safe, the line breaks kept."""
    return Text(printable_lines(value or ""), style=style)


def num(text: str, style: str = "") -> Text:
    """A figure, right-aligned; one too wide for its column ends in an ellipsis (the
    tables size their columns so that none does)."""
    return Text(text, style=style, justify="right", no_wrap=True, overflow="ellipsis",
                end="")


def pct(x: float | None) -> str:
    return DASH if x is None else f"{x * 100:.1f}%"


def secs(x: float | None) -> str:
    return DASH if x is None else f"{x:.0f}s"


def millis(x: float | None) -> str:
    return DASH if x is None else f"{x:.0f}ms"


def count(n: int | float | None) -> str:
    return DASH if n is None else f"{int(n):,}"


def money(x: float | None, currency: str | None) -> str:
    """An amount to the currency's minor unit (cents, for most)."""
    return DASH if x is None else f"{x:,.{decimals(currency)}f}"


def minutes(x: float | None) -> str:
    return DASH if x is None else f"{x:,.1f}"


TIME_ZONE = "UTC"  # every time on screen; the header says so


def when(value: str | int | None) -> str:
    """An instant as every screen shows one: 2026-10-31 12:21:04 (UTC, to the second).
    Takes the cache's ISO text or epoch milliseconds."""
    if value is None or value == "":
        return ""
    text = ms_to_iso(value) if isinstance(value, int) else str(value)
    return clean(text[:19].replace("T", " "))


def ago(delta_ms: int) -> str:
    """12 s / 12 min / 3 h / 2 d ago, the way an operator reads it at a glance."""
    s = max(0, delta_ms // 1000)
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min ago" if m and h < 6 else f"{h} h ago"
    return f"{s // 86400} d ago"


def fit_parts(parts: Sequence[tuple[int, Text]], width: int, sep: str = "  ") -> Text:
    """A one-line title of parts (rank, text) that fits `width` cells: those of rank 0
    always, then by rank (ties in order) each that still fits; one that does not is left
    out whole, never cut, and the parts kept stay in their order."""
    room = width
    kept: set[int] = set()
    for i, (rank, text) in sorted(enumerate(parts), key=lambda ip: (ip[1][0], ip[0])):
        need = text.cell_len + (len(sep) if kept else 0)
        if rank == 0 or need <= room:
            kept.add(i)
            room -= need
    return Text(sep).join(text for i, (_, text) in enumerate(parts) if i in kept)


def safe_filename(text: str, limit: int = 48) -> str:
    out = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return out[:limit] or "x"
