"""`noc-tui poll --follow`: poll the source again and again until stopped.

A poll starts every `poll.follow_interval` (timed from the previous poll's start, so a
slow poll is followed at once rather than late). Each one is an ordinary poll
(Poller.poll_once: its lock, its run in poll_runs, its deadline), so the dashboard sees
them as it sees any poll. A poll that brought new attempts, quarantined records for the
first time or failed is said in one line; quiet polls say nothing.

A failed poll (the switch down, a timeout, an overflowed Kamailio mqueue) is reported
and the loop goes on, waiting twice as long after each failure in a row, up to
FOLLOW_BACKOFF_CAP_S. Only what no later poll can fix stops it: a mistake in the config,
a cache that cannot be opened at the start, a damaged cache.

SIGINT (Ctrl-C) and SIGTERM stop it at once, also mid-poll: the poll in progress is
recorded as interrupted (what it stored stays; the next poll resumes from there) and
its lock is released. Exit status: 130 after SIGINT; after SIGTERM, as for one poll: 2
if the last poll failed, else 1 if any poll quarantined records, else 0; 2 when it
could not start.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

from noc_tui.alerts.delivery import event_text, events
from noc_tui.records.timefmt import ms_to_iso, now_ms, parse_duration
from noc_tui.settings_view import default_config_path
from noc_tui.store.cache import CacheError
from noc_tui.store.poll_status import NO_FAILURES
from noc_tui.sync.poller import (
    EXIT_INTERRUPTED,
    EXIT_NOT_RUN,
    EXIT_OK,
    EXIT_REJECTED,
    PollConfigError,
    Poller,
    PollLocked,
    PollResult,
    speaker,
)

if TYPE_CHECKING:
    from noc_tui.config import Settings

# The longest wait after failures in a row: a switch back up is seen within a minute,
# and a Kamailio mqueue (filled at most ~700 events/s is what one fetcher drains) is not
# left to overflow for long.
FOLLOW_BACKOFF_CAP_S = 60.0


class Terminated(BaseException):
    """SIGTERM arrived: stop where we are, as Ctrl-C does (not an Exception, so nothing
    on the way mistakes it for a failure to handle)."""


def backoff_s(interval_s: float, failures: int) -> float:
    """The wait after `failures` failed polls in a row: the interval doubled for each,
    capped (but never shorter than the interval itself)."""
    if failures <= 0:
        return interval_s
    return min(interval_s * 2.0 ** failures, max(interval_s, FOLLOW_BACKOFF_CAP_S))


@dataclass
class Tally:
    """What the loop has done so far: for its lines and its exit status."""

    polls: int = 0
    failed: int = 0
    failures_in_row: int = 0
    new_attempts: int = 0
    quarantined: int = 0  # polls that quarantined records (again or for the first time)
    last_failed: bool = False

    def status(self) -> int:
        if self.last_failed:
            return EXIT_NOT_RUN
        return EXIT_REJECTED if self.quarantined else EXIT_OK

    def summary(self) -> str:
        failed = f", {self.failed:,} failed" if self.failed else ""
        last = " (the last one failed)" if self.last_failed else ""
        return (f"{self.polls:,} polls{failed}{last}, {self.new_attempts:,} new attempts"
                + (f", {self.quarantined:,} polls quarantined records" if self.quarantined
                   else ""))


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGTERM raises Terminated, SIGINT KeyboardInterrupt, wherever the loop is; a
    second signal while stopping is ignored (the first one is being handled)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; a caller there handles them
        return
    stopping = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run_follow_command(
    settings: Settings,
    cache_path: str | Path,
    url: str | None = None,
    token: str | None = None,
    out: IO[str] = sys.stderr,
    config_path: str | Path | None = None,
) -> int:
    """`noc-tui poll --follow`: polls until SIGINT or SIGTERM; see the module's doc."""

    say = speaker(out)
    poller = Poller(settings, cache_path, url=url, token=token)
    tally = Tally()
    with _stop_signals():
        try:
            say(f"following the {settings.source.kind} source into {cache_path}, a poll every "
                f"{settings.poll.follow_interval} (poll.follow_interval); Ctrl-C or SIGTERM "
                "stops")
            _loop(poller, settings.poll.follow_interval, tally, say, config_path)
        except KeyboardInterrupt:
            say(f"interrupted after {tally.summary()}; what was fetched is kept, the next "
                "poll resumes")
            return EXIT_INTERRUPTED
        except Terminated:
            say(f"stopped (SIGTERM) after {tally.summary()}")
            return tally.status()
        except _CannotRun as exc:
            say(str(exc))
            return EXIT_NOT_RUN
    return EXIT_NOT_RUN  # _loop only ends by raising


class _CannotRun(Exception):
    """What no later poll can fix: the loop stops with status 2."""


def _loop(poller: Poller, every: str, tally: Tally, say: Callable[[str], None],
          config_path: str | Path | None) -> None:
    interval = float(parse_duration(every))
    next_at = time.monotonic()
    locked_said = False
    notes: tuple[str, ...] = ()
    while True:
        wait = next_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        started = time.monotonic()
        error = ""
        try:
            result: PollResult | None = poller.poll_once()
        except PollLocked as exc:
            # Another poll (cron, a dashboard's `r`) is running: ours comes next time.
            if not locked_said:
                say(f"{exc}; polling again in {every}")
            locked_said = True
            next_at = started + interval
            continue
        except PollConfigError as exc:
            where = config_path or default_config_path()
            raise _CannotRun(f"{exc}: set it in {where} (or its NOC_TUI_ variable)") from None
        except CacheError as exc:
            if exc.damaged or tally.polls == 0:
                raise _CannotRun(str(exc)) from None
            result = None  # worked before: a full disk, a lock held too long; try again
            error = f"failed (cache): {exc}"
        locked_said = False
        tally.polls += 1
        if result is not None:
            # What the poll skipped, or what the switch's records lack (not failures):
            # said when it changes, not at every poll.
            found = result.notes + ((NO_FAILURES,) if result.failures_recorded is False
                                    else ())
            for note in found if found != notes else ():
                say(f"{ms_to_iso(now_ms())} note: {note}")
            notes = found
        if result is not None and result.ok:
            _took(result, tally, say)
            next_at = max(started + interval, time.monotonic())
            continue
        if result is not None:
            error = f"failed ({result.error_kind}): {result.error}"
        tally.failed += 1
        tally.failures_in_row += 1
        tally.last_failed = True
        wait = backoff_s(interval, tally.failures_in_row)
        say(f"{ms_to_iso(now_ms())} {error}; polling again in {wait:g} s")
        next_at = time.monotonic() + wait


def _took(result: PollResult, tally: Tally, say: Callable[[str], None]) -> None:
    """An ok poll: its line when it brought something or ended failures in a row."""
    tally.new_attempts += result.new_attempts
    if result.quarantined:
        tally.quarantined += 1
    again = (f"ok again after {tally.failures_in_row:,} failed "
             f"poll{'s' if tally.failures_in_row != 1 else ''}: ") if tally.failures_in_row else ""
    tally.failures_in_row = 0
    tally.last_failed = False
    # Each alarm this poll raised or cleared, once (they are sent by the poller's
    # notifier meanwhile, and their delivery noted on the alarm screen).
    changes = result.alarms
    said = [event_text(ev) for ev in events(changes.raised, changes.cleared)] if changes \
        else []
    for line in said:
        say(f"{ms_to_iso(now_ms())} {line}")
    if not (again or result.new_attempts or result.new_quarantined):
        return
    news = f"+{result.new_attempts:,} attempts"
    if result.new_quarantined:
        news += (f", {result.new_quarantined:,} records quarantined (the switch served them "
                 "invalid): see them with noc-tui quarantine list")
    say(f"{ms_to_iso(now_ms())} {again}{news} in {result.duration_s:.2f} s")
