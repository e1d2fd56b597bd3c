"""Snapshots of every dashboard screen and tab at 80x24 and 120x40, the main ones at 200x50.

Deterministic: the fixture cache of tests/ui_fixtures.py, a frozen clock, animations
off, no poller. Update baselines with `pytest tests/test_ui_snapshots.py
--snapshot-update` and look at the report before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.ui.app import NocApp
from noc_tui.ui.render import settle

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("ui") / "cache.db")


def make_app(cache_path: Path, tmp_path: Path) -> NocApp:
    # A fixed export folder: the export dialog shows it (nothing is written here).
    return NocApp(ui_settings(Path("/nonexistent/noc-tui/exports")), cache_path,
                  clock=lambda: FROZEN_NOW, config_path=Path("/etc/noc-tui/config.toml"),
                  watch_interval_s=0)


def steps(*actions: str | tuple[str, ...]):
    """A run_before that settles, then for each step presses keys or opens a view."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot)
        for act in actions:
            if act.startswith("carrier:"):
                app.open_carrier(act.split(":", 1)[1])
            elif act.startswith("call:"):
                app.open_call(act.split(":", 1)[1])
            else:
                await pilot.press(*act.split())
            await settle(pilot)
        app.clear_notifications()
        await pilot.pause()

    return run_before


VIEWS = {
    "carriers": (),
    "carriers_filtered": ("slash", "c h e", "enter"),
    "carrier_contacts": ("carrier:tier1",),
    "carrier_rates": ("carrier:tier1", "2"),
    "carrier_rates_prefix": ("carrier:tier1", "2", "slash", "4 4 7", "enter"),
    "carrier_consistency": ("carrier:nf404", "3"),
    "carrier_failures": ("carrier:down", "4"),
    "carrier_summary_live": ("carrier:tier1", "5"),
    "carrier_summary_daily": ("carrier:tier1", "5", "t"),
    "carrier_summary_monthly": ("carrier:tier1", "5", "t", "t"),
    "carrier_failover_out": ("carrier:misroute", "6"),
    "carrier_failover_in": ("carrier:tier1", "6", "i"),
    "carrier_idle": ("carrier:idle",),
    "call": ("carrier:misroute", "6", "enter"),
    "number_calls": ("carrier:nf404", "3", "enter"),
    "help": ("question_mark",),
    "export_dialog": ("e",),
}


# The main screens also on a wide terminal: the columns that only fit there.
WIDE = (200, 50)
WIDE_VIEWS = ("carriers", "carrier_contacts", "carrier_failover_out", "carrier_summary_live",
              "call", "help")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
def test_screen(snap_compare, cache_path: Path, tmp_path: Path, view: str,
                size: tuple[int, int]) -> None:
    app = make_app(cache_path, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=steps(*VIEWS[view]))


@pytest.mark.parametrize("view", WIDE_VIEWS)
def test_wide_screen(snap_compare, cache_path: Path, tmp_path: Path, view: str) -> None:
    app = make_app(cache_path, tmp_path)
    assert snap_compare(app, terminal_size=WIDE, run_before=steps(*VIEWS[view]))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_empty_state(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(Path("/nonexistent/noc-tui/cache.db"), tmp_path)  # stable in the SVG
    assert snap_compare(app, terminal_size=size, run_before=steps())
