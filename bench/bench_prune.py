"""The cache stays bounded: 100 simulated days of hourly polls, pruned after each.

Run by hand (not a test):

    .venv/bin/python bench/bench_prune.py [--days 100] [--per-hour 400] [--carriers 100]

Each simulated hour is one poll's worth of attempts (calls of 1-3 attempts, spread over
the hour, the codes of bench/synth.py), stored by the import engine, then pruned as
`noc-tui poll` and `noc-tui import` prune (store/retention.py, cache.keep_attempts
35d) with the simulated clock; once a simulated day the standard windows are
refreshed, as every poll does. A reader in another process runs the dashboard's reads
(the stored carrier list, a carrier's summaries) back to back the whole time.

Printed per simulated day: attempts cached, the cache file's size (and the WAL's),
its free pages, what the day's prunes deleted, their longest write transaction, and
the longest read of the reader while a prune ran. At the end: the file's size from day
36 on (flat if it stays within a few percent) and the longest reader wait overall.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import multiprocessing.synchronize
import random
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synth import CODES, carriers

from noc_tui.analytics.metrics import refresh_standard_windows, stored_metrics
from noc_tui.analytics.views import summaries
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, iso_to_ms, ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.store.retention import prune

START = iso_to_ms("2026-01-01T00:00:00Z")
KEEP_MS = 35 * DAY_MS


def hour_of_calls(rng: random.Random, hour: int, per_hour: int, ids: list[str],
                  first_call: int) -> tuple[list[bytes], int]:
    """About per_hour attempts starting in [hour, hour + 1 h), as JSON lines."""
    lines: list[bytes] = []
    call = first_call
    while len(lines) < per_hour:
        call += 1
        t = hour + rng.randrange(HOUR_MS - 10_000)
        hops = rng.choice((1, 1, 1, 2, 2, 3))
        dst = f"44{rng.randrange(10**6, 10**6 + 5000)}"
        for seq in range(1, hops + 1):
            code = 200 if seq == hops and rng.random() < 0.6 else rng.choice(CODES)
            if seq < hops and 200 <= code < 300:
                code = 503
            ok = 200 <= code < 300
            lines.append(json.dumps({
                "call_id": f"k{call:010d}", "seq": seq, "carrier_id": rng.choice(ids),
                "started_at": ms_to_iso(t + seq * 1500), "dst": dst, "cli": "15550001",
                "sip_code": code, "sip_reason": "OK" if ok else "Failure",
                "pdd_ms": rng.randrange(800, 6000), "release_reason": None,
                "duration_s": int(rng.expovariate(1 / 120)) if ok else 0,
            }, separators=(",", ":")).encode())
    return lines, call


def reader(path: str, carrier: str, stop: multiprocessing.synchronize.Event,
           out: Connection) -> None:
    """Reads back to back until told to stop, then sends (start, seconds) of each: a
    probe (one row of meta, in a read of its own: its time is almost all waiting) and
    the dashboard's reads (the stored carrier list, a carrier's three summaries)."""
    probes: list[tuple[float, float]] = []
    reads: list[tuple[float, float]] = []
    with Cache(path, readonly=True) as cache:
        for _ in range(10_000_000):  # bounded; ends when told
            if stop.is_set():
                break
            t0 = time.monotonic()
            now = cache_now(cache)
            t1 = time.monotonic()
            stored_metrics(cache, 86400)
            summaries(cache, carrier, now)
            probes.append((t0, t1 - t0))
            reads.append((t1, time.monotonic() - t1))
    out.send((probes, reads))
    out.close()


RAW = ("attempts", "sqlite_autoindex_attempts_1", "attempts_carrier_ts", "attempts_codes",
       "failovers", "sqlite_autoindex_failovers_1", "failovers_out", "failovers_in",
       "sqlite_autoindex_failovers_in_1", "failovers_in_carrier")


def table_sizes(cache: Cache) -> tuple[int, int] | None:
    """(bytes of the raw attempts and their links with their indexes, bytes of the
    rollups), from SQLite's dbstat table when this SQLite has it."""
    try:
        rows = dict(cache.conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    except Exception:
        return None
    return sum(rows.get(n, 0) for n in RAW), rows.get("rollups", 0)


def cache_now(cache: Cache) -> int:
    return int(cache.meta("metrics_now_ms") or START)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--per-hour", type=int, default=400, help="attempts a simulated hour")
    ap.add_argument("--carriers", type=int, default=100)
    ap.add_argument("--dir", help="where the cache goes (default: a temporary folder)")
    args = ap.parse_args()
    folder = Path(args.dir or tempfile.mkdtemp(prefix="bench-prune-"))
    path = folder / "cache.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(7)
    ids = [c["id"] for c in carriers(args.carriers)]
    cache = Cache(path)
    cache.ingest("carriers", carriers(args.carriers))
    refresh_standard_windows(cache, START)

    stop = mp.Event()
    recv, send = mp.Pipe(duplex=False)
    proc = mp.Process(target=reader, args=(str(path), ids[0], stop, send))
    proc.start()
    prunes: list[tuple[int, float, float]] = []  # (day, start, end) of each prune
    sizes: list[tuple[int, int, int]] = []  # (database, raw part, rollups) a day
    call = 0
    t_all = time.perf_counter()
    print("day  attempts  db_MB  raw_MB  rollups_MB  file_MB  wal_MB  free_pages  pruned"
          "  prune_tx  max_tx_ms  max_commit_ms  prune_s")
    try:
        for day in range(args.days):
            pruned = tx = 0
            max_tx = max_commit = prune_s = 0.0
            for h in range(24):
                hour = START + day * DAY_MS + h * HOUR_MS
                lines, call = hour_of_calls(rng, hour, args.per_hour, ids, call)
                cache.ingest_json_lines("attempts", lines, [f"l{i}" for i in range(len(lines))])
                now = hour + HOUR_MS
                t0 = time.monotonic()
                report = prune(cache, now, KEEP_MS)
                t1 = time.monotonic()
                prunes.append((day, t0, t1))
                prune_s += t1 - t0
                pruned += report.attempts
                tx += report.transactions
                max_tx = max(max_tx, report.max_transaction_s)
                max_commit = max(max_commit, report.max_commit_s)
            refresh_standard_windows(cache, START + (day + 1) * DAY_MS)
            n = cache.conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
            free = cache.conn.execute("PRAGMA freelist_count").fetchone()[0]
            # The database's size (what the file is once the WAL is checkpointed), and
            # the files as they are on disk now.
            pages = cache.conn.execute("PRAGMA page_count").fetchone()[0]
            size = pages * cache.conn.execute("PRAGMA page_size").fetchone()[0]
            file = path.stat().st_size
            wal = Path(f"{path}-wal").stat().st_size if Path(f"{path}-wal").exists() else 0
            parts = table_sizes(cache) or (0, 0)
            sizes.append((size, *parts))
            print(f"{day + 1:3d} {n:9,d} {size / 2**20:6.1f} {parts[0] / 2**20:7.1f} "
                  f"{parts[1] / 2**20:11.1f} {file / 2**20:8.1f} {wal / 2**20:7.1f} {free:11,d} "
                  f"{pruned:7,d} {tx:9,d} {max_tx * 1000:10.1f} {max_commit * 1000:14.1f} "
                  f"{prune_s:8.2f}", flush=True)
    finally:
        stop.set()
        probes, reads = recv.recv()
        proc.join(30)
        cache.close()
    total_s = time.perf_counter() - t_all

    def split(spans: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
        """Reads that overlapped a prune, however briefly, and the others: a reader a
        prune held up would show as a longer tail in the first."""
        during: list[float] = []
        apart: list[float] = []
        k = 0
        for start, took in spans:
            while k < len(prunes) and prunes[k][2] < start:
                k += 1
            hit = k < len(prunes) and prunes[k][1] <= start + took
            (during if hit else apart).append(took)
        return during, apart

    def dist(xs: list[float]) -> str:
        xs = sorted(xs)
        if not xs:
            return "none"
        return (f"{len(xs):,} reads, median {xs[len(xs) // 2] * 1000:.1f} ms, p99 "
                f"{xs[int(len(xs) * 0.99)] * 1000:.1f} ms, longest {xs[-1] * 1000:.1f} ms")

    def mb(x: int) -> str:
        return f"{x / 2**20:.1f} MB"

    kept = sizes[35:] if len(sizes) > 35 else sizes
    first, last = kept[0], kept[-1]
    days = max(1, len(kept) - 1)
    print(f"\n{args.days} days x 24 polls of {args.per_hour} attempts, {args.carriers} "
          f"carriers, {total_s:.0f} s in all")
    print(f"database, day {len(sizes) - len(kept) + 1} to {len(sizes)}: {mb(first[0])} to "
          f"{mb(last[0])} ({100 * (last[0] / first[0] - 1):+.1f}%)")
    if first[1]:
        print(f"  raw attempts and links with their indexes: {mb(first[1])} to {mb(last[1])} "
              f"({100 * (last[1] / first[1] - 1):+.1f}%)")
        print(f"  hourly rollups (kept 13 months): {mb(first[2])} to {mb(last[2])}, "
              f"{(last[2] - first[2]) / days / 1024:.0f} KiB a day")
    for name, spans in (("probe", probes), ("dashboard read", reads)):
        during, apart = split(spans)
        print(f"reader, {name}, overlapping a prune: {dist(during)}")
        print(f"reader, {name}, the others:          {dist(apart)}")
    print(f"cache: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
