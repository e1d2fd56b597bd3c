"""Pruning the inbound side (store/retention.py) in real SQLite caches: the demo switch's
deliveries and registration events of three weeks, one cache pruned to a week, the other
not. Every figure of a kept window, the findings and the registration state as of any
instant from the horizon on are those of the unpruned cache; the rollups (and the
per-group counts they carry) are untouched; whatever is ingested again does not come
back nor count twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics import inbound
from noc_tui.config import MetricSettings
from noc_tui.demo_switch.inbound import InboundSimulator
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, iso_to_ms, ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.store.retention import prune

START = iso_to_ms("2026-11-04T12:00:00Z")
KEEP_MS = 7 * DAY_MS
SPAN_MS = 21 * DAY_MS
WINDOWS_S = (3600, 86400, 7 * 86400)


def _records() -> dict[str, list[dict[str, Any]]]:
    sim = InboundSimulator(11, START - 35 * DAY_MS, 0.6, lambda: START)
    since = START - SPAN_MS
    recs = {
        "trunk_groups": sim.trunk_groups(), "dids": sim.dids(),
        "registrations": [sim.event_record(e)
                          for e in sim.registration_events(since, START, START)[0]],
        "deliveries": [a for _k, a in sim.deliveries_page(since, START, START)[0]],
    }
    # A delivery that straddles the horizon (the prune's, derived below): kept whole.
    newest = max(iso_to_ms(a["started_at"]) for a in recs["deliveries"])
    horizon = (newest - KEEP_MS) // HOUR_MS * HOUR_MS
    base = {"trunk_group_id": "acme", "did": "442079460302", "caller": None,
            "target": None, "edge": "trunk1", "number_source": None, "first_1xx_ms": None,
            "duration_s": 0, "cancelled": False}
    recs["deliveries"] += [
        {**base, "delivery_id": "straddler", "seq": 1, "started_at": ms_to_iso(horizon - 1),
         "target_kind": "primary_pbx", "sent": False, "sip_code": 404,
         "sip_reason": "Not registered"},
        {**base, "delivery_id": "straddler", "seq": 2, "started_at": ms_to_iso(horizon + 5),
         "target_kind": "backup_pbx", "target": "sip:b@x.example", "edge": None,
         "sent": True, "first_1xx_ms": 90, "sip_code": 200, "sip_reason": "OK",
         "duration_s": 30.5}]
    return recs


RECORDS = _records()


def _fill(path: Path) -> Path:
    with Cache(path) as cache:
        for kind, recs in RECORDS.items():
            report = cache.ingest(kind, recs)
            assert report.rejected == 0 and report.taken == len(recs), (kind, report)
    return path


def _rows(cache: Cache, sql: str) -> list[tuple[Any, ...]]:
    return sorted(cache.conn.execute(sql).fetchall())


def _figures(cache: Cache, now: int) -> dict[str, Any]:
    gs = inbound.groups(cache)
    return {
        "trunks": {w: inbound.trunk_groups(cache, now, w) for w in WINDOWS_S},
        "findings": {w: inbound.findings(cache, now, w) for w in WINDOWS_S},
        "deliveries": {w: [inbound.delivery_list(cache, g.id, now, w) for g in gs]
                       for w in WINDOWS_S},
        "registration": {t: inbound.registration(cache, gs, t, 3600)
                         for t in (now - KEEP_MS + HOUR_MS, now - DAY_MS, now)},
    }


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    folder = tmp_path_factory.mktemp("prune-inbound")
    full, pruned = _fill(folder / "full.db"), _fill(folder / "pruned.db")
    with Cache(pruned) as cache:
        report = prune(cache, START, KEEP_MS)
    return full, pruned, report


def test_whole_old_deliveries_go_the_rest_stays(caches: tuple[Path, Path, Any]) -> None:
    full, pruned, report = caches
    horizon = report.horizon_ms
    with Cache(full, readonly=True) as a, Cache(pruned, readonly=True) as b:
        last = a.conn.execute("SELECT delivery_id, max(ts) FROM delivery_attempts "
                              "GROUP BY 1").fetchall()
        kept = {d for d, ts in last if ts >= horizon}
        assert "straddler" in kept and len(kept) < len(last)
        assert report.deliveries == len(last) - len(kept) > 1000
        attempts_a = [r for r in _rows(a, "SELECT * FROM delivery_attempts") if r[0] in kept]
        assert _rows(b, "SELECT * FROM delivery_attempts") == attempts_a
        assert report.delivery_attempts == a.conn.execute(
            "SELECT count(*) FROM delivery_attempts").fetchone()[0] - len(attempts_a)
        assert _rows(b, "SELECT * FROM deliveries") == [
            r for r in _rows(a, "SELECT * FROM deliveries") if r[0] in kept]
        # The summaries the figures are read from stay whole (13 months of rollups).
        for table in ("inbound_rollups", "inbound_groups", "trunk_groups", "dids"):
            assert _rows(b, f"SELECT * FROM {table}") == _rows(a, f"SELECT * FROM {table}")
        assert report.inbound_rollups == 0


def test_registration_keeps_each_edges_latest_event_before_the_horizon(
        caches: tuple[Path, Path, Any]) -> None:
    full, pruned, report = caches
    horizon = report.horizon_ms
    with Cache(full, readonly=True) as a, Cache(pruned, readonly=True) as b:
        events = _rows(a, "SELECT * FROM registrations")
        latest: dict[tuple[str, str], int] = {}
        for gid, edge, at, *_ in events:
            if at < horizon:
                latest[(gid, edge)] = max(at, latest.get((gid, edge), at))
        want = [e for e in events if e[2] >= horizon or e[2] == latest[(e[0], e[1])]]
        assert _rows(b, "SELECT * FROM registrations") == want
        assert report.registrations == len(events) - len(want) > 1000


def test_every_kept_figure_is_the_unpruned_caches(caches: tuple[Path, Path, Any]) -> None:
    full, pruned, _report = caches
    with Cache(full, readonly=True) as a, Cache(pruned, readonly=True) as b:
        assert _figures(b, START) == _figures(a, START)


def test_ingested_again_nothing_comes_back_and_pruning_again_prunes_nothing(
        caches: tuple[Path, Path, Any], tmp_path: Path) -> None:
    full, pruned, _report = caches
    copy = tmp_path / "again.db"
    with Cache(pruned, readonly=True) as src, Cache(copy) as dst:
        src.conn.backup(dst.conn)
    with Cache(copy) as cache:
        before = {t: _rows(cache, f"SELECT * FROM {t}") for t in (
            "delivery_attempts", "deliveries", "inbound_rollups", "inbound_groups")}
        report = cache.ingest("deliveries", RECORDS["deliveries"])
        assert report.rejected == 0 and report.closed > 1000 and report.taken == len(
            before["delivery_attempts"])
        for table, rows in before.items():
            assert _rows(cache, f"SELECT * FROM {table}") == rows, table
        again = prune(cache, START, KEEP_MS)
        assert (again.deliveries, again.delivery_attempts, again.registrations) == (0, 0, 0)
    with Cache(full, readonly=True) as a, Cache(copy, readonly=True) as b:
        assert _figures(b, START) == _figures(a, START)


def test_an_inbound_only_cache_follows_its_newest_delivery_and_old_rollups_go(
        tmp_path: Path) -> None:
    """No carrier attempt: the horizon follows the newest delivery, not the clock (an
    archive keeps its last week); rollups older than 13 months go, with the group's
    count of deliveries they held."""
    old, new = START - 420 * DAY_MS, START

    def delivery(d: str, ts: int) -> dict[str, Any]:
        return {"delivery_id": d, "seq": 1, "trunk_group_id": "g", "did": "4420",
                "started_at": ms_to_iso(ts), "target_kind": "primary_pbx", "sent": True,
                "sip_code": 200, "duration_s": 9, "cancelled": False}

    with Cache(tmp_path / "c.db") as cache:
        cache.ingest("deliveries", [delivery("old", old), delivery("new", new),
                                    delivery("week", new - 6 * DAY_MS)])
        report = prune(cache, START + 300 * DAY_MS, KEEP_MS)
        assert report.horizon_ms == (new - KEEP_MS) // HOUR_MS * HOUR_MS
        assert (report.deliveries, report.inbound_rollups) == (1, 1)
        q = cache.conn.execute
        assert [r[0] for r in q("SELECT delivery_id FROM deliveries ORDER BY 1")] == [
            "new", "week"]
        assert q("SELECT deliveries FROM inbound_groups WHERE id = 'g'").fetchone() == (2,)
        assert q("SELECT sum(offered) FROM inbound_rollups").fetchone() == (2,)
        assert [g["offered"] for g in inbound.trunk_groups(cache, new + 1, 7 * 86400)] == [2]


def test_a_new_ner_set_re_derives_the_kept_deliveries_and_leaves_closed_hours(
        caches: tuple[Path, Path, Any], tmp_path: Path) -> None:
    full, pruned, report = caches
    horizon = report.horizon_ms
    copies = {}
    for name, src_path in (("full", full), ("pruned", pruned)):
        copies[name] = tmp_path / f"{name}.db"
        with Cache(src_path, readonly=True) as src, Cache(copies[name]) as dst:
            src.conn.backup(dst.conn)
    with Cache(pruned, readonly=True) as before:
        closed = [r for r in _rows(before, "SELECT * FROM inbound_rollups") if r[1] < horizon
                  and r[0] != "acme"]  # acme's closed hour holds the straddler
        old_rows = _rows(before, "SELECT * FROM deliveries")
    ner = MetricSettings(ner_codes=["200-299", 486])  # 480 and 603 now lose a delivery
    with Cache(copies["full"], ner) as a, Cache(copies["pruned"], ner) as b:
        kept = {r[0] for r in b.conn.execute("SELECT delivery_id FROM deliveries")}
        rows_a = [r for r in _rows(a, "SELECT * FROM deliveries") if r[0] in kept]
        assert _rows(b, "SELECT * FROM deliveries") == rows_a
        assert rows_a != old_rows  # refused moved: the test tells the sets apart
        assert [r for r in _rows(b, "SELECT * FROM inbound_rollups")
                if r[1] < horizon and r[0] != "acme"] == closed
        for w in WINDOWS_S:
            assert inbound.trunk_groups(b, START, w) == inbound.trunk_groups(a, START, w)
        assert _rows(b, "SELECT * FROM inbound_groups") == _rows(
            b, "SELECT trunk_group_id, sum(offered) FROM inbound_rollups GROUP BY 1")
