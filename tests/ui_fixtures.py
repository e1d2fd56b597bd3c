"""Fixed data for the dashboard tests: a small cache an operator would recognise.

Deterministic (seeded), a frozen clock (FROZEN_NOW), and every behaviour the screens
show: a good route, a cheap low-ASR one, a carrier that is down, a FAS carrier, one
that answers 404 for numbers others connect, a misrouted switch failing over after
486 (halt violations), an inactive carrier with no traffic. `nasty=True` adds a
carrier whose every text is hostile (markup, ANSI, bidi, wide characters, 500 chars).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from noc_tui.analytics.alarms import judge_alarms
from noc_tui.analytics.metrics import refresh_standard_windows
from noc_tui.config import AlarmSettings, Settings
from noc_tui.records.timefmt import iso_to_ms, ms_to_iso
from noc_tui.store.cache import Cache

try:
    from tests.hostile import ESCAPES
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from hostile import ESCAPES  # type: ignore[no-redef]

FROZEN_NOW = iso_to_ms("2026-11-01T12:00:00Z")
HOUR = 3_600_000

NASTY_NAMES = [
    "[/]",
    "[@click=app.quit]click me[/]",
    "[$error]theme var[/]",
    "\x1b[31mANSI red\x1b[0m\x1b]52;c;ZXZpbA==\x07",
    "宽字符运营商名称测试",
    "שלום עולם \u202eRTL override",
    "N" * 500,
    ESCAPES,
]
NASTY_ID = "[b]nasty[/b]"
NASTY_NAME = "[@click=app.quit]Evil[/] [$error]Carrier \x1b[2J 宽 עברית " + "x" * 460

CARRIERS = [
    # id, name, status, answer%, 404%, 503%, halt_codes
    ("tier1", "Tier One Telecom", "active"),
    ("cheap", "CheapRoute Ltd", "active"),
    ("down", "DeadLink Networks", "active"),
    ("fas", "FastAnswer Voice", "active"),
    ("nf404", "NotFound Carrier", "active"),
    ("misroute", "Misrouted Switch Co", "active"),
    ("idle", "Idle Reserve", "inactive"),
]


def ui_settings(export_dir: Path | None = None, **ui: Any) -> Settings:
    from noc_tui.config import UISettings

    return Settings(ui=UISettings(animations=False, export_dir=export_dir, **ui))


def _carrier_records(nasty: bool) -> list[dict[str, Any]]:
    out = [{"id": cid, "name": name, "status": st, "channels": 0 if cid == "tier1" else 60,
            "cps": 10, "currency": "USD", "halt_codes": [404, 480, 486] if cid == "nf404"
            else None} for cid, name, st in CARRIERS]
    if nasty:
        out.append({"id": NASTY_ID, "name": NASTY_NAME, "status": "active", "channels": 5,
                    "cps": 1, "currency": "[red]EUR", "halt_codes": None})
        for i, name in enumerate(NASTY_NAMES):
            out.append({"id": f"nasty{i}", "name": name, "status": "active", "channels": 1,
                        "cps": 1, "currency": "USD", "halt_codes": None})
    return out


def _contacts(nasty: bool) -> list[dict[str, Any]]:
    out = []
    for cid, name, _ in CARRIERS:
        out.append({"carrier_id": cid, "name": f"{name.split()[0]} NOC", "role": "noc",
                    "email": f"noc@{cid}.example", "phone": "+44 20 7946 0000",
                    "notes": "24/7, call first"})
        out.append({"carrier_id": cid, "name": "Account Manager", "role": "commercial",
                    "email": f"am@{cid}.example", "phone": None, "notes": None})
    if nasty:
        out.append({"carrier_id": NASTY_ID, "name": "[@click=app.quit]Bob[/]",
                    "role": "[$error]", "email": "\x1b[31mx@y\x1b[0m", "phone": "[/]",
                    "notes": "שלום" + "宽" * 100})
        out.append({"carrier_id": NASTY_ID, "name": ESCAPES, "role": ESCAPES,
                    "email": None, "phone": None, "notes": ESCAPES})
    return out


def _rates(nasty: bool) -> list[dict[str, Any]]:
    out = []
    eff = "2026-01-01T00:00:00Z"
    for cid, _, _ in CARRIERS:
        for prefix, dest, rate, mcd, pulse in (
            ("44", "United Kingdom", 0.010, 60, 60), ("447", "UK Mobile", 0.030, 30, 6),
            ("4420", "London", 0.008, 1, 1), ("1", "USA/Canada", 0.005, 6, 6),
            ("49", "Germany", 0.012, 60, 60),
        ):
            out.append({"carrier_id": cid, "card_id": "std", "card_name": "Standard",
                        "prefix": prefix, "destination": dest, "rate": rate,
                        "connect_fee": 0.0, "mcd_s": mcd, "pulse_s": pulse,
                        "currency": "USD", "effective_from": eff, "status": "active"})
        out.append({"carrier_id": cid, "card_id": "std", "card_name": "Standard",
                    "prefix": "44", "destination": "United Kingdom", "rate": 0.009,
                    "connect_fee": 0.001, "mcd_s": 60, "pulse_s": 60, "currency": "USD",
                    "effective_from": "2026-12-01T00:00:00Z", "status": "active"})
    if nasty:
        out.append({"carrier_id": NASTY_ID, "card_id": "[/]", "card_name": "[$error]card",
                    "prefix": "44", "destination": "[@click=app.quit]UK\x1b[31m",
                    "rate": 0.01, "connect_fee": 0.0, "mcd_s": 1, "pulse_s": 1,
                    "currency": "USD", "effective_from": "2026-01-01T00:00:00Z",
                    "status": "active"})
    return out


ROUTES = {  # first choice -> fallbacks, like LCR per prefix
    "44": ["cheap", "tier1", "nf404"],
    "49": ["misroute", "tier1"],
    "1": ["fas", "down", "tier1"],
    "4420": ["down", "nf404", "tier1"],
}
NUMBERS = {p: [f"{p}{n:06d}"[: 11] for n in range(100, 100 + 40)] for p in ROUTES}
UNALLOCATED = {p: set(nums[:4]) for p, nums in NUMBERS.items()}


def _outcome(rng: random.Random, cid: str, dst: str, prefix: str, ts: int) -> tuple:
    """(sip_code, reason, pdd_ms, duration_s) of one attempt on a carrier."""
    unalloc = dst in UNALLOCATED[prefix]
    if cid == "fas":
        return 200, "OK", None, rng.choice((4, 5, 6, 30))
    if cid == "down" and ts >= FROZEN_NOW - 10 * HOUR:
        return 503, "Service Unavailable", None, 0
    if unalloc:
        return 404, "Not Found", rng.randint(800, 2000), 0
    if cid == "nf404" and rng.random() < 0.3:
        return 404, "Not Found", rng.randint(800, 2000), 0
    if cid == "misroute" and rng.random() < 0.3:
        return 486, "Busy Here", rng.randint(1500, 3000), 0
    r = rng.random()
    good = {"tier1": 0.62, "cheap": 0.28, "down": 0.55, "nf404": 0.5, "misroute": 0.5}[cid]
    if r < good:
        return 200, "OK", rng.randint(1200, 4500), rng.randint(8, 400)
    if r < good + 0.15:
        return 486, "Busy Here", rng.randint(1500, 3000), 0
    if r < good + 0.25:
        return 480, "Temporarily Unavailable", rng.randint(3000, 8000), 0
    code, reason = rng.choice(((503, "Service Unavailable"), (408, "Request Timeout"),
                               (500, "Server Internal Error")))
    return code, reason, None, 0


def _attempts(nasty: bool, calls: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    span = 40 * 24 * HOUR  # so the daily and monthly summaries have rows
    for n in range(calls):
        # Denser near now: the last 24 hours hold about half the calls.
        back = int(rng.random() ** 3 * span) if n % 2 else rng.randrange(24 * HOUR)
        ts = FROZEN_NOW - 1000 - back
        prefix = rng.choice(list(ROUTES))
        dst = rng.choice(NUMBERS[prefix])
        call_id = f"call-{n:06d}"
        for seq, cid in enumerate(ROUTES[prefix], 1):
            code, reason, pdd, dur = _outcome(rng, cid, dst, prefix, ts)
            out.append({"call_id": call_id, "seq": seq, "carrier_id": cid,
                        "started_at": ms_to_iso(ts), "dst": dst, "cli": "442079460000",
                        "sip_code": code, "sip_reason": reason, "pdd_ms": pdd,
                        "duration_s": dur, "release_reason": None})
            ts += (pdd or 2000) + 500
            halts = {404, 480, 486} if cid == "nf404" else set(range(300, 400)) | {404, 480, 486}
            if 200 <= code <= 299 or code == 487:
                break
            if code in halts and cid != "misroute":  # the misrouted switch ignores 486
                break
    if nasty:
        base = FROZEN_NOW - 2 * HOUR
        for i, reason in enumerate([*NASTY_NAMES[:4], ESCAPES]):
            call = f"[@click=app.quit]call{i}" if i == 0 else f"nasty-call-{i}"
            out.append({"call_id": call, "seq": 1, "carrier_id": NASTY_ID,
                        "started_at": ms_to_iso(base + i * 60_000), "dst": "4420000001",
                        "cli": "[/]", "sip_code": 503, "sip_reason": reason, "pdd_ms": None,
                        "duration_s": 0, "release_reason": "[$error]"})
            out.append({"call_id": call, "seq": 2, "carrier_id": "tier1",
                        "started_at": ms_to_iso(base + i * 60_000 + 3000), "dst": "4420000001",
                        "cli": "[/]", "sip_code": 200, "sip_reason": "OK", "pdd_ms": 1500,
                        "duration_s": 42, "release_reason": "\x1b[31mbye"})
            out.append({"call_id": f"nasty-in-{i}", "seq": 1, "carrier_id": "tier1",
                        "started_at": ms_to_iso(base + i * 60_000 + 10), "dst": "4420000002",
                        "cli": None, "sip_code": 503, "sip_reason": "x", "pdd_ms": None,
                        "duration_s": 0, "release_reason": None})
            out.append({"call_id": f"nasty-in-{i}", "seq": 2, "carrier_id": NASTY_ID,
                        "started_at": ms_to_iso(base + i * 60_000 + 2000),
                        "dst": "4420000002", "cli": None, "sip_code": 200,
                        "sip_reason": reason, "pdd_ms": None, "duration_s": 3,
                        "release_reason": None})
    return out


def build_cache(path: Path, *, nasty: bool = False, calls: int = 3000, seed: int = 7,
                now_ms: int = FROZEN_NOW, precompute: bool = True,
                alarm_window: str = "24h") -> Path:
    """Write the fixture cache at path (fresh) and return it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Cache(path) as cache:
        for kind, recs in (("carriers", _carrier_records(nasty)), ("contacts", _contacts(nasty)),
                           ("rates", _rates(nasty)), ("attempts", _attempts(nasty, calls, seed))):
            report = cache.ingest(kind, recs)
            assert report.rejected == 0, report.rejections[:3]
        if precompute:
            refresh_standard_windows(cache, now_ms)
            # Alarms as a poll or an import judges them; over the list's default window,
            # so that the list's marks are those of the figures it shows first.
            judge_alarms(cache, AlarmSettings(window=alarm_window))
    return path


def build_failover_heavy(path: Path, calls: int = 100_000) -> Path:
    """A carrier ('flaky') with `calls` calls failing over to 'tier1' in the last day,
    written straight through the Cache API in large batches."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Cache(path) as cache:
        cache.ingest("carriers", [
            {"id": "flaky", "name": "Flaky Transit", "status": "active", "channels": 0,
             "cps": 0, "currency": "USD", "halt_codes": None},
            {"id": "tier1", "name": "Tier One Telecom", "status": "active", "channels": 0,
             "cps": 0, "currency": "USD", "halt_codes": None}])

        def gen() -> Any:
            step = (23 * HOUR) // calls
            for n in range(calls):
                ts = FROZEN_NOW - 23 * HOUR + n * step
                call = f"fo-{n:07d}"
                yield {"call_id": call, "seq": 1, "carrier_id": "flaky",
                       "started_at": ms_to_iso(ts), "dst": f"4420{n % 10_000:06d}",
                       "cli": None, "sip_code": 503 if n % 7 else 486,
                       "sip_reason": "Service Unavailable", "pdd_ms": None,
                       "duration_s": 0, "release_reason": None}
                # Connected within the step, so the last call too has before now.
                yield {"call_id": call, "seq": 2, "carrier_id": "tier1",
                       "started_at": ms_to_iso(ts + step // 2), "dst": f"4420{n % 10_000:06d}",
                       "cli": None, "sip_code": 200, "sip_reason": "OK", "pdd_ms": 1200,
                       "duration_s": 60, "release_reason": None}

        cache.ingest("attempts", gen(), batch=20_000)
        refresh_standard_windows(cache, FROZEN_NOW)
    return path
