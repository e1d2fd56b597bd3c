"""The help screen (`?`, F1), built from the bindings active where it was opened."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from noc_tui.ui.widgets import Note

HELP_FOOT = (
    "Enter drills down (carrier, call); Esc or q goes back; ctrl+q quits from anywhere.\n"
    "Keys can be remapped in the config file: [keys] binding-id = \"key\"."
)


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(key, what it does, binding id) for every binding active on the screen."""
    seen: set[tuple[str, str]] = set()
    rows: list[tuple[str, str, str]] = []
    for key, active in screen.active_bindings.items():
        b = active.binding
        desc = b.description or b.action.replace("_", " ")
        if (b.action, key) in seen:
            continue
        seen.add((b.action, key))
        display = screen.app.get_key_display(b) if b.key == key else key
        rows.append((display, desc, b.id or ""))
    order = {"app": 0}
    rows.sort(key=lambda r: (order.get(r[2].split(".")[0], 1), r[2] == "", r[2], r[0]))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; max-width: 98%; height: 90%; border: round $primary;
        background: $surface; }
    HelpScreen #help-title { height: 1; padding: 0 1; text-style: bold; }
    HelpScreen DataTable { height: 1fr; }
    """

    def __init__(self, rows: list[tuple[str, str, str]], title: str) -> None:
        super().__init__()
        self.rows = rows
        self.help_title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Keys: {self.help_title}"), id="help-title")
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Note(HELP_FOOT)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Key", key="key", width=14)
        table.add_column("Does", key="does", width=36)
        table.add_column("Binding id (for [keys])", key="id")
        for key, desc, bid in self.rows:
            table.add_row(Text(key, style="bold"), Text(desc), Text(bid, style="dim"))
        table.focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
