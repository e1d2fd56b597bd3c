"""Carrier metrics, exactly as defined in the foundation issue (section 5).

Sums come from the hourly rollups for whole hours inside the window and from raw
attempts only for the partial hours at its edges; failovers come from the links kept
at ingest. The standard windows (1h, 24h, 7d) are computed once per ingest and stored,
so the carrier list is a read of a few thousand rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import msgspec

from noc_tui.analytics.periods import month_start, period_range
from noc_tui.analytics.trends import STORED_NOW_KEY as STORED_TRENDS_NOW_KEY
from noc_tui.analytics.trends import list_trend_rows
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, ms_to_iso
from noc_tui.store.cache import ROLLUP_VALUE_COLS, Cache, _rollup_select
from noc_tui.store.retention import carried_streak, chain, streak

if TYPE_CHECKING:
    import sqlite3

    from noc_tui.config import MetricSettings

STANDARD_WINDOWS = (3600, 86400, 7 * 86400)
REFRESH_CACHE_KIB = -8192  # SQLite page cache during a refresh (negative = KiB)
FAS_FLAGS = ("NO_RING", "SHORT_CALLS", "NEVER_404", "ANSWERS_UNALLOCATED")

CARRIER_KEYS = (
    "id", "name", "status", "attempts", "connected", "asr", "acd_s", "minutes",
    "pdd_avg_ms", "ner", "n200", "n404", "code_consistency", "never_404",
    "consecutive_failures", "failover_out", "failover_in", "halt_violations", "sdc_ratio",
    "fas_flags", "fas_suspect",
)
SUMMARY_KEYS = (
    "start", "attempts", "connected", "asr", "acd_s", "minutes", "pdd_avg_ms", "ner",
    "cost", "unrated",
)

_ZERO = dict.fromkeys(ROLLUP_VALUE_COLS, 0)
_ALL_CARRIERS = "carrier_id IN (SELECT id FROM attempt_carriers)"


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _window(now_ms: int, window_s: int) -> tuple[int, int]:
    return now_ms - window_s * 1000, now_ms


def _settings(cache: Cache, settings: MetricSettings | None) -> MetricSettings:
    """Thresholds may differ per call; what the rollups were built with may not."""
    if settings is None:
        return cache.settings
    if (settings.ner_set() != cache.settings.ner_set()
            or settings.sdc_max_s != cache.settings.sdc_max_s):
        raise ValueError("ner_codes and sdc_max_s are built into the cache's rollups: open "
                         "the Cache with these settings instead of passing them per call")
    return settings


# -- sums over a window -----------------------------------------------------------------


def _sums(cache: Cache, start: int, end: int, carrier_id: str | None = None) -> dict[str, dict]:
    """Rollup columns summed per carrier over [start, end)."""
    s = cache.settings
    out: dict[str, dict[str, float]] = {}
    first_full = -(-start // HOUR_MS) * HOUR_MS
    last_full = end // HOUR_MS * HOUR_MS
    raw_ranges: list[tuple[int, int]]
    parts: list[tuple[str, tuple[Any, ...]]] = []
    # Every range scan goes through the (carrier_id, ts) index: one range per carrier.
    cfilter = " AND carrier_id = ?" if carrier_id is not None else f" AND {_ALL_CARRIERS}"
    cargs: tuple[Any, ...] = (carrier_id,) if carrier_id is not None else ()
    if first_full < last_full:
        cols = ", ".join(f"sum({c})" for c in ROLLUP_VALUE_COLS)
        parts.append((
            f"SELECT carrier_id, {cols} FROM rollups WHERE hour >= ? AND hour < ?{cfilter} "
            "GROUP BY carrier_id",
            (first_full, last_full, *cargs),
        ))
        raw_ranges = [(start, first_full), (last_full, end)]
    else:
        raw_ranges = [(start, end)]
    select = _rollup_select(s.ner_set(), s.sdc_max_s)
    for a, b in raw_ranges:
        if a < b:
            parts.append((
                f"SELECT carrier_id, {select} FROM attempts WHERE ts >= ? AND ts < ?{cfilter} "
                "GROUP BY carrier_id",
                (a, b, *cargs),
            ))
    for sql, args in parts:
        for row in cache.conn.execute(sql, args):
            acc = out.setdefault(row[0], dict(_ZERO))
            for c, v in zip(ROLLUP_VALUE_COLS, row[1:], strict=True):
                acc[c] += v or 0
    return out


def _traffic(sums: dict[str, float]) -> dict[str, Any]:
    """The traffic figures shared by the carrier list and the summary rows."""
    att, conn = sums["attempts"], sums["connected"]
    return {
        "attempts": att,
        "connected": conn,
        "asr": _ratio(conn, att),
        # Sums in thousandths (exact integers), made seconds and ms first: integer
        # inputs then give exactly the figures of int / int.
        "acd_s": _ratio(sums["dur_conn_ms"] / 1000, conn),
        "minutes": sums["dur_all_ms"] / 1000 / 60,
        "pdd_avg_ms": _ratio(sums["pdd_sum_us"] / 1000, sums["pdd_n"]),
        "ner": _ratio(sums["ner_hits"], att - sums["n3xx"]),
    }


def _basic(sums: dict[str, float], settings: MetricSettings) -> dict[str, Any]:
    att, conn = sums["attempts"], sums["connected"]
    return {
        **_traffic(sums),
        "n200": sums["n200"],
        "n404": sums["n404"],
        "never_404": att >= settings.never_404_min_attempts and sums["n404"] == 0,
        "sdc_ratio": _ratio(sums["sdc"], conn),
    }


# -- code consistency -------------------------------------------------------------------

# The 2xx and 404 attempts of a window, one row per (number, carrier), in number order:
# a range of the partial covering index attempts_codes (rows in time order, no table
# lookups) and one sort. Each number's rows then come together, so the other carriers'
# verdict is worked out number by number, in memory bounded by one number's carriers.
_CODES = "(sip_code BETWEEN 200 AND 299 OR sip_code = 404)"
_PAIRS_SQL = (
    "SELECT dst, carrier_id, max(sip_code BETWEEN 200 AND 299), max(sip_code = 404) "
    f"FROM attempts INDEXED BY attempts_codes WHERE ts >= ? AND ts < ? AND {_CODES}{{only}} "
    "GROUP BY dst, carrier_id ORDER BY dst, carrier_id"
)
# Only the numbers one carrier answered 2xx or 404 in the window.
_ONLY_NUMBERS_OF = (
    " AND dst IN (SELECT dst FROM attempts WHERE carrier_id = ? AND ts >= ? AND ts < ? "
    f"AND {_CODES})"
)

# One (number, carrier) of a window: the number's inconsistency for that carrier.
NumberHit = Callable[[str, str, int, int, int, int], None]


def _consistency(
    cache: Cache, start: int, end: int, *, of_carrier: str | None = None,
    inconsistent: NumberHit | None = None,
) -> dict[str, tuple[int, int, int]]:
    """Per carrier: (comparable, inconsistent, connected-while-missing numbers) over
    [start, end); `inconsistent(carrier, dst, ok, nf, others_ok, others_nf)` is called
    for each inconsistent (number, carrier), in number order. `of_carrier`: only the
    numbers that carrier answered (its own figures are then exact, not the others')."""
    only, args = "", [start, end]
    if of_carrier is not None:
        only = _ONLY_NUMBERS_OF
        args += [of_carrier, start, end]
    out: dict[str, list[int]] = {}
    rows = cache.conn.execute(_PAIRS_SQL.format(only=only), args)
    for dst, of_number in groupby(rows, itemgetter(0)):
        group = list(of_number)
        if len(group) == 1 and not (group[0][2] and group[0][3]):
            # Most numbers: one carrier answered it, and only 2xx or only 404. With no
            # other carriers' verdict and not both codes, it is not comparable.
            continue
        n_ok = sum([r[2] for r in group])
        n_nf = sum([r[3] for r in group])
        for _dst, cid, ok, nf in group:
            o_ok, o_nf = n_ok - ok, n_nf - nf
            exist = o_ok > 0 and o_nf == 0
            missing = o_nf > 0 and o_ok == 0
            if not ((ok and nf) or exist or missing):
                continue
            acc = out.get(cid)
            if acc is None:
                acc = out[cid] = [0, 0, 0]
            acc[0] += 1
            if ok and missing:
                acc[2] += 1
            if (ok and nf) or (ok and missing) or (nf and exist):
                acc[1] += 1
                if inconsistent is not None:
                    inconsistent(cid, dst, ok, nf, o_ok, o_nf)
    return {cid: (a[0], a[1], a[2]) for cid, a in out.items()}


@dataclass(frozen=True)
class NumberVerdict:
    dst: str
    ok: bool  # this carrier answered 2xx at least once
    not_found: bool  # this carrier answered 404 at least once
    others_ok: int  # other carriers that answered 2xx
    others_not_found: int  # other carriers that answered 404
    verdict: str  # others' verdict: exists | missing | none
    why: str


NUMBERS_PER_CARRIER = 500  # kept per carrier and window; the figure counts them all


def _verdict(dst: str, ok: int, nf: int, o_ok: int, o_nf: int) -> NumberVerdict:
    exist = o_ok > 0 and o_nf == 0
    missing = o_nf > 0 and o_ok == 0
    if ok and nf:
        why = "answered both 2xx and 404"
    elif ok and missing:
        why = "connected a number the other carriers say does not exist"
    else:
        why = "answered 404 for a number the other carriers connect"
    verdict = "exists" if exist else "missing" if missing else "none"
    return NumberVerdict(dst, bool(ok), bool(nf), o_ok, o_nf, verdict, why)


def inconsistent_numbers(
    cache: Cache, carrier_id: str, now_ms: int, window_s: int,
    limit: int = NUMBERS_PER_CARRIER,
) -> list[NumberVerdict]:
    """The numbers behind a carrier's code consistency figure (computed live)."""
    start, end = _window(now_ms, window_s)
    found: list[NumberVerdict] = []

    def hit(cid: str, dst: str, ok: int, nf: int, o_ok: int, o_nf: int) -> None:
        if cid == carrier_id and len(found) < limit:
            found.append(_verdict(dst, ok, nf, o_ok, o_nf))

    _consistency(cache, start, end, of_carrier=carrier_id, inconsistent=hit)
    return found


def stored_inconsistent_numbers(
    cache: Cache, carrier_id: str, window_s: int
) -> list[NumberVerdict] | None:
    """The same, as computed with the standard windows at the last ingest (None if the
    window is not a standard one or nothing was computed yet)."""
    if window_s not in STANDARD_WINDOWS or cache.meta("metrics_now_ms") is None:
        return None
    rows = cache.conn.execute(
        "SELECT dst, ok, nf, others_ok, others_nf FROM window_numbers "
        "WHERE window_s = ? AND carrier_id = ? ORDER BY dst", (window_s, carrier_id))
    return [_verdict(*r) for r in rows]


def _consistency_pass(
    cache: Cache, now_ms: int, window_s: int
) -> dict[str, tuple[int, int, int]]:
    """One scan for a refresh: the per-carrier figures of _consistency, while the
    inconsistent numbers (the first NUMBERS_PER_CARRIER of a carrier in number order)
    go to temp.numbers."""
    start, end = _window(now_ms, window_s)
    conn = cache.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS numbers AS "
                 "SELECT * FROM main.window_numbers WHERE 0")
    kept: dict[str, int] = {}
    buf: list[tuple[Any, ...]] = []
    insert = "INSERT INTO temp.numbers VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

    def hit(cid: str, dst: str, ok: int, nf: int, o_ok: int, o_nf: int) -> None:
        n = kept.get(cid, 0)
        if n < NUMBERS_PER_CARRIER:
            kept[cid] = n + 1
            buf.append((window_s, cid, dst, ok, nf, o_ok, o_nf,
                        _verdict(dst, ok, nf, o_ok, o_nf).verdict))
            if len(buf) >= 10_000:
                # Temp writes need no lock on the cache file; memory stays bounded.
                conn.executemany(insert, buf)
                buf.clear()

    figures = _consistency(cache, start, end, inconsistent=hit)
    conn.executemany(insert, buf)
    return figures


# -- consecutive failures ---------------------------------------------------------------


def consecutive_failures(cache: Cache, carrier_id: str, now_ms: int) -> tuple[int, int | None]:
    """(failures since the last 2xx before now, start of that 2xx attempt in ms or None):
    over the attempts cached since the last prune, after the streak that prune kept of
    the ones before (store/retention.py); for a now before that, over the cached ones."""
    # One read transaction: a prune committing between the kept streak and the count of
    # the attempts would have those counted twice, or not at all.
    with cache.snapshot() as conn:
        carried = carried_streak(conn, carrier_id)
        if carried is None or now_ms < carried[0]:
            s = streak(conn, carrier_id, None, now_ms)
        else:
            s = chain(carried[1], streak(conn, carrier_id, carried[0], now_ms))
    return s.fails, s.last_ok_ts


# -- failovers --------------------------------------------------------------------------


def halt_set(halt_codes: str | None, settings: MetricSettings) -> frozenset[int]:
    """A carrier's own halt codes (stored "404,486"), else the configured set."""
    if halt_codes is None:
        return settings.halt_set()
    return frozenset(int(c) for c in halt_codes.split(",") if c)


def _halt_sql(carrier_col: str, code_col: str, halts: dict[str, frozenset[int]],
              default: frozenset[int]) -> tuple[str, list[str]]:
    """(SQL true when code_col is a halt code of the carrier in carrier_col, its
    arguments): each carrier in `halts` by its own set, any other by `default`."""
    def is_in(codes: frozenset[int]) -> str:
        # An empty set (a carrier that never halts) is false, not NULL.
        return f"{code_col} IN ({_in_list(codes)})" if codes else "0"

    own = {cid: codes for cid, codes in halts.items() if codes != default}
    if not own:
        return is_in(default), []
    whens = " ".join(f"WHEN ? THEN {is_in(codes)}" for codes in own.values())
    return f"CASE {carrier_col} {whens} ELSE {is_in(default)} END", list(own)


# A failover-out link (failovers f) as of now (the two parameters, both now): its call
# had connected by then on another carrier after the failure. Its own connecting
# attempt (conn_ts) mostly tells; when that started later, another 2xx attempt may
# have (seq order need not be time order).
_OUT_AS_OF = ("(f.conn_ts < ? OR EXISTS (SELECT 1 FROM attempts x WHERE x.call_id = f.call_id "
              "AND x.seq > f.seq AND x.carrier_id <> f.carrier_id "
              "AND x.sip_code BETWEEN 200 AND 299 AND x.ts < ?))")


def _failovers(
    cache: Cache, start: int, end: int, halts: dict[str, frozenset[int]],
    settings: MetricSettings,
) -> dict[str, list[int]]:
    """Per carrier: [failover_out, failover_in, halt_violations]."""
    conn = cache.conn
    out: dict[str, list[int]] = {}
    default_halts = settings.halt_set()
    halted, halt_args = _halt_sql("carrier_id", "failed_code", halts, default_halts)
    # Per carrier, in the order of the covering index failovers_out: a distinct count per
    # carrier needs no sort of the whole window's rows, as grouping by call would.
    twice = []
    for cid, calls, rows, halt_rows in conn.execute(
        f"SELECT carrier_id, count(DISTINCT call_id), count(*), sum({halted}) "
        f"FROM failovers f WHERE {_ALL_CARRIERS} AND ts >= ? AND ts < ? AND {_OUT_AS_OF} "
        "GROUP BY carrier_id",
        (*halt_args, start, end, end, end),
    ):
        if calls == rows:
            out[cid] = [calls, 0, halt_rows]
        else:
            twice.append(cid)
    if twice:
        # A call that failed on one carrier more than once counts once, with the code of
        # its first failure there (bare failed_code with min(seq): SQLite takes it from
        # the row holding the minimum). Few carriers have such calls; only theirs are
        # grouped by call.
        for cid, _call, _seq, code in conn.execute(
            "SELECT carrier_id, call_id, min(seq), failed_code FROM failovers f "
            f"WHERE carrier_id IN ({', '.join('?' * len(twice))}) AND ts >= ? AND ts < ? "
            f"AND {_OUT_AS_OF} GROUP BY carrier_id, call_id",
            (*twice, start, end, end, end),
        ):
            acc = out.setdefault(cid, [0, 0, 0])
            acc[0] += 1
            if code in halts.get(cid, default_halts):
                acc[2] += 1
    # As of now: the failure before the 2xx attempt had happened by then (fail_ts).
    for cid, n in conn.execute(
        "SELECT carrier_id, count(DISTINCT call_id) FROM failovers_in "
        f"WHERE {_ALL_CARRIERS} AND ts >= ? AND ts < ? AND fail_ts < ? GROUP BY carrier_id",
        (start, end, end),
    ):
        out.setdefault(cid, [0, 0, 0])[1] = n
    return out


# -- the carrier list -------------------------------------------------------------------


def _carrier_rows(cache: Cache) -> Iterator[tuple[str, str | None, str | None]]:
    """(id, name, status) of every carrier, known or only seen in attempts, in id order:
    a cursor, so that a refresh never holds every carrier's name at once."""
    return cache.conn.execute(
        "SELECT id, name, status FROM carriers UNION ALL "
        "SELECT id, NULL, NULL FROM attempt_carriers "
        "WHERE id NOT IN (SELECT id FROM carriers) ORDER BY 1"
    )


def _carrier_ids(cache: Cache) -> list[str]:
    return [cid for (cid,) in cache.conn.execute(
        "SELECT id FROM carriers UNION SELECT id FROM attempt_carriers")]


def carrier_metrics(
    cache: Cache, now_ms: int, window_s: int, settings: MetricSettings | None = None,
    *, failures: dict[str, int] | None = None,
    consistency: dict[str, tuple[int, int, int]] | None = None,
) -> list[dict[str, Any]]:
    """Every metric of every carrier for the window ending at now (computed live).

    `failures` may pass consecutive failures already counted for this now (they do not
    depend on the window), `consistency` the figures of a refresh's consistency pass."""
    if failures is None:
        failures = {cid: consecutive_failures(cache, cid, now_ms)[0]
                    for cid in _carrier_ids(cache)}
    return list(_window_rows(cache, now_ms, window_s, settings, failures, consistency))


def _window_rows(
    cache: Cache, now_ms: int, window_s: int, settings: MetricSettings | None,
    failures: dict[str, int], consistency: dict[str, tuple[int, int, int]] | None,
) -> Iterator[dict[str, Any]]:
    """The rows of carrier_metrics one at a time, in id order: a refresh stores each as
    it comes, so its memory does not grow with the number of carriers."""
    st = _settings(cache, settings)
    start, end = _window(now_ms, window_s)
    sums = _sums(cache, start, end)
    cons = _consistency(cache, start, end) if consistency is None else consistency
    fo = _failovers(cache, start, end, _halt_map(cache, st), st)
    tot_att = sum(v["attempts"] for v in sums.values())
    tot_404 = sum(v["n404"] for v in sums.values())
    for cid, name, status in _carrier_rows(cache):
        sm = sums.get(cid, _ZERO)
        b = _basic(sm, st)
        comparable, inconsistent, unalloc = cons.get(cid, (0, 0, 0))
        f_out, f_in, halt_v = fo.get(cid, (0, 0, 0))
        flags = []
        conn = sm["connected"]
        if conn >= st.fas_min_connected and sm["conn_null_pdd"] / conn >= st.fas_no_ring_ratio:
            flags.append("NO_RING")
        if conn >= st.fas_min_connected and sm["sdc"] / conn >= st.fas_short_ratio:
            flags.append("SHORT_CALLS")
        others_att = tot_att - sm["attempts"]
        if (b["never_404"] and others_att
                and (tot_404 - sm["n404"]) / others_att >= st.fas_never_404_others_ratio):
            flags.append("NEVER_404")
        if unalloc >= st.fas_unallocated_min_numbers:
            flags.append("ANSWERS_UNALLOCATED")
        row: dict[str, Any] = {"id": cid, "name": name, "status": status, **b}
        row.update(
            code_consistency=(1 - inconsistent / comparable) if comparable else None,
            consecutive_failures=failures[cid],
            failover_out=f_out,
            failover_in=f_in,
            halt_violations=halt_v,
            fas_flags=flags,
            fas_suspect=len(flags) >= st.fas_min_flags,
        )
        yield {k: row[k] for k in CARRIER_KEYS}


def refresh_standard_windows(cache: Cache, now_ms: int) -> None:
    """Compute the dashboard's windows once per ingest and store them."""
    with small_page_cache(cache):
        _refresh(cache, now_ms)


@contextmanager
def small_page_cache(cache: Cache) -> Iterator[None]:
    """SQLite's page cache small while a refresh runs: each sorter and materialised CTE
    of the window queries may grow to cache_size, and a small one keeps the refresh's
    memory flat whatever the cache holds."""
    conn = cache.conn
    saved = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {REFRESH_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {saved}")


def _refresh(cache: Cache, now_ms: int) -> None:
    conn = cache.conn
    failures = {cid: consecutive_failures(cache, cid, now_ms)[0] for cid in _carrier_ids(cache)}
    conn.execute("DROP TABLE IF EXISTS temp.numbers")
    # One window at a time, each row stored as it is made: with 50,000 carriers, the
    # three windows' rows held at once took the poll past its 150 MB.
    staged = stage_rows(cache, "window_metrics", (
        (w, r["id"], json.dumps(r)) for w in STANDARD_WINDOWS
        for r in _window_rows(cache, now_ms, w, None, failures,
                              _consistency_pass(cache, now_ms, w))))
    staged_trends = stage_rows(cache, "list_trends", list_trend_rows(cache, now_ms))
    with cache.transaction() as conn:
        swap_in(conn, "window_metrics", staged)
        swap_in(conn, "list_trends", staged_trends)
        conn.execute("DELETE FROM window_numbers")
        conn.execute("INSERT INTO main.window_numbers SELECT * FROM temp.numbers")
        cache.set_meta("metrics_now_ms", str(now_ms))
        cache.set_meta(STORED_TRENDS_NOW_KEY, str(now_ms))
        # Counts refreshes: a dashboard notices a new one even at the same now.
        conn.execute("INSERT INTO meta VALUES ('metrics_serial', '1') ON CONFLICT (key) "
                     "DO UPDATE SET value = CAST(value AS INTEGER) + 1")
    conn.execute("DROP TABLE temp.numbers")
    conn.execute(f"DROP TABLE {staged}")
    conn.execute(f"DROP TABLE {staged_trends}")


def stage_rows(cache: Cache, table: str, rows: Iterable[tuple[Any, ...]]) -> str:
    """Store `rows` as they come into an empty temp copy of the stored list `table`
    (a file, as temp_store is FILE, and no lock on the cache), for `swap_in` to copy
    into the cache in a short transaction: its name. A refresh then holds one row at
    a time, however many carriers or trunk groups there are."""
    conn = cache.conn
    staged = f"temp.staged_{table}"
    conn.execute(f"DROP TABLE IF EXISTS {staged}")
    conn.execute(f"CREATE TEMP TABLE staged_{table} AS SELECT * FROM main.{table} WHERE 0")
    columns = len(conn.execute(f"SELECT * FROM {staged}").description)
    conn.executemany(f"INSERT INTO {staged} VALUES ({', '.join('?' * columns)})", rows)
    return staged


def swap_in(conn: sqlite3.Connection, table: str, staged: str) -> None:
    """Replace the stored list `table` by the staged one (in the caller's transaction)."""
    conn.execute(f"DELETE FROM main.{table}")
    conn.execute(f"INSERT INTO main.{table} SELECT * FROM {staged}")


def stored_metrics(cache: Cache, window_s: int) -> tuple[int, list[dict[str, Any]]] | None:
    """The precomputed carrier list for a standard window: (its now, rows), or None."""
    stored = stored_rows(cache, window_s)
    return None if stored is None else (stored[0], list(stored[1]))


def stored_rows(cache: Cache, window_s: int
                ) -> tuple[int, Iterator[dict[str, Any]]] | None:
    """The same, its rows read one at a time in id order (memory of one row)."""
    return read_stored(cache, "metrics_now_ms", "window_metrics", "carrier_id", window_s,
                       _stored_row)


_ROW_DECODER = msgspec.json.Decoder()


def _stored_row(text: str) -> dict[str, Any]:
    """A stored row as written by json.dumps. msgspec decodes the 2,000 rows of a list
    in a quarter of json.loads' time, and gives them one key object per name (the
    start-up child pickles each once: 0.3 MB instead of 0.7 MB). json.loads takes what
    only it reads (NaN, integers past 64 bits)."""
    try:
        return _ROW_DECODER.decode(text)  # type: ignore[no-any-return]
    except msgspec.DecodeError:
        return json.loads(text)  # type: ignore[no-any-return]


def read_stored(cache: Cache, now_key: str, table: str, key: str, window_s: int,
                decode: Callable[[str], Any]) -> tuple[int, Iterator[Any]] | None:
    """A stored list's rows of one window, decoded one at a time in `key` order, and the
    now they were computed at (meta `now_key`); None before the first refresh."""
    now = cache.meta(now_key)
    if now is None:
        return None
    rows = cache.conn.execute(
        f"SELECT data FROM {table} WHERE window_s = ? ORDER BY {key}", (window_s,))
    return int(now), (decode(d) for (d,) in rows)


# -- summary ----------------------------------------------------------------------------


def _bucket_sql(period: str) -> str:
    if period == "live":
        return "hour"
    if period == "daily":
        return f"hour / {DAY_MS} * {DAY_MS}"
    return "strftime('%Y-%m', hour / 1000, 'unixepoch')"


def summary(
    cache: Cache, carrier_id: str, period: str, now_ms: int,
    settings: MetricSettings | None = None,
) -> list[dict[str, Any]]:
    start, _end = period_range(period, now_ms)
    s = cache.settings
    # As of now: whole hours from the rollups, the hour that holds now from its attempts
    # up to now (never those at or after it).
    hour = now_ms // HOUR_MS * HOUR_MS
    cols = ", ".join(f"sum({c})" for c in ROLLUP_VALUE_COLS)
    rows = cache.conn.execute(
        f"SELECT {_bucket_sql(period)} AS b, {cols} FROM ("
        f"SELECT hour, {', '.join(ROLLUP_VALUE_COLS)} FROM rollups "
        "WHERE carrier_id = ? AND hour >= ? AND hour < ? UNION ALL "
        f"SELECT ? AS hour, {_rollup_select(s.ner_set(), s.sdc_max_s)} FROM attempts "
        "WHERE carrier_id = ? AND ts >= ? AND ts < ?) GROUP BY b ORDER BY b",
        (carrier_id, start, hour, hour, carrier_id, hour, now_ms),
    ).fetchall()
    out = []
    for row in rows:
        bucket = row[0]
        if isinstance(bucket, str):
            y, m = bucket.split("-")
            bucket = month_start(int(y), int(m))
        sm = dict(zip(ROLLUP_VALUE_COLS, row[1:], strict=True))
        if not sm["attempts"]:
            continue
        out.append({
            "start": ms_to_iso(bucket),
            **_traffic(sm),
            "cost": float(sm["cost"]),
            "unrated": sm["unrated"],
        })
    return out


# -- failover calls ---------------------------------------------------------------------


@dataclass
class FailoverPage:
    rows: list[dict[str, Any]]
    total: int
    offset: int
    direction: str


def _halt_map(cache: Cache, settings: MetricSettings) -> dict[str, frozenset[int]]:
    return {cid: halt_set(hc, settings) for cid, hc in cache.conn.execute(
        "SELECT id, halt_codes FROM carriers WHERE halt_codes IS NOT NULL")}


def _in_list(values: Any) -> str:
    return ",".join(str(int(v)) for v in sorted(values)) or "NULL"


def _page_of(cache: Cache, base: str, conds: list[str], args: list[Any],
             limit: int | None, offset: int, order: str = "ts",
             order_args: Sequence[Any] = ()) -> tuple[int, list[tuple[Any, ...]]]:
    """(rows in all, the page's rows) of a query filtered by conds, by `order` (an SQL
    expression over the query's columns, with its direction) then (ts, call_id)."""
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    total = cache.conn.execute(f"SELECT count(*) FROM ({base}){where}", args).fetchone()[0]
    rows = cache.conn.execute(
        f"SELECT * FROM ({base}){where} ORDER BY {order}, ts, call_id LIMIT ? OFFSET ?",
        [*args, *order_args, -1 if limit is None else limit, offset]).fetchall()
    return total, rows


# What a failover list can be sorted by: its row keys -> SQL over each direction's query
# (halt and fas for "out" are filled in with the carrier's halt codes and the suspects).
_FO_ORDER = {
    "out": {"started_at": "ts", "call_id": "call_id", "dst": "dst",
            "failed_code": "failed_code", "failed_reason": "sip_reason",
            "connected_carrier_id": "conn_carrier_id",
            "connected_duration_s": "conn_duration_s",
            "halt_violation": "failed_code IN ({halts})",
            "fas_suspect": "conn_carrier_id IN ({suspects})"},
    "in": {"started_at": "ts", "call_id": "call_id", "dst": "dst",
           "failed_carrier_id": "failed_c", "failed_code": "failed_code",
           "failed_reason": "sip_reason", "connected_duration_s": "duration_s",
           "halt_violation": "hv", "fas_suspect": "0"},
}
FAILOVER_ORDERS = {d: frozenset(o) for d, o in _FO_ORDER.items()}


def failover_page(
    cache: Cache, carrier_id: str, now_ms: int, window_s: int, settings: MetricSettings,
    *, direction: str = "out", offset: int = 0, limit: int | None = 500,
    halt_only: bool = False, fas_only: bool = False, fas: dict[str, bool] | None = None,
    order: str = "started_at", descending: bool = False,
) -> FailoverPage:
    """A page of the calls that failed on the carrier and connected elsewhere (direction
    "out"), or that it picked up after another carrier failed ("in"), in the window;
    filtered, sorted and paged in SQL so 100,000 such calls are never loaded at once.
    limit None: every call. fas: carrier id -> fas_suspect (default: computed live).
    order: a row key of FAILOVER_ORDERS[direction] (default the oldest call first)."""
    if direction not in _FO_ORDER:
        raise ValueError("direction is 'out' or 'in'")
    if order not in _FO_ORDER[direction]:
        raise ValueError(f"cannot sort {direction} failovers by {order!r}")
    start, end = now_ms - window_s * 1000, now_ms
    if fas is None:
        fas = {r["id"]: r["fas_suspect"] for r in carrier_metrics(cache, now_ms, window_s,
                                                                 settings)}
    halts = _halt_map(cache, settings)
    default_halt = settings.halt_set()
    suspects = [c for c, s in fas.items() if s]
    sus_ph = ",".join("?" * len(suspects)) or "NULL"
    if direction == "out":
        mine = halts.get(carrier_id, default_halt)
        # The connecting attempt as of now: the link's own, or when that started later,
        # the first 2xx attempt on another carrier after the failure that had started.
        later = ("(SELECT x.{col} FROM attempts x WHERE x.call_id = g.call_id AND "
                 "x.seq > g.seq AND x.carrier_id <> g.carrier_id AND "
                 "x.sip_code BETWEEN 200 AND 299 AND x.ts < ? ORDER BY x.seq LIMIT 1)")
        base = (
            "SELECT call_id, seq, ts, dst, failed_code, sip_reason, "
            f"CASE WHEN conn_ts < ? THEN conn_carrier_id ELSE {later.format(col='carrier_id')}"
            " END AS conn_carrier_id, "
            f"CASE WHEN conn_ts < ? THEN conn_duration_s ELSE {later.format(col='duration_s')}"
            " END AS conn_duration_s FROM (SELECT call_id, carrier_id, min(seq) AS seq, ts, "
            "dst, failed_code, sip_reason, conn_carrier_id, conn_duration_s, conn_ts "
            f"FROM failovers f WHERE carrier_id = ? AND ts >= ? AND ts < ? AND {_OUT_AS_OF} "
            "GROUP BY call_id) g")
        conds, args = [], [end, end, end, end, carrier_id, start, end, end, end]
        if halt_only:
            conds.append(f"failed_code IN ({_in_list(mine)})")
        if fas_only:
            conds.append(f"conn_carrier_id IN ({sus_ph})")
            args += suspects
        by = _FO_ORDER["out"][order].format(halts=_in_list(mine), suspects=sus_ph)
        total, rows = _page_of(cache, base, conds, args, limit, offset,
                               f"{by} {'DESC' if descending else 'ASC'}",
                               suspects if order == "fas_suspect" else ())
        out = [{
            "call_id": call, "started_at": ms_to_iso(ts), "dst": dst, "failed_code": code,
            "failed_reason": reason, "connected_carrier_id": conn_c,
            "connected_duration_s": dur, "halt_violation": code in mine,
            "fas_suspect": fas.get(conn_c, False),
        } for call, _seq, ts, dst, code, reason, conn_c, dur in rows]
        return FailoverPage(out, total, offset, direction)
    # The failed carrier's halt set decides a halt violation; few carriers override it.
    halt_sql, halt_args = _halt_sql("f.carrier_id", "f.failed_code", halts, default_halt)
    base = (
        f"SELECT i.call_id, min(f.seq), i.ts, f.carrier_id AS failed_c, f.failed_code, "
        f"f.sip_reason, f.dst, a.duration_s, ({halt_sql}) AS hv FROM failovers_in i "
        "JOIN attempts a ON a.call_id = i.call_id AND a.seq = i.seq "
        "JOIN failovers f ON f.call_id = i.call_id AND f.seq < i.seq AND f.ts < ? "
        "WHERE i.carrier_id = ? AND i.ts >= ? AND i.ts < ? AND i.fail_ts < ? "
        "GROUP BY i.call_id")
    args = [*halt_args, end, carrier_id, start, end, end]
    conds = []
    if halt_only:
        conds.append("hv")
    mine_fas = fas.get(carrier_id, False)
    if fas_only and not mine_fas:
        conds.append("0")
    total, rows = _page_of(cache, base, conds, args, limit, offset,
                           f"{_FO_ORDER['in'][order]} {'DESC' if descending else 'ASC'}")
    out = [{
        "call_id": call, "started_at": ms_to_iso(ts), "dst": dst, "failed_carrier_id": fc,
        "failed_code": code, "failed_reason": reason, "connected_duration_s": dur,
        "halt_violation": bool(hv), "fas_suspect": mine_fas,
    } for call, _seq, ts, fc, code, reason, dst, dur, hv in rows]
    return FailoverPage(out, total, offset, direction)


def failover_calls(
    cache: Cache, carrier_id: str, now_ms: int, window_s: int,
    settings: MetricSettings | None = None, *, direction: str = "out",
    fas: dict[str, bool] | None = None,
) -> list[dict[str, Any]]:
    """Every failover call of the carrier in the window (see failover_page)."""
    return failover_page(cache, carrier_id, now_ms, window_s, _settings(cache, settings),
                         direction=direction, limit=None, fas=fas).rows


def call_attempts(cache: Cache, call_id: str) -> list[dict[str, Any]]:
    """Every attempt of a call in routing order."""
    rows = cache.db.query(
        "SELECT a.*, c.name AS carrier_name, c.halt_codes FROM attempts a "
        "LEFT JOIN carriers c ON c.id = a.carrier_id WHERE a.call_id = ? ORDER BY a.seq",
        [call_id],
    )
    out = []
    for r in rows:
        r["started_at"] = ms_to_iso(r.pop("ts"))
        out.append(r)
    return out
