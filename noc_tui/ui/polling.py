"""The dashboard's side of the poller: status reads and a thin adapter.

The poller (noc_tui/sync/poller.py, the switch issue) is optional here: the dashboard
works without one (tests, a cron-driven `noc-tui poll`), and only calls
`poll_once(on_progress=..., cancel=...)` from a worker thread. Status is read from
the cache's poll_runs table, so a dashboard also sees polls run by other processes.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Progress:
    phase: str
    done: int
    total: int | None
    taken: int
    quarantined: int


def _progress(p: Any) -> Progress:
    return Progress(
        str(getattr(p, "phase", "") or ""), int(getattr(p, "done", 0) or 0),
        getattr(p, "total_estimate", None), int(getattr(p, "taken", 0) or 0),
        int(getattr(p, "quarantined", 0) or 0))


class PollControl:
    """Runs the poller's poll_once in the calling (worker) thread."""

    def __init__(self, poller: Any | None) -> None:
        self.poller = poller
        self.cancel = threading.Event()
        self._running = threading.Lock()

    @property
    def available(self) -> bool:
        return self.poller is not None and hasattr(self.poller, "poll_once")

    @property
    def running(self) -> bool:
        return self._running.locked()

    def run(self, on_progress: Callable[[Progress], None]) -> tuple[bool, str]:
        """Poll once; (ok, message). Never raises: failures are the poll's status."""
        if not self.available:
            return False, "no poller configured"
        if not self._running.acquire(blocking=False):
            return False, "a poll is already running"
        self.cancel.clear()
        try:
            fn = self.poller.poll_once
            kwargs: dict[str, Any] = {"on_progress": lambda p: on_progress(_progress(p)),
                                      "cancel": self.cancel}
            try:
                params = inspect.signature(fn).parameters
                if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
                    kwargs = {k: v for k, v in kwargs.items() if k in params}
            except (TypeError, ValueError):
                pass
            result = fn(**kwargs)
            status = getattr(result, "status", "ok")
            if status not in (None, "ok"):
                kind = getattr(result, "error_kind", None) or status
                return False, f"{kind}: {getattr(result, 'error', '') or ''}".strip(": ")
            taken = getattr(result, "taken", None)
            return True, f"poll done, {taken:,} records" if isinstance(taken, int) else "poll done"
        except Exception as exc:  # the poller records its own status; say it here too
            return False, f"{type(exc).__name__}: {exc}"
        finally:
            self._running.release()
