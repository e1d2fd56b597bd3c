"""The summary periods (live: 24 hours by the hour; daily: 31 days by the day; monthly:
12 months) and the span of buckets each covers, shared by the summary tables, the
carrier screen's chart and the trunk-group screen."""

from __future__ import annotations

import calendar

from noc_tui.records.timefmt import DAY_MS, HOUR_MS, ms_to_dt

PERIODS = ("live", "daily", "monthly")


def month_start(year: int, month: int) -> int:
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000


def period_range(period: str, now_ms: int) -> tuple[int, int]:
    """[start, end) of the buckets a summary period covers."""
    if period == "live":
        end = now_ms // HOUR_MS * HOUR_MS + HOUR_MS
        return end - 24 * HOUR_MS, end
    if period == "daily":
        end = now_ms // DAY_MS * DAY_MS + DAY_MS
        return end - 31 * DAY_MS, end
    if period == "monthly":
        now = ms_to_dt(now_ms)
        y, m = now.year, now.month
        end = month_start(y + (m == 12), m % 12 + 1)
        idx = y * 12 + (m - 1) - 11
        return month_start(idx // 12, idx % 12 + 1), end
    raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
