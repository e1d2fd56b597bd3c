"""Foundation benchmark: ingest rate, carrier-list and summary latency, import memory.

Run by hand (not a test):  .venv/bin/python bench/bench_ingest.py --sizes 1e5 1e6 [1e7]

For each size the same attempts JSONL is (1) parsed and inserted with a plain sqlite3
executemany into a bare table (the baseline) and (2) imported by `noc-tui import` in a
child process whose peak RSS is read from getrusage. The cache then grows to the next
size, so the latency figures show the curve as the cache grows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synth import NOW, attempts, carriers, rates, write_jsonl

from noc_tui.analytics import metrics
from noc_tui.analytics.periods import PERIODS
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.store.cache import Cache

N_CARRIERS = 2000


def baseline(jsonl: Path, db: Path) -> tuple[float, float]:
    """(rows/s of parse + executemany, rows/s of executemany alone) into a bare table."""
    t0 = time.perf_counter()
    rows = []
    with jsonl.open("rb") as fh:
        for line in fh:
            r = json.loads(line)
            rows.append(tuple(r.values()))
    t1 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute(
        "CREATE TABLE a (call_id, seq, carrier_id, started_at, dst, cli, sip_code, "
        "sip_reason, pdd_ms, duration_s, release_reason)"
    )
    t2 = time.perf_counter()
    con.executemany("INSERT INTO a VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    t3 = time.perf_counter()
    con.close()
    n = len(rows)
    return n / ((t1 - t0) + (t3 - t2)), n / (t3 - t2)


def timed(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(median ms, p95 ms) of fn over repeat runs."""
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["1e5", "1e6"])
    ap.add_argument("--dir", default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()
    sizes = [int(float(s)) for s in args.sizes]
    work = Path(args.dir or tempfile.mkdtemp(prefix="noc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cache_db = work / "cache.db"
    with Cache(cache_db) as cache:
        cache.ingest("carriers", carriers(N_CARRIERS))
        cache.ingest("rates", rates(N_CARRIERS))
    print(f"# ingest and read benchmark ({os.cpu_count()} cores), work dir {work}\n")
    print("| cached attempts | batch | baseline parse+executemany /s | baseline executemany /s "
          "| noc-tui import /s | import / parse+exec | import / exec | import peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    reads = []
    have = 0
    for size in sizes:
        add = size - have
        jsonl = work / f"attempts-{size}.jsonl"
        # Each step adds new calls (a different seed and call-id range).
        recs = ({**r, "call_id": f"s{size}-{r['call_id']}"}
                for r in attempts(add, N_CARRIERS, seed=size))
        write_jsonl(jsonl, recs)
        base_db = work / f"baseline-{size}.db"
        both, execonly = baseline(jsonl, base_db)
        base_db.unlink()
        for suffix in ("-wal", "-shm"):
            Path(str(base_db) + suffix).unlink(missing_ok=True)
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c",
             # VmHWM, not getrusage: Linux folds the forking parent's peak into the
             # child's ru_maxrss at exec, and this parent holds the baseline's rows.
             "import re, sys; from noc_tui.cli import main; rc = main(sys.argv[1:]); "
             "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()); "
             "print(hwm.group(1), file=sys.stderr); sys.exit(rc)",
             "--cache", str(cache_db), "import", str(jsonl), "--now", ms_to_iso(NOW)],
            capture_output=True, text=True, check=True,
        )
        elapsed = time.perf_counter() - t
        rss_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
        rate = add / elapsed
        jsonl.unlink()
        have = size
        print(f"| {size:,} | +{add:,} | {both:,.0f} | {execonly:,.0f} | {rate:,.0f} | "
              f"{rate / both:.2f}x | {rate / execonly:.2f}x | {rss_mb:.0f} |", flush=True)
        with Cache(cache_db, readonly=True) as cache:
            row = {"size": size}
            for w in metrics.STANDARD_WINDOWS:
                row[f"list {w}s"] = timed(lambda w=w: metrics.stored_metrics(cache, w), 20)
            cid = "C0001"
            for p in PERIODS:
                row[f"summary {p}"] = timed(
                    lambda p=p, cid=cid: metrics.summary(cache, cid, p, NOW), 20)
            for label, w, now in (("other 6h", 6 * 3600, NOW - 3 * 3600 * 1000),
                                  ("other 24h --now", 86400, NOW - 86400 * 1000 * 2),
                                  ("other 7d", 7 * 86400, NOW)):
                row[label] = timed(
                    lambda w=w, now=now: metrics.carrier_metrics(cache, now, w), 3)
            reads.append(row)
    print("\n| cached attempts | " + " | ".join(k for k in reads[0] if k != "size") + " |")
    print("|---:|" + "---:|" * (len(reads[0]) - 1))
    for row in reads:
        cells = [f"{v[0]:.1f} (p95 {v[1]:.1f})" for k, v in row.items() if k != "size"]
        print(f"| {row['size']:,} | " + " | ".join(cells) + " |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbench process peak RSS {rss:.0f} MB; times in ms")


if __name__ == "__main__":
    main()
