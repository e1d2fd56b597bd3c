"""It remembers and it starts fresh (issue 16, point 9): the theme, window and sorts
survive a restart through a small state file in the XDG state folder; the dashboard
polls at start when the cache is older than the poll interval."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.ui.app import NocApp
from noc_tui.ui.carrier_list import CarrierListScreen
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.saved_state import SavedState, default_state_path
from noc_tui.ui.widgets import NavTable


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("state") / "cache.db", calls=600)


def make_app(cache_path: Path, tmp_path: Path, state_file: Path, **kw) -> NocApp:
    return NocApp(ui_settings(tmp_path), cache_path, clock=lambda: FROZEN_NOW,
                  watch_interval_s=0, state=SavedState.load(state_file), **kw)


def test_the_state_file_is_in_the_xdg_state_folder(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    assert default_state_path() == tmp_path / "st" / "noc-tui" / "state.json"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_state_path() == tmp_path / ".local" / "state" / "noc-tui" / "state.json"


async def test_theme_window_and_sorts_survive_a_restart(cache_path: Path, tmp_path: Path):
    state_file = tmp_path / "state" / "noc-tui" / "state.json"
    app = make_app(cache_path, tmp_path, state_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "noc-dark" and app.window == "24h"
        app.use_theme("noc-light")
        await pilot.press("3")  # window 7d
        await settle(pilot)
        await pilot.press("s", "a")  # carriers by ASR, worst first
        await pilot.press("s", "a")  # best first
        app.open_carrier("tier1")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("s", "e")  # summary by NER
        await settle(pilot)
    saved = json.loads(state_file.read_text())
    assert saved["theme"] == "noc-light" and saved["window"] == "7d"
    assert saved["sorts"]["carriers"] == ["asr", True]
    assert saved["sorts"]["t-summary"] == ["ner", False]

    again = make_app(cache_path, tmp_path, state_file)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen: CarrierListScreen = again.screen  # type: ignore[assignment]
        assert again.theme == "noc-light" and again.window == "7d"
        assert (screen.sort_key, screen.sort_flipped) == ("asr", True)
        assert "window 7d" in screen_text(again) and "sort ASR best first" in screen_text(again)
        again.open_carrier("tier1")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert screen_text(again).count("NER▲") == 1
        # a --theme on the command line wins over the saved one
    flag = make_app(cache_path, tmp_path, state_file, theme="noc-high-contrast")
    async with flag.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert flag.theme == "noc-high-contrast"


async def test_a_bad_state_file_is_said_once_and_ignored(cache_path: Path, tmp_path: Path):
    state_file = tmp_path / "state.json"
    state_file.write_text("{not json")
    app = make_app(cache_path, tmp_path, state_file)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.window == "24h"
        notes = [n.message for n in app._notifications if "state" in n.message]
        assert len(notes) == 1 and str(state_file) in notes[0]
        await pilot.press("3")
        await settle(pilot)
    assert json.loads(state_file.read_text())["window"] == "7d"  # rewritten whole


class Poller:
    def __init__(self) -> None:
        self.calls = 0
        self.ran = threading.Event()

    def poll_once(self, on_progress, cancel):
        self.calls += 1
        self.ran.set()
        return type("R", (), {"status": "ok", "taken": 0})()


async def test_it_polls_at_start_when_the_cache_is_older_than_the_interval(tmp_path: Path):
    import sqlite3

    from noc_tui.config import PollSettings, Settings, UISettings

    def with_last_poll(name: str, ended_ms: int) -> Path:
        db = build_cache(tmp_path / name, calls=100)
        con = sqlite3.connect(db)
        with con:
            con.execute("INSERT INTO poll_runs (source, started_at, ended_at, taken, "
                        "quarantined, status) VALUES ('x', ?, ?, 1, 0, 'ok')",
                        (ended_ms - 1000, ended_ms))
        con.close()
        return db

    settings = Settings(ui=UISettings(animations=False), poll=PollSettings(interval="1h"))
    for db, stale in ((with_last_poll("old.db", FROZEN_NOW - 2 * 3_600_000), True),
                      (with_last_poll("fresh.db", FROZEN_NOW - 60_000), False)):
        poller = Poller()
        app = NocApp(settings, db, poller=poller, clock=lambda: FROZEN_NOW,
                     watch_interval_s=0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.pause(0.2)
            await settle(pilot)
        assert (poller.calls == 1) is stale, (db, poller.calls)


async def test_w_changes_the_window_on_the_carrier_screen(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path, tmp_path / "s.json")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        day = app.screen.query_one("#t-failover", NavTable).export_rows()[1]
        await pilot.press("w")  # 24h -> 7d, here
        await settle(pilot)
        assert app.window == "7d" and "7d:" in screen_text(app)
        week = app.screen.query_one("#t-failover", NavTable).export_rows()[1]
        assert len(week) > len(day)
        await pilot.press("4", "6")  # the other tabs were read for 7d too
        await settle(pilot)
        assert "(7d)" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "window 7d" in screen_text(app)
