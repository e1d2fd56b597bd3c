"""Figures kept at ingest agree with the same figures computed live."""

from __future__ import annotations

import json
import math
from pathlib import Path

from noc_tui.analytics import metrics
from noc_tui.records.timefmt import iso_to_ms, ms_to_iso
from noc_tui.store.cache import Cache
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


def test_refresh_pass_matches_live_at_scale_and_caps_numbers(tmp_path: Path) -> None:
    import random

    rng = random.Random(5)
    now = iso_to_ms(NOW)
    recs = []
    for i in range(3000):
        dst = f"44{rng.randrange(900):04d}"
        at = ms_to_iso(now - rng.randrange(1, 6 * 86400) * 1000)  # the 6 days before now
        carrier = rng.choice("XYZ")
        code = rng.choice((200, 200, 404, 486, 503))
        recs.append(attempt(f"r{i}", 1, carrier, at, code, 20 if code == 200 else 0, dst=dst))
    # X answers 404 for 700 numbers that Y connects: more than the 500 kept.
    for i in range(700):
        recs.append(attempt(f"x{i}", 1, "X", "2026-11-01T11:00:00Z", 404, dst=f"55{i:04d}"))
        recs.append(attempt(f"y{i}", 1, "Y", "2026-11-01T11:01:00Z", 200, 9, dst=f"55{i:04d}"))
    with Cache(tmp_path / "c.db") as cache:
        assert cache.ingest("attempts", recs).rejected == 0
        metrics.refresh_standard_windows(cache, now)
        for window in metrics.STANDARD_WINDOWS:
            assert metrics.stored_metrics(cache, window)[1] == metrics.carrier_metrics(
                cache, now, window)
            for cid in "XYZ":
                kept = metrics.stored_inconsistent_numbers(cache, cid, window)
                assert kept == metrics.inconsistent_numbers(cache, cid, now, window)
        x = metrics.stored_inconsistent_numbers(cache, "X", 86400)
        assert x is not None and len(x) == metrics.NUMBERS_PER_CARRIER


def test_code_consistency_of_each_kind_of_number(tmp_path: Path) -> None:
    """The definition's cases, one number each, through the cache (live and stored)."""
    now = iso_to_ms(NOW)
    at = "2026-11-01T11:30:00Z"
    recs = [
        # 111: only C1 answered it, with 200 and 404: comparable and inconsistent.
        attempt("1", 1, "C1", at, 200, 30, dst="111"), attempt("2", 1, "C1", at, 404, dst="111"),
        # 222: C1 200, the others only 404 (missing): inconsistent, answers unallocated.
        attempt("3", 1, "C1", at, 200, 30, dst="222"), attempt("4", 1, "C2", at, 404, dst="222"),
        # 333: C1 404, the others 200 and 404: no verdict, not comparable for C1.
        attempt("5", 1, "C1", at, 404, dst="333"), attempt("6", 1, "C2", at, 200, 9, dst="333"),
        attempt("7", 1, "C3", at, 404, dst="333"),
        # 444: C1 200, the others 200 (exists): consistent.
        attempt("8", 1, "C1", at, 200, 30, dst="444"), attempt("9", 1, "C3", at, 200, 9, dst="444"),
        # 555: only C3 answered it, only 200: not comparable.
        attempt("10", 1, "C3", at, 200, 9, dst="555"),
    ]
    with Cache(tmp_path / "c.db") as cache:
        assert cache.ingest("attempts", recs).rejected == 0
        metrics.refresh_standard_windows(cache, now)
        live = {r["id"]: r for r in metrics.carrier_metrics(cache, now, 3600)}
        assert metrics.stored_metrics(cache, 3600)[1] == list(live.values())
        assert live["C1"]["code_consistency"] == 1 - 2 / 3  # 111, 222 of 111, 222, 444
        # C2: 222 (404, others 200: exists) and 333 (200, others 404 only: missing).
        assert live["C2"]["code_consistency"] == 0.0
        assert live["C3"]["code_consistency"] == 1.0  # 444 only: 333 has no verdict
        numbers = metrics.inconsistent_numbers(cache, "C1", now, 3600)
        assert [(n.dst, n.verdict, n.ok, n.not_found) for n in numbers] == [
            ("111", "none", True, True), ("222", "missing", True, False)]
        assert metrics.stored_inconsistent_numbers(cache, "C1", 3600) == numbers


def test_a_stored_row_reads_back_whatever_json_dumps_wrote(tmp_path: Path) -> None:
    # Rows are stored with json.dumps and read with msgspec, which takes neither NaN nor
    # integers past 64 bits: those rows still read, through json.
    now = iso_to_ms(NOW)
    with Cache(tmp_path / "c.db") as cache:
        cache.ingest("carriers", CARRIERS)
        cache.ingest("attempts", ATTEMPTS)
        metrics.refresh_standard_windows(cache, now)
        _, rows = metrics.stored_metrics(cache, 3600)
        by_id = {r["id"]: r for r in rows}
        odd = {"A": {**by_id["A"], "attempts": 2**64 + 1},
               "B": {**by_id["B"], "acd_s": float("nan")}}
        with cache.transaction() as conn:
            for cid, row in odd.items():
                conn.execute("UPDATE window_metrics SET data = ? WHERE carrier_id = ? "
                             "AND window_s = 3600", (json.dumps(row), cid))
        _, again = metrics.stored_metrics(cache, 3600)
    by_id = {r["id"]: r for r in again}
    assert by_id["A"]["attempts"] == 2**64 + 1
    assert math.isnan(by_id["B"]["acd_s"]) and by_id["B"]["name"] == odd["B"]["name"]
    assert len(again) == len(rows) and {r["id"] for r in again} == {r["id"] for r in rows}
    # The rows share their key objects (what the start-up child pickles once).
    first, second = rows[0], rows[1]
    assert len(rows) >= 2 and all(a is b for a, b in zip(first, second, strict=True))
