"""The local SQLite cache: schema, migrations and idempotent ingest.

One writer (the poller or an import) and any number of readers (dashboards) share the
file through WAL. Hourly rollups, failover links and cost are maintained at ingest so
no screen scans raw attempts to show a summary.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noc_tui.config import MetricSettings
from noc_tui.ratebook import RateBook
from noc_tui.records import FIELDS, KINDS, Rejection, to_row, validate, validate_json_lines
from noc_tui.timefmt import HOUR_MS

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 10_000
BATCH = 5_000
_PROBE_CHUNK = 900  # bound parameters per probe, under every SQLite build's limit

ATTEMPT_COLS = (
    "call_id", "seq", "carrier_id", "ts", "dst", "cli", "sip_code", "sip_reason",
    "pdd_ms", "duration_s", "release_reason", "cost",
)

# Each migration takes the schema from version i to i + 1. Never edit a shipped one.
MIGRATIONS: list[str] = [
    # 1: records and hourly rollups.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE carriers (
        id TEXT PRIMARY KEY, name TEXT, status TEXT, channels INTEGER, cps INTEGER,
        currency TEXT, halt_codes TEXT);
    CREATE TABLE contacts (
        carrier_id TEXT NOT NULL, name TEXT NOT NULL, role TEXT, email TEXT, phone TEXT,
        notes TEXT, PRIMARY KEY (carrier_id, name));
    CREATE TABLE rates (
        carrier_id TEXT NOT NULL, card_id TEXT NOT NULL, card_name TEXT, prefix TEXT NOT NULL,
        destination TEXT, rate REAL, connect_fee REAL, mcd_s INTEGER, pulse_s INTEGER,
        currency TEXT, effective_from INTEGER NOT NULL, status TEXT,
        PRIMARY KEY (carrier_id, card_id, prefix, effective_from));
    CREATE TABLE attempts (
        call_id TEXT NOT NULL, seq INTEGER NOT NULL, carrier_id TEXT NOT NULL,
        ts INTEGER NOT NULL, dst TEXT NOT NULL, cli TEXT, sip_code INTEGER NOT NULL,
        sip_reason TEXT, pdd_ms INTEGER, duration_s INTEGER NOT NULL, release_reason TEXT,
        cost REAL, PRIMARY KEY (call_id, seq));
    CREATE INDEX attempts_carrier_ts ON attempts (carrier_id, ts, sip_code);
    CREATE TABLE rollups (
        carrier_id TEXT NOT NULL, hour INTEGER NOT NULL,
        attempts INTEGER NOT NULL, connected INTEGER NOT NULL, dur_conn INTEGER NOT NULL,
        dur_all INTEGER NOT NULL, pdd_sum INTEGER NOT NULL, pdd_n INTEGER NOT NULL,
        conn_null_pdd INTEGER NOT NULL, sdc INTEGER NOT NULL, n3xx INTEGER NOT NULL,
        n200 INTEGER NOT NULL, n404 INTEGER NOT NULL, ner_hits INTEGER NOT NULL,
        cost REAL NOT NULL, unrated INTEGER NOT NULL,
        PRIMARY KEY (carrier_id, hour)) WITHOUT ROWID;
    """,
    # 2: failover links, kept at ingest, and the precomputed standard windows.
    """
    CREATE TABLE failovers (
        call_id TEXT NOT NULL, seq INTEGER NOT NULL, carrier_id TEXT NOT NULL,
        ts INTEGER NOT NULL, dst TEXT NOT NULL, failed_code INTEGER NOT NULL,
        sip_reason TEXT, conn_seq INTEGER NOT NULL, conn_carrier_id TEXT NOT NULL,
        conn_ts INTEGER NOT NULL, conn_duration_s INTEGER NOT NULL,
        PRIMARY KEY (call_id, seq));
    CREATE INDEX failovers_out ON failovers (carrier_id, ts);
    CREATE TABLE failovers_in (
        call_id TEXT NOT NULL, seq INTEGER NOT NULL, carrier_id TEXT NOT NULL,
        ts INTEGER NOT NULL, PRIMARY KEY (call_id, seq));
    CREATE INDEX failovers_in_carrier ON failovers_in (carrier_id, ts);
    CREATE TABLE window_metrics (
        window_s INTEGER NOT NULL, carrier_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (window_s, carrier_id));
    CREATE TABLE attempt_carriers (id TEXT PRIMARY KEY);
    INSERT OR IGNORE INTO attempt_carriers SELECT DISTINCT carrier_id FROM attempts;
    INSERT OR REPLACE INTO meta VALUES ('links_stale', '1');
    """,
    # 3: poller state and quarantine.
    """
    CREATE TABLE poll_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT, started_at INTEGER NOT NULL,
        ended_at INTEGER, since INTEGER, until INTEGER, taken INTEGER NOT NULL DEFAULT 0,
        quarantined INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'running', error_kind TEXT, error TEXT);
    CREATE TABLE poll_state (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, received_at INTEGER NOT NULL,
        kind TEXT NOT NULL, location TEXT, reason TEXT NOT NULL, raw TEXT);
    """,
    # 4: the poller quarantines each bad record once; find earlier copies by index.
    """
    CREATE INDEX quarantine_kind_raw ON quarantine (kind, raw);
    """,
    # 5: the numbers behind each carrier's code consistency, per standard window.
    """
    CREATE TABLE window_numbers (
        window_s INTEGER NOT NULL, carrier_id TEXT NOT NULL, dst TEXT NOT NULL,
        ok INTEGER NOT NULL, nf INTEGER NOT NULL, others_ok INTEGER NOT NULL,
        others_nf INTEGER NOT NULL, verdict TEXT NOT NULL,
        PRIMARY KEY (window_s, carrier_id, dst));
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class CacheError(Exception):
    """The cache file cannot be used (not SQLite, newer schema, unwritable...)."""


@dataclass
class IngestReport:
    kind: str
    taken: int = 0
    rejected: int = 0
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def merge(self, other: IngestReport) -> None:
        self.taken += other.taken
        self.rejected += other.rejected
        self.unchanged += other.unchanged
        self.rejections.extend(other.rejections)


def _rollup_select(ner: frozenset[int], sdc_max_s: int, sign: str = "") -> str:
    """Aggregates of a set of attempt rows, in the column order of the rollups table."""
    ner_sql = ",".join(str(c) for c in sorted(ner)) or "NULL"
    conn = "(sip_code BETWEEN 200 AND 299)"
    return f"""
        {sign}count(*), {sign}sum({conn}), {sign}sum(CASE WHEN {conn} THEN duration_s ELSE 0 END),
        {sign}sum(duration_s), {sign}coalesce(sum(pdd_ms), 0), {sign}count(pdd_ms),
        {sign}sum({conn} AND pdd_ms IS NULL), {sign}sum({conn} AND duration_s <= {sdc_max_s}),
        {sign}sum(sip_code BETWEEN 300 AND 399), {sign}sum(sip_code = 200),
        {sign}sum(sip_code = 404), {sign}sum(sip_code IN ({ner_sql})),
        {sign}coalesce(sum(cost), 0.0),
        {sign}sum({conn} AND cost IS NULL)"""


ROLLUP_VALUE_COLS = (
    "attempts", "connected", "dur_conn", "dur_all", "pdd_sum", "pdd_n", "conn_null_pdd",
    "sdc", "n3xx", "n200", "n404", "ner_hits", "cost", "unrated",
)
_ROLLUP_UPSERT_SET = ", ".join(f"{c} = {c} + excluded.{c}" for c in ROLLUP_VALUE_COLS)


class Cache:
    """A connection to the cache file. Use one per thread."""

    def __init__(
        self,
        path: str | Path,
        settings: MetricSettings | None = None,
        *,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path)
        self.settings = settings or MetricSettings()
        self.readonly = readonly
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise CacheError(f"{self.path}: no cache here yet")
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            # Temp B-trees of big GROUP BYs spill to a file: memory stays bounded.
            conn.execute("PRAGMA temp_store = FILE")
            conn.execute("PRAGMA cache_size = -32768")  # 32 MiB: memory stays bounded
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"{self.path}: not a noc-tui cache ({exc})") from None
        self.conn = conn
        self._lock = threading.RLock()
        if version > SCHEMA_VERSION:
            raise CacheError(
                f"{self.path}: schema version {version} is newer than this noc-tui "
                f"({SCHEMA_VERSION}); upgrade noc-tui"
            )
        if version < SCHEMA_VERSION:
            if readonly:
                raise CacheError(f"{self.path}: schema {version} needs migrating; open it "
                                 "for writing (run noc-tui import or poll) first")
            self.migrate()
        self.ratebook = RateBook(conn)
        self._known_carriers: set[str] = {
            r[0] for r in conn.execute("SELECT id FROM attempt_carriers")}
        if not readonly:
            self._check_derived()

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection, for row-dict queries; imported on
        first use because the dashboard's first frame does not need it."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # -- schema -----------------------------------------------------------------------

    def migrate(self, target: int = SCHEMA_VERSION) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for i in range(version, target):
            with self.transaction():
                for stmt in _statements(MIGRATIONS[i]):
                    self.conn.execute(stmt)
                self.conn.execute(f"PRAGMA user_version = {i + 1}")

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _signature(self) -> str:
        s = self.settings
        return f"ner={sorted(s.ner_set())};sdc={s.sdc_max_s}"

    def _check_derived(self) -> None:
        """Rebuild what depends on settings or on a migration that could not derive it."""
        sig = self.meta("rollup_signature")
        if sig != self._signature():
            if self.conn.execute("SELECT 1 FROM attempts LIMIT 1").fetchone():
                self.rebuild_rollups()
            self.set_meta("rollup_signature", self._signature())
        if self.meta("links_stale") == "1":
            with self.transaction():
                self._relink_all()
                self.conn.execute("DELETE FROM meta WHERE key = 'links_stale'")

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        with self._lock:
            self.conn.execute("BEGIN DEFERRED")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ingest -----------------------------------------------------------------------

    def ingest(
        self,
        kind: str,
        records: Iterable[Any],
        wheres: Iterable[str] | None = None,
        batch: int = BATCH,
    ) -> IngestReport:
        """Validate and store records; each batch commits in its own transaction."""
        if kind not in KINDS:
            raise ValueError(f"unknown record kind {kind!r}")
        report = IngestReport(kind)
        where_iter = iter(wheres) if wheres is not None else None
        buf: list[Any] = []
        where_buf: list[str] = []
        for n, rec in enumerate(records, 1):
            buf.append(rec)
            where_buf.append(next(where_iter) if where_iter else f"record {n}")
            if len(buf) >= batch:
                report.merge(self.ingest_batch(kind, buf, where_buf))
                buf, where_buf = [], []
        if buf:
            report.merge(self.ingest_batch(kind, buf, where_buf))
        return report

    def ingest_batch(self, kind: str, raws: list[Any], wheres: list[str]) -> IngestReport:
        """Validate parsed records and store the good ones in one transaction."""
        return self._store(kind, *validate(kind, raws, wheres))

    def ingest_json_lines(
        self, kind: str, lines: list[bytes], wheres: list[str]
    ) -> IngestReport:
        """Parse, validate and store raw JSON records in one transaction."""
        return self._store(kind, *validate_json_lines(kind, lines, wheres))

    def _store(self, kind: str, good: list[dict[str, Any]], bad: list[Rejection]) -> IngestReport:
        report = IngestReport(kind, rejected=len(bad), rejections=bad)
        if good:
            rows = [to_row(kind, r) for r in good]
            with self.transaction():
                if kind == "attempts":
                    taken, unchanged = self._store_attempts(rows)
                else:
                    taken, unchanged = self._store_reference(kind, rows)
            report.taken = taken
            report.unchanged = unchanged
        return report

    def _store_reference(self, kind: str, rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        cols = FIELDS[kind]
        placeholders = ",".join("?" * len(cols))
        before = self.conn.total_changes
        # Upsert that leaves identical rows untouched, so "unchanged" can be counted.
        pk = {"carriers": ("id",), "contacts": ("carrier_id", "name"),
              "rates": ("carrier_id", "card_id", "prefix", "effective_from")}[kind]
        others = [c for c in cols if c not in pk]
        sets = ", ".join(f"{c} = excluded.{c}" for c in others)
        differs = " OR ".join(f"{c} IS NOT excluded.{c}" for c in others)
        self.conn.executemany(
            f"INSERT INTO {kind} ({','.join(cols)}) VALUES ({placeholders}) "
            f"ON CONFLICT ({','.join(pk)}) DO UPDATE SET {sets} WHERE {differs}",
            rows,
        )
        changed = self.conn.total_changes - before
        if kind == "rates" and changed:
            self._rerate({r[0] for r in rows})
        return len(rows), len(rows) - changed

    def _store_attempts(self, rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        conn = self.conn
        # Last record wins within a batch, as across batches.
        latest: dict[tuple[str, int], tuple[Any, ...]] = {}
        for r in rows:
            latest[(r[0], r[1])] = r
        # One probe for every cached attempt of the calls this batch touches: it tells
        # identical re-ingests, replaced rows, and calls that span batches.
        old_by_call: dict[str, list[tuple[Any, ...]]] = {}
        calls = list({k[0] for k in latest})
        cols = ", ".join(ATTEMPT_COLS)
        for i in range(0, len(calls), _PROBE_CHUNK):
            chunk = calls[i:i + _PROBE_CHUNK]
            for old in conn.execute(
                f"SELECT {cols} FROM attempts WHERE call_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                old_by_call.setdefault(old[0], []).append(old)
        old_rows = {(o[0], o[1]): o for olds in old_by_call.values() for o in olds}
        book = self.ratebook
        staged: list[tuple[Any, ...]] = []
        replaced: list[tuple[Any, ...]] = []
        for key, r in latest.items():
            new = (*r, book.cost(r[2], r[4], r[3], r[9]) if 200 <= r[6] <= 299 else None)
            old = old_rows.get(key)
            if old is not None:
                if old == new:
                    continue
                replaced.append(old)
            staged.append(new)
        if not staged:
            return len(rows), len(rows)
        s = self.settings
        marks = ",".join("?" * len(ATTEMPT_COLS))
        if replaced:
            # Take the replaced rows' contributions out of the rollups first.
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS replaced AS "
                         "SELECT * FROM attempts WHERE 0")
            conn.execute("DELETE FROM replaced")
            conn.executemany(f"INSERT INTO replaced VALUES ({marks})", replaced)
            conn.execute(
                f"INSERT INTO rollups SELECT carrier_id, ts / {HOUR_MS} * {HOUR_MS}, "
                f"{_rollup_select(s.ner_set(), s.sdc_max_s, '-')} FROM replaced WHERE true "
                f"GROUP BY 1, 2 ON CONFLICT DO UPDATE SET {_ROLLUP_UPSERT_SET}"
            )
        # REPLACE gives every written row a new rowid above the old maximum, so the rows
        # of this batch are exactly those past it: aggregate them there, no staging copy.
        top = conn.execute("SELECT coalesce(max(rowid), 0) FROM attempts").fetchone()[0]
        conn.executemany(f"INSERT OR REPLACE INTO attempts VALUES ({marks})", staged)
        conn.execute(
            f"INSERT INTO rollups SELECT carrier_id, ts / {HOUR_MS} * {HOUR_MS}, "
            f"{_rollup_select(s.ner_set(), s.sdc_max_s)} FROM attempts WHERE rowid > ? "
            f"GROUP BY 1, 2 ON CONFLICT DO UPDATE SET {_ROLLUP_UPSERT_SET}",
            (top,),
        )
        new_carriers = {r[2] for r in staged} - self._known_carriers
        if new_carriers:
            conn.executemany("INSERT OR IGNORE INTO attempt_carriers VALUES (?)",
                             [(c,) for c in new_carriers])
            self._known_carriers |= new_carriers
        if replaced:
            conn.executemany(
                "DELETE FROM rollups WHERE carrier_id = ? AND hour = ? AND attempts <= 0",
                {(o[2], o[3] // HOUR_MS * HOUR_MS) for o in replaced},
            )
            # A carrier known only from attempts is gone once none of them is left.
            gone = {o[2] for o in replaced} - {r[2] for r in staged}
            for cid in gone:
                if conn.execute("SELECT 1 FROM attempts WHERE carrier_id = ? LIMIT 1",
                                (cid,)).fetchone() is None:
                    conn.execute("DELETE FROM attempt_carriers WHERE id = ?", (cid,))
                    self._known_carriers.discard(cid)
        # Failover links of the touched calls, from their merged old and new attempts.
        by_call: dict[str, dict[int, tuple[Any, ...]]] = {}
        for call, olds in old_by_call.items():
            by_call[call] = {o[1]: o for o in olds}
        for r in staged:
            by_call.setdefault(r[0], {})[r[1]] = r
        outs: list[tuple[Any, ...]] = []
        ins: list[tuple[Any, ...]] = []
        for attempts in by_call.values():
            if len(attempts) > 1:
                _link_call([attempts[k] for k in sorted(attempts)], outs, ins)
        relinked = [(c,) for c in old_by_call]
        if relinked:
            conn.executemany("DELETE FROM failovers WHERE call_id = ?", relinked)
            conn.executemany("DELETE FROM failovers_in WHERE call_id = ?", relinked)
        if outs:
            conn.executemany(f"INSERT INTO failovers VALUES ({','.join('?' * 11)})", outs)
        if ins:
            conn.executemany("INSERT INTO failovers_in VALUES (?, ?, ?, ?)", ins)
        return len(rows), len(rows) - len(staged)

    def _relink_all(self) -> None:
        """Derive every failover link again (after a migration that could not)."""
        conn = self.conn
        conn.execute("DELETE FROM failovers")
        conn.execute("DELETE FROM failovers_in")
        outs: list[tuple[Any, ...]] = []
        ins: list[tuple[Any, ...]] = []
        group: list[tuple[Any, ...]] = []
        for row in conn.execute(
            f"SELECT {', '.join(ATTEMPT_COLS)} FROM attempts ORDER BY call_id, seq"
        ):
            if group and group[0][0] != row[0]:
                _link_call(group, outs, ins)
                group = []
            group.append(row)
        if group:
            _link_call(group, outs, ins)
        conn.executemany(f"INSERT INTO failovers VALUES ({','.join('?' * 11)})", outs)
        conn.executemany("INSERT INTO failovers_in VALUES (?, ?, ?, ?)", ins)

    def _rerate(self, carrier_ids: set[str]) -> None:
        """Rates changed: re-cost those carriers' connected attempts and their rollups."""
        self.ratebook.forget(carrier_ids)
        for cid in carrier_ids:
            rows = self.conn.execute(
                "SELECT call_id, seq, dst, ts, duration_s FROM attempts "
                "WHERE carrier_id = ? AND sip_code BETWEEN 200 AND 299",
                (cid,),
            ).fetchall()
            self.conn.executemany(
                "UPDATE attempts SET cost = ? WHERE call_id = ? AND seq = ?",
                [(self.ratebook.cost(cid, dst, ts, dur), call, seq)
                 for call, seq, dst, ts, dur in rows],
            )
            self._rebuild_rollups_for(cid)

    def _rebuild_rollups_for(self, carrier_id: str | None) -> None:
        s = self.settings
        where = "WHERE carrier_id = ?" if carrier_id is not None else "WHERE true"
        args: tuple[Any, ...] = (carrier_id,) if carrier_id is not None else ()
        self.conn.execute(f"DELETE FROM rollups {where}", args)
        self.conn.execute(
            f"INSERT INTO rollups SELECT carrier_id, ts / {HOUR_MS} * {HOUR_MS}, "
            f"{_rollup_select(s.ner_set(), s.sdc_max_s)} FROM attempts {where} GROUP BY 1, 2",
            args,
        )

    def rebuild_rollups(self) -> None:
        with self.transaction():
            self._rebuild_rollups_for(None)

    # -- small reads shared by screens and exports -----------------------------------

    def carriers(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM carriers ORDER BY id"))

    def counts(self) -> dict[str, int]:
        return {
            k: self.conn.execute(f"SELECT count(*) FROM {k}").fetchone()[0] for k in KINDS
        }


def _link_call(
    rows: list[tuple[Any, ...]], outs: list[tuple[Any, ...]], ins: list[tuple[Any, ...]]
) -> None:
    """Failover links of one call; rows are full attempt rows in seq order."""
    for k, row in enumerate(rows):
        call_id, seq, carrier, ts, dst, _cli, code, reason = row[:8]
        if 200 <= code <= 299:
            # failover_in: an earlier attempt on another carrier failed.
            if any(r[2] != carrier and not 200 <= r[6] <= 299 for r in rows[:k]):
                ins.append((call_id, seq, carrier, ts))
            continue
        for later in rows[k + 1:]:
            if later[2] != carrier and 200 <= later[6] <= 299:
                outs.append((call_id, seq, carrier, ts, dst, code, reason,
                             later[1], later[2], later[3], later[9]))
                break


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
