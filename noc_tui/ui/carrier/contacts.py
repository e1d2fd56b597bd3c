"""Tab 1 of the carrier screen: the carrier's contacts (read with the head)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult

from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.widgets import Col, NavTable

CONTACT_COLS = (Col("name", "Name", 22, pin=True, sort="asc"),
                Col("role", "Role", 12, rank=2, sort="asc"),
                Col("email", "Email", 28, rank=0, sort="asc"),
                Col("phone", "Phone", 16, rank=1, sort="asc"),
                Col("notes", "Notes", 30, rank=3, sort="asc"))


class ContactsPane(CarrierPart):
    PART = "contacts"
    LABEL = "1 Contacts"

    def compose(self) -> ComposeResult:
        yield NavTable(id="t-contacts", sort="name")  # the first tab shown: there from the start

    def show_data(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#t-contacts", NavTable)
        table.sync(CONTACT_COLS, [
            (f"{i}", [fmt.lit(r.get(c.key)) for c in CONTACT_COLS], r)
            for i, r in enumerate(rows)])
        table.border_title = None
        if not rows:
            table.sync(CONTACT_COLS, [("none", [Text("no contacts on file", style="dim"),
                                                *[Text("")] * 4], {})])
