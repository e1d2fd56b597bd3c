"""The local SQLite cache: schema, migrations and idempotent ingest.

One writer (the poller or an import) and any number of readers (dashboards) share the
file through WAL. Hourly rollups, failover links and cost are maintained at ingest so
no screen scans raw attempts to show a summary.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noc_tui.records.attempt_parser import (
    ROW_COLS,
    AttemptParser,
    ParsedAttempts,
    cost_sql,
    create_stage,
    insert_rows_sql,
    item_texts,
    last_record_wins_sql,
)
from noc_tui.records.failover_links import link_in, link_out
from noc_tui.records.ranges import thousandths_sql
from noc_tui.records.timefmt import HOUR_MS
from noc_tui.store.private_file import make_private
from noc_tui.store.ratebook import RATES_VERSION_KEY, RateBook, RatesView
from noc_tui.store.report import IngestReport as IngestReport  # where callers find it

if TYPE_CHECKING:
    import sqlite_utils

    from noc_tui.config import MetricSettings
    from noc_tui.records.formats import Rejection
    from noc_tui.store.inbound import InboundIngest


BUSY_TIMEOUT_MS = 10_000
WAL_CHECKPOINT_PAGES = 20_000
BATCH = 5_000
# Attempts from JSON go in bigger batches: each commit writes every index page the batch
# touched (with many carriers, most of them), so fewer commits write far less: at 10^7
# cached, 10,000 a batch doubled the commit's cost per attempt. Three batches are alive
# at once in a pipelined import (reading, parsing, storing), which bounds the size.
JSON_ATTEMPT_BATCH = 25_000

ATTEMPT_COLS = (*ROW_COLS, "cost")  # the attempts table's columns, in order

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
    # 6: windows other than the stored ones read their code consistency and failovers
    # from indexes alone, with no table lookups. attempts_codes is in time order, so
    # ingest appends to it.
    """
    CREATE INDEX attempts_codes ON attempts (ts, dst, carrier_id, sip_code)
        WHERE sip_code BETWEEN 200 AND 299 OR sip_code = 404;
    DROP INDEX failovers_out;
    CREATE INDEX failovers_out ON failovers (carrier_id, ts, call_id, seq, failed_code);
    DROP INDEX failovers_in_carrier;
    CREATE INDEX failovers_in_carrier ON failovers_in (carrier_id, ts, call_id);
    """,
    # 7: pruning (store/retention.py): each carrier's consecutive failures over its
    # attempts before `upto`, kept when those attempts are pruned.
    """
    CREATE TABLE failure_streaks (
        carrier_id TEXT PRIMARY KEY, upto INTEGER NOT NULL, fails INTEGER NOT NULL,
        last_ok_ts INTEGER);
    """,
    # 8: the live routing state of each carrier's destinations (Kamailio's dispatcher),
    # as of the last poll that read it (store/destinations.py).
    """
    CREATE TABLE destinations (
        set_id INTEGER NOT NULL, uri TEXT NOT NULL, carrier_id TEXT NOT NULL,
        priority INTEGER NOT NULL, state TEXT NOT NULL, probing INTEGER NOT NULL,
        seen_at INTEGER NOT NULL, PRIMARY KEY (set_id, uri));
    CREATE INDEX destinations_carrier ON destinations (carrier_id);
    """,
    # 9: inbound delivery (issue 15; store/inbound.py): configuration, registration
    # events, delivery attempts, one row per delivery and hourly rollups per trunk group,
    # all kept at ingest. Self-contained: it touches no table of the carrier side.
    """
    CREATE TABLE trunk_groups (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, customer TEXT, policy TEXT NOT NULL,
        edges TEXT NOT NULL, backup_pbx TEXT, global_failover_number TEXT, dial_plan TEXT,
        failover_triggers TEXT, no_1xx_timeout_s REAL NOT NULL, channel_limit INTEGER);
    CREATE TABLE dids (
        did TEXT PRIMARY KEY, trunk_group_id TEXT NOT NULL, failover_number TEXT,
        backup_pbx TEXT);
    CREATE INDEX dids_group ON dids (trunk_group_id, did);
    CREATE TABLE registrations (
        trunk_group_id TEXT NOT NULL, edge TEXT NOT NULL, at INTEGER NOT NULL,
        event TEXT NOT NULL, contact TEXT, expires_s INTEGER,
        PRIMARY KEY (trunk_group_id, edge, at, event)) WITHOUT ROWID;
    CREATE INDEX registrations_flaps ON registrations (at, trunk_group_id, edge)
        WHERE event IN ('unregistered', 'expired');
    CREATE TABLE registration_edges (
        trunk_group_id TEXT NOT NULL, edge TEXT NOT NULL,
        PRIMARY KEY (trunk_group_id, edge)) WITHOUT ROWID;
    CREATE TABLE delivery_attempts (
        delivery_id TEXT NOT NULL, seq INTEGER NOT NULL, trunk_group_id TEXT NOT NULL,
        did TEXT NOT NULL, caller TEXT, ts INTEGER NOT NULL, target_kind TEXT NOT NULL,
        target TEXT, edge TEXT, sent INTEGER NOT NULL, number_source TEXT,
        first_1xx_ms INTEGER, sip_code INTEGER NOT NULL, sip_reason TEXT,
        duration_s REAL NOT NULL, cancelled INTEGER NOT NULL,
        PRIMARY KEY (delivery_id, seq));
    CREATE INDEX delivery_attempts_full ON delivery_attempts (ts, delivery_id)
        WHERE sent = 0 AND sip_code = 503 AND cancelled = 0;
    CREATE TABLE deliveries (
        delivery_id TEXT PRIMARY KEY, trunk_group_id TEXT NOT NULL, did TEXT NOT NULL,
        ts INTEGER NOT NULL, attempts INTEGER NOT NULL, outcome TEXT NOT NULL, via TEXT,
        first_trigger TEXT, last_trigger TEXT, rules INTEGER NOT NULL, full_ts TEXT);
    CREATE INDEX deliveries_group_ts ON deliveries (trunk_group_id, ts);
    CREATE INDEX deliveries_ts ON deliveries (ts);
    CREATE TABLE inbound_groups (id TEXT PRIMARY KEY, deliveries INTEGER NOT NULL);
    CREATE TABLE inbound_rollups (
        trunk_group_id TEXT NOT NULL, hour INTEGER NOT NULL,
        offered INTEGER NOT NULL DEFAULT 0,
        answered_first_try INTEGER NOT NULL DEFAULT 0,
        answered_failover INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0,
        abandoned INTEGER NOT NULL DEFAULT 0, lost INTEGER NOT NULL DEFAULT 0,
        via_primary_pbx INTEGER NOT NULL DEFAULT 0, via_trunk2 INTEGER NOT NULL DEFAULT 0,
        via_backup_pbx INTEGER NOT NULL DEFAULT 0,
        via_failover_number INTEGER NOT NULL DEFAULT 0,
        via_dial_plan INTEGER NOT NULL DEFAULT 0,
        first_not_registered_404 INTEGER NOT NULL DEFAULT 0,
        first_no_1xx INTEGER NOT NULL DEFAULT 0, first_pbx_5xx INTEGER NOT NULL DEFAULT 0,
        first_channels_full_503 INTEGER NOT NULL DEFAULT 0,
        first_other INTEGER NOT NULL DEFAULT 0,
        lost_not_registered_404 INTEGER NOT NULL DEFAULT 0,
        lost_no_1xx INTEGER NOT NULL DEFAULT 0, lost_pbx_5xx INTEGER NOT NULL DEFAULT 0,
        lost_channels_full_503 INTEGER NOT NULL DEFAULT 0,
        lost_other INTEGER NOT NULL DEFAULT 0,
        rule_F1 INTEGER NOT NULL DEFAULT 0, rule_F2 INTEGER NOT NULL DEFAULT 0,
        rule_F3 INTEGER NOT NULL DEFAULT 0, rule_F6 INTEGER NOT NULL DEFAULT 0,
        rule_F7 INTEGER NOT NULL DEFAULT 0, rule_F11 INTEGER NOT NULL DEFAULT 0,
        rule_F9 INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (trunk_group_id, hour)) WITHOUT ROWID;
    CREATE TABLE inbound_window_metrics (
        window_s INTEGER NOT NULL, trunk_group_id TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (window_s, trunk_group_id));
    """,
    # 10: duration_s and pdd_ms may hold fractions (kept to three decimals): rollups sum
    # them in thousandths, as integers, so that their sums stay exact.
    """
    ALTER TABLE rollups RENAME COLUMN dur_conn TO dur_conn_ms;
    ALTER TABLE rollups RENAME COLUMN dur_all TO dur_all_ms;
    ALTER TABLE rollups RENAME COLUMN pdd_sum TO pdd_sum_us;
    UPDATE rollups SET dur_conn_ms = dur_conn_ms * 1000, dur_all_ms = dur_all_ms * 1000,
        pdd_sum_us = pdd_sum_us * 1000;
    """,
    # 11: views as of an instant count a failover only when both its attempts had started
    # by then: each link's other end, in the indexes that count them.
    """
    DROP INDEX failovers_out;
    CREATE INDEX failovers_out ON failovers (carrier_id, ts, call_id, seq, failed_code,
        conn_ts);
    ALTER TABLE failovers_in ADD COLUMN fail_ts INTEGER;
    UPDATE failovers_in SET fail_ts = (SELECT min(a.ts) FROM attempts a
        WHERE a.call_id = failovers_in.call_id AND a.seq < failovers_in.seq
        AND a.carrier_id <> failovers_in.carrier_id AND a.sip_code NOT BETWEEN 200 AND 299);
    DROP INDEX failovers_in_carrier;
    CREATE INDEX failovers_in_carrier ON failovers_in (carrier_id, ts, call_id, fail_ts);
    """,
    # 12: search (analytics/search.py): a call found by its dialled number or its CLI,
    # and an inbound delivery by its DID or its caller, newest first, by an index seek
    # instead of a scan (the Call-ID and the delivery id have their keys).
    # Self-contained: indexes only (IF NOT EXISTS: a test may run later migrations
    # again on a cache made at the current schema).
    """
    CREATE INDEX IF NOT EXISTS attempts_dst ON attempts (dst, ts);
    CREATE INDEX IF NOT EXISTS attempts_cli ON attempts (cli, ts);
    CREATE INDEX IF NOT EXISTS deliveries_did ON deliveries (did, ts);
    CREATE INDEX IF NOT EXISTS delivery_attempts_caller ON delivery_attempts (caller, ts);
    """,
    # 13: alarms (store/alarms.py): one row per crossing of a threshold by a carrier (or
    # a trunk group), from when it crossed to when it cleared, with its acknowledgement
    # and how its notification went. At most one open row per subject and kind: the
    # index makes "fires once per crossing" hold whoever evaluates (poll or import).
    # Self-contained: a table of its own (IF NOT EXISTS, as migration 12).
    """
    CREATE TABLE IF NOT EXISTS alarms (
        id INTEGER PRIMARY KEY AUTOINCREMENT, subject_kind TEXT NOT NULL,
        subject_id TEXT NOT NULL, subject_name TEXT, kind TEXT NOT NULL,
        over TEXT NOT NULL, raised_at INTEGER NOT NULL, message TEXT NOT NULL,
        updated_at INTEGER NOT NULL, last_message TEXT NOT NULL, cleared_at INTEGER,
        acked_at INTEGER, delivery TEXT);
    CREATE UNIQUE INDEX IF NOT EXISTS alarms_open ON alarms (subject_kind, subject_id, kind)
        WHERE cleared_at IS NULL;
    CREATE INDEX IF NOT EXISTS alarms_raised ON alarms (raised_at);
    """,
    # 14: the carrier list's trend column, stored at each refresh of the standard windows
    # (analytics/trends.py): each carrier's last 24 hours in cells, as JSON. Empty until
    # the next refresh; until then the trends are computed from the rollups.
    """
    CREATE TABLE IF NOT EXISTS list_trends (
        carrier_id TEXT PRIMARY KEY, cells TEXT NOT NULL) WITHOUT ROWID;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
# meta: the cache holds every attempt that starts at or after this instant (ms); the
# hours before it are closed (store/retention.py): their raw attempts were pruned and
# their figures live on in the rollups alone.
HORIZON_KEY = "attempts_from"


class CacheError(Exception):
    """The cache file cannot be used (not SQLite, newer schema, unwritable...). `damaged`:
    its pages are corrupt, and it is marked so that no writer uses it again."""

    def __init__(self, message: str, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged


DAMAGED_SUFFIX = ".damaged"


def _rebuild_hint(path: Path) -> str:
    return (f"move {path} and its -wal and -shm files away, then run noc-tui poll to build "
            "a new one (source.backfill sets how far back it fetches), or import the record "
            "files again")


def cache_failure(path: Path, exc: BaseException) -> CacheError:
    """What to tell the user when the cache fails under a command, in one line: what is
    wrong and what to do. A damaged cache (corrupt pages) is also marked, beside it, so
    that no command writes into it again until it is replaced."""
    fix = (f"make it and its folder {path.absolute().parent} writable for you (SQLite keeps "
           f"{path.name}-wal and {path.name}-shm beside it), or give another cache with "
           "--cache")
    if isinstance(exc, OSError):  # making the cache's folder
        return CacheError(f"{path}: cannot make the cache's folder ({exc.strerror or exc}); "
                          f"{fix}")
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN):
        return CacheError(f"{path}: the cache cannot be written ({exc}); {fix}")
    if primary == sqlite3.SQLITE_FULL:
        return CacheError(f"{path}: the disk is full ({exc}); what was stored before stays: "
                          "free some space, then run the command again")
    if primary == sqlite3.SQLITE_CORRUPT:
        _mark_damaged(path, str(exc))
        return _damaged(path, str(exc))
    if primary == sqlite3.SQLITE_NOTADB:
        return CacheError(f"{path}: not a noc-tui cache ({exc}); check --cache, or if it "
                          f"is a damaged cache, {_rebuild_hint(path)}")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return CacheError(f"{path}: another process kept the cache locked for "
                          f"{BUSY_TIMEOUT_MS // 1000} s ({exc}); try again")
    if primary == sqlite3.SQLITE_IOERR:
        return CacheError(f"{path}: the disk failed reading or writing the cache ({exc}); "
                          "check the disk, then run the command again")
    return CacheError(f"{path}: the cache failed ({exc})")


def _damaged(path: Path, reason: str) -> CacheError:
    return CacheError(f"{path}: the cache is damaged ({reason}); nothing more is written "
                      f"to it. To rebuild it, {_rebuild_hint(path)}", damaged=True)


def _mark_damaged(path: Path, reason: str) -> None:
    """The mark names the file by its inode: a new cache in its place is not refused."""
    try:
        st = path.stat()
        Path(str(path) + DAMAGED_SUFFIX).write_text(json.dumps(
            {"device": st.st_dev, "inode": st.st_ino, "reason": reason}) + "\n")
    except OSError:
        pass  # nowhere to note it: the next writer finds the damage again


def _refuse_if_damaged(path: Path) -> None:
    """CacheError if this cache file was found damaged; a stale mark (the file was
    replaced since) is removed."""
    mark = Path(str(path) + DAMAGED_SUFFIX)
    try:
        note = json.loads(mark.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        note = {}
    try:
        st = path.stat()
        same = (st.st_dev, st.st_ino) == (note.get("device"), note.get("inode"))
    except OSError:
        same = False
    if same:
        raise _damaged(path, str(note.get("reason", "corrupt pages")))
    with contextlib.suppress(OSError):
        mark.unlink()


def cannot_store(exc: BaseException) -> bool:
    """Whether an ingest failed for its records' sake (a number SQLite cannot hold or
    sum, a text too big, a constraint), not the cache's (a full disk, a lock, a corrupt
    file): the records at fault are then quarantined and the others stored."""
    if isinstance(exc, OverflowError | sqlite3.IntegrityError | sqlite3.DataError):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "integer overflow" in str(exc)


def _rollup_terms(ner: frozenset[int], sdc_max_s: int) -> list[str]:
    """What one attempt row adds to each rollup column, in the rollups table's order."""
    ner_sql = ",".join(str(c) for c in sorted(ner)) or "NULL"
    conn = "(sip_code BETWEEN 200 AND 299)"
    dur_ms = thousandths_sql("duration_s")
    return [
        "1", conn, f"CASE WHEN {conn} THEN {dur_ms} ELSE 0 END", dur_ms,
        f"coalesce({thousandths_sql('pdd_ms')}, 0)", "pdd_ms IS NOT NULL",
        f"{conn} AND pdd_ms IS NULL",
        f"{conn} AND duration_s <= {sdc_max_s}", "sip_code BETWEEN 300 AND 399",
        "sip_code = 200", "sip_code = 404", f"sip_code IN ({ner_sql})",
        "coalesce(cost, 0.0)", f"{conn} AND cost IS NULL",
    ]


def _rollup_select(ner: frozenset[int], sdc_max_s: int, sign: str = "") -> str:
    """Aggregates of a set of attempt rows, in the column order of the rollups table."""
    return ", ".join(f"{sign}sum({t})" for t in _rollup_terms(ner, sdc_max_s))


def _rollup_values(ner: frozenset[int], sdc_max_s: int) -> str:
    """What one attempt row adds to each rollup column, as _rollup_select sums them."""
    return ", ".join(_rollup_terms(ner, sdc_max_s))


ROLLUP_VALUE_COLS = (
    "attempts", "connected", "dur_conn_ms", "dur_all_ms", "pdd_sum_us", "pdd_n", "conn_null_pdd",
    "sdc", "n3xx", "n200", "n404", "ner_hits", "cost", "unrated",
)
_ROLLUP_UPSERT_SET = ", ".join(f"{c} = {c} + excluded.{c}" for c in ROLLUP_VALUE_COLS)


def _add_to_rollups_sql(src: str, values: str, grouped: bool) -> str:
    """Add `values` (_rollup_select's sums when `grouped`, else _rollup_values) of the
    attempt rows of `src` to their (carrier, hour) rollups."""
    group = " GROUP BY 1, 2" if grouped else ""
    # WHERE true: SQLite needs it to read ON CONFLICT as the upsert, not a join.
    return (f"INSERT INTO rollups SELECT carrier_id, ts / {HOUR_MS} * {HOUR_MS}, {values} "
            f"FROM {src} WHERE true{group} ON CONFLICT DO UPDATE SET {_ROLLUP_UPSERT_SET}")

# -- the attempts ingest engine ---------------------------------------------------------
# Attempts are stored by set-based SQL over a staging table of parsed rows
# (noc_tui/records/attempt_parser.py), so the per-record work runs in SQLite's C code, not in a
# Python loop.


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
        if settings is None:
            from noc_tui.config import MetricSettings  # pydantic: only when none is given

            settings = MetricSettings()
        self.settings = settings
        self.readonly = readonly
        if not readonly:
            _refuse_if_damaged(self.path)
            try:
                make_private(self.path)  # 0600 in 0700 folders when noc-tui makes them
            except OSError as exc:
                raise cache_failure(self.path, exc) from None
        elif not self.path.exists():
            raise CacheError(f"{self.path}: no cache here yet")
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                # Checkpoints (each with two fsyncs) every 80 MB of WAL, not every 4 MB:
                # a batch of attempts writes 15-25 MB of pages at 10^7 cached, so the
                # default had one a commit, and that was half the commit's cost. The
                # WAL is cut back to 64 MB after each.
                conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
                conn.execute(f"PRAGMA journal_size_limit = {64 * 2**20}")
            # Temp B-trees of big GROUP BYs spill to a file: memory stays bounded.
            conn.execute("PRAGMA temp_store = FILE")
            conn.execute("PRAGMA cache_size = -32768")  # 32 MiB: memory stays bounded
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise cache_failure(self.path, exc) from None
        self.conn = conn
        self._lock = threading.RLock()
        self._attempt_parser: AttemptParser | None = None
        try:
            self._open(version)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise cache_failure(self.path, exc) from None
            raise

    def _open(self, version: int) -> None:
        conn = self.conn
        if version > SCHEMA_VERSION:
            raise CacheError(
                f"{self.path}: schema version {version} is newer than this noc-tui "
                f"({SCHEMA_VERSION}); upgrade noc-tui"
            )
        if version < SCHEMA_VERSION:
            if self.readonly:
                raise CacheError(f"{self.path}: schema {version} needs migrating; open it "
                                 "for writing (run noc-tui import or poll) first")
            self.migrate()
        self.ratebook = RateBook(conn)
        self._staged = False  # staging tables made on this connection
        self._closed = 0  # attempts of the last batch not taken: before the horizon
        self._known_carriers: set[str] = {
            r[0] for r in conn.execute("SELECT id FROM attempt_carriers")}
        if not self.readonly:
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
        if self.meta("inbound_signature") != self._signature():
            # Refused deliveries depend on the NER set (imported only when needed).
            from noc_tui.store import inbound

            inbound.rebuild(self)
            self.set_meta("inbound_signature", self._signature())

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def attempts_horizon(self) -> int | None:
        """Where the records the cache keeps begin (HORIZON_KEY; None: nothing pruned
        yet): the hours before it are closed to records not cached."""
        kept = self.meta(HORIZON_KEY)
        return int(kept) if kept is not None else None

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
                # What this connection remembers of the carriers must not outlive the
                # rows that were rolled back.
                with suppress(sqlite3.Error):  # no such table yet: a migration failed
                    self._known_carriers = {
                        r[0] for r in self.conn.execute("SELECT id FROM attempt_carriers")}
                raise
            else:
                self.conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state. Inside
        another transaction, that one is it."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN DEFERRED")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def close(self) -> None:
        if self._attempt_parser is not None:
            self._attempt_parser.close()
            self._attempt_parser = None
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
        from noc_tui.records.formats import KINDS

        inbound = self.inbound_ingest(kind)
        if kind not in KINDS and inbound is None:
            raise ValueError(f"unknown record kind {kind!r}")
        report = IngestReport(kind)
        where_iter = iter(wheres) if wheres is not None else None
        buf: list[Any] = []
        where_buf: list[str] = []
        for n, rec in enumerate(records, 1):
            buf.append(rec)
            where_buf.append(next(where_iter) if where_iter else f"record {n}")
            if len(buf) >= batch:
                report.merge((inbound or self).ingest_batch(kind, buf, where_buf))
                buf, where_buf = [], []
        if buf:
            report.merge((inbound or self).ingest_batch(kind, buf, where_buf))
        if inbound is not None:
            report.merge(inbound.finish())
        return report

    def inbound_ingest(self, kind: str) -> InboundIngest | None:
        """For an inbound kind (issue 15), what takes one file's or one listing's records
        in batches (store/inbound.py); None for the carrier side's kinds."""
        from noc_tui.records.inbound import INBOUND_KINDS

        if kind not in INBOUND_KINDS:
            return None
        from noc_tui.store.inbound import InboundIngest

        return InboundIngest(self, kind)

    def ingest_batch(self, kind: str, raws: list[Any], wheres: list[str]) -> IngestReport:
        """Validate parsed records and store the good ones in one transaction."""
        from noc_tui.records.formats import validate

        inbound = self.inbound_ingest(kind)
        if inbound is not None:
            report = inbound.add(raws, wheres)
            report.merge(inbound.finish())
            return report
        return self._store(kind, *validate(kind, raws, wheres))

    def ingest_json_lines(
        self, kind: str, lines: list[bytes], wheres: list[str]
    ) -> IngestReport:
        """Parse, validate and store raw JSON records (one per line) in one transaction."""
        inbound = self.inbound_ingest(kind)
        if inbound is not None:
            report = inbound.add_json(lines, wheres)
            report.merge(inbound.finish())
            return report
        if kind != "attempts":
            from noc_tui.records.formats import validate_json_lines

            return self._store(kind, *validate_json_lines(kind, lines, wheres))
        return self.ingest_parsed(self._parser().lines(lines, wheres.__getitem__))

    def ingest_json_page(self, kind: str, body: str, where: Callable[[int], str]) -> IngestReport:
        """Store the items of one API page (``{"items": [...], ...}`` as text) in one
        transaction; ``where(i)`` names item i (0-based) in a rejection."""
        inbound = self.inbound_ingest(kind)
        if inbound is not None:
            report = inbound.add_page(body, where)
            report.merge(inbound.finish())
            return report
        if kind != "attempts":
            from noc_tui.records.formats import validate_json_lines

            # Each item's own text: parsed, a key it gives twice would be lost.
            texts = item_texts(body)
            return self._store(kind, *validate_json_lines(
                kind, texts, [where(i) for i in range(len(texts))]))
        return self.ingest_parsed(self._parser().page(body, where))

    def ingest_parsed(self, parsed: ParsedAttempts) -> IngestReport:
        """Store a batch of attempts an AttemptParser made (maybe in another thread)."""
        report = IngestReport("attempts", rejected=len(parsed.rejections),
                              rejections=parsed.rejections)
        report.taken = parsed.total - report.rejected
        if report.taken:
            self._stage_tables()
            # The parser's buffer serves as the staging table. It is attached outside the
            # transaction (ATTACH cannot be inside one); the parser is filling another
            # buffer meanwhile, a database of its own, so the write lock BEGIN IMMEDIATE
            # takes on this one keeps nobody waiting.
            conn = self.conn
            conn.execute("ATTACH DATABASE ? AS parse_db", (parsed.uri,))
            try:
                with self.transaction():
                    costed = (parsed.rates_version is not None
                              and parsed.rates_version == (self.meta(RATES_VERSION_KEY) or ""))
                    # Rollups added row by row when the batch is spread thin over
                    # carriers and hours (about a row a cell): a GROUP BY first then
                    # costs twice what it saves. Dense batches are grouped.
                    row_by_row = parsed.rollup_cells * 2 > report.taken
                    written = self._apply_stage(f"parse_db.{parsed.table}", parsed=True,
                                                costed=costed, row_by_row=row_by_row)
            finally:
                conn.execute("DETACH DATABASE parse_db")
            report.closed, self._closed = self._closed, 0
            report.taken -= report.closed
            report.unchanged = report.taken - written
        return report

    def rates_view(self) -> RatesView:
        """A read-only view of this cache's rates, to hand a parser (which closes it)."""
        return RatesView(self.path)

    def _parser(self) -> AttemptParser:
        # For the callers that give this cache whole batches to parse and store in one
        # thread (reference kinds' paths and tests); sync parses in a thread of its own.
        if self._attempt_parser is None:
            self._attempt_parser = AttemptParser(self.rates_view())
        return self._attempt_parser

    def _store(self, kind: str, good: list[dict[str, Any]], bad: list[Rejection]) -> IngestReport:
        from noc_tui.records.formats import to_row

        report = IngestReport(kind, rejected=len(bad), rejections=bad)
        if good:
            rows = [to_row(kind, r) for r in good]
            with self.transaction() as conn:
                if kind == "attempts":
                    self._stage_tables()
                    conn.execute("DELETE FROM stage_db.stage")
                    conn.executemany(insert_rows_sql("stage_db.stage"),
                                     ((i, *r) for i, r in enumerate(rows)))
                    written = self._apply_stage()
                    report.closed, self._closed = self._closed, 0
                    taken = len(rows) - report.closed
                    unchanged = taken - written
                else:
                    taken, unchanged = self._store_reference(kind, rows)
            report.taken = taken
            report.unchanged = unchanged
        return report

    def _store_reference(self, kind: str, rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        from noc_tui.records.formats import FIELDS

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
            # Parsers cost attempts from the rates they read: this tells them (and this
            # cache, storing what they made) that those changed.
            self.set_meta(RATES_VERSION_KEY, uuid.uuid4().hex)
        return len(rows), len(rows) - changed

    # -- attempts: a set-based engine over a staging table --------------------------

    def _stage_tables(self) -> None:
        if self._staged:
            return
        conn = self.conn
        # Staging lives in an attached in-memory database: temp tables would go to a
        # file (temp_store is FILE so that big sorts stay out of memory).
        conn.execute("ATTACH DATABASE ':memory:' AS stage_db")
        create_stage(conn, "stage_db")
        conn.execute("CREATE TABLE IF NOT EXISTS stage_db.old AS SELECT * FROM attempts WHERE 0")
        conn.execute("CREATE TABLE IF NOT EXISTS stage_db.calls (call_id TEXT PRIMARY KEY)")
        conn.execute("CREATE TABLE IF NOT EXISTS stage_db.closed "
                     "(call_id TEXT, seq INTEGER, PRIMARY KEY (call_id, seq))")
        # Cost is computed in SQL statements by the same RateBook as everywhere else.
        conn.create_function("noc_cost", 4, self.ratebook.cost, deterministic=True)
        self._staged = True

    def _apply_stage(self, stage: str = "stage_db.stage", parsed: bool = False,
                     costed: bool = False, row_by_row: bool = False) -> int:
        """Store the rows of `stage` (valid, typed; n = position in the batch) with their
        rollups and failover links. `parsed`: `stage` is a parser's buffer, one row per
        key, its links within the batch made beside it (parse_db.links_out,
        parse_db.links_in). `costed`: its cost column is up to date with the rates.
        `row_by_row`: add to the rollups row by row, without grouping first. Returns
        how many rows were written."""
        conn = self.conn
        s = self.settings
        if not parsed:
            # The last record wins within a batch, as across batches.
            conn.execute(last_record_wins_sql(stage))
        if not costed:
            conn.execute(cost_sql(stage))
        self._closed = self._drop_closed(stage)
        # Calls with attempts cached before this batch. Only their rows can be cached
        # already (unchanged or replaced), and their links are made from the attempts
        # table once stored; all other calls' links from the batch alone, which holds
        # all their attempts.
        conn.execute("DELETE FROM stage_db.calls")
        conn.execute(f"INSERT INTO stage_db.calls SELECT DISTINCT call_id FROM {stage} s "
                     "WHERE EXISTS (SELECT 1 FROM attempts a WHERE a.call_id = s.call_id)")
        if self._closed:
            # Calls that lost attempts to the horizon: their links, like a known call's,
            # from the attempts table once stored (none from the parser's), so every
            # path makes the same ones.
            conn.execute("INSERT OR IGNORE INTO stage_db.calls "
                         "SELECT DISTINCT call_id FROM stage_db.closed")
        known = conn.execute("SELECT 1 FROM stage_db.calls LIMIT 1").fetchone() is not None
        if parsed:
            # The parser's links of the new calls (the others' come from attempts).
            keep = "WHERE call_id NOT IN (SELECT call_id FROM stage_db.calls)" if known else ""
            conn.execute(f"INSERT INTO failovers SELECT * FROM parse_db.links_out {keep}")
            conn.execute(f"INSERT INTO failovers_in SELECT * FROM parse_db.links_in {keep}")
        replaced = 0
        if known:
            # A record ingested again unchanged changes nothing.
            same = " AND ".join(f"a.{c} IS stage.{c}" for c in ATTEMPT_COLS[2:])
            conn.execute(f"DELETE FROM {stage} WHERE call_id IN (SELECT call_id FROM "
                         "stage_db.calls) AND EXISTS (SELECT 1 FROM attempts a WHERE "
                         f"a.call_id = stage.call_id AND a.seq = stage.seq AND {same})")
            conn.execute("DELETE FROM stage_db.calls WHERE call_id NOT IN "
                         f"(SELECT call_id FROM {stage})")
            conn.execute("DELETE FROM stage_db.old")
            conn.execute("INSERT INTO stage_db.old SELECT "
                         f"{', '.join('a.' + c for c in ATTEMPT_COLS)} FROM stage_db.calls c "
                         f"CROSS JOIN {stage} s ON s.call_id = c.call_id CROSS JOIN attempts a "
                         "ON a.call_id = s.call_id AND a.seq = s.seq")
            replaced = conn.execute("SELECT count(*) FROM stage_db.old").fetchone()[0]
        written = conn.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
        if not written:
            return 0
        if replaced:
            # Take the replaced rows' contributions out of the rollups first.
            conn.execute(_add_to_rollups_sql(
                "stage_db.old", _rollup_select(s.ner_set(), s.sdc_max_s, "-"), grouped=True))
        if not parsed:
            conn.execute(link_out("failovers", stage, not_in="stage_db.calls"))
            conn.execute(link_in("failovers_in", stage, not_in="stage_db.calls"))
        cols = ", ".join(ATTEMPT_COLS)
        conn.execute(f"INSERT OR REPLACE INTO attempts ({cols}) SELECT {cols} FROM {stage}")
        if row_by_row:
            conn.execute(_add_to_rollups_sql(
                stage, _rollup_values(s.ner_set(), s.sdc_max_s), grouped=False))
        else:
            conn.execute(_add_to_rollups_sql(
                stage, _rollup_select(s.ner_set(), s.sdc_max_s), grouped=True))
        new_carriers = {r[0] for r in conn.execute(
            f"SELECT DISTINCT carrier_id FROM {stage}")} - self._known_carriers
        if new_carriers:
            conn.executemany("INSERT OR IGNORE INTO attempt_carriers VALUES (?)",
                             [(c,) for c in new_carriers])
            self._known_carriers |= new_carriers
        if replaced:
            conn.execute(
                "DELETE FROM rollups WHERE attempts <= 0 AND (carrier_id, hour) IN "
                f"(SELECT carrier_id, ts / {HOUR_MS} * {HOUR_MS} FROM stage_db.old)")
            # A carrier known only from attempts is gone once none of them is left.
            for (cid,) in conn.execute(
                    "SELECT DISTINCT carrier_id FROM stage_db.old WHERE carrier_id NOT IN "
                    f"(SELECT carrier_id FROM {stage})").fetchall():
                if conn.execute("SELECT 1 FROM attempts WHERE carrier_id = ? LIMIT 1",
                                (cid,)).fetchone() is None:
                    conn.execute("DELETE FROM attempt_carriers WHERE id = ?", (cid,))
                    self._known_carriers.discard(cid)
        if known:
            conn.execute("DELETE FROM failovers WHERE call_id IN "
                         "(SELECT call_id FROM stage_db.calls)")
            conn.execute("DELETE FROM failovers_in WHERE call_id IN "
                         "(SELECT call_id FROM stage_db.calls)")
            conn.execute(link_out("failovers", "attempts", of_calls="stage_db.calls"))
            conn.execute(link_in("failovers_in", "attempts", of_calls="stage_db.calls"))
        return int(written)

    def _drop_closed(self, stage: str) -> int:
        """Take out of `stage` the attempts that start before the horizon and are not
        cached: their hours' rollups were closed when the attempts there were pruned,
        so such a record, maybe counted there already, cannot be told from a new one.
        Lists them in stage_db.closed; returns how many."""
        horizon = self.meta(HORIZON_KEY)
        conn = self.conn
        if horizon is None or conn.execute(
                f"SELECT 1 FROM {stage} WHERE ts < ? LIMIT 1", (int(horizon),)).fetchone() is None:
            return 0
        conn.execute("DELETE FROM stage_db.closed")
        conn.execute(
            f"INSERT INTO stage_db.closed SELECT call_id, seq FROM {stage} s WHERE ts < ? "
            "AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.call_id = s.call_id "
            "AND a.seq = s.seq)", (int(horizon),))
        n = int(conn.execute("SELECT count(*) FROM stage_db.closed").fetchone()[0])
        if n:
            conn.execute(f"DELETE FROM {stage} WHERE (call_id, seq) IN "
                         "(SELECT call_id, seq FROM stage_db.closed)")
        return n

    def _relink_all(self) -> None:
        """Derive every failover link again (after a migration that could not)."""
        conn = self.conn
        self._stage_tables()
        conn.execute("DELETE FROM failovers")
        conn.execute("DELETE FROM failovers_in")
        conn.execute("DELETE FROM stage_db.calls")
        conn.execute("INSERT INTO stage_db.calls SELECT DISTINCT call_id FROM attempts")
        conn.execute(link_out("failovers", "attempts", of_calls="stage_db.calls"))
        conn.execute(link_in("failovers_in", "attempts", of_calls="stage_db.calls"))
        conn.execute("DELETE FROM stage_db.calls")

    def _rerate(self, carrier_ids: set[str]) -> None:
        """Rates changed: re-cost those carriers' connected attempts and their rollups."""
        self.ratebook.forget(carrier_ids)
        # Attempts before the horizon keep their cost, as their hours' rollups do.
        horizon = int(self.meta(HORIZON_KEY) or -(2**62))
        for cid in carrier_ids:
            rows = self.conn.execute(
                "SELECT call_id, seq, dst, ts, duration_s FROM attempts "
                "WHERE carrier_id = ? AND sip_code BETWEEN 200 AND 299 AND ts >= ?",
                (cid, horizon),
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
        # Hours before the horizon keep their figures: their attempts were pruned.
        horizon = int(self.meta(HORIZON_KEY) or -(2**62))
        self.conn.execute(f"DELETE FROM rollups {where} AND hour >= {horizon}", args)
        self.conn.execute(
            f"INSERT INTO rollups SELECT carrier_id, ts / {HOUR_MS} * {HOUR_MS}, "
            f"{_rollup_select(s.ner_set(), s.sdc_max_s)} FROM attempts {where} "
            f"AND ts >= {horizon} GROUP BY 1, 2",
            args,
        )

    def rebuild_rollups(self) -> None:
        with self.transaction():
            self._rebuild_rollups_for(None)

    # -- small reads shared by screens and exports -----------------------------------

    def carriers(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM carriers ORDER BY id"))

    def counts(self) -> dict[str, int]:
        from noc_tui.records.formats import KINDS

        return {
            k: self.conn.execute(f"SELECT count(*) FROM {k}").fetchone()[0] for k in KINDS
        }


def migrate_file(path: str | Path, settings: MetricSettings | None = None) -> None:
    """Bring an existing cache file to the current schema, as read-only connections (the
    dashboard's) need; no file, nothing to do. CacheError if it cannot be used."""
    if Path(path).exists():
        Cache(path, settings).close()


def file_schema(path: str | Path) -> int | None:
    """The schema version of an existing cache file, read without changing it; None when
    there is no file or it cannot be read as a database."""
    if not Path(path).exists():
        return None
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
