"""A plain-Python reference for every metric of the foundation issue, section 5.

Written only from the metric definitions (issue 2, section 5 and the decided refinements),
deliberately naive: it keeps the records in dicts (last write wins per key) and recomputes
every answer by scanning them. It shares no code with ``noc_tui`` so that the property
tests compare two independent readings of the same definitions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

DEFAULT_NER_CODES: frozenset[int] = frozenset(range(200, 300)) | {480, 486, 600, 603}
DEFAULT_HALT_CODES: frozenset[int] = frozenset(range(300, 400)) | {404, 480, 486}

FLAG_ORDER = ("NO_RING", "SHORT_CALLS", "NEVER_404", "ANSWERS_UNALLOCATED")


# --------------------------------------------------------------------------- time


def to_ms(text: str) -> int:
    """ISO 8601 (Z or offset) -> epoch milliseconds, exact."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_iso(ms: int) -> str:
    """Epoch milliseconds -> canonical 2026-11-01T12:00:00.123Z."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def _dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _dt_ms(dt: datetime) -> int:
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class RefSettings:
    """Thresholds, with the same names and defaults as ``MetricSettings``."""

    sdc_max_s: int = 6
    fas_min_connected: int = 20
    fas_no_ring_ratio: float = 0.20
    fas_short_ratio: float = 0.15
    never_404_min_attempts: int = 100
    fas_never_404_others_ratio: float = 0.01
    fas_unallocated_min_numbers: int = 3
    fas_min_flags: int = 2
    ner_codes: frozenset[int] = field(default=DEFAULT_NER_CODES, repr=False)
    halt_codes: frozenset[int] = field(default=DEFAULT_HALT_CODES, repr=False)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis' pretty printer
        p.text(repr(self))

    def as_kwargs(self) -> dict[str, Any]:
        """The thresholds as keyword arguments for ``MetricSettings`` (code sets left default)."""
        return {
            "sdc_max_s": self.sdc_max_s,
            "fas_min_connected": self.fas_min_connected,
            "fas_no_ring_ratio": self.fas_no_ring_ratio,
            "fas_short_ratio": self.fas_short_ratio,
            "never_404_min_attempts": self.never_404_min_attempts,
            "fas_never_404_others_ratio": self.fas_never_404_others_ratio,
            "fas_unallocated_min_numbers": self.fas_unallocated_min_numbers,
            "fas_min_flags": self.fas_min_flags,
        }


@dataclass(frozen=True)
class Att:
    call_id: str
    seq: int
    carrier_id: str
    started: int  # epoch ms
    dst: str
    code: int
    pdd_ms: float | None  # as given: fractions allowed (to three decimals)
    duration_s: float

    @property
    def ok(self) -> bool:
        return 200 <= self.code <= 299


@dataclass(frozen=True)
class Rate:
    carrier_id: str
    card_id: str
    prefix: str
    effective: int  # epoch ms
    status: str
    rate: float
    connect_fee: float
    mcd_s: int
    pulse_s: int


@dataclass
class RefData:
    """Every record ingested so far; a record with an existing key replaces the old one."""

    carriers: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rates: dict[tuple[str, str, str, int], Rate] = field(default_factory=dict)
    attempts: dict[tuple[str, int], Att] = field(default_factory=dict)

    def ingest(self, kind: str, records: Iterable[dict[str, Any]]) -> None:
        for r in records:
            if kind == "carriers":
                self.carriers[r["id"]] = dict(r)
            elif kind == "contacts":
                self.contacts[(r["carrier_id"], r["name"])] = dict(r)
            elif kind == "rates":
                eff = to_ms(r["effective_from"])
                self.rates[(r["carrier_id"], r["card_id"], r["prefix"], eff)] = Rate(
                    carrier_id=r["carrier_id"],
                    card_id=r["card_id"],
                    prefix=r["prefix"],
                    effective=eff,
                    status=r["status"],
                    rate=float(r["rate"]),
                    connect_fee=float(r["connect_fee"]),
                    mcd_s=int(r["mcd_s"]),
                    pulse_s=int(r["pulse_s"]),
                )
            elif kind == "attempts":
                self.attempts[(r["call_id"], int(r["seq"]))] = Att(
                    call_id=r["call_id"],
                    seq=int(r["seq"]),
                    carrier_id=r["carrier_id"],
                    started=to_ms(r["started_at"]),
                    dst=r["dst"],
                    code=int(r["sip_code"]),
                    pdd_ms=r.get("pdd_ms"),
                    duration_s=r["duration_s"],
                )
            else:
                raise ValueError(kind)

    # helpers ---------------------------------------------------------------

    def as_of(self, now_ms: int) -> RefData:
        """The data as of now: an attempt that started at or after now has not happened
        (docs/metrics.md: no view counts it)."""
        return RefData(self.carriers, self.contacts, self.rates,
                       {k: a for k, a in self.attempts.items() if a.started < now_ms})

    def carrier_ids(self) -> list[str]:
        ids = set(self.carriers) | {a.carrier_id for a in self.attempts.values()}
        return sorted(ids)

    def calls(self) -> dict[str, list[Att]]:
        out: dict[str, list[Att]] = {}
        for a in self.attempts.values():
            out.setdefault(a.call_id, []).append(a)
        for lst in out.values():
            lst.sort(key=lambda a: a.seq)
        return out

    def halt_set(self, carrier_id: str, s: RefSettings) -> frozenset[int]:
        rec = self.carriers.get(carrier_id)
        if rec is not None and rec.get("halt_codes") is not None:
            return frozenset(int(c) for c in rec["halt_codes"])
        return s.halt_codes


def exact(value: float) -> Fraction:
    """A number as the record wrote it (a float's shortest decimal), exactly."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _real(value: Fraction | float | None) -> float | None:
    return None if value is None else float(value)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def _in_window(a: Att, now_ms: int, window_s: int) -> bool:
    return now_ms - window_s * 1000 <= a.started < now_ms


# --------------------------------------------------------------------------- basic stats


def basic_stats(atts: list[Att], s: RefSettings) -> dict[str, Any]:
    """attempts, connected, asr, acd_s, minutes, pdd_avg_ms, ner over a set of attempts."""
    n = len(atts)
    conn = [a for a in atts if a.ok]
    pdds = [exact(a.pdd_ms) for a in atts if a.pdd_ms is not None]
    n3xx = sum(1 for a in atts if 300 <= a.code <= 399)
    nner = sum(1 for a in atts if a.code in s.ner_codes)
    return {
        "attempts": n,
        "connected": len(conn),
        "asr": _ratio(len(conn), n),
        "acd_s": _real(_ratio(sum(exact(a.duration_s) for a in conn), len(conn))),
        "minutes": float(sum(exact(a.duration_s) for a in atts) / 60),
        "pdd_avg_ms": float(sum(pdds) / len(pdds)) if pdds else None,
        "ner": _ratio(nner, n - n3xx),
    }


# --------------------------------------------------------------------------- code consistency


def _number_verdicts(
    data: RefData, c: str, win: list[Att]
) -> list[tuple[bool, bool, str | None]]:
    """For each number C answered 2xx or 404 in W: (C_ok, C_nf, other carriers' verdict)."""
    mine: dict[str, list[Att]] = {}
    for a in win:
        if a.carrier_id == c and (a.ok or a.code == 404):
            mine.setdefault(a.dst, []).append(a)
    out = []
    for n, lst in mine.items():
        c_ok = any(a.ok for a in lst)
        c_nf = any(a.code == 404 for a in lst)
        others = [a for a in win if a.carrier_id != c and a.dst == n]
        o_ok = any(a.ok for a in others)
        o_nf = any(a.code == 404 for a in others)
        verdict: str | None
        if o_ok and not o_nf:
            verdict = "exists"
        elif o_nf and not o_ok:
            verdict = "missing"
        else:
            verdict = None
        out.append((c_ok, c_nf, verdict))
    return out


def code_consistency(data: RefData, c: str, win: list[Att]) -> float | None:
    comparable = inconsistent = 0
    for c_ok, c_nf, verdict in _number_verdicts(data, c, win):
        if (c_ok and c_nf) or verdict is not None:
            comparable += 1
        if (c_ok and c_nf) or (c_ok and verdict == "missing") or (c_nf and verdict == "exists"):
            inconsistent += 1
    if comparable == 0:
        return None
    return 1 - inconsistent / comparable


def answers_unallocated_numbers(data: RefData, c: str, win: list[Att]) -> int:
    return sum(1 for c_ok, _nf, v in _number_verdicts(data, c, win) if c_ok and v == "missing")


# --------------------------------------------------------------------------- consecutive failures


def consecutive_failures(data: RefData, c: str, now_ms: int) -> int:
    hist = sorted(
        (a for a in data.attempts.values() if a.carrier_id == c and a.started < now_ms),
        key=lambda a: (a.started, a.call_id, a.seq),
    )
    count = 0
    for a in hist:
        count = 0 if a.ok else count + 1
    return count


# --------------------------------------------------------------------------- failover


def _qualifying_failed(call: list[Att], c: str) -> list[Att]:
    """Attempts on C, non-2xx, followed (higher seq) by a 2xx attempt on another carrier."""
    out = []
    for a in call:
        if a.carrier_id != c or a.ok:
            continue
        if any(b.seq > a.seq and b.carrier_id != c and b.ok for b in call):
            out.append(a)
    return out


def failover_out_chosen(
    data: RefData, c: str, now_ms: int, window_s: int
) -> list[tuple[Att, list[Att]]]:
    """(chosen failed attempt, the call's attempts) for every failover_out call of C."""
    out = []
    for call in data.calls().values():
        q = [a for a in _qualifying_failed(call, c) if _in_window(a, now_ms, window_s)]
        if q:
            out.append((min(q, key=lambda a: a.seq), call))
    return out


def failover_in(data: RefData, c: str, now_ms: int, window_s: int) -> int:
    n = 0
    for call in data.calls().values():
        for b in call:
            if b.carrier_id == c and b.ok and _in_window(b, now_ms, window_s) and any(
                a.seq < b.seq and a.carrier_id != c and not a.ok for a in call
            ):
                n += 1
                break
    return n


# --------------------------------------------------------------------------- carriers view


def carrier_metrics(
    data: RefData, now_ms: int, window_s: int, s: RefSettings
) -> list[dict[str, Any]]:
    ids = data.carrier_ids()  # every carrier known, whenever its attempts started
    data = data.as_of(now_ms)
    win_all = [a for a in data.attempts.values() if _in_window(a, now_ms, window_s)]
    rows = []
    for c in ids:
        rec = data.carriers.get(c)
        win = [a for a in win_all if a.carrier_id == c]
        others = [a for a in win_all if a.carrier_id != c]
        st = basic_stats(win, s)
        connected = st["connected"]
        n200 = sum(1 for a in win if a.code == 200)
        n404 = sum(1 for a in win if a.code == 404)
        never_404 = st["attempts"] >= s.never_404_min_attempts and n404 == 0
        sdc = _ratio(sum(1 for a in win if a.ok and exact(a.duration_s) <= s.sdc_max_s),
                     connected)

        chosen = failover_out_chosen(data, c, now_ms, window_s)
        halts = data.halt_set(c, s)

        flags = []
        no_pdd = sum(1 for a in win if a.ok and a.pdd_ms is None)
        if connected >= s.fas_min_connected and no_pdd / connected >= s.fas_no_ring_ratio:
            flags.append("NO_RING")
        if (
            connected >= s.fas_min_connected
            and sdc is not None
            and sdc >= s.fas_short_ratio
        ):
            flags.append("SHORT_CALLS")
        others_404 = sum(1 for a in others if a.code == 404)
        if never_404 and others and others_404 / len(others) >= s.fas_never_404_others_ratio:
            flags.append("NEVER_404")
        if answers_unallocated_numbers(data, c, win_all) >= s.fas_unallocated_min_numbers:
            flags.append("ANSWERS_UNALLOCATED")

        rows.append(
            {
                "id": c,
                # A carrier record without a name is named by its id; other fields
                # may be unknown (null). A carrier seen only in attempts has neither.
                "name": (rec["id"] if rec.get("name") is None else rec["name"]) if rec else None,
                "status": rec.get("status") if rec else None,
                **st,
                "n200": n200,
                "n404": n404,
                "code_consistency": code_consistency(data, c, win_all),
                "never_404": never_404,
                "consecutive_failures": consecutive_failures(data, c, now_ms),
                "failover_out": len(chosen),
                "failover_in": failover_in(data, c, now_ms, window_s),
                "halt_violations": sum(1 for a, _call in chosen if a.code in halts),
                "sdc_ratio": sdc,
                "fas_flags": flags,
                "fas_suspect": len(flags) >= s.fas_min_flags,
            }
        )
    return rows


def failover_calls(
    data: RefData, carrier_id: str, now_ms: int, window_s: int, s: RefSettings
) -> list[dict[str, Any]]:
    suspect = {r["id"]: r["fas_suspect"] for r in carrier_metrics(data, now_ms, window_s, s)}
    data = data.as_of(now_ms)
    halts = data.halt_set(carrier_id, s)
    rows = []
    for a, call in failover_out_chosen(data, carrier_id, now_ms, window_s):
        b = min(
            (x for x in call if x.seq > a.seq and x.carrier_id != carrier_id and x.ok),
            key=lambda x: x.seq,
        )
        rows.append(
            {
                "call_id": a.call_id,
                "started_at": to_iso(a.started),
                "dst": a.dst,
                "failed_code": a.code,
                "connected_carrier_id": b.carrier_id,
                "connected_duration_s": b.duration_s,
                "halt_violation": a.code in halts,
                "fas_suspect": suspect[b.carrier_id],
                "_started": a.started,
            }
        )
    rows.sort(key=lambda r: (r["_started"], r["call_id"]))
    for r in rows:
        del r["_started"]
    return rows


# --------------------------------------------------------------------------- cost and summary


def rate_for(data: RefData, a: Att) -> Rate | None:
    cands = [
        r
        for r in data.rates.values()
        if r.carrier_id == a.carrier_id
        and r.status == "active"
        and r.effective <= a.started
        and a.dst.startswith(r.prefix)
    ]
    if not cands:
        return None
    best_len = max(len(r.prefix) for r in cands)
    cands = [r for r in cands if len(r.prefix) == best_len]
    best_eff = max(r.effective for r in cands)
    cands = [r for r in cands if r.effective == best_eff]
    return min(cands, key=lambda r: r.card_id)


def billed_seconds(duration_s: float, mcd_s: int, pulse_s: int) -> int:
    d = exact(duration_s)
    if d <= mcd_s:
        return mcd_s
    return mcd_s + math.ceil((d - mcd_s) / pulse_s) * pulse_s


def attempt_cost(data: RefData, a: Att) -> float | None:
    r = rate_for(data, a)
    if r is None:
        return None
    return billed_seconds(a.duration_s, r.mcd_s, r.pulse_s) / 60 * r.rate + r.connect_fee


def period_buckets(period: str, now_ms: int) -> list[tuple[int, int]]:
    """[start, end) of every bucket of the period, oldest first, in epoch ms."""
    now = _dt(now_ms)
    if period == "live":
        last = now.replace(minute=0, second=0, microsecond=0)
        starts = [last - timedelta(hours=i) for i in range(23, -1, -1)]
        return [(_dt_ms(t), _dt_ms(t + timedelta(hours=1))) for t in starts]
    if period == "daily":
        last = now.replace(hour=0, minute=0, second=0, microsecond=0)
        starts = [last - timedelta(days=i) for i in range(30, -1, -1)]
        return [(_dt_ms(t), _dt_ms(t + timedelta(days=1))) for t in starts]
    if period == "monthly":
        months = []
        y, m = now.year, now.month
        for _ in range(12):
            months.append((y, m))
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        out = []
        for y, m in reversed(months):
            start = datetime(y, m, 1, tzinfo=UTC)
            end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
            out.append((_dt_ms(start), _dt_ms(end)))
        return out
    raise ValueError(period)


def summary(
    data: RefData, carrier_id: str, period: str, now_ms: int, s: RefSettings
) -> list[dict[str, Any]]:
    mine = [a for a in data.as_of(now_ms).attempts.values() if a.carrier_id == carrier_id]
    rows = []
    for start, end in period_buckets(period, now_ms):
        atts = [a for a in mine if start <= a.started < end]
        if not atts:
            continue
        cost = 0.0
        unrated = 0
        for a in atts:
            if not a.ok:
                continue
            c = attempt_cost(data, a)
            if c is None:
                unrated += 1
            else:
                cost += c
        rows.append(
            {"start": to_iso(start), **basic_stats(atts, s), "cost": cost, "unrated": unrated}
        )
    return rows
