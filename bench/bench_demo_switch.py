"""Benchmark the demo switch: simulator generation and HTTP serving throughput.

Run by hand:  .venv/bin/python bench/bench_demo_switch.py [--attempts 1000000]

1. Generation of the default 35-day backfill (what `noc-tui --demo` serves first).
2. Generation + JSON rendering at a volume scaled to about --attempts attempts.
3. Serving those attempts over loopback HTTP, the switch in its own process (as a real
   switch would be), read page by page by one client: raw bytes (the switch's side) and
   with json.loads (what a poller must at least do), identity and gzip.
Times are wall clock; the CPU time of this process is shown beside them.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from typing import Any

import httpx

from noc_tui.demo_switch import HISTORY_MS, DemoSwitch, Simulator
from noc_tui.demo_switch.simulator import DEFAULT_CALLS_PER_MIN
from noc_tui.timefmt import iso_to_ms, ms_to_iso

START = iso_to_ms("2026-11-01T12:00:00Z")
DEFAULT_BACKFILL = 121_000  # attempts of the default 35 days, for scaling calls_per_min


def _serve(cpm: float, urls: Any, stop: Any) -> None:
    with DemoSwitch(seed=1, start_ms=START, clock=lambda: START, calls_per_min=cpm) as sw:
        urls.put(sw.url)
        stop.wait(600)  # bounded even if the parent dies


def _timed(label: str, n: int, fn: Any) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    got = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert got == n or n == 0, (label, got, n)
    print(f"  {label:<44} {got:>9,} attempts {wall:6.2f} s  {got / wall:>9,.0f}/s"
          f"  (cpu {cpu:.2f} s)")


def generation(sim: Simulator) -> int:
    return sum(len(c) for c in sim.iter_chunks(START - HISTORY_MS, START))


def generation_and_render(sim: Simulator) -> int:
    n, after = 0, None
    for _ in range(10_000):
        rows, more = sim.page(START - HISTORY_MS, START, 5000, None, after)
        n += len(rows)
        sim.render_json(rows).encode()
        if not more:
            break
        after = (rows[-1][0], rows[-1][1], rows[-1][2])
    return n


def fetch(url: str, encoding: str, parse: bool, limit: int) -> int:
    n, cursor = 0, None
    with httpx.Client(base_url=url, timeout=60) as c:
        for _ in range(100_000):
            params: dict[str, Any] = {"since": ms_to_iso(START - HISTORY_MS),
                                      "until": ms_to_iso(START), "limit": limit}
            if cursor:
                params["cursor"] = cursor
            r = c.get("/api/v1/attempts", params=params, headers={"Accept-Encoding": encoding})
            r.raise_for_status()
            if parse:
                page = r.json()
                n += len(page["items"])
                cursor = page["next_cursor"]
            else:
                # The cursor is the tail of the body; count records by their first key.
                body = r.content
                n += body.count(b'{"call_id"')
                tail = body[body.rindex(b'"next_cursor":') + 14: -1]
                cursor = None if tail == b"null" else tail.strip(b'"').decode()
            if cursor is None:
                return n
    raise RuntimeError("paging did not end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attempts", type=int, default=1_000_000)
    ap.add_argument("--limit", type=int, default=5000)
    args = ap.parse_args()

    print("generation, default demo volume")
    sim = Simulator(seed=1, start_ms=START, clock=lambda: START)
    n_default = generation(sim)
    _timed("35-day backfill, rows", n_default, lambda: generation(sim))
    _timed("35-day backfill, pages + JSON", n_default, lambda: generation_and_render(sim))

    cpm = DEFAULT_CALLS_PER_MIN * args.attempts / DEFAULT_BACKFILL
    big = Simulator(seed=1, start_ms=START, clock=lambda: START, calls_per_min=cpm)
    print(f"generation, scaled (calls_per_min={cpm:.1f})")
    n_big = generation(big)
    _timed("rows", n_big, lambda: generation(big))
    _timed("pages + JSON", n_big, lambda: generation_and_render(big))

    print(f"serving over loopback, switch in its own process, limit={args.limit}")
    ctx = mp.get_context("spawn")
    urls, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(cpm, urls, stop), daemon=True)
    proc.start()
    try:
        url = urls.get(timeout=60)
        for enc in ("identity", "gzip"):
            _timed(f"{enc}, raw bytes", n_big, lambda e=enc: fetch(url, e, False, args.limit))
            _timed(f"{enc}, json.loads", n_big, lambda e=enc: fetch(url, e, True, args.limit))
    finally:
        stop.set()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()


if __name__ == "__main__":
    main()
