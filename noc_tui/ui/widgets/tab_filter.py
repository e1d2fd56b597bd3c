"""The `/` filter of a screen with tabs: one box that edits the filter of the tab shown."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.widgets import Input

from noc_tui.ui.widgets.key_focus import focus_now
from noc_tui.ui.widgets.navtable import NavTable


class TabFilter(Input):
    """One filter box, docked at the bottom, for every tab of a screen: it shows and edits
    the filter of the tab shown, each tab's table keeping its own. Enter keeps the filter
    (the box stays in view while it filters), Esc clears it first, then goes back (the
    screen's back action calls `clear`)."""

    DEFAULT_CSS = """
    TabFilter { dock: bottom; display: none; }
    TabFilter.-on { display: block; }
    """

    def __init__(self, tab_table: Callable[[], NavTable | None],
                 filtered: Callable[[], None], *, id: str) -> None:
        """tab_table: the table of the tab shown, None where `/` filters nothing;
        filtered: called after the tab's filter changed (its info line counts the rows)."""
        super().__init__(placeholder="filter this tab's rows (Enter keeps it, Esc clears)",
                         id=id)
        self._tab_table = tab_table
        self._filtered = filtered

    def open(self) -> bool:
        """`/`: the box, focused, with the filter of the tab shown; False where the tab
        has no table to filter."""
        table = self._tab_table()
        if table is None:
            return False
        with self.prevent(Input.Changed):
            self.value = table.filter_text
        self.add_class("-on")
        focus_now(self)
        return True

    def show_tab(self) -> None:
        """Another tab is shown: the box shows its filter, in view if one is on."""
        table = self._tab_table()
        text = table.filter_text if table is not None else ""
        with self.prevent(Input.Changed):
            self.value = text
        self.set_class(bool(text), "-on")

    def clear(self) -> bool:
        """Esc: clear the tab's filter, being edited or kept; False when none was on."""
        if not (self.has_focus or self.value):
            return False
        self.value = ""
        self.leave()
        return True

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        table = self._tab_table()
        if table is not None:
            table.set_filter(event.value)
            self._filtered()

    @on(Input.Submitted)
    def leave(self) -> None:
        """Back to the tab's table; the box stays in view while it filters."""
        self.set_class(bool(self.value), "-on")
        table = self._tab_table()
        if table is not None:
            table.focus()
