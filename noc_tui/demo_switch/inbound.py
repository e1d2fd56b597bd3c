"""The demo switch's inbound side (issue 15): trunk groups delivering DIDs to customers'
PBXs, their registrations and their deliveries, deterministic from the seed.

Like the carrier traffic (simulator.py), everything is generated per fixed time unit
from an RNG seeded by (seed, unit): registration events per hour and edge, deliveries
per SLOT_MS, so any window is produced on its own, identically, without what came
before. The scenarios (GROUPS) cover every path of issue 15, section 2; each group's
`scenario` says in plain words what it shows and which findings it implies.

Registration model, per edge: a PBX refreshes once an hour, at minute 7 of the hour
(plus a few seconds per edge), each registration lasting until 5 minutes past the next
refresh. A flapping edge loses its registration in some hours (unregistered, or a
missed refresh that expires, sometimes with a rejected attempt) and is back within the
hour. Every outage lies between minutes 12 and 53 of its hour, so on the hour every edge
that is meant to be up is up (tests judge registration state there).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from noc_tui.demo_switch.simulator import _PEAK, traffic_factor
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, ms_to_iso

SLOT_MS = 300_000
# Deliveries per minute, as a share of the carrier side's calls per minute.
INBOUND_SHARE = 0.12
REG_OFFSET_MS = 420_000  # refreshes at minute 7 of each hour (plus 0-59 s per edge)
REG_GRACE_MS = 300_000  # a registration lasts until this long after the next refresh
FLAP_P = 0.1  # a flapping edge's chance of an outage in an hour
LAPSE_AT_DAY = 31  # a lapsing edge stops refreshing this day of history, for good
INV_TIMEOUT_MS = 30_000  # the switch's final-reply timer once a provisional reply came
HUNG_P = 0.25  # share of hours in which the hung PBX answers 100 Trying only
MAX_ANSWERED_S = 1800.0  # within the poller's 2 h overlap with every other delay
NER = frozenset({480, 486, 600, 603})  # the callee declined: the switch stops there
REASONS = {
    200: "OK", 404: "Not registered", 408: "Request Timeout", 480: "Temporarily Unavailable",
    486: "Busy Here", 487: "Request Terminated", 500: "Server Internal Error",
    503: "Service Unavailable", 603: "Decline",
}
CHANNELS_FULL = "Channel Limit Reached"


@dataclass(frozen=True)
class Pbx:
    """How a PBX answers a sent INVITE: shares of each outcome (the rest answers)."""

    refuse: float = 0.1  # 486 / 603 / 480: the callee declined
    cancel: float = 0.06  # the caller hangs up while it rings
    fail_5xx: float = 0.02
    silent: float = 0.0  # no reply at all: 408 when the no-1xx timer fires
    hung: bool = False  # in HUNG_P of hours: 100 Trying only, 408 after INV_TIMEOUT_MS


@dataclass(frozen=True)
class GroupSpec:
    id: str
    name: str
    customer: str | None
    policy: str
    edges: tuple[str, ...] | None  # None: served as null, the default trunk1, trunk2
    backup_pbx: str | None
    global_failover_number: str | None
    dial_plan: str | None
    failover_triggers: tuple[str, ...] | None
    no_1xx_timeout_s: float | None
    channel_limit: int | None
    dids: tuple[tuple[str, str | None, str | None], ...]  # (did, own number, own backup)
    share: float  # of the inbound deliveries
    registration: tuple[str, ...]  # per edge: stable | flapping | none | lapsing
    pbx: Pbx
    quirk: str | None  # number_first | dial_plan_any: the switch's misconfiguration
    scenario: str
    # Share of the channel limit that calls the demo does not model one by one keep
    # busy at peak (about; drawn per slot).
    peak_busy: float = 0.0


DIAL_PLAN_TRIGGERS = ("not_registered_404", "no_1xx", "pbx_5xx", "channels_full_503")

GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec(
        "acme", "Acme Dental Group", "Acme Dental", "backup_then_number", None,
        "sip:failover@pbx-dr.acme-dental.example:5060", "442079460300", None, None, 15, 30,
        (("442079460301", "447700900301", None), ("442079460302", None, None),
         ("442079460303", None, "sip:reception@10.20.0.5"), ("442079460304", None, None),
         ("442079460305", "447700900305", None)),
        0.22, ("flapping", "stable"), Pbx(fail_5xx=0.03, silent=0.02), None,
        "backup PBX then failover number, in the right order; the PBX registers on both "
        "trunks, trunk1 flaps; DIDs with and without their own number, one with its own "
        "backup PBX; 30 channels, never all busy; no finding (F4 only while trunk1 is "
        "down)", peak_busy=0.4),
    GroupSpec(
        "bistro", "Bistro Lumen", "Bistro Lumen Ltd", "backup_then_number",
        ("trunk1", "trunk2"), "dr.bistro-lumen.example:5080", None, None, None, 15, None,
        (("442079460401", "447700900401", None), ("442079460402", None, None),
         ("442079460403", None, None)),
        0.1, ("none", "stable"), Pbx(), None,
        "the PBX registers only on trunk2 while failover is configured: every call is "
        "not registered (404) on trunk1 and goes to the backup PBX although the PBX is up "
        "(F4 on trunk1); no global number and DIDs without their own (F8)"),
    GroupSpec(
        "cobalt", "Cobalt Logistics", "Cobalt Logistics", "backup_then_number",
        ("trunk1", "trunk2"), "198.51.100.20", "442079460500", None, None, 15, None,
        (("442079460501", None, None), ("442079460502", None, None)),
        0.12, ("stable", "stable"), Pbx(hung=True), None,
        "a hung PBX that answers only 100 Trying in some hours: a provisional reply came, "
        "so the local 408 is trigger other, not no_1xx; the backup PBX takes the call"),
    GroupSpec(
        "delta", "Delta Freight", "Delta Freight", "backup_then_number", ("trunk1", "trunk2"),
        "tg:delta-dr", "442079460700", None, None, 15, None,
        (("442079460701", "442079460702", None), ("442079460702", None, None),
         ("442079460703", "447700900703", None)),
        0.14, ("stable", "stable"), Pbx(fail_5xx=0.25, silent=0.05), "number_first",
        "the switch wrongly calls the failover number before the backup PBX (F2; F11 when "
        "the number answers and the backup PBX is never tried); one DID's own number is "
        "another DID of the group (F10)"),
    GroupSpec(
        "ember", "Ember Clinic", "Ember Health", "dial_plan_on_triggers", ("trunk1",), None,
        None, "dp-ember-overflow", None, 10, 3,
        (("442079460801", None, None), ("442079460802", None, None)),
        0.18, ("flapping",), Pbx(fail_5xx=0.03, silent=0.03), None,
        "dial plan on the four triggers; 3 channels, full at peak (503 decided locally, "
        "F9); not registered while trunk1 flaps, 5xx and no 1xx also go to the dial plan",
        peak_busy=1.0),
    GroupSpec(
        "fjord", "Fjord Studios", None, "dial_plan_on_triggers", ("trunk1",), None, None,
        "dp-fjord-voicemail", ("not_registered_404", "channels_full_503"), 15, None,
        (("442079460901", None, None),),
        0.06, ("stable",), Pbx(fail_5xx=0.15, silent=0.05), "dial_plan_any",
        "failover triggers limited to not registered and channels full, but the switch "
        "also sends 5xx and no-1xx calls to the dial plan (F6)"),
    GroupSpec(
        "granite", "Granite Legal", "Granite Legal LLP", "registered_then_trunk2",
        ("trunk1",), None, None, None, None, 15, None,
        (("442079461001", None, None),),
        0.06, ("stable",), Pbx(fail_5xx=0.1, silent=0.05), None,
        "one edge and no failover: a failed primary is lost with nothing configured after "
        "it (F7)"),
    GroupSpec(
        "harbor", "Harbor Hotels", "Harbor Hotels", "registered_then_trunk2",
        ("trunk1", "trunk2"), None, None, None, None, 15, None,
        (("442079461101", None, None), ("442079461102", None, None)),
        0.12, ("flapping", "lapsing"), Pbx(), None,
        "trunk1 then trunk2: trunk1 flaps (the call goes to trunk2), and trunk2's "
        f"registration expires for good on day {LAPSE_AT_DAY} of the history: registered "
        "on one edge only from then on (F5), and calls during a trunk1 flap are lost (404 "
        "on both)"),
)
_RATE_TOTAL = sum(g.share for g in GROUPS)


@dataclass(frozen=True)
class _Delivery:
    first_ms: int
    delivery_id: str
    end_ms: int
    attempts: tuple[dict[str, Any], ...]


Event = tuple[int, str, str, str, str | None, int | None]  # at, group, edge, event, ...


def _edges(g: GroupSpec) -> tuple[str, ...]:
    return g.edges if g.edges is not None else ("trunk1", "trunk2")


def _contact(gi: int, ei: int) -> str:
    return f"sip:pbx@203.0.113.{10 + gi}:{5060 + ei}"


class InboundSimulator:
    """The inbound records of one seed and one history start; ``clock`` is now."""

    def __init__(self, seed: int, history_start_ms: int, per_min: float,
                 clock: Any) -> None:
        self.seed = seed
        self.history_start_ms = history_start_ms
        self.per_min = per_min
        self.clock = clock
        self.first_slot = history_start_ms // SLOT_MS
        self.lapse_ms = history_start_ms + LAPSE_AT_DAY * DAY_MS
        self._slots: dict[int, tuple[_Delivery, ...]] = {}
        self._hours: dict[int, tuple[Event, ...]] = {}

    # -- configuration ----------------------------------------------------------------

    def trunk_groups(self) -> list[dict[str, Any]]:
        """The trunk groups, as the API serves them (by id)."""
        return sorted(({
            "id": g.id, "name": g.name, "customer": g.customer, "policy": g.policy,
            "edges": list(g.edges) if g.edges is not None else None,
            "backup_pbx": g.backup_pbx, "global_failover_number": g.global_failover_number,
            "dial_plan": g.dial_plan,
            "failover_triggers": (list(g.failover_triggers)
                                  if g.failover_triggers is not None else None),
            "no_1xx_timeout_s": g.no_1xx_timeout_s, "channel_limit": g.channel_limit,
        } for g in GROUPS), key=lambda r: r["id"])

    def dids(self) -> list[dict[str, Any]]:
        """The DIDs, as the API serves them (by did)."""
        return sorted(({"did": d, "trunk_group_id": g.id, "failover_number": number,
                        "backup_pbx": backup}
                       for g in GROUPS for d, number, backup in g.dids),
                      key=lambda r: r["did"])

    # -- registrations -----------------------------------------------------------------

    @staticmethod
    def _offset(gi: int, ei: int) -> int:
        return REG_OFFSET_MS + 1000 * ((gi * 7 + ei * 13) % 60)

    def _outage(self, gi: int, ei: int, hour: int) -> tuple[str, int, int, bool] | None:
        """A flapping edge's outage in an hour: (how, from, to, rejected attempt?), ms."""
        if hour * HOUR_MS + self._offset(gi, ei) < self.history_start_ms + HOUR_MS:
            return None  # the first registration of the history stands
        rng = random.Random(f"reg{self.seed}:{gi}:{ei}:{hour}")
        if rng.random() >= FLAP_P:
            return None
        t = hour * HOUR_MS + self._offset(gi, ei)
        down = rng.randrange(3, 26) * 60_000
        if rng.random() < 0.6:  # the PBX unregisters (a reboot), then registers again
            start = t + rng.randrange(5, 21) * 60_000
            return "unregistered", start, start + down, False
        # The refresh is missed: the registration expires, then comes back.
        return "expired", t + REG_GRACE_MS, t + REG_GRACE_MS + down, rng.random() < 0.5

    def _edge_events(self, gi: int, ei: int, hour: int) -> list[Event]:
        g = GROUPS[gi]
        kind = g.registration[ei]
        edge = _edges(g)[ei]
        t = hour * HOUR_MS + self._offset(gi, ei)
        if kind == "none" or t < self.history_start_ms:
            return []
        contact = _contact(gi, ei)
        until = t + HOUR_MS + REG_GRACE_MS  # when a registration made this hour expires
        first = t - HOUR_MS < self.history_start_ms
        if kind == "lapsing" and t >= self.lapse_ms:
            if t - HOUR_MS >= self.lapse_ms:
                return []
            return [(t + REG_GRACE_MS, g.id, edge, "expired", contact, None)]
        out: list[Event] = []
        outage = self._outage(gi, ei, hour) if kind == "flapping" else None
        if outage is None or outage[0] == "unregistered":
            out.append((t, g.id, edge, "registered" if first else "refreshed", contact,
                        (until - t) // 1000))
        if outage is not None:
            how, start, end, rejected = outage
            out.append((start, g.id, edge, how, contact, 0 if how == "unregistered" else None))
            if rejected:
                out.append(((start + end) // 2 // 1000 * 1000, g.id, edge, "rejected",
                            contact, None))
            out.append((end, g.id, edge, "registered", contact, (until - end) // 1000))
        return out

    def hour_events(self, hour: int) -> tuple[Event, ...]:
        """Every edge's events of one hour (they all lie within it), in API order."""
        got = self._hours.get(hour)
        if got is None:
            evs = [ev for gi, g in enumerate(GROUPS) for ei in range(len(_edges(g)))
                   for ev in self._edge_events(gi, ei, hour)]
            got = tuple(sorted(evs, key=lambda e: e[:4]))
            if len(self._hours) > 50_000:
                self._hours.clear()
            self._hours[hour] = got
        return got

    def registered(self, gi: int, ei: int, t: int) -> bool:
        """Whether the edge is registered at t, as its events say."""
        kind = GROUPS[gi].registration[ei]
        off = self._offset(gi, ei)
        first = -(-(self.history_start_ms - off) // HOUR_MS) * HOUR_MS + off
        if kind == "none" or t < first:
            return False
        if kind == "lapsing" and t >= self.lapse_ms:
            stop = -(-(self.lapse_ms - off) // HOUR_MS) * HOUR_MS + off  # the missed refresh
            if t >= stop + REG_GRACE_MS:
                return False
        if kind != "flapping":
            return True
        outage = self._outage(gi, ei, (t - off) // HOUR_MS)
        return outage is None or not outage[1] <= t < outage[2]

    def registration_events(self, since: int, until: int, now: int,
                            after: tuple[int, str, str, str] | None = None,
                            limit: int | None = None
                            ) -> tuple[list[Event], bool]:
        """Events with since <= at < until, at <= now, key > after, in API order; at
        most `limit`, and whether more follow."""
        out: list[Event] = []
        lo = since if after is None else max(since, after[0])
        for hour in range(max(lo, self.history_start_ms) // HOUR_MS,
                          min(until - 1, now) // HOUR_MS + 1):
            for ev in self.hour_events(hour):
                if not (lo <= ev[0] < until and ev[0] <= now):
                    continue
                if after is not None and ev[:4] <= after:
                    continue
                if limit is not None and len(out) == limit:
                    return out, True
                out.append(ev)
        return out, False

    @staticmethod
    def event_record(ev: Event) -> dict[str, Any]:
        at, gid, edge, event, contact, expires = ev
        return {"trunk_group_id": gid, "edge": edge, "at": ms_to_iso(at), "event": event,
                "contact": contact, "expires_s": expires}

    # -- deliveries --------------------------------------------------------------------

    def slot_deliveries(self, slot: int) -> tuple[_Delivery, ...]:
        """The deliveries whose first attempt starts in one slot (published or not), in
        API order."""
        got = self._slots.get(slot)
        if got is None:
            got = self._simulate(slot)
            if len(self._slots) > 50_000:
                self._slots.clear()
            self._slots[slot] = got
        return got

    def _simulate(self, slot: int) -> tuple[_Delivery, ...]:
        if slot < self.first_slot:
            return ()
        rng = random.Random(f"in{self.seed}:{slot}")
        rand = rng.random
        t0 = slot * SLOT_MS
        load = traffic_factor(t0)
        out: list[_Delivery] = []
        for gi, g in enumerate(GROUPS):
            lam = self.per_min * g.share / _RATE_TOTAL * (SLOT_MS / 60_000) * load
            limit, n, p = math.exp(-lam), 0, rand()
            while p > limit and n < 10_000:  # Knuth's Poisson: the rates are small
                n += 1
                p *= rand()
            # Calls in progress on the group that the demo does not model one by one:
            # the channel limit is reached at peak.
            busy = (int(g.channel_limit * g.peak_busy * load / _PEAK
                        * (0.75 + 0.35 * rand())) if g.channel_limit else 0)
            hung = g.pbx.hung and random.Random(
                f"hung{self.seed}:{gi}:{t0 // HOUR_MS}").random() < HUNG_P
            active: list[int] = []
            for i, off in enumerate(sorted(int(rand() * SLOT_MS) for _ in range(n))):
                d = self._deliver(rng, gi, f"in{self.seed}-{slot:07x}-{gi}{i:03x}",
                                  t0 + off, busy, active, hung)
                out.append(d)
        out.sort(key=lambda d: (d.first_ms, d.delivery_id))
        return tuple(out)

    def _deliver(self, rng: random.Random, gi: int, delivery_id: str, start: int,
                 busy: int, active: list[int], hung: bool) -> _Delivery:
        g = GROUPS[gi]
        rand = rng.random
        edges = _edges(g)
        did, own_number, own_backup = g.dids[int(rand() * len(g.dids))]
        # Some callers withhold their number (null: unknown).
        caller = f"4477009{rng.randrange(10**5):05d}" if rand() >= 0.05 else None
        # The steps the switch takes, in its order (which may be wrong: the quirk).
        steps: list[tuple[str, str | None, str | None]] = [("primary_pbx", None, None)]
        if g.policy == "registered_then_trunk2" and len(edges) >= 2:
            steps.append(("trunk2", None, None))
        elif g.policy == "backup_then_number":
            backup = own_backup or g.backup_pbx
            number, source = ((own_number, "did") if own_number else
                              (g.global_failover_number, "trunk_group"))
            later = []
            if backup is not None:
                later.append(("backup_pbx", backup, None))
            if number is not None:
                later.append(("failover_number", number, source))
            if g.quirk == "number_first":
                later.reverse()
            steps += later
        elif g.policy == "dial_plan_on_triggers" and g.dial_plan is not None:
            steps.append(("dial_plan", g.dial_plan, None))
        moves_on = (DIAL_PLAN_TRIGGERS if g.quirk == "dial_plan_any"
                    else g.failover_triggers if g.failover_triggers is not None
                    else DIAL_PLAN_TRIGGERS if g.policy == "dial_plan_on_triggers"
                    else None)  # None: every trigger
        timeout_ms = int((g.no_1xx_timeout_s or 15) * 1000)
        attempts: list[dict[str, Any]] = []
        t = start
        for seq, (kind, target, source) in enumerate(steps, 1):
            edge = (edges[0] if kind == "primary_pbx" else edges[1] if kind == "trunk2"
                    else None)
            sent, first_1xx, code, took, dur, cancelled = True, None, 0, 0, 0.0, False
            if kind == "primary_pbx" and g.channel_limit and (
                    busy + sum(1 for e in active if e > t) >= g.channel_limit):
                sent, code, took = False, 503, 2
            elif edge is not None and not self.registered(gi, edges.index(edge), t):
                sent, code, took = False, 404, 1
            else:
                if edge is not None:
                    target = _contact(gi, edges.index(edge))
                first_1xx, code, took, dur, cancelled = _answer(rng, kind, g.pbx, hung,
                                                                 timeout_ms)
            if not sent:
                target = None
            attempts.append({
                "delivery_id": delivery_id, "seq": seq, "trunk_group_id": g.id, "did": did,
                "caller": caller, "started_at": ms_to_iso(t), "target_kind": kind,
                "target": target, "edge": edge, "sent": sent, "number_source": source,
                "first_1xx_ms": first_1xx, "sip_code": code,
                "sip_reason": CHANNELS_FULL if not sent and code == 503 else REASONS[code],
                "duration_s": dur, "cancelled": cancelled,
            })
            end = t + took + int(dur * 1000)
            if 200 <= code <= 299:
                if kind == "primary_pbx":
                    active.append(end)
                break
            if cancelled or (sent and code in NER):
                break  # the caller left, or the callee declined: the chain ends normally
            trig = _trigger(sent, code, first_1xx)
            if moves_on is not None and trig not in moves_on:
                break
            t = end + 5 + int(rand() * 40)
        return _Delivery(start, delivery_id, end, tuple(attempts))

    def deliveries_page(self, since: int, until: int, now: int,
                        after: tuple[int, str, int] | None = None, limit: int | None = None
                        ) -> tuple[list[tuple[tuple[int, str, int], dict[str, Any]]], bool]:
        """The attempts of the deliveries published by now whose first attempt started in
        [since, until), keyed (first start, delivery id, seq), after `after`; at most
        `limit`, and whether more follow."""
        out: list[tuple[tuple[int, str, int], dict[str, Any]]] = []
        lo = since if after is None else max(since, after[0])
        for slot in range(max(self.first_slot, lo // SLOT_MS),
                          min(until - 1, now) // SLOT_MS + 1):
            for d in self.slot_deliveries(slot):
                if not (lo <= d.first_ms < until) or d.end_ms > now:
                    continue
                for a in d.attempts:
                    key = (d.first_ms, d.delivery_id, a["seq"])
                    if after is not None and key <= after:
                        continue
                    if limit is not None and len(out) == limit:
                        return out, True
                    out.append((key, a))
        return out, False


def _trigger(sent: bool, code: int, first_1xx: int | None) -> str:
    """As records.inbound.trigger, for a failed attempt the caller did not cancel."""
    if not sent:
        return "not_registered_404" if code == 404 else "channels_full_503"
    if code == 408 and first_1xx is None:
        return "no_1xx"
    return "pbx_5xx" if 500 <= code <= 599 else "other"


def _answer(rng: random.Random, kind: str, pbx: Pbx, hung: bool, timeout_ms: int
            ) -> tuple[int | None, int, int, float, bool]:
    """A sent attempt: (first_1xx_ms, sip_code, ms to its final reply, answered seconds,
    cancelled)."""
    rand = rng.random
    ring = 60 + int(rand() * 340)  # 180 Ringing from a PBX on the customer's LAN
    talk = round(min(MAX_ANSWERED_S, rng.lognormvariate(4.0, 1.0)), 3)
    if kind in ("primary_pbx", "trunk2"):
        if hung:  # 100 Trying, then nothing: the switch gives up on its own timer
            return 20 + int(rand() * 40), 408, INV_TIMEOUT_MS, 0.0, False
        refuse, cancel, fail, silent = pbx.refuse, pbx.cancel, pbx.fail_5xx, pbx.silent
    elif kind == "backup_pbx":
        refuse, cancel, fail, silent = 0.04, 0.04, 0.05, 0.05
    elif kind == "failover_number":
        refuse, cancel, fail, silent = 0.15, 0.05, 0.05, 0.0
    else:  # the dial plan's IVR answers at once, short calls
        return 40, 200, 300 + int(rand() * 500), round(10 + rand() * 80, 3), False
    u = rand()
    if u < refuse:
        code = (486, 603, 480)[int(rand() * 3)]
        return ring, code, ring + (200 if code == 486 else 4000 + int(rand() * 20_000)), 0.0, \
            False
    u -= refuse
    if u < cancel:
        return ring, 487, ring + 3000 + int(rand() * 20_000), 0.0, True
    u -= cancel
    if u < fail:
        return None, (503, 500)[int(rand() * 2)], 50 + int(rand() * 250), 0.0, False
    u -= fail
    if u < silent:
        return None, 408, timeout_ms, 0.0, False
    return ring, 200, ring + 2000 + int(rand() * 16_000), talk, False
