"""The poller's status as the dashboard shows it, read from the cache's poll_runs.

Status is read from the cache, not asked of a poller, so a dashboard also sees polls
run by other processes (a cron-driven `noc-tui poll`). No heavy imports: the dashboard
loads this before its first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from noc_tui.store.cache import Cache

# poll_state's 1/0: whether the source's attempts hold failed ones (Source's
# failures_recorded, kept by the poller; absent: a source that always serves them).
FAILURES_KEY = "failures_recorded"
# Said by the poll, the dashboard's header and doctor when they do not.
NO_FAILURES = ("the switch's records hold connected calls and no failed attempt: ASR, NER, "
               "consecutive failures, failover and code consistency are unknown (shown as "
               "—), not perfect")


@dataclass(frozen=True)
class PollInfo:
    status: str | None  # ok | failed | running | None (never polled)
    started_ms: int | None
    ended_ms: int | None
    error_kind: str | None
    error: str | None
    taken: int
    quarantined: int
    last_ok_ms: int | None  # end of the last successful poll
    # False: the source's attempts hold connected calls only (failure figures unknown).
    failures_recorded: bool | None = None


def read_poll_info(cache: Cache) -> PollInfo | None:
    """The latest poll run and the last good one, or None when nothing ever polled."""
    try:
        last = cache.conn.execute(
            "SELECT status, started_at, ended_at, error_kind, error, taken, quarantined "
            "FROM poll_runs ORDER BY id DESC LIMIT 1").fetchone()
        ok = cache.conn.execute(
            "SELECT max(ended_at) FROM poll_runs WHERE status = 'ok'").fetchone()
    except Exception:  # older schema or a table the poller has not created
        return None
    if last is None:
        return None
    status, started, ended, kind, err, taken, quar = last
    return PollInfo(status, started, ended, kind, err, taken or 0, quar or 0,
                    ok[0] if ok else None, failures_recorded(cache))


def failures_recorded(cache: Cache) -> bool | None:
    """The last finding of the source about failed attempts (see FAILURES_KEY)."""
    try:
        row = cache.conn.execute("SELECT value FROM poll_state WHERE key = ?",
                                 (FAILURES_KEY,)).fetchone()
    except Exception:  # a cache no poller has written yet
        return None
    return None if row is None else str(row[0]) == "1"
