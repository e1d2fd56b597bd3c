"""Honest without colour (issue 16, point 10): with NO_COLOR the health and alarms of
the carrier list are told by a marker, weight and inversion, and an unhealthy row is
never drawn dimmer than a healthy one (the terminal's greys would otherwise turn the
health colours into a dimmer grey)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.segment import Segment
from textual.color import Color

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.ui.app import NocApp
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("nocolor") / "cache.db")


def brightness(segment: Segment) -> float:
    """How bright a segment stands out: its characters' colour, or for an inverted one
    the block it is drawn as (the foreground colour, behind the characters)."""
    style = segment.style
    assert style is not None
    fg = style.color
    colour = Color.from_rich_color(fg) if fg is not None else Color(224, 224, 224)
    return colour.brightness * (0.5 if style.dim else 1.0)


@pytest.mark.parametrize("theme", ["noc-dark", "noc-light"])
async def test_health_and_alarms_readable_without_colour(cache_path: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         theme: str):
    monkeypatch.setenv("NO_COLOR", "1")
    app = NocApp(ui_settings(tmp_path), cache_path, clock=lambda: FROZEN_NOW,
                 watch_interval_s=0, theme=theme)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert app.no_color
        for state in ("down", "suspect", "degraded", "fine"):
            assert "#" not in app.health_style(state)  # no colour of its own
        table = app.screen.query_one("#carriers", NavTable)
        app.screen.set_focus(None)  # no cursor row in the way
        await pilot.pause()
        update = app.screen._compositor.render_update(full=True)
        lines = list(update.strips)
        order = table._order
        rows = {r["id"]: r for r in app.screen.rows}

        def cells(carrier: str) -> list[Segment]:
            strips = lines[table.region.y + 1 + order.index(carrier)]
            segs = [s for strip in strips for s in strip]
            return [s for s in segs if s.text.strip() and s.style is not None]

        fine = next(k for k in order if rows[k]["health"] == "fine" and rows[k]["attempts"])
        healthy = min(brightness(s) for s in cells(fine))
        for carrier in ("down", "misroute", "fas", "cheap"):  # down, suspect x2, degraded
            segs = cells(carrier)
            label = next(s for s in segs if s.text.strip() in ("DOWN", "SUSP", "DEGR"))
            assert label.style.bold and (label.style.reverse or rows[carrier]["health"]
                                         == "degraded")
            for s in segs:
                assert not s.style.dim, (carrier, s)
                assert brightness(s) >= healthy - 1e-6, (carrier, s.text, brightness(s),
                                                         healthy)
            if rows[carrier]["alarms"]:
                assert any(s.text.strip() == "!" and s.style.bold for s in segs)
        assert "DOWN" in screen_text(app) and "3 in alarm" in screen_text(app)
