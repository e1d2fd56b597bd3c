"""Tab 5 of the trunk-group screen: its deliveries per hour (live), day or month:
offered, delivered first time, delivered at all, lost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.widgets import Tab, Tabs

from noc_tui.analytics.periods import PERIODS
from noc_tui.analytics.trunk_group import SUMMARY_KEYS, summaries
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.trunk_list import inbound_now
from noc_tui.ui.widgets import Col, NavTable

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

SUM_COLS = (Col("start", "Start", 16, pin=True, sort="desc"),
            Col("offered", "Offered", 7, pin=True, sort="desc"),
            Col("answered_first_try", "1st try", 7, rank=1, sort="desc"),
            Col("first_try_rate", "1st try %", 9, pin=True, sort="asc"),
            Col("delivery_rate", "Delivered %", 11, pin=True, sort="asc"),
            Col("answered_failover", "Failover", 8, rank=0, sort="desc"),
            Col("lost", "Lost", 4, pin=True, sort="desc"),
            Col("refused", "Refused", 7, rank=2, sort="desc"),
            Col("abandoned", "Abandoned", 9, rank=3, sort="desc"))
CUT = {"live": 16, "daily": 10, "monthly": 7}


class TrunkSummaryPane(CarrierPart):
    PART = "summary"
    LABEL = "5 Summary"

    DEFAULT_CSS = "TrunkSummaryPane #tperiod { height: 2; }"

    def __init__(self) -> None:
        super().__init__()
        self.period = "live"
        self.by_period: dict[str, list[dict[str, Any]]] = {}

    def widgets(self) -> list[Widget]:
        return [Tabs(Tab("Live", id="live"), Tab("Daily", id="daily"),
                     Tab("Monthly", id="monthly"), id="tperiod"),
                NavTable(id="t-summary", sort="start")]

    def reset(self) -> None:
        super().reset()
        self.period, self.by_period = "live", {}
        for tabs in self.query("#tperiod").results(Tabs):
            with tabs.prevent(Tabs.TabActivated):
                tabs.active = "live"

    def cycle_period(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self.query_one("#tperiod", Tabs).active = self.period

    @on(Tabs.TabActivated, "#tperiod")
    def _period_shown(self, event: Tabs.TabActivated) -> None:
        event.stop()
        self.period = event.tab.id or "live"
        if self.by_period:
            self._render_rows()

    def read(self, cache: Cache, app: Host, gid: str) -> dict[str, list[dict[str, Any]]]:
        return summaries(cache, gid, inbound_now(app))

    def show_data(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self.by_period = data
        self._render_rows()

    def _render_rows(self) -> None:
        rows = self.by_period.get(self.period, [])
        cut = CUT[self.period]
        cells = [(r["start"], [
            fmt.lit(fmt.when(r["start"])[:cut]), fmt.num(fmt.count(r["offered"])),
            fmt.num(fmt.count(r["answered_first_try"])), fmt.num(fmt.pct(r["first_try_rate"])),
            fmt.num(fmt.pct(r["delivery_rate"])), fmt.num(fmt.count(r["answered_failover"])),
            fmt.num(fmt.count(r["lost"])), fmt.num(fmt.count(r["refused"])),
            fmt.num(fmt.count(r["abandoned"]))], r)
            for r in reversed(rows)]  # newest first
        if not rows:
            cells = [("none", [Text("no deliveries", style="dim"), *[Text("")] * 8], {})]
        self.query_one("#t-summary", NavTable).sync(SUM_COLS, cells, list(SUMMARY_KEYS))
