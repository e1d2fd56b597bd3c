"""Screen queries the dashboard needs beyond the metric definitions (no Textual here).

Everything in this module reads the cache and returns plain Python values, so the UI
can call it from worker threads and the CLI or tests can call it directly. Metric
figures themselves come from :mod:`noc_tui.analytics.metrics`; this module adds the facts, lists
and classifications around them (health, alarms, the call ladder's "why").
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noc_tui.analytics.list_state import DashboardState, ListSnapshot
from noc_tui.analytics.metrics import (
    FAS_FLAGS,
    carrier_metrics,
    consecutive_failures,
    halt_set,
    stored_metrics,
    summary,
)
from noc_tui.analytics.periods import PERIODS
from noc_tui.analytics.trends import carrier_list_trends
from noc_tui.records.timefmt import HOUR_MS, ms_to_iso
from noc_tui.settings_view import source_missing
from noc_tui.store.alarms import Alarm, alarms_mark, open_alarms
from noc_tui.store.alarms import last_id as last_alarm_id
from noc_tui.store.cache import Cache, migrate_file
from noc_tui.store.destinations import Routing
from noc_tui.store.destinations import load as load_routing
from noc_tui.store.poll_status import failures_recorded, read_poll_info

if TYPE_CHECKING:
    from noc_tui.config import AlarmSettings, HealthSettings, MetricSettings, Settings

WINDOWS: dict[str, int] = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
# "unknown": the switch's records hold no failed attempt (a ConnexCS CDR of connected
# calls only), so nothing says whether the carrier fails.
HEALTH_STATES = ("down", "suspect", "degraded", "unknown", "fine")
# The figures that mean nothing without the failed attempts: unknown (None) then.
FAILURE_FIGURES = ("asr", "ner", "code_consistency", "never_404", "consecutive_failures",
                   "failover_out", "failover_in", "halt_violations")
SUMMARY_FAILURE_FIGURES = ("asr", "ner")

# Plain-words meaning of the SIP codes an operator meets most; used by the call ladder.
SIP_WORDS: dict[int, str] = {
    200: "answered", 302: "moved temporarily", 403: "forbidden", 404: "number not found",
    408: "no reply in time", 480: "temporarily unavailable", 486: "busy",
    487: "cancelled by the caller", 500: "server error", 502: "bad gateway",
    503: "service unavailable", 504: "gateway timeout", 600: "busy everywhere",
    603: "declined",
}


# -- dashboard state --------------------------------------------------------------------

_DATA_TABLES = ("carriers", "attempts", "trunk_groups", "dids", "registrations",
                "delivery_attempts")


def dashboard_state(
    cache_path: Path, settings: Settings, config_path: Path | None,
    cache: Cache | None = None,
) -> DashboardState:
    """Decide between the carrier list and a first-run message (never raises). `cache`:
    a read-only connection the caller opened on cache_path, to use instead of a new one."""
    has_source = source_missing(settings.source) is None
    where = str(config_path) if config_path else "the config file"
    todo = (
        "Run `noc-tui --demo` to try the dashboard on the embedded demo switch, "
        f"or set source.url in {where} and press r to poll your switch."
    )
    if not Path(cache_path).exists():
        return DashboardState("no_cache", f"No cache yet at {cache_path}.\n\n{todo}", has_source)
    # Either side's records make the cache worth showing: a cache of inbound records
    # only (trunk groups, DIDs, registrations, deliveries) is not empty.
    exists = "SELECT " + " OR ".join(f"EXISTS(SELECT 1 FROM {t})" for t in _DATA_TABLES)
    try:
        if cache is not None:
            has_any = cache.conn.execute(exists).fetchone()[0]
        else:
            with Cache(cache_path, readonly=True) as own:
                has_any = own.conn.execute(exists).fetchone()[0]
    except Exception as exc:  # a broken file must explain itself, not crash the app
        return DashboardState("broken", f"Cannot read the cache: {exc}", has_source)
    if not has_any:
        src = {"apiv1": settings.source.url, "kamailio": "Kamailio ([source.kamailio])",
               "connexcs": f"ConnexCS ({settings.source.url or 'app.connexcs.com'})"
               }.get(settings.source.kind, settings.source.kind)
        if has_source:
            msg = (f"The cache at {cache_path} is empty. Source: {src}.\n\n"
                   "Press r to poll now, or wait for the next scheduled poll.")
        else:
            msg = f"The cache at {cache_path} is empty.\n\n{todo}"
        return DashboardState("empty", msg, has_source)
    return DashboardState("ready", "", has_source)


# -- carrier list -----------------------------------------------------------------------


def carrier_list(
    cache: Cache, window_s: int, now_ms: int
) -> tuple[int, list[dict[str, Any]], bool]:
    """(as-of ms, rows, precomputed?) for a window: the stored standard window when the
    poller/import computed one, else computed live at now_ms."""
    stored = stored_metrics(cache, window_s)
    if stored is not None and stored[1]:
        return stored[0], stored[1], True
    return now_ms, carrier_metrics(cache, now_ms, window_s), False


def migrate_for_reading(cache_path: Path, settings: Settings) -> None:
    """Bring an existing cache to the current schema, as read-only connections need.
    Never raises: a cache that cannot be brought there says why when it is read."""
    with contextlib.suppress(Exception):
        migrate_file(cache_path, settings.metrics)


def list_snapshot(cache_path: Path, settings: Settings, config_path: Path | None,
                  window: str, now_ms: int) -> ListSnapshot:
    """The carrier list for a window, read through one read-only connection (opening one
    reads the carrier ids and the rate book). Never raises: a cache that cannot be read
    is a state (dashboard_state) or an error to show."""
    cache: Cache | None = None
    if Path(cache_path).exists():
        try:
            cache = Cache(cache_path, settings.metrics, readonly=True)
        except Exception:
            cache = None  # dashboard_state says why
    try:
        state = dashboard_state(cache_path, settings, config_path, cache)
        if state.kind != "ready":
            return ListSnapshot(state, window)
        try:
            if cache is None:  # it could not open a moment ago, yet reads now
                cache = Cache(cache_path, settings.metrics, readonly=True)
            # One read transaction: the rows, their as-of, the poll status, the open
            # alarms and the mark all describe the same committed state, whatever a
            # poll commits meanwhile.
            with cache.snapshot():
                as_of, rows, _ = carrier_list(cache, WINDOWS[window], now_ms)
                poll = read_poll_info(cache)
                mark = data_mark(cache)
                routing = load_routing(cache.conn)
                opened = open_alarms(cache.conn)
                alarm_mark = last_alarm_id(cache.conn)
                # Read here, with the list: at start-up in the forked child, while the
                # dashboard imports Textual (a second read after the first frame
                # competed with its paint); stored with the windows, one statement.
                trends = carrier_list_trends(cache, as_of)
        except Exception as exc:
            return ListSnapshot(state, window, error=str(exc))
    finally:
        if cache is not None:
            cache.close()
    known = poll is None or poll.failures_recorded is not False
    return ListSnapshot(state, window, as_of,
                        with_health(rows, settings, routing, known, opened=opened), poll,
                        mark=mark, alarms=opened, alarm_mark=alarm_mark, trends=trends)


def data_mark(cache: Cache) -> tuple[Any, ...]:
    """What changes whenever an import or poll changed what the screens show: the
    precomputed windows (each refresh counts), the last poll run's state and the
    alarms (raised, cleared, acknowledged). A dashboard compares it with the mark of
    the list it shows to notice others' polls."""
    meta = dict(cache.conn.execute(
        "SELECT key, value FROM meta WHERE key IN ('metrics_serial', 'metrics_now_ms')"))
    run = cache.conn.execute(
        "SELECT id, status, ended_at FROM poll_runs ORDER BY id DESC LIMIT 1").fetchone()
    return (meta.get("metrics_serial"), meta.get("metrics_now_ms"),
            tuple(run) if run else None, alarms_mark(cache.conn))


def with_health(rows: list[dict[str, Any]], settings: Settings,
                routing: dict[str, Routing] | None = None,
                failures_known: bool = True, *, opened: list[Alarm]) -> list[dict[str, Any]]:
    """The carrier list's rows with their health and open alarms, as the list shows
    them (in place); every screen that shows a carrier's state takes it from here.
    `routing`: the switch's live state of each carrier's gateways (store.destinations).
    Without the failed attempts (`failures_known` False) the failure figures are
    unknown, and so is the health of a carrier that is neither down nor a FAS suspect.
    `opened`: the cache's open alarms (store.alarms.open_alarms)."""
    hs, al = settings.health, settings.alarms
    mark_alarms(rows, opened)
    for r in rows:
        route = (routing or {}).get(r["id"])
        if route is not None:
            r["routing"], r["routing_down"] = route.label, route.down
        if not failures_known:
            for key in FAILURE_FIGURES:
                r[key] = None
        r["health"] = health(r, hs, al.halt_violations)
        if not failures_known and r["health"] not in ("down", "suspect"):
            r["health"] = "unknown"
    return rows


def unknown_failures(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows with the figures `keys` set unknown (in place): what the cache holds has no
    failed attempts to compute them from."""
    for r in rows:
        for key in keys:
            r[key] = None
    return rows


def mark_alarms(rows: list[dict[str, Any]], opened: list[Alarm]) -> None:
    """Each carrier row's open alarms, kind -> what crossed (as last judged): "alarms"
    those that want attention, "alarms_silenced" those acknowledged. They are the
    cache's (judged over alarms.window at the last poll or import), whatever window the
    row's figures are of: a window switch neither raises nor clears one."""
    by_carrier: dict[str, list[Alarm]] = {}
    for a in opened:
        if a.subject_kind == "carrier":
            by_carrier.setdefault(a.subject_id, []).append(a)
    for r in rows:
        mine = by_carrier.get(r["id"])
        if mine is None:  # most rows: two literals, not two comprehensions
            r["alarms"], r["alarms_silenced"] = {}, {}
            continue
        r["alarms"] = {a.kind: a.last_message for a in mine if not a.silenced}
        r["alarms_silenced"] = {a.kind: a.last_message for a in mine if a.silenced}


def health(row: dict[str, Any], hs: HealthSettings, halt_violations: int = 1) -> str:
    """down > suspect > degraded > fine, from the configurable thresholds (down also
    when the switch reports every destination of the carrier down). Suspect: a
    FAS suspect, or failovers after halt codes (a misrouted switch) at or above
    `halt_violations` (the alarm threshold)."""
    cf = row.get("consecutive_failures") or 0
    if cf >= hs.down_consecutive_failures or row.get("routing_down"):
        return "down"  # routing_down: the switch sends it no calls (every gateway down)
    if row.get("fas_suspect") or (row.get("halt_violations") or 0) >= halt_violations:
        return "suspect"
    asr = row.get("asr")
    if (row.get("attempts", 0) >= hs.degraded_min_attempts and asr is not None
            and asr < hs.degraded_asr) or cf >= hs.degraded_consecutive_failures:
        return "degraded"
    return "fine"


def alarms(row: dict[str, Any], al: AlarmSettings) -> dict[str, str]:
    """Alarm kind -> reason in words, for every threshold the row is across."""
    out: dict[str, str] = {}
    cf = row.get("consecutive_failures") or 0
    if cf >= al.consecutive_failures:
        out["consecutive_failures"] = (
            f"{cf} consecutive failures (alarm at {al.consecutive_failures})")
    if al.fas_suspect and row.get("fas_suspect"):
        out["fas_suspect"] = "FAS suspect: " + ", ".join(row.get("fas_flags") or [])
    hv = row.get("halt_violations") or 0
    if hv >= al.halt_violations:
        out["halt_violations"] = f"{hv} halt violations (alarm at {al.halt_violations})"
    asr = row.get("asr")
    if asr is not None and row.get("attempts", 0) >= al.asr_min_attempts and asr < al.asr_floor:
        out["asr_floor"] = f"ASR {asr:.0%} below the floor of {al.asr_floor:.0%}"
    return out


# -- carrier screen ---------------------------------------------------------------------


def carrier_facts(cache: Cache, carrier_id: str, settings: MetricSettings,
                  now_ms: int | None = None) -> dict[str, Any]:
    """The carrier's record and what the cache knows of it, as of now_ms (None: all)."""
    conn = cache.conn
    row = conn.execute(
        "SELECT id, name, status, channels, cps, currency, halt_codes FROM carriers "
        "WHERE id = ?", (carrier_id,)
    ).fetchone()
    keys = ("id", "name", "status", "channels", "cps", "currency", "halt_codes")
    facts: dict[str, Any] = dict(zip(keys, row, strict=True)) if row else dict.fromkeys(keys)
    facts["id"] = carrier_id
    facts["known"] = row is not None
    first, last = conn.execute(
        "SELECT min(ts), max(ts) FROM attempts WHERE carrier_id = ? AND ts < ?",
        (carrier_id, now_ms if now_ms is not None else 2**63 - 1)).fetchone()
    facts["first_seen"] = ms_to_iso(first) if first is not None else None
    facts["last_seen"] = ms_to_iso(last) if last is not None else None
    facts["contacts"] = conn.execute(
        "SELECT count(*) FROM contacts WHERE carrier_id = ?", (carrier_id,)).fetchone()[0]
    facts["rate_rows"] = conn.execute(
        "SELECT count(*) FROM rates WHERE carrier_id = ?", (carrier_id,)).fetchone()[0]
    facts["halts"] = compress_codes(halt_set(facts["halt_codes"], settings))
    facts["routing"] = load_routing(conn, carrier_id).get(carrier_id)
    return facts


def hourly_series(
    cache: Cache, carrier_id: str, now_ms: int, hours: int = 24
) -> list[tuple[int, int, float | None]]:
    """(hour start ms, attempts, asr) for the hours ending with the one holding now;
    that hour up to now only. asr None also when the records hold no failed attempts
    (failures_recorded)."""
    hour = now_ms // HOUR_MS * HOUR_MS
    end = hour + HOUR_MS
    start = end - hours * HOUR_MS
    got = {h: (a, c) for h, a, c in cache.conn.execute(
        "SELECT hour, attempts, connected FROM rollups "
        "WHERE carrier_id = ? AND hour >= ? AND hour < ?", (carrier_id, start, hour))}
    got[hour] = cache.conn.execute(
        "SELECT count(*), coalesce(sum(sip_code BETWEEN 200 AND 299), 0) FROM attempts "
        "WHERE carrier_id = ? AND ts >= ? AND ts < ?", (carrier_id, hour, now_ms)).fetchone()
    known = failures_recorded(cache) is not False
    out = []
    for h in range(start, end, HOUR_MS):
        a, c = got.get(h, (0, 0))
        out.append((h, a, c / a if a and known else None))
    return out


def contacts(cache: Cache, carrier_id: str) -> list[dict[str, Any]]:
    return list(cache.db.query(
        "SELECT name, role, email, phone, notes FROM contacts WHERE carrier_id = ? "
        "ORDER BY name", [carrier_id]))


def rates(
    cache: Cache, carrier_id: str, prefix: str = "", now_ms: int | None = None,
    limit: int = 2000,
) -> tuple[list[dict[str, Any]], int]:
    """Rate rows whose prefix starts with `prefix` (or that `prefix` starts with, so
    typing a full number finds the rows that rate it), and the total count."""
    where = "carrier_id = ?"
    args: list[Any] = [carrier_id]
    if prefix:
        # Row prefixes under what was typed, or the longest-match candidates for a number.
        cands = [prefix[:k] for k in range(1, len(prefix) + 1)]
        where += (f" AND (prefix LIKE ? ESCAPE '\\' OR prefix IN "
                  f"({','.join('?' * len(cands))}))")
        args += [_like_prefix(prefix), *cands]
    total = cache.conn.execute(f"SELECT count(*) FROM rates WHERE {where}", args).fetchone()[0]
    rows = cache.db.query(
        "SELECT card_id, card_name, prefix, destination, rate, connect_fee, mcd_s, pulse_s, "
        f"currency, effective_from, status FROM rates WHERE {where} "
        "ORDER BY prefix, effective_from DESC, card_id LIMIT ?", [*args, limit])
    out = []
    for r in rows:
        eff = r["effective_from"]
        r["effective_from"] = ms_to_iso(eff)
        r["future"] = now_ms is not None and eff > now_ms
        out.append(r)
    return out, total


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def failure_history(
    cache: Cache, carrier_id: str, now_ms: int, limit: int = 50
) -> dict[str, Any]:
    """The consecutive-failure counter, its last reset, and the latest attempts with the
    counter's value after each (None where the fetched history cannot tell)."""
    if failures_recorded(cache) is False:  # unknown, not zero
        return {"count": None, "last_connected": None, "history": []}
    count, last_ok = consecutive_failures(cache, carrier_id, now_ms)
    rows = cache.conn.execute(
        "SELECT ts, call_id, seq, dst, sip_code, sip_reason FROM attempts "
        "WHERE carrier_id = ? AND ts < ? ORDER BY ts DESC, call_id DESC, seq DESC LIMIT ?",
        (carrier_id, now_ms, limit),
    ).fetchall()
    hist: list[dict[str, Any]] = []
    counter: int | None = count
    for ts, call, seq, dst, code, reason in rows:  # newest first: walk the counter back
        ok = 200 <= code <= 299
        if ok:
            counter = 0
        hist.append({"started_at": ms_to_iso(ts), "call_id": call, "seq": seq, "dst": dst,
                     "sip_code": code, "sip_reason": reason, "connected": ok,
                     "counter": counter})
        if counter is not None:
            counter = None if ok else counter - 1
    # Rows older than the newest 2xx: count forward from the oldest 2xx fetched.
    run: int | None = None
    for h in reversed(hist):
        if h["connected"]:
            run = 0
        elif run is not None:
            run += 1
        if h["counter"] is None and run is not None:
            h["counter"] = run
    return {"count": count, "last_connected": ms_to_iso(last_ok) if last_ok else None,
            "history": hist}


def summaries(cache: Cache, carrier_id: str, now_ms: int) -> dict[str, list[dict[str, Any]]]:
    known = failures_recorded(cache) is not False
    return {p: summary(cache, carrier_id, p, now_ms) if known else
            unknown_failures(summary(cache, carrier_id, p, now_ms), SUMMARY_FAILURE_FIGURES)
            for p in PERIODS}


def compress_codes(codes: frozenset[int] | set[int]) -> str:
    """{300..399, 404, 480, 486} -> '300-399, 404, 480, 486'."""
    out: list[str] = []
    s = sorted(codes)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[j] + 1:
            j += 1
        out.append(str(s[i]) if i == j else f"{s[i]}-{s[j]}")
        i = j + 1
    return ", ".join(out)


# -- failover ---------------------------------------------------------------------------


def fas_map(cache: Cache, window_s: int, now_ms: int) -> dict[str, bool]:
    _, rows, _ = carrier_list(cache, window_s, now_ms)
    return {r["id"]: bool(r["fas_suspect"]) for r in rows}


@dataclass
class FailoverPolicy:
    halts: str  # the codes that stop routing, compressed
    custom: bool  # the carrier overrides the default halt set
    seen: list[tuple[int, int, str]] = field(default_factory=list)  # (code, count, action)


def failover_policy(
    cache: Cache, carrier_id: str, now_ms: int, window_s: int, settings: MetricSettings
) -> FailoverPolicy:
    """Which codes halt and which fail over, with the codes this carrier returned."""
    row = cache.conn.execute(
        "SELECT halt_codes FROM carriers WHERE id = ?", (carrier_id,)).fetchone()
    hc = row[0] if row else None
    codes = halt_set(hc, settings)
    seen = [
        (code, n, "halt" if code in codes else "fail over")
        for code, n in cache.conn.execute(
            "SELECT sip_code, count(*) FROM attempts WHERE carrier_id = ? AND ts >= ? "
            "AND ts < ? AND sip_code NOT BETWEEN 200 AND 299 GROUP BY sip_code "
            "ORDER BY 2 DESC, 1", (carrier_id, now_ms - window_s * 1000, now_ms))
    ]
    return FailoverPolicy(compress_codes(codes), hc is not None, seen)


# -- call ladder ------------------------------------------------------------------------


def code_words(code: int | None, reason: str | None = None) -> str:
    if code is None:
        return ""
    return SIP_WORDS.get(code) or reason or ""


def call_ladder(
    cache: Cache, call_id: str, settings: MetricSettings,
    fas: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Every attempt of a call in routing order, each with why routing moved on or
    stopped there, and the FAS signals that apply to it."""
    from noc_tui.analytics.metrics import call_attempts

    atts = call_attempts(cache, call_id)
    fas = fas or {}
    out = []
    for i, a in enumerate(atts):
        code = a["sip_code"]
        ok = 200 <= code <= 299
        halts = halt_set(a.get("halt_codes"), settings)
        nxt = atts[i + 1] if i + 1 < len(atts) else None
        words = code_words(code, a.get("sip_reason"))
        if ok:
            why = "answered: the call connected here and routing stopped"
        elif nxt is not None and code in halts:
            why = (f"{code} ({words}) is a halt code for this carrier: routing should have "
                   f"stopped, but moved on to {nxt['carrier_id']} (halt violation)")
        elif nxt is not None:
            why = (f"{code} ({words}) is not a halt code: routing failed over to "
                   f"{nxt['carrier_id']}")
        elif code in halts:
            why = f"{code} ({words}) is a halt code: routing stopped, the call failed"
        elif code == 487:
            why = "the caller hung up before an answer: routing stopped"
        else:
            why = f"{code} ({words}): no further carrier tried, the call failed"
        signals: list[str] = []
        if ok:
            if a.get("pdd_ms") is None:
                signals.append("answered with no 180/183 before (no ring)")
            if a["duration_s"] <= settings.sdc_max_s:
                signals.append(f"short call ({a['duration_s']} s <= {settings.sdc_max_s} s)")
            flags = fas.get(a["carrier_id"]) or []
            if flags:
                signals.append("carrier flags: " + ", ".join(f for f in FAS_FLAGS if f in flags))
        out.append({**a, "connected": ok, "why": why, "fas_signals": signals,
                    "halt": code in halts})
    return out
