"""The carrier screen's parts (noc_tui/ui/carrier/): what is read for one carrier is
never shown for another."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.ui.app import NocApp
from noc_tui.ui.carrier.head import CarrierHead
from noc_tui.ui.carrier.screen import CarrierScreen
from noc_tui.ui.export import screen_text
from noc_tui.ui.paint_hold import HEAD_WAIT_S
from noc_tui.ui.render import settle


async def test_a_late_head_of_the_previous_carrier_is_dropped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reuses one carrier screen: a read still running for the carrier shown
    before must not land on the next one when it finally answers."""
    cache = build_cache(tmp_path / "cache.db")
    app = NocApp(ui_settings(tmp_path / "exports"), cache, clock=lambda: FROZEN_NOW,
                 watch_interval_s=0)
    gate = threading.Event()
    read = CarrierHead.read

    def slow_for_misroute(self: CarrierHead, cache: Any, host: Any, carrier_id: str) -> Any:
        if carrier_id == "misroute":
            gate.wait(10)
        return read(self, cache, host, carrier_id)

    monkeypatch.setattr(CarrierHead, "read", slow_for_misroute)
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            await settle(pilot)
            app.open_carrier("misroute")
            await pilot.pause(HEAD_WAIT_S + 0.1)  # shown, "Loading…"
            await pilot.press("escape")
            app.open_carrier("tier1")  # the same screen, now for tier1
            screen = app.screen
            assert isinstance(screen, CarrierScreen) and screen.carrier_id == "tier1"
            for _ in range(200):  # tier1's head comes while misroute's still waits
                if "head" in screen.loaded:
                    break
                await pilot.pause(0.02)
            assert "Tier One Telecom" in screen_text(app)
        finally:
            gate.set()
        await settle(pilot)
        text = screen_text(app)
        assert "Tier One Telecom" in text and "Misrouted" not in text
