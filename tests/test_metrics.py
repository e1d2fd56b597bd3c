"""Figures kept at ingest agree with the same figures computed live."""

from __future__ import annotations

from pathlib import Path

from noc_tui import metrics
from noc_tui.cache import Cache
from noc_tui.timefmt import iso_to_ms
from tests.sample_data import ATTEMPTS, CARRIERS, NOW, attempt


def test_stored_windows_equal_live_computation(tmp_path: Path) -> None:
    now = iso_to_ms(NOW)
    extra = [
        # B answers 404 for a number A connects, and connects one nobody else has.
        attempt("d1", 1, "A", "2026-11-01T11:00:00Z", 200, 30, dst="449999"),
        attempt("d2", 1, "B", "2026-11-01T11:05:00Z", 404, dst="449999"),
        attempt("d3", 1, "A", "2026-11-01T11:10:00Z", 404, dst="448888"),
        attempt("d4", 1, "B", "2026-11-01T11:15:00Z", 200, 12, dst="448888"),
    ]
    with Cache(tmp_path / "c.db") as cache:
        cache.ingest("carriers", CARRIERS)
        cache.ingest("attempts", ATTEMPTS + extra)
        metrics.refresh_standard_windows(cache, now)
        for window in metrics.STANDARD_WINDOWS:
            stored_now, rows = metrics.stored_metrics(cache, window)
            assert stored_now == now
            assert rows == metrics.carrier_metrics(cache, now, window)
            for cid in ("A", "B"):
                kept = metrics.stored_inconsistent_numbers(cache, cid, window)
                assert kept == metrics.inconsistent_numbers(cache, cid, now, window)
        b = metrics.stored_inconsistent_numbers(cache, "B", 86400)
        assert b is not None
        assert [(n.dst, n.verdict) for n in b] == [("448888", "missing"), ("449999", "exists")]
        assert metrics.stored_inconsistent_numbers(cache, "B", 6 * 3600) is None
