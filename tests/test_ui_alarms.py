"""Alarms in the dashboard (issue 16, point 6): each named and said once, whatever is
redrawn or switched; the alarm screen (`!`) lists open and past ones with their times;
`a` there acknowledges one, silenced until it clears."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.analytics.alarms import judge_alarms
from noc_tui.analytics.metrics import refresh_standard_windows
from noc_tui.config import AlarmSettings
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.store.alarms import open_alarms
from noc_tui.store.cache import Cache
from noc_tui.ui.alarm_screen import AlarmScreen
from noc_tui.ui.app import NocApp
from noc_tui.ui.carrier.screen import CarrierScreen
from noc_tui.ui.carrier_list import CarrierListScreen
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("ui") / "cache.db")


@pytest.fixture
def cache_path(built: Path, tmp_path: Path) -> Path:
    """A copy per test: acknowledging writes to it."""
    path = tmp_path / "cache.db"
    shutil.copy(built, path)
    return path


def make_app(cache_path: Path, tmp_path: Path, **kw: Any) -> NocApp:
    return NocApp(ui_settings(tmp_path / "exports"), cache_path, watch_interval_s=0,
                  clock=lambda: FROZEN_NOW, **kw)


def alarm_rows(app: NocApp) -> list[dict[str, Any]]:
    return [r for r in app.screen.query_one("#t-alarms", NavTable).export_rows()[1] if r]


def toasts(app: NocApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_the_alarm_screen_lists_open_alarms_with_times_and_acknowledges(
        cache_path: Path, tmp_path: Path) -> None:
    with Cache(cache_path, readonly=True) as c:
        opened = open_alarms(c.conn)
    assert {a.subject_id for a in opened} >= {"down", "misroute"}  # the fixture's
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert f"{len(opened)} in alarm" in screen_text(app)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, AlarmScreen)
        rows = alarm_rows(app)
        assert [r["id"] for r in rows] == [a.id for a in opened]
        assert all(r["state"] == "OPEN" for r in rows)
        text = screen_text(app)
        assert f"{len(opened)} open" in text
        assert ms_to_iso(FROZEN_NOW)[:19].replace("T", " ") in text  # raised at, UTC
        down = next(r for r in rows if r["subject_id"] == "down")
        assert "DeadLink Networks (down)" in text and down["message"] in text
        # Acknowledge the selected one: silenced (kept, marked), not gone.
        table = app.screen.query_one("#t-alarms", NavTable)
        table.move_cursor(row=[r["id"] for r in rows].index(down["id"]))
        await pilot.press("a")
        await settle(pilot)
        acked = next(r for r in alarm_rows(app) if r["id"] == down["id"])
        assert acked["state"] == "acked" and acked["acked_at"] == ms_to_iso(FROZEN_NOW)
        assert any("Acknowledged: DeadLink Networks" in t for t in toasts(app))
        await pilot.press("a")  # already acknowledged: said, nothing written
        await settle(pilot)
        # Enter opens the carrier behind the alarm.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CarrierScreen) and app.screen.carrier_id == "down"
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen)
        # On the list, the acknowledged carrier keeps a quiet mark, not "!".
        raw = app.screen.query_one("#carriers", NavTable).raw
        assert raw["down"]["alarms"] == {} and raw["down"]["alarms_silenced"]
        assert f"{len(opened) - 1} in alarm" in screen_text(app)


async def test_a_new_alarm_is_said_once_naming_its_carrier(cache_path: Path,
                                                           tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # The first look: what is open, in one line.
        n = len(app.screen.rows and [r for r in app.screen.rows if r["alarms"]])
        assert toasts(app) == [f"Alarms: {n} alarms open (! lists them)"]
        app.clear_notifications()
        # Another process (a cron poll) judges lower thresholds: CheapRoute crosses.
        with Cache(cache_path) as c:
            refresh_standard_windows(c, FROZEN_NOW)
            changes = judge_alarms(c, AlarmSettings(window="24h", asr_floor=0.35))
        assert {a.subject_id for a in changes.raised} == {"cheap", "down"}
        app.data_changed()
        await settle(pilot)
        said = sorted(toasts(app))  # one each, naming the carrier and what crossed
        assert len(said) == 2
        assert said[0].startswith("Alarm (carrier): CheapRoute Ltd (cheap): ASR ")
        assert said[1].startswith("Alarm (carrier): DeadLink Networks (down): ASR ")
        assert all("below the floor of 35%" in t for t in said)
        # Redraws, reloads and window switches say nothing more.
        app.clear_notifications()
        app.data_changed()
        await settle(pilot)
        for key in ("1", "2", "3", "2"):
            await pilot.press(key)
            await settle(pilot)
        assert toasts(app) == []
        # The marks are the cache's, whatever window the figures are of.
        marked = {k for k, r in app.screen.query_one("#carriers", NavTable).raw.items()
                  if r.get("alarms")}
        assert "cheap" in marked and app.window == "24h"
        await pilot.press("1")
        await settle(pilot)
        assert {k for k, r in app.screen.query_one("#carriers", NavTable).raw.items()
                if r.get("alarms")} == marked


async def test_alarms_from_the_palette_and_from_any_screen(cache_path: Path,
                                                           tmp_path: Path) -> None:
    from noc_tui.ui.commands import palette_commands

    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "alarms: show" in [c[0] for c in palette_commands(app)]
        app.open_call("call-000042")
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, AlarmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "CallScreen"
