"""The screen never shows a wrong state (issue 11, section 6).

A carrier's header (health, alarm, flags) matches the carrier list it came from, for
every window and while polling is paused; a poll or import that ends while the
dashboard starts is shown; the header's age is the age of what is on screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.ui.app import NocApp
from noc_tui.ui.carrier.screen import CarrierScreen
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import Note


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("state") / "cache.db")


def make_app(cache_path: Path, tmp_path: Path, **kw: Any) -> NocApp:
    kw.setdefault("clock", lambda: FROZEN_NOW)
    kw.setdefault("watch_interval_s", 0)
    return NocApp(ui_settings(tmp_path / "exports"), cache_path, **kw)


def head_line(app: NocApp) -> str:
    """The first line of the carrier screen's head: health, ALARM, name."""
    facts = app.screen.query_one("#facts", Note)
    return str(facts.render()).splitlines()[0]


def head_text(app: NocApp) -> str:
    return str(app.screen.query_one("#facts", Note).render())


def expected_head(row: dict[str, Any]) -> tuple[str, bool]:
    return row["health"].upper(), bool(row.get("alarms"))


async def palette(pilot: Any, text: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)


async def test_header_matches_the_list_after_pause_and_window_change(
        tmp_path: Path):
    """Enter on a DOWN carrier, p, then window 1h from the palette: the header still
    says DOWN with its alarm, exactly as the 1h list says, for every window; and when
    the cache changed under the paused dashboard, the header follows the list."""
    cache_path = build_cache(tmp_path / "cache.db")
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CarrierScreen) and app.screen.carrier_id == "down"
        assert head_line(app).startswith("DOWN ALARM")
        await pilot.press("p")
        assert app.paused
        for window in ("1h", "7d", "24h", "1h"):
            await palette(pilot, f"window: {window}")
            assert app.window == window
            row = app.carrier_rows["down"]
            health, alarmed = expected_head(row)
            assert health == "DOWN" and alarmed, row
            line = head_line(app)
            assert line.startswith(f"{health} ALARM"), (window, line)
            # The alarm's words are the list's, not recomputed ones.
            assert "; ".join(row["alarms"].values()) in head_text(app).replace("\n", "")
            assert f"{window}: " in head_text(app)

        # Meanwhile another process imports: the carrier answers again.
        before = app.carrier_rows["down"]["consecutive_failures"]
        add_calls(cache_path, "down", 200, FROZEN_NOW - 6000, FROZEN_NOW)
        await palette(pilot, "window: 24h")
        row = app.carrier_rows["down"]
        assert row["consecutive_failures"] < before and row["health"] != "down"
        health, alarmed = expected_head(row)
        assert head_line(app).startswith(f"{health} {'ALARM ' if alarmed else ''}DeadLink")
        assert app.paused


def add_calls(cache_path: Path, carrier: str, code: int, ts: int, refresh_ms: int,
              n: int = 5, call_prefix: str = "late") -> None:
    """What an import by another process does: n one-attempt calls, then the refresh."""
    from noc_tui.analytics.metrics import refresh_standard_windows
    from noc_tui.records.timefmt import ms_to_iso
    from noc_tui.store.cache import Cache

    with Cache(cache_path) as cache:
        cache.ingest("attempts", [
            {"call_id": f"{call_prefix}-{carrier}-{i}", "seq": 1, "carrier_id": carrier,
             "started_at": ms_to_iso(ts + i * 1000), "dst": "4420000099", "cli": None,
             "sip_code": code, "sip_reason": "OK" if code == 200 else "x",
             "pdd_ms": 1500, "duration_s": 60 if code == 200 else 0,
             "release_reason": None} for i in range(n)])
        refresh_standard_windows(cache, refresh_ms)


async def wait_for(pilot: Any, cond: Any, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if cond():
            return True
        await pilot.pause(0.05)
        await settle(pilot)
    return cond()


async def test_an_import_that_ends_while_the_dashboard_starts_is_shown(tmp_path: Path):
    """The list read ahead at start (cli.prepare_dashboard) predates an import: the
    dashboard shows the import's data at once, not only after the watch's next tick."""
    from noc_tui.analytics.views import list_snapshot

    cache_path = build_cache(tmp_path / "cache.db")
    settings = ui_settings(tmp_path / "exports")
    snap = list_snapshot(cache_path, settings, None, settings.ui.window, FROZEN_NOW)
    assert "newco" not in {r["id"] for r in snap.rows}
    add_calls(cache_path, "newco", 200, FROZEN_NOW - 30 * 60_000, FROZEN_NOW + 60_000)
    app = make_app(cache_path, tmp_path, first_list=lambda: snap, watch_interval_s=60,
                   clock=lambda: FROZEN_NOW + 120_000)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert await wait_for(pilot, lambda: "newco" in app.carrier_rows)
        assert app.as_of_ms == FROZEN_NOW + 60_000
        assert "updated 1 min ago" in screen_text(app)


async def test_an_import_before_the_first_watch_is_shown(tmp_path: Path):
    """The watch compares the cache with the list on screen: an import that ends after
    the first list and before the watch first looks is shown at that look."""
    cache_path = build_cache(tmp_path / "cache.db")
    app = make_app(cache_path, tmp_path, watch_interval_s=0.3)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "newco" not in app.carrier_rows
        add_calls(cache_path, "newco", 200, FROZEN_NOW - 30 * 60_000, FROZEN_NOW)
        assert await wait_for(pilot, lambda: "newco" in app.carrier_rows)
        gen = app.generation
        await pilot.pause(1.0)  # nothing new: no more reloads
        await settle(pilot)
        assert app.generation == gen


async def test_header_age_is_the_age_of_the_list_shown(tmp_path: Path):
    """A poll ended hours ago, an import refreshed the figures a minute ago: the
    header's age is the minute (the figures on screen), not the hours."""
    from noc_tui.store.cache import Cache

    cache_path = build_cache(tmp_path / "cache.db", now_ms=FROZEN_NOW - 60_000)
    with Cache(cache_path) as cache, cache.transaction() as conn:
        conn.execute("INSERT INTO poll_runs (source, started_at, ended_at, status) "
                     "VALUES ('http://switch', ?, ?, 'ok')",
                     (FROZEN_NOW - 3 * 3_600_000 - 5000, FROZEN_NOW - 3 * 3_600_000))
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "updated 1 min ago" in screen_text(app)
        assert "3 h ago" not in screen_text(app)
