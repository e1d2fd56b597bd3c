"""End to end, inbound: a real Kamailio (integrations/kamailio/inbound.cfg, unchanged) is
the registrar and delivery edge with two trunk sockets; SIPp processes are the customers'
PBXs (answering, failing with 503 or 486, hung after 100 Trying), the backup PBX, the
failover-number carrier, the dial-plan IVR and the callers; a dead port is the PBX that
never answers. Each trunk group below is one path of issue 15 (every trigger, every
policy). Then `noc-tui poll` reads the switch's records and registrations into a cache,
and the exports a user would read must say what the scenario implies: every delivery's
outcome, via, attempts and triggers, every finding with its evidence, each edge's
registration state. A second poll changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from noc_tui.cli import main
from tests.kamailio_rig import HUNG_PBX, Behaviour, InboundRig, Sipp, ensure_installed, free_port

NO_1XX_S = 2  # every group's no_1xx_timeout_s
FR_INV_MS = 2500  # a target may ring this long after a 1xx (the hung PBX: trigger other)
HOLD_MS = 500  # answered calls last this long ...
LONG_HOLD_MS = 4000  # ... except the one holding dp's only channel


@pytest.fixture(scope="module")
def installed() -> None:
    reason = ensure_installed()
    if reason is not None:
        # CI installs Kamailio and SIPp first (.ci/run): there, a missing one is a failure.
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _provisioning(ports: dict[str, int], dead: int) -> str:
    def group(gid: str, policy: str, **cols: Any) -> str:
        cols = {"id": gid, "name": gid.upper(), "policy": policy,
                "no_1xx_timeout_s": NO_1XX_S, **cols}
        values = ", ".join("NULL" if v is None else repr(v) if isinstance(v, str) else str(v)
                           for v in cols.values())
        return f"INSERT INTO inbound_trunk_groups ({', '.join(cols)}) VALUES ({values});\n"

    def did(number: str, gid: str, fo: str | None = None, backup: str | None = None) -> str:
        return ("INSERT INTO inbound_dids (did, trunk_group_id, failover_number, backup_pbx) "
                f"VALUES ('{number}', '{gid}', {repr(fo) if fo else 'NULL'}, "
                f"{repr(backup) if backup else 'NULL'});\n")

    ivr = f"sip:ivr@127.0.0.1:{ports['ivr']}"
    return "".join([
        group("ok2", "registered_then_trunk2"), did("5550001", "ok2"),
        group("t2only", "registered_then_trunk2"), did("5550002", "t2only", "5559002"),
        group("nowhere", "registered_then_trunk2"), did("5550003", "nowhere"),
        group("bk", "backup_then_number", backup_pbx=f"sip:backup@127.0.0.1:{ports['backup']}"),
        did("5550004", "bk"),
        group("bkdown", "backup_then_number", backup_pbx=f"127.0.0.1:{dead}",
              global_failover_number="5559000"),
        did("5550005", "bkdown", "5559005"), did("5550006", "bkdown"),
        did("5550007", "bkdown", "5550005"),
        group("dp", "dial_plan_on_triggers", dial_plan=ivr, channel_limit=1),
        did("5550008", "dp"),
        group("dp5", "dial_plan_on_triggers", dial_plan=ivr), did("5550009", "dp5"),
        group("dphung", "dial_plan_on_triggers", dial_plan=ivr), did("5550010", "dphung"),
        group("dpnone", "dial_plan_on_triggers"), did("5550011", "dpnone"),
        group("ref", "registered_then_trunk2"), did("5550012", "ref"),
        group("flap", "registered_then_trunk2"),
        # The backup PBX is another trunk group's registered PBX: ok2's (on trunk1),
        # t2only's (on trunk2 only: found there), nowhere's (registered on no edge).
        group("bktg", "backup_then_number", backup_pbx="tg:ok2",
              global_failover_number="5559000"),
        did("5550013", "bktg"), did("5550014", "bktg", backup="tg:t2only"),
        did("5550015", "bktg", backup="tg:nowhere"),
    ])


# DID -> what each of its deliveries must be: (outcome, via, attempts, first_trigger,
# last_trigger), as a multiset.
EXPECTED: dict[str, list[tuple[str, str | None, int, str | None, str | None]]] = {
    "5550001": [("answered_first_try", None, 1, None, None)],
    "5550002": [("answered_failover", "trunk2", 2, "not_registered_404", None)],
    "5550003": [("lost", None, 2, "not_registered_404", "not_registered_404")],
    "5550004": [("answered_failover", "backup_pbx", 2, "pbx_5xx", None)],
    "5550005": [("answered_failover", "failover_number", 3, "not_registered_404", None)],
    "5550006": [("answered_failover", "failover_number", 3, "not_registered_404", None)],
    "5550008": [("answered_first_try", None, 1, None, None),
                ("answered_failover", "dial_plan", 2, "channels_full_503", None)],
    "5550009": [("answered_failover", "dial_plan", 2, "pbx_5xx", None)],
    "5550010": [("lost", None, 1, "other", "other"), ("abandoned", None, 1, None, None)],
    "5550011": [("lost", None, 1, "not_registered_404", "not_registered_404")],
    "5550012": [("refused", None, 2, "other", "other")],
    "5550013": [("answered_failover", "backup_pbx", 2, "pbx_5xx", None)],
    "5550014": [("answered_failover", "backup_pbx", 2, "pbx_5xx", None)],
    "5550015": [("answered_failover", "failover_number", 3, "pbx_5xx", None)],
}
GROUP_OF = {"5550001": "ok2", "5550002": "t2only", "5550003": "nowhere", "5550004": "bk",
            "5550005": "bkdown", "5550006": "bkdown", "5550008": "dp", "5550009": "dp5",
            "5550010": "dphung", "5550011": "dpnone", "5550012": "ref",
            "5550013": "bktg", "5550014": "bktg", "5550015": "bktg"}
# A backup given as a trunk group: the SIPp that is that group's registered PBX.
GROUP_PBX = {"tg:ok2": "pbx_ok", "tg:t2only": "pbx_ok"}
# (rule, trunk group, did, edge, deliveries of which DIDs)
EXPECTED_FINDINGS = {
    ("F3", "t2only", None, None, ("5550002",)),
    ("F4", "t2only", None, "trunk1", ()),
    ("F5", "t2only", None, "trunk1", ()),
    ("F8", "bk", "5550004", None, ()),
    ("F4", "bkdown", None, "trunk1", ()),
    ("F4", "bkdown", None, "trunk2", ()),
    ("F10", "bkdown", "5550007", None, ()),
    ("F9", "dp", None, None, ("5550008",)),
    ("F7", "dpnone", None, None, ("5550011",)),
}
# Registered as of the poll, per group and edge (flap's went; ok2's trunk2 event was
# removed from the log but the switch has it; dp5's trunk2 contact was removed by RPC).
REGISTERED = {
    "ok2": {"trunk1": True, "trunk2": True}, "t2only": {"trunk1": False, "trunk2": True},
    "nowhere": {"trunk1": False, "trunk2": False}, "bk": {"trunk1": True, "trunk2": True},
    "bkdown": {"trunk1": False, "trunk2": False}, "dp": {"trunk1": True, "trunk2": True},
    "dp5": {"trunk1": True, "trunk2": False}, "dphung": {"trunk1": True, "trunk2": True},
    "dpnone": {"trunk1": False, "trunk2": False}, "ref": {"trunk1": True, "trunk2": True},
    "flap": {"trunk1": False, "trunk2": False}, "bktg": {"trunk1": True, "trunk2": True},
}

CONFIG = """
[source]
kind = "kamailio"
[source.kamailio]
accounting = "none"
inbound_db_url = "{db}"
inbound_jsonrpc_url = "{rpc}"
[poll]
overlap = "5s"
backfill = "1d"
"""


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    rc = main(list(args))
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out) if "export" in args else out.err


def _wait_for(what: str, check: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(0.1)


def _count(rig: InboundRig, sql: str) -> int:
    return int(rig.acc_rows(sql)[0][0])  # type: ignore[arg-type]


def _place_calls(rig: InboundRig) -> list[Sipp]:
    """Every call of the scenario; returns the callers once they are all over."""
    calls = [(did, f"44{did}", HOLD_MS) for did in
             ("5550001", "5550002", "5550003", "5550004", "5550005", "5550006", "5550009",
              "5550010", "5550011", "5550012", "5550013", "5550014", "5550015")]
    main_calls = rig.start_caller(calls, rate=20, limit=20, timeout_s=40, name="calls")
    # dp has one channel: a long call holds it, a second one finds it full.
    holder = rig.start_caller([("5550008", "441", LONG_HOLD_MS)], rate=1, limit=1,
                              timeout_s=40, name="holder")
    _wait_for("dp's first call answered", lambda: _count(
        rig, "SELECT count(*) FROM inbound_attempts WHERE did = '5550008'") == 1, 10)
    second = rig.start_caller([("5550008", "442", HOLD_MS)], rate=1, limit=1,
                              timeout_s=40, name="second")
    canceller = rig.start_canceller([("5550010", "443")], pause_ms=500, timeout_s=40)
    callers = [main_calls, holder, second, canceller]
    for caller in callers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            caller.proc.popen.wait(45)
        caller.finish(wait_s=5)
    return callers


def test_inbound_delivery_end_to_end(installed: None, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with InboundRig(tmp_path / "rig") as rig:
        # pbx_ok logs its messages: the socket each INVITE came from (the top Via).
        ports = {"pbx_ok": rig.start_uas("pbx_ok", Behaviour(200, "OK", ring_ms=200)
                                         .scenario("pbx ok"), trace=True),
                 "pbx_503": rig.start_uas("pbx_503", Behaviour(503, "Service Unavailable")
                                          .scenario("pbx 503")),
                 "pbx_486": rig.start_uas("pbx_486", Behaviour(486, "Busy Here")
                                          .scenario("pbx 486")),
                 # ref's PBX on trunk2: SIPp keys calls by Call-ID, and a serial
                 # failover keeps the caller's, so one SIPp could not take both.
                 "pbx_486b": rig.start_uas("pbx_486b", Behaviour(486, "Busy Here")
                                           .scenario("pbx 486 on trunk2")),
                 "pbx_hung": rig.start_uas("pbx_hung", HUNG_PBX),
                 "backup": rig.start_uas("backup", Behaviour(200, "OK", ring_ms=200)
                                         .scenario("backup pbx")),
                 "carrier": rig.start_uas("carrier", Behaviour(200, "OK", ring_ms=200)
                                          .scenario("number carrier")),
                 "ivr": rig.start_uas("ivr", Behaviour(200, "OK").scenario("ivr"))}
        rig.create_inbound_db(_provisioning(ports, dead=free_port()))
        rig.start_inbound_kamailio(number_gw=f"127.0.0.1:{ports['carrier']}",
                                   fr_inv_ms=FR_INV_MS, min_expires=2)

        # Registrations: both edges, trunk2 only, none; flap comes and goes.
        for aor, pbx, pbx2 in (("ok2", "pbx_ok", "pbx_ok"), ("bk", "pbx_503", "pbx_503"),
                               ("dp", "pbx_ok", "pbx_ok"), ("dp5", "pbx_503", "pbx_503"),
                               ("dphung", "pbx_hung", "pbx_hung"),
                               ("ref", "pbx_486", "pbx_486b"),
                               ("bktg", "pbx_503", "pbx_503")):
            rig.register(aor, ports[pbx])
            rig.register(aor, ports[pbx2], trunk2=True)
        rig.register("t2only", ports["pbx_ok"], trunk2=True)
        rig.register("flap", ports["pbx_ok"])
        rig.register("flap", ports["pbx_ok"])  # refreshed
        rig.register("flap", ports["pbx_ok"], expires=0, contact="*")  # unregistered
        # Queries (no Contact) change nothing: no event, registered or not.
        rig.register("nowhere", ports["pbx_ok"], contact="none")
        rig.register("ok2", ports["pbx_ok"], contact="none")
        # Asks 1 s, below min_expires: granted 2 s (recorded so), then expires.
        rig.register("flap", ports["pbx_ok"], trunk2=True, expires=1)

        callers = _place_calls(rig)
        assert [c.count(0, "INVITE", "Sent") for c in callers] == [13, 1, 1, 1]
        # Every delivery is over (its inbound_ends row), flap's trunk2 has expired.
        _wait_for("every delivery ended", lambda: _count(
            rig, "SELECT count(*) FROM inbound_ends") == 16, 15)
        _wait_for("flap's trunk2 expiry logged", lambda: _count(
            rig, "SELECT count(*) FROM inbound_registrations WHERE event = 'expired'") == 1, 10)

        # The switch's state beside its log: an event removed from the log (ok2 trunk2),
        # a contact removed without an event (dp5 trunk2).
        with contextlib.closing(sqlite3.connect(rig.acc_db, timeout=10)) as conn, conn:
            conn.execute("DELETE FROM inbound_registrations WHERE trunk_group_id = 'ok2' "
                         "AND edge = 'trunk2'")
        status, answer = rig.rpc("ul.rm", "location_t2", "dp5")  # type: ignore[misc]
        assert status == 200 and "error" not in answer, answer

        cfg = tmp_path / "noc-tui.toml"
        cfg.write_text(CONFIG.format(db=rig.acc_db_url, rpc=rig.rpc_url))
        cache = tmp_path / "cache.db"
        base = ["--config", str(cfg), "--cache", str(cache)]
        _cli(capsys, *base, "poll")
        _check(capsys, base, rig, ports)

        # A second poll (the window overlaps the first) changes nothing.
        before = _cache_rows(cache)
        _cli(capsys, *base, "poll")
        assert _cache_rows(cache) == before
        assert not rig.kamailio_errors(), rig.kamailio_errors()[:5]
        assert "database is locked" not in rig.kamailio.output()  # type: ignore[union-attr]


def _invites_from(sipp: Sipp) -> list[tuple[str, int]]:
    """(Call-ID, port of the top Via) of each INVITE a tracing SIPp received."""
    log = next(sipp.scenario.parent.glob(f"{sipp.scenario.stem}_{sipp.proc.pid}_messages.log"))
    out = []
    for block in log.read_text().split("-" * 47):
        head, _, message = block.partition("\n\n")
        if "message received" not in head or not message.startswith("INVITE "):
            continue
        headers = [line.split(":", 1) for line in message.splitlines() if ":" in line]
        via = next(v for k, v in headers if k == "Via")
        call_id = next(v for k, v in headers if k == "Call-ID")
        out.append((call_id.strip(), int(via.split(";")[0].rsplit(":", 1)[1])))
    return out


def _cache_rows(cache: Path) -> dict[str, list[tuple[Any, ...]]]:
    with contextlib.closing(sqlite3.connect(cache)) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
                for t in ("trunk_groups", "dids", "registrations", "delivery_attempts")}


def _check(capsys: pytest.CaptureFixture[str], base: list[str], rig: InboundRig,
           ports: dict[str, int]) -> None:
    trunks = _cli(capsys, *base, "export", "trunks")["trunk_groups"]
    assert {t["id"]: t["registered"] for t in trunks} == REGISTERED
    flaps = {t["id"]: t["flaps"] for t in trunks}
    assert flaps["flap"] == {"trunk1": 1, "trunk2": 1}
    assert flaps["dp5"] == {"trunk1": 0, "trunk2": 1}  # the contact removed by RPC
    assert sum(sum(f.values()) for f in flaps.values()) == 3

    got: dict[str, list[tuple[Any, ...]]] = {}
    delivery_did: dict[str, str] = {}
    for gid in sorted(set(GROUP_OF.values())):
        rows = _cli(capsys, *base, "export", "deliveries", "--trunk-group", gid)["deliveries"]
        for d in rows:
            assert GROUP_OF[d["did"]] == gid
            delivery_did[d["delivery_id"]] = d["did"]
            got.setdefault(d["did"], []).append(
                (d["outcome"], d["via"], d["attempts"], d["first_trigger"], d["last_trigger"]))
    assert {k: Counter(v) for k, v in got.items()} == \
        {k: Counter(v) for k, v in EXPECTED.items()}

    # The attempts themselves: targets, edges, what was sent, the SIP each one saw.
    with contextlib.closing(sqlite3.connect(base[3])) as conn:
        conn.row_factory = sqlite3.Row
        attempts = [dict(r) for r in conn.execute(
            "SELECT * FROM delivery_attempts ORDER BY delivery_id, seq")]
    by_did: dict[str, list[dict[str, Any]]] = {}
    for a in attempts:
        by_did.setdefault(a["did"], []).append(a)
    t2 = by_did["5550002"]
    assert [(a["target_kind"], a["edge"], a["sent"], a["sip_code"]) for a in t2] == \
        [("primary_pbx", "trunk1", 0, 404), ("trunk2", "trunk2", 1, 200)]
    assert t2[1]["target"].endswith(f"@127.0.0.1:{ports['pbx_ok']}")
    for did, number, source in (("5550005", "5559005", "did"),
                                ("5550006", "5559000", "trunk_group")):
        chain = by_did[did]
        assert [(a["target_kind"], a["sent"], a["sip_code"]) for a in chain] == \
            [("primary_pbx", 0, 404), ("backup_pbx", 1, 408), ("failover_number", 1, 200)]
        assert chain[1]["first_1xx_ms"] is None  # the dead backup: no 1xx at all
        # ... given up on after the group's no_1xx_timeout_s, not the ring timer
        assert abs((chain[2]["ts"] - chain[1]["ts"]) / 1000 - NO_1XX_S) < 0.5
        assert (chain[2]["target"], chain[2]["number_source"]) == (number, source)
    # The backup PBX given as another trunk group: that group's PBX where it is registered
    # (ok2's on trunk1, t2only's on trunk2); nowhere's is registered on no edge, so the
    # step is a 404 decided locally and the group's global number follows.
    for did, backup, edge in (("5550013", "tg:ok2", "trunk1"),
                              ("5550014", "tg:t2only", "trunk2")):
        assert [(a["target_kind"], a["target"], a["edge"], a["sent"], a["sip_code"])
                for a in by_did[did]] == [("primary_pbx", by_did[did][0]["target"], "trunk1",
                                           1, 503), ("backup_pbx", backup, edge, 1, 200)]
        assert by_did[did][0]["target"].endswith(f"@127.0.0.1:{ports['pbx_503']}")
    assert [(a["target_kind"], a["target"], a["edge"], a["sent"], a["sip_code"],
             a["number_source"]) for a in by_did["5550015"]] == \
        [("primary_pbx", by_did["5550015"][0]["target"], "trunk1", 1, 503, None),
         ("backup_pbx", "tg:nowhere", None, 0, 404, None),
         ("failover_number", "5559000", None, 1, 200, "trunk_group")]
    hung = next(a for a in by_did["5550010"] if not a["cancelled"])
    assert hung["sip_code"] == 408 and hung["first_1xx_ms"] is not None
    assert [a["sip_code"] for a in by_did["5550012"]] == [486, 486]
    assert by_did["5550012"][1]["target"].endswith(f":{ports['pbx_486b']}")
    assert by_did["5550004"][0]["sip_code"] == 503
    full = [a for a in by_did["5550008"] if a["sent"] == 0]
    assert [(a["sip_code"], a["target_kind"]) for a in full] == [(503, "primary_pbx")]
    # Answered attempts carry the time from the answer to the BYE.
    for a in attempts:
        if a["sip_code"] == 200:
            hold = LONG_HOLD_MS if a["caller"] == "441" else HOLD_MS
            assert abs(a["duration_s"] - hold / 1000) < 0.5, a
        else:
            assert a["duration_s"] == 0
    assert {a["caller"] for a in by_did["5550008"]} == {"441", "442"}

    # Every INVITE a target's SIPp received is an attempt sent to it, and none more.
    def label(a: dict[str, Any]) -> str:
        kind = a["target_kind"]
        if kind == "failover_number":
            return "carrier"
        if a["target"] in GROUP_PBX:
            return GROUP_PBX[a["target"]]
        port = int(a["target"].rsplit(":", 1)[1])
        return next((lb for lb, p in ports.items() if p == port), "dead")

    sent_to = Counter(label(a) for a in attempts if a["sent"])
    assert sent_to["dead"] == 2
    for name, sipp in rig.carriers.items():
        sipp.finish(wait_s=5)
        assert sipp.count(0, "INVITE") == sent_to[name], (name, sent_to)

    # ... and it came from the socket of the attempt's edge (a PBX found on trunk2,
    # the backup group's included, is called from the trunk2 socket).
    trunk_port = {"trunk1": rig.sip_port, "trunk2": rig.trunk2_port}
    want = sorted((a["delivery_id"], trunk_port[a["edge"]]) for a in attempts
                  if a["sent"] and label(a) == "pbx_ok")
    assert sorted(_invites_from(rig.carriers["pbx_ok"])) == want
    assert {e for _, e in want} == set(trunk_port.values())

    findings = _cli(capsys, *base, "export", "findings")["findings"]
    shown = {(f["rule"], f["trunk_group_id"], f["did"], f["edge"],
              tuple(sorted(delivery_did[d] for d in f["delivery_ids"]))) for f in findings}
    assert shown == EXPECTED_FINDINGS
    assert len(findings) == len(EXPECTED_FINDINGS)

    # The switch's own view (ul.dump) made the state: ok2's trunk2 registration has an
    # event again, at its contact's Last-Modified; dp5's trunk2 went 1 ms after its last.
    with contextlib.closing(sqlite3.connect(base[3])) as conn:
        regs = conn.execute("SELECT trunk_group_id, edge, event FROM registrations "
                            "ORDER BY at").fetchall()
    assert ("ok2", "trunk2", "registered") in regs
    assert [r[2] for r in regs if r[:2] == ("dp5", "trunk2")] == ["registered", "unregistered"]
    assert [r[2] for r in regs if r[0] == "flap"] == \
        ["registered", "refreshed", "unregistered", "registered", "expired"]
    assert [r[2] for r in regs if r[:2] == ("ok2", "trunk1")] == ["registered"]
    assert not [r for r in regs if r[0] == "nowhere"]
    # The expiry recorded is the one granted: 60 s as asked, flap's trunk2 raised to 2 s.
    with contextlib.closing(sqlite3.connect(base[3])) as conn:
        granted = conn.execute("SELECT trunk_group_id, edge, expires_s FROM registrations "
                               "WHERE event = 'registered' AND trunk_group_id IN "
                               "('flap', 'bktg')").fetchall()
        flap = conn.execute("SELECT event, contact, expires_s FROM registrations "
                            "WHERE trunk_group_id = 'flap' ORDER BY at").fetchall()
    assert sorted(granted) == [("bktg", "trunk1", 60), ("bktg", "trunk2", 60),
                               ("flap", "trunk1", 60), ("flap", "trunk2", 2)]
    # "Contact: *" names no contact; an expiry no expiry.
    contact = f"sip:flap@127.0.0.1:{ports['pbx_ok']}"
    assert flap == [("registered", contact, 60), ("refreshed", contact, 60),
                    ("unregistered", None, 0), ("registered", contact, 2),
                    ("expired", contact, None)]
