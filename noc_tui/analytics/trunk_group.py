"""What the trunk-group screens read beyond the inbound exports (analytics/inbound.py):
a group's health, its configuration and registration history, its figures per hour,
day and month, and a delivery's chain told in plain words under the group's policy.

The figures themselves are inbound.py's (the same definitions, docs/metrics.md
"Inbound"); this module only arranges them for an operator.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from noc_tui.analytics import inbound
from noc_tui.analytics.periods import PERIODS, period_range
from noc_tui.records import inbound as ib
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, ms_to_dt, ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.store.inbound import did_configs, group_configs

HEALTH_ORDER = {"down": 0, "degraded": 1, "unknown": 2, "fine": 3}
SUMMARY_KEYS = ("start", "offered", "answered_first_try", "answered_failover", "refused",
                "abandoned", "lost", "first_try_rate", "delivery_rate")
HISTORY_LIMIT = 2000  # registration events listed, newest first

# Each finding in plain words (issue 15, section 2): what the evidence shows.
RULE_WORDS = {
    "F1": "a failover-number attempt called another number than the configured one",
    "F2": "the failover number was called before the backup PBX was tried",
    "F3": "trunk2 was tried for a DID that has failover configured",
    "F4": "failover is configured but the PBX is not registered on every edge",
    "F5": "registered on one edge only: one more failure and calls are lost",
    "F6": "the dial plan took a call on a trigger the group does not list",
    "F7": "lost on a listed trigger with nothing configured after the primary",
    "F8": "backup-then-number with no global number: these DIDs have no number either",
    "F9": "the channel limit was reached: calls refused with 503 before sending",
    "F10": "the failover number is a DID of the same group (a loop)",
    "F11": "a configured step of the chain was skipped or never tried",
}
TRIGGER_WORDS = {
    "not_registered_404": "not sent: the PBX is not registered on this edge (404)",
    "channels_full_503": "not sent: the group's channel limit was reached (503)",
    "no_1xx": "no provisional reply (1xx) within the timeout (408)",
    "pbx_5xx": "a server error (5xx) came back",
    "other": "failed",
}
# The triggers as a short list shows them (the legend and the Findings tab have words).
TRIGGER_SHORT = {"not_registered_404": "404 not registered", "no_1xx": "no 1xx",
                 "pbx_5xx": "5xx", "channels_full_503": "503 channels full", "other": "other"}
KIND_WORDS = {"primary_pbx": "the primary PBX", "trunk2": "trunk2",
              "backup_pbx": "the backup PBX", "failover_number": "the failover number",
              "dial_plan": "the dial plan"}


def health(row: dict[str, Any], degraded_first_try: float, min_deliveries: int) -> str:
    """down: registered on none of its edges; degraded: a delivery lost, or a first-try
    rate below `degraded_first_try` over at least `min_deliveries` deliveries not
    abandoned; unknown: no edge and no traffic known (nothing to judge); else fine."""
    registered = row.get("registered") or {}
    if registered and not any(registered.values()):
        return "down"
    offered = row.get("offered") or 0
    rate = row.get("first_try_rate")
    judged = offered - (row.get("abandoned") or 0)
    if (row.get("lost") or 0) > 0 or (
            rate is not None and judged >= min_deliveries and rate < degraded_first_try):
        return "degraded"
    if not registered and not offered:
        return "unknown"
    return "fine"


def with_health(rows: list[dict[str, Any]], degraded_first_try: float,
                min_deliveries: int) -> list[dict[str, Any]]:
    """The trunk-group list's rows with their health (in place)."""
    for r in rows:
        r["health"] = health(r, degraded_first_try, min_deliveries)
    return rows


def group_facts(cache: Cache, gid: str, now_ms: int, window_s: int) -> dict[str, Any] | None:
    """A trunk group's configuration as shown atop its screen, with its registration
    state per edge as of now (None: the cache knows no such group)."""
    found = inbound.groups(cache, gid)
    if not found:
        return None
    g = found[0]
    row = cache.conn.execute(
        "SELECT backup_pbx, global_failover_number, dial_plan, no_1xx_timeout_s, "
        "channel_limit FROM trunk_groups WHERE id = ?", (gid,)).fetchone()
    backup, number, dial_plan, timeout, limit = row or (None, None, None, None, None)
    state = inbound.registration(cache, found, now_ms, window_s).get(gid, {})
    return {
        "id": g.id, "name": g.name, "customer": g.customer, "policy": g.policy,
        "configured": g.configured, "edges": list(g.edges), "backup_pbx": backup,
        "global_failover_number": number, "dial_plan": dial_plan,
        "failover_triggers": [t for t in ib.TRIGGERS if t in g.config.failover_triggers],
        "no_1xx_timeout_s": timeout, "channel_limit": limit,
        "edge_states": [{"edge": e, "registered": s.registered, "flaps": s.flaps,
                         "event": s.event, "at": ms_to_iso(s.at) if s.at is not None else None}
                        for e, s in ((e, state[e]) for e in g.edges if e in state)],
    }


def registration_history(cache: Cache, gid: str, limit: int = HISTORY_LIMIT
                         ) -> list[dict[str, Any]]:
    """The group's registration events, newest first (ties: edge, then event)."""
    return [{"at": ms_to_iso(at), "edge": edge, "event": event, "contact": contact,
             "expires_s": expires}
            for edge, at, event, contact, expires in cache.conn.execute(
                "SELECT edge, at, event, contact, expires_s FROM registrations "
                "WHERE trunk_group_id = ? ORDER BY at DESC, edge, event LIMIT ?",
                (gid, limit))]


def _bucket(period: str, hour: int) -> int:
    if period == "live":
        return hour
    if period == "daily":
        return hour // DAY_MS * DAY_MS
    dt = ms_to_dt(hour)
    return int(dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
               * 1000)


_SUM_COLS = ("offered", *ib.OUTCOMES)


def summaries(cache: Cache, gid: str, now_ms: int) -> dict[str, list[dict[str, Any]]]:
    """The group's deliveries per hour of the last 24 h (live), per day of the last 31
    (daily) and per month of the last 12 (monthly), oldest first, as of now: whole hours
    from the hourly rollups, the hour that holds now from its deliveries up to now."""
    start = min(period_range(p, now_ms)[0] for p in PERIODS)
    hour = now_ms // HOUR_MS * HOUR_MS
    cols = ", ".join(_SUM_COLS)
    hours: dict[int, Counter[str]] = {}
    for h, *values in cache.conn.execute(
            f"SELECT hour, {cols} FROM inbound_rollups WHERE trunk_group_id = ? "
            "AND hour >= ? AND hour < ?", (gid, start, hour)):
        hours[h] = Counter(dict(zip(_SUM_COLS, values, strict=True)))
    now_hour: Counter[str] = Counter()
    for result, n in cache.conn.execute(
            "SELECT outcome, count(*) FROM deliveries WHERE trunk_group_id = ? AND ts >= ? "
            "AND ts < ? GROUP BY 1", (gid, hour, now_ms)):
        now_hour[result] += n
        now_hour["offered"] += n
    if now_hour:
        hours[hour] = now_hour
    out: dict[str, list[dict[str, Any]]] = {}
    for period in PERIODS:
        first, end = period_range(period, now_ms)
        buckets: dict[int, Counter[str]] = {}
        for h, sm in hours.items():
            if first <= h < end:
                buckets.setdefault(_bucket(period, h), Counter()).update(sm)
        out[period] = [{"start": ms_to_iso(b), **_rates(sm)}
                       for b, sm in sorted(buckets.items()) if sm["offered"]]
    return out


def _rates(sm: Counter[str]) -> dict[str, Any]:
    f = inbound.figures(sm)
    return {k: f[k] for k in SUMMARY_KEYS[1:]}


# -- a delivery's chain -----------------------------------------------------------------


def delivery_chain(cache: Cache, delivery_id: str) -> dict[str, Any] | None:
    """A delivery's attempts with, for each, why the chain moved on or stopped under its
    trunk group's policy (None: no such delivery)."""
    attempts = inbound.delivery_attempts(cache, delivery_id)
    if not attempts:
        return None
    row = cache.conn.execute(
        "SELECT outcome, via FROM deliveries WHERE delivery_id = ?", (delivery_id,)).fetchone()
    result, via = row if row else (None, None)
    gid, did = attempts[0]["trunk_group_id"], attempts[0]["did"]
    cfg = group_configs(cache.conn, [gid]).get(gid, ib.UNCONFIGURED)
    did_cfg = did_configs(cache.conn, [did]).get(did, ib.NO_DID)
    steps = ib.chain(cfg, did_cfg)
    for i, a in enumerate(attempts):
        nxt = attempts[i + 1] if i + 1 < len(attempts) else None
        a["why"] = _why(a, nxt, attempts[:i + 1], result, cfg, steps)
    number, source = ib.effective_number(cfg, did_cfg)
    return {"delivery_id": delivery_id, "trunk_group_id": gid, "did": did,
            "outcome": result, "via": via, "policy": cfg.policy, "chain": list(steps),
            "failover_triggers": [t for t in ib.TRIGGERS if t in cfg.failover_triggers],
            "effective_failover_number": number, "number_source": source,
            "backup_pbx": ib.effective_backup(cfg, did_cfg), "attempts": attempts}


def triggers_short(triggers: list[str]) -> str:
    """A group's failover triggers, short: "any failure" when all five are listed."""
    if len(triggers) == len(ib.TRIGGERS):
        return "any failure"
    return ", ".join(TRIGGER_SHORT[t] for t in triggers) or "none"


def trigger_words(a: dict[str, Any]) -> str:
    t = a["trigger"]
    if t == "other":
        return f"failed with {a['sip_code']}"
    return TRIGGER_WORDS.get(t or "", "")


def _why(a: dict[str, Any], nxt: dict[str, Any] | None, so_far: list[dict[str, Any]],
         result: str | None, cfg: ib.GroupConfig, steps: tuple[str, ...]) -> str:
    """Why the chain moved on after attempt `a`, or stopped at it."""
    code, t = a["sip_code"], a["trigger"]
    if ib.answered(code):
        return ("answered: delivered first time" if a["seq"] == 1
                else f"answered: delivered by failover to {KIND_WORDS[a['target_kind']]}")
    if a["cancelled"]:
        return "the caller hung up while it was pending: the chain stops (abandoned)"
    if nxt is None and result == "refused":
        return f"the PBX was reached and the callee declined ({code}): the chain ends normally"
    listed = t in cfg.failover_triggers
    words = trigger_words(a)
    policy = cfg.policy or "no configuration"
    tried = {s["target_kind"] for s in so_far}
    if nxt is not None:
        where = KIND_WORDS[nxt["target_kind"]]
        if not listed:
            return (f"{words}; not a failover trigger of {policy}, yet the switch moved on "
                    f"to {where}")
        expected = next((s for s in steps if s not in tried), None)
        if expected is not None and expected != nxt["target_kind"]:
            return (f"{words}: a failover trigger, moved on to {where}, but the "
                    f"configured next step is {KIND_WORDS[expected]}")
        if nxt["target_kind"] not in steps:
            return f"{words}: moved on to {where}, which {policy} does not configure"
        return f"{words}: a failover trigger of {policy}, so on to {where}"
    if not listed:
        return f"{words}; not a failover trigger of {policy}: the chain stops (lost)"
    left = [s for s in steps if s not in tried]
    if left:
        return (f"{words}: a failover trigger, but {', '.join(KIND_WORDS[s] for s in left)} "
                "configured and never tried: the chain was cut (lost)")
    if len(steps) == 1:
        return f"{words}: nothing is configured after the primary under {policy} (lost)"
    return f"{words}: the configured chain is used up (lost)"
