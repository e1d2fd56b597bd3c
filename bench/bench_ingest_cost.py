"""Where an attempt's ingest time goes: each SQL statement of the parser and of the
cache, timed one by one, beside the plain executemany baseline of the same rows.

Run by hand (not a test):

    .venv/bin/python bench/bench_ingest_cost.py [--attempts 200000] [--onto CACHE]

For the same synthetic JSONL (bench/synth.py: 2,000 carriers over 35 days):
1. the baseline of bench_ingest.py: json.loads and executemany into a bare table;
2. the import engine with parse and store in one thread, every statement timed (the
   time outside statements is the Python around them: decoding, binding, bookkeeping);
3. the import engine as `noc-tui import` runs it, parse one batch ahead in a thread:
   wall time and CPU time per attempt.
Each engine run goes into a fresh cache, or into a copy of --onto (a bench_ingest
cache, say) to see the cost at that size. The copies are deleted afterwards.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_ingest import N_CARRIERS, baseline
from synth import attempts, carriers, rates, write_jsonl

from noc_tui.records.attempt_parser import AttemptParser
from noc_tui.store.cache import Cache
from noc_tui.sync.importer import _parsed_attempts
from noc_tui.sync.readahead import read_ahead
from noc_tui.sync.record_files import Lines


class TimedConnection:
    """A sqlite3 connection that adds each statement's time to a shared tally."""

    def __init__(self, conn: Any, tally: dict[str, float], side: str) -> None:
        self._conn = conn
        self._tally = tally
        self._side = side

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def _key(self, sql: str, many: bool) -> str:
        # The parser's three buffers are one statement here.
        text = re.sub(r"\bbuf\d\b", "bufN", re.sub(r"\s+", " ", sql)).strip()
        return f"{self._side}: {'executemany ' if many else ''}{text[:70]}"

    def _timed(self, key: str, call: Any, *args: Any) -> Any:
        t = time.perf_counter()
        try:
            return call(*args)
        finally:
            self._tally[key] = self._tally.get(key, 0.0) + time.perf_counter() - t

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(self._key(sql, False), self._conn.execute, sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        return self._timed(self._key(sql, True), self._conn.executemany, sql, *args)


def drop(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def fresh_cache(work: Path, onto: Path | None, name: str) -> Path:
    db = work / name
    drop(db)
    if onto is not None:
        shutil.copy(onto, db)
    with Cache(db) as cache:
        if onto is None:
            cache.ingest("carriers", carriers(N_CARRIERS))
            cache.ingest("rates", rates(N_CARRIERS))
        cache.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def by_statement(jsonl: Path, db: Path) -> tuple[int, dict[str, float], float, float]:
    """(attempts, seconds per statement, parse seconds, store seconds), one thread."""
    tally: dict[str, float] = {}
    parse_s = store_s = 0.0
    n = 0
    with Cache(db) as cache:
        parser = AttemptParser(cache.rates_view())
        batches: Iterator[Any] = _parsed_attempts(parser, Lines(jsonl.open("rb")), str(jsonl))
        # The first batch loads rates and warms caches: left out of the tally.
        cache.ingest_parsed(next(batches))
        parser.conn = TimedConnection(parser.conn, tally, "parse")  # type: ignore[assignment]
        cache.conn = TimedConnection(cache.conn, tally, "store")  # type: ignore[assignment]
        while True:
            t0 = time.perf_counter()
            parsed = next(batches, None)
            t1 = time.perf_counter()
            if parsed is None:
                break
            cache.ingest_parsed(parsed)
            t2 = time.perf_counter()
            parse_s += t1 - t0
            store_s += t2 - t1
            n += parsed.total
        parser.close()
    return n, tally, parse_s, store_s


def pipelined(jsonl: Path, db: Path) -> tuple[float, float]:
    """(wall µs, CPU µs) per attempt, parsing one batch ahead in a thread."""
    with Cache(db) as cache:
        parser = AttemptParser(cache.rates_view())
        n = 0
        t, c = time.perf_counter(), time.process_time()
        for parsed in read_ahead(_parsed_attempts(parser, Lines(jsonl.open("rb")), str(jsonl))):
            cache.ingest_parsed(parsed)
            n += parsed.total
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        parser.close()
    return wall / n * 1e6, cpu / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attempts", type=float, default=2e5)
    ap.add_argument("--onto", type=Path, default=None,
                    help="import into a copy of this cache (default: a fresh one)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--zipf", type=float, default=0.0,
                    help="carriers by rank k with weight 1/k**ZIPF (default: uniform)")
    args = ap.parse_args()
    n = int(args.attempts)
    work = Path(tempfile.mkdtemp(prefix="noc-ingest-cost-"))
    try:
        jsonl = work / "attempts.jsonl"
        # Call ids of their own, so that they are new in an --onto cache too.
        write_jsonl(jsonl, ({**r, "call_id": f"cost-{r['call_id']}"}
                            for r in attempts(n, N_CARRIERS, seed=61, zipf=args.zipf)))
        onto = args.onto.resolve() if args.onto else None
        shape = f"carriers by Zipf s={args.zipf}" if args.zipf else "carriers uniform"
        print(f"# ingest cost, {n:,} attempts ({shape}) into "
              f"{'a copy of ' + str(onto) if onto else 'a fresh cache'}\n")
        print("| run | baseline json.loads + executemany µs/att | baseline executemany "
              "µs/att | engine, one thread µs/att (parse + store) | engine, pipelined "
              "wall µs/att | pipelined CPU µs/att | pipelined / executemany |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        tallies = []
        for run in range(1, args.repeat + 1):
            base_db = work / "baseline.db"
            both, exec_only = baseline(jsonl, base_db)
            drop(base_db)
            db = fresh_cache(work, onto, "seq.db")
            count, tally, parse_s, store_s = by_statement(jsonl, db)
            drop(db)
            db = fresh_cache(work, onto, "pipe.db")
            wall, cpu = pipelined(jsonl, db)
            drop(db)
            tallies.append((count, tally, parse_s, store_s))
            print(f"| {run} | {1e6 / both:.1f} | {1e6 / exec_only:.1f} | "
                  f"{(parse_s + store_s) / count * 1e6:.1f} ({parse_s / count * 1e6:.1f} + "
                  f"{store_s / count * 1e6:.1f}) | {wall:.1f} | {cpu:.1f} | "
                  f"{(1e6 / exec_only) / wall:.2f}x |", flush=True)
        count, tally, parse_s, store_s = tallies[-1]
        print(f"\nLast run, one thread, by statement (µs per attempt; first batch left out; "
              f"{count:,} attempts):\n")
        print("| side | statement | µs/att |")
        print("|---|---|---:|")
        for side, total in (("parse", parse_s), ("store", store_s)):
            rows = sorted(((k, v) for k, v in tally.items() if k.startswith(side + ":")),
                          key=lambda kv: -kv[1])
            for key, secs in rows:
                if secs / count * 1e6 >= 0.05:
                    print(f"| {side} | `{key.split(': ', 1)[1]}` | {secs / count * 1e6:.2f} |")
            outside = total - sum(v for _k, v in rows)
            print(f"| {side} | Python outside statements | {outside / count * 1e6:.2f} |")
            print(f"| {side} | **all** | **{total / count * 1e6:.2f}** |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
