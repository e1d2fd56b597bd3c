"""The carrier list screen's data as plain values.

What `views.list_snapshot` returns, and what crosses from the dashboard's forked
start-up child (noc_tui.cli.prepare_dashboard) by pickle: unpickling imports the
classes' module, so it is kept free of the data layer's heavier imports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # annotations only: unpickling imports what the values need
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


class ListTrends:
    """Every carrier's trend cells for the list, by carrier id: (attempts, connected) a
    slice, oldest first. Cells read as stored stay JSON text until a row that shows them
    is drawn: 2,000 carriers' cells decoded and sent to the dashboard as Python objects
    cost it ~10 ms at start, for the ~40 rows on screen."""

    __slots__ = ("_cells", "_text")

    def __init__(self, cells: dict[str, list[tuple[int, int]]] | None = None,
                 text: dict[str, str] | None = None) -> None:
        self._cells = dict(cells or {})
        self._text = text or {}

    def get(self, carrier_id: str) -> list[tuple[int, int]] | None:
        cells = self._cells.get(carrier_id)
        if cells is None:
            text = self._text.get(carrier_id)
            if text is None:
                return None
            cells = self._cells[carrier_id] = [(a, c) for a, c in json.loads(text)]
        return cells

    def as_dict(self) -> dict[str, list[tuple[int, int]]]:
        """Every carrier's cells, decoded."""
        ids = self._cells.keys() | self._text.keys()
        return {cid: cells for cid in sorted(ids) if (cells := self.get(cid)) is not None}

    def __eq__(self, other: object) -> bool:  # the same cells, however they were read
        if not isinstance(other, ListTrends):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable (decoded as drawn)


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
    # (analytics.trends.carrier_list_trends), for the list's trend column.
    trends: ListTrends = field(default_factory=ListTrends)
