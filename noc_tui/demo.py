"""`noc-tui --demo`: the embedded demo switch, a backfilled cache, and the dashboard.

Everything a new user needs to see the product move, with nothing configured: the demo
switch serves API v1 on a free loopback port in this process, the poller backfills its
35 days of history into a temporary cache (or --cache), then the dashboard opens with
the poller live on a short interval.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from noc_tui.config import Settings
from noc_tui.records.printable import printable_lines

if TYPE_CHECKING:
    from noc_tui.sync.poller import Poller

DEMO_INTERVAL = "1m"


def demo_settings(settings: Settings, url: str) -> Settings:
    """The user's settings pointed at the embedded switch, polling every minute."""
    source = settings.source.model_copy(update={"url": url, "token": None, "username": None,
                                                "password": None})
    poll = settings.poll.model_copy(update={"interval": DEMO_INTERVAL})
    return settings.model_copy(update={"source": source, "poll": poll})


def backfill(settings: Settings, cache_path: Path, out: TextIO = sys.stderr) -> bool:
    """Fill the cache from the switch in settings, with a progress bar; True if it worked."""
    from noc_tui.sync.poller import Poller, ProgressBar

    bar = ProgressBar(out, "backfilling 35 days")
    result = Poller(settings, cache_path).poll_once(on_progress=bar)
    bar.finish()
    if not result.ok:
        out.write(printable_lines(f"noc-tui --demo: backfill failed ({result.error_kind}): "
                                  f"{result.error}") + "\n")
        return False
    out.write(f"demo: {result.attempts:,} attempts in {result.duration_s:.1f} s\n")
    return True


class DemoError(Exception):
    """The demo could not start (the backfill failed)."""


def prepare_demo(
    folder: Path | None = None,
    cache_path: Path | None = None,
    settings: Settings | None = None,
    out: TextIO = sys.stderr,
) -> tuple[Settings, Path, Poller, Callable[[], None]]:
    """Start the demo switch and backfill a cache from it.

    Returns (settings pointed at the switch, cache path, a live poller, stop); call stop
    to shut the switch down and remove a temporary cache.
    """
    from noc_tui.demo_switch import DemoSwitch
    from noc_tui.sync.poller import Poller

    tmp = None
    if cache_path is None:
        if folder is None:
            tmp = tempfile.TemporaryDirectory(prefix="noc-tui-demo-")
            folder = Path(tmp.name)
            from noc_tui.ui import terminal

            terminal.on_hangup(tmp.cleanup)  # a hang-up leaves no temporary cache
        cache_path = folder / "cache.db"
    switch = DemoSwitch(seed=1).start()

    def stop() -> None:
        switch.stop()
        if tmp is not None:
            tmp.cleanup()

    try:
        out.write(f"demo switch serving API v1 at {switch.url} (loopback only)\n")
        live = demo_settings(settings or Settings(), switch.url)
        if not backfill(live, cache_path, out):
            raise DemoError("the demo backfill failed")
    except BaseException:
        stop()
        raise
    return live, cache_path, Poller(live, cache_path), stop


def run_demo(
    settings: Settings,
    cache_path: Path | None,
    theme: str | None = None,
    config_path: Path | None = None,
    out: TextIO = sys.stderr,
) -> int:
    from noc_tui.ui.app import run_dashboard

    try:
        live, cache, poller, stop = prepare_demo(None, cache_path, settings, out)
    except DemoError:
        return 1
    try:
        return run_dashboard(live, cache, poller=poller, theme=theme, config_path=config_path)
    finally:
        stop()
