"""A plain-Python reference for the inbound figures and findings (issue 15, section 2).

Written from the definitions only and deliberately naive: the records sit in dicts (the
last one ingested wins per key) and every answer is recomputed by scanning them all. It
shares no code with ``noc_tui``, so that the property tests compare two independent
readings of the same definitions. Records are taken as already valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

try:
    from tests.reference import to_iso, to_ms
except ImportError:  # tests/ itself is on sys.path (rootdir import mode)
    from reference import to_iso, to_ms

ALL_TRIGGERS = ["not_registered_404", "no_1xx", "pbx_5xx", "channels_full_503", "other"]
FOUR_TRIGGERS = ["not_registered_404", "no_1xx", "pbx_5xx", "channels_full_503"]
VIA = ["trunk2", "backup_pbx", "failover_number", "dial_plan"]
OUTCOMES = ["answered_first_try", "answered_failover", "refused", "abandoned", "lost"]
EVENT_ORDER = ["registered", "refreshed", "unregistered", "expired", "rejected"]
DEFAULT_NER = set(range(200, 300)) | {480, 486, 600, 603}


@dataclass
class RefInbound:
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    dids: dict[str, dict[str, Any]] = field(default_factory=dict)
    regs: dict[tuple[str, str, int, str], dict[str, Any]] = field(default_factory=dict)
    attempts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def ingest(self, kind: str, records: list[dict[str, Any]]) -> None:
        for r in records:
            r = dict(r)
            if kind == "trunk_groups":
                self.groups[r["id"]] = r
            elif kind == "dids":
                self.dids[r["did"]] = r
            elif kind == "registrations":
                r["at_ms"] = to_ms(r["at"])
                self.regs[(r["trunk_group_id"], r["edge"], r["at_ms"], r["event"])] = r
            elif kind == "deliveries":
                r["ms"] = to_ms(r["started_at"])
                self.attempts[(r["delivery_id"], r["seq"])] = r
            else:
                raise ValueError(kind)


# --------------------------------------------------------------------------- attempts


def is_answered(a: dict[str, Any]) -> bool:
    return 200 <= a["sip_code"] <= 299


def trigger_of(a: dict[str, Any]) -> str | None:
    if is_answered(a) or a["cancelled"]:
        return None
    if not a["sent"] and a["sip_code"] == 404:
        return "not_registered_404"
    if not a["sent"] and a["sip_code"] == 503:
        return "channels_full_503"
    if a["sent"] and a.get("first_1xx_ms") is None and a["sip_code"] == 408:
        return "no_1xx"
    if a["sent"] and 500 <= a["sip_code"] <= 599:
        return "pbx_5xx"
    return "other"


def delivery_attempts(data: RefInbound) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for (d, _seq), a in data.attempts.items():
        out.setdefault(d, []).append(a)
    for atts in out.values():
        atts.sort(key=lambda a: a["seq"])
    return out


# --------------------------------------------------------------------------- configuration


def group_cfg(data: RefInbound, gid: str) -> dict[str, Any] | None:
    return data.groups.get(gid)


def edges_of(data: RefInbound, gid: str) -> list[str]:
    g = group_cfg(data, gid)
    if g is not None:
        return list(g["edges"]) if g.get("edges") is not None else ["trunk1", "trunk2"]
    return sorted({e for (tg, e, _at, _ev) in data.regs if tg == gid})


def listed_triggers(data: RefInbound, gid: str) -> set[str]:
    g = group_cfg(data, gid)
    if g is None:
        return set()
    if g.get("failover_triggers") is not None:
        return set(g["failover_triggers"])
    if g["policy"] == "dial_plan_on_triggers":
        return set(FOUR_TRIGGERS)
    return set(ALL_TRIGGERS)


def own_number(data: RefInbound, did: str) -> str | None:
    d = data.dids.get(did)
    return d.get("failover_number") if d else None


def expected_number(data: RefInbound, gid: str, did: str) -> tuple[str | None, str | None]:
    if own_number(data, did) is not None:
        return own_number(data, did), "did"
    g = group_cfg(data, gid)
    if g is not None and g.get("global_failover_number") is not None:
        return g["global_failover_number"], "trunk_group"
    return None, None


def backup_for(data: RefInbound, gid: str, did: str) -> str | None:
    d = data.dids.get(did)
    if d is not None and d.get("backup_pbx") is not None:
        return d["backup_pbx"]
    g = group_cfg(data, gid)
    return g.get("backup_pbx") if g is not None else None


def configured_chain(data: RefInbound, gid: str, did: str) -> list[str]:
    g = group_cfg(data, gid)
    policy = g["policy"] if g is not None else None
    out = ["primary_pbx"]
    if policy == "registered_then_trunk2" and len(edges_of(data, gid)) >= 2:
        out.append("trunk2")
    if policy == "backup_then_number":
        if backup_for(data, gid, did) is not None:
            out.append("backup_pbx")
        if expected_number(data, gid, did)[0] is not None:
            out.append("failover_number")
    if policy == "dial_plan_on_triggers" and g is not None and g.get("dial_plan") is not None:
        out.append("dial_plan")
    return out


# --------------------------------------------------------------------------- deliveries


def describe(data: RefInbound, atts: list[dict[str, Any]], ner: set[int]) -> dict[str, Any]:
    """A delivery's outcome, via, triggers and delivery-based findings."""
    first, last = atts[0], atts[-1]
    gid, did = first["trunk_group_id"], first["did"]
    ok = [a for a in atts if is_answered(a)]
    via = None
    if is_answered(first):
        outcome = "answered_first_try"
    elif ok:
        outcome, via = "answered_failover", ok[0]["target_kind"]
    elif last["cancelled"]:
        outcome = "abandoned"
    elif last["sent"] and last["sip_code"] in ner:
        outcome = "refused"
    else:
        outcome = "lost"
    listed = listed_triggers(data, gid)
    number, _src = expected_number(data, gid, did)
    backup = backup_for(data, gid, did)
    kinds = [a["target_kind"] for a in atts]
    steps = configured_chain(data, gid, did)
    rules = set()
    for a in atts:
        if a["target_kind"] == "failover_number" and (number is None
                                                     or a.get("target") != number):
            rules.add("F1")
    for i, k in enumerate(kinds):
        if backup is not None and k == "failover_number" and "backup_pbx" not in kinds[:i]:
            rules.add("F2")
    if "trunk2" in kinds and (backup is not None or number is not None):
        rules.add("F3")
    for i in range(1, len(atts)):
        if kinds[i] == "dial_plan" and trigger_of(atts[i - 1]) not in listed:
            rules.add("F6")
    last_trigger = trigger_of(last)
    if outcome == "lost" and last_trigger in listed and len(steps) == 1:
        rules.add("F7")
    for i, s in enumerate(steps):
        if s not in kinds and any(later in kinds for later in steps[i + 1:]):
            rules.add("F11")
    if (outcome == "lost" and last_trigger in listed
            and any(s not in kinds for s in steps)):
        rules.add("F11")
    return {"delivery_id": first["delivery_id"], "trunk_group_id": gid, "did": did,
            "start": first["ms"], "outcome": outcome, "via": via, "attempts": len(atts),
            "first_trigger": trigger_of(first), "last_trigger": last_trigger, "rules": rules}


def in_window(t: int, now: int, window_s: int) -> bool:
    return now - window_s * 1000 <= t < now


def windowed(data: RefInbound, now: int, window_s: int, ner: set[int]
             ) -> list[dict[str, Any]]:
    return [describe(data, atts, ner) for atts in delivery_attempts(data).values()
            if in_window(atts[0]["ms"], now, window_s)]


def full_attempts(data: RefInbound, now: int, window_s: int) -> list[dict[str, Any]]:
    """channels_full_503 attempts in W, with their delivery's group."""
    by_d = delivery_attempts(data)
    out = []
    for a in data.attempts.values():
        if trigger_of(a) == "channels_full_503" and in_window(a["ms"], now, window_s):
            first = by_d[a["delivery_id"]][0]
            out.append({"delivery_id": a["delivery_id"], "trunk_group_id":
                        first["trunk_group_id"], "start": first["ms"]})
    return out


# --------------------------------------------------------------------------- registration


def edge_state(data: RefInbound, gid: str, edge: str, now: int, window_s: int
               ) -> tuple[bool, int]:
    events = [r for (tg, e, _at, _ev), r in data.regs.items() if tg == gid and e == edge]
    before = [r for r in events if r["at_ms"] <= now]
    registered = False
    if before:
        latest = max(before, key=lambda r: (r["at_ms"], EVENT_ORDER.index(r["event"])))
        registered = latest["event"] in ("registered", "refreshed") and (
            latest.get("expires_s") is None
            or latest["at_ms"] + latest["expires_s"] * 1000 > now)
    flaps = sum(1 for r in events if r["event"] in ("unregistered", "expired")
                and in_window(r["at_ms"], now, window_s))
    return registered, flaps


# --------------------------------------------------------------------------- the list


def group_ids(data: RefInbound) -> list[str]:
    ids = set(data.groups)
    ids |= {atts[0]["trunk_group_id"] for atts in delivery_attempts(data).values()}
    ids |= {tg for (tg, _e, _at, _ev) in data.regs}
    return sorted(ids)


def group_dids(data: RefInbound, gid: str) -> list[dict[str, Any]]:
    return sorted((d for d in data.dids.values() if d["trunk_group_id"] == gid),
                  key=lambda d: d["did"])


def findings(data: RefInbound, now: int, window_s: int, ner: set[int],
             only: str | None = None) -> list[dict[str, Any]]:
    out = []
    ds = sorted(windowed(data, now, window_s, ner),
                key=lambda d: (d["start"], d["delivery_id"]))
    full = full_attempts(data, now, window_s)
    for gid in group_ids(data):
        if only is not None and gid != only:
            continue
        g = group_cfg(data, gid)
        rows: list[dict[str, Any]] = []

        def row(rule: str, did: str | None = None, edge: str | None = None,
                ids: list[str] | None = None, gid: str = gid) -> dict[str, Any]:
            return {"rule": rule, "trunk_group_id": gid, "did": did, "edge": edge,
                    "delivery_ids": ids or []}

        for rule in ("F1", "F2", "F3", "F6", "F7", "F11"):
            ids = [d["delivery_id"] for d in ds if d["trunk_group_id"] == gid
                   and rule in d["rules"]]
            if ids:
                rows.append(row(rule, ids=ids))
        f9 = {(f["start"], f["delivery_id"]) for f in full if f["trunk_group_id"] == gid}
        if f9:
            rows.append(row("F9", ids=[d for _s, d in sorted(f9)]))
        edges = edges_of(data, gid)
        up = {e: edge_state(data, gid, e, now, window_s)[0] for e in edges}
        n_up = sum(up.values())
        dids = group_dids(data, gid)
        failover = (g is not None and (g.get("backup_pbx") is not None
                                       or g.get("global_failover_number") is not None)) or \
            any(d.get("backup_pbx") is not None or d.get("failover_number") is not None
                for d in dids)
        if failover and n_up < len(edges):
            rows += [row("F4", edge=e) for e in edges if not up[e]]
        if g is not None and g["policy"] == "registered_then_trunk2" and n_up == 1:
            rows += [row("F5", edge=e) for e in edges if not up[e]]
        if (g is not None and g["policy"] == "backup_then_number"
                and g.get("global_failover_number") is None):
            rows += [row("F8", did=d["did"]) for d in dids if d.get("failover_number") is None]
        numbers = {d["did"] for d in dids}
        for d in dids:
            number, _src = expected_number(data, gid, d["did"])
            if number is not None and number in numbers:
                rows.append(row("F10", did=d["did"]))
        rows.sort(key=lambda r: int(r["rule"][1:]))
        out += rows
    return out


def trunk_groups(data: RefInbound, now: int, window_s: int, ner: set[int]
                 ) -> list[dict[str, Any]]:
    ds = windowed(data, now, window_s, ner)
    found = findings(data, now, window_s, ner)
    out = []
    for gid in group_ids(data):
        g = group_cfg(data, gid)
        mine = [d for d in ds if d["trunk_group_id"] == gid]
        count = {o: sum(1 for d in mine if d["outcome"] == o) for o in OUTCOMES}
        offered = len(mine)
        den = offered - count["abandoned"]
        edges = edges_of(data, gid)
        states = {e: edge_state(data, gid, e, now, window_s) for e in edges}
        rules = sorted({f["rule"] for f in found if f["trunk_group_id"] == gid},
                       key=lambda r: int(r[1:]))
        out.append({
            "id": gid, "name": g["name"] if g else None, "policy": g["policy"] if g else None,
            "offered": offered,
            "answered_first_try": count["answered_first_try"],
            "answered_failover": count["answered_failover"],
            "answered_via": {k: sum(1 for d in mine if d["outcome"] == "answered_failover"
                                    and d["via"] == k) for k in VIA},
            "refused": count["refused"], "abandoned": count["abandoned"],
            "lost": count["lost"],
            "first_try_rate": count["answered_first_try"] / den if den else None,
            "delivery_rate": (count["answered_first_try"] + count["answered_failover"]) / den
            if den else None,
            "primary_failures": {t: sum(1 for d in mine if d["first_trigger"] == t)
                                 for t in ALL_TRIGGERS},
            "lost_by_trigger": {t: sum(1 for d in mine if d["outcome"] == "lost"
                                       and d["last_trigger"] == t) for t in ALL_TRIGGERS},
            "registered": {e: states[e][0] for e in edges},
            "flaps": {e: states[e][1] for e in edges},
            "findings": rules,
        })
    return out


def did_figures(data: RefInbound, gid: str, now: int, window_s: int, ner: set[int]
                ) -> list[dict[str, Any]]:
    mine = [d for d in windowed(data, now, window_s, ner) if d["trunk_group_id"] == gid]
    numbers = {d["did"] for d in group_dids(data, gid)} | {d["did"] for d in mine}
    out = []
    for n in sorted(numbers):
        of = [d for d in mine if d["did"] == n]
        number, src = expected_number(data, gid, n)
        out.append({"did": n, "offered": len(of),
                    **{o: sum(1 for d in of if d["outcome"] == o) for o in OUTCOMES},
                    "effective_failover_number": number, "number_source": src})
    return out


def delivery_list(data: RefInbound, gid: str, now: int, window_s: int, ner: set[int],
                  outcome: str | None = None) -> list[dict[str, Any]]:
    mine = [d for d in windowed(data, now, window_s, ner) if d["trunk_group_id"] == gid
            and (outcome is None or d["outcome"] == outcome)]
    mine.sort(key=lambda d: (d["start"], d["delivery_id"]), reverse=True)
    return [{"delivery_id": d["delivery_id"], "did": d["did"], "started_at": to_iso(d["start"]),
             "outcome": d["outcome"], "via": d["via"], "attempts": d["attempts"],
             "first_trigger": d["first_trigger"], "last_trigger": d["last_trigger"]}
            for d in mine]
