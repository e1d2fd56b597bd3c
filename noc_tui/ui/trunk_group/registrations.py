"""Tab 3 of the trunk-group screen: registration per edge as of now, and the group's
registration events, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from noc_tui.analytics.trunk_group import HISTORY_LIMIT, group_facts, registration_history
from noc_tui.analytics.views import WINDOWS
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.host import host
from noc_tui.ui.trunk_list import inbound_now
from noc_tui.ui.widgets import Col, NavTable, Note

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

REG_COLS = (Col("at", "At", 19, pin=True, sort="desc"),
            Col("edge", "Edge", 8, pin=True, sort="asc"),
            Col("event", "Event", 12, pin=True, sort="asc"),
            Col("expires_s", "Expires", 7, rank=1, sort="asc"),
            Col("contact", "Contact", 20, rank=0, grow=40, sort="asc"))


def edge_line(states: list[dict[str, Any]], style_of: Any, window: str) -> Text:
    """Registered or not per edge as of now, with its latest event and flaps."""
    t = Text()
    if not states:
        return Text("No edges known: no configuration and no registration events.",
                    style="dim")
    for i, s in enumerate(states):
        if i:
            t.append("\n")
        t.append_text(fmt.lit(s["edge"], style="bold"))
        up = s["registered"]
        t.append(" registered" if up else " NOT registered",
                 style=style_of("fine") if up else "bold " + style_of("down"))
        if s["event"]:
            t.append(f"  latest: {s['event']} at {fmt.when(s['at'])}")
        else:
            t.append("  no event yet")
        t.append(f"  flaps in {window}: {s['flaps']:,}")
    return t


class RegistrationsPane(CarrierPart):
    PART = "registrations"
    LABEL = "3 Registrations"

    DEFAULT_CSS = "RegistrationsPane #reg-info { max-height: 5; }"

    def widgets(self) -> list[Widget]:
        return [Note("", id="reg-info", classes="info"),
                NavTable(id="t-registrations", sort="at")]

    def read(self, cache: Cache, app: Host, gid: str) -> dict[str, Any]:
        facts = group_facts(cache, gid, inbound_now(app), WINDOWS[app.window])
        return {"states": facts["edge_states"] if facts else [], "window": app.window,
                "history": registration_history(cache, gid)}

    def show_data(self, data: dict[str, Any]) -> None:
        history = data["history"]
        t = edge_line(data["states"], host(self).health_style, data["window"])
        if len(history) >= HISTORY_LIMIT:
            t.append(f"\nEvents: the newest {HISTORY_LIMIT:,}", style="dim")
        self.query_one("#reg-info", Note).update(t)
        rows = [(f"{r['at']}\x00{r['edge']}\x00{r['event']}", [
            fmt.lit(fmt.when(r["at"])), fmt.lit(r["edge"]), fmt.lit(r["event"]),
            fmt.num(fmt.secs(r["expires_s"]) if r["expires_s"] is not None else ""),
            fmt.lit(r["contact"] or "")], r) for r in history]
        if not rows:
            rows = [("none", [Text("no registration events", style="dim"),
                              *[Text("")] * 4], {})]
        self.query_one("#t-registrations", NavTable).sync(REG_COLS, rows)
