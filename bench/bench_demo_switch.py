"""Benchmark the demo switch: how fast it serves `GET /api/v1/attempts`.

Run by hand:  .venv/bin/python bench/bench_demo_switch.py [--attempts 1000000]
              [--limits 5000 50000] [--repeat 3] [--compare HEAD]

The switch runs in its own process (started and stopped by PID) with a fixed clock, as
in bench/bench_poll.py, serving a full 35-day history scaled to about --attempts
attempts. One client on loopback reads the whole history page by page, as cheaply as it
can (no json.loads: records are counted and the cursor is cut from the body's tail), so
the figures are the switch's. For each page size and encoding (identity, and gzip as
httpx sends it) it reports:

- wall attempts/s: what the client received, switch and client in series as a poller
  without prefetch would see it;
- switch attempts per CPU second: the switch process's own CPU time (utime + stime of
  all its threads, from /proc), i.e. the rate one core of the switch sustains.

Variants: "lazy" is the switch as `DemoSwitch(...).start()` gives it (the history is
stored hour by hour on first request); "materialised" also calls `materialise()` before
serving (its time is in "ready to serve"). The first pass over the history is reported
on its own ("cold"): it includes whatever the switch does on first use. Then --repeat
passes per combination, the switches alternating; medians are shown.

--compare REF adds the demo switch of a git revision (extracted with `git archive` into
a temp folder and put first on PYTHONPATH), so before and after come from one run on the
same machine state. The content served is checked to be identical across variants (a
hash of every decoded body).

Finally, the start-up impact for `noc-tui --demo`: the default demo volume (~121k
attempts, calls_per_min 2.2), switch construction + start, then the first full pass
(gzip, pages of 5,000), in a fresh process per variant.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_MS = 1_790_000_000_000  # fixed instant (as bench_poll.py): history ends here
HISTORY_MS = 35 * 86_400_000
DEFAULT_CPM = 2.2
DEFAULT_BACKFILL = 121_000  # attempts of the default 35 days, for scaling calls_per_min
CLK_TCK = os.sysconf("SC_CLK_TCK")
# (label, folder holding the noc_tui to run, materialise the history before serving)
Variant = tuple[str, str | None, bool]


def _switch_main(port_file: str, cpm: float, materialise: bool) -> None:
    """Child process: the switch of whatever `noc_tui` is first on sys.path."""
    t0 = time.perf_counter()
    import noc_tui.demo_switch as ds

    sw = ds.DemoSwitch(seed=1, start_ms=START_MS, clock=lambda: START_MS,
                       calls_per_min=cpm).start()
    if materialise:
        sw.materialise()
    ready = time.perf_counter() - t0
    Path(port_file).write_text(f"{sw.url} {ready:.4f} {ds.__file__}")
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    sw.stop()


class Switch:
    """A demo switch process: started, measured (CPU from /proc), stopped by PID."""

    def __init__(self, variant: Variant, cpm: float, tmp: Path) -> None:
        label, pythonpath, materialise = variant
        self.label = label
        port_file = tmp / f"switch-{label}-{time.monotonic_ns()}.url"
        env = dict(os.environ)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--_switch", str(port_file), str(cpm),
             "1" if materialise else "0"], cwd=ROOT, env=env,
        )
        deadline = time.monotonic() + 120
        while not port_file.exists() or not port_file.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"demo switch {label} did not start")
            time.sleep(0.02)
        url, ready, module = port_file.read_text().split(" ", 2)
        self.url, self.ready_s, self.module = url, float(ready), module

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def full_pass(url: str, encoding: str, limit: int) -> tuple[int, str]:
    """Read the whole history; (attempts, hash of the decoded bodies)."""
    n, cursor, digest = 0, None, hashlib.blake2b(digest_size=16)
    params: dict[str, Any] = {"since": _iso(START_MS - HISTORY_MS), "until": _iso(START_MS),
                              "limit": limit}
    with httpx.Client(base_url=url, timeout=120) as c:
        for _ in range(100_000):  # bounded: a paging bug fails instead of looping
            if cursor:
                params["cursor"] = cursor
            r = c.get("/api/v1/attempts", params=params, headers={"Accept-Encoding": encoding})
            r.raise_for_status()
            body = r.content  # httpx decodes gzip, as a poller's client does
            digest.update(body)
            n += body.count(b'{"call_id"')
            tail = body[body.rindex(b'"next_cursor":') + 14: -1]
            cursor = None if tail == b"null" else tail.strip(b'"').decode()
            if cursor is None:
                return n, digest.hexdigest()
    raise RuntimeError("paging did not end")


def _iso(ms: int) -> str:
    from noc_tui.records.timefmt import ms_to_iso

    return ms_to_iso(ms)


def measured_pass(sw: Switch, encoding: str, limit: int) -> tuple[int, float, float, str]:
    """(attempts, wall s, switch CPU s, content hash) of one full pass."""
    cpu0, wall0 = sw.cpu_s(), time.perf_counter()
    n, digest = full_pass(sw.url, encoding, limit)
    return n, time.perf_counter() - wall0, sw.cpu_s() - cpu0, digest


def _baseline_tree(ref: str, tmp: Path) -> Path:
    out = tmp / f"tree-{ref.replace('/', '_')}"
    out.mkdir()
    archive = subprocess.run(["git", "archive", ref, "noc_tui"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def serving(variants: list[Variant], cpm: float, limits: list[int], repeat: int,
            tmp: Path) -> None:
    print(f"\nserving the full history, calls_per_min={cpm:.1f}, fixed clock, "
          f"switch in its own process; medians of {repeat}")
    switches = [Switch(v, cpm, tmp) for v in variants]
    try:
        for sw in switches:
            print(f"  {sw.label}: {sw.module} (ready to serve {sw.ready_s:.2f} s after "
                  f"its import began, RSS {sw.rss_mb():.0f} MB)")
        combos = [(enc, lim) for lim in limits for enc in ("gzip", "identity")]
        results: dict[tuple[str, str, int], list[tuple[int, float, float]]] = {}
        digests: dict[tuple[str, int], set[str]] = {}
        cold: dict[str, tuple[int, float, float]] = {}
        # Cold: the very first pass of each switch (gzip, the first page size).
        for sw in switches:
            n, wall, cpu, digest = measured_pass(sw, "gzip", limits[0])
            cold[sw.label] = (n, wall, cpu)
            digests.setdefault(("gzip", limits[0]), set()).add(digest)
        for _ in range(repeat):
            for enc, lim in combos:
                for sw in switches:  # alternating, so load changes hit both alike
                    n, wall, cpu, digest = measured_pass(sw, enc, lim)
                    results.setdefault((sw.label, enc, lim), []).append((n, wall, cpu))
                    digests.setdefault((enc, lim), set()).add(digest)
        labels = [sw.label for sw in switches]
        print("\n| pass | " + " | ".join(f"{lb} wall/s | {lb} per switch CPU s"
                                          for lb in labels) + " |")
        print("|---|" + "---:|---:|" * len(labels))

        def row(name: str, samples: dict[str, list[tuple[int, float, float]]]) -> None:
            cells = []
            for lb in labels:
                runs = samples[lb]
                wall = statistics.median(n / w for n, w, _ in runs)
                cpu = statistics.median(n / max(c, 1e-9) for n, _, c in runs)
                cells.append(f"{wall:,.0f} | {cpu:,.0f}")
            print(f"| {name} | " + " | ".join(cells) + " |")

        row(f"cold first pass, gzip, limit {limits[0]:,} (attempts {cold[labels[0]][0]:,})",
            {lb: [cold[lb]] for lb in labels})
        for enc, lim in combos:
            row(f"{enc}, limit {lim:,}", {lb: results[(lb, enc, lim)] for lb in labels})
        for sw in switches:
            print(f"  {sw.label}: switch RSS after the passes {sw.rss_mb():.0f} MB")
        same = all(len(d) == 1 for d in digests.values())
        print(f"  content identical across variants and passes: {same}")
    finally:
        for sw in switches:
            sw.stop()


def demo_startup(variants: list[Variant], repeat: int, tmp: Path) -> None:
    print(f"\nnoc-tui --demo volume (calls_per_min {DEFAULT_CPM}), fresh switch process per "
          f"run, medians of {repeat}")
    rows: dict[str, list[tuple[float, int, float, float, float]]] = {}
    for _ in range(repeat):
        for variant in variants:
            sw = Switch(variant, DEFAULT_CPM, tmp)
            try:
                n, wall, cpu, _ = measured_pass(sw, "gzip", 5000)
                rows.setdefault(sw.label, []).append((sw.ready_s, n, wall, cpu, sw.rss_mb()))
            finally:
                sw.stop()
    print("| variant | import + construct + start (+ materialise) s | "
          "first full pass (gzip, 5,000) s | "
          "switch CPU s of that pass | attempts | switch RSS after (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, runs in rows.items():
        med = [statistics.median(r[i] for r in runs) for i in range(5)]
        print(f"| {label} | {med[0]:.2f} | {med[2]:.2f} | {med[3]:.2f} | {runs[0][1]:,} "
              f"| {med[4]:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--attempts", type=int, default=1_000_000)
    ap.add_argument("--limits", type=int, nargs="+", default=[5000, 50_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compare", metavar="REF", help="also run the switch of this revision")
    ap.add_argument("--skip-demo", action="store_true", help="skip the --demo start-up part")
    ap.add_argument("--lazy-only", action="store_true",
                    help="skip the variant that materialises its history before serving")
    ap.add_argument("--_switch", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._switch:
        _switch_main(args._switch[0], float(args._switch[1]), args._switch[2] == "1")
        return
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
          f"at start (shared: other work may run)")
    with tempfile.TemporaryDirectory(prefix="bench-demo-switch-") as tmp_name:
        tmp = Path(tmp_name)
        variants: list[Variant] = []
        if args.compare:
            variants.append((args.compare, str(_baseline_tree(args.compare, tmp)), False))
        variants.append(("lazy", str(ROOT), False))
        if not args.lazy_only:
            variants.append(("materialised", str(ROOT), True))
        cpm = DEFAULT_CPM * args.attempts / DEFAULT_BACKFILL
        serving(variants, cpm, args.limits, args.repeat, tmp)
        if not args.skip_demo:
            demo_startup(variants, args.repeat, tmp)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
