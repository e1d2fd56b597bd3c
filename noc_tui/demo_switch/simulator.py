"""A deterministic class-4 switch traffic simulator (no HTTP).

Traffic is generated per fixed time slot from an RNG seeded by (seed, slot index), so
the attempts of any time range can be produced on their own, quickly and identically,
without generating what came before. History begins 35 days before the simulator's
start; live traffic continues as its clock advances.

Carriers behave like ones an operator meets: good tier-1 routes, a cheap route with
low ASR and a small channel limit, one degrading (rising 503s), one that goes down
for good part-way, one returning 404 for numbers others connect, a FAS carrier, one
behind a switch misconfigured to fail over after 486, and idle inactive/pending ones
(who they are, the destinations they carry and their rate cards: catalogue.py).
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from operator import itemgetter
from statistics import NormalDist
from typing import Any

from noc_tui.demo_switch.catalogue import (
    CARRIERS,
    DESTINATIONS,
    carrier_records,
    contact_records,
    rate_records,
)
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, ms_to_iso, now_ms

SLOT_MS = 300_000  # 5 minutes: few enough slots that per-slot RNG seeding stays cheap
HISTORY_MS = 35 * DAY_MS
# Bound on (last attempt start - call start): at most 3 attempts, so two failed ones
# before the last, each at most 21 s PDD + 45 s ringing + a gap. Any range query looks
# back this far for retries of calls that started earlier.
MAX_SPAN_MS = 300_000
DEFAULT_CALLS_PER_MIN = 2.2
_ATTEMPTS_PER_CALL = 1.1  # measured over the default history
DEFAULT_HALT = frozenset({300, 301, 302, 305, 380, 404, 480, 486})

# Attempt row layout (a list; the API order is by its first three fields):
# 0 started_ms, 1 call_id, 2 seq, 3 carrier index, 4 dst, 5 cli, 6 sip_code,
# 7 pdd_ms|None, 8 duration_s, 9 release index, 10 call end ms, 11 late draw
Row = list[Any]

REASONS = {
    200: "OK", 404: "Not Found", 408: "Request Timeout", 480: "Temporarily Unavailable",
    486: "Busy Here", 487: "Request Terminated", 500: "Server Internal Error",
    502: "Bad Gateway", 503: "Service Unavailable", 603: "Decline",
}
RELEASES: tuple[str | None, ...] = (
    None, "caller hangup", "callee hangup", "caller cancel", "invite timeout",
    "channel limit", "no answer timeout",
)
_R_NONE, _R_CALLER, _R_CALLEE, _R_CANCEL, _R_TIMEOUT, _R_CHANNELS, _R_NOANSWER = range(7)

# Traffic by UTC hour (European and American business hours), normalised to mean 1;
# weekends carry 60% of a weekday.
_HOURLY = (0.35, 0.3, 0.25, 0.25, 0.3, 0.4, 0.6, 0.9, 1.2, 1.45, 1.6, 1.65,
           1.6, 1.55, 1.6, 1.65, 1.6, 1.45, 1.25, 1.05, 0.9, 0.75, 0.6, 0.45)
_HOURLY_N = tuple(h * 24 / sum(_HOURLY) for h in _HOURLY)
_WEEKDAY = 7 / 6.2
_WEEKEND = 0.6 * _WEEKDAY
_PEAK = max(_HOURLY_N) * _WEEKDAY


def traffic_factor(ms: int) -> float:
    """Relative call rate at an instant (weekly mean 1)."""
    day = ms // DAY_MS
    week = _WEEKEND if (day + 3) % 7 >= 5 else _WEEKDAY  # 1970-01-01 was a Thursday
    return _HOURLY_N[(ms // HOUR_MS) % 24] * week


_IDX = {c.id: i for i, c in enumerate(CARRIERS)}


POOL_SIZE = 2000  # dialled numbers per destination; popular ones recur many times a day
UNALLOCATED_SHARE = 0.03
STALE_404_SHARE = 0.3  # numbers the 404 carrier wrongly thinks do not exist
DOWN_AT_DAY = 26.0  # the down carrier fails for good from this day of history on


_started = itemgetter(0)
_FAS, _DOWN, _DEGRADING, _NF404, _MIS486, _CHEAP = range(1, 7)
_KIND_CODE = {"fas": _FAS, "down": _DOWN, "degrading": _DEGRADING, "nf404": _NF404,
              "mis486": _MIS486, "cheap": _CHEAP}
# Quantile tables replace lognormvariate (slow in pure Python) with one lookup.
_Q = 4096
_Z = tuple(NormalDist().inv_cdf((k + 0.5) / _Q) for k in range(_Q))
# Answered seconds: long-tailed, median ~74 s, mean ~2.3 min, capped at 2 hours.
_DURATION_Q = tuple(min(7200, max(1, int(math.exp(4.3 + 1.1 * z)))) for z in _Z)
# PDD relative to a carrier's median, clipped to 0.3 .. 5 times it.
_PDD_MULT_Q = tuple(min(5.0, max(0.3, math.exp(0.45 * z))) for z in _Z)


class Simulator:
    """Deterministic traffic for one seed and one start instant.

    ``start_ms`` is the simulator's creation time (defaults to the clock's now); history
    begins HISTORY_MS before it. ``clock`` gives "now" for the publication rule: an
    attempt is published once its call has ended.
    """

    def __init__(
        self,
        seed: int = 1,
        start_ms: int | None = None,
        calls_per_min: float = DEFAULT_CALLS_PER_MIN,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        if calls_per_min <= 0:
            raise ValueError("calls_per_min must be positive")
        self.seed = seed
        self.clock = clock
        self.calls_per_min = calls_per_min
        self.start_ms = clock() if start_ms is None else start_ms
        self.history_start_ms = self.start_ms - HISTORY_MS
        self.first_slot = self.history_start_ms // SLOT_MS
        self.down_at_ms = self.history_start_ms + int(DOWN_AT_DAY * DAY_MS)
        self._iso_cache: dict[int, str] = {}
        self._day_cache: dict[int, str] = {}
        self._build_static()

    # -- static data -------------------------------------------------------------------

    def _build_static(self) -> None:
        rng = random.Random(f"static-{self.seed}")
        self._pools: list[list[str]] = []
        self._unallocated: list[set[int]] = []
        self._stale: list[set[int]] = []
        for dest in DESTINATIONS:
            free = dest.length - len(dest.prefix)
            seen: set[str] = set()
            pool: list[str] = []
            while len(pool) < POOL_SIZE:
                num = dest.prefix + str(rng.randrange(10 ** (free - 1), 10**free))
                if num not in seen:
                    seen.add(num)
                    pool.append(num)
            self._pools.append(pool)
            # Spread over popular and rare numbers alike (index 0 is the most dialled).
            self._unallocated.append(
                {i for i in range(POOL_SIZE) if rng.random() < UNALLOCATED_SHARE} | set(dest.dead)
            )
            self._stale.append({i for i in range(POOL_SIZE) if rng.random() < STALE_404_SHARE})
        self._clis = [f"4420794{rng.randrange(10**5, 10**6)}" for _ in range(300)]
        total = sum(d.weight for d in DESTINATIONS)
        acc = 0.0
        self._dest_cum: list[float] = []
        for d in DESTINATIONS:
            acc += d.weight / total
            self._dest_cum.append(acc)
        self._routes: list[list[tuple[float, tuple[int, ...]]]] = []
        for d in DESTINATIONS:
            acc, routes = 0.0, []
            for w, order in d.routes:
                acc += w
                routes.append((acc, tuple(_IDX[c] for c in order)))
            self._routes.append(routes)
        # Only the cheap trunk's channel limit is tight enough to matter.
        self._limited = [i for i, c in enumerate(CARRIERS) if c.channels and c.kind == "cheap"]
        self._num_status = [
            [1 if i in un else 2 if i in st else 0 for i in range(POOL_SIZE)]
            for un, st in zip(self._unallocated, self._stale, strict=True)
        ]
        self._profile = []
        for i, c in enumerate(CARRIERS):
            # Codes on which the switch stops routing the call after this carrier: its
            # halt set, plus 487 (the caller has gone) and 6xx (global failure). The
            # misconfigured switch leaves 486 out for one carrier and fails over.
            halt = set(c.halt_codes if c.halt_codes is not None else DEFAULT_HALT)
            halt |= {487, 600, 603, 604, 606}
            if c.kind == "mis486":
                halt.discard(486)
            self._profile.append((
                _KIND_CODE.get(c.kind, 0), c.tech_fail, c.pdd_ms, i in self._limited,
                frozenset(halt), c.channels,
            ))
        # Pre-encoded JSON between the per-record values, for render_parts: fewer and
        # cheaper substitutions per record.
        self._j_carrier = [f',"carrier_id":{json.dumps(c.id)},"started_at":"' for c in CARRIERS]
        self._j_code = {code: f'","sip_code":{code},"sip_reason":{json.dumps(r)},"pdd_ms":'
                        for code, r in REASONS.items()}
        self._j_release = [f',"release_reason":{json.dumps(r)}}}' for r in RELEASES]

    def carriers(self) -> list[dict[str, Any]]:
        return carrier_records()

    def contacts(self) -> list[dict[str, Any]]:
        return contact_records()

    def rates(self) -> list[dict[str, Any]]:
        """Rate cards: see catalogue.rate_records."""
        return rate_records(self.seed, self.history_start_ms, self.start_ms)

    # -- traffic -----------------------------------------------------------------------

    def iso(self, ms: int) -> str:
        """ms_to_iso, from memoised pieces (strftime per record would dominate)."""
        minute, rest = divmod(ms, 60_000)
        head = self._minute_head(minute)
        return head + _sec_ms()[rest]

    def _minute_head(self, minute: int) -> str:
        """"YYYY-MM-DDTHH:MM:" of a minute, memoised; built from the day's date, so that
        sparse traffic (most minutes seen once) does not pay a strftime per record."""
        head = self._iso_cache.get(minute)
        if head is None:
            if len(self._iso_cache) > 100_000:
                self._iso_cache.clear()
            day, hm = divmod(minute, 1440)
            date = self._day_cache.get(day)
            if date is None:
                date = ms_to_iso(day * DAY_MS)[:11]  # "YYYY-MM-DDT"
                self._day_cache[day] = date
            head = date + _HH_MM[hm]
            self._iso_cache[minute] = head
        return head

    def slot_rows(self, slot: int) -> list[Row]:
        """All attempts of the calls that start in one slot (published or not), unsorted."""
        if slot < self.first_slot:
            return []
        rng = random.Random((self.seed << 40) ^ slot)
        rand = rng.random
        t0 = slot * SLOT_MS
        load = traffic_factor(t0)
        lam = self.calls_per_min * (SLOT_MS / 60_000) * load
        # Poisson count (Knuth for small means, normal approximation beyond).
        if lam < 40:
            limit, n, p = math.exp(-lam), 0, rand()
            while p > limit:
                n += 1
                p *= rand()
        else:
            n = max(0, round(rng.gauss(lam, math.sqrt(lam))))
        # Channel occupancy of the small trunk from traffic we do not model call by call:
        # the demo sees a sample of the trunk, the rest of its load is drawn per slot.
        busy_base = {
            i: int(CARRIERS[i].channels * load / _PEAK * (0.75 + 0.35 * rand()))
            for i in self._limited
        }
        active: dict[int, list[int]] = {i: [] for i in self._limited}
        degrade = 0.45 * min(1.0, max(0.0, (t0 - self.history_start_ms) / HISTORY_MS))
        n = min(n, 0xFFFFF)  # the call index must fit its five hex digits
        starts = sorted([int(rand() * SLOT_MS) for _ in range(n)])
        rows: list[Row] = []
        append = rows.append
        dest_cum, pools, routes_all = self._dest_cum, self._pools, self._routes
        status_all, profile = self._num_status, self._profile
        clis, ncli, down_at = self._clis, len(self._clis), self.down_at_ms
        dur_q, pdd_q, log = _DURATION_Q, _PDD_MULT_Q, math.log
        # Fixed-width hex: string order of call ids is (slot, index) order, which lets
        # iter_chunks order ties on started_at with a stable sort on started_at alone.
        prefix = f"s{self.seed}-{slot:07x}-"
        for i, off in enumerate(starts):
            start = t0 + off
            call_id = f"{prefix}{i:05x}"
            # Destination, number (skewed: popular numbers recur), LCR order.
            di = bisect_right(dest_cum, rand())
            ni = int(POOL_SIZE * rand() ** 2.2)
            dst = pools[di][ni]
            nstatus = status_all[di][ni]
            u = rand()
            for cum, order in routes_all[di]:  # noqa: B007 (the chosen order is used below)
                if u <= cum:
                    break
            cli = clis[int(rand() * ncli)]
            # The B party's behaviour is the same whichever carrier delivers the call.
            u = rand()
            if u < 0.60:
                outcome = 0  # answers
            elif u < 0.71:
                outcome = 486  # busy
            elif u < 0.80:
                outcome = 480  # rings out / unreachable
            elif u < 0.97:
                outcome = 487  # caller gives up while ringing
            else:
                outcome = 603  # declined
            late_u = rand()
            t = start
            # Failed attempts wait here until the call's end (a field of every row) is known.
            failed: list[tuple[int, int, int, int | None, int]] = []
            last_i = len(order) - 1
            for seq_i, ci in enumerate(order):
                kind, tech_fail, pdd_med, limited, halt, channels = profile[ci]
                u1, u2 = rand(), rand()
                pdd: int | None = None
                dur = 0
                rel = _R_NONE
                if kind == _FAS:
                    # Answers almost everything at once, no ringing, short fixed calls.
                    if u1 < tech_fail:
                        code, resp = 503, 40 + int(u2 * 200)
                    else:
                        code, resp = 200, 80 + int(u2 * 300)
                        dur = 4 if u2 < 0.8 else (3 if u2 < 0.9 else 5)
                        rel = _R_CALLEE
                elif kind == _DOWN and t >= down_at:
                    if u1 < 0.65:
                        code, resp = 503, 30 + int(u2 * 150)
                    else:
                        code, resp, rel = 408, 6000, _R_TIMEOUT
                elif limited and busy_base[ci] + sum(1 for e in active[ci] if e > t) >= channels:
                    code, resp, rel = 503, 5, _R_CHANNELS
                elif u1 < (tech_fail + degrade if kind == _DEGRADING else tech_fail):
                    if kind == _DEGRADING or u2 < 0.55:
                        code, resp = 503, 40 + int(u2 * 400)
                    elif u2 < 0.75:
                        code, resp, rel = 408, 6000, _R_TIMEOUT
                    elif u2 < 0.9:
                        code, resp = 502, 100 + int(u2 * 300)
                    else:
                        code, resp = 500, 100 + int(u2 * 300)
                elif nstatus == 1 or (nstatus == 2 and kind == _NF404):
                    code, resp = 404, 150 + int(u2 * 500)
                elif kind == _MIS486 and u2 < 0.12:
                    code, resp = 486, 200 + int(u1 * 800)  # spurious busy: its congestion
                else:
                    pdd = int(pdd_med * pdd_q[int(u1 * _Q)])
                    if kind == _CHEAP and u2 < 0.22:
                        # Poor route quality: callers hang up on the long PDD, or no ring.
                        if u2 < 0.12:
                            code, resp, rel = 487, pdd + 3000 + int(u1 * 10_000), _R_CANCEL
                        else:
                            code, resp, pdd = 480, 800 + int(u1 * 2000), None
                    elif outcome == 0:
                        # Ringing, then a long-tailed conversation.
                        code, resp = 200, pdd + 2000 + int(-6000 * log(1.0 - rand())) % 40_000
                        dur = dur_q[int(rand() * _Q)]
                        rel = _R_CALLER if u2 < 0.55 else _R_CALLEE
                    elif outcome == 486:
                        code, resp = 486, pdd + 200
                        if u2 < 0.6:
                            pdd = None  # busy before any ringing
                    elif outcome == 480:
                        if u2 < 0.5:
                            code, resp, rel = 480, pdd + 30_000 + int(u1 * 15_000), _R_NOANSWER
                        else:
                            code, resp, pdd = 480, 500 + int(u2 * 1500), None
                    elif outcome == 487:
                        code, resp, rel = 487, pdd + 1000 + int(u2 * 40_000), _R_CANCEL
                    else:
                        code, resp = 603, pdd + 1000 + int(u2 * 8000)
                if code == 200:
                    if limited:
                        active[ci].append(t + resp + dur * 1000)
                    break
                # halt holds the codes on which the switch stops routing this call (the
                # misconfigured switch leaves 486 out for one carrier and fails over).
                if code in halt or seq_i == last_i:
                    break
                failed.append((t, ci, code, pdd, rel))
                t += resp + 5 + int(rand() * 40)
            end = t + resp + dur * 1000
            seq = 1
            for ft, fci, fcode, fpdd, frel in failed:
                append([ft, call_id, seq, fci, dst, cli, fcode, fpdd, 0, frel, end, late_u])
                seq += 1
            append([t, call_id, seq, ci, dst, cli, code, pdd, dur, rel, end, late_u])
        return rows

    def expected_attempts(self, since_ms: int, until_ms: int) -> int:
        """A cheap estimate of the attempts in a range (for progress bars): the mean
        call rate over its slots times the mean attempts per call."""
        first = max(self.first_slot, since_ms // SLOT_MS)
        last = (until_ms - 1) // SLOT_MS
        per_slot = self.calls_per_min * SLOT_MS / 60_000 * _ATTEMPTS_PER_CALL
        return int(sum(traffic_factor(k * SLOT_MS) for k in range(first, last + 1)) * per_slot)

    def iter_chunks(
        self,
        since_ms: int,
        until_ms: int,
        now: int | None = None,
        after: tuple[int, str, int] | None = None,
        late_fraction: float = 0.0,
        late_delay_ms: int = 0,
    ) -> Iterator[list[Row]]:
        """Published attempt rows with since <= started_at < until and key > after, in
        (started_at, call_id, seq) order, generated lazily slot by slot, in chunks.

        An attempt is published when its call has ended (``late_fraction`` of calls,
        chosen by a per-call draw, only ``late_delay_ms`` after that)."""
        now = self.clock() if now is None else now
        lo = since_ms if after is None else max(since_ms, after[0])
        first = max(self.first_slot, (lo - MAX_SPAN_MS) // SLOT_MS)
        # A call that starts after now cannot have ended: no slot beyond now matters.
        last = min((until_ms - 1) // SLOT_MS, now // SLOT_MS)
        pending: list[Row] = []
        for slot in range(first, last + 1):
            rows = self.slot_rows(slot)
            if late_fraction > 0:
                batch = [
                    r for r in rows
                    if lo <= r[0] < until_ms
                    and (r[10] + late_delay_ms if r[11] < late_fraction else r[10]) <= now
                ]
            else:
                batch = [r for r in rows if lo <= r[0] < until_ms and r[10] <= now]
            if after is not None and slot * SLOT_MS <= after[0]:
                # Only rows starting at the cursor's very millisecond need the full key.
                batch = [r for r in batch if r[0] > after[0] or (r[0], r[1], r[2]) > after]
            if batch:
                # Rows arrive in (call_id, seq) order (earlier slots first, then this
                # slot's calls in index order), so a stable sort on started_at alone
                # gives (started_at, call_id, seq) order.
                pending += batch
                pending.sort(key=_started)
            if not pending:
                continue
            # Later slots only hold attempts starting at or after their own start.
            boundary = (slot + 1) * SLOT_MS
            if pending[-1][0] < boundary:
                yield pending
                pending = []
            else:
                cut = bisect_left(pending, boundary, key=_started)
                if cut:
                    yield pending[:cut]
                    del pending[:cut]
        if pending:
            yield pending

    def iter_rows(
        self,
        since_ms: int,
        until_ms: int,
        now: int | None = None,
        after: tuple[int, str, int] | None = None,
        late_fraction: float = 0.0,
        late_delay_ms: int = 0,
    ) -> Iterator[Row]:
        """iter_chunks, row by row."""
        for chunk in self.iter_chunks(since_ms, until_ms, now, after, late_fraction,
                                      late_delay_ms):
            yield from chunk

    def page(
        self,
        since_ms: int,
        until_ms: int,
        limit: int,
        now: int | None = None,
        after: tuple[int, str, int] | None = None,
        late_fraction: float = 0.0,
        late_delay_ms: int = 0,
    ) -> tuple[list[Row], bool]:
        """Up to ``limit`` rows after ``after``, and whether more follow."""
        out: list[Row] = []
        for chunk in self.iter_chunks(since_ms, until_ms, now, after, late_fraction,
                                      late_delay_ms):
            out += chunk
            if len(out) > limit:
                del out[limit:]
                return out, True
        return out, False

    def record(self, r: Row) -> dict[str, Any]:
        code = r[6]
        return {
            "call_id": r[1], "seq": r[2], "carrier_id": CARRIERS[r[3]].id,
            "started_at": self.iso(r[0]), "dst": r[4], "cli": r[5], "sip_code": code,
            "sip_reason": REASONS[code], "pdd_ms": r[7], "duration_s": r[8],
            "release_reason": RELEASES[r[9]],
        }

    def render_json(self, rows: list[Row]) -> str:
        """Rows as a comma-separated run of compact JSON records."""
        return ",".join(self.render_parts(rows))

    def render_parts(self, rows: list[Row]) -> list[str]:
        """Each row as compact JSON (the store's hot path; ASCII only). Formatted
        directly, without escaping: ids, digits and ISO times hold no quote or
        backslash, and the free-text fields are pre-encoded."""
        carrier, code, release = self._j_carrier, self._j_code, self._j_release
        cache, sec_ms, minute_head = self._iso_cache, _sec_ms(), self._minute_head
        parts: list[str] = []
        append = parts.append
        for r in rows:
            minute, rest = divmod(r[0], 60_000)
            head = cache.get(minute) or minute_head(minute)
            pdd = r[7]
            append(
                f'{{"call_id":"{r[1]}","seq":{r[2]}{carrier[r[3]]}{head}{sec_ms[rest]}'
                f'","dst":"{r[4]}","cli":"{r[5]}{code[r[6]]}'
                f'{"null" if pdd is None else pdd},"duration_s":{r[8]}{release[r[9]]}'
            )
        return parts

    def record_json(self, r: Row) -> str:
        """One record as compact JSON (see render_json)."""
        return self.render_json([r])

    def attempts(
        self, since_ms: int, until_ms: int, now: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Published attempts with since <= started_at < until, in API order."""
        record = self.record
        for r in self.iter_rows(since_ms, until_ms, now):
            yield record(r)


_HH_MM = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SEC_MS: tuple[str, ...] = ()


def _sec_ms() -> tuple[str, ...]:
    """"SS.mmmZ" for every millisecond of a minute: one lookup instead of three formats."""
    global _SEC_MS
    if not _SEC_MS:
        _SEC_MS = tuple(f"{s:02d}.{m:03d}Z" for s in range(60) for m in range(1000))
    return _SEC_MS
