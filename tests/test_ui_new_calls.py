"""Newest first, one time format, and the calls new since the operator last looked
(issue 16, point 4)."""

from __future__ import annotations

from pathlib import Path

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.records.timefmt import ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.ui.app import NocApp
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable


def failover_call(call_id: str, at_ms: int) -> list[dict]:
    return [
        {"call_id": call_id, "seq": 1, "carrier_id": "misroute", "started_at": ms_to_iso(at_ms),
         "dst": "49000101", "cli": None, "sip_code": 503, "sip_reason": "Service Unavailable",
         "pdd_ms": None, "duration_s": 0, "release_reason": None},
        {"call_id": call_id, "seq": 2, "carrier_id": "tier1",
         "started_at": ms_to_iso(at_ms + 300), "dst": "49000101", "cli": None,
         "sip_code": 200, "sip_reason": "OK", "pdd_ms": 900, "duration_s": 30,
         "release_reason": None},
    ]


def marked(app: NocApp, selector: str) -> list[str]:
    table = app.screen.query_one(selector, NavTable)
    rows = table.export_rows()[1]
    return [r["call_id"] for r, cells in zip(rows, (table.get_row_at(i) for i in range(
        table.row_count)), strict=True) if str(cells[0]) == "•"]


async def test_new_calls_are_marked_until_looked_at(tmp_path: Path):
    cache_path = build_cache(tmp_path / "c.db", calls=400)
    app = NocApp(ui_settings(tmp_path), cache_path, clock=lambda: FROZEN_NOW,
                 watch_interval_s=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        rows = app.screen.query_one("#t-failover", NavTable).export_rows()[1]
        starts = [r["started_at"] for r in rows]
        assert starts == sorted(starts, reverse=True)  # newest first
        assert marked(app, "#t-failover") == []  # the first look: nothing is "new"
        text = screen_text(app)
        assert "UTC" in text.splitlines()[0]  # the header says the time zone
        shown = rows[0]["started_at"][:19].replace("T", " ")
        assert shown in text  # one format: 2026-11-01 11:59:58
        await pilot.press("4")  # the consecutive failures: looked at too
        await settle(pilot)
        assert marked(app, "#t-failures") == []
        await pilot.press("escape")  # the looks end
        await settle(pilot)
        with Cache(cache_path) as cache:  # a poll brings two new failover calls
            cache.ingest("attempts", failover_call("late-1", FROZEN_NOW - 800)
                         + failover_call("late-2", FROZEN_NOW - 600))
        app.data_changed()
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert marked(app, "#t-failover") == ["late-2", "late-1"]
        assert "2 new since you last looked" in screen_text(app)
        await pilot.press("4")  # consecutive failures list: its own look
        await settle(pilot)
        assert marked(app, "#t-failures")[:2] == ["late-2", "late-1"]
        await pilot.press("6")  # back again: seen now
        await settle(pilot)
        assert marked(app, "#t-failover") == []
