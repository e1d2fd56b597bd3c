"""Synthetic attempt sets for benchmarks: many carriers, failovers, repeated numbers.

Fast and deterministic; not the demo switch's realism, just the data shapes at scale.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path

from noc_tui.records.timefmt import DAY_MS, iso_to_ms, ms_to_iso

NOW = iso_to_ms("2026-11-20T12:00:00Z")
CODES = [200] * 45 + [486] * 10 + [480] * 8 + [487] * 10 + [503] * 12 + [408] * 5 + [404] * 6
CODES += [500] * 2 + [302, 603]


def carriers(n: int) -> list[dict]:
    return [
        {"id": f"C{i:04d}", "name": f"Carrier {i}", "status": "active", "channels": 0,
         "cps": 50, "currency": "USD", "halt_codes": None}
        for i in range(n)
    ]


def rates(n_carriers: int) -> Iterator[dict]:
    for i in range(n_carriers):
        for p in ("1", "44", "447", "49", "33", "7"):
            yield {"carrier_id": f"C{i:04d}", "card_id": "std", "card_name": "Standard",
                   "prefix": p, "destination": p, "rate": 0.01 + len(p) / 1000,
                   "connect_fee": 0.0, "mcd_s": 30, "pulse_s": 6, "currency": "USD",
                   "effective_from": "2026-01-01T00:00:00.000Z", "status": "active"}


def attempts(n: int, n_carriers: int = 2000, days: int = 35, seed: int = 7,
             zipf: float = 0.0) -> Iterator[dict]:
    """About n attempts spread over `days` before NOW, ordered by started_at. Carriers
    are picked uniformly, or with `zipf` > 0 by rank k with weight 1 / k**zipf (a few
    routes carrying most calls, as in a carrier's real traffic)."""
    rng = random.Random(seed)
    ids = [f"C{i:04d}" for i in range(n_carriers)]
    cum = list(accumulate(1 / (k ** zipf) for k in range(1, n_carriers + 1))) if zipf else None
    start = NOW - days * DAY_MS
    hops = (1, 1, 1, 2, 2, 3)
    # Calls are spaced so that the last one lands just before NOW.
    step = days * DAY_MS / (n / (sum(hops) / len(hops)))
    t = float(start)
    made = 0
    call = 0
    pool = [f"44{rng.randrange(10**8, 10**9)}" for _ in range(max(1000, n // 20))]
    while made < n:
        call += 1
        t += step
        ts = int(t)
        dst = rng.choice(pool)
        cli = f"1{rng.randrange(10**9, 10**10)}"
        n_hops = rng.choice(hops)
        for seq in range(1, n_hops + 1):
            code = 200 if seq == n_hops and rng.random() < 0.6 else rng.choice(CODES)
            if seq < n_hops and 200 <= code < 300:
                code = 503
            ok = 200 <= code < 300
            yield {
                "call_id": f"k{call:09d}", "seq": seq,
                "carrier_id": (rng.choices(ids, cum_weights=cum)[0] if cum
                               else f"C{rng.randrange(n_carriers):04d}"),
                "started_at": ms_to_iso(ts + seq * 1500), "dst": dst, "cli": cli,
                "sip_code": code, "sip_reason": "OK" if ok else "Failure",
                "pdd_ms": rng.randrange(800, 6000) if rng.random() < 0.95 else None,
                "duration_s": int(rng.expovariate(1 / 120)) if ok else 0,
                "release_reason": None,
            }
            made += 1
            if made >= n:
                return


def write_jsonl(path: Path, records: Iterator[dict]) -> int:
    n = 0
    with path.open("w") as fh:
        for r in records:
            fh.write(json.dumps(r, separators=(",", ":")))
            fh.write("\n")
            n += 1
    return n
