"""A call on a time line, and the calls behind a number (issue 16, point 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.analytics.call_timeline import BEFORE, EXACT, UNKNOWN, call_timeline
from noc_tui.records.timefmt import iso_to_ms
from noc_tui.ui.app import NocApp
from noc_tui.ui.call_screen import CallScreen
from noc_tui.ui.export import screen_text
from noc_tui.ui.number_calls import NumberCallsScreen
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("call") / "cache.db")


def make_app(cache_path: Path, tmp_path: Path) -> NocApp:
    return NocApp(ui_settings(tmp_path), cache_path, clock=lambda: FROZEN_NOW,
                  watch_interval_s=0)


def attempt(seq: int, carrier: str, at: str, code: int, pdd: int | None, dur: int = 0,
            release: str | None = None) -> dict:
    return {"seq": seq, "carrier_id": carrier, "carrier_name": carrier.title(),
            "started_at": at, "sip_code": code, "sip_reason": {200: "OK", 503: "Busy"}.get(
                code, "X"), "pdd_ms": pdd, "duration_s": dur, "release_reason": release}


def test_the_time_line_knows_what_the_records_tell_and_bounds_the_rest():
    ladder = [attempt(1, "a", "2026-11-01T10:00:00.000Z", 503, None),
              attempt(2, "b", "2026-11-01T10:00:02.500Z", 200, 1200, 95, "caller hangup")]
    events = call_timeline(ladder)
    assert [(e["seq"], e["event"], e["when"], e["offset_ms"]) for e in events] == [
        (1, "INVITE", EXACT, 0),
        (1, "final", BEFORE, 2500),  # the 503 came before routing moved on
        (2, "INVITE", EXACT, 2500),
        (2, "18x", EXACT, 3700),  # INVITE + PDD
        (2, "answer", UNKNOWN, None),  # not in the record: no made-up time
        (2, "release", UNKNOWN, None),
    ]
    assert events[3]["at_ms"] == iso_to_ms("2026-11-01T10:00:03.700Z")
    assert "95 s after the answer: caller hangup" in events[-1]["text"]
    last = call_timeline([attempt(1, "a", "2026-11-01T10:00:00.000Z", 486, 800)])
    assert last[-1]["event"] == "final" and last[-1]["when"] == UNKNOWN
    assert call_timeline([]) == []


async def test_the_call_screen_shows_each_attempt_on_a_time_line(cache_path: Path,
                                                                 tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CallScreen)
        rows = screen.query_one("#timeline", NavTable).export_rows()[1]
        assert [r["event"] for r in rows].count("INVITE") == len(screen.ladder)
        assert rows[0]["event"] == "INVITE" and rows[0]["offset_ms"] == 0
        timed = [r["at_ms"] for r in rows if r["at_ms"] is not None]
        assert timed == sorted(timed)
        text = screen_text(app)
        assert "──INVITE──▶" in text and "+0.000" in text and "≤" in text
        assert "OK, time unknown" in text
        assert all(len(line) <= 80 for line in text.splitlines())


async def test_code_consistency_opens_the_calls_behind_a_number(cache_path: Path,
                                                                tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("nf404")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        number = app.screen.query_one("#t-consistency", NavTable).cursor_raw()["dst"]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NumberCallsScreen) and screen.dst == number
        rows = screen.query_one("#number-calls", NavTable).export_rows()[1]
        assert rows and all(r["sip_code"] == 404 or 200 <= r["sip_code"] <= 299
                            for r in rows)
        starts = [r["started_at"] for r in rows]
        assert starts == sorted(starts, reverse=True)
        assert {r["carrier_id"] for r in rows} > {"nf404"}  # the others' answers too
        assert number in screen_text(app)
        first = rows[0]["call_id"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen) and app.screen.call_id == first
        assert all(a["dst"] == number for a in app.screen.ladder)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.current_part() == "consistency"  # type: ignore[attr-defined]
