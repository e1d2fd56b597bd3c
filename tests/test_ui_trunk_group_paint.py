"""Enter on a trunk group paints its screen once, complete (head and DIDs tab), as Enter
on a carrier does: no "Loading…" frame first; a read that does not come within
HEAD_WAIT_S shows "Loading…", and keys reach the screen meanwhile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

try:
    from tests.inbound_ui_fixtures import build_inbound_cache
    from tests.ui_fixtures import FROZEN_NOW, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from inbound_ui_fixtures import build_inbound_cache  # type: ignore[no-redef]
    from ui_fixtures import FROZEN_NOW, ui_settings  # type: ignore[no-redef]

from noc_tui.ui.app import NocApp
from noc_tui.ui.export import screen_text
from noc_tui.ui.paint_hold import HEAD_WAIT_S
from noc_tui.ui.render import settle
from noc_tui.ui.trunk_group.screen import TrunkGroupScreen


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_inbound_cache(tmp_path_factory.mktemp("inbound-paint"))


async def test_enter_paints_the_trunk_group_screen_once_with_its_head_and_dids(
        cache_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = NocApp(ui_settings(tmp_path / "exports"), cache_path, clock=lambda: FROZEN_NOW,
                 watch_interval_s=0)
    painted: list[tuple[str, bool, str]] = []
    display = app._display

    def watched(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count and \
                isinstance(screen, TrunkGroupScreen):
            painted.append((screen.gid, "dids" in screen.loaded, screen_text(app)))

    app._display = watched  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        for gid in ("g1", "g2", "g1"):  # composed, then the reused screen twice
            painted.clear()
            app.open_trunk_group(gid)
            await settle(pilot)
            assert painted, gid
            assert all(p[:2] == (gid, True) for p in painted), [p[:2] for p in painted]
            first = painted[0][2]
            assert "Loading…" not in first and "policy" in first  # the head, at once
            assert ("447000000001" in first) == (gid == "g1")  # g1's DID 100's number
            await pilot.press("escape")
            await settle(pilot)
        # A read that never comes: "Loading…" after HEAD_WAIT_S, keys work meanwhile.
        monkeypatch.setattr(TrunkGroupScreen, "load_head", lambda self: None)
        painted.clear()
        app.open_trunk_group("g2")
        await pilot.press("3")  # while painting is held
        await pilot.pause(HEAD_WAIT_S + 0.2)
        screen = app.screen
        assert isinstance(screen, TrunkGroupScreen)
        assert ("g2", False) in [p[:2] for p in painted] and not app._batch_count
        assert screen.current_part() == "registrations"
        screen.action_tab("dids")
        await pilot.pause()
        assert "Loading…" in screen_text(app)
