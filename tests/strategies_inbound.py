"""Hypothesis strategies: small random inbound record sets (issue 15, section 1).

Populations are tiny so that everything collides: a few trunk groups of every policy
(some never configured), DIDs with and without their own number or backup PBX, numbers
that are DIDs of the same group, registration histories with ties and expiry, and
deliveries of one to four attempts over every target kind and trigger, with ties in
started_at. A delivery may be ingested in several versions (a shorter one first, then
the whole; changed fields; the same again), configuration may change after the
deliveries it concerns, and one ingest may hold a delivery's attempts out of order
across its batches. Every version is valid together with what came before it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

try:
    from tests.reference import HOUR_MS, to_iso, to_ms
except ImportError:  # tests/ itself is on sys.path (rootdir import mode)
    from reference import HOUR_MS, to_iso, to_ms

BASE_MS = to_ms("2026-11-01T12:00:00.000+00:00")
GROUP_IDS = ("g1", "g2", "g3", "g4")
DID_NUMBERS = ("100", "101", "102", "200")
NUMBERS = ("100", "555", "999", "200")  # failover numbers: some are DIDs
EDGES = ("trunk1", "trunk2", "trunk3")
POLICIES = ("registered_then_trunk2", "backup_then_number", "dial_plan_on_triggers")
TRIGGERS = ("not_registered_404", "no_1xx", "pbx_5xx", "channels_full_503", "other")
KINDS = ("primary_pbx", "trunk2", "backup_pbx", "failover_number", "dial_plan")
EVENTS = ("registered", "refreshed", "unregistered", "expired", "rejected")
FAILED_CODES = (408, 408, 486, 480, 404, 503, 500, 502, 603, 302, 487, 600)

Op = tuple[str, list[dict[str, Any]], int]  # kind, records, batch size


@dataclass(repr=False)
class InboundScenario:
    ops: list[Op] = field(default_factory=list)
    times: list[int] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = ["InboundScenario(ingest in order:"]
        for kind, recs, batch in self.ops:
            lines.append(f"  {kind} (batches of {batch}):")
            lines += [f"    {_short(kind, r)}" for r in recs]
        return "\n".join([*lines, ")"])

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis' pretty printer
        p.text(repr(self))


def _short(kind: str, r: dict[str, Any]) -> str:
    if kind == "deliveries":
        return (f"{r['delivery_id']}/{r['seq']} {r['trunk_group_id']} did={r['did']} "
                f"{r['started_at']} {r['target_kind']} target={r.get('target')} "
                f"sent={r['sent']} code={r['sip_code']} 1xx={r.get('first_1xx_ms')} "
                f"cancelled={r['cancelled']}")
    return repr(r)


offsets = st.one_of(
    st.integers(-5 * HOUR_MS, HOUR_MS),
    st.integers(-5 * HOUR_MS, HOUR_MS).map(lambda x: x - x % 1000),
    st.integers(-6, 1).map(lambda h: h * HOUR_MS),
    st.integers(-9 * 86_400_000, 0),
)


@st.composite
def group_record(draw: st.DrawFn, gid: str) -> dict[str, Any]:
    policy = draw(st.sampled_from(POLICIES))
    rec: dict[str, Any] = {"id": gid, "name": f"Group {gid}", "policy": policy}
    if draw(st.booleans()):
        rec["edges"] = draw(st.lists(st.sampled_from(EDGES), min_size=1, max_size=3,
                                     unique=True))
    for key, values in (("backup_pbx", ["pbx.b", "tg:g2", None]),
                        ("global_failover_number", (*NUMBERS, None)),
                        ("dial_plan", ["ivr", None])):
        if draw(st.booleans()):
            rec[key] = draw(st.sampled_from(values))
    if draw(st.integers(0, 3)) == 0:
        rec["failover_triggers"] = draw(st.lists(st.sampled_from(TRIGGERS), max_size=3))
    return rec


@st.composite
def did_record(draw: st.DrawFn, number: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"did": number, "trunk_group_id": draw(st.sampled_from(GROUP_IDS))}
    if draw(st.booleans()):
        rec["failover_number"] = draw(st.sampled_from(NUMBERS))
    if draw(st.integers(0, 2)) == 0:
        rec["backup_pbx"] = "sip:pbx@10.0.0.9"
    return rec


@st.composite
def registration(draw: st.DrawFn) -> dict[str, Any]:
    rec = {"trunk_group_id": draw(st.sampled_from(GROUP_IDS)),
           "edge": draw(st.sampled_from(EDGES)),
           "at": to_iso(BASE_MS + draw(offsets)), "event": draw(st.sampled_from(EVENTS))}
    if draw(st.booleans()):
        rec["expires_s"] = draw(st.sampled_from([0, 60, 3600, 7200, 86_400]))
    return rec


@st.composite
def attempt(draw: st.DrawFn, delivery: str, seq: int, gid: str, number: str, t: int,
            answer: bool) -> dict[str, Any]:
    kind = "primary_pbx" if seq == 1 and draw(st.integers(0, 3)) else \
        draw(st.sampled_from(KINDS))
    sent = answer or draw(st.integers(0, 3)) > 0
    if answer:
        code = 200
    elif not sent:
        code = draw(st.sampled_from([404, 503]))
    else:
        code = draw(st.sampled_from(FAILED_CODES))
    rec: dict[str, Any] = {
        "delivery_id": delivery, "seq": seq,
        # mostly the delivery's group and DID; another one now and then
        "trunk_group_id": gid if draw(st.integers(0, 5)) else draw(st.sampled_from(GROUP_IDS)),
        "did": number if draw(st.integers(0, 5)) else draw(st.sampled_from(DID_NUMBERS)),
        "started_at": to_iso(t), "target_kind": kind, "sent": sent, "sip_code": code,
        "duration_s": 12.5 if answer else 0, "cancelled": (not answer
                                                           and draw(st.integers(0, 5)) == 0),
    }
    if kind == "failover_number" or draw(st.integers(0, 3)) == 0:
        rec["target"] = draw(st.sampled_from((*NUMBERS, None)))
    if sent and draw(st.booleans()):
        rec["first_1xx_ms"] = draw(st.sampled_from([0, 120, 3000]))
    return rec


@st.composite
def delivery(draw: st.DrawFn, delivery_id: str, n: int) -> list[dict[str, Any]]:
    """A valid delivery of n attempts (only the last may be answered)."""
    gid = draw(st.sampled_from(GROUP_IDS))
    number = draw(st.sampled_from(DID_NUMBERS))
    t = BASE_MS + draw(offsets)
    out = []
    for seq in range(1, n + 1):
        answer = seq == n and draw(st.booleans())
        out.append(draw(attempt(delivery_id, seq, gid, number, t, answer)))
        t += draw(st.sampled_from([0, 0, 1, 999, 15_000, 600_000]))
    return out


@st.composite
def inbound_scenarios(draw: st.DrawFn) -> InboundScenario:
    sc = InboundScenario()
    ops: list[Op] = []
    configured = draw(st.lists(st.sampled_from(GROUP_IDS), unique=True, max_size=4))
    config_ops = [("trunk_groups", [draw(group_record(g)) for g in configured])]
    dids = draw(st.lists(st.sampled_from(DID_NUMBERS), unique=True, max_size=4))
    config_ops.append(("dids", [draw(did_record(n)) for n in dids]))
    # configuration that changes later (same keys, other fields)
    if configured and draw(st.booleans()):
        config_ops.append(("trunk_groups", [draw(group_record(draw(st.sampled_from(
            configured))))]))
    if dids and draw(st.booleans()):
        config_ops.append(("dids", [draw(did_record(draw(st.sampled_from(dids))))]))
    regs = draw(st.lists(registration(), max_size=10))
    # deliveries, each in one to three versions of non-decreasing length
    versions: list[list[list[dict[str, Any]]]] = []
    for i in range(draw(st.integers(0, 10))):
        n = draw(st.integers(1, 4))
        whole = draw(delivery(f"D{i}", n))
        vs = [whole]
        if draw(st.integers(0, 2)) == 0:
            k = draw(st.integers(1, n))
            vs.insert(0, draw(delivery(f"D{i}", k)))  # another shorter version first
        if draw(st.integers(0, 3)) == 0:
            vs.append(whole)  # the same again
        versions.append(vs)
    rounds: list[list[dict[str, Any]]] = [[] for _ in range(3)]
    for vs in versions:
        start = draw(st.integers(0, 3 - len(vs)))
        for j, v in enumerate(vs):
            rounds[start + j] += v
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    ordered = []
    for recs in rounds:
        if recs:
            rng.shuffle(recs)  # a delivery's attempts out of order across small batches
            ordered.append(("deliveries", recs, draw(st.sampled_from([1, 2, 3, 1000]))))
    # configuration and registrations anywhere between the delivery batches
    cfg: list[Op] = [(k, r, 1000) for k, r in config_ops if r]
    if regs:
        cfg.append(("registrations", regs, draw(st.sampled_from([2, 1000]))))
    for op in cfg:
        ordered.insert(draw(st.integers(0, len(ordered))), op)
    ops = ordered
    sc.ops = ops
    sc.times = sorted({to_ms(r["started_at"]) for _k, recs, _b in ops for r in recs
                       if "started_at" in r} | {to_ms(r["at"]) for r in regs})
    return sc


@st.composite
def now_and_window(draw: st.DrawFn, sc: InboundScenario) -> tuple[int, int]:
    interesting = [t + d for t in sc.times for d in (0, 1)] or [BASE_MS]
    now = draw(st.one_of(
        st.sampled_from(interesting),
        st.sampled_from(interesting).map(lambda t: t // HOUR_MS * HOUR_MS + HOUR_MS),
        st.integers(BASE_MS - 6 * HOUR_MS, BASE_MS + 2 * HOUR_MS),
    ))
    window_s = draw(st.sampled_from([60, 900, 3600, 5400, 86_400, 7 * 86_400, 9 * 86_400,
                                     1, 3599, 10_000]))
    # the window's start exactly on an attempt's start now and then
    if draw(st.integers(0, 3)) == 0 and sc.times:
        now = draw(st.sampled_from(sc.times)) + window_s * 1000
    return now, window_s


def ner_sets() -> st.SearchStrategy[list[Any]]:
    return st.sampled_from([["200-299", 480, 486, 600, 603], ["200-299", 486], ["200-299"],
                            ["200-299", 408, 503, 603]])
