"""Tab 1 of the trunk-group screen: each DID's deliveries in the window, and the
failover number it would get (its own, else the group's global one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noc_tui.analytics.inbound import did_figures
from noc_tui.analytics.views import WINDOWS
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.trunk_list import inbound_now
from noc_tui.ui.widgets import Col, NavTable

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

SOURCE_WORDS = {"did": "DID's own", "trunk_group": "group's global", None: "none"}
DID_COLS = (Col("did", "DID", 12, pin=True, sort="asc"),
            Col("offered", "Offered", 7, pin=True, sort="desc"),
            Col("answered_first_try", "1st try", 7, rank=1, sort="desc"),
            Col("answered_failover", "Failover", 8, rank=2, sort="desc"),
            Col("lost", "Lost", 4, pin=True, sort="desc"),
            Col("refused", "Refused", 7, rank=3, sort="desc"),
            Col("abandoned", "Abandoned", 9, rank=4, sort="desc"),
            Col("effective_failover_number", "Failover number", 15, pin=True, sort="asc"),
            Col("number_source", "From", 14, rank=0, sort="asc"))
COUNTS = ("offered", "answered_first_try", "answered_failover", "lost", "refused",
          "abandoned")


class DidsPane(CarrierPart):
    PART = "dids"
    LABEL = "1 DIDs"

    def widgets(self) -> list[Widget]:
        return [NavTable(id="t-dids", sort="did")]

    def read(self, cache: Cache, app: Host, gid: str) -> list[dict[str, Any]]:
        return did_figures(cache, gid, inbound_now(app), WINDOWS[app.window])

    def show_data(self, data: list[dict[str, Any]]) -> None:
        rows = [(r["did"], [fmt.lit(r["did"]), *(fmt.num(fmt.count(r[k])) for k in COUNTS[:2]),
                            fmt.num(fmt.count(r["answered_failover"])),
                            fmt.num(fmt.count(r["lost"])),
                            fmt.num(fmt.count(r["refused"])),
                            fmt.num(fmt.count(r["abandoned"])),
                            fmt.lit(r["effective_failover_number"] or fmt.DASH),
                            fmt.lit(SOURCE_WORDS.get(r["number_source"], r["number_source"]))],
                 r) for r in data]
        self.query_one("#t-dids", NavTable).sync(DID_COLS, rows, [
            "did", *COUNTS, "effective_failover_number", "number_source"])
