"""Tab 4 of the carrier screen: the consecutive-failure counter and its history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from noc_tui.analytics.views import failure_history
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.new_calls import NEW_COL, NewCalls, is_new, mark
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.host import host
from noc_tui.ui.widgets import Col, NavTable, Note

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

CF_COLS = (NEW_COL, Col("started_at", "Started", 19, pin=True, sort="desc"),
           Col("counter", "Counter", 7, pin=True, sort="desc"),
           Col("sip_code", "Code", 4, pin=True, sort="asc"),
           Col("sip_reason", "Reason", 24, rank=1, sort="asc"),
           Col("dst", "Number", 14, rank=0, sort="asc"),
           Col("call_id", "Call id", 24, rank=2, sort="asc"))


class FailuresPane(CarrierPart):
    PART = "failures"
    LABEL = "4 Consecutive Failure"

    def __init__(self) -> None:
        super().__init__()
        self.new_calls = NewCalls()

    def end_look(self) -> None:
        self.new_calls.end()

    def shown_again(self) -> None:
        if self.last_data is not None:
            self.show_data(self.last_data)  # a new look: the marks of the last one go

    def widgets(self) -> list[Widget]:
        return [Note("", id="cf-info", classes="info"),
                NavTable(id="t-failures", sort="started_at")]

    def read(self, cache: Cache, app: Host, carrier_id: str) -> dict[str, Any]:
        return {**failure_history(cache, carrier_id, app.now()), "carrier_id": carrier_id}

    def show_data(self, data: dict[str, Any]) -> None:
        self.last_data = data
        app = host(self)
        al = app.settings.alarms.consecutive_failures
        hs = app.settings.health
        count = data["count"]
        if count is None:
            self.query_one("#cf-info", Note).update(Text(
                "Consecutive failures: unknown — the switch's records hold no failed "
                "attempts (a CDR of connected calls only)", style="dim"))
            self.query_one("#t-failures", NavTable).sync(CF_COLS, [])
            return
        style = "bold " + app.health_style(
            "down" if count >= hs.down_consecutive_failures else
            "degraded" if count >= hs.degraded_consecutive_failures else "fine")
        t = Text()
        t.append("Consecutive failures now: ")
        t.append(f"{count:,}", style=style)
        t.append(f"   alarm at {al:,}  (degraded at {hs.degraded_consecutive_failures:,},"
                 f" down at {hs.down_consecutive_failures:,})")
        t.append("\nLast connected call: "
                 + (fmt.when(data["last_connected"]) if data["last_connected"] else "never"))
        seen = self.new_calls.look(app, f"failures:{data['carrier_id']}",
                                   (h["started_at"] for h in data["history"]))
        new = sum(is_new(h["started_at"], seen) for h in data["history"])
        if new:
            t.append(f"   • {new:,} new since you last looked", style="bold")
        self.query_one("#cf-info", Note).update(t)
        cells = []
        for h in data["history"]:
            ok = h["connected"]
            st = app.health_style("fine") if ok else ""
            cells.append((f"{h['call_id']}\x00{h['seq']}", [
                mark(is_new(h["started_at"], seen)), fmt.lit(fmt.when(h["started_at"])),
                fmt.num("reset" if ok else fmt.count(h["counter"]), st),
                fmt.num(str(h["sip_code"]), st), fmt.lit(h.get("sip_reason")),
                fmt.lit(h["dst"]), fmt.lit(h["call_id"])], h))
        self.query_one("#t-failures", NavTable).sync(CF_COLS, cells, [
            "started_at", "counter", "sip_code", "sip_reason", "dst", "call_id", "seq"])
