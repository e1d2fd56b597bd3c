"""Inbound delivery figures and findings, exactly as defined in docs/metrics.md
("Inbound"; issue 15, section 2), and the inbound exports (section 3).

A window W of `window_s` ending at `now` holds the deliveries whose first attempt started
in [now - window_s, now). Whole hours come from the hourly rollups kept at ingest, the
partial hours at W's edges from the per-delivery rows; registration state is as of now;
F8 and F10 come from the configuration alone. The standard windows are computed once
per import or poll and stored, so the trunk-group list is a read of one row per group.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from noc_tui.analytics.metrics import (
    STANDARD_WINDOWS,
    read_stored,
    small_page_cache,
    stage_rows,
    swap_in,
)
from noc_tui.records import inbound as ib
from noc_tui.records.timefmt import HOUR_MS, ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.store.inbound import ROLLUP_COLS, did_configs, group_configs, mask_rules, sum_rows

VIEWS = ("trunks", "dids", "deliveries", "findings")
TRUNK_KEYS = (
    "id", "name", "policy", "offered", "answered_first_try", "answered_via", "refused",
    "abandoned", "lost", "first_try_rate", "delivery_rate", "primary_failures",
    "lost_by_trigger", "registered", "flaps", "findings",
)
DID_KEYS = (
    "did", "offered", "answered_first_try", "answered_failover", "refused", "abandoned",
    "lost", "effective_failover_number", "number_source",
)
DELIVERY_KEYS = (
    "delivery_id", "did", "started_at", "outcome", "via", "attempts", "first_trigger",
    "last_trigger",
)
FINDING_KEYS = ("rule", "trunk_group_id", "did", "edge", "delivery_ids")
NOW_KEY = "inbound_metrics_now_ms"
_RANK = {e: i for i, e in enumerate(ib.EVENTS)}  # a tie in `at`: the later one here wins
_DELIVERY_SQL = ("SELECT delivery_id, trunk_group_id, did, ts, attempts, outcome, via, "
                 "first_trigger, last_trigger, rules, full_ts FROM deliveries")
_FULL = "a.sent = 0 AND a.sip_code = 503 AND a.cancelled = 0"


class InboundExportError(Exception):
    """An inbound export that cannot be made as asked (unknown trunk group...)."""


@dataclass(frozen=True)
class Group:
    """A trunk group as listed: configured, or known only from deliveries or
    registration events (then with no name, policy or settings; its edges are those its
    registration events name)."""

    id: str
    name: str | None
    customer: str | None
    policy: str | None
    edges: tuple[str, ...]
    config: ib.GroupConfig
    configured: bool


# Trunk groups a refresh (or a live list) computes at a time, in id order: what one
# holds grows with them, and 50,000 at once took a poll past its 150 MB.
GROUPS_AT_ONCE = 2500
Span = tuple[str, str]  # the first and last trunk group id of a run of them


def groups(cache: Cache, only: str | None = None, span: Span | None = None) -> list[Group]:
    """Every trunk group (or the one with id `only`, or those with ids in `span`), by id."""
    conn = cache.conn
    cond, args = _only("id", only, span)
    configs = group_configs(conn, [only] if only is not None else None, span)
    out: dict[str, Group] = {}
    for gid, name, customer, policy in conn.execute(
            f"SELECT id, name, customer, policy FROM trunk_groups WHERE {cond}", args):
        cfg = configs[gid]
        out[gid] = Group(gid, name, customer, policy, cfg.edges, cfg, True)
    seen_edges: dict[str, list[str]] = {}
    rcond, _ = _only("trunk_group_id", only, span)
    for gid, edge in conn.execute(
            f"SELECT trunk_group_id, edge FROM registration_edges WHERE {rcond} ORDER BY 1, 2",
            args):
        seen_edges.setdefault(gid, []).append(edge)
    seen = set(seen_edges) | {r[0] for r in conn.execute(
        f"SELECT id FROM inbound_groups WHERE {cond}", args)}
    for gid in seen - set(out):
        edges = tuple(seen_edges.get(gid, ()))
        out[gid] = Group(gid, None, None, None, edges, ib.GroupConfig(edges=edges), False)
    return [out[g] for g in sorted(out)]


def _only(col: str, only: str | None = None, span: Span | None = None
          ) -> tuple[str, tuple[str, ...]]:
    """A condition on the trunk group id `col`: = `only`, in `span`, or none (all)."""
    if only is not None:
        return f"{col} = ?", (only,)
    if span is not None:
        return f"{col} BETWEEN ? AND ?", span
    return "1", ()


def _spans(cache: Cache) -> list[Span | None]:
    """The trunk groups in runs of GROUPS_AT_ONCE, by id: [None] (all at once) when they
    are no more than that. Read a row at a time: only the runs' ends are kept."""
    ids = cache.conn.execute(
        "SELECT id FROM trunk_groups UNION SELECT trunk_group_id FROM registration_edges "
        "UNION SELECT id FROM inbound_groups ORDER BY 1")
    spans: list[Span | None] = []
    first = last = None
    for n, (gid,) in enumerate(ids):
        if n % GROUPS_AT_ONCE == 0:
            if first is not None and last is not None:
                spans.append((first, last))
            first = gid
        last = gid
    if first is not None and last is not None:
        spans.append((first, last))
    return [None] if len(spans) <= 1 else spans


# -- sums over a window -----------------------------------------------------------------


def _window(now_ms: int, window_s: int) -> tuple[int, int]:
    return now_ms - window_s * 1000, now_ms


def _sums(cache: Cache, start: int, end: int, span: Span | None = None
          ) -> dict[str, Counter[str]]:
    """Rollup columns per trunk group (of `span`, when given) over the deliveries (and,
    for F9, the attempts) that started in [start, end)."""
    conn = cache.conn
    cond, args = _only("trunk_group_id", None, span)
    dcond, _ = _only("d.trunk_group_id", None, span)
    out: dict[str, Counter[str]] = {}
    first_full = -(-start // HOUR_MS) * HOUR_MS
    last_full = end // HOUR_MS * HOUR_MS
    edges = [(start, end)]
    if first_full < last_full:
        cols = ", ".join(f"sum({c})" for c in ROLLUP_COLS)
        for row in conn.execute(
                f"SELECT trunk_group_id, {cols} FROM inbound_rollups WHERE hour >= ? "
                f"AND hour < ? AND {cond} GROUP BY trunk_group_id",
                (first_full, last_full, *args)):
            out[row[0]] = Counter(dict(zip(ROLLUP_COLS, row[1:], strict=True)))
        edges = [(start, first_full), (last_full, end)]
    for a, b in edges:
        if a >= b:
            continue
        rows = conn.execute(f"{_DELIVERY_SQL} WHERE ts >= ? AND ts < ? AND {cond}",
                            (a, b, *args))
        for gid, sm in sum_rows(rows, f9=False).items():
            out.setdefault(gid, Counter()).update(sm)
        for gid, n in conn.execute(
                "SELECT d.trunk_group_id, count(*) FROM delivery_attempts a "
                "INDEXED BY delivery_attempts_full JOIN deliveries d USING (delivery_id) "
                f"WHERE {_FULL} AND a.ts >= ? AND a.ts < ? AND {dcond} GROUP BY 1",
                (a, b, *args)):
            out.setdefault(gid, Counter())["rule_F9"] += n
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def figures(sm: Counter[str]) -> dict[str, Any]:
    offered, abandoned = sm["offered"], sm["abandoned"]
    first, failover = sm["answered_first_try"], sm["answered_failover"]
    return {
        "offered": offered,
        "answered_first_try": first,
        "answered_failover": failover,
        "answered_via": {k: sm[f"via_{k}"] for k in ib.VIA_KINDS},
        "refused": sm["refused"],
        "abandoned": abandoned,
        "lost": sm["lost"],
        "first_try_rate": _ratio(first, offered - abandoned),
        "delivery_rate": _ratio(first + failover, offered - abandoned),
        "primary_failures": {t: sm[f"first_{t}"] for t in ib.TRIGGERS},
        "lost_by_trigger": {t: sm[f"lost_{t}"] for t in ib.TRIGGERS},
    }


# -- registration -----------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeState:
    registered: bool
    flaps: int
    event: str | None  # the latest event at or before now
    at: int | None


def registration(cache: Cache, gs: Iterable[Group], now_ms: int, window_s: int
                 ) -> dict[str, dict[str, EdgeState]]:
    """Per trunk group and edge: registered as of now, and flaps in the window."""
    gs = list(gs)
    # One group (its screen): count only its flaps, not every group's (~2 ms at 2,000).
    only = gs[0].id if len(gs) == 1 else None
    return _edge_states(_latest(cache, gs, now_ms), _flaps(cache, now_ms, window_s, only),
                        now_ms)


_Latest = dict[tuple[str, str], tuple[str, int, int | None] | None]


def _latest(cache: Cache, gs: Iterable[Group], now_ms: int) -> _Latest:
    """Per (trunk group, edge): its latest event at or before now (event, at, expires_s)."""
    pairs = [(g.id, e) for g in gs for e in g.edges]
    latest: _Latest = dict.fromkeys(pairs)
    if pairs:
        for gid, edge, event, at, expires in cache.conn.execute(
            "WITH p(g, e) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
            "FROM json_each(?)) "
            "SELECT r.trunk_group_id, r.edge, r.event, r.at, r.expires_s FROM p "
            "JOIN registrations r ON r.trunk_group_id = p.g AND r.edge = p.e AND r.at = "
            "(SELECT max(at) FROM registrations WHERE trunk_group_id = p.g AND edge = p.e "
            "AND at <= ?)", (json.dumps(pairs), now_ms)):
            old = latest.get((gid, edge))
            if old is None or _RANK[event] > _RANK[old[0]]:
                latest[(gid, edge)] = (event, at, expires)
    return latest


def _flaps(cache: Cache, now_ms: int, window_s: int, only: str | None = None,
           span: Span | None = None) -> dict[tuple[str, str], int]:
    """Per (trunk group, edge): unregistered and expired events in the window (of the
    group `only`, or of the groups in `span`, when given)."""
    start, end = _window(now_ms, window_s)
    cond, args = _only("trunk_group_id", only, span)
    return {(g, e): n for g, e, n in cache.conn.execute(
        "SELECT trunk_group_id, edge, count(*) FROM registrations "
        f"WHERE event IN ('unregistered', 'expired') AND at >= ? AND at < ? AND {cond} "
        "GROUP BY 1, 2", (start, end, *args))}


def _edge_states(latest: _Latest, flaps: dict[tuple[str, str], int], now_ms: int
                 ) -> dict[str, dict[str, EdgeState]]:
    out: dict[str, dict[str, EdgeState]] = {}
    for (gid, edge), ev in latest.items():
        up = ev is not None and ev[0] in ("registered", "refreshed") and (
            ev[2] is None or ev[1] + ev[2] * 1000 > now_ms)
        out.setdefault(gid, {})[edge] = EdgeState(
            up, flaps.get((gid, edge), 0), ev[0] if ev else None, ev[1] if ev else None)
    return out


# -- findings ---------------------------------------------------------------------------


def _finding(rule: str, gid: str, did: str | None = None, edge: str | None = None,
             delivery_ids: list[str] | None = None) -> dict[str, Any]:
    return {"rule": rule, "trunk_group_id": gid, "did": did, "edge": edge,
            "delivery_ids": delivery_ids or []}


def _config_findings(cache: Cache, gs: list[Group], only: str | None = None,
                     span: Span | None = None) -> dict[str, list[dict[str, Any]]]:
    """F8 and F10 per trunk group (of `only` or `span`, when given), and whether F4's
    failover is configured (as a pseudo-rule 'failover' row), from the configuration."""
    by_group: dict[str, list[tuple[str, str | None, str | None]]] = {}
    cond, args = _only("trunk_group_id", only, span)
    for did, gid, number, backup in cache.conn.execute(
            f"SELECT did, trunk_group_id, failover_number, backup_pbx FROM dids WHERE {cond} "
            "ORDER BY trunk_group_id, did", args):
        by_group.setdefault(gid, []).append((did, number, backup))
    out: dict[str, list[dict[str, Any]]] = {}
    for g in gs:
        rows: list[dict[str, Any]] = []
        dids = by_group.get(g.id, [])
        numbers = {d for d, _n, _b in dids}
        cfg = g.config
        if (cfg.backup_pbx is not None or cfg.global_failover_number is not None
                or any(n is not None or b is not None for _d, n, b in dids)):
            rows.append(_finding("failover", g.id))
        if cfg.policy == "backup_then_number" and cfg.global_failover_number is None:
            rows += [_finding("F8", g.id, did=d) for d, n, _b in dids if n is None]
        for d, n, b in dids:
            number, _src = ib.effective_number(cfg, ib.DidConfig(n, b))
            if number is not None and number in numbers:
                rows.append(_finding("F10", g.id, did=d))
        out[g.id] = rows
    return out


def _edge_findings(g: Group, state: dict[str, EdgeState], failover: bool
                   ) -> list[dict[str, Any]]:
    down = [e for e in g.edges if not state[e].registered]
    up = len(g.edges) - len(down)
    rows = []
    if failover and up < len(g.edges):
        rows += [_finding("F4", g.id, edge=e) for e in down]
    if g.policy == "registered_then_trunk2" and up == 1:
        rows += [_finding("F5", g.id, edge=e) for e in down]
    return rows


def _rule_no(rule: str) -> int:
    return int(rule[1:])


def findings(cache: Cache, now_ms: int, window_s: int, trunk_group: str | None = None
             ) -> list[dict[str, Any]]:
    """Every finding's rows, by trunk group, rule, then DID or edge."""
    gs = groups(cache, trunk_group)
    start, end = _window(now_ms, window_s)
    conn = cache.conn
    rows: dict[str, list[dict[str, Any]]] = {g.id: [] for g in gs}
    cond, args = ("AND trunk_group_id = ?", (trunk_group,)) if trunk_group else ("", ())
    evidence: dict[tuple[str, str], list[str]] = {}
    for d, gid, mask in conn.execute(
            f"SELECT delivery_id, trunk_group_id, rules FROM deliveries WHERE ts >= ? "
            f"AND ts < ? AND rules != 0 {cond} ORDER BY ts, delivery_id", (start, end, *args)):
        for r in mask_rules(mask):
            evidence.setdefault((gid, r), []).append(d)
    dcond = "AND d.trunk_group_id = ?" if trunk_group else ""
    for d, gid, _ts in conn.execute(
            "SELECT DISTINCT d.delivery_id, d.trunk_group_id, d.ts FROM delivery_attempts a "
            "INDEXED BY delivery_attempts_full JOIN deliveries d USING (delivery_id) "
            f"WHERE {_FULL} AND a.ts >= ? AND a.ts < ? {dcond} ORDER BY d.ts, d.delivery_id",
            (start, end, *args)).fetchall():
        evidence.setdefault((gid, "F9"), []).append(d)
    for (gid, rule), ids in evidence.items():
        if gid in rows:
            rows[gid].append(_finding(rule, gid, delivery_ids=ids))
    config = _config_findings(cache, gs, trunk_group)
    state = registration(cache, gs, now_ms, window_s)
    out: list[dict[str, Any]] = []
    for g in gs:
        conf = config[g.id]
        failover = any(r["rule"] == "failover" for r in conf)
        found = (rows[g.id] + [r for r in conf if r["rule"] != "failover"]
                 + _edge_findings(g, state.get(g.id, {}), failover))
        # Stable: within a rule, DIDs by number and edges in the group's order already.
        out += sorted(found, key=lambda r: _rule_no(r["rule"]))
    return out


# -- the trunk-group list ---------------------------------------------------------------


def trunk_groups(cache: Cache, now_ms: int, window_s: int) -> list[dict[str, Any]]:
    """Every trunk group's figures for the window ending at now (computed live): the
    export's keys (TRUNK_KEYS) and, for the screens, customer, edges, answered_failover
    and configured."""
    return [r for _w, r in _trunk_rows(cache, now_ms, (window_s,))]


def _trunk_rows(cache: Cache, now_ms: int, windows: Iterable[int]
                ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(window, row) of trunk_groups for several windows, made one at a time for
    GROUPS_AT_ONCE trunk groups at a time (by id, each window's rows in id order); what
    does not depend on the window read once per run of groups."""
    for span in _spans(cache):
        gs = groups(cache, span=span)
        latest = _latest(cache, gs, now_ms)
        config = _config_findings(cache, gs, span=span)
        for window_s in windows:
            start, end = _window(now_ms, window_s)
            sums = _sums(cache, start, end, span)
            state = _edge_states(latest, _flaps(cache, now_ms, window_s, span=span), now_ms)
            for g in gs:
                yield window_s, _trunk_row(g, sums.get(g.id, Counter()),
                                           state.get(g.id, {}), config[g.id])


def _trunk_row(g: Group, sm: Counter[str], edges: dict[str, EdgeState],
               conf: list[dict[str, Any]]) -> dict[str, Any]:
    failover = any(r["rule"] == "failover" for r in conf)
    rules = {r for r in ib.DELIVERY_RULES if sm[f"rule_{r}"]}
    if sm["rule_F9"]:
        rules.add("F9")
    rules |= {r["rule"] for r in conf if r["rule"] != "failover"}
    rules |= {r["rule"] for r in _edge_findings(g, edges, failover)}
    return {
        "id": g.id, "name": g.name, "customer": g.customer, "policy": g.policy,
        "configured": g.configured, "edges": list(g.edges),
        **figures(sm),
        "registered": {e: edges[e].registered for e in g.edges},
        "flaps": {e: edges[e].flaps for e in g.edges},
        "findings": sorted(rules, key=_rule_no),
    }


def refresh_standard_windows(cache: Cache, now_ms: int) -> None:
    """Compute the trunk-group list of the standard windows once per ingest, and store
    it: each row as it is made (the carriers' machinery, analytics.metrics), so that
    the refresh holds GROUPS_AT_ONCE groups' figures at most."""
    encode = msgspec.json.Encoder().encode  # a third of json.dumps' time
    with small_page_cache(cache):
        staged = stage_rows(cache, "inbound_window_metrics", (
            (w, r["id"], encode(r).decode()) for w, r in _trunk_rows(cache, now_ms,
                                                                       STANDARD_WINDOWS)))
        with cache.transaction() as conn:
            swap_in(conn, "inbound_window_metrics", staged)
            cache.set_meta(NOW_KEY, str(now_ms))
        cache.conn.execute(f"DROP TABLE {staged}")


def stored_trunk_groups(cache: Cache, window_s: int) -> tuple[int, list[dict[str, Any]]] | None:
    """The precomputed trunk-group list of a standard window: (its now, rows), or None."""
    stored = stored_trunk_rows(cache, window_s)
    return None if stored is None else (stored[0], list(stored[1]))


def stored_trunk_rows(cache: Cache, window_s: int
                      ) -> tuple[int, Iterator[dict[str, Any]]] | None:
    """The same, its rows read one at a time in id order (memory of one row)."""
    if window_s not in STANDARD_WINDOWS:
        return None
    # msgspec: a third of json.loads' time on 2,000 rows
    return read_stored(cache, NOW_KEY, "inbound_window_metrics", "trunk_group_id", window_s,
                       msgspec.json.Decoder().decode)


def trunk_group_list(cache: Cache, window_s: int, now_ms: int
                     ) -> tuple[int, list[dict[str, Any]], bool]:
    """(as-of ms, rows, precomputed?): the stored standard window when an import or poll
    computed one, else computed live at now_ms."""
    stored = stored_trunk_groups(cache, window_s)
    if stored is not None:
        return stored[0], stored[1], True
    return now_ms, trunk_groups(cache, now_ms, window_s), False


# -- one trunk group --------------------------------------------------------------------


def did_figures(cache: Cache, trunk_group: str, now_ms: int, window_s: int
                ) -> list[dict[str, Any]]:
    """Per DID of the group (configured for it, or the DID of one of its deliveries in
    the window): its deliveries in the window and its effective failover number."""
    conn = cache.conn
    start, end = _window(now_ms, window_s)
    cfg = group_configs(conn, [trunk_group]).get(trunk_group, ib.UNCONFIGURED)
    own = {d: ib.DidConfig(n, b) for d, n, b in conn.execute(
        "SELECT did, failover_number, backup_pbx FROM dids WHERE trunk_group_id = ?",
        (trunk_group,))}
    counts: dict[str, Counter[str]] = {}
    for did, result, n in conn.execute(
            "SELECT did, outcome, count(*) FROM deliveries WHERE trunk_group_id = ? "
            "AND ts >= ? AND ts < ? GROUP BY 1, 2", (trunk_group, start, end)):
        counts.setdefault(did, Counter())[result] = n
    # A DID of the group's traffic not configured for it may be configured elsewhere.
    others = did_configs(conn, set(counts) - set(own))
    out = []
    for did in sorted(set(own) | set(counts)):
        c = counts.get(did, Counter())
        number, source = ib.effective_number(cfg, own.get(did) or others.get(did, ib.NO_DID))
        out.append({"did": did, "offered": sum(c.values()),
                    **{o: c[o] for o in ib.OUTCOMES},
                    "effective_failover_number": number, "number_source": source})
    return out


def delivery_list(cache: Cache, trunk_group: str, now_ms: int, window_s: int,
                  outcome: str | None = None, limit: int | None = None
                  ) -> list[dict[str, Any]]:
    """The group's deliveries in the window, newest first by their first attempt's start
    (ties: the greater delivery id first)."""
    start, end = _window(now_ms, window_s)
    cond, args = ("AND outcome = ?", [outcome]) if outcome is not None else ("", [])
    rows = cache.conn.execute(
        "SELECT delivery_id, did, ts, outcome, via, attempts, first_trigger, last_trigger "
        f"FROM deliveries WHERE trunk_group_id = ? AND ts >= ? AND ts < ? {cond} "
        "ORDER BY ts DESC, delivery_id DESC LIMIT ?",
        [trunk_group, start, end, *args, -1 if limit is None else limit])
    return [dict(zip(DELIVERY_KEYS, (d, did, ms_to_iso(ts), *rest), strict=True))
            for d, did, ts, *rest in rows]


def delivery_attempts(cache: Cache, delivery_id: str) -> list[dict[str, Any]]:
    """Every attempt of a delivery in seq order, with its trigger."""
    cols = ib.COLUMNS["deliveries"]
    out = []
    for row in cache.conn.execute(
            f"SELECT {', '.join(cols)} FROM delivery_attempts WHERE delivery_id = ? "
            "ORDER BY seq", (delivery_id,)):
        a = dict(zip(cols, row, strict=True))
        a["started_at"] = ms_to_iso(a.pop("ts"))
        a["sent"], a["cancelled"] = bool(a["sent"]), bool(a["cancelled"])
        a["trigger"] = ib.trigger(a["sent"], a["sip_code"], a["first_1xx_ms"], a["cancelled"])
        out.append(a)
    return out


# -- exports ----------------------------------------------------------------------------


def build(cache: Cache, view: str, now_ms: int, window_s: int,
          trunk_group: str | None = None, outcome: str | None = None,
          ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the JSON document, its table rows) of an inbound export (issue 15, section 3)."""
    if view == "trunks":
        rows = [{k: r[k] for k in TRUNK_KEYS} for r in trunk_groups(cache, now_ms, window_s)]
        return {"now": ms_to_iso(now_ms), "window_s": window_s, "trunk_groups": rows}, rows
    if view == "findings":
        if trunk_group is not None:
            _known(cache, trunk_group)
        rows = findings(cache, now_ms, window_s, trunk_group)
        return {"findings": rows}, rows
    if trunk_group is None:
        raise InboundExportError(f"the {view} view needs --trunk-group ID")
    _known(cache, trunk_group)
    if view == "dids":
        rows = did_figures(cache, trunk_group, now_ms, window_s)
        return {"trunk_group_id": trunk_group, "dids": rows}, rows
    if view == "deliveries":
        if outcome is not None and outcome not in ib.OUTCOMES:
            raise InboundExportError(f"unknown outcome {outcome!r}; expected one of "
                                     f"{', '.join(ib.OUTCOMES)}")
        rows = delivery_list(cache, trunk_group, now_ms, window_s, outcome)
        return {"trunk_group_id": trunk_group, "deliveries": rows}, rows
    raise InboundExportError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")


def _known(cache: Cache, trunk_group: str) -> None:
    if not groups(cache, trunk_group):
        raise InboundExportError(f"unknown trunk group {trunk_group!r}: not in the cache")


def flat(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows for CSV: a map becomes one column per key ("answered_via.trunk2"); the
    columns are every row's, in order of first appearance."""
    out: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    for r in rows:
        f: dict[str, Any] = {}
        for k, v in r.items():
            if isinstance(v, dict):
                f.update({f"{k}.{sub}": x for sub, x in v.items()})
            else:
                f[k] = v
        columns.update(dict.fromkeys(f))
        out.append(f)
    return out, list(columns)
