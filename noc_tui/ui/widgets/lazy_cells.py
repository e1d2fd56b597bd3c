"""A table row whose cells are built the first time they are read."""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, Sequence, ValuesView
from itertools import zip_longest
from typing import Any

from textual.widgets.data_table import ColumnKey

# A row's cells: built already, or a function that builds them when first needed.
Cells = list[Any] | Callable[[], Sequence[Any]]


class LazyCells(dict[ColumnKey, Any]):
    """One row's cells, built on first read.

    DataTable reads a row's cells only to paint it (or when asked for them), so a long
    table whose cells are given as functions pays for the Rich `Text` of the rows on
    screen, not of all of them: 2,000 carriers x 16 cells took ~0.3 s before the first
    frame. Any read builds the whole row once; cells set before that (`update_cell`) win.
    """

    __slots__ = ("_keys", "_make")

    def __init__(self, keys: Sequence[ColumnKey], make: Callable[[], Sequence[Any]]) -> None:
        super().__init__()
        self._keys = keys
        self._make: Callable[[], Sequence[Any]] | None = make

    def _build(self) -> None:
        make, self._make = self._make, None
        if make is not None:
            for key, cell in zip_longest(self._keys, make()):
                if key is not None:
                    self.setdefault(key, cell)

    def __missing__(self, key: ColumnKey) -> Any:
        if self._make is None:
            raise KeyError(key)
        self._build()
        return dict.__getitem__(self, key)

    # Every other way to read the mapping builds it first, so it is never seen partial.
    def get(self, key: ColumnKey, default: Any = None) -> Any:  # type: ignore[override]
        self._build()
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self._build()
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[ColumnKey]:
        self._build()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._build()
        return dict.__len__(self)

    def keys(self) -> KeysView[ColumnKey]:  # type: ignore[override]
        self._build()
        return dict.keys(self)

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        self._build()
        return dict.values(self)

    def items(self) -> ItemsView[ColumnKey, Any]:  # type: ignore[override]
        self._build()
        return dict.items(self)

    def __delitem__(self, key: ColumnKey) -> None:
        self._build()
        dict.__delitem__(self, key)
