"""The poller: keeps the SQLite cache fresh from the switch API v1.

One poll = reference data (carriers, contacts, rates), then the attempts of the window
[watermark - overlap, until). Every page is committed in its own transaction and the
poll's position is stored after it, so a poll killed at any moment loses nothing that
was committed and, since ingest is idempotent, duplicates nothing when it runs again.
The watermark (end of the last complete window) moves only when a window is complete.

Only one poller writes at a time: an flock on ``<cache>.poll-lock``. The kernel drops
it when the holder dies, so a killed poller never leaves it held.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from noc_tui.alerts.delivery import Notifier, events, report_and_wait
from noc_tui.analytics.alarms import AlarmChanges, judge_alarms
from noc_tui.analytics.inbound import refresh_standard_windows as refresh_inbound_windows
from noc_tui.analytics.metrics import refresh_standard_windows
from noc_tui.records.attempt_parser import AttemptParser, ParsedAttempts, item_texts
from noc_tui.records.printable import printable_lines
from noc_tui.records.timefmt import (
    TimeFormatError,
    iso_to_ms,
    ms_to_iso,
    now_ms,
    parse_duration,
    parse_instant,
)
from noc_tui.settings_view import default_config_path, source_missing
from noc_tui.sources import open_source
from noc_tui.sources.base import CANCELLED, Deadline, Page, Source, SourceError
from noc_tui.store.cache import Cache, CacheError, IngestReport, cache_failure, cannot_store
from noc_tui.store.destinations import replace as replace_destinations
from noc_tui.store.poll_status import FAILURES_KEY, NO_FAILURES
from noc_tui.store.private_file import private_folder
from noc_tui.store.retention import prune
from noc_tui.sync.big_pages import InFlight, budgeted, namer, slices
from noc_tui.sync.inbound_poll import poll_inbound
from noc_tui.sync.readahead import read_ahead

if TYPE_CHECKING:
    from noc_tui.config import Settings
    from noc_tui.records.formats import Rejection
    from noc_tui.store.inbound import InboundIngest

LOCK_SUFFIX = ".poll-lock"
# How long a poller tries for the lock: long enough to ride out a dashboard's
# momentary probe (poll_status), short enough that nobody "waits forever".
LOCK_TRY_S = 0.5
POLL_PAGE_CACHE_KIB = 16_384
WATERMARK_KEY = "watermark"
PROGRESS_KEY = "progress"
# Exit statuses of run_poll_command, as of every command (cli.py): everything taken;
# something quarantined; the poll could not run (bad input, another poll running, the
# switch or the cache failed it).
EXIT_OK, EXIT_REJECTED, EXIT_NOT_RUN = 0, 1, 2
EXIT_INTERRUPTED = 130

INTERRUPTED = "interrupted"
CACHE_ERROR = "cache-error"

ProgressCallback = Callable[["PollProgress"], None]


class PollLocked(Exception):
    """Another poller holds the lock."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        who = f"pid {pid}" if pid else "pid unknown"
        super().__init__(f"another poll is running ({who})")


class PollConfigError(ValueError):
    """The poll cannot start: no URL, bad window... (the user's input, exit status 2)."""


@dataclass(frozen=True)
class PollProgress:
    """Reported after every page, for a progress bar."""

    phase: str  # carriers | contacts | rates | attempts | (inbound kinds) | metrics | done
    done: int  # records received in this phase so far
    total_estimate: int | None  # records expected in this phase (attempts: by time covered)
    taken: int  # valid records stored in this poll so far, all phases
    quarantined: int  # invalid records quarantined in this poll so far
    fraction: float | None = None  # share of the attempts window covered, 0..1


@dataclass(frozen=True)
class PollResult:
    run_id: int
    status: str  # ok | failed
    source: str
    since_ms: int
    until_ms: int
    started_ms: int
    ended_ms: int
    taken: int
    attempts: int  # valid attempts among taken
    quarantined: int
    pages: int
    requests: int  # HTTP requests sent, retries included
    error_kind: str | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()  # what the poll skipped, and why (not failures)
    # The source's finding (Source.failures_recorded): False = connected calls only.
    failures_recorded: bool | None = None
    # Of those taken: attempts the cache did not hold as they are (the overlap's
    # re-fetch takes the others again, unchanged), and records quarantined for the
    # first time.
    new_attempts: int = 0
    new_quarantined: int = 0
    alarms: AlarmChanges | None = None  # raised and cleared by this poll

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def duration_s(self) -> float:
        return (self.ended_ms - self.started_ms) / 1000


@dataclass(frozen=True)
class PollStatus:
    """What the dashboard shows about polling. Times are epoch ms (None = never)."""

    run_id: int | None
    source: str | None
    started_at: int | None
    ended_at: int | None
    since: int | None
    until: int | None
    taken: int
    quarantined: int
    pages: int
    status: str | None  # ok | failed | running (None: never polled)
    error_kind: str | None
    error: str | None
    last_success_end: int | None  # ended_at of the last ok poll
    watermark: int | None  # end of the last complete window
    is_running: bool  # a poller holds the lock right now


# -- the lock --------------------------------------------------------------------------


def lock_path(cache_path: str | Path) -> Path:
    return Path(str(cache_path) + LOCK_SUFFIX)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


class PollLock:
    """Exclusive flock on the lock file beside the cache; released on close or death."""

    def __init__(self, cache_path: str | Path, try_s: float = LOCK_TRY_S) -> None:
        self.path = lock_path(cache_path)
        try:
            private_folder(self.path.parent)  # the cache's folder: only its owner enters
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CacheError(
                f"{self.path}: cannot make the poll's lock file ({exc.strerror or exc}); it "
                f"sits beside the cache: make {self.path.parent} writable for you, or give "
                "another cache with --cache") from None
        deadline = time.monotonic() + try_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise PollLocked(pid) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing drops the flock

    def __enter__(self) -> PollLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def poll_running(cache_path: str | Path) -> bool:
    """Whether a poller holds the lock now (a momentary shared-lock probe)."""
    try:
        fd = os.open(lock_path(cache_path), os.O_RDONLY)
    except OSError:
        return False  # no lock file: no poller ever ran here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock, if taken
    return False


# -- status for the dashboard ------------------------------------------------------------


def _state(conn: sqlite3.Connection, key: str) -> int | None:
    row = conn.execute("SELECT value FROM poll_state WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def poll_status(cache: Cache) -> PollStatus:
    """The last poll run, the last successful end, the watermark and whether one runs."""
    conn = cache.conn
    running = poll_running(cache.path)
    row = conn.execute(
        "SELECT id, source, started_at, ended_at, since, until, taken, quarantined, pages, "
        "status, error_kind, error FROM poll_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    last_ok = conn.execute(
        "SELECT max(ended_at) FROM poll_runs WHERE status = 'ok'"
    ).fetchone()[0]
    watermark = _state(conn, WATERMARK_KEY)
    if row is None:
        return PollStatus(None, None, None, None, None, None, 0, 0, 0, None, None, None,
                          last_ok, watermark, running)
    status, error_kind, error = row[9], row[10], row[11]
    if status == "running" and not running:
        # Its process died (killed, power cut): say so rather than "running" forever.
        status, error_kind, error = "failed", INTERRUPTED, "the poll ended before finishing"
    return PollStatus(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                      status, error_kind, error, last_ok, watermark, running)


# -- the poller -------------------------------------------------------------------------


class _Run:
    """Counters of one poll run, written to poll_runs after every page."""

    def __init__(self, cache: Cache, run_id: int, on_progress: ProgressCallback | None,
                 deadline: Deadline | None = None):
        self.cache = cache
        self.run_id = run_id
        self.on_progress = on_progress
        self.deadline = deadline
        self.taken = self.attempts = self.quarantined = self.pages = 0
        self.new_attempts = self.new_quarantined = 0

    def check_deadline(self, page: Page) -> None:
        """Between pages: a poll past its deadline stops (what it stored is kept)."""
        if self.deadline is not None and self.deadline.passed():
            raise self.deadline.error(f"storing {page.kind} page {page.number}")

    def store_page(self, page: Page, ingest: InboundIngest | None = None) -> None:
        """Store (and commit) a page of reference records: whole, or a big one slice by
        slice; its records go to `ingest` when given (an inbound listing's)."""
        for part in _parts(page):
            if ingest is None:
                self.store(part)
                continue
            # Sliced like the others: a big page of trunk groups parsed whole took a
            # poll past its 150 MB.
            where = _where(page)
            report = IngestReport(page.kind, rejected=len(part.too_big),
                                  rejections=part.too_big)
            report.merge(ingest.add_page(page.body, where) if part.texts is None
                         else ingest.add_json(part.texts, [where(i) for i in part.places()]))
            self.pages += part.last
            self.record(page.kind, report)

    def store(self, part: _Part, progress_ms: int | None = None) -> IngestReport:
        """Store (and commit) a page or a slice of one, with the poll's counters and its
        quarantined records; `progress_ms`: where a killed poll resumes, once it is in."""
        report = self._ingest(part)
        self.pages += part.last
        self.record(part.page.kind, report, progress_ms if part.last else None)
        return report

    def record(self, kind: str, report: IngestReport, progress_ms: int | None = None) -> None:
        """Count what an ingest took and quarantine what it rejected."""
        self.taken += report.taken
        if kind == "attempts":
            self.attempts += report.taken
            self.new_attempts += report.taken - report.unchanged
        self.quarantined += report.rejected
        now = now_ms()
        with self.cache.transaction() as conn:
            for rej in report.rejections:
                # Keep the record as served: its JSON text (same text for the same record,
                # so the overlap's re-fetch finds it).
                raw = rej.raw if isinstance(rej.raw, str) else json.dumps(
                    rej.raw, ensure_ascii=False, sort_keys=True, default=str)
                # The overlap re-fetches records: quarantine each bad one once.
                self.new_quarantined += conn.execute(
                    "INSERT INTO quarantine (run_id, received_at, kind, location, reason, raw) "
                    "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM quarantine WHERE kind = ? AND raw = ?)",
                    (self.run_id, now, kind, rej.where, rej.reason, raw, kind, raw),
                ).rowcount
            conn.execute(
                "UPDATE poll_runs SET taken = ?, quarantined = ?, pages = ? WHERE id = ?",
                (self.taken, self.quarantined, self.pages, self.run_id),
            )
            if progress_ms is not None:
                # Never move backwards: an older explicit window must not undo progress.
                conn.execute(
                    "INSERT INTO poll_state VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                    "value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                    (PROGRESS_KEY, str(progress_ms)),
                )

    def _ingest(self, part: _Part) -> IngestReport:
        page, where = part.page, _where(part.page)
        report = IngestReport(page.kind, rejected=len(part.too_big), rejections=part.too_big)
        try:
            if part.parsed is not None:
                report.merge(self.cache.ingest_parsed(part.parsed))
                return report
            if part.texts is None and page.kind != "attempts":
                report.merge(self.cache.ingest_json_page(page.kind, page.body, where))
                return report
            if part.texts is not None and page.kind != "attempts":
                report.merge(self.cache.ingest_json_lines(
                    page.kind, part.texts, [where(i) for i in part.places()]))
                return report
        except Exception as exc:
            if not cannot_store(exc):
                raise
        # Some record the cache cannot store (or parse) spoilt the batch: find it.
        texts = part.texts if part.texts is not None else item_texts(page.body)
        places = part.places() if part.texts is not None else list(range(len(texts)))
        report.merge(self._halves(page.kind, texts, places, where))
        return report

    def _halves(self, kind: str, texts: list[bytes], places: list[int],
                where: Callable[[int], str]) -> IngestReport:
        """Store the records, halving the batch until each one the cache cannot store is
        alone: that one is quarantined, every other stored."""
        try:
            return self.cache.ingest_json_lines(kind, texts, [where(i) for i in places])
        except Exception as exc:
            if not cannot_store(exc):
                raise
            if len(texts) == 1:
                from noc_tui.records.formats import Rejection  # pydantic: only when needed

                return IngestReport(kind, rejected=1, rejections=[Rejection(
                    where(places[0]), f"record: the cache cannot store it ({exc})",
                    texts[0].decode("utf-8", "replace"))])
        mid = len(texts) // 2
        report = self._halves(kind, texts[:mid], places[:mid], where)
        report.merge(self._halves(kind, texts[mid:], places[mid:], where))
        return report

    def progress(self, phase: str, done: int, total: int | None,
                 fraction: float | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(PollProgress(phase, done, total, self.taken, self.quarantined,
                                          fraction))


def _note_failures(conn: sqlite3.Connection, client: Source) -> None:
    """Keep what the source found about failed attempts: a source that says nothing
    serves them by design; one that could not tell this time keeps the last finding."""
    if not hasattr(client, "failures_recorded"):
        conn.execute("DELETE FROM poll_state WHERE key = ?", (FAILURES_KEY,))
        return
    found = getattr(client, "failures_recorded", None)
    if found is not None:
        conn.execute("INSERT OR REPLACE INTO poll_state VALUES (?, ?)",
                     (FAILURES_KEY, "1" if found else "0"))


def _where(page: Page) -> Callable[[int], str]:
    def where(i: int) -> str:
        return f"{page.kind} page {page.number} item {i + 1}"

    return where


@dataclass
class _Part:
    """A page, or a slice of a big one, on its way to the cache: its attempts parsed
    already, or its items' texts to store (None: the whole page's)."""

    page: Page
    last: bool = True  # the page's last (or only) part
    parsed: ParsedAttempts | None = None
    texts: list[bytes] | None = None
    positions: list[int] | None = None  # each text's place in the page (None: 0, 1, ...)
    too_big: list[Rejection] = field(default_factory=list)

    def places(self) -> list[int]:
        return self.positions if self.positions is not None else \
            list(range(len(self.texts or ())))


def _parts(page: Page) -> Iterator[_Part]:
    """A page whole, or a big one slice by slice (each part's texts read when needed)."""
    cut = slices(page, _where(page))
    if cut is None:
        yield _Part(page)
        return
    for k, part in enumerate(cut):
        yield _Part(page, k == len(cut) - 1, None, part.texts(), part.positions, part.too_big)


def _parsed(pages: Iterator[Page], parser: AttemptParser) -> Generator[_Part, None, None]:
    """Attempts pages, each whole or in slices, with their records parsed in the thread
    that fetches them. A part the parser cannot take as a batch (a number SQLite cannot
    hold) goes on unparsed: the storing side then stores it record by record."""
    for page in pages:
        where = _where(page)
        for part in _parts(page):
            try:
                if part.texts is None:
                    part.parsed = parser.page(page.body, where)
                else:
                    part.parsed = parser.lines(part.texts, namer(where, part.places()))
            except Exception as exc:
                if not cannot_store(exc):
                    raise
                part.parsed = None
                if part.texts is None:
                    part.texts = item_texts(page.body)
            yield part


def _last_started(page: Page) -> int | None:
    """started_at of an attempts page's last item, in ms (None if it is not a time)."""
    if isinstance(page.last_started_at, str):
        try:
            return iso_to_ms(page.last_started_at)
        except TimeFormatError:
            return None
    return None


class Poller:
    """Polls one switch into one cache. ``poll_once`` may be called repeatedly, from any
    thread (it opens its own cache connection); concurrent calls get PollLocked."""

    def __init__(
        self,
        settings: Settings,
        cache_path: str | Path,
        *,
        url: str | None = None,
        token: str | None = None,
        backoff_base_s: float = 0.5,
        retry_after_cap_s: float = 60.0,
        prefetch: bool = True,
    ) -> None:
        self.settings = settings
        self.cache_path = Path(cache_path)
        self.url = url or settings.source.url
        self.token = token
        self.backoff_base_s = backoff_base_s
        self.retry_after_cap_s = retry_after_cap_s
        self.prefetch = prefetch
        self.overlap_ms = parse_duration(settings.poll.overlap) * 1000
        self.backfill_ms = parse_duration(settings.poll.backfill) * 1000
        self.interval_s = parse_duration(settings.poll.interval)
        self.keep_ms = parse_duration(settings.cache.keep_attempts) * 1000
        self.deadline_s = parse_duration(settings.poll.deadline)
        # Sends the alarms a poll raises (alarms.command, alarms.webhook_url).
        self.notifier = Notifier(settings.alarms, self.cache_path)

    def status(self) -> PollStatus:
        with Cache(self.cache_path, self.settings.metrics, readonly=True) as cache:
            return poll_status(cache)

    def poll_once(
        self,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> PollResult:
        """One poll. Raises PollLocked if another poll runs, PollConfigError on bad input,
        CacheError if the cache cannot be opened; any failure of the poll itself is
        returned as a failed PollResult (and recorded in poll_runs)."""
        if self.settings.source.kind != "apiv1":
            missing = source_missing(self.settings.source)
            if missing:
                raise PollConfigError(f"{missing} is not set")
        elif not self.url:
            raise PollConfigError("no switch URL configured")
        if since_ms is not None and until_ms is not None and since_ms >= until_ms:
            raise PollConfigError(f"--since {ms_to_iso(since_ms)} is not before --until "
                                  f"{ms_to_iso(until_ms)}")
        cancel = cancel or threading.Event()
        # The clock starts once the cache is open (a migration can take minutes).
        deadline = Deadline(math.inf, f"poll.deadline = {self.settings.poll.deadline}")
        try:
            client = open_source(
                self.settings.source, url=self.url, token=self.token,
                backoff_base_s=self.backoff_base_s, retry_after_cap_s=self.retry_after_cap_s,
                cancel=cancel, state_path=self.cache_path, deadline=deadline,
            )
        except ValueError as exc:
            raise PollConfigError(str(exc)) from None
        try:
            with client, PollLock(self.cache_path), \
                    Cache(self.cache_path, self.settings.metrics) as cache:
                # The poller streams: a 16 MiB page cache (not the dashboards' 64 MiB)
                # keeps its peak memory well under 150 MB (docs/performance.md, "Poll
                # throughput").
                cache.conn.execute(f"PRAGMA cache_size = -{POLL_PAGE_CACHE_KIB}")
                deadline.at = time.monotonic() + self.deadline_s
                return self._poll(cache, client, since_ms, until_ms, on_progress, cancel,
                                  deadline)
        except sqlite3.Error as exc:  # before the poll's run was recorded: read-only...
            raise cache_failure(self.cache_path, exc) from None

    def _poll(
        self,
        cache: Cache,
        client: Source,
        since_ms: int | None,
        until_ms: int | None,
        on_progress: ProgressCallback | None,
        cancel: threading.Event,
        deadline: Deadline | None = None,
    ) -> PollResult:
        started = now_ms()
        # A window cannot be complete beyond now: calls still running publish later.
        until = min(until_ms, started) if until_ms is not None else started
        with cache.transaction() as conn:
            # Rows left "running" by a poller that died: we hold the lock, so it is gone.
            conn.execute(
                "UPDATE poll_runs SET status = 'failed', error_kind = ?, error = ? "
                "WHERE status = 'running'",
                (INTERRUPTED, "the poll ended before finishing"),
            )
            watermark = _state(conn, WATERMARK_KEY)
            progress = _state(conn, PROGRESS_KEY)
            if since_ms is not None:
                since = since_ms
            else:
                marks = [m for m in (watermark, progress) if m is not None]
                # Re-fetch the overlap: records of an old window can still be published.
                since = max(marks) - self.overlap_ms if marks else until - self.backfill_ms
            since = min(since, until)
            cur = conn.execute(
                "INSERT INTO poll_runs (source, started_at, since, until, status) "
                "VALUES (?, ?, ?, ?, 'running')",
                (client.display_url, started, since, until),
            )
            run_id = int(cur.lastrowid or 0)
        run = _Run(cache, run_id, on_progress, deadline)
        status, error_kind, error = "ok", None, None
        notes: list[str] = []
        changes = AlarmChanges()
        try:
            live = getattr(client, "destinations", None)
            gateways = live() if live is not None else None
            if gateways is not None:
                # The switch's live routing state: a snapshot, replaced whole.
                replace_destinations(cache, ((g.carrier_id, g.set_id, g.uri, g.priority,
                                              g.state, g.probing) for g in gateways), now_ms())
            for kind, listing in (("carriers", client.carriers), ("contacts", client.contacts),
                                  ("rates", client.rates)):
                done = 0
                for page in listing():
                    run.check_deadline(page)
                    run.store_page(page)
                    done += page.count
                    run.progress(kind, done, done if page.next_cursor is None else None)
            self._attempts(run, client, since, until, cancel)
            notes = poll_inbound(run, client, since, until, cancel)
            if cancel.is_set():
                raise SourceError(CANCELLED, "cancelled")
            with cache.transaction() as conn:
                # The window is complete: the watermark moves (never backwards).
                new_mark = until if watermark is None else max(watermark, until)
                conn.execute("INSERT OR REPLACE INTO poll_state VALUES (?, ?)",
                             (WATERMARK_KEY, str(new_mark)))
                _note_failures(conn, client)
                if progress is not None and progress <= new_mark:
                    conn.execute("DELETE FROM poll_state WHERE key = ?", (PROGRESS_KEY,))
            run.progress("metrics", 0, None)
            now = now_ms()
            refresh_standard_windows(cache, now)
            refresh_inbound_windows(cache, now)
            changes = judge_alarms(cache, self.settings.alarms)
            # Sent in the notifier's thread: the poll (and a dashboard) never waits,
            # and they are on their way before the prune.
            self.notifier.submit(events(changes.raised, changes.cleared,
                                        self.settings.alarms.notify_cleared))
            prune(cache, now_ms(), self.keep_ms)
        except SourceError as exc:
            status, error_kind, error = "failed", exc.kind, exc.message
        except (sqlite3.Error, CacheError) as exc:
            failure = exc if isinstance(exc, CacheError) else cache_failure(cache.path, exc)
            if failure.damaged:
                raise failure from None  # nothing more is written into it, not even the run
            status, error_kind, error = "failed", CACHE_ERROR, str(failure)
        except BaseException as exc:
            # KeyboardInterrupt or a bug: record it, then let it propagate.
            self._finish(cache, run, "failed", INTERRUPTED, type(exc).__name__)
            raise
        ended = self._finish(cache, run, status, error_kind, error)
        run.progress("done", run.taken, run.taken)
        return PollResult(run_id, status, client.display_url, since, until, started, ended,
                          run.taken, run.attempts, run.quarantined, run.pages,
                          client.requests_made, error_kind, error, tuple(notes),
                          getattr(client, "failures_recorded", None),
                          new_attempts=run.new_attempts, new_quarantined=run.new_quarantined,
                          alarms=changes)

    def _attempts(self, run: _Run, client: Source, since: int, until: int,
                  cancel: threading.Event) -> None:
        if since >= until:
            return
        span = until - since
        done = 0
        # The parser's database must outlive the fetching thread: the cache reads it.
        parser = AttemptParser(run.cache.rates_view())
        inflight = InFlight()
        fetched: Iterator[Page] = budgeted(client.attempts(since, until), inflight)
        if self.prefetch:
            # Three stages, each a page ahead of the next: fetching (mostly waiting on
            # the switch), parsing and storing. The switch, the parser and the cache all
            # work at the same time.
            fetched = read_ahead(fetched, name="poll-fetch")
        pages: Generator[_Part, None, None] = _parsed(fetched, parser)
        if self.prefetch:
            pages = read_ahead(pages, name="poll-parse")
        try:
            for part in pages:
                page = part.page
                run.check_deadline(page)
                if not part.last:  # a slice of a big page: the page's last slice reports
                    run.store(part)
                    continue
                last = _last_started(page)
                # Where a killed poll resumes; the last instant may continue on the next
                # page, which the overlap re-fetches anyway.
                through = until if page.next_cursor is None else last
                run.store(part, through)
                inflight.done(page.size_bytes)
                done += page.count
                fraction = (None if through is None
                            else min(1.0, max(0.0, (through - since) / span)))
                total = round(done / fraction) if fraction else None
                run.progress("attempts", done, total, fraction)
                if cancel.is_set():
                    raise SourceError(CANCELLED, "cancelled")
        finally:
            inflight.close()  # a fetcher waiting for room stops
            pages.close()  # stops the parsing thread first: it reads from `fetched`
            if isinstance(fetched, Generator):
                fetched.close()
            parser.close()

    @staticmethod
    def _finish(cache: Cache, run: _Run, status: str, error_kind: str | None,
                error: str | None) -> int:
        ended = now_ms()
        with contextlib.suppress(sqlite3.Error), cache.transaction() as conn:
            conn.execute(
                "UPDATE poll_runs SET ended_at = ?, status = ?, error_kind = ?, error = ?, "
                "taken = ?, quarantined = ?, pages = ? WHERE id = ?",
                (ended, status, error_kind, error, run.taken, run.quarantined, run.pages,
                 run.run_id),
            )
        return ended


def poll(
    settings: Settings,
    cache_path: str | Path,
    *,
    url: str | None = None,
    token: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> PollResult:
    """One poll (see Poller.poll_once)."""
    return Poller(settings, cache_path, url=url, token=token).poll_once(
        since_ms=since_ms, until_ms=until_ms, on_progress=on_progress, cancel=cancel)


# -- command line ----------------------------------------------------------------------


BAR_WIDTH = 30


class ProgressBar:
    """A poll's progress as one line (plain lines, at most one a second, when the output
    is not a terminal): `noc-tui poll` on a terminal and the --demo backfill."""

    def __init__(self, out: IO[str], label: str = "attempts") -> None:
        self.out = out
        self.label = label
        self.tty = getattr(out, "isatty", lambda: False)()
        self.last = 0.0

    def __call__(self, progress: PollProgress) -> None:
        phase, fraction, done = progress.phase, progress.fraction, progress.done
        now = time.monotonic()
        if phase == "attempts" and fraction is not None:
            if not self.tty and now - self.last < 1.0:
                return
            self.last = now
            bar = "#" * int(fraction * BAR_WIDTH)
            line = f"{self.label} [{bar:<{BAR_WIDTH}}] {fraction:4.0%} {done:,} attempts"
            self.out.write(("\r" + line) if self.tty else line + "\n")
        elif phase in ("carriers", "contacts", "rates"):
            if self.tty:
                self.out.write(f"\rfetching {phase}...".ljust(70))
        elif phase == "metrics":
            self.out.write(("\r" if self.tty else "") + "computing carrier metrics...".ljust(70)
                           + ("" if self.tty else "\n"))
        elif phase == "done":
            self.finish()
        self.out.flush()

    def finish(self) -> None:
        if self.tty:
            self.out.write("\r" + " " * 70 + "\r")
            self.out.flush()


def speaker(out: IO[str]) -> Callable[[str], None]:
    """How `noc-tui poll` (and --follow) speaks on `out`: one line a message, its text
    (the switch's error text, file names) escaped for the terminal or the log."""

    def say(text: str) -> None:
        out.write(f"noc-tui poll: {printable_lines(text)}\n")
        out.flush()

    return say


def run_poll_command(
    settings: Settings,
    cache_path: str | Path,
    url: str | None = None,
    token: str | None = None,
    since: str | None = None,
    until: str | None = None,
    out: IO[str] = sys.stderr,
    config_path: str | Path | None = None,
) -> int:
    """`noc-tui poll`: one poll, a one-line summary or a clear error; the exit status is
    0 everything taken, 1 records quarantined, 2 the poll could not run or failed."""

    say = speaker(out)
    where = config_path or default_config_path()
    if settings.source.kind == "apiv1" and not (url or settings.source.url):
        say(f"no switch URL configured: set source.url in {where} "
            "(or NOC_TUI_SOURCE__URL), or pass --url")
        return EXIT_NOT_RUN
    missing = source_missing(settings.source)
    if settings.source.kind != "apiv1" and missing:
        say(f"source.kind is {settings.source.kind!r} but {missing} is not set: set it in "
            f"{where}")
        return EXIT_NOT_RUN
    try:
        since_ms = parse_instant(since, "--since") if since else None
        until_ms = parse_instant(until, "--until") if until else None
    except TimeFormatError as exc:
        say(str(exc))
        return EXIT_NOT_RUN
    poller = Poller(settings, cache_path, url=url, token=token)
    try:
        result = poller.poll_once(
            since_ms=since_ms, until_ms=until_ms,
            # cron logs get the one-line summary only, a terminal also the bar
            on_progress=ProgressBar(out) if out.isatty() else None)
    except PollLocked as exc:
        say(f"{exc}; not starting a second one")
        return EXIT_NOT_RUN
    except (PollConfigError, CacheError) as exc:
        say(str(exc))
        return EXIT_NOT_RUN
    except KeyboardInterrupt:
        say("interrupted; what was fetched is kept, the next poll resumes")
        return EXIT_INTERRUPTED
    window = f"{ms_to_iso(result.since_ms)} .. {ms_to_iso(result.until_ms)}"
    counts = (f"taken {result.taken:,} ({result.attempts:,} attempts), "
              f"quarantined {result.quarantined:,}, pages {result.pages:,}, "
              f"{result.duration_s:.1f} s, window {window}")
    # One line (cron logs): what was skipped follows the figures.
    notes = "".join(f"; {n}" for n in result.notes)
    if not result.ok:
        say(f"failed ({result.error_kind}): {result.error} [{counts}]{notes}")
        return EXIT_NOT_RUN
    say(f"ok: {counts}{notes}")
    if result.failures_recorded is False:
        say(NO_FAILURES)
    if result.alarms:
        report_and_wait(poller.notifier,
                        events(result.alarms.raised, result.alarms.cleared), say)
    if result.quarantined:
        say(f"{result.quarantined:,} records quarantined (the switch served them invalid): "
            "see them with noc-tui quarantine list")
        return EXIT_REJECTED
    return EXIT_OK
