"""The demo switch's inbound scenarios (issue 15, section 5), polled over loopback HTTP
into a real cache: the cache holds exactly what the switch serves, and each trunk group
shows in `noc-tui export trunks` / `findings` what its scenario implies.

The switch stands at a fixed instant on the hour (when every edge that is meant to be up
is up: see demo_switch/inbound.py), so the scenarios' figures are the same at every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noc_tui.cli import main
from noc_tui.config import Settings
from noc_tui.demo_switch import DemoSwitch
from noc_tui.demo_switch.inbound import GROUPS
from noc_tui.demo_switch.simulator import traffic_factor
from noc_tui.records.timefmt import DAY_MS, iso_to_ms, ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.sync.poller import Poller
from tests.test_poller import assert_inbound_exact

START = iso_to_ms("2026-11-04T12:00:00Z")  # a Wednesday, on the hour, in the past
WEEK_MS = 7 * DAY_MS


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoSwitch, Path]]:
    path = tmp_path_factory.mktemp("demo-inbound") / "cache.db"
    with DemoSwitch(seed=11, start_ms=START, clock=lambda: START, calls_per_min=0.5,
                    deliveries_per_min=0.6) as sw:
        settings = Settings(source={"url": sw.url, "page_limit": 700})
        result = Poller(settings, path).poll_once(since_ms=START - WEEK_MS, until_ms=START)
        assert result.ok and result.notes == () and result.quarantined == 0, result
        yield sw, path


def _export(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> Any:
    assert main(["--cache", str(db), "export", *argv, "--window", "7d",
                 "--now", ms_to_iso(START)]) == 0
    return json.loads(capsys.readouterr().out)


def _trunks(capsys: pytest.CaptureFixture[str], db: Path) -> dict[str, dict[str, Any]]:
    return {g["id"]: g for g in _export(capsys, db, "trunks")["trunk_groups"]}


def test_the_cache_holds_exactly_what_the_switch_serves(
        polled: tuple[DemoSwitch, Path]) -> None:
    sw, path = polled
    got = assert_inbound_exact(sw, path)
    assert len(got["trunk_groups"]) == len(GROUPS)
    assert len(got["deliveries"]) > 3000 and len(got["registrations"]) > 1000
    # Polling the same window again changes nothing: none twice.
    settings = Settings(source={"url": sw.url, "page_limit": 5000})
    again = Poller(settings, path).poll_once(since_ms=START - WEEK_MS, until_ms=START)
    assert again.ok and again.new_attempts == 0
    assert assert_inbound_exact(sw, path) == got


def test_each_scenario_shows_as_it_implies(polled: tuple[DemoSwitch, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    sw, path = polled
    g = _trunks(capsys, path)
    assert set(g) == {s.id for s in GROUPS}
    for row in g.values():
        assert row["offered"] > 50, row["id"]
    # acme: the chain in the right order, registered on both at the hour; trunk1 flaps.
    acme = g["acme"]
    assert acme["findings"] == []
    assert acme["answered_via"]["backup_pbx"] > 0 and acme["answered_via"]["failover_number"] > 0
    assert acme["answered_via"]["trunk2"] == 0
    for trig in ("not_registered_404", "no_1xx", "pbx_5xx"):
        assert acme["primary_failures"][trig] > 0, trig
    assert acme["registered"] == {"trunk1": True, "trunk2": True}
    events = sw.inbound.registration_events(START - WEEK_MS, START, START)[0]
    flaps = sum(1 for e in events if e[1:3] == ("acme", "trunk1")
                and e[3] in ("unregistered", "expired"))
    assert acme["flaps"] == {"trunk1": flaps, "trunk2": 0} and flaps >= 5
    # bistro: registered on trunk2 only, failover configured: every call bypasses the PBX.
    bistro = g["bistro"]
    assert bistro["findings"] == ["F4", "F8"]
    assert bistro["registered"] == {"trunk1": False, "trunk2": True}
    assert bistro["answered_first_try"] == 0
    assert bistro["primary_failures"]["not_registered_404"] == bistro["offered"]
    assert bistro["answered_via"]["backup_pbx"] > 0 and bistro["answered_via"]["trunk2"] == 0
    # cobalt: 100 Trying only is a provisional reply: trigger other, never no_1xx.
    cobalt = g["cobalt"]
    assert cobalt["findings"] == []
    assert cobalt["primary_failures"]["other"] > 0 and cobalt["primary_failures"]["no_1xx"] == 0
    assert cobalt["answered_via"]["backup_pbx"] > 0
    # delta: the number before the backup PBX.
    delta = g["delta"]
    assert delta["findings"] == ["F2", "F10", "F11"]
    assert delta["answered_via"]["failover_number"] > delta["answered_via"]["backup_pbx"] > 0
    # ember: the channel limit at peak, and every trigger to the dial plan.
    ember = g["ember"]
    assert ember["findings"] == ["F9"]
    assert ember["answered_via"]["dial_plan"] > 0
    for trig in ("not_registered_404", "no_1xx", "pbx_5xx", "channels_full_503"):
        assert ember["primary_failures"][trig] > 0, trig
    assert g["fjord"]["findings"] == ["F6"]
    granite = g["granite"]
    assert granite["findings"] == ["F7"] and granite["lost"] > 0
    assert granite["lost"] == granite["lost_by_trigger"]["pbx_5xx"] + \
        granite["lost_by_trigger"]["no_1xx"]
    # harbor: trunk2's registration expired for good on day 31 (in the week): F5.
    harbor = g["harbor"]
    assert harbor["findings"] == ["F5"]
    assert harbor["registered"] == {"trunk1": True, "trunk2": False}
    assert harbor["flaps"]["trunk2"] == 1 and harbor["flaps"]["trunk1"] > 0
    assert harbor["answered_via"]["trunk2"] > 0
    assert harbor["lost_by_trigger"]["not_registered_404"] > 0


def test_findings_name_their_evidence(polled: tuple[DemoSwitch, Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    _sw, path = polled
    rows = _export(capsys, path, "findings")["findings"]
    by = {(r["trunk_group_id"], r["rule"]): r for r in rows}
    assert by[("bistro", "F4")]["edge"] == "trunk1"
    assert sorted(r["did"] for r in rows if r["rule"] == "F8") == ["442079460402",
                                                                   "442079460403"]
    assert by[("delta", "F10")]["did"] == "442079460701"
    assert by[("harbor", "F5")]["edge"] == "trunk2"
    with Cache(path, readonly=True) as cache:
        q = cache.conn.execute
        # F2: each listed delivery tried the number with no backup PBX attempt before it.
        for d in by[("delta", "F2")]["delivery_ids"]:
            kinds = [k for (k,) in q("SELECT target_kind FROM delivery_attempts "
                                     "WHERE delivery_id = ? ORDER BY seq", (d,))]
            assert "failover_number" in kinds
            assert "backup_pbx" not in kinds[:kinds.index("failover_number")]
        # F9: channels full, decided locally (sent false, 503), only in busy hours.
        full = q("SELECT ts, sent, sip_code, sip_reason FROM delivery_attempts "
                 "WHERE trunk_group_id = 'ember' AND sip_code = 503 AND sent = 0").fetchall()
        f9 = by[("ember", "F9")]["delivery_ids"]
        assert len(f9) == len(full) > 0
        assert {(s, c, r) for _t, s, c, r in full} == {(0, 503, "Channel Limit Reached")}
        assert min(traffic_factor(t) for t, *_ in full) > 1.0  # above the mean: peak
        # The 100-only PBX: a 408 after a provisional reply (first_1xx_ms set).
        hung = q("SELECT first_1xx_ms FROM delivery_attempts WHERE trunk_group_id = "
                 "'cobalt' AND seq = 1 AND sip_code = 408").fetchall()
        assert hung and all(ms is not None and ms < 100 for (ms,) in hung)
        # The silent PBX's 408s are no_1xx: no provisional reply at all.
        silent = q("SELECT first_1xx_ms FROM delivery_attempts WHERE trunk_group_id = "
                   "'acme' AND seq = 1 AND sip_code = 408").fetchall()
        assert silent and all(ms is None for (ms,) in silent)
