"""Sorting a table by a column, as an operator expects it.

The first sort on a column puts the worst first (the column says which way that is:
lowest ASR, most consecutive failures, newest call); the same column again reverses.
Missing values go last either way; names sort as read ("Carrier 2" before "Carrier 10").
A column is picked with the sort key then its letter (`hotkeys`), or a header click.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from noc_tui.ui.widgets.columns import Col

T = TypeVar("T")
_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[Any, ...]:
    """Text in the order an operator reads it: "Carrier 2" before "Carrier 10", case
    ignored. Text and numbers alternate, so like is compared with like."""
    parts = _DIGITS.split(text.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def value_key(value: Any) -> Any:
    """A sortable form of a cell's raw value (None stays None: sorted last)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | int | float):
        return (0, value)
    if isinstance(value, list | tuple | dict):
        return (0, len(value))
    text = str(value)
    if text.isdigit():  # a number or prefix: 44, 4420, 447 in dialling order
        return (1, (text,))
    return (1, natural_key(text))


def sort_items(items: Iterable[T], value_of: Callable[[T], Any], descending: bool) -> list[T]:
    """Items by value (stable: ties keep their order), missing values last."""
    valued = [(value_of(it), it) for it in items]
    present = [vi for vi in valued if vi[0] is not None]
    present.sort(key=itemgetter(0), reverse=descending)
    return [it for _, it in present] + [it for v, it in valued if v is None]


def descending(col: Col, flipped: bool) -> bool:
    """The direction of a sort on col: worst first, unless flipped."""
    return (col.sort == "desc") != flipped


def hotkeys(cols: Sequence[Col]) -> dict[str, str]:
    """column key -> the letter that picks it: its own, else the first free letter of
    its label, else the first free letter at all."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in cols:
        if c.sort and c.hotkey and c.hotkey not in used:
            out[c.key] = c.hotkey
            used.add(c.hotkey)
    for c in cols:
        if not c.sort or c.key in out:
            continue
        letters = [ch for ch in c.label.lower() if ch.isalpha() and ch.isascii()]
        spare = [ch for ch in "abcdefghijklmnopqrstuvwxyz" if ch not in used]
        pick = next((ch for ch in letters if ch not in used), spare[0] if spare else "")
        if pick:
            out[c.key] = pick
            used.add(pick)
    return out
