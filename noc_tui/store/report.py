"""What an ingest did with a batch of records: taken, rejected (with place and reason),
unchanged. Shared by the carrier side's ingest (cache.py) and the inbound one
(inbound.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from noc_tui.records.formats import Rejection


@dataclass
class IngestReport:
    kind: str
    taken: int = 0
    rejected: int = 0
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    # Valid attempts not taken: they start before the horizon (HORIZON_KEY), in hours
    # whose figures are closed, and are not cached already.
    closed: int = 0

    def merge(self, other: IngestReport) -> None:
        self.taken += other.taken
        self.rejected += other.rejected
        self.unchanged += other.unchanged
        self.closed += other.closed
        self.rejections.extend(other.rejections)
