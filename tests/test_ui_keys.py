"""Pilot tests: every key, every drill-down path, export, themes, poller, nasty strings."""

from __future__ import annotations

import csv
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from textual import events

try:
    from tests.ui_fixtures import (
        FROZEN_NOW,
        NASTY_ID,
        build_cache,
        build_failover_heavy,
        ui_settings,
    )
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import (
        FROZEN_NOW,
        NASTY_ID,
        build_cache,
        build_failover_heavy,
        ui_settings,
    )

try:
    from tests.hostile import ESCAPED, ESCAPES, live_controls, send, serving
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from hostile import (  # type: ignore[no-redef]
        ESCAPED,
        ESCAPES,
        live_controls,
        send,
        serving,
    )

from noc_tui.ui.app import NocApp
from noc_tui.ui.call_screen import CallScreen
from noc_tui.ui.carrier.screen import PAGE, CarrierScreen
from noc_tui.ui.carrier_list import CarrierListScreen
from noc_tui.ui.export import ExportDialog, screen_text
from noc_tui.ui.help import HelpScreen
from noc_tui.ui.paint_hold import HEAD_WAIT_S
from noc_tui.ui.render import render_view, settle
from noc_tui.ui.widgets import HeaderBar, NavTable


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("ui") / "cache.db")


@pytest.fixture(scope="module")
def nasty_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("ui") / "nasty.db", nasty=True, calls=400)


def make_app(cache_path: Path, tmp_path: Path, **kw: Any) -> NocApp:
    kw.setdefault("clock", lambda: FROZEN_NOW)
    return NocApp(ui_settings(tmp_path / "exports"), cache_path, watch_interval_s=0, **kw)


def table(app: NocApp, selector: str) -> NavTable:
    return app.screen.query_one(selector, NavTable)


def list_keys(app: NocApp) -> list[str]:
    return list(table(app, "#carriers")._order)


async def test_list_shows_carriers_and_moves_with_vi_keys(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        t = table(app, "#carriers")
        assert t.row_count == 7
        assert list_keys(app)[0] == "down"  # worst health first
        await pilot.press("j", "j")
        assert t.cursor_row == 2
        await pilot.press("k")
        assert t.cursor_row == 1
        await pilot.press("G")
        assert t.cursor_row == 6
        await pilot.press("g")
        assert t.cursor_row == 0
        await pilot.press("down", "down", "up")
        assert t.cursor_row == 1
        text = screen_text(app)
        assert "no calls" in text  # the idle carrier: not zeros
        assert "updated 0 s ago" in text


async def test_enter_escape_and_q_drill_down_and_back(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CarrierScreen)
        assert app.screen.carrier_id == "down"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("4")  # consecutive failure history -> a call
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, CarrierScreen)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen)


async def test_filter_sort_window_and_alarmed_first(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "t", "i", "e", "r", "enter")
        await settle(pilot)
        assert list_keys(app) == ["tier1"]
        assert "filter: tier" in screen_text(app)
        assert "1 of 7" in screen_text(app)
        await pilot.press("escape")  # clears the filter
        assert len(list_keys(app)) == 7
        await pilot.press("slash", "F", "A", "S", "T", "escape")  # Esc in the box clears
        assert len(list_keys(app)) == 7
        # filter by id too
        await pilot.press("slash", "n", "f", "4", "enter")
        assert list_keys(app) == ["nf404"]
        await pilot.press("escape")
        screen: CarrierListScreen = app.screen  # type: ignore[assignment]
        await pilot.press("s", "x")  # sort, then the ID column's letter: A-Z
        assert screen.sort_key == "id" and list_keys(app)[0] == "cheap"
        await pilot.press("S")
        assert list_keys(app)[0] == "tier1"
        await pilot.press("a")
        alarmed = [k for k in list_keys(app) if screen.rows and
                   next(r for r in screen.rows if r["id"] == k)["alarms"]]
        assert list_keys(app)[: len(alarmed)] == alarmed and alarmed
        await pilot.press("3")
        await settle(pilot)
        assert app.window == "7d" and "window 7d" in screen_text(app)
        await pilot.press("w")
        await settle(pilot)
        assert app.window == "1h"


async def test_cursor_stays_on_the_same_carrier_across_refresh(cache_path: Path,
                                                               tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j")
        t = table(app, "#carriers")
        key = t.cursor_key
        app.data_changed()
        await settle(pilot)
        assert t.cursor_key == key
        await pilot.press("s", "a")  # re-sorted by ASR: still on the same carrier
        assert t.cursor_key == key


async def test_a_list_filter_typed_in_one_burst_goes_to_the_box(cache_path: Path,
                                                                tmp_path: Path):
    # `/`, the filter and Enter sent at once (a paste): "1" is a window key on the list,
    # but typed after `/` it is part of the filter, and the window stays.
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        window = app.window
        for key, char in (("slash", "/"), ("t", "t"), ("i", "i"), ("e", "e"),
                          ("r", "r"), ("1", "1"), ("enter", "\r")):
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert app.window == window
        assert list_keys(app) == ["tier1"]
        assert "filter: tier1" in screen_text(app)


async def test_number_keys_switch_tabs_and_failover_filters(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        screen: CarrierScreen = app.screen  # type: ignore[assignment]
        for key, part in (("2", "rates"), ("3", "consistency"), ("4", "failures"),
                          ("5", "summary"), ("6", "failover"), ("1", "contacts")):
            await pilot.press(key)
            await settle(pilot)
            assert screen.current_part() == part
            assert part == "consistency" or table(app, f"#t-{part}").row_count > 0, part
        await pilot.press("6")
        await settle(pilot)
        rows = table(app, "#t-failover").export_rows()[1]
        assert rows and any(r["halt_violation"] for r in rows)
        await pilot.press("h")
        await settle(pilot)
        halted = table(app, "#t-failover").export_rows()[1]
        assert halted and all(r["halt_violation"] for r in halted)
        assert len(halted) < len(rows)
        await pilot.press("h", "i")
        await settle(pilot)
        assert screen.direction == "in"
        await pilot.press("f")
        await settle(pilot)
        assert all(r["fas_suspect"] for r in table(app, "#t-failover").export_rows()[1])
        # summary periods
        await pilot.press("5")
        await settle(pilot)
        for period in ("daily", "monthly", "live"):
            await pilot.press("t")
            await settle(pilot)
            assert screen.period == period
        # prefix filter of the rates grid: `/` on its tab
        await pilot.press("2", "slash")
        await settle(pilot)
        await pilot.press("4", "4", "7")
        await settle(pilot)
        prefixes = {r["prefix"] for r in table(app, "#t-rates").export_rows()[1]}
        assert prefixes == {"4", "44", "447"} & prefixes and "447" in prefixes
        assert "1" not in prefixes and "49" not in prefixes


async def test_call_ladder_explains_routing_and_copy(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        call_id = table(app, "#t-failover").cursor_raw()["call_id"]
        await pilot.press("c")
        assert app.last_copied == call_id
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen) and app.screen.call_id == call_id
        ladder = app.screen.ladder
        assert [a["seq"] for a in ladder] == sorted(a["seq"] for a in ladder)
        assert "halt violation" in ladder[0]["why"]
        assert ladder[-1]["connected"] and "routing stopped" in ladder[-1]["why"]
        text = screen_text(app)
        assert "halt code" in text and "FAS signals" in text
        await pilot.press("c")
        assert app.last_copied == call_id


async def test_help_screen_lists_every_binding(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        ids = {r[2] for r in app.screen.rows}
        assert {"app.quit", "app.palette", "app.poll", "app.pause", "app.export",
                "list.filter", "table.sort", "list.window"} <= ids
        await pilot.press("escape")
        app.open_carrier("tier1")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        ids = {r[2] for r in app.screen.rows}
        assert {"carrier.back", "carrier.tab_failover", "carrier.copy", "carrier.halt_only",
                "carrier.direction"} <= ids
        await pilot.press("q")
        assert isinstance(app.screen, CarrierScreen)


async def test_command_palette_jumps_to_a_carrier(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        for ch in "jump Tier One":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CarrierScreen) and app.screen.carrier_id == "tier1"


async def test_keys_can_be_remapped(cache_path: Path, tmp_path: Path):
    from noc_tui.config import Settings, UISettings

    settings = Settings(ui=UISettings(animations=False), keys={"app.pause": "f9"})
    app = NocApp(settings, cache_path, clock=lambda: FROZEN_NOW, watch_interval_s=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        assert app.paused


async def test_poll_without_poller_and_pause(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        gen = app.generation
        await pilot.press("r")
        await settle(pilot)
        assert app.generation == gen + 1  # re-read the cache
        assert any("No poller" in n.message for n in app._notifications)
        await pilot.press("p")
        badge = app.screen.query_one(HeaderBar).query_one("#hb-paused")
        assert app.paused and badge.has_class("-on")
        assert "PAUSED" in screen_text(app)
        await pilot.press("p")
        assert not app.paused and not badge.has_class("-on")


class FakePoller:
    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()

    def poll_once(self, on_progress, cancel):
        self.calls += 1
        on_progress(type("P", (), {"phase": "attempts", "done": 5, "total_estimate": 10,
                                   "taken": 5, "quarantined": 0})())
        self.release.wait(5)
        return type("R", (), {"status": "ok", "taken": 10})()


async def test_poller_progress_and_refresh(cache_path: Path, tmp_path: Path):
    poller = FakePoller()
    poller.release.set()  # the poll at start (no poll ever filled this cache) ends at once
    app = make_app(cache_path, tmp_path, poller=poller)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert poller.calls == 1
        poller.release.clear()
        gen = app.generation
        await pilot.press("r")
        for _ in range(100):
            await pilot.pause(0.02)
            if app.progress == (5, 10):
                break
        assert app.progress == (5, 10)
        bar = app.screen.query_one(HeaderBar).query_one("#hb-progress")
        assert bar.has_class("-on")
        await pilot.press("r")  # a second poll does not start while one runs
        poller.release.set()
        await settle(pilot)
        assert poller.calls == 2 and app.progress is None and app.generation == gen + 1


async def test_a_switch_error_full_of_escapes_is_shown_escaped(tmp_path: Path):
    """A real poll against a real switch whose error text carries escape sequences:
    the toast and the header show them escaped."""
    from noc_tui.config import Settings, SourceSettings, UISettings
    from noc_tui.sync.poller import Poller

    cache = build_cache(tmp_path / "c.db", calls=50)

    def respond(h: Any) -> None:
        send(h, 500, json.dumps({"error": ESCAPES}).encode())

    with serving(respond) as url:
        settings = Settings(source=SourceSettings(url=url, retries=0),
                            ui=UISettings(animations=False, export_dir=tmp_path))
        app = make_app(cache, tmp_path, poller=Poller(settings, cache))
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            await pilot.press("r")
            for _ in range(200):
                await pilot.pause(0.02)
                if any(n.title == "Poll failed" for n in app._notifications):
                    break
            await settle(pilot)
            failed = [n.message for n in app._notifications if n.title == "Poll failed"]
            assert failed and "\\x9b2J" in failed[0] and "\\u202e" in failed[0]
            assert all(live_controls(n.message) == [] for n in app._notifications)
            text = screen_text(app)
            assert "last poll failed" in text and live_controls(text) == []


async def test_export_csv_json_svg_txt(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    out = tmp_path / "exports"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "r", "o", "u", "enter")  # CheapRoute, Misrouted
        for key in ("c", "j", "s", "t"):
            await pilot.press("e")
            assert isinstance(app.screen, ExportDialog)
            await pilot.press(key)
            await settle(pilot)
        files = sorted(out.iterdir())
        assert [f.suffix for f in files] == [".csv", ".json", ".svg", ".txt"]
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600
            assert f.name.startswith("noc-tui_carriers-24h_20261101T120000Z")
        with files[0].open() as fh:
            rows = list(csv.DictReader(fh))
        assert [r["id"] for r in rows] == ["misroute", "cheap"]  # suspect before degraded
        assert float(rows[1]["asr"]) == pytest.approx(
            next(r for r in app.screen.rows if r["id"] == "cheap")["asr"])
        data = json.loads(files[1].read_text())
        assert [r["id"] for r in data["carriers"]] == ["misroute", "cheap"]
        assert "<svg" in files[2].read_text()
        assert "CheapRoute" in files[3].read_text()
        assert any(str(files[3]) in n.message for n in app._notifications)
        # an inner screen exports its own table
        app.open_carrier("misroute")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        path = app.export_snapshot("json")
        assert path is not None and "carrier-misroute-failover-out" in path.name
        assert json.loads(path.read_text())["calls"][0]["call_id"]


async def test_failover_list_of_100k_calls_pages(tmp_path: Path):
    path = build_failover_heavy(tmp_path / "heavy.db", calls=100_000)
    app = make_app(path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("flaky")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        t = table(app, "#t-failover")
        screen: CarrierScreen = app.screen  # type: ignore[assignment]
        assert t.row_count == PAGE and screen.fo_total == 100_000
        await pilot.press("G", "down")  # past the last row: the next page
        await settle(pilot)
        assert screen.fo_offset == PAGE and t.cursor_row == 0
        await pilot.press("up")  # before the first row: back
        await settle(pilot)
        assert screen.fo_offset == 0 and t.cursor_row == PAGE - 1
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert screen.fo_offset == 2 * PAGE
        assert "rows 1,001–1,500 of 100,000" in screen_text(app)


async def test_nasty_strings_through_every_screen(nasty_cache: Path, tmp_path: Path):
    app = make_app(nasty_cache, tmp_path)
    seen: list[str] = []  # every screen's text, for the escape sequences

    def shown() -> str:
        text = screen_text(app)
        assert live_controls(text) == [], text
        seen.append(text)
        return text

    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        text = shown()
        for literal in ("[/]", "[$error]theme var[/]", "[@click=app.quit]", "宽字符",
                        "\\x1b[31mANSI red"):
            assert literal in text, literal
        for key in (NASTY_ID, "nasty1", "nasty5", "nasty7"):  # the hostile ids and names
            app.open_carrier(key)
            await settle(pilot)
            for tab in ("123456" if key == NASTY_ID else "16"):
                await pilot.press(tab)
                await settle(pilot)
                shown()
            assert "[@click=app.quit]" in shown() or key != NASTY_ID
            await pilot.press("escape")
            await settle(pilot)
        app.open_carrier(NASTY_ID)
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("G", "enter")  # newest first: the oldest call is the last
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        assert "[@click=app.quit]call0" in shown()
        await pilot.press("q", "i")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        shown()
        await pilot.press("colon", *"nasty")
        await pilot.pause(0.3)
        shown()
        await pilot.press("escape")
        for fmt_ in ("csv", "json", "svg", "txt"):
            assert app.export_snapshot(fmt_) is not None
        # Each escape sequence was on screen, shown, not obeyed.
        for mark in ESCAPED:
            assert any(mark in text for text in seen), mark
        # Notifications: a hostile carrier name in an alarm, and any text at all.
        app.notify(f"error body: {ESCAPES}", title=ESCAPES, markup=False)
        await settle(pilot)
        for n in app._notifications:
            assert live_controls(n.message) == [] and live_controls(n.title) == []
        assert any("\\x9b2J" in n.message and "\\u202e" in n.title
                   for n in app._notifications)
        assert app.is_running  # no [@click=app.quit] ran
    assert app.return_code in (None, 0)


async def test_empty_cache_says_what_to_do(tmp_path: Path):
    app = make_app(tmp_path / "none.db", tmp_path, config_path=tmp_path / "cfg.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "noc-tui --demo" in text and "source.url" in text
        assert str(tmp_path / "cfg.toml")[:40] in text.replace("\n", "")


async def test_theme_files_good_and_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        cache_path: Path):
    themes = tmp_path / "cfg" / "noc-tui" / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text(
        'name = "mine"\nprimary = "#336699"\n[health]\ndown = "red"\n'
        'degraded = "orange"\nsuspect = "purple"\nfine = "green"\n')
    (themes / "broken.toml").write_text(
        'name = "broken"\nprimary = "#336699"\n[health]\ndown = "not-a-colour"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    app = make_app(cache_path, tmp_path, theme="mine")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "mine"
        assert app.health_style("down") == "red"
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert sum("broken.toml" in w for w in warnings) == 1, warnings
        assert any("health.down" in w for w in warnings)
        app.use_theme("noc-light")
        await pilot.pause()
        assert app.health_style("down") == "#C4283D"
    bad = make_app(cache_path, tmp_path, theme="broken")
    async with bad.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert bad.theme == "noc-dark"
        msgs = [n.message for n in bad._notifications if "broken.toml" in n.message]
        assert len(msgs) == 1 and "using noc-dark" in msgs[0]


async def test_shipped_themes_and_no_color(cache_path: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch):
    from noc_tui.ui.themes import load_themes, shipped_dirs

    themes, errors = load_themes(shipped_dirs())
    assert {"noc-dark", "noc-light", "noc-high-contrast"} <= set(themes) and not errors
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(cache_path, tmp_path, theme="noc-high-contrast")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color and app.theme == "noc-high-contrast"
        assert {"ansi-dark", "ansi-light"} <= set(app.theme_names())


async def test_compact_layout_switches_columns(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Carrier" in text and "Consist" not in text and "Status" not in text
        assert "more columns" in text
        await pilot.resize_terminal(200, 50)
        await settle(pilot)
        text = screen_text(app)
        assert "Consist" in text and "Status" in text and "more column" not in text


def test_render_view_txt_and_svg(cache_path: Path, tmp_path: Path):
    settings = ui_settings(tmp_path)
    txt = render_view(settings, cache_path, "failover", "misroute", "txt", size=(120, 40),
                      now_ms=FROZEN_NOW)
    assert "Failover policy" in txt and "Misrouted Switch Co" in txt
    svg = render_view(settings, cache_path, "carriers", None, "svg", size=(100, 30),
                      now_ms=FROZEN_NOW)
    assert svg.startswith("<svg") and "Tier&#160;One" in svg
    with pytest.raises(ValueError):
        render_view(settings, cache_path, "summary", None, "txt")


def test_demo_path_headless_drill_and_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The real `noc-tui --demo` wiring: demo switch + poller + dashboard, no fixtures."""
    demo = pytest.importorskip("noc_tui.demo")
    if not hasattr(demo, "prepare_demo"):
        pytest.skip("the --demo entry does not expose prepare_demo yet")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings, cache, poller, stop = demo.prepare_demo(tmp_path)
    try:
        import asyncio

        async def run() -> None:
            app = NocApp(settings, cache, poller=poller, watch_interval_s=0)
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                assert table(app, "#carriers").row_count >= 12
                await pilot.press("enter")
                await settle(pilot)
                assert isinstance(app.screen, CarrierScreen)
                assert app.export_snapshot("csv") is not None

        asyncio.run(run())
    finally:
        stop()
    assert os.listdir(tmp_path / "noc-tui" / "exports")


async def test_reused_carrier_screen_shows_only_the_new_carrier(cache_path: Path,
                                                                tmp_path: Path):
    """The app reuses one carrier screen: a second carrier starts from a clean screen
    (Main > Contacts, live period, no prefix filter) with none of the first one's rows."""
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        first = app.screen
        await pilot.press("2", "slash", "4", "4", "enter", "5", "t", "6", "h", "4", "slash",
                          "5", "0", "3", "enter")
        await settle(pilot)
        assert first.rate_prefix == "44" and first.halt_only  # type: ignore[attr-defined]
        assert table(app, "#t-failures").filter_text == "503"
        app.pop_screen()  # left with the filter on (Esc would clear it first)
        await settle(pilot)
        app.open_carrier("tier1")
        await settle(pilot)
        screen: CarrierScreen = app.screen  # type: ignore[assignment]
        assert screen is first and screen.carrier_id == "tier1"
        assert screen.current_part() == "contacts" and screen.period == "live"
        assert screen.rate_prefix == "" and not screen.halt_only and screen.direction == "out"
        assert table(app, "#t-failures").filter_text == ""  # no filter of the first one
        text = screen_text(app)
        assert "Tier One Telecom" in text and "Misrouted Switch Co" not in text
        from noc_tui.analytics.views import contacts, rates
        from noc_tui.store.cache import Cache

        with Cache(cache_path, readonly=True) as cache:
            want_contacts = contacts(cache, "tier1")
            want_rates = [r["prefix"] for r in rates(cache, "tier1", "", FROZEN_NOW)[0]]
        got = table(app, "#t-contacts").export_rows()[1]
        assert [r["name"] for r in got if r] == [r["name"] for r in want_contacts]
        screen.action_tab("rates")  # reloaded for tier1, with no prefix filter
        await settle(pilot)
        assert [r["prefix"] for r in table(app, "#t-rates").export_rows()[1]] == want_rates
        for part in ("summary", "failover"):
            screen.action_tab(part)
            await settle(pilot)
            assert screen.loaded.get(part) == app.generation
        assert screen.query_one("#rate-prefix").value == ""  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen)


async def test_enter_paints_the_carrier_screen_once_with_its_head(
        cache_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Painting waits for the head (no "Loading…" frame first); a head that does not
    come within HEAD_WAIT_S shows "Loading…", and keys reach the screen meanwhile."""
    app = make_app(cache_path, tmp_path)
    painted: list[tuple[str, bool]] = []
    display = app._display

    def watched(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count and isinstance(screen, CarrierScreen):
            painted.append((screen.carrier_id, "head" in screen.loaded))

    app._display = watched  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for cid in ("misroute", "tier1"):  # composed, then the reused screen
            painted.clear()
            app.open_carrier(cid)
            await settle(pilot)
            assert painted and all(p == (cid, True) for p in painted), painted
            await pilot.press("escape")
            await settle(pilot)
        monkeypatch.setattr(CarrierScreen, "_load_head", lambda self: None)  # never comes
        painted.clear()
        app.open_carrier("misroute")
        await pilot.press("2")  # while painting is held
        await pilot.pause(HEAD_WAIT_S + 0.2)
        screen: CarrierScreen = app.screen  # type: ignore[assignment]
        assert ("misroute", False) in painted and not app._batch_count
        assert screen.current_part() == "rates"
        screen.action_tab("contacts")
        await pilot.pause()
        assert "Loading…" in screen_text(app)


def test_names_and_ids_sort_as_an_operator_reads_them():
    from noc_tui.ui.carrier_list import sort_rows

    rows = [{"id": i, "name": n} for i, n in (
        ("c10", "Carrier 10"), ("c2", "carrier 2"), ("c1", "Carrier 1"),
        ("x", "Alpha"), ("c2b", "Carrier 2b"), ("n", None))]
    names = [r["id"] for r in sort_rows(rows, "name", False, False)]
    assert names == ["x", "c1", "c2", "c2b", "c10", "n"]  # no name: sorted by its id
    ids = [r["id"] for r in sort_rows(rows, "id", True, False)]
    assert ids == ["x", "n", "c10", "c2b", "c2", "c1"]


async def test_header_says_when_the_last_poll_quarantined_records(tmp_path: Path):
    import sqlite3

    db = build_cache(tmp_path / "q.db", calls=200)
    con = sqlite3.connect(db)
    with con:  # as the poller records a run that left 3 bad records out
        con.execute("INSERT INTO poll_runs (source, started_at, ended_at, taken, quarantined,"
                    " status) VALUES ('http://switch', ?, ?, 500, 3, 'ok')",
                    (FROZEN_NOW - 120_000, FROZEN_NOW - 60_000))
    con.close()
    app = make_app(db, tmp_path)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        age = app.screen.query_one(HeaderBar).query_one("#hb-age")
        assert "last poll quarantined 3 (noc-tui quarantine)" in screen_text(app)
        assert age.has_class("-warning")
