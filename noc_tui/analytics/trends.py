"""Trends: a carrier's attempts, ASR and failovers per hour (the live period, 24 hours)
or per day (the daily period, 31 days), every bucket of the period included, for the
carrier screen's chart; and every carrier's last 24 hours in a few cells, for the
carrier list's trend column. Read from the hourly rollups and the failover links
(both kept at ingest, by index), never from raw attempts.

The list's trends are also stored at each refresh of the standard windows, beside them
(table list_trends): the dashboard's start reads them in one statement instead of the
~50,000 rollup rows of 2,000 carriers (30-40 ms on the start-up's path).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

from noc_tui.analytics.list_state import ListTrends
from noc_tui.analytics.periods import period_range
from noc_tui.records.timefmt import DAY_MS, HOUR_MS

if TYPE_CHECKING:
    from noc_tui.store.cache import Cache

STEPS = {"live": HOUR_MS, "daily": DAY_MS}  # the periods a chart is drawn for
LIST_HOURS = 24
LIST_CELLS = 12  # the list's trend column: 24 hours in cells of 2 hours
# meta: the instant the stored list trends were computed at (they answer for it only).
STORED_NOW_KEY = "list_trends_now_ms"


@dataclass(frozen=True)
class Trend:
    """One value per bucket, oldest first; `asr` None where there were no attempts."""

    period: str  # live | daily
    step_ms: int
    starts: list[int]  # each bucket's start, epoch ms (UTC)
    attempts: list[int]
    asr: list[float | None]
    failovers: list[int]  # calls that failed on this carrier and connected elsewhere


def carrier_trend(cache: Cache, carrier_id: str, period: str, now_ms: int) -> Trend:
    """The period's buckets (period_range, as the summary table), each with its figures."""
    step = STEPS[period]
    start, end = period_range(period, now_ms)
    starts = list(range(start, end, step))
    got = {b: (a, c) for b, a, c in cache.conn.execute(
        f"SELECT hour / {step} * {step}, sum(attempts), sum(connected) FROM rollups "
        "WHERE carrier_id = ? AND hour >= ? AND hour < ? GROUP BY 1",
        (carrier_id, start, end))}
    # As every view as of an instant: a failover counts once its other attempt (the one
    # that connected) had started by now.
    fo = dict(cache.conn.execute(
        f"SELECT ts / {step} * {step}, count(*) FROM failovers "
        "WHERE carrier_id = ? AND ts >= ? AND ts < ? AND conn_ts < ? GROUP BY 1",
        (carrier_id, start, end, now_ms)))
    attempts = [int(got.get(b, (0, 0))[0]) for b in starts]
    asr = [(got[b][1] / got[b][0]) if got.get(b, (0, 0))[0] else None for b in starts]
    return Trend(period, step, starts, attempts, asr, [int(fo.get(b, 0)) for b in starts])


def list_trends(cache: Cache, now_ms: int, hours: int = LIST_HOURS,
                cells: int = LIST_CELLS) -> dict[str, list[tuple[int, int]]]:
    """Every carrier's (attempts, connected) in `cells` equal slices of the `hours`
    ending with the hour holding now, oldest first: one seek of the rollups' key per
    carrier (the carriers with attempts), not a scan."""
    return dict(_slices(cache, now_ms, hours, cells))


def _slices(cache: Cache, now_ms: int, hours: int = LIST_HOURS, cells: int = LIST_CELLS
            ) -> Iterator[tuple[str, list[tuple[int, int]]]]:
    """list_trends one carrier at a time, in id order (the rollups' key order)."""
    end = now_ms // HOUR_MS * HOUR_MS + HOUR_MS
    start = end - hours * HOUR_MS
    per = hours // cells * HOUR_MS
    rows = cache.conn.execute(
        "SELECT carrier_id, hour, attempts, connected FROM rollups WHERE carrier_id IN "
        "(SELECT id FROM attempt_carriers) AND hour >= ? AND hour < ? "
        "ORDER BY carrier_id, hour", (start, end))
    for cid, group in groupby(rows, key=lambda r: r[0]):
        row = [(0, 0)] * cells
        for _cid, hour, att, conn in group:
            i = (hour - start) // per
            a, c = row[i]
            row[i] = (a + att, c + conn)
        yield cid, row


def list_trend_rows(cache: Cache, now_ms: int) -> Iterator[tuple[str, str]]:
    """The rows to store in list_trends for now_ms: (carrier id, its cells as JSON),
    made one carrier at a time (the refresh's memory stays that of one row)."""
    for cid, row in _slices(cache, now_ms):
        yield cid, json.dumps(row, separators=(",", ":"))


def carrier_list_trends(cache: Cache, now_ms: int) -> ListTrends:
    """list_trends at now_ms: as stored by the refresh that computed them for this very
    instant (the stored windows' now), else computed."""
    if cache.meta(STORED_NOW_KEY) == str(now_ms):
        return ListTrends(text=dict(cache.conn.execute(
            "SELECT carrier_id, cells FROM list_trends")))
    return ListTrends(list_trends(cache, now_ms))
