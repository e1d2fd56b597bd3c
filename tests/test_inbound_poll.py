"""Polling the inbound records of API v1 (issue 15, sections 1 and 3) from a real HTTP
server on loopback: paged listings, the since/until windows, a delivery split across
pages, quarantine of bad records, and a switch that does not serve them (404)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from noc_tui.analytics import inbound
from noc_tui.config import Settings
from noc_tui.records.timefmt import HOUR_MS, iso_to_ms, ms_to_iso, now_ms
from noc_tui.store.cache import Cache
from noc_tui.sync.poller import Poller
from tests.inbound_data import att, did, group, reg

T = (now_ms() - 3 * HOUR_MS) // 1000 * 1000  # records in the past: a poll stops at now


def _at(offset_s: float) -> str:
    return ms_to_iso(T + int(offset_s * 1000))


class InboundSwitch:
    """A minimal API v1 switch: no carrier data, the inbound listings paged by index.
    `missing`: the listings it answers 404 for (an older switch)."""

    def __init__(self, missing: tuple[str, ...] = ()) -> None:
        self.missing = missing
        self.requests: list[str] = []
        self.groups = [group("g1", "backup_then_number", backup_pbx="pbx.b",
                             global_failover_number="999"),
                       group("g2", "dial_plan_on_triggers", dial_plan="ivr")]
        self.dids = [did("100", "g1", failover_number="555"), did("101", "g1"),
                     did("200", "g2")]
        self.regs = [reg("g1", "trunk1", _at(0), expires_s=86_400),
                     reg("g1", "trunk2", _at(10), "rejected"),
                     reg("g2", "trunk1", _at(-7200))]  # before the window
        self.deliveries = [
            # d1 spans three pages of two; its last attempt starts an hour later
            att("d1", 1, 404, gid="g1", at=_at(60), sent=False),
            att("d1", 2, 503, "backup_pbx", gid="g1", at=_at(61)),
            att("d1", 3, 200, "failover_number", gid="g1", at=_at(3700), target="555"),
            att("d2", 1, 408, gid="g2", number="200", at=_at(120)),
            att("d2", 2, 200, "dial_plan", gid="g2", number="200", at=_at(135)),
            att("old", 1, 200, gid="g1", at=_at(-7200)),  # before the window
        ]

    def start(self) -> InboundSwitch:
        switch = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                kind = url.path.removeprefix("/api/v1/")
                switch.requests.append(kind)
                status, body = switch.answer(kind, q)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def answer(self, kind: str, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if kind in ("carriers", "contacts"):
            return 200, {"items": []}
        if kind in ("rates", "attempts"):
            return 200, {"items": [], "next_cursor": None}
        if kind in self.missing or kind not in ("trunk_groups", "dids", "registrations",
                                                "deliveries"):
            return 404, {"error": f"no such endpoint: /api/v1/{kind}"}
        items: list[dict[str, Any]]
        if kind == "trunk_groups":
            items = self.groups
        elif kind == "dids":
            items = self.dids
        elif kind == "registrations":
            lo, hi = iso_to_ms(q["since"]), iso_to_ms(q["until"])
            items = sorted((r for r in self.regs if lo <= iso_to_ms(r["at"]) < hi),
                           key=lambda r: (iso_to_ms(r["at"]), r["trunk_group_id"], r["edge"]))
        else:
            lo, hi = iso_to_ms(q["since"]), iso_to_ms(q["until"])
            first = {a["delivery_id"]: iso_to_ms(a["started_at"])
                     for a in self.deliveries if a["seq"] == 1}
            items = sorted((a for a in self.deliveries
                            if lo <= first.get(a["delivery_id"], 0) < hi),
                           key=lambda a: (first[a["delivery_id"]], a["delivery_id"], a["seq"]))
        start = int(q.get("cursor", 0))
        limit = int(q.get("limit", 5000))
        page = items[start:start + limit]
        nxt = str(start + limit) if start + limit < len(items) else None
        return 200, {"items": page, "next_cursor": nxt}


@pytest.fixture
def switch() -> Iterator[InboundSwitch]:
    sw = InboundSwitch().start()
    yield sw
    sw.stop()


def _poll(url: str, path: Path, since: int = T - HOUR_MS, until: int = T + 2 * HOUR_MS,
          ) -> Any:
    settings = Settings(source={"url": url, "page_limit": 2, "retries": 0})
    return Poller(settings, path).poll_once(since_ms=since, until_ms=until)


def test_a_poll_fetches_the_inbound_listings(switch: InboundSwitch, tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    result = _poll(switch.url, path)
    assert result.ok and result.notes == () and result.quarantined == 0, result
    # 2 groups, 3 DIDs, 2 registrations and 5 attempts in the window, pages of two
    assert result.taken == 12
    assert switch.requests.count("deliveries") == 3
    with Cache(path, readonly=True) as cache:
        rows = {r["delivery_id"]: r for r in inbound.delivery_list(cache, "g1", T + 3 * HOUR_MS,
                                                                    86_400)}
        assert list(rows) == ["d1"]  # "old" started before the window: not fetched
        assert (rows["d1"]["attempts"], rows["d1"]["outcome"], rows["d1"]["via"]) == (
            3, "answered_failover", "failover_number")
        stored = inbound.trunk_group_list(cache, 86_400, 0)
        assert stored[2] and [r["id"] for r in stored[1]] == ["g1", "g2"]
        g1 = stored[1][0]
        assert g1["registered"] == {"trunk1": True, "trunk2": False}
        assert g1["findings"] == ["F4"]
    # Again over the same window: nothing changes, the overlap is idempotent.
    again = _poll(switch.url, path)
    assert again.ok and again.taken == 12 and again.quarantined == 0
    with Cache(path, readonly=True) as cache:
        assert cache.conn.execute("SELECT count(*) FROM delivery_attempts").fetchone() == (5,)


def test_bad_records_are_quarantined_with_place_and_reason(switch: InboundSwitch,
                                                           tmp_path: Path) -> None:
    switch.deliveries += [att("gap", 1, 486, gid="g1", at=_at(200)),
                          {**att("bad", 1, 200, gid="g1", at=_at(300)), "sent": 1},
                          att("gap", 3, 486, "backup_pbx", gid="g1", at=_at(201))]
    path = tmp_path / "c.db"
    result = _poll(switch.url, path)
    assert result.ok and result.quarantined == 2, result
    with Cache(path, readonly=True) as cache:
        rows = cache.conn.execute("SELECT kind, location, reason FROM quarantine "
                                  "ORDER BY id").fetchall()
        # "gap" seq 1 came on page 3 and was whole then; its seq 3 (page 4) left a gap
        kept = cache.conn.execute("SELECT seq FROM delivery_attempts WHERE delivery_id = "
                                  "'gap'").fetchall()
    assert rows == [
        ("deliveries", "deliveries page 4 item 2", "sent: expected true or false"),
        ("deliveries", "deliveries page 4 item 1",
         "delivery 'gap': seq not contiguous from 1: has 1, 3, missing 2"),
    ]
    assert kept == [(1,)]


def test_an_older_switch_is_polled_for_the_carrier_side_only(tmp_path: Path) -> None:
    sw = InboundSwitch(missing=("trunk_groups", "dids", "registrations", "deliveries"))
    sw.start()
    try:
        result = _poll(sw.url, tmp_path / "c.db")
    finally:
        sw.stop()
    assert result.ok and result.error is None
    assert result.notes == ("inbound skipped: the switch does not serve /trunk_groups "
                            "(HTTP 404); it predates the inbound records of API v1",)
    assert "dids" not in sw.requests and "deliveries" not in sw.requests


def test_a_listing_not_served_is_skipped_alone(tmp_path: Path) -> None:
    sw = InboundSwitch(missing=("registrations",)).start()
    try:
        result = _poll(sw.url, tmp_path / "c.db")
    finally:
        sw.stop()
    assert result.ok and result.notes == (
        "inbound registrations skipped: the switch does not serve /registrations (HTTP 404)",)
    assert result.taken == 10  # groups, DIDs and deliveries
