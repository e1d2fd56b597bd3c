"""Polling a Kamailio accounting database beside the API v1 poll of the same attempts.

Run by hand:  .venv/bin/python bench/bench_kamailio.py [--attempts 1000000]

1. The demo switch (its own process) serves ~N attempts; the poller fills cache A over
   HTTP: the v1 figure (bench_poll.py's measure).
2. Cache A's attempts are written as Kamailio would have written them into an SQLite
   accounting database made from integrations/kamailio/schema/sqlite.sql: a failed
   attempt in missed_calls (a call's last failure in acc too), an answered one in acc
   and its call's end in acc_cdrs.
3. The poller fills cache B from that database (source.kind = "kamailio"), and the two
   caches must hold the same attempts (same codes, carriers, durations, PDD).

Each poll runs in a child process, so its peak RSS is its own. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_poll  # noqa: E402 (the demo switch and the v1 poll, as measured there)

SCHEMA = ROOT / "integrations" / "kamailio" / "schema" / "sqlite.sql"
DAY_MS = 86_400_000


def _poller_main(settings_json: str, cache: str, since_ms: int, until_ms: int) -> None:
    from noc_tui.config import Settings
    from noc_tui.sync.poller import Poller

    poller = Poller(Settings(**json.loads(settings_json)), cache)
    t0 = time.perf_counter()
    result = poller.poll_once(since_ms=since_ms, until_ms=until_ms)
    elapsed = time.perf_counter() - t0
    print(json.dumps({"status": result.status, "error": result.error,
                      "attempts": result.attempts, "pages": result.pages, "seconds": elapsed,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _poll(settings: dict, cache: Path, since_ms: int, until_ms: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--_poller", json.dumps(settings), str(cache),
         str(since_ms), str(until_ms)],
        cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False)
    if out.returncode != 0:
        raise SystemExit(f"poller failed:\n{out.stderr}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["status"] != "ok":
        raise SystemExit(f"poll failed: {res['error']}")
    return res


def write_kamailio_db(cache: Path, acc: Path) -> int:
    """Cache A's attempts as Kamailio's acc rows; returns the rows written."""
    db = sqlite3.connect(acc)
    db.executescript(SCHEMA.read_text())
    src = sqlite3.connect(cache)
    cur = src.execute("SELECT call_id, seq, carrier_id, ts, dst, cli, sip_code, sip_reason, "
                      "pdd_ms, duration_s, max(seq) OVER (PARTITION BY call_id) "
                      "FROM attempts ORDER BY call_id, seq")
    cols = "(method, callid, sip_code, sip_reason, time, time_s, carrier, attempt, t_inv, " \
           "t_18x, dst, cli)"
    put = {t: f"INSERT INTO {t} {cols} VALUES ('INVITE', ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)"
           for t in ("acc", "missed_calls")}
    rows = 0
    db.execute("BEGIN")
    while batch := cur.fetchmany(10_000):
        missed, final, cdrs = [], [], []
        for call, seq, carrier, ts, dst, cli, code, reason, pdd, dur, last in batch:
            t_inv = ts / 1000
            t_18x = (ts + pdd) / 1000 if pdd is not None else None
            reply = (t_18x or t_inv) + 0.25
            row = (call, str(code), reason, reply, carrier, seq, t_inv, t_18x, dst, cli)
            if 200 <= code < 300:
                final.append(row)
                cdrs.append((call, dur, reply + dur))
            else:
                missed.append(row)
                if seq == last:  # acc repeats a call's last failure
                    final.append((*row[:3], reply + 0.001, *row[4:]))
        db.executemany(put["missed_calls"], missed)
        db.executemany(put["acc"], final)
        db.executemany("INSERT INTO acc_cdrs (callid, duration, time_s) VALUES (?, ?, ?)",
                       cdrs)
        rows += len(missed) + len(final) + len(cdrs)
    db.execute("COMMIT")
    db.close()
    src.close()
    return rows


def _digest(cache: Path) -> tuple[int, ...]:
    """What both caches must agree on, summed over every attempt."""
    with sqlite3.connect(cache) as c:
        return tuple(c.execute(
            "SELECT count(*), count(DISTINCT call_id), sum(sip_code), sum(seq), "
            "sum(length(carrier_id)), sum(coalesce(pdd_ms, -1)), sum(duration_s), "
            "sum(ts / 1000) FROM attempts").fetchone())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--attempts", type=int, default=1_000_000, help="target size")
    ap.add_argument("--page-limit", type=int, default=5000)
    ap.add_argument("--_poller", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._poller:
        settings_json, cache, since, until = args._poller
        _poller_main(settings_json, cache, int(since), int(until))
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-kamailio-"))
    since, until = bench_poll.START_MS - 35 * DAY_MS, bench_poll.START_MS
    switch, url = bench_poll._start_switch(args.attempts / bench_poll.ATTEMPTS_PER_CPM_35D, tmp)
    try:
        v1 = _poll({"source": {"url": url, "page_limit": args.page_limit}},
                   tmp / "v1.db", since, until)
    finally:
        bench_poll._stop(switch)
    t0 = time.perf_counter()
    rows = write_kamailio_db(tmp / "v1.db", tmp / "acc.db")
    write_s = time.perf_counter() - t0
    # Kamailio's window is over publication time: an answered call is published when it
    # ends, after its INVITE; a day past the last INVITE covers every call's end.
    kam = _poll({"source": {"kind": "kamailio", "page_limit": args.page_limit,
                            "kamailio": {"db_url": f"sqlite:///{tmp / 'acc.db'}"}}},
                tmp / "kamailio.db", since, until + DAY_MS)
    same = _digest(tmp / "v1.db") == _digest(tmp / "kamailio.db")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"page limit {args.page_limit}; Kamailio database: {rows:,} rows written in "
          f"{write_s:.1f} s; both caches hold the same attempts: {same}\n")
    print("| poll | attempts | seconds | attempts/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for name, r in (("API v1 (demo switch, HTTP)", v1),
                    ("Kamailio SQLite acc database", kam)):
        print(f"| {name} | {r['attempts']:,} | {r['seconds']:.2f} | "
              f"{r['attempts'] / r['seconds']:,.0f} | {r['maxrss_mb']:.0f} |")
    for p in sorted(tmp.iterdir()):
        p.unlink()
    tmp.rmdir()
    if not same:
        raise SystemExit("the two caches differ")


if __name__ == "__main__":
    main()
