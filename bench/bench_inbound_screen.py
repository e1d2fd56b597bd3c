"""Trunk-group screen benchmark (issue 15, "Tests and figures"): Enter on a trunk group
of the list -> its screen complete (the head and the DIDs tab shown), p50/p95, beside
Enter on a carrier -> the carrier screen complete, in the same run.

Run by hand (not a test; minutes at 10^6 deliveries):

    .venv/bin/python bench/bench_inbound_screen.py --deliveries 1e6 [--dir DIR] [--reads-only]

1. bench_inbound.py's data: 2,000 trunk groups, 20,000 DIDs, registration events and
   N deliveries over 7 days, imported with `noc-tui import` into DIR/inbound.db, and as
   many carrier attempts into DIR/attempts.db (--reads-only: the caches a run left).
2. A headless dashboard (Textual's Pilot, 200x50, a frozen now) on each cache: Enter on
   a random row of the list, wait until the screen has no read pending, one more pause
   (painted), Esc; the time from the key to then, `--samples` times.
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


def enter_times(cache: Path, open_list: str | None, done: Callable[[Any], bool],
                samples: int) -> list[float]:
    """Seconds from Enter on a random list row to its screen complete (`done`)."""
    from noc_tui.config import Settings, UISettings
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.render import settle

    app = NocApp(Settings(ui=UISettings(animations=False)), cache, clock=lambda: NOW,
                 watch_interval_s=0)
    out: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            if open_list:
                await pilot.press(open_list)
                await settle(pilot)
            listing = app.screen
            table = listing.query_one("NavTable")
            rng = random.Random(3)
            for _ in range(samples + 1):  # the first one warms up (imports, styles)
                table.move_cursor(row=rng.randrange(table.row_count))
                await pilot.pause()
                t0 = time.perf_counter()
                await pilot.press("enter")
                while not done(app.screen):
                    await asyncio.sleep(0.001)
                await pilot.pause()  # painted
                out.append(time.perf_counter() - t0)
                await pilot.press("escape")
                while app.screen is not listing:
                    await asyncio.sleep(0.001)
                await settle(pilot)

    asyncio.run(run())
    return out[1:]


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", default="1e6")
    ap.add_argument("--dir", default=None, help="work folder (default: a temp dir)")
    ap.add_argument("--reads-only", action="store_true",
                    help="measure on the caches an earlier run left in --dir")
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    n = int(float(args.deliveries))
    work = Path(args.dir or tempfile.mkdtemp(prefix="noc-bench-inbound-screen-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.reads_only:
        ingest(work, work / "inbound.db", n)
    trunk = enter_times(work / "inbound.db", "t", trunk_group_done, args.samples)
    carrier = enter_times(work / "attempts.db", None, carrier_done, args.samples)
    print(f"| Enter -> screen complete ({n:,} deliveries / as many carrier attempts) "
          "| median ms | p95 ms |")
    print("|---|---:|---:|")
    for label, xs in (("trunk group (head + DIDs tab)", trunk),
                      ("carrier (head + Contacts tab), baseline", carrier)):
        print(f"| {label} | {statistics.median(xs) * 1000:.1f} | {pct(xs, 0.95):.1f} |")


if __name__ == "__main__":
    main()
