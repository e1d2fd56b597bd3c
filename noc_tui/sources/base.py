"""The one interface every source of switch data offers the poller.

A source lists reference records (carriers, contacts, rates) and the attempts of a time
window as pages of JSON text in the record formats (docs/switch-api.md), whatever the
switch speaks underneath: the poller parses and stores pages without knowing where they
came from. A source fails with SourceError, classified into a few kinds an operator can
act on; it never stores anything itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

from pydantic_core import from_json

# Error kinds, as stored in poll_runs.error_kind and shown by the dashboard.
UNREACHABLE = "unreachable"
UNAUTHORISED = "unauthorised"
RATE_LIMITED = "rate-limited"
BAD_DATA = "bad-data"
SERVER_ERROR = "server-error"
CLIENT_ERROR = "client-error"  # another 4xx: usually a wrong URL (not an API v1 base)
CANCELLED = "cancelled"
TIMED_OUT = "timed-out"  # a request or the whole poll ran past its deadline
ERROR_KINDS = (UNREACHABLE, UNAUTHORISED, RATE_LIMITED, BAD_DATA, SERVER_ERROR,
               CLIENT_ERROR, CANCELLED, TIMED_OUT)


class SourceError(Exception):
    """A request to the switch failed for good (after any retries)."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass
class Deadline:
    """When a poll must be over (time.monotonic()), and the setting that says so, for
    the message when it is not. Set `at` when the clock starts."""

    at: float
    setting: str  # e.g. "poll.deadline = 15m"

    def left(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def error(self, doing: str) -> SourceError:
        return SourceError(TIMED_OUT, f"the poll ran past its deadline ({self.setting}) "
                                      f"while {doing}; what was stored is kept, the next "
                                      "poll resumes from there")


@dataclass(frozen=True)
class Page:
    """One page of records, as served. The body stays JSON text until the parser
    decodes it, in one pass, straight into its staging rows."""

    kind: str  # carriers | contacts | rates | attempts
    number: int  # 1, 2, ... within this listing
    # The whole page, {"items": [...], "next_cursor": ...}: JSON text, as characters or
    # as the UTF-8 bytes received (a page can be tens of MB: not copied into a str).
    body: str | bytes
    count: int  # len(items)
    next_cursor: str | None
    size_bytes: int  # decoded body size: what the page cost in transfer
    last_started_at: Any = None  # the last item's started_at, as served
    largest_item: int = 0  # bytes of its largest item's JSON text (0: not measured)

    @cached_property
    def items(self) -> list[Any]:
        return list(from_json(self.body)["items"])



@dataclass(frozen=True)
class Destination:
    """One of a carrier's destinations (gateways) with its live routing state, from a
    switch that reports it (Kamailio's dispatcher.list)."""

    carrier_id: str
    uri: str
    set_id: int
    priority: int
    state: str  # active | inactive | trying | disabled
    probing: bool  # the switch probes it (OPTIONS) to bring it back


class Source(Protocol):
    """A switch as the poller sees it. Used as a context manager, one per poll."""

    requests_made: int  # requests sent to the switch (tests prove no retry storm)

    @property
    def display_url(self) -> str:
        """Where the records come from, with any secret removed."""
        ...

    def carriers(self) -> Iterator[Page]: ...

    def contacts(self) -> Iterator[Page]: ...

    def rates(self) -> Iterator[Page]: ...

    def attempts(self, since_ms: int, until_ms: int) -> Iterator[Page]:
        """Attempts with since <= started_at < until, in (started_at, call_id, seq)
        order."""
        ...

    def close(self) -> None: ...

    # A source may also offer `destinations() -> list[Destination] | None`: the live
    # routing state of every carrier destination (None: the switch was not asked).

    # A source whose switch may leave failed attempts out of what it serves (a ConnexCS
    # CDR) also offers `failures_recorded: bool | None`, read after its attempts: False
    # when they held connected calls and no failure, so that failure-based figures are
    # unknown rather than perfect; True when failures were there; None: cannot tell.

    def __enter__(self) -> Source: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class InboundSource(Protocol):
    """A source that also lists the inbound records (issue 15): trunk groups, DIDs, and
    the registration events and delivery attempts of a time window. A source without
    them is polled for the carrier side only."""

    def trunk_groups(self) -> Iterator[Page]: ...

    def dids(self) -> Iterator[Page]: ...

    def registrations(self, since_ms: int, until_ms: int) -> Iterator[Page]:
        """Registration events with since <= at < until, in (at, trunk_group_id, edge,
        event) order."""
        ...

    def deliveries(self, since_ms: int, until_ms: int) -> Iterator[Page]:
        """The attempts of the deliveries whose first attempt started in [since, until),
        in (first attempt's started_at, delivery_id, seq) order."""
        ...
