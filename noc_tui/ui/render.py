"""Headless rendering of a screen for `noc-tui export --format svg|txt`, and the
"settled" wait that tests and the renderer share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

VIEWS = ("carriers", "carrier", "summary", "failover", "contacts", "rates", "consistency",
         "failures")


def is_settled(app: Any) -> bool:
    """No worker running, nothing pending on the current screen, and data shown."""
    if any(w.is_running or w.state.name == "PENDING" for w in app.workers):
        return False
    screen = app.screen
    pending = getattr(screen, "pending", None)
    if pending:
        return False
    return getattr(screen, "loaded", True) is not False


async def settle(pilot: Pilot, rounds: int = 200) -> None:
    """Wait until the screen's workers finished and their messages were handled."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if is_settled(app):
            await pilot.pause()
            return
    raise TimeoutError("the dashboard did not settle")


async def _drive(app: Any, pilot: Pilot, view: str, carrier_id: str | None,
                 period: str = "live", direction: str = "out") -> None:
    await settle(pilot)
    if view == "carriers":
        return
    if not carrier_id:
        raise ValueError(f"view {view!r} needs a carrier id")
    app.open_carrier(carrier_id)
    await settle(pilot)
    if view != "carrier":
        app.screen.action_tab(view)
        await settle(pilot)
    if view == "summary":
        while app.screen.period != period:
            await app.screen.action_cycle_period()
            await settle(pilot)
    if view == "failover" and direction != app.screen.direction:
        await app.screen.action_toggle_direction()
        await settle(pilot)


def render_view(
    settings: Any,
    cache_path: str | Path,
    view: str = "carriers",
    carrier_id: str | None = None,
    fmt: str = "svg",
    size: tuple[int, int] = (120, 40),
    now_ms: int | None = None,
    config_path: Path | None = None,
    period: str = "live",
    direction: str = "out",
) -> str:
    """Render one screen without a terminal and return it as SVG or plain text.

    view: carriers | carrier | contacts | rates | consistency | failures | summary |
    failover (all but carriers need carrier_id). now_ms freezes the clock; the window
    is settings.ui.window; period picks the summary's Live/Daily/Monthly table, direction
    the failover calls out or in.
    """
    import asyncio

    from noc_tui.ui.app import NocApp
    from noc_tui.ui.export import data_only, screen_svg, screen_text

    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")
    if fmt not in ("svg", "txt"):
        raise ValueError("fmt is svg or txt")
    clock = (lambda: now_ms) if now_ms is not None else None
    app = NocApp(settings, cache_path, clock=clock, config_path=config_path,
                 watch_interval_s=0)
    app.animation_level = "none"
    out: list[str] = []

    async def run() -> None:
        async with app.run_test(size=size, notifications=False) as pilot:
            app.clear_notifications()
            await _drive(app, pilot, view, carrier_id, period, direction)
            app.clear_notifications()
            await pilot.pause()
            out.append(screen_svg(app, f"noc-tui {view}") if fmt == "svg"
                       else data_only(app, lambda: screen_text(app)))

    asyncio.run(run())
    return out[0]
