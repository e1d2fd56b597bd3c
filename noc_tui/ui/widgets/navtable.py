"""NavTable: a keyboard table of keyed rows that keeps its cursor across refreshes,
holds each row's raw data for export, shows the columns that fit its width (columns.py),
sorts by any column (table_sort.py), and paints long tables fast."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from itertools import zip_longest
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.events import Key, Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, DuplicateKey, Row, RowKey

from noc_tui.ui.widgets.cell_paint import Layers, Paint, fast_cell, row_layers
from noc_tui.ui.widgets.columns import SORT_MARK, Col, Fit, fit_columns
from noc_tui.ui.widgets.lazy_cells import Cells, LazyCells
from noc_tui.ui.widgets.table_sort import descending, hotkeys, sort_items, value_key

if TYPE_CHECKING:
    from textual._types import SegmentLines

__all__ = ["Col", "NavTable"]

Row3 = tuple[str, Cells, dict[str, Any]]  # key, cells, raw data


def _pick(make: Callable[[], Sequence[Any]], index: tuple[int, ...]) -> list[Any]:
    cells = make()
    return [cells[i] if i < len(cells) else None for i in index]


def _number_widths(cols: tuple[Col, ...], rows: Sequence[Row3]) -> tuple[Col, ...]:
    """Columns widened to their longest right-aligned (number) cell, so no figure is
    cut: measured on rows given as lists (a lazy row builds its cells only to paint,
    so its screen sizes such columns from the data itself)."""
    longest = [0] * len(cols)
    for _, cells, _ in rows:
        if callable(cells):
            continue
        for i, cell in enumerate(cells[:len(cols)]):
            if type(cell) is Text and cell.justify == "right":
                n = cell_len(cell.plain)
                if n > longest[i]:
                    longest[i] = n
    return tuple(c if longest[i] <= (c.width or 0) else replace(c, width=longest[i])
                 for i, c in enumerate(cols))


def _matches(row: tuple[str, Cells, dict[str, Any]], needle: str) -> bool:
    """Whether a row holds `needle` (casefolded): in its raw values, or in its cells'
    text when they are built already."""
    _, cells, raw = row
    values = [str(v) for v in raw.values() if v is not None]
    if not callable(cells):
        values += [c.plain if hasattr(c, "plain") else str(c) for c in cells]
    return any(needle in v.casefold() for v in values)


def _cell_differs(old: Any, new: Any) -> bool:
    """Text equality compares only characters and spans: the base style (a health
    colour) and the layout (a number turning right-aligned) are compared here too."""
    if old != new:
        return True
    return any(getattr(old, a, None) != getattr(new, a, None)
               for a in ("style", "justify", "overflow", "no_wrap"))


class NavTable(DataTable):
    """A row-cursor DataTable with vi keys, rows addressed by key, and the raw data of
    each row kept for export. `sync` changes only what changed, so the cursor stays
    on the same row across refreshes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
        Binding("s", "sort_pick", "Sort", id="table.sort"),
        Binding("S", "sort_flip", "Reverse sort", show=False, id="table.sort_reverse"),
    ]

    @dataclass
    class EdgeReached(Message):
        """The cursor tried to move past the last (+1) or first (-1) loaded row."""

        table: NavTable
        direction: int

        @property
        def control(self) -> NavTable:
            return self.table

    @dataclass
    class SortChanged(Message):
        """The operator sorted the table by `key` (flipped: the other way than worst
        first). A table that does not sort its own rows is synced again by its owner."""

        table: NavTable
        key: str
        flipped: bool

        @property
        def control(self) -> NavTable:
            return self.table

    @dataclass
    class ColumnsFitted(Message):
        """Which columns did not fit changed (a resize, a page left or right)."""

        table: NavTable

        @property
        def control(self) -> NavTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None,
                 sorts_rows: bool = True, fit_width: bool = True,
                 sort: str | None = None) -> None:
        # Before DataTable's init: its watchers clear the render caches.
        self._row_cells: LRUCache[tuple[Any, ...], SegmentLines] = LRUCache(1000)
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._cols: tuple[Col, ...] = ()
        self._order: list[str] = []
        self._cells: dict[str, list[Any] | None] = {}
        self.raw: dict[str, dict[str, Any]] = {}
        self.raw_columns: list[str] = []
        self.more_below = False
        self.more_above = False
        self._paint_style: Style | None = None
        self._paint: Paint | None = None
        self._rendered_size: Size | None = None
        # What sync was given (every column, every row); what is shown is fitted to the
        # width and sorted from it, again on a resize, a page left or right, a sort.
        self._spec: tuple[Col, ...] = ()
        self._rows_in: Sequence[Row3] = ()
        self._raw_in: Sequence[str] | None = None
        self._fit_width = 0
        self.fit: Fit | None = None
        self.col_skip = 0  # optional columns skipped by paging right
        self.sorts_rows = sorts_rows  # else the owner sorts (a paged query)
        self.fit_width = fit_width  # else every column as given (render tests)
        self.sort_key: str | None = sort  # the column sorted by, worst first; None: as given
        self.sort_flipped = False
        self.picking = False  # the sort key was pressed: the next letter picks a column

        self.filter_text = ""  # rows shown hold it (set_filter)
        self.rows_given = 0  # rows the last sync gave, before the filter

    def on_mount(self) -> None:
        super().on_mount()
        # The sort the operator chose for this table last time (a table that sorts its
        # rows itself; the others' owners restore theirs).
        saved = getattr(self.app, "saved_sort", None)
        if self.sorts_rows and self.id and callable(saved):
            sort = saved(self.id)
            if sort is not None:
                self.sort_key, self.sort_flipped = sort

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._row_cells.clear()

    def notify_style_update(self) -> None:
        self._row_cells.clear()  # DataTable clears its own render caches here
        super().notify_style_update()

    def _on_resize(self, event: Resize) -> None:
        # DataTable forgets every rendered row on each Resize, also one that only tells
        # of a new virtual size (the rows just added), so the first frame of the list
        # was painted twice. A rendered row depends on the table's size, not on that.
        event.prevent_default()  # DataTable's own handler, the only other one
        if event.size != self._rendered_size:
            self._update_count += 1
        if self._spec and self._avail_width(len(self._rows_in)) != self._fit_width:
            self._show()  # other columns fit now

    def render_lines(self, crop: Region) -> list[Strip]:
        # DataTable asks for `rich_style` once per line, and each time it walks every
        # ancestor (eight in the carrier screen's tabs): take it once per paint, with
        # the other values every cell and line reads (reactives, console options).
        self._paint_style = None
        self._paint_style = self.rich_style
        self._paint = self._take_paint()
        self._rendered_size = self.size
        try:
            return super().render_lines(crop)
        finally:
            self._paint_style = None
            self._paint = None

    def _take_paint(self) -> Paint:
        options = self.app.console_options
        widths = [c.get_render_width(self) for c in self.ordered_columns]
        return Paint(
            self.app.console, options.justify, options.overflow, self.cell_padding,
            self.fixed_rows, self.fixed_columns, self.show_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css",
            {}, widths, tuple(widths))

    def _render_line_in_row(self, row_key: RowKey, line_no: int, base_style: Style,
                            cursor_location: Coordinate, hover_location: Coordinate,
                            ) -> tuple[SegmentLines, SegmentLines]:
        # Per line, DataTable also looks up the header's component style and the
        # background (two walks over the ancestors, unused here), lists the columns and
        # asks each for its width. A body line of a row-cursor table without labels or
        # fixed columns (all of ours) takes them from the paint: the same segments.
        paint = self._paint
        row_index = self._row_locations.get(row_key)
        if (paint is None or row_index is None or paint.fixed_columns
                or self.cursor_type != "row" or self._should_render_row_labels):
            return super()._render_line_in_row(row_key, line_no, base_style,
                                               cursor_location, hover_location)
        cache_key = (row_key, line_no, base_style, cursor_location, hover_location, "row",
                     paint.show_cursor, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state)
        cached = self._row_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row_style = self._get_row_style(row_index, base_style)
        cursor = cursor_location.row == row_index  # a row cursor covers every cell
        hover = hover_location.row == row_index
        # DataTable's key above holds where the cursor is, so every move misses it for
        # every row; this one holds only whether it is on this row, so a move repaints
        # the two rows it touches and reuses the others whole.
        cells_key = (row_key.value, row_index, line_no, row_style, cursor, hover,
                     paint.show_cursor, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state, paint.widths_key, self.size.width)
        scrollable_row = self._row_cells.get(cells_key)
        if scrollable_row is None:
            scrollable_row = self._render_row(row_key, row_index, line_no, row_style,
                                              cursor, hover, paint)
            self._row_cells.set(cells_key, scrollable_row)
        row_pair: tuple[SegmentLines, SegmentLines] = ([], scrollable_row)
        self._row_render_cache[cache_key] = row_pair
        return row_pair

    def _render_row(self, row_key: RowKey, row_index: int, line_no: int, row_style: Style,
                    cursor: bool, hover: bool, paint: Paint) -> SegmentLines:
        """One line of a body row, each cell's segments, then the rest of the width (as
        DataTable extends a row under a row cursor).

        DataTable renders every cell through Rich: Styled(Padding(Text)) and three render
        passes, ~0.16 ms a cell, 0.12 s for the first screenful of carriers (47 rows x 16
        cells). A cell holding a one-line Text without spans (all of ours) is laid out
        here instead, to the same segments and styles; anything else (labels, wrapping,
        spans) goes to DataTable. What a row's cells share is worked out once: the
        cursor and hover styles, and each cell style layered under and over them. A
        cell's own part is its characters and its meta (row, column: mouse clicks).
        """
        layers = self._layers(row_style, cursor, hover, paint)
        row = self.rows.get(row_key)
        one_line = row is not None and row.height == 1
        cells = self._get_row_renderables(row_index).cells
        line: SegmentLines = []
        for column_index, width in enumerate(paint.widths):
            cell = cells[column_index] if column_index < len(cells) else None
            segments = (fast_cell(cell, row_index, column_index, width, layers, paint)
                        if one_line else None)
            if segments is None:
                segments = super()._render_cell(row_index, column_index, row_style, width,
                                                cursor, hover)[line_no]
            line.append(segments)
        remaining_space = max(0, self.size.width - sum(paint.widths))
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, paint.show_cursor, self._show_hover_cursor,
            False, False)
        extend_style = row_style + extend_style
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        line.append([Segment(" " * remaining_space, extend_style)])
        return line

    def _layers(self, base_style: Style, cursor: bool, hover: bool, paint: Paint) -> Layers:
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, paint.show_cursor, self._show_hover_cursor,
            paint.css_foreground, paint.css_background)
        return row_layers(base_style, component_style, post_style)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> SegmentLines:
        # A body cell on its own (DataTable's line rendering, when NavTable's is not
        # used): the same fast path as _render_row's.
        paint = self._paint
        if paint is None or row_index < paint.fixed_rows or column_index < paint.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width,
                                        cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor,
                     self._update_count, self._pseudo_class_state)
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row = self.rows.get(row_key) if row_key is not None else None
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        segments = (fast_cell(cell, row_index, column_index, width,
                                    self._layers(base_style, cursor, hover, paint), paint)
                    if row is not None and row.height == 1 else None)
        if segments is None:
            return super()._render_cell(row_index, column_index, base_style, width,
                                        cursor, hover)
        lines = [segments]
        self._cell_render_cache[cache_key] = lines
        return lines

    @property
    def rich_style(self) -> Style:
        return self._paint_style if self._paint_style is not None else super().rich_style

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        # Per line, DataTable builds the zebra stripe's component styles and walks the
        # ancestors for their Rich style: once per kind of row and paint is enough.
        paint = self._paint
        if paint is None:
            return super()._get_row_style(row_index, base_style)
        kind = (-1 if row_index == -1 else -2 if row_index < paint.fixed_rows
                else row_index % 2 if self.zebra_stripes else -3)
        key = (kind, base_style)
        style = paint.row_styles.get(key)
        if style is None:
            style = paint.row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Textual measures every cell of every new row to size auto-width columns. Ours
        # all have fixed widths and rows one line high, so that is pure cost (2,000
        # carriers x 16 cells: ~0.6 s before the first frame). Measure only rows that
        # can change a size; the virtual size is still recomputed by the base class.
        if not any(c.auto_width for c in self.columns.values()):
            new_rows = [k for k in new_rows if (r := self.rows.get(k)) is not None
                        and (r.label is not None or r.auto_height)]
        super()._update_dimensions(new_rows)

    # -- data --------------------------------------------------------------------------

    def sync(self, cols: Sequence[Col], rows: Sequence[Row3],
             raw_columns: Sequence[str] | None = None) -> None:
        """Show rows (key, cells, raw) in this order (or sorted, once the operator sorts
        a table that sorts its own rows), in the columns that fit. Cells are a list, or
        a function that builds them: such rows are built only when painted (long tables).
        Only the rows holding the filter's text are shown (`set_filter`).
        raw_columns: the keys of the raw data to export (default: the column keys)."""
        self._spec = tuple(cols)
        self._rows_in = rows
        self._raw_in = raw_columns
        self.rows_given = len(rows)
        self._show()

    def set_filter(self, text: str) -> None:
        """Show only the rows holding `text` (any value, case ignored); "" shows all."""
        if text == self.filter_text:
            return
        self.filter_text = text
        if self._spec:
            self._show()

    def _avail_width(self, n_rows: int) -> int:
        """The cells the columns may take: the table's width (the screen's before the
        first layout), less a vertical scroll bar when the rows will need one."""
        width = self.region.width or self.app.size.width
        height = self.region.height or self.app.size.height
        if n_rows + (1 if self.show_header else 0) > height:
            width -= self.styles.scrollbar_size_vertical
        return max(width, 1)

    def _show(self) -> None:
        cols, rows = self._spec, self._rows_in
        if self.filter_text:
            needle = self.filter_text.casefold()
            rows = [r for r in rows if _matches(r, needle)]
        col = self._sorted_col()
        if col is not None and self.sorts_rows:
            field, desc = col.sort_field, descending(col, self.sort_flipped)
            rows = sort_items(rows, lambda r: value_key(r[2].get(field)) if r[2] else None,
                              desc)
        self._fit_width = self._avail_width(len(rows))
        if self.fit_width:
            cols = _number_widths(cols, rows)
            fit = fit_columns(cols, self._fit_width, self.col_skip,
                              col.key if col is not None else None)
        else:
            fit = Fit(cols, 0, 0)
        before = self.fit
        self.fit, self.col_skip = fit, fit.hidden_left
        if before is not None and (before.hidden_left, before.hidden_right) != (
                fit.hidden_left, fit.hidden_right):
            self.post_message(self.ColumnsFitted(self))
        shown = fit.cols
        if col is not None:
            mark = SORT_MARK[descending(col, self.sort_flipped)]
            shown = tuple(replace(c, label=c.label + mark) if c.key == col.key else c
                          for c in shown)
        if [c.key for c in shown] != [c.key for c in cols]:
            where = {c.key: i for i, c in enumerate(cols)}
            index = tuple(where[c.key] for c in shown)
            rows = [(k, partial(_pick, cells, index) if callable(cells)
                     else [cells[i] if i < len(cells) else None for i in index], raw)
                    for k, cells, raw in rows]
        raw_columns = self._raw_in
        self._sync(shown, rows, raw_columns if raw_columns is not None
                   else [c.key for c in self._spec])

    def _sync(self, cols: tuple[Col, ...], rows: Sequence[Row3],
              raw_columns: Sequence[str]) -> None:
        keys = [k for k, _, _ in rows]
        self.raw = {k: r for k, _, r in rows}
        self.raw_columns = list(raw_columns)
        if cols == self._cols and keys == self._order:
            stale = False
            col_keys = self._column_keys()
            for key, cells, _ in rows:
                if callable(cells):
                    # Replaced whole: comparing would build the cells of every row.
                    self._data[RowKey(key)] = LazyCells(col_keys, cells)
                    self._cells[key] = None
                    stale = True
                    continue
                old = self._cells.get(key)
                for i, cell in enumerate(cells):
                    if old is None or _cell_differs(old[i], cell):
                        self.update_cell(key, cols[i].key, cell)
                self._cells[key] = cells
            if stale:
                self._update_count += 1  # what update_cell does: cached renders are stale
                self.refresh()
            return
        cursor_key = self.cursor_key
        old_index = self.cursor_row
        if cols != self._cols:
            self.clear(columns=True)
            for c in cols:
                self.add_column(c.label, key=c.key, width=c.width)
            self._cols = cols
        else:
            self.clear()
        if any(callable(cells) for _, cells, _ in rows):
            self._add_rows(rows)
        else:
            for key, cells, _ in rows:
                self.add_row(*cells, key=key)  # type: ignore[misc]
        self._order = keys
        self._cells = {k: (None if callable(c) else c) for k, c, _ in rows}
        if keys:
            index = (keys.index(cursor_key) if cursor_key in self.raw
                     else min(old_index, len(keys) - 1))
            self.move_cursor(row=max(0, index), animate=False, scroll=True)

    def _column_keys(self) -> list[ColumnKey]:
        return [c.key for c in self.ordered_columns]

    def _add_rows(self, rows: Sequence[Row3]) -> None:
        """What `add_row` does for each row (one-line rows, no labels), done once for
        all: per row, `add_row` re-lists the columns and sets the cursor reactive
        (~65 us each, 0.13 s for 2,000 carriers)."""
        if not rows:
            return
        col_keys = self._column_keys()
        start = self.row_count
        keys = [k for k, _, _ in rows]
        row_keys = [RowKey(k) for k in keys]
        if start == 0 and len(set(keys)) == len(keys):
            # A fresh table (after clear): every mapping built in one go.
            self._row_locations = TwoWayDict({k: i for i, k in enumerate(row_keys)})
        else:
            locations = self._row_locations
            for index, row_key in enumerate(row_keys, start):
                if row_key in locations:
                    raise DuplicateKey(f"The row key {row_key!r} already exists.")
                locations[row_key] = index
        data = self._data
        for row_key, (_, cells, _) in zip(row_keys, rows, strict=True):
            if callable(cells):
                data[row_key] = LazyCells(col_keys, cells)
            else:
                if len(cells) > len(col_keys):
                    raise ValueError("More values provided than there are columns.")
                data[row_key] = dict(zip_longest(col_keys, cells))
        self.rows.update((row_key, Row(row_key, 1, None, False)) for row_key in row_keys)
        if any(c.auto_width for c in self.columns.values()):
            self._new_rows.update(row_keys)  # to be measured (see _update_dimensions)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate  # clamped, as add_row does
        if start == 0 and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a cursor position opened up
        self._update_count += 1
        if start == 0:
            # The row order and each line's row, which DataTable would rebuild on the
            # first paint by looking up every row's key by its index (2,000 carriers).
            ordered = [self.rows[k] for k in row_keys]
            self._ordered_row_cache[(len(ordered), self._update_count)] = ordered
            self._offset_cache[self._update_count] = [(k, 0) for k in row_keys]
        self.check_idle()

    def reset(self) -> None:
        """No rows (the columns stay) and no filter: a reused screen shows nothing
        stale."""
        self.filter_text = ""
        self.rows_given = 0
        self.clear()
        self._order = []
        self._cells = {}
        self._rows_in = ()
        self.raw = {}
        self.more_below = self.more_above = False

    # -- columns: paging through those that did not fit ---------------------------------

    def action_cursor_right(self) -> None:
        if self.cursor_type == "row" and self.fit is not None and self.fit.hidden_right:
            self.col_skip += 1
            self._show()
            return
        super().action_cursor_right()

    def action_cursor_left(self) -> None:
        if self.cursor_type == "row" and self.col_skip > 0:
            self.col_skip -= 1
            self._show()
            return
        super().action_cursor_left()

    # -- sorting -------------------------------------------------------------------------

    def _sorted_col(self) -> Col | None:
        if self.sort_key is None:
            return None
        return next((c for c in self._spec if c.key == self.sort_key and c.sort), None)

    def sort_by(self, key: str | None, flipped: bool = False) -> None:
        """Sort by a column (None: the data's own order), without telling the owner."""
        if (key, flipped) != (self.sort_key, self.sort_flipped):
            self.sort_key, self.sort_flipped = key, flipped
            if self._spec:
                self._show()

    def choose_sort(self, key: str) -> None:
        """The operator sorts by a column: worst first, or reversed if it was sorted by
        it already; the owner is told (SortChanged)."""
        col = next((c for c in self._spec if c.key == key and c.sort), None)
        if col is None:
            self.app.bell()
            return
        flipped = not self.sort_flipped if key == self.sort_key else False
        self.sort_by(key, flipped)
        self.post_message(self.SortChanged(self, key, flipped))

    def action_sort_flip(self) -> None:
        if self._sorted_col() is None:
            self.app.bell()
            return
        self.choose_sort(self.sort_key or "")

    def action_sort_pick(self) -> None:
        if not any(c.sort for c in self._spec):
            self.app.bell()
            return
        self.picking = True
        self._label_hotkeys()

    def _label_hotkeys(self) -> None:
        """While picking, each sortable header shows its letter underlined (or before
        it, if the label has not that letter)."""
        keys = hotkeys(self._spec) if self.picking else {}
        shown = self.fit.cols if self.fit else ()
        for c in self.ordered_columns:
            spec = next((s for s in shown if s.key == c.key.value), None)
            if spec is None:
                continue
            label = spec.label
            col = self._sorted_col()
            if col is not None and col.key == spec.key:
                label += SORT_MARK[descending(col, self.sort_flipped)]
            text = Text(label)
            letter = keys.get(spec.key)
            if letter:
                at = label.lower().find(letter)
                if at < 0:
                    text = Text(f"{letter}:{label}")
                    at = 0
                text.stylize("bold reverse", at, at + 1)
            c.label = text
        self._clear_caches()
        self.refresh()

    async def _on_key(self, event: Key) -> None:
        if not self.picking:
            await super()._on_key(event)
            return
        # The key after the sort key picks a column; it does nothing else.
        event.stop()
        event.prevent_default()
        self.picking = False
        self._label_hotkeys()
        letter = event.character or ""
        key = next((k for k, v in hotkeys(self._spec).items() if v == letter), None)
        if key is not None:
            self.choose_sort(key)
        elif event.key != "escape":
            self.app.bell()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.choose_sort(str(event.column_key.value))

    @property
    def cursor_key(self) -> str | None:
        if not self._order or not 0 <= self.cursor_row < len(self._order):
            return None
        return self._order[self.cursor_row]

    def cursor_raw(self) -> dict[str, Any] | None:
        key = self.cursor_key
        return self.raw.get(key) if key is not None else None

    def export_rows(self) -> tuple[list[str], list[dict[str, Any]]]:
        """(column keys, raw rows in display order): what the table shows, as data."""
        return self.raw_columns, [self.raw[k] for k in self._order]

    # -- paging at the edges -----------------------------------------------------------


    def action_cursor_down(self) -> None:
        if self.more_below and self.cursor_row >= self.row_count - 1:
            self.post_message(self.EdgeReached(self, +1))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.more_above and self.cursor_row <= 0:
            self.post_message(self.EdgeReached(self, -1))
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.more_below and self.cursor_row >= self.row_count - 1:
            self.post_message(self.EdgeReached(self, +1))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.more_above and self.cursor_row <= 0:
            self.post_message(self.EdgeReached(self, -1))
            return
        super().action_page_up()

