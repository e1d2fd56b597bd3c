"""From a SIP call's end to the carrier list showing it, with `noc-tui poll --follow` at
its default interval (poll.follow_interval): median and p95.

Run by hand (needs what tests/test_kamailio.py needs: kamailio, its modules, sipp):

    .venv/bin/python bench/bench_kamailio_latency.py [--calls 40] [--spacing-ms 1370]

For each accounting path (Kamailio's SQLite accounting, and acc_json through its mqueues)
the test rig (tests/kamailio_rig.py) starts Kamailio with the shipped kamailio.cfg and
two SIPp carriers on 127.0.0.1 (200 after 300 ms of ringing; 486), then
`noc-tui poll --follow` in its own process with the default settings, then a SIPp
caller placing --calls calls one every --spacing-ms (answered ones held 1 s, every other
call busy). A call ends when the caller receives its last final reply (200 to its BYE,
or the 486), as SIPp's message trace (-trace_msg) times it. It is shown when the
carrier list, read as the dashboard reads it (the stored windows, analytics'
carrier_list), is from a refresh made after the call's attempt was stored: a watcher
reads the cache every 50 ms, so each figure is up to 50 ms late.

Baselines in the same run: the same follower polling the demo switch over API v1 (the
switch in its own process; a call ends at its simulated end, when the switch
publishes it), and the floor of the design: a call ending at a random moment waits for
the next poll (uniform over the interval), then for that poll to finish.

Every process is stopped by its PID (the rig's, also on failure); every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The follower and the demo switch run this tree's noc_tui, whatever is installed.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)

from noc_tui.analytics.views import carrier_list  # noqa: E402
from noc_tui.config import load_settings  # noqa: E402
from noc_tui.records.timefmt import parse_duration  # noqa: E402
from noc_tui.store.cache import Cache  # noqa: E402
from tests.kamailio_rig import (  # noqa: E402
    Behaviour,
    CarrierSpec,
    Proc,
    Rig,
    Sipp,
    ensure_installed,
    free_port,
)

WATCH_S = 0.05
HOLD_MS = 1000
SHOW_WAIT_S = 40.0  # after the last call ended, for the last ones to be shown
HOUR_S = 3600


# -- when the list shows a call ------------------------------------------------------------

@dataclass
class Watcher:
    """Reads the cache as the dashboard does, every WATCH_S, and notes when each call
    first is on the carrier list: its attempt stored, and the list (the stored windows)
    refreshed after that. A poll stores its pages, then refreshes: a call that appears
    is shown at the first read whose refresh serial is past the one before it appeared."""

    cache: Path
    config: Path
    since_ms: int
    shown: dict[str, float] = field(default_factory=dict)
    list_attempts: int = 0  # the 1h list's attempts at the last read ...
    table_attempts: int = 0  # ... and the cache's attempts in that list's window
    reads: int = 0
    _waiting: dict[str, int] = field(default_factory=dict)  # call -> serial before it came
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._run, name="watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        settings, _ = load_settings(self.config)
        cache: Cache | None = None
        serial = -1
        try:
            while not self._stop.wait(WATCH_S):
                if cache is None:
                    if not self.cache.exists():
                        continue
                    try:
                        cache = Cache(self.cache, settings.metrics, readonly=True)
                    except Exception:  # not created yet, or being migrated
                        continue
                with cache.snapshot() as conn:
                    meta = conn.execute("SELECT value FROM meta WHERE key = 'metrics_serial'"
                                        ).fetchone()
                    as_of, rows, _ = carrier_list(cache, HOUR_S, int(time.time() * 1000))
                    in_window = conn.execute(
                        "SELECT count(*) FROM attempts WHERE ts >= ? AND ts < ?",
                        (as_of - HOUR_S * 1000, as_of)).fetchone()[0]
                    ids = [r[0] for r in conn.execute(
                        "SELECT DISTINCT call_id FROM attempts WHERE ts >= ?", (self.since_ms,))]
                now = time.time()
                self.reads += 1
                current = int(meta[0]) if meta else -1
                for cid in ids:
                    if cid not in self.shown and cid not in self._waiting:
                        self._waiting[cid] = serial
                for cid, before in list(self._waiting.items()):
                    if current > before:
                        self.shown[cid] = now
                        del self._waiting[cid]
                serial = current
                self.list_attempts = sum(int(r.get("attempts") or 0) for r in rows)
                self.table_attempts = int(in_window)
        finally:
            if cache is not None:
                cache.close()


# -- the follower --------------------------------------------------------------------------

def start_follower(folder: Path, config: Path, cache: Path) -> Proc:
    return Proc("follow", [sys.executable, "-m", "noc_tui", "--config", str(config),
                           "--cache", str(cache), "poll", "--follow"],
                folder, folder / "follow.log")


def wait_first_poll(proc: Proc, cache: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.running():
            raise SystemExit("the follower ended:\n" + proc.output()[-2000:])
        with contextlib.suppress(Exception), Cache(cache, readonly=True) as c:
            if c.conn.execute("SELECT 1 FROM poll_runs WHERE status = 'ok'").fetchone():
                return
        time.sleep(0.1)
    raise SystemExit("the follower's first poll did not end in time:\n" + proc.output()[-2000:])


def poll_durations(cache: Path, since_ms: int) -> list[float]:
    with Cache(cache, readonly=True) as c:
        return [(e - s) / 1000 for s, e in c.conn.execute(
            "SELECT started_at, ended_at FROM poll_runs WHERE status = 'ok' AND started_at >= ?",
            (since_ms,))]


# -- SIPp's message trace --------------------------------------------------------------------

_STAMP = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)", re.M)


def call_ends(trace: Path) -> dict[str, float]:
    """Each call's end as the caller saw it: the last final reply it received (the 200
    to its BYE, or the failure), in epoch seconds."""
    text = trace.read_text(errors="replace")
    stamps = list(_STAMP.finditer(text))
    ends: dict[str, float] = {}
    for i, m in enumerate(stamps):
        body = text[m.end():stamps[i + 1].start() if i + 1 < len(stamps) else len(text)]
        lines = body.strip("\n").splitlines()
        if not lines or "received" not in lines[0]:
            continue
        first = next((ln for ln in lines[1:] if ln.strip()), "")
        status = re.match(r"SIP/2\.0 (\d{3})", first)
        if not status or int(status.group(1)) < 200:
            continue
        cid = next((ln.split(":", 1)[1].strip() for ln in lines
                    if ln.lower().startswith("call-id:")), None)
        if cid is None:
            continue
        # SIPp writes local time.
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        ends[cid] = max(ends.get(cid, 0.0), at)
    return ends


# -- one run ------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    latencies: list[float]
    polls: list[float]
    missing: int
    exit_status: int | None
    note: str = ""


def kamailio_run(accounting: str, calls: int, spacing_ms: int, workdir: Path) -> Result:
    with Rig(workdir / accounting) as rig:
        ring = CarrierSpec("ring200", Behaviour(200, "OK", ring_ms=300))
        busy = CarrierSpec("busy486", Behaviour(486, "Busy Here"))
        rig.start_carrier(ring, "ring200")
        rig.start_carrier(busy, "busy486")
        ds = rig.write_dispatcher_list({10: [(ring, 0, 10)], 11: [(busy, 0, 10)]})
        if accounting == "db":
            rig.create_sqlite_db()
            rig.start_kamailio(ds, fr_timer_ms=2000)
            source = f'db_url = "{rig.acc_db_url}"'
        else:
            rig.start_kamailio(ds, fr_timer_ms=2000, acc_db=False, acc_json=True)
            source = ""
        config = rig.dir / "noc-tui.toml"
        config.write_text(f'[source]\nkind = "kamailio"\n[source.kamailio]\n'
                          f'accounting = "{accounting}"\n{source}\n'
                          f'jsonrpc_url = "{rig.rpc_url}"\n[poll]\nbackfill = "1h"\n')
        cache = rig.dir / "cache.db"
        t0_ms = int(time.time() * 1000)
        follower = start_follower(rig.dir, config, cache)
        rig.procs.append(follower)  # stopped with the rig's, whatever happens
        wait_first_poll(follower, cache)
        watcher = Watcher(cache, config, t0_ms).start()
        plan = [(f"{10 + i % 2}{i:06d}", f"4420{i:06d}", HOLD_MS) for i in range(calls)]
        timeout_s = int(calls * spacing_ms / 1000) + 60
        caller: Sipp = rig.start_caller(plan, rate=1, rate_period_ms=spacing_ms, limit=10,
                                        timeout_s=timeout_s, name="latency", trace_msg=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            caller.proc.popen.wait(timeout_s + 5)
        caller.finish(wait_s=5)
        trace = next(caller.scenario.parent.glob(
            f"{caller.scenario.stem}_{caller.proc.pid}_messages.log"))
        ends = call_ends(trace)
        deadline = time.monotonic() + SHOW_WAIT_S
        while time.monotonic() < deadline and not set(ends) <= set(watcher.shown):
            time.sleep(0.2)
        watcher.stop()
        status = follower.stop(signal.SIGTERM)
        polls = poll_durations(cache, t0_ms)
        lat = [watcher.shown[c] - e for c, e in ends.items() if c in watcher.shown]
        note = (f"{len(ends)} calls ended ({calls} placed); the 1h list at the end: "
                f"{watcher.list_attempts} attempts, the cache {watcher.table_attempts} in "
                f"its window; {watcher.reads} reads")
        name = "SQLite accounting" if accounting == "db" else "acc_json mqueue"
        return Result(f"Kamailio {name}", lat, polls, len(ends) - len(lat), status, note)


_SWITCH = """
import sys, time
from noc_tui.demo_switch import DemoSwitch
sw = DemoSwitch(seed=7, port=int(sys.argv[1]), start_ms=int(sys.argv[2]),
                calls_per_min=float(sys.argv[3])).start()
print(sw.url, flush=True)
time.sleep(float(sys.argv[4]))
"""


def apiv1_run(seconds: float, cpm: float, workdir: Path) -> Result:
    from noc_tui.demo_switch.simulator import SLOT_MS, Simulator

    folder = workdir / "apiv1"
    folder.mkdir(parents=True, exist_ok=True)
    start_ms = int(time.time() * 1000)
    port = free_port(socket.SOCK_STREAM)
    procs: list[Proc] = []
    try:
        switch = Proc("switch", [sys.executable, "-c", _SWITCH, str(port), str(start_ms),
                                 str(cpm), str(seconds + SHOW_WAIT_S + 120)],
                      folder, folder / "switch.log")
        procs.append(switch)
        deadline = time.monotonic() + 30
        while "http://" not in switch.output():
            if time.monotonic() > deadline or not switch.running():
                raise SystemExit("the demo switch did not start:\n" + switch.output())
            time.sleep(0.1)
        config = folder / "noc-tui.toml"
        config.write_text(f'[source]\nurl = "http://127.0.0.1:{port}"\n'
                          '[poll]\nbackfill = "10m"\n')
        cache = folder / "cache.db"
        t0_ms = int(time.time() * 1000)
        follower = start_follower(folder, config, cache)
        procs.append(follower)
        wait_first_poll(follower, cache)
        watcher = Watcher(cache, config, t0_ms - HOUR_S * 1000).start()
        a = time.time()
        time.sleep(seconds)
        b = time.time()
        sim = Simulator(seed=7, start_ms=start_ms, calls_per_min=cpm)
        ends: dict[str, float] = {}
        for slot in range(int(a * 1000 - 600_000) // SLOT_MS, int(b * 1000) // SLOT_MS + 1):
            for r in sim.slot_rows(slot):
                if a * 1000 <= r[10] <= b * 1000:
                    ends[r[1]] = r[10] / 1000
        deadline = time.monotonic() + SHOW_WAIT_S
        while time.monotonic() < deadline and not set(ends) <= set(watcher.shown):
            time.sleep(0.2)
        watcher.stop()
        status = follower.stop(signal.SIGTERM)
        polls = poll_durations(cache, t0_ms)
        lat = [watcher.shown[c] - e for c, e in ends.items() if c in watcher.shown]
        return Result("API v1 (demo switch)", lat, polls, len(ends) - len(lat), status,
                      f"{len(ends)} calls ended in {seconds:.0f} s at {cpm:g} calls/min; "
                      f"the 1h list at the end: {watcher.list_attempts} attempts, the cache "
                      f"{watcher.table_attempts} in its window; {watcher.reads} reads")
    finally:
        for p in reversed(procs):
            p.stop()


# -- report --------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def floor(interval_s: float, polls: list[float]) -> tuple[float, float]:
    """The design's floor: a wait uniform over the interval, then a poll (this run's
    durations), by simulation of every pairing on a grid."""
    waits = [interval_s * (i + 0.5) / 200 for i in range(200)]
    sums = sorted(w + d for w in waits for d in polls)
    return statistics.median(sums), pct(sums, 0.95)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--spacing-ms", type=int, default=1370,
                    help="between call starts; not a divisor of the interval, so calls "
                    "end at every phase of the poll cycle")
    ap.add_argument("--paths", default="db,mqueue,apiv1")
    ap.add_argument("--v1-cpm", type=float, default=40.0)
    args = ap.parse_args()
    reason = ensure_installed()
    if reason is not None and any(p in args.paths for p in ("db", "mqueue")):
        raise SystemExit(reason)
    from noc_tui.config import Settings

    every = Settings().poll.follow_interval
    interval = float(parse_duration(every))
    results: list[Result] = []
    started = datetime.now().astimezone()
    with tempfile.TemporaryDirectory(prefix="noc-latency-") as tmp:
        for path in args.paths.split(","):
            if path in ("db", "mqueue"):
                results.append(kamailio_run(path, args.calls, args.spacing_ms, Path(tmp)))
            elif path == "apiv1":
                results.append(apiv1_run(args.calls * args.spacing_ms / 1000, args.v1_cpm,
                                         Path(tmp)))
            print(f"done: {results[-1].name}", file=sys.stderr, flush=True)
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False).stdout.strip()
    print(f"\n{started:%Y-%m-%d %H:%M %Z}, code at {git or '?'}, {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; poll.follow_interval = {every} (default)\n")
    print("| source | calls shown | call's end → on the list: median | p95 | max | "
          "poll duration median / p95 | floor median / p95 | follower exit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if not r.latencies:
            print(f"| {r.name} | 0 ({r.missing} missing) | | | | | | {r.exit_status} |")
            continue
        fm, fp = floor(interval, r.polls)
        print(f"| {r.name} | {len(r.latencies)}"
              + (f" ({r.missing} missing)" if r.missing else "")
              + f" | {statistics.median(r.latencies):.2f} s | {pct(r.latencies, 0.95):.2f} s"
              f" | {max(r.latencies):.2f} s | {statistics.median(r.polls):.2f} / "
              f"{pct(r.polls, 0.95):.2f} s | {fm:.2f} / {fp:.2f} s | {r.exit_status} |")
    for r in results:
        print(f"\n{r.name}: {r.note}; {len(r.polls)} polls; min latency "
              f"{min(r.latencies, default=float('nan')):.2f} s")


if __name__ == "__main__":
    main()
