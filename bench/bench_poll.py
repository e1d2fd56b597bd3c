"""End-to-end poll throughput: demo switch (its own process) -> HTTP -> poller -> cache.

Run by hand:  .venv/bin/python bench/bench_poll.py [--attempts 1000000]
              .venv/bin/python bench/bench_poll.py --carriers 50000 [--name-chars 0]
              .venv/bin/python bench/bench_poll.py --trunk-groups 50000 [--name-chars 0]

Three processes: the demo switch (started and stopped by PID), the poller (a child of
this script, so resource.getrusage's maxrss is the poller's own peak and nothing else),
and this script, which then measures the raw-insert baseline on the same rows: a plain
sqlite3 executemany into a bare table. Prints a markdown table.

With --carriers N, a loopback server in this process lists N carriers instead (pages of
--page-limit, names of about --name-chars characters, no attempts): the poller's peak
with many carriers, which the stored windows' refresh and the alarms read at its end.

With --trunk-groups N, the loopback server lists N trunk groups instead, each with a
DID and a registration, and a delivery of two attempts for every tenth group, all in
the poll's last hour: the poller's peak with many trunk groups (the inbound listings,
the stored trunk-group lists' refresh and the trunk groups' alarms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from noc_tui.records.timefmt import iso_to_ms, ms_to_iso  # noqa: E402

# Fixed instant so runs are comparable: 35 days of history end here.
START_MS = 1_790_000_000_000
DAY_MS = 86_400_000
# Demo traffic at the default 2.2 calls/min gives ~122k attempts in 35 days.
ATTEMPTS_PER_CPM_35D = 122_280 / 2.2


def _switch_main(port_file: str, calls_per_min: float) -> None:
    from noc_tui.demo_switch import DemoSwitch

    sw = DemoSwitch(seed=7, start_ms=START_MS, clock=lambda: START_MS,
                    calls_per_min=calls_per_min).start()
    # A switch serves stored CDRs: store the history before the poll is timed.
    sw.materialise()
    Path(port_file).write_text(sw.url)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    sw.stop()


def _poller_main(url: str, cache: str, page_limit: int, prefetch: bool,
                 since_ms: int = START_MS - 35 * DAY_MS, until_ms: int = START_MS) -> None:
    from noc_tui.config import Settings
    from noc_tui.sync.poller import Poller, PollProgress

    settings = Settings(source={"url": url, "page_limit": page_limit})
    poller = Poller(settings, cache, prefetch=prefetch)
    marks: dict[str, float] = {}

    def on_progress(p: PollProgress) -> None:
        # Peak so far when each phase starts: shows which phase sets the peak.
        if p.phase not in marks:
            marks[p.phase] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if p.phase == "metrics":
            marks["attempts_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = poller.poll_once(since_ms=since_ms, until_ms=until_ms, on_progress=on_progress)
    elapsed = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"status": result.status, "error": result.error,
                      "attempts": result.attempts, "pages": result.pages,
                      "seconds": elapsed, "maxrss_mb": rss_kb / 1024, "marks": marks}))


# The items of a listing's page: (kind, query) -> (items, next cursor).
Listing = Callable[[str, dict[str, str]], tuple[list[dict[str, Any]], str | None]]


def _carriers(n: int, name_chars: int, per_page: int) -> Listing:
    """n carriers by cursor, every other listing empty."""
    def items(kind: str, q: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
        if kind != "carriers":
            return [], None
        start = int(q.get("cursor", "0"))
        end = min(n, start + per_page)
        return ([{"id": f"C{i:06d}", "name": f"carrier {i} " + "n" * name_chars}
                 for i in range(start, end)], str(end) if end < n else None)

    return items


def _trunk_groups(n: int, name_chars: int, per_page: int) -> Listing:
    """n trunk groups (names about name_chars long), a DID and a registration (trunk1,
    in [since, until)) each, and a delivery of two attempts (primary 503, then trunk2
    answers) for every tenth group, started in [since, until); every other listing
    empty."""
    def record(kind: str, i: int, lo: int, hi: int) -> dict[str, Any]:
        gid = f"G{i:06d}"
        at = hi - 60_000 - i * 37 % max(1, (hi - lo) // 2)  # the 1h window ends later
        if kind == "trunk_groups":
            return {"id": gid, "name": f"group {i} " + "n" * name_chars,
                    "policy": "registered_then_trunk2"}
        if kind == "dids":
            return {"did": f"4420{i:08d}", "trunk_group_id": gid}
        if kind == "registrations":
            return {"trunk_group_id": gid, "edge": "trunk1", "at": ms_to_iso(at),
                    "event": "registered", "expires_s": 86_400}
        g, seq = divmod(i, 2)  # deliveries: two attempts each, of group 10 * g
        ok = seq == 1
        return {"delivery_id": f"D{g:06d}", "seq": seq + 1, "trunk_group_id": f"G{10 * g:06d}",
                "did": f"4420{10 * g:08d}", "started_at": ms_to_iso(at + seq * 1000),
                "target_kind": "trunk2" if ok else "primary_pbx", "sent": True,
                "sip_code": 200 if ok else 503, "duration_s": 60 if ok else 0,
                "cancelled": False}

    def items(kind: str, q: dict[str, str]) -> tuple[list[dict[str, Any]], str | None]:
        if kind not in ("trunk_groups", "dids", "registrations", "deliveries"):
            return [], None
        total = n if kind != "deliveries" else 2 * (n // 10)
        lo = iso_to_ms(q["since"]) if "since" in q else 0
        hi = iso_to_ms(q["until"]) if "until" in q else 0
        start = int(q.get("cursor", "0"))
        end = min(total, start + per_page)
        return ([record(kind, i, lo, hi) for i in range(start, end)],
                str(end) if end < total else None)

    return items


@contextmanager
def _loopback_switch(listing: Listing) -> Iterator[str]:
    """A loopback switch serving the pages of `listing`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            items, cursor = listing(url.path.rstrip("/").rsplit("/", 1)[-1], q)
            body = json.dumps({"items": items, "next_cursor": cursor}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _names(args: argparse.Namespace) -> str:
    return f"names {args.name_chars:,} characters longer" if args.name_chars else "short names"


def _carriers_main(args: argparse.Namespace) -> None:
    _loopback_main(args, f"{args.carriers:,} carriers ({_names(args)})",
                   _carriers(args.carriers, args.name_chars, args.page_limit))


def _trunk_groups_main(args: argparse.Namespace) -> None:
    n = args.trunk_groups
    until = int(time.time() * 1000) // 1000 * 1000
    _loopback_main(args, f"{n:,} trunk groups ({_names(args)}; {n:,} DIDs, {n:,} "
                   f"registrations, {n // 10:,} deliveries)",
                   _trunk_groups(n, args.name_chars, args.page_limit),
                   (until - 3_600_000, until), "inbound_window_metrics")


def _loopback_main(args: argparse.Namespace, what: str, listing: Listing,
                   window: tuple[int, int] | None = None, stored: str | None = None) -> None:
    """Poll a loopback switch serving `listing` (over `window`, when given) in a child
    and print its time and peak (and the rows of each window of the stored list
    `stored`)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    cache = tmp / "cache.db"
    window_args = [] if window is None else [str(window[0]), str(window[1])]
    with _loopback_switch(listing) as url:
        out = subprocess.run(
            [sys.executable, __file__, "--_poller", url, str(cache), str(args.page_limit),
             "0" if args.no_prefetch else "1", *window_args],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        )
    if out.returncode != 0:
        raise SystemExit(f"poller failed:\n{out.stderr}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["status"] != "ok":
        raise SystemExit(f"poll failed: {res['error']}")
    marks = res["marks"]
    # "attempts_s": when the metrics phase began (after the inbound listings too).
    print(f"{what}, pages of {args.page_limit:,}: poll {res['seconds']:.2f} s (metrics "
          f"refresh and alarms {res['seconds'] - marks.get('attempts_s', 0):.2f} s)")
    if stored is not None:
        with sqlite3.connect(cache) as conn:
            counts = conn.execute(f"SELECT window_s, count(*) FROM {stored} GROUP BY 1 "
                                  "ORDER BY 1").fetchall()
        print("stored rows per window: " + ", ".join(f"{w} s {c:,}" for w, c in counts))
    print("peak RSS (MB) when each phase began: "
          + ", ".join(f"{k} {v:.0f}" for k, v in marks.items() if k != "attempts_s"))
    print(f"poller peak {res['maxrss_mb']:.0f} MB: target < 150 MB "
          f"({'met' if res['maxrss_mb'] < 150 else 'MISSED'})")
    if not args.keep:
        for p in sorted(tmp.iterdir()):
            p.unlink()
        tmp.rmdir()


def _start_switch(calls_per_min: float, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tmp / "switch.url"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--_switch", str(port_file), str(calls_per_min)],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("demo switch did not start")
        time.sleep(0.05)
    return proc, port_file.read_text()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def _raw_baseline(cache: Path, tmp: Path) -> tuple[int, float]:
    """executemany of the cached attempt rows into a bare table; only the inserts timed."""
    src = sqlite3.connect(cache)
    dst = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    dst.execute("PRAGMA journal_mode = WAL")
    dst.execute("PRAGMA synchronous = NORMAL")
    dst.execute(
        "CREATE TABLE attempts (call_id TEXT, seq INTEGER, carrier_id TEXT, ts INTEGER, "
        "dst TEXT, cli TEXT, sip_code INTEGER, sip_reason TEXT, pdd_ms INTEGER, "
        "duration_s INTEGER, release_reason TEXT)"
    )
    cur = src.execute(
        "SELECT call_id, seq, carrier_id, ts, dst, cli, sip_code, sip_reason, pdd_ms, "
        "duration_s, release_reason FROM attempts"
    )
    n, spent = 0, 0.0
    while rows := cur.fetchmany(5000):
        t0 = time.perf_counter()
        dst.execute("BEGIN")
        dst.executemany(f"INSERT INTO attempts VALUES ({','.join('?' * 11)})", rows)
        dst.execute("COMMIT")
        spent += time.perf_counter() - t0
        n += len(rows)
    return n, spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--attempts", type=int, default=1_000_000, help="target size")
    ap.add_argument("--page-limit", type=int, default=5000)
    ap.add_argument("--no-prefetch", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    ap.add_argument("--carriers", type=int, help="list this many carriers instead")
    ap.add_argument("--name-chars", type=int, default=0, help="with --carriers or --trunk-groups")
    ap.add_argument("--trunk-groups", type=int, help="list this many trunk groups instead")
    ap.add_argument("--_switch", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--_poller", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._switch:
        _switch_main(args._switch[0], float(args._switch[1]))
        return
    if args._poller:
        url, cache, limit, prefetch, *window = args._poller
        _poller_main(url, cache, int(limit), prefetch == "1", *map(int, window))
        return
    if args.carriers:
        _carriers_main(args)
        return
    if args.trunk_groups:
        _trunk_groups_main(args)
        return

    cpm = args.attempts / ATTEMPTS_PER_CPM_35D
    tmp = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    switch, url = _start_switch(cpm, tmp)
    try:
        cache = tmp / "cache.db"
        out = subprocess.run(
            [sys.executable, __file__, "--_poller", url, str(cache), str(args.page_limit),
             "0" if args.no_prefetch else "1"],
            cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"poller failed:\n{out.stderr}")
        res = json.loads(out.stdout.strip().splitlines()[-1])
        if res["status"] != "ok":
            raise SystemExit(f"poll failed: {res['error']}")
    finally:
        _stop(switch)
    n_raw, raw_s = _raw_baseline(cache, tmp)
    poll_rate = res["attempts"] / res["seconds"]
    raw_rate = n_raw / raw_s
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"page limit {args.page_limit}, prefetch {'off' if args.no_prefetch else 'on'}, "
          f"{res['pages']} pages\n")
    print("| measure | attempts | seconds | attempts/s | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| poll, HTTP -> cache (end to end) | {res['attempts']:,} | {res['seconds']:.2f} "
          f"| {poll_rate:,.0f} | {res['maxrss_mb']:.0f} |")
    print(f"| raw sqlite3 executemany, bare table | {n_raw:,} | {raw_s:.2f} "
          f"| {raw_rate:,.0f} | |")
    marks = res["marks"]
    print("\npeak RSS (MB) when each phase began: "
          + ", ".join(f"{k} {v:.0f}" for k, v in marks.items() if k != "attempts_s"))
    print(f"attempts phase {marks.get('attempts_s', 0):.2f} s, metrics refresh "
          f"{res['seconds'] - marks.get('attempts_s', 0):.2f} s")
    print(f"\npoll / raw = {poll_rate / raw_rate:.2f}; targets: >= 100,000 attempts/s "
          f"({'met' if poll_rate >= 100_000 else 'MISSED'}), peak < 150 MB "
          f"({'met' if res['maxrss_mb'] < 150 else 'MISSED'})")
    if not args.keep:
        for p in sorted(tmp.iterdir()):
            p.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    main()
