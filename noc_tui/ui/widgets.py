"""Widgets shared by the screens: the status header and a keyed, keyboard table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import DataTable, ProgressBar, Static
from textual.widgets.data_table import RowKey


class HeaderBar(Horizontal):
    """App name and where we are, the data's age, a PAUSED badge, poll progress."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; }
    HeaderBar > #hb-title { width: auto; padding: 0 1; text-style: bold; color: $primary; }
    HeaderBar > #hb-crumb { width: 1fr; padding: 0 1; }
    HeaderBar > #hb-age { width: auto; padding: 0 1; }
    HeaderBar > #hb-age.-warning { color: $warning; text-style: bold; }
    HeaderBar > #hb-age.-error { color: $error; text-style: bold; }
    HeaderBar > #hb-paused { width: auto; padding: 0 1; display: none;
        background: $warning; color: $background; text-style: bold; }
    HeaderBar > #hb-paused.-on { display: block; }
    HeaderBar > ProgressBar { width: 30; display: none; }
    HeaderBar > ProgressBar.-on { display: block; }
    """

    def __init__(self, crumb: str | Text = "") -> None:
        super().__init__()
        self._crumb = crumb

    def compose(self) -> ComposeResult:
        yield Static("noc-tui", id="hb-title", markup=False)
        crumb = self._crumb if isinstance(self._crumb, Text) else Text(self._crumb)
        yield Static(crumb, id="hb-crumb")
        yield Static("", id="hb-age", markup=False)
        yield Static("PAUSED", id="hb-paused", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="hb-progress")

    def on_mount(self) -> None:
        self.app.call_later(self.app.update_headers)  # type: ignore[attr-defined]

    def set_crumb(self, crumb: Text) -> None:
        self.query_one("#hb-crumb", Static).update(crumb)

    def show(self, age: Content, level: str, paused: bool,
             progress: tuple[int, int | None] | None) -> None:
        age_w = self.query_one("#hb-age", Static)
        age_w.update(age)
        age_w.set_class(level == "warning", "-warning")
        age_w.set_class(level == "error", "-error")
        self.query_one("#hb-paused").set_class(paused, "-on")
        bar = self.query_one(ProgressBar)
        bar.set_class(progress is not None, "-on")
        if progress is not None:
            done, total = progress
            bar.update(total=total, progress=done)


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    width: int | None = None


class NavTable(DataTable):
    """A row-cursor DataTable with vi keys, rows addressed by key, and the raw data of
    each row kept for export. `sync` changes only what changed, so the cursor stays
    on the same row across refreshes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
    ]

    @dataclass
    class EdgeReached(Message):
        """The cursor tried to move past the last (+1) or first (-1) loaded row."""

        table: NavTable
        direction: int

        @property
        def control(self) -> NavTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._cols: tuple[Col, ...] = ()
        self._order: list[str] = []
        self._cells: dict[str, list[Any]] = {}
        self.raw: dict[str, dict[str, Any]] = {}
        self.raw_columns: list[str] = []
        self.more_below = False
        self.more_above = False
        self._paint_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        # DataTable asks for `rich_style` once per line, and each time it walks every
        # ancestor (eight in the carrier screen's tabs): take it once per paint.
        self._paint_style = None
        self._paint_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._paint_style = None

    @property
    def rich_style(self) -> Style:
        return self._paint_style if self._paint_style is not None else super().rich_style

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

    def sync(self, cols: Sequence[Col], rows: Sequence[tuple[str, list[Any], dict[str, Any]]],
             raw_columns: Sequence[str] | None = None) -> None:
        cols = tuple(cols)
        keys = [k for k, _, _ in rows]
        self.raw = {k: r for k, _, r in rows}
        self.raw_columns = list(raw_columns) if raw_columns is not None else [c.key for c in cols]
        if cols == self._cols and keys == self._order:
            for key, cells, _ in rows:
                old = self._cells.get(key)
                for i, cell in enumerate(cells):
                    # Text equality ignores the base style: compare it too (health colour).
                    if old is None or old[i] != cell or \
                            getattr(old[i], "style", None) != getattr(cell, "style", None):
                        self.update_cell(key, cols[i].key, cell)
                self._cells[key] = cells
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
        for key, cells, _ in rows:
            self.add_row(*cells, key=key)
        self._order = keys
        self._cells = {k: c for k, c, _ in rows}
        if keys:
            index = (keys.index(cursor_key) if cursor_key in self.raw
                     else min(old_index, len(keys) - 1))
            self.move_cursor(row=max(0, index), animate=False, scroll=True)

    def reset(self) -> None:
        """No rows (the columns stay): a reused screen shows nothing stale."""
        self.clear()
        self._order = []
        self._cells = {}
        self.raw = {}
        self.more_below = self.more_above = False

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


class Note(Static):
    """A paragraph of literal text (never markup)."""

    DEFAULT_CSS = "Note { padding: 0 1; height: auto; }"

    def __init__(self, text: str | Text | Content = "", *, id: str | None = None,
                 classes: str | None = None) -> None:
        if isinstance(text, str):
            text = Content(text)
        super().__init__(text, id=id, classes=classes, markup=False)


class KeyHints(Static):
    """A one-line footer of the shown bindings. Textual's Footer recomposes a widget per
    key on every focus change; this re-renders one line, which keeps screens quick
    to open (Enter on a carrier) and cheap over a slow SSH link."""

    DEFAULT_CSS = """
    KeyHints { dock: bottom; height: 1; background: $panel; color: $foreground;
        text-wrap: nowrap; text-overflow: ellipsis; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._queued = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._changed)
        self._render_hints()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _changed(self, _screen: Any) -> None:
        if not self._queued:
            self._queued = True
            self.call_after_refresh(self._render_hints)

    def _render_hints(self) -> None:
        self._queued = False
        if not self.is_attached:
            return
        key_style = self.app.current_theme.variables.get(
            "footer-key-foreground", self.app.current_theme.accent or "") or ""
        parts: list[Content] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            b = active.binding
            if not b.show or not b.description or b.action in seen:
                continue
            seen.add(b.action)
            parts.append(Content.assemble((self.app.get_key_display(b), f"bold {key_style}"),
                                          " ", b.description))
        self.update(Content("  ").join(parts))
