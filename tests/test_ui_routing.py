"""The live routing state a switch reports (Kamailio's dispatcher) in the dashboard: a
Routing column in the carrier list only when some carrier has one, DOWN for a carrier
whose every gateway is down however well its calls went, and the gateways on the
carrier screen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from noc_tui.store.cache import Cache
from noc_tui.store.destinations import load, replace
from noc_tui.ui.app import NocApp
from noc_tui.ui.carrier.screen import CarrierScreen
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable
from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings


@pytest.fixture(scope="module")
def plain_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("ui") / "cache.db")


@pytest.fixture
def routed_cache(plain_cache: Path, tmp_path: Path) -> Path:
    path = tmp_path / "routed.db"
    shutil.copy(plain_cache, path)
    with Cache(path) as cache:
        replace(cache, [
            # tier1: its only gateway inactive, although its calls connect.
            ("tier1", 1, "sip:198.51.100.1:5060", 10, "inactive", True),
            ("cheap", 1, "sip:198.51.100.2:5060", 5, "active", True),
            ("cheap", 2, "sip:198.51.100.3:5060", 5, "disabled", False),
        ], FROZEN_NOW)
    return path


def _app(path: Path, tmp_path: Path) -> NocApp:
    return NocApp(ui_settings(tmp_path / "exports"), path, watch_interval_s=0,
                  clock=lambda: FROZEN_NOW)


def test_replace_is_a_snapshot(routed_cache: Path) -> None:
    with Cache(routed_cache) as cache:
        assert load(cache.conn)["cheap"].label == "1/2 up"
        replace(cache, [("cheap", 1, "sip:198.51.100.2:5060", 5, "trying", True)], 1)
        routing = load(cache.conn)
    assert list(routing) == ["cheap"]  # the others are gone with the old snapshot
    assert routing["cheap"].label == "trying" and not routing["cheap"].down


async def test_list_shows_routing_and_down(routed_cache: Path, tmp_path: Path) -> None:
    app = _app(routed_cache, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#carriers", NavTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels[labels.index("Status") + 1] == "Routing"
        rows = {r["id"]: r for r in app.screen.rows}  # type: ignore[attr-defined]
        assert rows["tier1"]["health"] == "down" and rows["tier1"]["routing"] == "inactive"
        assert rows["cheap"]["routing"] == "1/2 up" and rows["cheap"]["health"] != "down"
        assert "routing" not in rows["fas"]  # no gateways reported: no value
        text = screen_text(app)
        assert "inactive" in text and "1/2 up" in text
        app.open_carrier("tier1")
        await settle(pilot)
        assert isinstance(app.screen, CarrierScreen)
        await settle(pilot)
        head = screen_text(app)
        assert "DOWN" in head and "gateways inactive · probed" in head


async def test_no_routing_column_without_routing_state(plain_cache: Path,
                                                       tmp_path: Path) -> None:
    app = _app(plain_cache, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#carriers", NavTable)
        assert "Routing" not in [str(c.label) for c in table.columns.values()]
