"""Trends: a carrier's attempts, ASR and failovers per hour (the live period, 24 hours)
or per day (the daily period, 31 days), every bucket of the period included, for the
carrier screen's chart; and every carrier's last 24 hours in a few cells, for the
carrier list's trend column. Read from the hourly rollups and the failover links
(both kept at ingest, by index), never from raw attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from noc_tui.analytics.metrics import period_range
from noc_tui.records.timefmt import DAY_MS, HOUR_MS

if TYPE_CHECKING:
    from noc_tui.store.cache import Cache

STEPS = {"live": HOUR_MS, "daily": DAY_MS}  # the periods a chart is drawn for
LIST_HOURS = 24
LIST_CELLS = 12  # the list's trend column: 24 hours in cells of 2 hours


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
    end = now_ms // HOUR_MS * HOUR_MS + HOUR_MS
    start = end - hours * HOUR_MS
    per = hours // cells * HOUR_MS
    out: dict[str, list[tuple[int, int]]] = {}
    for cid, hour, att, conn in cache.conn.execute(
            "SELECT carrier_id, hour, attempts, connected FROM rollups WHERE carrier_id IN "
            "(SELECT id FROM attempt_carriers) AND hour >= ? AND hour < ?", (start, end)):
        row = out.get(cid)
        if row is None:
            row = out[cid] = [(0, 0)] * cells
        i = (hour - start) // per
        a, c = row[i]
        row[i] = (a + att, c + conn)
    return out
