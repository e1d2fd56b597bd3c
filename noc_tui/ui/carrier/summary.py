"""Tab 5 of the carrier screen: the carrier's figures per hour (live), day or month."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.widgets import Tab, Tabs

from noc_tui.analytics.metrics import PERIODS
from noc_tui.analytics.views import summaries
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.widgets import Col, NavTable

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

# The letters after `s` are those of the carrier list's columns of the same name.
SUM_COLS = (Col("start", "Start", 16, pin=True, sort="desc", hotkey="s"),
            Col("attempts", "Attempts", 8, pin=True, sort="desc", hotkey="t"),
            Col("connected", "Connected", 9, rank=3, sort="desc", hotkey="n"),
            Col("asr", "ASR", 6, pin=True, sort="asc", hotkey="a"),
            Col("acd_s", "ACD", 5, rank=1, sort="asc", hotkey="d"),
            Col("minutes", "Minutes", 7, rank=4, sort="desc", hotkey="m"),
            Col("pdd_avg_ms", "PDD", 6, rank=2, sort="desc", hotkey="p"),
            Col("ner", "NER", 6, rank=0, sort="asc", hotkey="e"),
            Col("cost", "Cost", 8, rank=5, sort="desc", hotkey="o"),
            Col("unrated", "Unrated", 7, rank=6, sort="desc", hotkey="u"))


class SummaryPane(CarrierPart):
    PART = "summary"
    LABEL = "5 Summary"

    DEFAULT_CSS = "SummaryPane #period { height: 2; }"

    def __init__(self) -> None:
        super().__init__()
        self.period = "live"
        self.by_period: dict[str, list[dict[str, Any]]] = {}  # all three read at once
        self.currency: str | None = None  # the carrier's: cost is shown to its cents

    def widgets(self) -> list[Widget]:
        return [Tabs(Tab("Live", id="live"), Tab("Daily", id="daily"),
                     Tab("Monthly", id="monthly"), id="period"),
                NavTable(id="t-summary", sort="start")]

    def reset(self) -> None:
        super().reset()
        self.period = "live"
        self.by_period = {}
        self.currency = None
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
        from noc_tui.analytics.export import carrier_currency

        return {"periods": summaries(cache, carrier_id, app.now()),
                "currency": carrier_currency(cache, carrier_id)}

    def show_data(self, data: dict[str, Any]) -> None:
        self.by_period = data["periods"]
        self.currency = data["currency"]
        self._render_rows()

    def _render_rows(self) -> None:
        rows = self.by_period.get(self.period, [])
        cut = {"live": 16, "daily": 10, "monthly": 7}[self.period]
        cells = [(r["start"], [
            fmt.lit(fmt.when(r["start"])[:cut]), fmt.num(fmt.count(r["attempts"])),
            fmt.num(fmt.count(r["connected"])), fmt.num(fmt.pct(r["asr"])),
            fmt.num(fmt.secs(r["acd_s"])), fmt.num(fmt.minutes(r["minutes"])),
            fmt.num(fmt.millis(r["pdd_avg_ms"])), fmt.num(fmt.pct(r["ner"])),
            fmt.num(fmt.money(r["cost"], self.currency)), fmt.num(fmt.count(r["unrated"]))], r)
            for r in reversed(rows)]  # newest first: what an operator looks at
        if not rows:
            cells = [("none", [Text("no calls", style="dim"), *[Text("")] * 9], {})]
        self.query_one("#t-summary", NavTable).sync(SUM_COLS, cells)
