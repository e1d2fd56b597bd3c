"""What the cache keeps, and pruning the rest (docs/metrics.md, "What the cache keeps").

Raw attempts are kept for `cache.keep_attempts` before the newest of them (or before
now, if that is earlier); the hourly rollups for 13 calendar months, which every
summary reads. Pruning deletes whole calls, so a kept call keeps all its attempts and
the failover links between them; it never touches a rollup younger than that, so no
figure the screens show from rollups changes. Before the attempts go, each carrier's
consecutive-failure count over them is kept (failure_streaks): that count runs over
every attempt ever cached.

The inbound side (issue 15) is pruned to the same horizon: whole deliveries whose every
attempt starts before it, with their per-delivery rows; their hourly rollups stay (13
months, as the carriers'), and an ingest takes no delivery there that is not cached
(store/inbound.py), so no figure counts one twice. Registration events before the horizon
go, except each edge's latest one before it: the state as of any instant from the
horizon on is what it was.

Everything runs in short transactions (a batch of calls, a carrier's streak, a month
of a carrier's rollups), committed one by one: a reader in WAL mode is never blocked,
and another writer waits at most one batch.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from noc_tui.records.timefmt import HOUR_MS, ms_to_dt
from noc_tui.store.cache import HORIZON_KEY

if TYPE_CHECKING:
    import sqlite3

    from noc_tui.store.cache import Cache

ROLLUP_MONTHS = 13  # the monthly summary's 12 calendar months, and the one before
# Calls one transaction deletes, with their attempts and links: some 650 attempts of
# bench/bench_prune.py's calls, a few ms of writing.
PRUNE_BATCH_CALLS = 400
ROLLUP_BATCH_HOURS = 24 * 31  # rollup rows of one carrier one transaction deletes
STREAK_BATCH = 500  # carriers' kept streaks one transaction writes
PRUNE_BATCH_DELIVERIES = 1000  # deliveries one transaction deletes, with their attempts
REGISTRATION_BATCH_EDGES = 200  # edges whose old registration events one transaction deletes
_CONN = "sip_code BETWEEN 200 AND 299"


@dataclass
class PruneReport:
    horizon_ms: int | None = None  # attempts kept from here on
    rollups_from_ms: int | None = None  # rollups kept from here on
    calls: int = 0
    attempts: int = 0
    links: int = 0  # failover links (out and in) of the pruned calls
    rollups: int = 0
    quarantined: int = 0
    poll_runs: int = 0
    deliveries: int = 0
    delivery_attempts: int = 0
    registrations: int = 0  # registration events
    inbound_rollups: int = 0
    transactions: int = 0
    max_batch_calls: int = 0  # the most calls one transaction deleted
    max_transaction_s: float = 0.0  # the longest write transaction up to its commit
    # The longest commit: it appends to the WAL, and every WAL_CHECKPOINT_PAGES also
    # copies the WAL into the database, once the write lock is released (a checkpoint
    # holds up neither readers nor writers in WAL mode).
    max_commit_s: float = 0.0


# -- consecutive failures over a range of attempts ---------------------------------------


@dataclass(frozen=True)
class Streak:
    """Consecutive failures over a carrier's attempts in a range, ordered by
    (started_at, call_id, seq): failures after the last 2xx, or all when none."""

    fails: int
    last_ok_ts: int | None  # start of that last 2xx attempt


def streak(conn: sqlite3.Connection, carrier_id: str, start: int | None,
           end: int) -> Streak:
    """The streak over the carrier's cached attempts with start <= ts < end (start
    None: every one before end)."""
    lo, args = ("ts >= ? AND ", (start,)) if start is not None else ("", ())
    row = conn.execute(
        f"SELECT ts, call_id, seq FROM attempts WHERE carrier_id = ? AND {lo}ts < ? "
        f"AND {_CONN} ORDER BY ts DESC, call_id DESC, seq DESC LIMIT 1",
        (carrier_id, *args, end)).fetchone()
    if row is None:
        n = conn.execute(f"SELECT count(*) FROM attempts WHERE carrier_id = ? AND {lo}ts < ?",
                         (carrier_id, *args, end)).fetchone()[0]
        return Streak(n, None)
    last_ts, call, seq = row
    later = conn.execute(
        "SELECT count(*) FROM attempts WHERE carrier_id = ? AND ts > ? AND ts < ?",
        (carrier_id, last_ts, end)).fetchone()[0]
    ties = conn.execute(
        "SELECT count(*) FROM attempts WHERE carrier_id = ? AND ts = ? "
        "AND (call_id > ? OR (call_id = ? AND seq > ?))",
        (carrier_id, last_ts, call, call, seq)).fetchone()[0]
    return Streak(later + ties, last_ts)


def carried_streak(conn: sqlite3.Connection, carrier_id: str) -> tuple[int, Streak] | None:
    """(upto, the streak over every attempt of the carrier before upto, pruned or not),
    as kept by the last prune; None if nothing was kept for it."""
    row = conn.execute("SELECT upto, fails, last_ok_ts FROM failure_streaks "
                       "WHERE carrier_id = ?", (carrier_id,)).fetchone()
    return (row[0], Streak(row[1], row[2])) if row else None


def chain(before: Streak, after: Streak) -> Streak:
    """The streak over two ranges of attempts, one after the other."""
    if after.last_ok_ts is not None:
        return after
    return Streak(before.fails + after.fails, before.last_ok_ts)


# -- pruning ----------------------------------------------------------------------------


def _month_start(ms: int, back: int) -> int:
    """Start of the calendar month `back` months before the one holding ms (UTC)."""
    d = ms_to_dt(ms)
    idx = d.year * 12 + d.month - 1 - back
    return calendar.timegm((idx // 12, idx % 12 + 1, 1, 0, 0, 0)) * 1000


def newest_attempt(conn: sqlite3.Connection) -> int | None:
    """started_at of the newest cached attempt (a range end per carrier, by index)."""
    row = conn.execute(
        "SELECT max((SELECT max(ts) FROM attempts WHERE carrier_id = c.id)) "
        "FROM attempt_carriers c").fetchone()
    return row[0] if row else None


def newest_record(conn: sqlite3.Connection) -> int | None:
    """The start of the newest cached attempt or delivery (either side), by index."""
    marks = [newest_attempt(conn),
             conn.execute("SELECT max(ts) FROM deliveries").fetchone()[0]]
    return max((m for m in marks if m is not None), default=None)


def horizons(cache: Cache, now_ms: int, keep_ms: int) -> tuple[int, int]:
    """(attempts kept from, rollups kept from), both on hour boundaries. They follow
    the newest attempt or delivery, or now if that is earlier: importing an archive
    keeps its last `keep` of records, and a record dated in the future moves nothing."""
    newest = newest_record(cache.conn)
    ref = now_ms if newest is None else min(now_ms, newest)
    horizon = (ref - keep_ms) // HOUR_MS * HOUR_MS
    kept = cache.meta(HORIZON_KEY)
    if kept is not None:
        horizon = max(horizon, int(kept))  # never moves back: those hours are closed
    # A window of the command line may reach back to the attempts' horizon, and reads
    # rollups there: they go no later than it.
    return horizon, min(_month_start(ref, ROLLUP_MONTHS - 1), horizon)


class _Writer:
    """Write transactions of one prune, counted and timed."""

    def __init__(self, cache: Cache, report: PruneReport) -> None:
        self.cache = cache
        self.report = report

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        report = self.report
        t0 = time.perf_counter()
        with self.cache.transaction() as conn:
            yield conn
            t1 = time.perf_counter()
        t2 = time.perf_counter()
        report.transactions += 1
        report.max_transaction_s = max(report.max_transaction_s, t1 - t0)
        report.max_commit_s = max(report.max_commit_s, t2 - t1)


def prune(cache: Cache, now_ms: int, keep_ms: int, *,
          batch_calls: int = PRUNE_BATCH_CALLS) -> PruneReport:
    """Prune what the cache no longer keeps (see the module's doc); each step commits
    in short transactions of its own, so a prune stopped midway leaves a consistent
    cache that the next one finishes."""
    conn = cache.conn
    report = PruneReport()
    horizon, rollups_from = horizons(cache, now_ms, keep_ms)
    report.horizon_ms, report.rollups_from_ms = horizon, rollups_from
    tx = _Writer(cache, report)
    carriers = [r[0] for r in conn.execute("SELECT id FROM attempt_carriers")]
    # 1. Close the hours before the horizon first: from here on an ingest takes no
    # attempt there that is not cached (Cache._drop_closed), so nothing can slip in
    # between the streaks kept and the attempts deleted.
    if cache.meta(HORIZON_KEY) != str(horizon):
        with tx.transaction():
            cache.set_meta(HORIZON_KEY, str(horizon))
    # 2. Each carrier's consecutive failures over its attempts before the horizon.
    # Read outside write transactions (a carrier's years of attempts take a while to
    # count); below the horizon only attempts already cached can still change.
    streaks = [(cid, s) for cid in carriers if (s := _streak_to(conn, cid, horizon))]
    for i in range(0, len(streaks), STREAK_BATCH):
        rows = [(cid, horizon, s.fails, s.last_ok_ts) for cid, s in streaks[i:i + STREAK_BATCH]]
        with tx.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO failure_streaks VALUES (?, ?, ?, ?)", rows)
    # 3. Whole calls whose every attempt starts before the horizon.
    for cid in carriers:
        _prune_calls(tx, cid, horizon, batch_calls)
    # 4. Rollups. A carrier stays listed (attempt_carriers) with its kept streak, as
    # it would with its attempts: one row a carrier, not a row an hour.
    for cid in carriers:
        _prune_rollups(tx, cid, rollups_from)
    # 5. The bookkeeping of polls, by the clock: what the quarantine listing shows.
    cutoff = now_ms - keep_ms
    with tx.transaction() as c:
        _prune_polls(c, cutoff, report)
    # 6. The inbound side, to the same horizon (the hours before it closed in step 1).
    _prune_deliveries(tx, horizon, PRUNE_BATCH_DELIVERIES)
    _prune_registrations(tx, horizon)
    _prune_inbound_rollups(tx, rollups_from)
    return report


def _streak_to(conn: sqlite3.Connection, cid: str, horizon: int) -> Streak | None:
    """The carrier's streak over every attempt before the horizon, from the one kept
    before; None when the one kept already reaches it."""
    carried = carried_streak(conn, cid)
    if carried is None:
        return streak(conn, cid, None, horizon)
    upto, before = carried
    return None if upto >= horizon else chain(before, streak(conn, cid, upto, horizon))


def _prune_calls(tx: _Writer, cid: str, horizon: int, batch_calls: int) -> None:
    report = tx.report
    if tx.cache.conn.execute("SELECT 1 FROM attempts WHERE carrier_id = ? AND ts < ? LIMIT 1",
                             (cid, horizon)).fetchone() is None:
        return  # most carriers, most hours: no write transaction at all
    while True:
        with tx.transaction() as c:
            # The calls of this carrier's oldest attempts, in index order, that have no
            # attempt (on any carrier) at or after the horizon.
            found = c.execute(
                "SELECT DISTINCT call_id FROM attempts a WHERE carrier_id = ? AND ts < ? "
                "AND NOT EXISTS (SELECT 1 FROM attempts b WHERE b.call_id = a.call_id "
                "AND b.ts >= ?) LIMIT ?", (cid, horizon, horizon, batch_calls)).fetchall()
            if found:
                report.attempts += c.executemany(
                    "DELETE FROM attempts WHERE call_id = ?", found).rowcount
                report.links += c.executemany(
                    "DELETE FROM failovers WHERE call_id = ?", found).rowcount
                report.links += c.executemany(
                    "DELETE FROM failovers_in WHERE call_id = ?", found).rowcount
        report.calls += len(found)
        report.max_batch_calls = max(report.max_batch_calls, len(found))
        if len(found) < batch_calls:
            return


def _prune_rollups(tx: _Writer, cid: str, before: int) -> None:
    conn = tx.cache.conn
    first = conn.execute("SELECT min(hour) FROM rollups WHERE carrier_id = ?",
                         (cid,)).fetchone()[0]
    while first is not None and first < before:
        upto = min(before, first + ROLLUP_BATCH_HOURS * HOUR_MS)
        with tx.transaction() as c:
            tx.report.rollups += c.execute(
                "DELETE FROM rollups WHERE carrier_id = ? AND hour >= ? AND hour < ?",
                (cid, first, upto)).rowcount
        first = upto


def _prune_polls(conn: sqlite3.Connection, cutoff: int, report: PruneReport) -> None:
    """Quarantined records and poll runs older than the kept attempts; the last run
    and the last good one stay (the dashboard's status reads them)."""
    report.quarantined += conn.execute(
        "DELETE FROM quarantine WHERE received_at < ?", (cutoff,)).rowcount
    report.poll_runs += conn.execute(
        "DELETE FROM poll_runs WHERE started_at < ? AND id <> (SELECT max(id) FROM "
        "poll_runs) AND id IS NOT (SELECT max(id) FROM poll_runs WHERE status = 'ok')",
        (cutoff,)).rowcount


# -- the inbound side --------------------------------------------------------------------


def _prune_deliveries(tx: _Writer, horizon: int, batch: int) -> None:
    """Whole deliveries whose every attempt starts before the horizon, with their
    per-delivery rows. Their rollups stay: the hours before the horizon are closed."""
    report = tx.report
    if tx.cache.conn.execute("SELECT 1 FROM deliveries WHERE ts < ? LIMIT 1",
                             (horizon,)).fetchone() is None:
        return
    while True:
        with tx.transaction() as c:
            found = c.execute(
                "SELECT delivery_id FROM deliveries d WHERE ts < ? AND NOT EXISTS (SELECT 1 "
                "FROM delivery_attempts a WHERE a.delivery_id = d.delivery_id AND a.ts >= ?) "
                "LIMIT ?", (horizon, horizon, batch)).fetchall()
            if found:
                report.delivery_attempts += c.executemany(
                    "DELETE FROM delivery_attempts WHERE delivery_id = ?", found).rowcount
                report.deliveries += c.executemany(
                    "DELETE FROM deliveries WHERE delivery_id = ?", found).rowcount
        if len(found) < batch:
            return


def _prune_registrations(tx: _Writer, horizon: int) -> None:
    """Registration events before the horizon, but each edge's latest before it (all
    of them at that instant: a tie is settled by the event's kind)."""
    conn = tx.cache.conn
    edges = conn.execute("SELECT trunk_group_id, edge FROM registration_edges").fetchall()
    for i in range(0, len(edges), REGISTRATION_BATCH_EDGES):
        todo = []
        for gid, edge in edges[i:i + REGISTRATION_BATCH_EDGES]:
            last = conn.execute(
                "SELECT max(at) FROM registrations WHERE trunk_group_id = ? AND edge = ? "
                "AND at < ?", (gid, edge, horizon)).fetchone()[0]
            if last is not None and conn.execute(
                    "SELECT 1 FROM registrations WHERE trunk_group_id = ? AND edge = ? "
                    "AND at < ? LIMIT 1", (gid, edge, last)).fetchone() is not None:
                todo.append((gid, edge, last))
        if not todo:
            continue  # most edges, most prunes: no write transaction at all
        with tx.transaction() as c:
            tx.report.registrations += c.executemany(
                "DELETE FROM registrations WHERE trunk_group_id = ? AND edge = ? AND at < ?",
                todo).rowcount


def _prune_inbound_rollups(tx: _Writer, before: int) -> None:
    """Inbound rollups older than the carriers' are kept, per trunk group by its key,
    with its count of deliveries (inbound_groups: the deliveries its rollups count)
    brought down by theirs; a group none of whose deliveries is counted any more is
    listed no more for them (its configuration or registrations may still list it)."""
    conn = tx.cache.conn
    for (gid,) in conn.execute("SELECT id FROM inbound_groups").fetchall():
        first = conn.execute("SELECT min(hour) FROM inbound_rollups WHERE trunk_group_id = ?",
                             (gid,)).fetchone()[0]
        if first is None or first >= before:
            continue
        with tx.transaction() as c:
            offered = c.execute(
                "SELECT coalesce(sum(offered), 0) FROM inbound_rollups WHERE "
                "trunk_group_id = ? AND hour < ?", (gid, before)).fetchone()[0]
            tx.report.inbound_rollups += c.execute(
                "DELETE FROM inbound_rollups WHERE trunk_group_id = ? AND hour < ?",
                (gid, before)).rowcount
            c.execute("UPDATE inbound_groups SET deliveries = deliveries - ? WHERE id = ?",
                      (offered, gid))
            c.execute("DELETE FROM inbound_groups WHERE id = ? AND deliveries <= 0", (gid,))
