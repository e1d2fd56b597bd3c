"""The dashboard's startup state: a cache with records of either side is not empty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics.views import dashboard_state, list_snapshot
from noc_tui.config import Settings
from noc_tui.store.cache import Cache

NOW = 1_793_620_800_000  # 2026-11-02T12:00:00Z

GROUP = {"id": "acme", "name": "Acme", "policy": "backup_then_number"}
INBOUND: dict[str, dict[str, Any]] = {
    "trunk_groups": GROUP,
    "dids": {"did": "442071230000", "trunk_group_id": "acme"},
    "registrations": {"trunk_group_id": "acme", "edge": "trunk1",
                      "at": "2026-11-02T11:00:00Z", "event": "registered"},
    "deliveries": {"delivery_id": "in-1", "seq": 1, "trunk_group_id": "acme",
                   "did": "442071230000", "started_at": "2026-11-02T11:30:00Z",
                   "target_kind": "primary_pbx", "sent": True, "sip_code": 200,
                   "duration_s": 12.5, "cancelled": False},
}


def _cache(path: Path, kind: str | None) -> Path:
    with Cache(path) as cache:
        if kind is not None:
            report = cache.ingest(kind, [INBOUND[kind]])
            assert report.taken == 1 and report.rejected == 0, report
    return path


def test_a_new_cache_is_empty(tmp_path: Path) -> None:
    path = _cache(tmp_path / "cache.db", None)
    state = dashboard_state(path, Settings(), None)
    assert state.kind == "empty" and "is empty" in state.message


@pytest.mark.parametrize("kind", list(INBOUND))
def test_a_cache_of_inbound_records_only_is_not_empty(tmp_path: Path, kind: str) -> None:
    path = _cache(tmp_path / "cache.db", kind)
    assert dashboard_state(path, Settings(), None).kind == "ready"
    with Cache(path, readonly=True) as cache:
        assert dashboard_state(path, Settings(), None, cache).kind == "ready"
    # The carrier list reads it without error: no carriers, nothing to warn about.
    snap = list_snapshot(path, Settings(), None, "24h", NOW)
    assert snap.state.kind == "ready" and snap.error is None and snap.rows == []
