"""Judging alarms: which thresholds each carrier is across, over the configured window
of the stored figures, recorded in the cache as crossings (store/alarms.py).

Run after every refresh of the stored windows (a poll, an import): the figures are
the ones the carrier list shows for that window, at the same time, so what fires is
what the operator sees. A trunk group's alarms are another subject kind beside the
carriers' ("trunk group"), recorded the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from noc_tui.analytics.metrics import stored_metrics
from noc_tui.analytics.views import WINDOWS, alarms
from noc_tui.store.alarms import Alarm, record

if TYPE_CHECKING:
    from noc_tui.config import AlarmSettings
    from noc_tui.store.cache import Cache


@dataclass
class AlarmChanges:
    raised: list[Alarm] = field(default_factory=list)
    cleared: list[Alarm] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.raised or self.cleared)


def judge_alarms(cache: Cache, al: AlarmSettings) -> AlarmChanges:
    """Record the carriers' crossings at the stored figures' time; nothing when no
    figures are stored yet."""
    stored = stored_metrics(cache, WINDOWS[al.window])
    if stored is None:
        return AlarmChanges()
    at, rows = stored
    across = {(r["id"], kind): why for r in rows for kind, why in alarms(r, al).items()}
    names = {r["id"]: r.get("name") for r in rows}
    with cache.transaction() as conn:
        raised, cleared = record(conn, "carrier", across, names, al.window, at)
    return AlarmChanges(raised, cleared)
