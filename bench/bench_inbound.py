"""Inbound benchmark (issue 15, "Tests and figures"): delivery ingest beside attempt
ingest in the same run, the trunk-group list over 2,000 groups, a trunk group's reads.

Run by hand (not a test):  .venv/bin/python bench/bench_inbound.py --deliveries 1e6

1. Synthetic inbound data: 2,000 trunk groups of the three policies, 10 DIDs each,
   registration events, and N deliveries of 1-4 attempts over the 7 days before NOW.
2. `noc-tui import` of the deliveries file into a cache holding the configuration, and of
   an attempts file with as many records into a fresh cache, each in a child process
   (wall time; peak RSS from /proc's VmHWM).
3. Reads on the inbound cache: the stored trunk-group list of each standard window (the
   dashboard's read), the list computed live, the findings export, and one trunk
   group's screen (its DIDs, its newest 500 deliveries, its findings), median and p95.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synth import NOW, attempts, write_jsonl

from noc_tui.analytics import inbound
from noc_tui.analytics.metrics import STANDARD_WINDOWS
from noc_tui.records.timefmt import DAY_MS, ms_to_iso
from noc_tui.store.cache import Cache

N_GROUPS = 2000
DIDS_PER_GROUP = 10
POLICIES = ("registered_then_trunk2", "backup_then_number", "dial_plan_on_triggers")


def groups() -> list[dict]:
    out = []
    for i in range(N_GROUPS):
        policy = POLICIES[i % 3]
        g = {"id": f"TG{i:04d}", "name": f"Customer {i}", "customer": f"cust-{i}",
             "policy": policy}
        if policy == "backup_then_number":
            g["backup_pbx"] = f"pbx{i}.backup.example"
            if i % 2:
                g["global_failover_number"] = f"4420{i:06d}"
        if policy == "dial_plan_on_triggers":
            g["dial_plan"] = "ivr-main"
        out.append(g)
    return out


def dids() -> Iterator[dict]:
    for i in range(N_GROUPS):
        for j in range(DIDS_PER_GROUP):
            d = {"did": f"44{i:04d}{j:03d}", "trunk_group_id": f"TG{i:04d}"}
            if j % 3 == 0:
                d["failover_number"] = f"447700{i:04d}{j}"
            yield d


def registrations(days: int = 7) -> Iterator[dict]:
    rng = random.Random(3)
    start = NOW - days * DAY_MS
    for i in range(N_GROUPS):
        for edge in ("trunk1", "trunk2"):
            t = start + rng.randrange(3_600_000)
            while t < NOW:
                event = "expired" if rng.random() < 0.02 else "refreshed"
                yield {"trunk_group_id": f"TG{i:04d}", "edge": edge, "at": ms_to_iso(t),
                       "event": event, "expires_s": 3600}
                t += rng.randrange(1_800_000, 3_600_000)


def deliveries(n: int, days: int = 7, seed: int = 5) -> Iterator[dict]:
    """n deliveries over the `days` before NOW, in time order."""
    rng = random.Random(seed)
    start = NOW - days * DAY_MS
    step = days * DAY_MS / n
    for k in range(n):
        i = rng.randrange(N_GROUPS)
        gid, policy = f"TG{i:04d}", POLICIES[i % 3]
        did = f"44{i:04d}{rng.randrange(DIDS_PER_GROUP):03d}"
        t = int(start + k * step)
        chain = {"registered_then_trunk2": ["trunk2"],
                 "backup_then_number": ["backup_pbx", "failover_number"],
                 "dial_plan_on_triggers": ["dial_plan"]}[policy]
        r = rng.random()
        steps: list[tuple[str, bool, int, bool]] = []  # kind, sent, code, cancelled
        if r < 0.70:
            steps = [("primary_pbx", True, 200, False)]
        elif r < 0.75:
            steps = [("primary_pbx", True, 486, True)]
        elif r < 0.80:
            steps = [("primary_pbx", True, 603, False)]
        else:
            first = rng.choice([("primary_pbx", False, 404, False),
                                ("primary_pbx", False, 503, False),
                                ("primary_pbx", True, 408, False),
                                ("primary_pbx", True, 500, False)])
            steps = [first]
            for kind in chain:
                ok = rng.random() < 0.6
                steps.append((kind, True, 200 if ok else 503, False))
                if ok:
                    break
        for seq, (kind, sent, code, cancelled) in enumerate(steps, 1):
            yield {"delivery_id": f"in-{k}", "seq": seq, "trunk_group_id": gid, "did": did,
                   "caller": "447700900123", "started_at": ms_to_iso(t + seq * 1500),
                   "target_kind": kind, "target": None, "edge": "trunk1", "sent": sent,
                   "number_source": None, "first_1xx_ms": 250 if sent else None,
                   "sip_code": code, "sip_reason": None,
                   "duration_s": 62.5 if 200 <= code <= 299 else 0, "cancelled": cancelled}


def import_child(cache: Path, path: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of `noc-tui import` in a child process."""
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c",
         "import re, sys; from noc_tui.cli import main; rc = main(sys.argv[1:]); "
         "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()); "
         "print(hwm.group(1), file=sys.stderr); sys.exit(rc)",
         "--cache", str(cache), "import", str(path), "--now", ms_to_iso(NOW)],
        capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"import failed:\n{proc.stderr}")
    return time.perf_counter() - t, int(proc.stderr.strip().splitlines()[-1]) / 1024


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
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
    ap.add_argument("--deliveries", default="1e5")
    ap.add_argument("--dir", default=None, help="work folder (default: a temp dir)")
    ap.add_argument("--reads-only", action="store_true",
                    help="time the reads on the cache an earlier run left in --dir")
    args = ap.parse_args()
    n = int(float(args.deliveries))
    work = Path(args.dir or tempfile.mkdtemp(prefix="noc-bench-inbound-"))
    work.mkdir(parents=True, exist_ok=True)
    cache_db = work / "inbound.db"
    if not args.reads_only:
        ingest(work, cache_db, n)
    reads(cache_db, n)


def ingest(work: Path, cache_db: Path, n: int) -> None:
    conf = work / "conf"
    conf.mkdir(exist_ok=True)
    write_jsonl(conf / "trunk_groups.jsonl", iter(groups()))
    write_jsonl(conf / "dids.jsonl", dids())
    write_jsonl(conf / "registrations.jsonl", registrations())
    conf_s, _ = import_child(cache_db, conf)
    dl = work / "deliveries.jsonl"
    records = write_jsonl(dl, deliveries(n))
    at = work / "attempts.jsonl"
    write_jsonl(at, ({**a, "call_id": f"b-{a['call_id']}"} for a in attempts(records)))
    print(f"# inbound benchmark ({os.cpu_count()} cores), work dir {work}")
    print(f"configuration (2,000 groups, {N_GROUPS * DIDS_PER_GROUP:,} DIDs, registrations) "
          f"imported in {conf_s:.1f} s\n")
    print("| import | records | wall s | records/s | deliveries/s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    d_s, d_rss = import_child(cache_db, dl)
    print(f"| deliveries.jsonl ({n:,} deliveries) | {records:,} | {d_s:.1f} | "
          f"{records / d_s:,.0f} | {n / d_s:,.0f} | {d_rss:.0f} |", flush=True)
    a_s, a_rss = import_child(work / "attempts.db", at)
    print(f"| attempts.jsonl (same run, fresh cache) | {records:,} | {a_s:.1f} | "
          f"{records / a_s:,.0f} | | {a_rss:.0f} |", flush=True)
    print(f"\ndelivery attempts ingest at {records / d_s / (records / a_s):.2f}x the rate of "
          "carrier attempts\n")
    with Cache(cache_db) as cache:
        t = time.perf_counter()
        inbound.refresh_standard_windows(cache, NOW)
        print(f"refresh of the stored windows (as after an import or poll): "
              f"{time.perf_counter() - t:.2f} s\n")


def reads(cache_db: Path, n: int) -> None:
    with Cache(cache_db, readonly=True) as cache:
        rows: list[tuple[str, tuple[float, float]]] = []
        for w in STANDARD_WINDOWS:
            rows.append((f"trunk-group list, stored {w // 3600}h",
                         timed(lambda w=w: inbound.trunk_group_list(cache, w, NOW), 20)))
        for w in (86_400, 7 * 86_400):
            rows.append((f"trunk-group list, live {w // 3600}h",
                         timed(lambda w=w: inbound.trunk_groups(cache, NOW, w), 5)))
        rows.append(("findings export, 24h",
                     timed(lambda: inbound.findings(cache, NOW, 86_400), 5)))

        def screen(gid: str = "TG0001") -> None:
            inbound.did_figures(cache, gid, NOW, 86_400)
            inbound.delivery_list(cache, gid, NOW, 7 * 86_400, limit=500)
            inbound.findings(cache, NOW, 86_400, gid)

        rows.append(("one trunk group's screen (DIDs 24h, 500 deliveries 7d, findings)",
                     timed(screen, 20)))
        n_groups = len(inbound.trunk_group_list(cache, 86_400, NOW)[1])
    print(f"| read ({n_groups:,} trunk groups, {n:,} deliveries) | median ms | p95 ms |")
    print("|---|---:|---:|")
    for label, (med, p95) in rows:
        print(f"| {label} | {med:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
