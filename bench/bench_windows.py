"""Other windows (not the stored 1h/24h/7d): the carrier list computed live.

Run by hand (not a test), on a cache a bench_ingest run left (its --dir) or any other:

    .venv/bin/python bench/bench_windows.py --cache PATH [--repeat 3]

Opens the cache read-only, so it must be at the current schema (open it once with
noc-tui first). For each window it times the whole carrier list (metrics.carrier_metrics)
and, side by side on the same cache, its code consistency two ways: the engine's scan
(one range of the attempts_codes index, one sort, numbers classified in Python) and the
baseline, the single SQL statement the engine used before (per-carrier ranges of the
(carrier_id, ts) index with a table lookup for each number, then three sorts). Both must
give the same figures; the script says so or stops.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from noc_tui.analytics import metrics
from noc_tui.store.cache import Cache

HOUR_MS = 3_600_000

# The previous engine's statement (session 4), kept here as the baseline.
BASELINE_SQL = """
WITH cd AS (
    SELECT carrier_id, dst, max(sip_code BETWEEN 200 AND 299) AS ok, max(sip_code = 404) AS nf
    FROM attempts
    WHERE carrier_id IN (SELECT id FROM attempt_carriers) AND ts >= ? AND ts < ?
        AND (sip_code BETWEEN 200 AND 299 OR sip_code = 404)
    GROUP BY carrier_id, dst),
d AS (SELECT dst, sum(ok) AS n_ok, sum(nf) AS n_nf FROM cd GROUP BY dst),
v AS (
    SELECT cd.carrier_id, cd.dst, cd.ok, cd.nf,
        (d.n_ok - cd.ok > 0 AND d.n_nf - cd.nf = 0) AS exist,
        (d.n_nf - cd.nf > 0 AND d.n_ok - cd.ok = 0) AS missing
    FROM cd JOIN d ON d.dst = cd.dst)
SELECT carrier_id,
    sum((ok AND nf) OR exist OR missing),
    sum((ok AND nf) OR (ok AND missing) OR (nf AND exist)),
    sum(ok AND missing)
FROM v GROUP BY carrier_id
"""


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """(median seconds, last result) of fn over repeat runs."""
    samples, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True, type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with Cache(args.cache, readonly=True) as cache:
        n, last = cache.conn.execute("SELECT count(*), max(ts) FROM attempts").fetchone()
        end = last + 1
        print(f"# other windows, {n:,} attempts cached, median of {args.repeat}\n")
        print("| window | ends | attempts in window | carrier list s | consistency s "
              "| baseline consistency s | baseline / engine |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for label, window_s, now in (
            ("6h", 6 * 3600, end - 3 * HOUR_MS),
            ("24h", 86400, end - 48 * HOUR_MS),
            ("3d", 3 * 86400, end - 24 * HOUR_MS),
            ("7d", 7 * 86400, end),
        ):
            start = now - window_s * 1000
            in_window = cache.conn.execute(
                "SELECT count(*) FROM attempts WHERE carrier_id IN "
                "(SELECT id FROM attempt_carriers) AND ts >= ? AND ts < ?",
                (start, now)).fetchone()[0]
            t_list, _ = timed(lambda w=window_s, now=now: metrics.carrier_metrics(
                cache, now, w), args.repeat)
            t_new, new = timed(lambda s=start, e=now: metrics._consistency(cache, s, e),
                               args.repeat)
            # The baseline also lists carriers with nothing comparable, as (0, 0, 0).
            t_old, old = timed(lambda s=start, e=now: {
                r[0]: (r[1], r[2], r[3])
                for r in cache.conn.execute(BASELINE_SQL, (s, e)) if r[1]}, args.repeat)
            if new != old:
                raise SystemExit(f"{label}: the engine and the baseline disagree")
            ago = (end - now) / HOUR_MS
            print(f"| {label} | {'now' if not ago else f'{ago:.0f} h ago'} | {in_window:,} "
                  f"| {t_list:.2f} | {t_new:.2f} | {t_old:.2f} | {t_old / t_new:.1f}x |",
                  flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {rss:.0f} MB (both ways in one process)")


if __name__ == "__main__":
    main()
