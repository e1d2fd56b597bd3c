"""Tab 5 of the carrier screen: the carrier's figures per hour (live), day or month."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.widgets import Tab, Tabs

from noc_tui.analytics.metrics import PERIODS
from noc_tui.analytics.views import summaries
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart, ts
from noc_tui.ui.widgets import Col, NavTable

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

SUM_COLS = (Col("start", "Start", 17), Col("attempts", "Attempts", 9),
            Col("connected", "Connected", 9), Col("asr", "ASR", 6), Col("acd_s", "ACD", 6),
            Col("minutes", "Minutes", 9), Col("pdd_avg_ms", "PDD", 7), Col("ner", "NER", 6),
            Col("cost", "Cost", 11), Col("unrated", "Unrated", 7))


class SummaryPane(CarrierPart):
    PART = "summary"
    LABEL = "5 Summary"

    DEFAULT_CSS = "SummaryPane #period { height: 2; }"

    def __init__(self) -> None:
        super().__init__()
        self.period = "live"
        self.by_period: dict[str, list[dict[str, Any]]] = {}  # all three read at once

    def widgets(self) -> list[Widget]:
        return [Tabs(Tab("Live", id="live"), Tab("Daily", id="daily"),
                     Tab("Monthly", id="monthly"), id="period"), NavTable(id="t-summary")]

    def reset(self) -> None:
        super().reset()
        self.period = "live"
        self.by_period = {}
        for tabs in self.query("#period").results(Tabs):
            with tabs.prevent(Tabs.TabActivated):
                tabs.active = "live"

    def cycle_period(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self.query_one("#period", Tabs).active = self.period

    @on(Tabs.TabActivated, "#period")
    def _period_shown(self, event: Tabs.TabActivated) -> None:
        event.stop()
        self.period = event.tab.id or "live"
        if self.by_period:
            self._render_rows()

    def read(self, cache: Cache, app: Host, carrier_id: str) -> dict[str, Any]:
        return summaries(cache, carrier_id, app.now())

    def show_data(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self.by_period = data
        self._render_rows()

    def _render_rows(self) -> None:
        rows = self.by_period.get(self.period, [])
        cut = {"live": 16, "daily": 10, "monthly": 7}[self.period]
        cells = [(r["start"], [
            fmt.lit(ts(r["start"])[:cut]), fmt.num(fmt.count(r["attempts"])),
            fmt.num(fmt.count(r["connected"])), fmt.num(fmt.pct(r["asr"])),
            fmt.num(fmt.secs(r["acd_s"])), fmt.num(fmt.minutes(r["minutes"])),
            fmt.num(fmt.millis(r["pdd_avg_ms"])), fmt.num(fmt.pct(r["ner"])),
            fmt.num(fmt.money(r["cost"])), fmt.num(fmt.count(r["unrated"]))], r)
            for r in reversed(rows)]  # newest first: what an operator looks at
        if not rows:
            cells = [("none", [Text("no calls", style="dim"), *[Text("")] * 9], {})]
        self.query_one("#t-summary", NavTable).sync(SUM_COLS, cells)
