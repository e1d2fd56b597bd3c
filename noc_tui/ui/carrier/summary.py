"""Tab 5 of the carrier screen: the carrier's figures per hour (live), day or month, and
for the live and daily periods a chart of attempts, ASR and failovers on a time axis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.widgets import Tab, Tabs

from noc_tui.analytics.periods import PERIODS
from noc_tui.analytics.trends import STEPS, Trend, carrier_trend
from noc_tui.analytics.views import summaries
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.host import host
from noc_tui.ui.widgets import Col, NavTable
from noc_tui.ui.widgets.time_chart import ChartSeries, TimeChart

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

    DEFAULT_CSS = """
    SummaryPane #period { height: 2; }
    SummaryPane #trend-chart { height: 4; }
    SummaryPane #trend-chart.-none { display: none; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.period = "live"
        self.by_period: dict[str, list[dict[str, Any]]] = {}  # all three read at once
        self.currency: str | None = None  # the carrier's: cost is shown to its cents
        self.trends: dict[str, Trend] = {}  # live and daily, read with them

    def widgets(self) -> list[Widget]:
        return [Tabs(Tab("Live", id="live"), Tab("Daily", id="daily"),
                     Tab("Monthly", id="monthly"), id="period"),
                TimeChart(id="trend-chart"), NavTable(id="t-summary", sort="start")]

    def reset(self) -> None:
        super().reset()
        self.period = "live"
        self.by_period = {}
        self.currency = None
        self.trends = {}
        for chart in self.query(TimeChart):
            chart.clear()
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

        now = app.now()
        return {"periods": summaries(cache, carrier_id, now),
                "currency": carrier_currency(cache, carrier_id),
                "trends": {p: carrier_trend(cache, carrier_id, p, now) for p in STEPS}}

    def show_data(self, data: dict[str, Any]) -> None:
        self.by_period = data["periods"]
        self.currency = data["currency"]
        self.trends = data["trends"]
        self._render_rows()

    def on_resize(self) -> None:
        self._fit_chart()

    def _fit_chart(self) -> None:
        # Three series, one row each and the axis at 80x24; more rows as the terminal
        # grows (the table keeps the rest).
        height = self.app.size.height
        rows = 1 if height < 30 else 2 if height < 46 else 3
        for chart in self.query(TimeChart):
            chart.styles.height = 3 * rows + 1

    def _render_chart(self) -> None:
        chart = self.query_one("#trend-chart", TimeChart)
        trend = self.trends.get(self.period)
        chart.set_class(trend is None, "-none")  # monthly: the table alone
        if trend is None:
            return
        self._fit_chart()
        app = host(self)
        per = "hour" if trend.period == "live" else "day"
        chart.show(trend.starts, trend.step_ms, [
            ChartSeries("Attempts", trend.attempts, self.app.current_theme.primary or "",
                        fmt.count, short="Att"),
            ChartSeries("ASR", trend.asr, app.health_style("fine"), lambda x: f"{x:.0%}",
                        top=1.0, floor=True),
            ChartSeries("Failovers", trend.failovers, app.health_style("degraded"),
                        fmt.count, short="FO"),
        ], f"per {per}, UTC")

    def _render_rows(self) -> None:
        self._render_chart()
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
