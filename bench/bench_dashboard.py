"""Dashboard benchmark (issue 4, section 7), run by hand:

    .venv/bin/python bench/bench_dashboard.py --attempts 10000000 --carriers 2000

1. Builds (or reuses, --reuse) a cache with N attempts over C carriers: rows written
   straight into the attempts table in large transactions, then rollups, failover
   links and the standard windows through the Cache / metrics API.
2. Startup: time from process start to the first complete frame of the carrier list
   (every row shown), through noc-tui's own start (noc_tui.cli: arguments, config
   loaded and validated, migration check, app), against a bare Textual app with the
   same widgets and no data, alternating runs in fresh processes, medians compared;
   also the CPU time of each to its first frame (less disturbed by other load).
   With --against DIR, the dashboard of another checkout (say, the code before a
   change) takes its turn in the same alternation, against the same bare runs; with
   --against-cache, on its own copy of the cache (a checkout at an older schema
   cannot open a cache the newer one has migrated).
3. Enter on a carrier -> complete carrier screen (head loaded and shown), p50/p95:
   to the first such frame, and the earlier Pilot-based measure (see enter_latency).
4. Peak RSS of the dashboard process.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW_ISO = "2026-11-01T12:00:00Z"


def build(path: Path, attempts: int, carriers: int, seed: int = 1) -> None:
    from noc_tui.analytics.metrics import refresh_standard_windows
    from noc_tui.records.timefmt import iso_to_ms
    from noc_tui.store.cache import Cache

    now = iso_to_ms(NOW_ISO)
    for s in ("", "-wal", "-shm"):
        Path(f"{path}{s}").unlink(missing_ok=True)
    Cache(path).close()  # schema
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    ids = [f"c{n:04d}" for n in range(carriers)]
    conn.executemany("INSERT INTO carriers VALUES (?, ?, 'active', 0, 10, 'USD', NULL)",
                     [(cid, f"Carrier {cid}") for cid in ids])
    span = 35 * 86400 * 1000
    codes = [200] * 6 + [486, 480, 503, 404, 408, 487]
    t0 = time.perf_counter()
    batch: list[tuple] = []
    n = 0
    call = 0
    while n < attempts:
        call += 1
        ts = now - rng.randrange(span)
        dst = f"44{rng.randrange(10**8):08d}"
        route = rng.sample(ids, 2)
        for seq, cid in enumerate(route, 1):
            code = rng.choice(codes)
            ok = code == 200
            batch.append((f"k{call}", seq, cid, ts, dst, None, code, None,
                          rng.randrange(500, 4000) if ok or code == 486 else None,
                          rng.randrange(1, 600) if ok else 0, None, None))
            n += 1
            ts += 3000
            if ok or code in (404, 486, 480, 487):
                break
        if len(batch) >= 200_000:
            conn.executemany(f"INSERT INTO attempts VALUES ({','.join('?' * 12)})", batch)
            conn.commit()
            batch.clear()
    if batch:
        conn.executemany(f"INSERT INTO attempts VALUES ({','.join('?' * 12)})", batch)
    conn.execute("INSERT OR IGNORE INTO attempt_carriers SELECT id FROM carriers")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('links_stale', '1')")
    conn.execute("DELETE FROM meta WHERE key = 'rollup_signature'")  # rebuild rollups
    conn.commit()
    conn.close()
    print(f"  rows written in {time.perf_counter() - t0:.1f}s", flush=True)
    t1 = time.perf_counter()
    with Cache(path) as cache:  # rebuilds rollups and failover links
        print(f"  rollups + links in {time.perf_counter() - t1:.1f}s", flush=True)
        t2 = time.perf_counter()
        refresh_standard_windows(cache, now)
        print(f"  standard windows in {time.perf_counter() - t2:.1f}s", flush=True)


# -- the measured processes ----------------------------------------------------------------

CHILD = r"""
import asyncio, json, resource, sys, time
T0 = float(sys.argv[3])
sys.path.insert(0, sys.argv[4])
mode, path, config = sys.argv[1], sys.argv[2], sys.argv[5]

async def main():
    if mode == "dashboard":
        # The steps of `noc-tui --cache PATH --config FILE` (noc_tui.cli.main) up to
        # app.run(): arguments, the collector held, the config loaded and validated
        # (pydantic-settings, in a forked child while Textual is imported), the cache
        # checked for migrations, the app built. Only the clock is pinned (the cache's
        # data ends at NOW_ISO).
        from noc_tui import cli
        args = cli.build_parser().parse_args(["--cache", path, "--config", config])
        from noc_tui.ui.startup import hold_gc
        if cli.opens_dashboard(args):
            hold_gc()
        from noc_tui.records.timefmt import iso_to_ms
        now = iso_to_ms("%s")
        app = cli.prepare_dashboard(args, sys.stderr, clock=lambda: now,
                                    watch_interval_s=0)
        from noc_tui.ui.carrier_list import CarrierListScreen
        def table():
            s = app.screen
            if isinstance(s, CarrierListScreen) and s.loaded and s.rows:
                return s, s.query_one("#carriers")
            return None, None
        def done():
            # The first complete frame: data loaded and every carrier row in the table.
            s, t = table()
            return s is not None and t.row_count == len(s.rows)
    else:
        # The same widgets as the carrier list screen, with no data, and none of the
        # dashboard's own modules beyond the widget and column definitions.
        from textual.app import App
        from textual.containers import Vertical
        from textual.widgets import ContentSwitcher, Input, Static
        from noc_tui.ui.carrier_list import LIST_COLS
        from noc_tui.ui.widgets import HeaderBar, KeyHints, NavTable, Note
        class Bare(App):
            def compose(self):
                yield HeaderBar("Carriers")
                with Vertical():
                    yield Static("Carriers", id="list-title")
                    with ContentSwitcher(initial="carriers"):
                        t = NavTable(id="carriers")
                        for c in LIST_COLS:
                            t.add_column(c.label, key=c.key, width=c.width)
                        yield t
                        yield Note("Loading…", id="empty")
                yield Input(placeholder="filter by name or id", id="filter")
                yield KeyHints()
            def update_headers(self):  # HeaderBar calls it on mount
                pass
        app = Bare()
        def done():
            return app.screen.query(NavTable) and app.screen.query_one(NavTable).size.height
    # The first frame written once the rows are in (App._display, as the Enter
    # measure): what the terminal shows. Pilot's pause, the other measure, returns after
    # 20 ms slices with under 1 ms of CPU each, so a repaint landing in one slice more or
    # less moves it by 20-40 ms.
    written = []
    display = type(app)._display
    def _display(self, *args, **kwargs):
        out = display(self, *args, **kwargs)
        if not written and not self._batch_count and done():  # batched: not written
            written.append(time.time() - T0)
        return out
    type(app)._display = _display
    async with app.run_test(size=(200, 50)) as pilot:
        while not done():
            await asyncio.sleep(0.002)
        await pilot.pause()  # the frame is composed and painted
        first = time.time() - T0
        cpu = time.process_time()  # this process, all threads, from its start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"first_frame_s": first, "cpu_s": cpu, "rss_mb": rss,
                      "written_s": written[0] if written else first}))

asyncio.run(main())
""" % NOW_ISO  # noqa: UP031 (the child source holds braces)


def startup(path: Path, runs: int, against: Path | None = None,
            against_cache: Path | None = None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"dashboard": [], "bare": [], "rss": [],
                                   "dashboard_cpu": [], "bare_cpu": [],
                                   "against": [], "against_cpu": [], "against_rss": [],
                                   "dashboard_written": [], "bare_written": [],
                                   "against_written": []}
    # (what is reported, the child's mode, the checkout it imports noc_tui from, its cache)
    turns = [("bare", "bare", ROOT, path), ("dashboard", "dashboard", ROOT, path)]
    if against is not None:
        turns.append(("against", "dashboard", against, against_cache or path))
    # Up-to-date bytecode, as an installed copy has: with PYTHONDONTWRITEBYTECODE set
    # (or a read-only checkout) every edited module would be compiled again in every
    # child, ~5-10 ms each, on both sides.
    for _, _, root, _ in turns[1:]:
        compileall.compile_dir(root / "noc_tui", quiet=1)
    # The dashboard's config: defaults, but no animations (as the Enter measure).
    config = path.parent / "bench-config.toml"
    config.write_text("[ui]\nanimations = false\n")
    for _ in range(runs):
        for name, mode, root, cache in turns:
            t0 = time.time()
            res = subprocess.run([sys.executable, "-c", CHILD, mode, str(cache), repr(t0),
                                  str(root), str(config)],
                                 capture_output=True, text=True, check=True)
            data = json.loads(res.stdout.strip().splitlines()[-1])
            out[name].append(data["first_frame_s"])
            out[f"{name}_cpu"].append(data["cpu_s"])
            out[f"{name}_written"].append(data["written_s"])
            if name != "bare":
                out["rss" if name == "dashboard" else "against_rss"].append(data["rss_mb"])
    return out


def enter_latency(path: Path, samples: int) -> dict[str, list[float]]:
    """Enter on a random carrier, two ways, alternating per sample:

    - frame: the Enter key event sent as the terminal driver sends it, to the first
      frame written with the carrier's head shown (a wrapper on `App._display`); the
      very first Enter (it composes the carrier screen) is reported on its own;
    - pilot: `pilot.press("enter")` until the head is loaded, then `pilot.pause()`:
      the earlier measure. Pilot waits for the process to look idle (>= 20 ms windows
      of low CPU, at least three), so it adds tens of ms, more on a loaded machine.
    """
    from textual import events

    from noc_tui.config import Settings, UISettings
    from noc_tui.records.timefmt import iso_to_ms
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.carrier.screen import CarrierScreen
    from noc_tui.ui.carrier_list import CarrierListScreen
    from noc_tui.ui.render import settle

    now = iso_to_ms(NOW_ISO)
    app = NocApp(Settings(ui=UISettings(animations=False)), path, clock=lambda: now,
                 watch_interval_s=0)
    out: dict[str, list[float]] = {"first": [], "frame": [], "pilot": []}
    frames: list[tuple[float, str]] = []
    display = app._display

    def watched(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is not None and not app._batch_count and \
                isinstance(screen, CarrierScreen) and "head" in screen.loaded:
            frames.append((time.perf_counter(), screen.carrier_id))

    app._display = watched  # type: ignore[method-assign]

    async def run() -> None:
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#carriers")
            rng = random.Random(3)
            for i in range(samples * 2 + 1):  # the first Enter composes the screen
                table.move_cursor(row=rng.randrange(table.row_count))
                await pilot.pause()
                cid = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
                frames.clear()
                t0 = time.perf_counter()
                if i % 2 == 0:
                    app._driver.send_message(events.Key("enter", "\r"))
                    while not any(c == cid for _, c in frames):
                        await asyncio.sleep(0.0005)
                    out["first" if i == 0 else "frame"].append(
                        next(t for t, c in frames if c == cid) - t0)
                else:
                    await pilot.press("enter")
                    while True:
                        s = app.screen
                        if isinstance(s, CarrierScreen) and "head" in s.loaded and \
                                not s.pending:
                            break
                        await asyncio.sleep(0.001)
                    await pilot.pause()  # painted
                    out["pilot"].append(time.perf_counter() - t0)
                await pilot.pause()
                await pilot.press("escape")
                while not isinstance(app.screen, CarrierListScreen):
                    await asyncio.sleep(0.001)
                await pilot.pause()

    asyncio.run(run())
    return out


def _cache_size(path: Path) -> tuple[int, int]:
    """(attempts, carriers) in the cache measured, built now or reused (--reuse)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        attempts = conn.execute("SELECT max(rowid) FROM attempts").fetchone()[0] or 0
        carriers = conn.execute("SELECT count(*) FROM carriers").fetchone()[0]
    finally:
        conn.close()
    return attempts, carriers


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3) if xs else float("nan")


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * q))] * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--attempts", type=int, default=1_000_000)
    ap.add_argument("--carriers", type=int, default=2000)
    ap.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "dashboard.db")
    ap.add_argument("--reuse", action="store_true", help="keep an existing cache file")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--samples", type=int, default=40, help="Enter samples per measure")
    ap.add_argument("--enter-only", action="store_true", help="skip the startup runs")
    ap.add_argument("--startup-only", action="store_true", help="skip the Enter runs")
    ap.add_argument("--against", type=Path, metavar="DIR",
                    help="another checkout (e.g. a `git worktree` of the code before a "
                    "change) whose dashboard start alternates with this one's")
    ap.add_argument("--against-cache", type=Path, metavar="PATH",
                    help="the --against checkout's own copy of the cache (default: --cache)")
    args = ap.parse_args()
    load_before = os.getloadavg()
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and args.cache.exists()):
        print(f"building {args.attempts:,} attempts over {args.carriers:,} carriers…", flush=True)
        build(args.cache, args.attempts, args.carriers)
    st = startup(args.cache, 0 if args.enter_only else args.runs, args.against,
                 args.against_cache)
    dash = statistics.median(st["dashboard"]) if st["dashboard"] else float("nan")
    bare = statistics.median(st["bare"]) if st["bare"] else float("nan")
    lat = ({"first": [], "frame": [], "pilot": []} if args.startup_only
           else enter_latency(args.cache, args.samples))
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    attempts, carriers = _cache_size(args.cache)
    print(json.dumps({
        "attempts": attempts, "carriers": carriers,
        "first_frame_dashboard_s": round(dash, 3), "first_frame_bare_s": round(bare, 3),
        "ratio": round(dash / bare, 2),
        "first_frame_dashboard_runs_s": [round(x, 3) for x in st["dashboard"]],
        "first_frame_bare_runs_s": [round(x, 3) for x in st["bare"]],
        # The first frame written with every row (App._display), the same runs.
        "frame_written_dashboard_s": _median(st["dashboard_written"]),
        "frame_written_bare_s": _median(st["bare_written"]),
        "frame_written_ratio": round(_median(st["dashboard_written"])
                                     / _median(st["bare_written"]), 2)
        if st["bare_written"] else float("nan"),
        # CPU time to the first frame (less sensitive to other work on the machine).
        "cpu_to_first_frame_dashboard_s": _median(st["dashboard_cpu"]),
        "cpu_to_first_frame_bare_s": _median(st["bare_cpu"]),
        "cpu_ratio": round(_median(st["dashboard_cpu"]) / _median(st["bare_cpu"]), 2)
        if st["bare_cpu"] else float("nan"),
        **({} if args.against is None else {
            "against": str(args.against),
            "first_frame_against_s": _median(st["against"]),
            "ratio_against": round(_median(st["against"]) / bare, 2),
            "first_frame_against_runs_s": [round(x, 3) for x in st["against"]],
            "frame_written_against_s": _median(st["against_written"]),
            "frame_written_ratio_against": round(_median(st["against_written"])
                                                 / _median(st["bare_written"]), 2),
            "cpu_to_first_frame_against_s": _median(st["against_cpu"]),
            "cpu_ratio_against": round(_median(st["against_cpu"])
                                       / _median(st["bare_cpu"]), 2),
            "dashboard_rss_against_mb": round(max(st["against_rss"], default=float("nan")),
                                              1)}),
        "load_average_1_5_15_min": {"start": [round(x, 2) for x in load_before],
                                    "end": [round(x, 2) for x in os.getloadavg()]},
        "enter_first_ms": _pct(lat["first"], 0.5),
        "enter_frame_p50_ms": _pct(lat["frame"], 0.5),
        "enter_frame_p95_ms": _pct(lat["frame"], 0.95),
        "enter_pilot_p50_ms": _pct(lat["pilot"], 0.5),
        "enter_pilot_p95_ms": _pct(lat["pilot"], 0.95),
        "dashboard_rss_mb": round(max(st["rss"], default=float("nan")), 1),
        "enter_bench_process_rss_mb": round(rss_self, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
