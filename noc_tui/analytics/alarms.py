"""Judging alarms: which thresholds each carrier is across, over the configured window
of the stored figures, recorded in the cache as crossings (store/alarms.py).

Run after every refresh of the stored windows (a poll, an import): the figures are
the ones the carrier list shows for that window, at the same time, so what fires is
what the operator sees. A trunk group's alarms are another subject kind beside the
carriers' ("trunk group"), recorded the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noc_tui.analytics.inbound import stored_trunk_rows
from noc_tui.analytics.metrics import stored_rows
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


def trunk_group_alarms(row: dict[str, Any], al: AlarmSettings) -> dict[str, str]:
    """Alarm kind -> reason in words, for every threshold a trunk group's row of the
    trunk-group list is across."""
    out: dict[str, str] = {}
    registered = row.get("registered") or {}
    if al.trunk_unregistered and registered and not any(registered.values()):
        out["unregistered"] = f"registered on no edge ({', '.join(registered)})"
    lost = row.get("lost") or 0
    if lost >= al.trunk_lost_deliveries:
        out["lost_deliveries"] = (f"{lost} deliveries lost (alarm at "
                                  f"{al.trunk_lost_deliveries})")
    rate = row.get("first_try_rate")
    counted = (row.get("offered") or 0) - (row.get("abandoned") or 0)
    if rate is not None and counted >= al.trunk_first_try_min_offered \
            and rate < al.trunk_first_try_floor:
        out["first_try_floor"] = (f"first try {rate:.0%} of {counted} deliveries, below the "
                                  f"floor of {al.trunk_first_try_floor:.0%}")
    return out


def judge_alarms(cache: Cache, al: AlarmSettings) -> AlarmChanges:
    """Record the carriers' and the trunk groups' crossings at the stored figures' time;
    nothing for a side whose figures are not stored yet."""
    changes = AlarmChanges()
    window_s = WINDOWS[al.window]
    for kind, stored, judge in (("carrier", stored_rows(cache, window_s), alarms),
                                ("trunk group", stored_trunk_rows(cache, window_s),
                                 trunk_group_alarms)):
        if stored is None:
            continue
        at, rows = stored
        across: dict[tuple[str, str], str] = {}
        names: dict[str, str | None] = {}
        # A row at a time, the names of the subjects across only: the whole list of
        # 50,000 carriers (or trunk groups) took a poll past its 150 MB.
        for r in rows:
            for k, why in judge(r, al).items():
                across[(r["id"], k)] = why
                names[r["id"]] = r.get("name")
        with cache.transaction() as conn:
            raised, cleared = record(conn, kind, across, names, al.window, at)
        changes.raised += raised
        changes.cleared += cleared
    return changes
