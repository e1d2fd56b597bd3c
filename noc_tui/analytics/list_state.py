"""The carrier list screen's data as plain values.

What `views.list_snapshot` returns, and what crosses from the dashboard's forked
start-up child (noc_tui.cli.prepare_dashboard) by pickle: unpickling imports the
classes' module, so it is kept free of the data layer's heavier imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from noc_tui.store.alarms import Alarm
from noc_tui.store.poll_status import PollInfo

# A carrier's row as exported (CLI and dashboard alike): the metric keys of the
# foundation issue, with the health and alarms the dashboard derives from them.
CARRIER_COLUMNS = (
    "id", "name", "status", "health", "alarms", "attempts", "connected", "asr", "acd_s",
    "minutes", "pdd_avg_ms", "ner", "n200", "n404", "code_consistency", "never_404",
    "consecutive_failures", "failover_out", "failover_in", "halt_violations", "sdc_ratio",
    "fas_flags", "fas_suspect",
)


@dataclass(frozen=True)
class DashboardState:
    """What the first screen should show: data, or what to do to get some."""

    kind: Literal["ready", "no_cache", "empty", "broken"]
    message: str = ""
    has_source: bool = False


@dataclass(frozen=True)
class ListSnapshot:
    """What the carrier list screen shows for one window: the dashboard state, and when
    it is ready the rows (each with its health and open alarms), the poll status and
    the open alarms; or why the list could not be read."""

    state: DashboardState
    window: str
    as_of_ms: int | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    poll: PollInfo | None = None
    error: str | None = None
    mark: tuple[Any, ...] | None = None  # views.data_mark of the state read
    alarms: list[Alarm] = field(default_factory=list)  # open now, newest first
    alarm_mark: int = 0  # the newest alarm's id: what is new since the last look
    # Each carrier's (attempts, answered) in 2-hour slices of the last 24 hours
    # (analytics.trends.list_trends), for the list's trend column.
    trends: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
