"""Hypothesis strategies: small random record sets in the file format of issue 2, section 4.

Populations are kept tiny so that collisions happen: the same numbers dialled through
several carriers, ties in started_at, calls failing over, halt codes, overlapping rate
prefixes and effective dates, records ingested twice or changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

try:
    from tests.reference import HOUR_MS, RefSettings, to_iso, to_ms
except ImportError:  # tests/ itself is on sys.path (rootdir import mode)
    from reference import HOUR_MS, RefSettings, to_iso, to_ms

BASE_MS = to_ms("2026-11-01T12:00:00.000+00:00")
MINUTE_MS = 60_000
DAY_MS = 24 * HOUR_MS

CARRIER_IDS = ("C1", "C2", "C3", "C4", "C5")
COMMON_CODES = (200, 200, 200, 404, 408, 480, 486, 487, 503, 302, 600, 603, 500)
NUMBERS = ("4420711", "4420722", "4930123", "15550100", "15550199", "3314")
CARD_IDS = ("c1", "c2", "c3")

Op = tuple[str, list[dict[str, Any]]]


def _short(kind: str, r: dict[str, Any]) -> str:
    if kind == "attempts":
        return (
            f"{r['call_id']}/{r['seq']} {r['carrier_id']} {r['started_at']} {r['dst']} "
            f"code={r['sip_code']} pdd={r['pdd_ms']} dur={r['duration_s']}"
        )
    if kind == "rates":
        return (
            f"{r['carrier_id']} {r['card_id']} prefix={r['prefix']} from={r['effective_from']} "
            f"{r['status']} rate={r['rate']} fee={r['connect_fee']} "
            f"mcd={r['mcd_s']} pulse={r['pulse_s']}"
        )
    if kind == "carriers":
        return (f"{r['id']} {r.get('name', '(no name)')!r} {r.get('status', '(no status)')} "
                f"halt_codes={r.get('halt_codes', '(none given)')}")
    return repr(r)


@dataclass(repr=False)
class Scenario:
    """What to ingest, in order: (kind, records) batches."""

    ops: list[Op] = field(default_factory=list)
    carrier_ids: list[str] = field(default_factory=list)
    times: list[int] = field(default_factory=list)  # interesting instants (ms)
    # Attempts ingested as JSON lines (the msgspec path of files and pages), else as
    # Python records (pydantic's).
    attempts_as_json: bool = False

    def __repr__(self) -> str:
        how = " (attempts as JSON lines)" if self.attempts_as_json else ""
        lines = [f"Scenario(ingest batches in order{how}:"]
        for kind, recs in self.ops:
            if recs:
                lines.append(f"  {kind}:")
                lines += [f"    {_short(kind, r)}" for r in recs]
        return "\n".join([*lines, ")"])

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis' pretty printer
        p.text(repr(self))


def iso(ms: int, short: bool = False) -> str:
    """Record-side ISO: canonical, or without milliseconds when they are zero."""
    text = to_iso(ms)
    if short and ms % 1000 == 0:
        return text[:-5] + "Z"
    return text


codes = st.one_of(
    st.sampled_from(COMMON_CODES),
    st.sampled_from(COMMON_CODES),
    st.sampled_from(COMMON_CODES),
    st.integers(100, 699),
)

# Offsets from BASE_MS: mostly within a few hours, sometimes weeks or a year away
# (summary periods daily/monthly, consecutive_failures history).
offsets = st.one_of(
    st.integers(-6 * HOUR_MS, 2 * HOUR_MS),
    st.integers(-6 * HOUR_MS, 2 * HOUR_MS).map(lambda x: x - x % 1000),
    st.integers(-40 * DAY_MS, 2 * DAY_MS),
    st.integers(-400 * DAY_MS, 0),
)


@st.composite
def settings(draw: st.DrawFn) -> RefSettings:
    """Defaults, or thresholds small enough for a handful of attempts to trip the flags."""
    if draw(st.booleans()):
        return RefSettings()
    return RefSettings(
        sdc_max_s=draw(st.sampled_from([0, 3, 6, 10])),
        fas_min_connected=draw(st.integers(1, 4)),
        fas_no_ring_ratio=draw(st.sampled_from([0.0, 0.2, 0.5, 1.0])),
        fas_short_ratio=draw(st.sampled_from([0.0, 0.15, 0.5, 1.0])),
        never_404_min_attempts=draw(st.integers(1, 5)),
        fas_never_404_others_ratio=draw(st.sampled_from([0.0, 0.01, 0.2, 0.5])),
        fas_unallocated_min_numbers=draw(st.integers(1, 3)),
        fas_min_flags=draw(st.integers(1, 3)),
    )


@st.composite
def carrier_record(draw: st.DrawFn, cid: str) -> dict[str, Any]:
    halt = draw(
        st.one_of(
            st.none(),
            st.none(),
            st.lists(st.sampled_from([302, 404, 408, 480, 486, 487, 503, 600]), max_size=3),
        )
    )
    rec: dict[str, Any] = {
        "id": cid,
        "name": draw(st.sampled_from(["Alpha Telecom", "Beta", "Gamma Voice", "", None])),
        "status": draw(st.sampled_from(["active", "inactive", "pending", None])),
        "channels": draw(st.one_of(st.none(), st.integers(0, 100))),
        "cps": draw(st.one_of(st.none(), st.integers(0, 20))),
        "currency": draw(st.sampled_from(["EUR", None])),
        "halt_codes": halt,
    }
    # Only the id is required: a switch that does not know a field leaves it out (or
    # writes null), as for halt_codes.
    for name in ("name", "status", "channels", "cps", "currency", "halt_codes"):
        if rec[name] is None and draw(st.booleans()):
            del rec[name]
    return rec


@st.composite
def rate_record(draw: st.DrawFn, cids: list[str], numbers: list[str]) -> dict[str, Any]:
    num = draw(st.sampled_from(numbers))
    prefix = draw(
        st.one_of(
            st.integers(1, len(num)).map(lambda k: num[:k]),
            st.sampled_from(["4", "44", "49", "1", "33", "7"]),
        )
    )
    return {
        "carrier_id": draw(st.sampled_from(cids)),
        "card_id": draw(st.sampled_from(CARD_IDS)),
        "card_name": draw(st.sampled_from([None, "Premium", "Std"])),
        "prefix": prefix,
        "destination": None,
        "rate": draw(st.sampled_from([0.0, 0.0125, 0.02, 0.2, 1.5, 0.333])),
        "connect_fee": draw(st.sampled_from([0.0, 0.0, 0.01, 0.05])),
        "mcd_s": draw(st.sampled_from([0, 1, 6, 30, 60])),
        "pulse_s": draw(st.sampled_from([1, 1, 6, 30, 60])),
        "currency": "EUR",
        "effective_from": iso(
            BASE_MS
            + draw(
                st.one_of(
                    st.sampled_from([-500 * DAY_MS, -30 * DAY_MS, -3 * HOUR_MS, 0]),
                    offsets,
                )
            )
        ),
        "status": draw(st.sampled_from(["active", "active", "active", "blocked"])),
    }


@dataclass(frozen=True)
class World:
    """Who is who in one example: unallocated numbers get 404 from honest carriers and
    200 from the FAS carriers, so that code consistency and the FAS flags get exercised."""

    cids: list[str]
    numbers: list[str]
    unallocated: frozenset[str]
    fas: frozenset[str]


@st.composite
def attempt_values(draw: st.DrawFn, w: World, dst: str, last: bool) -> dict[str, Any]:
    """The non-key fields of one attempt (carrier, code, pdd, duration)."""
    carrier = draw(st.sampled_from(w.cids))
    if dst in w.unallocated and draw(st.integers(0, 4)) > 0:
        code = 200 if carrier in w.fas else 404
    elif last and draw(st.booleans()):
        code = 200
    else:
        code = draw(codes)
    ok = 200 <= code <= 299
    if ok:
        short = carrier in w.fas or draw(st.booleans())
        duration = draw(durations(6 if short else 400))
    else:
        duration = draw(st.sampled_from([0, 0, 0, 0, 0, 0, 0, 3, 0.25]))
    return {
        "carrier_id": carrier,
        "sip_code": code,
        "pdd_ms": None if ok and carrier in w.fas else draw(
            st.one_of(st.none(), st.integers(0, 8000),
                      st.integers(0, 8_000_000).map(lambda us: us / 1000))
        ),
        "duration_s": duration,
    }


def durations(top: int) -> st.SearchStrategy[float]:
    """Answered seconds as switches write them: whole, or with up to three decimals
    (Kamailio's dialog CDRs and most CDR exports), around the short-call limits too."""
    return st.one_of(
        st.integers(0, top),
        st.integers(0, top * 1000).map(lambda ms: ms / 1000),
        st.sampled_from([0.001, 2.999, 3.0, 3.001, 5.999, 6.0, 6.001, 9.999, 10.001]),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n_carriers = draw(st.integers(2, 5))
    cids = list(CARRIER_IDS[:n_carriers])
    numbers = draw(st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=6, unique=True))
    # A few shared instants so that attempts tie on started_at.
    ties = draw(st.lists(offsets, min_size=1, max_size=4))
    start_off = st.one_of(st.sampled_from(ties), offsets)

    # Carriers: a random subset is in the carriers table, the rest only appear in attempts.
    table_ids = draw(st.lists(st.sampled_from(cids), unique=True, max_size=n_carriers))
    carriers = [draw(carrier_record(cid)) for cid in table_ids]
    contacts = [
        {"carrier_id": cid, "name": "NOC desk", "role": "noc", "email": None,
         "phone": None, "notes": None}
        for cid in table_ids[:2]
    ]
    rates = draw(st.lists(rate_record(cids, numbers), max_size=8))
    world = World(
        cids=cids,
        numbers=numbers,
        unallocated=frozenset(draw(st.sets(st.sampled_from(numbers)))),
        fas=frozenset(draw(st.sets(st.sampled_from(cids), max_size=1 + n_carriers // 4))),
    )

    attempts: list[dict[str, Any]] = []
    n_calls = draw(st.integers(1, 15))
    for i in range(n_calls):
        call_id = f"call-{i}"
        start = BASE_MS + draw(start_off)
        dst = draw(st.sampled_from(numbers))
        n_att = draw(st.integers(1, 4))
        t = start
        for seq in range(1, n_att + 1):
            vals = draw(attempt_values(world, dst, last=seq == n_att))
            attempts.append(
                {
                    "call_id": call_id,
                    "seq": seq,
                    "started_at": iso(t, short=draw(st.booleans())),
                    "dst": dst,
                    "cli": "4412345",
                    "sip_reason": None,
                    "release_reason": None,
                    **vals,
                }
            )
            t += draw(st.sampled_from([0, 0, 1, 250, 999, 1000, 5000, MINUTE_MS]))

    ops: list[Op] = []
    # Attempts may come in several batches, in any order.
    order = draw(st.permutations(attempts))
    cut = draw(st.integers(0, len(order)))
    ops += [("carriers", carriers), ("contacts", contacts), ("rates", rates)]
    ops += [("attempts", list(order[:cut])), ("attempts", list(order[cut:]))]

    # Repeats: the same records again, unchanged.
    if draw(st.booleans()):
        ops.append(("attempts", draw(st.lists(st.sampled_from(attempts), max_size=6))))
    if carriers and draw(st.booleans()):
        ops.append(("carriers", list(carriers)))
    if rates and draw(st.booleans()):
        ops.append(("rates", list(rates)))

    # Changes: a subset of records re-ingested with new values (last write wins).
    if draw(st.booleans()):
        changed = []
        for old in draw(st.lists(st.sampled_from(attempts), max_size=5)):
            new = dict(old)
            what = draw(st.sampled_from(["values", "time", "dst", "all"]))
            if what in ("dst", "all"):
                new["dst"] = draw(st.sampled_from(numbers))
            if what in ("values", "all"):
                new.update(draw(attempt_values(world, new["dst"], last=draw(st.booleans()))))
            if what in ("time", "all"):
                new["started_at"] = iso(BASE_MS + draw(start_off))
            changed.append(new)
        ops.append(("attempts", changed))
    if carriers and draw(st.booleans()):
        cid = draw(st.sampled_from(table_ids))
        ops.append(("carriers", [draw(carrier_record(cid))]))
    if rates and draw(st.booleans()):
        old = draw(st.sampled_from(rates))
        new = dict(old)
        new.update(
            rate=draw(st.sampled_from([0.0, 0.01, 0.7])),
            status=draw(st.sampled_from(["active", "blocked"])),
            mcd_s=draw(st.sampled_from([0, 6, 60])),
            pulse_s=draw(st.sampled_from([1, 6, 60])),
        )
        ops.append(("rates", [new]))

    times = sorted({to_ms(a["started_at"]) for _k, recs in ops if _k == "attempts"
                    for a in recs})
    return Scenario(ops=ops, carrier_ids=cids, times=times,
                    attempts_as_json=draw(st.booleans()))


WINDOWS_S = (900, 3600, 2 * 3600, 6 * 3600, 86400, 7 * 86400)


@st.composite
def now_and_window(draw: st.DrawFn, sc: Scenario) -> tuple[int, int]:
    """A `now` and a window, often placed so that an attempt sits exactly on a boundary."""
    window_s = draw(st.one_of(st.sampled_from(WINDOWS_S), st.integers(900, 7 * 86400)))
    how = draw(st.sampled_from(["base", "random", "at", "edge"]))
    if how == "base" or not sc.times:
        now = BASE_MS
    elif how == "random":
        now = BASE_MS + draw(st.integers(-7 * HOUR_MS, 3 * HOUR_MS))
    elif how == "at":  # an attempt at exactly now is outside W
        now = draw(st.sampled_from(sc.times))
    else:  # an attempt at exactly now - W is inside W
        now = draw(st.sampled_from(sc.times)) + window_s * 1000
    return now, window_s
