"""Messages from worker threads to the UI thread.

Workers only read the cache and compute; they hand results over with post_message
(thread-safe) and every widget change happens in the receiving handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

from noc_tui.analytics.list_state import ListTrends

if TYPE_CHECKING:  # annotations only: keeps the data layer out of the import path
    from noc_tui.analytics.list_state import DashboardState
    from noc_tui.store.poll_status import PollInfo


@dataclass
class ListLoaded(Message):
    """The carrier list for one window, with the dashboard state and poll status."""

    state: DashboardState
    window: str
    as_of_ms: int | None
    rows: list[dict[str, Any]]
    poll: PollInfo | None
    generation: int
    mark: tuple[Any, ...] | None = None  # the cache's data mark when the list was read
    alarms: list[Any] = field(default_factory=list)  # open alarms (store.alarms.Alarm)
    alarm_mark: int = 0  # the newest alarm's id
    trends: ListTrends = field(default_factory=ListTrends)  # the trend column's cells


@dataclass
class PartLoaded(Message):
    """One part of the carrier screen (head, contacts, rates, ...) for one carrier."""

    carrier_id: str
    part: str
    data: Any
    generation: int
    # Which read of the part this is: a read still running when a newer one was asked
    # (a prefix typed a digit at a time) must not show its older answer last.
    ticket: int = 0


@dataclass
class CallLoaded(Message):
    call_id: str
    ladder: list[dict[str, Any]]
    carrier_flags: dict[str, list[str]]


@dataclass
class PollProgressed(Message):
    phase: str
    done: int
    total: int | None
    taken: int
    quarantined: int


@dataclass
class PollFinished(Message):
    ok: bool
    message: str


@dataclass
class LoadFailed(Message):
    """A worker could not read the cache; shown once, the screen keeps its last data."""

    what: str
    error: str


@dataclass
class SearchDone(Message):
    """The matches of the search screen's `asked`-th search (analytics.search)."""

    asked: int
    result: Any


@dataclass
class AlarmsLoaded(Message):
    """The alarm screen's rows: open alarms, then past ones (store.alarms.Alarm), and
    the time of the stored trunk-group figures the trunk groups' alarms are judged on."""

    alarms: list[Any]
    inbound_as_of_ms: int | None = None


@dataclass
class AlarmAcked(Message):
    alarm_id: int
    subject: str
    done: bool  # False: it had cleared or been acknowledged meanwhile


@dataclass
class TrunkListLoaded(Message):
    """The trunk-group list for one window (analytics.inbound.trunk_group_list)."""

    window: str
    as_of_ms: int
    rows: list[dict[str, Any]]
    generation: int


@dataclass
class ChainLoaded(Message):
    """A delivery's attempts and why its chain went as it did (None: not in the cache)."""

    delivery_id: str
    chain: dict[str, Any] | None
