"""What a table column is, and which columns a table shows in the width it has.

Every column has a place (the order the table shows them in) and a priority: pinned
columns are always shown; the others by rank, lowest first, as the width allows. A
column is shown whole or not at all, so no figure is ever cut by the screen's edge;
the left and right keys page through the columns that did not fit (the pinned ones stay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

CELL_PADDING = 1  # NavTable's, each side of a cell
SORT_MARK = {False: "▲", True: "▼"}  # ascending, descending: beside the sorted label


@dataclass(frozen=True)
class Col:
    """A table column. `width` is its content width (padding aside); `grow` how many
    more cells it may take when width is left over (a name). `pin`: always shown;
    otherwise `rank` orders the columns by how much they matter (0 first). `sort`: the
    direction of the first sort on the column, worst first ("asc" or "desc"; "" not
    sortable); `field` the raw key it sorts by (default `key`); `hotkey` the letter that
    picks it after the sort key."""

    key: str
    label: str
    width: int | None = None
    pin: bool = False
    rank: int = 0
    grow: int = 0
    grow_rank: int | None = None
    sort: str = ""
    field: str = ""
    hotkey: str = ""

    @property
    def sort_field(self) -> str:
        return self.field or self.key


def text_width(col: Col, longest: int, whole: int | None = None,
               most: int | None = None) -> Col:
    """A text column sized to its values, the longest `longest` cells: at least its own
    width, wide enough to show them whole up to `whole` cells (all: None) before any
    optional column gets room, and growing up to `most` cells (all: None) as the width
    allows."""
    base = max(col.width or 0, longest if whole is None else min(longest, whole))
    top = longest if most is None else min(longest, most)
    return replace(col, width=base, grow=max(0, top - base))


def widest_figure(rows: Iterable[Mapping[str, Any]], key: str,
                  show: Callable[[Any], str]) -> int:
    """The cells of the widest figure under `key`, as `show` formats it: that of the
    largest (a count, a duration), measured on the raw values; 1 when there is none."""
    values = [v for r in rows if (v := r.get(key)) is not None]
    return len(show(max(values))) if values else 1


def widened(cols: Iterable[Col], measured: Mapping[str, int]) -> tuple[Col, ...]:
    """The columns, each measured one as wide as its widest value when that is wider:
    the cells are built only when painted, so the table cannot measure them."""
    return tuple(c if (w := measured.get(c.key)) is None or w <= (c.width or 0)
                 else replace(c, width=w) for c in cols)


def outer(width: int) -> int:
    """The cells a column of this content width takes, padding included."""
    return width + 2 * CELL_PADDING


@dataclass(frozen=True)
class Fit:
    """The columns shown, in table order, and how many of the others did not fit on
    either side of those shown (left: skipped by paging right)."""

    cols: tuple[Col, ...]
    hidden_left: int
    hidden_right: int


def fit_columns(cols: Sequence[Col], width: int, skip: int = 0,
                sorted_key: str | None = None) -> Fit:
    """The columns that fit `width` cells: every pinned one, then the others in rank
    order from the `skip`-th on, each only if it fits whole; width left over goes to
    the growing columns. The sorted column's label has its sort mark beside it."""
    def need(c: Col) -> int:
        label = len(c.label) + (1 if c.key == sorted_key else 0)
        return max(c.width or 0, label)

    pinned = [c for c in cols if c.pin]
    others = sorted((c for c in cols if not c.pin), key=lambda c: c.rank)
    skip = max(0, min(skip, len(others) - 1)) if others else 0
    left = width - sum(outer(need(c)) for c in pinned)
    taken: set[str] = set()
    extra: dict[str, int] = {}

    def grow(upto: int | None) -> None:
        nonlocal left
        for c in cols:
            if c.grow and c.key not in extra and (upto is None or (
                    c.grow_rank is not None and c.grow_rank < upto)) and (
                    c.pin or c.key in taken):
                extra[c.key] = max(0, min(c.grow, left))
                left -= extra[c.key]

    hidden_right = 0
    for c in others[skip:]:
        grow(c.rank)
        # The first one always, when nothing is pinned: a table shows some column.
        if not hidden_right and (outer(need(c)) <= left or not (pinned or taken)):
            taken.add(c.key)
            left -= outer(need(c))
        else:
            hidden_right += 1  # the next ones wait their turn: ranks stay in order
    grow(None)
    shown: list[Col] = []
    for c in cols:
        if not (c.pin or c.key in taken):
            continue
        if c.width is None:  # sized by the table from its data
            shown.append(c)
            continue
        w = need(c) + extra.get(c.key, 0)
        shown.append(c if w == c.width else replace(c, width=w))
    return Fit(tuple(shown), skip, hidden_right)
