"""Search anywhere (issue 16): how long the first results take over a large cache.

Run by hand (not a test), on a cache at the current schema (open it once with noc-tui,
or `python -c "from noc_tui.store.cache import Cache; Cache('PATH').close()"`, which
builds migration 12's indexes):

    .venv/bin/python bench/bench_search.py --cache bench/out/d7-search.db [--samples 50]

Targets are cached attempts picked at random (seeded): the full number, the CLI and the
Call-ID of each are searched with analytics.search.find_calls on a read-only
connection, as the search screen's worker does, each on a connection of its own opened
just before (the screen opens one per search). Also a typed prefix of a number (the
number's first 6 digits: bounded by PREFIX_SCAN). The query plans are printed and
checked: each field is an index seek, not a scan. --baseline also times one search by
number with its index not used (a scan of the attempts table, what there was before).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from noc_tui.analytics.search import find_calls
from noc_tui.store.cache import Cache


def ms(samples: list[float]) -> str:
    s = sorted(samples)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return (f"median {statistics.median(s) * 1000:7.2f} ms  p95 {p95 * 1000:7.2f} ms  "
            f"max {s[-1] * 1000:7.2f} ms  (n={len(s)})")


def plans(cache: Cache) -> list[str]:
    out = []
    for column in ("dst", "cli", "call_id"):
        order = "ORDER BY ts DESC" if column != "call_id" else ""
        rows = cache.conn.execute(
            f"EXPLAIN QUERY PLAN SELECT call_id, ts FROM attempts WHERE {column} = ? "
            f"{order} LIMIT 10", ("x",)).fetchall()
        detail = "; ".join(r[-1] for r in rows)
        out.append(f"{column}: {detail}")
        if "SCAN" in detail or "USING" not in detail:
            raise SystemExit(f"search by {column} is not an index seek: {detail}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--baseline", action="store_true",
                    help="also one search by number with no index (a full scan)")
    args = ap.parse_args()
    with Cache(args.cache, readonly=True) as cache:
        total = cache.conn.execute("SELECT max(rowid) FROM attempts").fetchone()[0] or 0
        if not total:
            raise SystemExit("no attempts in this cache")
        print(f"{args.cache}: about {total:,} attempts")
        for line in plans(cache):
            print("  plan", line)
        rng = random.Random(args.seed)
        targets = []
        while len(targets) < args.samples:
            row = cache.conn.execute("SELECT dst, cli, call_id FROM attempts WHERE rowid = ?",
                                     (rng.randrange(1, total + 1),)).fetchone()
            if row:
                targets.append(row)
    times: dict[str, list[float]] = {"number": [], "CLI": [], "Call-ID": [],
                                     "number prefix (6 digits)": []}
    found: dict[str, list[int]] = {k: [] for k in times}
    for dst, cli, call_id in targets:
        for label, query in (("number", dst), ("CLI", cli), ("Call-ID", call_id),
                             ("number prefix (6 digits)", dst[:6])):
            if not query:
                continue
            t = time.perf_counter()
            with Cache(args.cache, readonly=True) as cache:
                result = find_calls(cache.conn, query)
            times[label].append(time.perf_counter() - t)
            found[label].append(len(result.matches))
            if label != "number prefix (6 digits)" and not result.matches:
                raise SystemExit(f"{label} {query!r} is cached but was not found")
    for label, samples in times.items():
        if samples:
            print(f"{label:>26}: {ms(samples)}; matches a search median "
                  f"{statistics.median(found[label]):.0f}")
        else:
            print(f"{label:>26}: no sample has one")
    if args.baseline:
        dst = targets[0][0]
        with Cache(args.cache, readonly=True) as cache:
            t = time.perf_counter()
            n = cache.conn.execute("SELECT count(*) FROM attempts NOT INDEXED WHERE dst = ?",
                                   (dst,)).fetchone()[0]
            print(f"{'baseline: number, scan':>26}: {(time.perf_counter() - t) * 1000:.0f} ms "
                  f"({n} attempts)")


if __name__ == "__main__":
    main()
