"""The Kamailio inbound source without Kamailio: the tables inbound.cfg writes
(integrations/kamailio/schema/inbound-sqlite.sql) filled by hand in a real SQLite file
with the cases a switch produces rarely or never on purpose (a delivery whose end never
came, a cancelled pending attempt, fractional times, attempts decided locally, hostile
text, rows the switch got wrong), then read by the source and polled into a cache. The
source against a real Kamailio is tests/test_kamailio_inbound.py."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics import inbound
from noc_tui.cli import main
from noc_tui.config import Settings
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.sources import open_source
from noc_tui.sources.kamailio_inbound import KamailioInboundSource
from noc_tui.store.cache import Cache
from noc_tui.sync.poller import Poller

SCHEMA = Path(__file__).parent.parent / "integrations/kamailio/schema/inbound-sqlite.sql"
NOW = float(int(time.time()))
T = NOW - 3 * 3600  # the deliveries start here, in the past: a poll stops at now
MAX_CALL_S = 3600  # the settings' max_call below
SINCE, UNTIL = T - 3600, NOW
# Text a switch passes on from callers and operators: terminal control, markup.
HOSTILE_NAME = "Evil\x1b[31m [b]red[/b] <i>\nname"
HOSTILE_CUSTOMER = "ACME\x07 Ltd"
HOSTILE_CALLER = "\x1b[2J<script>"
HOSTILE_REASON = "Busy\x1b]0;pwned\x07 [bold]x"
HOSTILE_CONTACT = "sip:g2@192.0.2.6\x1b[2J"


def _insert(conn: sqlite3.Connection, table: str, **cols: Any) -> None:
    conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) "
                 f"VALUES ({', '.join('?' * len(cols))})", list(cols.values()))


def _attempt(conn: sqlite3.Connection, callid: str, seq: int, kind: str, code: Any,
             t_sent: float, *, written: float | None = None, sent: int = 1,
             gid: str = "g1", did: str = "5550001", **cols: Any) -> None:
    _insert(conn, "inbound_attempts", callid=callid, seq=seq, trunk_group_id=gid, did=did,
            target_kind=kind, sent=sent, sip_code=code, t_sent=T + t_sent,
            time_s=T + (written if written is not None else t_sent),
            **{"cancelled": 0, **cols})


def _end(conn: sqlite3.Connection, callid: str, ended: str, at: float) -> None:
    _insert(conn, "inbound_ends", callid=callid, ended=ended, time_s=T + at)


def _fill(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA.read_text())
    groups = [
        # NULLs: name = id, both edges, the policy's triggers, a 15 s timeout.
        dict(id="g1", policy="backup_then_number", backup_pbx="tg:g2",
             global_failover_number="5559000"),
        dict(id="g2", name=HOSTILE_NAME, customer=HOSTILE_CUSTOMER,
             policy="registered_then_trunk2", edges="trunk1", failover_triggers="",
             no_1xx_timeout_s=2.5, channel_limit=0),
        dict(id="g3", name="G3", policy="dial_plan_on_triggers",
             dial_plan="sip:ivr@192.0.2.9", channel_limit=2,
             failover_triggers="not_registered_404,channels_full_503"),
        dict(id="zz", policy="round_robin"),  # no such policy
    ]
    for g in groups:
        _insert(conn, "inbound_trunk_groups", **g)
    for number, gid, fo, backup in (("5550001", "g1", "5559001", None),
                                    ("5550002", "g1", None, "tg:g3"),
                                    ("5550003", "g2", None, None),
                                    ("5550004", "g3", None, None),
                                    ("55x", "g1", None, None)):  # not digits
        _insert(conn, "inbound_dids", did=number, trunk_group_id=gid, failover_number=fo,
                backup_pbx=backup)
    for gid, edge, at, event, contact, exp in (
            ("g1", "trunk1", -100.25, "registered", "sip:g1@192.0.2.5:5060", 3600),
            ("g2", "trunk1", -50, "registered", HOSTILE_CONTACT, 60),
            ("g2", "trunk1", -20, "refreshed", HOSTILE_CONTACT, 60),
            ("g2", "trunk1", 40.5, "expired", HOSTILE_CONTACT, None),
            ("g3", "trunk2", 1, "exploded", None, None)):  # no such event
        _insert(conn, "inbound_registrations", trunk_group_id=gid, edge=edge, at=T + at,
                event=event, contact=contact, expires_s=exp)

    # d1: the PBX's 503 (its 1xx after 30.4 ms), the backup group's PBX answers on
    # trunk2 and talks 62.375 s.
    _attempt(conn, "d1", 1, "primary_pbx", 503, 0, written=0.04, edge="trunk1",
             target="sip:g1@192.0.2.5:5060", caller="4420799999", t_1xx=T + 0.0304,
             sip_reason="Service Unavailable")
    _attempt(conn, "d1", 2, "backup_pbx", 200, 0.05, written=1.5, edge="trunk2",
             target="tg:g2", caller="4420799999", t_1xx=T + 0.25, sip_reason="OK")
    _end(conn, "d1", "hung_up", 1.5 + 62.375)
    # d2: answered, its end never came (Kamailio restarted mid-call).
    _attempt(conn, "d2", 1, "primary_pbx", 200, 10, written=10.5, edge="trunk1",
             target="sip:g1@192.0.2.5:5060")
    # d3: failed over and its end never came either (restarted mid-failover).
    _attempt(conn, "d3", 1, "primary_pbx", 404, 20, sent=0, edge="trunk1", did="5550002",
             sip_reason="Not Registered")
    _attempt(conn, "d3", 2, "backup_pbx", 408, 20, written=22.5, did="5550002",
             target="tg:g3", edge="trunk1", sip_reason="Request Timeout")
    # d4: not registered (decided locally), then the caller hangs up while the backup
    # rings.
    _attempt(conn, "d4", 1, "primary_pbx", 404, 30, sent=0, edge="trunk1",
             sip_reason="Not Registered")
    _attempt(conn, "d4", 2, "backup_pbx", 487, 30, written=33, edge="trunk2",
             target="tg:g2", t_1xx=T + 30.1, sip_reason="Request Terminated", cancelled=1)
    _end(conn, "d4", "failed", 33)
    # d5: the channel limit (a 503 decided locally), then the dial plan for 0.5 s.
    _attempt(conn, "d5", 1, "primary_pbx", 503, 40, sent=0, gid="g3", did="5550004",
             edge="trunk1", sip_reason="Channel Limit Reached")
    _attempt(conn, "d5", 2, "dial_plan", 200, 40, written=40.1, gid="g3", did="5550004",
             target="sip:ivr@192.0.2.9", t_1xx=T + 40.02, sip_reason="OK")
    _end(conn, "d5", "hung_up", 40.6)
    # d6: hostile caller and reason; the PBX is busy.
    _attempt(conn, "d6", 1, "primary_pbx", 486, 50, gid="g2", did="5550003", edge="trunk1",
             caller=HOSTILE_CALLER, sip_reason=HOSTILE_REASON)
    _end(conn, "d6", "failed", 51)
    # d7: no 1xx, the backup group not registered (404 decided locally, no edge), the
    # DID's own number answers for 7.1234 s.
    _attempt(conn, "d7", 1, "primary_pbx", 408, 60, written=62.5, edge="trunk1",
             sip_reason="Request Timeout")
    _attempt(conn, "d7", 2, "backup_pbx", 404, 62.5, sent=0, target="tg:g2",
             sip_reason="Not Registered")
    _attempt(conn, "d7", 3, "failover_number", 200, 62.5, written=63, target="5559001",
             number_source="did", t_1xx=T + 62.6)
    _end(conn, "d7", "hung_up", 63 + 7.1234)
    # bad: "not sent" with a code only a PBX gives; its place and reason are reported.
    _attempt(conn, "bad", 1, "primary_pbx", 486, 70, sent=0, sip_reason=HOSTILE_REASON)
    _end(conn, "bad", "failed", 70)
    # old: over before the window.
    _attempt(conn, "old", 1, "primary_pbx", 486, -7300)
    _end(conn, "old", "failed", -7200)
    conn.commit()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "inbound.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        _fill(conn)
    return path


def _settings(db: Path) -> Settings:
    return Settings(source={"kind": "kamailio", "page_limit": 2, "kamailio": {
        "accounting": "none", "inbound_db_url": f"sqlite:///{db}", "max_call": "1h"}})


def _source(db: Path) -> KamailioInboundSource:
    src = open_source(_settings(db).source)
    assert isinstance(src, KamailioInboundSource)
    return src


def _deliveries(src: KamailioInboundSource, since: float, until: float
                ) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for page in src.deliveries(round(since * 1000), round(until * 1000)):
        for item in json.loads(page.body)["items"]:
            out.setdefault(item["delivery_id"], []).append(item)
    return out


def _at(offset_s: float) -> str:
    return ms_to_iso(round((T + offset_s) * 1000))


def test_attempts_as_records(db: Path) -> None:
    with contextlib.closing(_source(db)) as src:
        got = _deliveries(src, SINCE, UNTIL)
    assert sorted(got) == ["bad", "d1", "d2", "d3", "d4", "d5", "d6", "d7"]  # not "old"
    assert got["d1"] == [
        {"delivery_id": "d1", "seq": 1, "trunk_group_id": "g1", "did": "5550001",
         "caller": "4420799999", "started_at": _at(0), "target_kind": "primary_pbx",
         "target": "sip:g1@192.0.2.5:5060", "edge": "trunk1", "sent": True,
         "number_source": None, "first_1xx_ms": 30, "sip_code": 503,
         "sip_reason": "Service Unavailable", "duration_s": 0, "cancelled": False},
        {"delivery_id": "d1", "seq": 2, "trunk_group_id": "g1", "did": "5550001",
         "caller": "4420799999", "started_at": _at(0.05), "target_kind": "backup_pbx",
         "target": "tg:g2", "edge": "trunk2", "sent": True, "number_source": None,
         "first_1xx_ms": 200, "sip_code": 200, "sip_reason": "OK", "duration_s": 62.375,
         "cancelled": False}]

    def brief(did: str) -> list[tuple[Any, ...]]:
        return [(a["target_kind"], a["target"], a["edge"], a["sent"], a["sip_code"],
                 a["first_1xx_ms"], a["duration_s"], a["cancelled"], a["number_source"])
                for a in got[did]]

    # Answered, no end: no duration. Failed, no end: as it stands.
    assert brief("d2") == [("primary_pbx", "sip:g1@192.0.2.5:5060", "trunk1", True, 200,
                            None, 0, False, None)]
    assert brief("d3") == [("primary_pbx", None, "trunk1", False, 404, None, 0, False, None),
                           ("backup_pbx", "tg:g3", "trunk1", True, 408, None, 0, False, None)]
    assert brief("d4") == [("primary_pbx", None, "trunk1", False, 404, None, 0, False, None),
                           ("backup_pbx", "tg:g2", "trunk2", True, 487, 100, 0, True, None)]
    assert brief("d5") == [("primary_pbx", None, "trunk1", False, 503, None, 0, False, None),
                           ("dial_plan", "sip:ivr@192.0.2.9", None, True, 200, 20, 0.5, False,
                            None)]
    assert brief("d7") == [("primary_pbx", None, "trunk1", True, 408, None, 0, False, None),
                           ("backup_pbx", "tg:g2", None, False, 404, None, 0, False, None),
                           ("failover_number", "5559001", None, True, 200, 100, 7.123, False,
                            "did")]
    # Text goes through as written; escaping is for whoever shows it.
    assert (got["d6"][0]["caller"], got["d6"][0]["sip_reason"]) == (HOSTILE_CALLER,
                                                                    HOSTILE_REASON)


def test_a_delivery_without_its_end_waits_max_call(db: Path) -> None:
    """Ended deliveries are published at their end; d2 and d3 never ended, so they wait
    max_call after their last attempt's row (T+10.5, T+22.5), then come once."""
    with contextlib.closing(_source(db)) as src:
        early = _deliveries(src, SINCE, T + 10.5 + MAX_CALL_S)
        middle = _deliveries(src, T + 10.5 + MAX_CALL_S, T + 22.5 + MAX_CALL_S)
        late = _deliveries(src, T + 22.5 + MAX_CALL_S, UNTIL)
    assert "d2" not in early and "d3" not in early and "d1" in early
    assert sorted(middle) == ["d2"]
    assert sorted(late) == ["d3"]
    assert [a["seq"] for a in late["d3"]] == [1, 2]  # every attempt, not only the last


def test_poll_keeps_the_good_rows_and_reports_the_bad(db: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    cache_path = tmp_path / "cache.db"
    settings = _settings(db)
    result = Poller(settings, cache_path).poll_once(since_ms=round(SINCE * 1000),
                                                    until_ms=round(UNTIL * 1000))
    assert result.ok, result
    assert result.quarantined == 4
    with Cache(cache_path, readonly=True) as cache:
        rejected = cache.conn.execute("SELECT kind, location, reason FROM quarantine "
                                      "ORDER BY kind").fetchall()
        groups = {r[0]: r for r in cache.conn.execute(
            "SELECT id, name, customer, policy, edges, backup_pbx, failover_triggers, "
            "no_1xx_timeout_s, channel_limit FROM trunk_groups")}
        dids = cache.conn.execute("SELECT did, trunk_group_id, failover_number, backup_pbx "
                                  "FROM dids ORDER BY did").fetchall()
        regs = cache.conn.execute("SELECT trunk_group_id, edge, at, event, contact, "
                                  "expires_s FROM registrations ORDER BY at").fetchall()
        stored = {r["delivery_id"]: r for gid in ("g1", "g2", "g3") for r in
                  inbound.delivery_list(cache, gid, round(UNTIL * 1000), 86_400)}
        attempts = {(a, s): (caller, reason, duration) for a, s, caller, reason, duration in
                    cache.conn.execute("SELECT delivery_id, seq, caller, sip_reason, "
                                       "duration_s FROM delivery_attempts")}
    # Pages of two rows: the place is the page and the item in it.
    assert sorted(rejected) == [
        ("deliveries", "deliveries page 4 item 2",
         "record: sip_code 486 with sent false: an attempt not sent has code 404 (not "
         "registered) or 503 (channel limit)"),
        ("dids", "dids page 3 item 1", "did: String should match pattern '^[0-9]+$'"),
        ("registrations", "registrations page 2 item 2",
         "event: Input should be 'registered', 'refreshed', 'unregistered', 'expired' or "
         "'rejected'"),
        ("trunk_groups", "trunk_groups page 2 item 2",
         "policy: Input should be 'registered_then_trunk2', 'backup_then_number' or "
         "'dial_plan_on_triggers'"),
    ]
    # The others are kept, defaults filled in, text as written.
    assert groups == {
        "g1": ("g1", "g1", None, "backup_then_number", '["trunk1", "trunk2"]', "tg:g2",
               None, 15.0, None),
        "g2": ("g2", HOSTILE_NAME, HOSTILE_CUSTOMER, "registered_then_trunk2", '["trunk1"]',
               None, "[]", 2.5, 0),
        "g3": ("g3", "G3", None, "dial_plan_on_triggers", '["trunk1", "trunk2"]', None,
               '["not_registered_404", "channels_full_503"]', 15.0, 2)}
    assert dids == [("5550001", "g1", "5559001", None), ("5550002", "g1", None, "tg:g3"),
                    ("5550003", "g2", None, None), ("5550004", "g3", None, None)]
    ms = round(T * 1000)
    assert regs == [("g1", "trunk1", ms - 100_250, "registered", "sip:g1@192.0.2.5:5060",
                     3600),
                    ("g2", "trunk1", ms - 50_000, "registered", HOSTILE_CONTACT, 60),
                    ("g2", "trunk1", ms - 20_000, "refreshed", HOSTILE_CONTACT, 60),
                    ("g2", "trunk1", ms + 40_500, "expired", HOSTILE_CONTACT, None)]
    # Every delivery but the bad one, with what its attempts imply.
    assert {d: (r["outcome"], r["via"], r["attempts"], r["first_trigger"], r["last_trigger"])
            for d, r in stored.items()} == {
        "d1": ("answered_failover", "backup_pbx", 2, "pbx_5xx", None),
        "d2": ("answered_first_try", None, 1, None, None),
        "d3": ("lost", None, 2, "not_registered_404", "no_1xx"),
        "d4": ("abandoned", None, 2, "not_registered_404", None),
        "d5": ("answered_failover", "dial_plan", 2, "channels_full_503", None),
        "d6": ("refused", None, 1, "other", "other"),
        "d7": ("answered_failover", "failover_number", 3, "no_1xx", None)}
    assert attempts[("d1", 2)][2] == 62.375 and attempts[("d7", 3)][2] == 7.123
    assert attempts[("d6", 1)][:2] == (HOSTILE_CALLER, HOSTILE_REASON)

    # Polling the same window again changes nothing.
    before = _rows(cache_path)
    again = Poller(settings, cache_path).poll_once(since_ms=round(SINCE * 1000),
                                                   until_ms=round(UNTIL * 1000))
    assert again.ok and again.new_quarantined == 0, again
    assert _rows(cache_path) == before

    # What an operator reads of the bad row shows its control characters escaped.
    cfg = tmp_path / "noc-tui.toml"
    cfg.write_text(f'[source]\nkind = "kamailio"\n[source.kamailio]\naccounting = "none"\n'
                   f'inbound_db_url = "sqlite:///{db}"\n')
    assert main(["--config", str(cfg), "--cache", str(cache_path), "quarantine",
                 "list"]) == 0
    out = capsys.readouterr().out
    assert "deliveries page 4 item 2: record: sip_code 486 with sent false" in out
    assert "Busy" in out and "pwned" in out
    assert not any(ch in out for ch in "\x1b\x07"), out


def _rows(cache: Path) -> dict[str, list[tuple[Any, ...]]]:
    with contextlib.closing(sqlite3.connect(cache)) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
                for t in ("trunk_groups", "dids", "registrations", "delivery_attempts")}

