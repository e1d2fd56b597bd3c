"""The inbound part of a poll (issue 15): trunk groups, DIDs, then the registration
events and the deliveries of the poll's window, each listing stored page by page.

A switch that does not serve them (an older API v1 switch answers 404 for the first
request of a listing), or a source that has no such listings, is polled for the carrier
side only: the poll notes what it skipped and why, and does not fail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from noc_tui.sources.base import CANCELLED, InboundSource, Page, Source, SourceError

if TYPE_CHECKING:
    from noc_tui.store.cache import Cache
    from noc_tui.store.inbound import InboundIngest
    from noc_tui.store.report import IngestReport

NOT_FOUND = 404


class Run(Protocol):
    """What this module needs of the poller's run (sync.poller._Run)."""

    cache: Cache

    def store_page(self, page: Page, ingest: InboundIngest | None = None) -> None: ...

    def record(self, kind: str, report: IngestReport, progress_ms: int | None = None
               ) -> None: ...

    def progress(self, phase: str, done: int, total: int | None,
                 fraction: float | None = None) -> None: ...


def poll_inbound(run: Run, client: Source, since: int, until: int,
                 cancel: threading.Event) -> list[str]:
    """Fetch and store the inbound listings; the notes of what was skipped."""
    if not isinstance(client, InboundSource):
        return ["inbound skipped: this kind of source offers no inbound records"]
    inbound: InboundSource = client
    listings: list[tuple[str, Callable[[], Iterator[Page]]]] = [
        ("trunk_groups", inbound.trunk_groups), ("dids", inbound.dids)]
    if since < until:
        listings += [("registrations", lambda: inbound.registrations(since, until)),
                     ("deliveries", lambda: inbound.deliveries(since, until))]
    notes = []
    for kind, listing in listings:
        ingest = run.cache.inbound_ingest(kind)
        assert ingest is not None
        done = pages = 0
        try:
            for page in listing():
                run.store_page(page, ingest=ingest)
                pages += 1
                done += page.count
                run.progress(kind, done, done if page.next_cursor is None else None)
                if cancel.is_set():
                    raise SourceError(CANCELLED, "cancelled")
        except SourceError as exc:
            if exc.status != NOT_FOUND or pages:
                raise
            # Not served: an older switch. The rest is skipped if it has none at all.
            if kind == "trunk_groups":
                return [f"inbound skipped: the switch does not serve /{kind} (HTTP 404); "
                        "it predates the inbound records of API v1"]
            notes.append(f"inbound {kind} skipped: the switch does not serve /{kind} "
                         "(HTTP 404)")
        finally:
            # What is still held (a delivery missing an attempt) is rejected now.
            run.record(kind, ingest.finish())
    return notes
