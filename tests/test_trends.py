"""Trends (issue 16, point 5): a carrier's attempts, ASR and failovers per hour and per
day on a time axis, and every carrier's last 24 hours for the list's trend column."""

from __future__ import annotations

from pathlib import Path

import pytest

from noc_tui.analytics.metrics import failover_page, refresh_standard_windows, summary
from noc_tui.analytics.periods import period_range
from noc_tui.analytics.trends import carrier_list_trends, carrier_trend, list_trends
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, iso_to_ms
from noc_tui.store.cache import Cache
from noc_tui.ui.carrier_list import trend_cell
from noc_tui.ui.widgets.time_chart import ChartSeries, chart_text
from tests.ui_fixtures import FROZEN_NOW, build_cache


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("trends") / "cache.db")


@pytest.mark.parametrize("period, step, n", [("live", HOUR_MS, 24), ("daily", DAY_MS, 31)])
def test_every_bucket_of_the_period_with_the_summary_s_figures(
        cache_path: Path, period: str, step: int, n: int) -> None:
    with Cache(cache_path, readonly=True) as cache:
        for carrier in ("misroute", "down", "idle"):
            t = carrier_trend(cache, carrier, period, FROZEN_NOW)
            start, end = period_range(period, FROZEN_NOW)
            assert t.starts == list(range(start, end, step)) and len(t.starts) == n
            rows = {iso_to_ms(r["start"]): r for r in summary(cache, carrier, period,
                                                              FROZEN_NOW)}
            for b, att, asr in zip(t.starts, t.attempts, t.asr, strict=True):
                row = rows.get(b)
                assert att == (row["attempts"] if row else 0)
                assert asr == (row["asr"] if row else None)  # None: no calls, not 0%
            # Failovers: the calls that failed here and connected elsewhere, by bucket.
            page = failover_page(cache, carrier, FROZEN_NOW, (FROZEN_NOW - start) // 1000,
                                 cache.settings, limit=100_000)
            assert sum(t.failovers) == page.total
    idle = carrier_trend(Cache(cache_path, readonly=True), "idle", "live", FROZEN_NOW)
    assert set(idle.attempts) == {0} and set(idle.asr) == {None}


def test_the_list_s_last_24_hours_per_carrier(cache_path: Path) -> None:
    with Cache(cache_path, readonly=True) as cache:
        trends = list_trends(cache, FROZEN_NOW)
        live = carrier_trend(cache, "down", "live", FROZEN_NOW)
    assert "idle" not in trends  # no calls: nothing to draw
    down = trends["down"]
    assert len(down) == 12
    # Two hours a slice, the same sums as the hourly chart.
    assert [a for a, _ in down] == [sum(live.attempts[i:i + 2]) for i in range(0, 24, 2)]
    # DeadLink has failed every call for the last 10 hours: those slices are dots.
    cell = trend_cell(down, 12, "").plain
    assert cell.endswith("·····") and "·" not in cell[:6]
    assert trend_cell(down, 6, "").plain.endswith("··")  # merged in pairs to fit
    assert trend_cell(None, 12, "").plain == ""


def test_the_list_s_trends_stored_by_a_refresh_are_those_computed_then(
        tmp_path: Path) -> None:
    """The dashboard reads the trend column as the refresh stored it (one statement):
    the same cells as computed from the rollups, for that refresh's instant only."""
    path = build_cache(tmp_path / "cache.db")
    with Cache(path, readonly=True) as cache:
        computed = list_trends(cache, FROZEN_NOW)
        stored = carrier_list_trends(cache, FROZEN_NOW).as_dict()
        assert stored == computed and len(stored) >= 3
        rows = cache.conn.execute("SELECT count(*) FROM list_trends").fetchone()[0]
        assert rows == len(computed)  # read from the table, not computed again
        # Another instant (the live list of another window): computed for it.
        later = FROZEN_NOW + 5 * HOUR_MS
        assert carrier_list_trends(cache, later).as_dict() == list_trends(cache, later)
        assert carrier_list_trends(cache, later).as_dict() != stored
    # A later refresh replaces them: what it stored answers for its own instant.
    with Cache(path) as cache:
        with cache.transaction() as conn:  # what the dashboard reads is the table's
            conn.execute("UPDATE list_trends SET cells = '[[7,7]]' WHERE carrier_id = 'down'")
        assert carrier_list_trends(cache, FROZEN_NOW).get("down") == [(7, 7)]
        with cache.transaction() as conn:
            conn.execute("UPDATE rollups SET attempts = attempts + 1000 "
                         "WHERE carrier_id = 'down' AND hour = (SELECT max(hour) "
                         "FROM rollups WHERE carrier_id = 'down' AND hour <= ?)",
                         (FROZEN_NOW,))
        refresh_standard_windows(cache, FROZEN_NOW)
    with Cache(path, readonly=True) as cache:
        again = carrier_list_trends(cache, FROZEN_NOW).as_dict()
    assert again["down"][-1][0] == stored["down"][-1][0] + 1000
    assert {k: v for k, v in again.items() if k != "down"} == {
        k: v for k, v in stored.items() if k != "down"}


def test_the_chart_draws_scales_no_data_and_a_time_axis() -> None:
    starts = [iso_to_ms("2026-10-31T18:00:00Z") + i * HOUR_MS for i in range(12)]
    att = [0, 10, 20, 40, 40, 20, 10, 0, 5, 5, 5, 0]
    asr = [None, 0.5, 1.0, 0.0, 0.25, 0.5, 0.5, None, 1.0, 1.0, 1.0, None]
    text = chart_text(starts, HOUR_MS, [
        ChartSeries("Attempts", att, "", str),
        ChartSeries("ASR", asr, "", lambda x: f"{x:.0%}", top=1.0, floor=True)],
        "per hour, UTC", 15 + 24, 5).plain.splitlines()
    assert len(text) == 5  # two series of two rows, and the axis
    assert text[0].startswith("Attempts") and text[1].startswith("≤40")
    assert text[2].startswith("ASR") and text[3].startswith("≤100%")
    bars = [line[15:] for line in text]
    # The busiest hours fill both rows; an hour with no calls is a dot on the base line.
    assert bars[0][6:8] == "██" and bars[1][6:8] == "██"
    assert bars[3][0:2] == "··" and bars[3][14:16] == "··"
    assert bars[3][6:8] == "▁▁"  # ASR 0% with calls: the least bar, never blank
    assert "18h" in text[4] and "11-01" in text[4]  # midnight names its day


def test_a_one_row_chart_gives_its_scale_not_a_value() -> None:
    """At 80x24 each series has one row: its gutter says the top of the scale ("≤"),
    so a carrier at ASR 0% never reads "ASR 100%", and a big count is not cut."""
    starts = [iso_to_ms("2026-10-31T18:00:00Z") + i * HOUR_MS for i in range(12)]
    text = chart_text(starts, HOUR_MS, [
        ChartSeries("Attempts", [1_234_567.0] * 12, "", lambda x: f"{x:,.0f}", short="Att"),
        ChartSeries("ASR", [0.0] * 12, "", lambda x: f"{x:.0%}", top=1.0, floor=True)],
        "per hour, UTC", 15 + 24, 3).plain.splitlines()
    assert text[0].startswith("Att ≤1,234,567 ")
    assert text[1].startswith("ASR ≤100% ")


async def test_the_summary_tab_charts_live_and_daily_and_the_list_a_trend(
        cache_path: Path, tmp_path: Path) -> None:
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.export import screen_text
    from noc_tui.ui.render import settle
    from noc_tui.ui.widgets import NavTable
    from tests.ui_fixtures import ui_settings

    app = NocApp(ui_settings(tmp_path / "exports"), cache_path, watch_interval_s=0,
                 clock=lambda: FROZEN_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        assert "Answered 24h" in lines[2]
        down = next(line for line in lines if "DeadLink" in line)
        assert "··" in down  # its failing hours, on the list
        t = app.screen.query_one("#carriers", NavTable)
        assert t.rows_given == 7
        app.open_carrier("misroute")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        text = screen_text(app)
        # At 80x24 each series has one row: its short label and the top of its scale.
        for label in ("Att ≤", "ASR ≤100%", "FO ≤", "per hour, UTC"):
            assert label in text, label
        await pilot.press("t")
        await settle(pilot)
        assert "per day, UTC" in screen_text(app)
        await pilot.press("t")
        await settle(pilot)
        text = screen_text(app)
        assert "FO ≤" not in text and "per day" not in text  # monthly: the table
        assert not app.screen.query_one("#trend-chart").display
