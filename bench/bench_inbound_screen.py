"""Trunk-group screen benchmark (issue 15, "Tests and figures"): Enter on a trunk group
of the list -> its screen complete (the head and the DIDs tab shown), p50/p95, beside
Enter on a carrier -> the carrier screen complete, in the same run.

Run by hand (not a test; minutes at 10^6 deliveries):

    .venv/bin/python bench/bench_inbound_screen.py --deliveries 1e6 [--dir DIR] [--reads-only]

1. bench_inbound.py's data: 2,000 trunk groups, 20,000 DIDs, registration events and
   N deliveries over 7 days, imported with `noc-tui import` into DIR/inbound.db, and as
   many carrier attempts into DIR/attempts.db (--reads-only: the caches a run left).
2. A headless dashboard (Textual's Pilot, 200x50, a frozen now) on each cache: Enter on
   a random row of the list, then Esc, `--samples` times each of two ways, alternated
   (as bench_dashboard's Enter measure):
   - frame: the Enter key sent as the terminal driver sends it, to the first frame
     written with the screen complete (a wrapper on `App._display`);
   - pilot: `pilot.press("enter")`, wait until the screen has no read pending, one
     `pilot.pause()` (painted). Pilot waits for the process to look idle (windows of
     20 ms with under 1 ms of CPU, at least three), so it adds 60 ms or more.
3. Floors, same run: the trunk-group screen opened (by a key bound to the call Enter
   makes) for a group the cache does not hold (the same widgets, no data: what showing
   this screen costs in Textual), and the Pilot measure of a key bound to nothing
   (Pilot's own waits).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_inbound import ingest
from synth import NOW

Opener = Callable[[Any], None]  # opens the screen measured, given the app


def enter_times(cache: Path, open_list: str | None, done: Callable[[Any], bool],
                samples: int, opener: Opener | None = None) -> dict[str, list[float]]:
    """Seconds from Enter on a random list row (or a key bound to `opener`) to its
    screen complete (`done`): "frame" and "pilot" (see the module's docstring),
    alternated."""
    from textual import events

    from noc_tui.config import Settings, UISettings
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.render import settle

    app = NocApp(Settings(ui=UISettings(animations=False)), cache, clock=lambda: NOW,
                 watch_interval_s=0)
    out: dict[str, list[float]] = {"frame": [], "pilot": []}
    frames: list[float] = []
    display = app._display

    def watched(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count and done(screen):
            frames.append(time.perf_counter())

    app._display = watched  # type: ignore[method-assign]
    key = "enter"
    if opener is not None:  # a key of its own, so that both measures press a key
        key = "f18"
        app.bind(key, "bench_open", show=False)
        app.action_bench_open = lambda: opener(app)  # type: ignore[attr-defined]

    async def run() -> None:
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            if open_list:
                await pilot.press(open_list)
                await settle(pilot)
            listing = app.screen
            table = listing.query_one("NavTable")
            rng = random.Random(3)
            for i in range(2 * samples + 1):  # the first one warms up (imports, styles)
                table.move_cursor(row=rng.randrange(table.row_count))
                await pilot.pause()
                frames.clear()
                t0 = time.perf_counter()
                if i % 2 == 1:
                    await pilot.press(key)
                    while not done(app.screen):
                        await asyncio.sleep(0.001)
                    await pilot.pause()  # painted
                    out["pilot"].append(time.perf_counter() - t0)
                else:
                    app._driver.send_message(events.Key(key, "\r" if key == "enter" else None))
                    while not frames:
                        await asyncio.sleep(0.0005)
                    if i:
                        out["frame"].append(frames[0] - t0)
                await pilot.press("escape")
                while app.screen is not listing:
                    await asyncio.sleep(0.001)
                await settle(pilot)

    asyncio.run(run())
    return out


def pilot_alone(cache: Path, samples: int) -> list[float]:
    """Pilot's press and pause of a key bound to nothing, on the carrier list: what the
    pilot measure adds whatever the screen costs."""
    from noc_tui.config import Settings, UISettings
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.render import settle

    app = NocApp(Settings(ui=UISettings(animations=False)), cache, clock=lambda: NOW,
                 watch_interval_s=0)
    out: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            for _ in range(samples):
                t0 = time.perf_counter()
                await pilot.press("f19")
                await pilot.pause()
                out.append(time.perf_counter() - t0)
                await settle(pilot)

    asyncio.run(run())
    return out


def trunk_group_done(screen: Any) -> bool:
    from noc_tui.ui.trunk_group.screen import TrunkGroupScreen

    return isinstance(screen, TrunkGroupScreen) and "dids" in screen.loaded \
        and not screen.pending


def carrier_done(screen: Any) -> bool:
    from noc_tui.ui.carrier.screen import CarrierScreen

    return isinstance(screen, CarrierScreen) and "head" in screen.loaded \
        and not screen.pending


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def no_such_group(app: Any) -> None:
    app.open_trunk_group("no-such-group")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", default="1e6")
    ap.add_argument("--dir", default=None, help="work folder (default: a temp dir)")
    ap.add_argument("--reads-only", action="store_true",
                    help="measure on the caches an earlier run left in --dir")
    ap.add_argument("--samples", type=int, default=40, help="of each measure")
    args = ap.parse_args()
    n = int(float(args.deliveries))
    work = Path(args.dir or tempfile.mkdtemp(prefix="noc-bench-inbound-screen-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.reads_only:
        ingest(work, work / "inbound.db", n)
    inbound, attempts = work / "inbound.db", work / "attempts.db"
    rows = [
        ("trunk group (head + DIDs tab)",
         enter_times(inbound, "t", trunk_group_done, args.samples)),
        ("carrier (head + Contacts tab), baseline",
         enter_times(attempts, None, carrier_done, args.samples)),
        ("floor: the trunk-group screen for a group not in the cache (same widgets, "
         "no data)",
         enter_times(inbound, "t", trunk_group_done, args.samples, no_such_group)),
        ("floor: Pilot alone (press and pause of a key bound to nothing)",
         {"frame": [], "pilot": pilot_alone(attempts, args.samples)}),
    ]
    print(f"| Enter -> screen complete ({n:,} deliveries / as many carrier attempts) "
          "| frame median ms | frame p95 ms | pilot median ms | pilot p95 ms |")
    print("|---|---:|---:|---:|---:|")
    for label, xs in rows:
        cells = [f"{statistics.median(v) * 1000:.1f} | {pct(v, 0.95):.1f}" if v else "- | -"
                 for v in (xs["frame"], xs["pilot"])]
        print(f"| {label} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
