"""End to end: a real Kamailio (integrations/kamailio/kamailio.cfg, unchanged) routes
real SIP calls from a SIPp caller to SIPp carriers on 127.0.0.1, then `noc-tui poll`
reads its accounting and dispatcher state, and the cache must hold exactly what SIPp's
own counters say happened: every attempt, per carrier and per final code, none lost,
none twice; failovers where the configuration fails over (503, no reply) and none where
it halts (404, 480, 486); the FAS flags of the carrier that answers without ringing;
the dispatcher's live state, with a carrier Kamailio marked inactive after its probes
failed.

Three accounting paths, each its own Kamailio run:
  * sqlite: acc, missed_calls and acc_cdrs in an SQLite file, read read-only while
    Kamailio writes. db_sqlite 5.6 has no busy timeout and loses a row whenever two
    Kamailio processes write at once (kamailio-inbound reference, traps); with one SIP
    worker the only other writer is tm's timer process, which writes the rows of
    branches that got no reply. So this run places the calls that time out one at a
    time, after the others (several in flight), and only one process ever writes:
    the test proves the reading, not db_sqlite's luck.
  * mqueue: the same events as acc_json in Kamailio's memory queues, fetched over
    JSON-RPC: all calls mixed, several in flight, timeouts included.
  * postgres: a PostgreSQL server the test starts, four SIP workers writing at once,
    all calls mixed; noc-tui reads as a user that may only read.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics.metrics import carrier_metrics, failover_calls
from noc_tui.analytics.views import list_snapshot
from noc_tui.cli import main
from noc_tui.config import load_settings
from noc_tui.records.formats import validate
from noc_tui.records.timefmt import now_ms
from noc_tui.sources.base import Destination
from noc_tui.sources.kamailio import attempt_record, carrier_records
from noc_tui.store.cache import Cache
from noc_tui.store.destinations import load as load_routing
from tests.kamailio_rig import (
    POSTGRES_SCHEMA,
    Behaviour,
    CarrierSpec,
    Postgres,
    Rig,
    Sipp,
    ensure_installed,
    postgres_bin,
)

FR_TIMER_MS = 500  # no reply from a carrier within this: fail over (408)
HOLD_MS = 1500  # answered calls last this long (the caller hangs up) ...
FAS_HOLD_MS = 200  # ... except those the FAS-like carrier answers: short calls
CALLS_PER_ROUTE = 25  # x 7 routes without timeouts
TIMEOUT_CALLS_PER_ROUTE = 9  # x 3 routes through the silent carrier: 202 calls in all

# label -> carrier name in the dispatcher attrs (None: no attrs, known by its URI) and
# what its SIPp does with every INVITE (None: nothing listens at all).
CARRIERS: dict[str, tuple[str | None, Behaviour | None]] = {
    "ring200": ("ring200", Behaviour(200, "OK", ring_ms=300)),
    "busy503": ("busy503", Behaviour(503, "Service Unavailable")),
    "nf404": ("nf404", Behaviour(404, "Not Found")),
    "busy486": ("busy486", Behaviour(486, "Busy Here")),
    "na480": ("na480", Behaviour(480, "Temporarily Unavailable", ring_ms=200)),
    "silent": ("silent", Behaviour(None)),
    "fasco": ("fasco", Behaviour(200, "OK")),  # answers at once: no ringing
    "anon": (None, Behaviour(200, "OK", ring_ms=200)),
    "deadco": ("deadco", None),  # probed by Kamailio (flags 8), never answers
}
# Dispatcher set (= the dialled number's first two digits) -> carriers in priority order.
ROUTES: dict[int, list[str]] = {
    10: ["busy503", "ring200"],  # 503: fail over, connect
    11: ["silent", "ring200"],  # no reply: fail over, connect
    12: ["nf404", "ring200"],  # 404: halt
    13: ["busy486", "ring200"],  # 486: halt
    14: ["na480", "ring200"],  # 480 after ringing: halt
    15: ["fasco"],
    16: ["anon"],
    17: ["busy503", "silent", "fasco"],  # two failovers
    18: ["busy503", "nf404", "ring200"],  # a failover, then a halt
    19: ["silent"],  # no reply, nothing left: the caller gets 408
}
TIMEOUT_ROUTES = (11, 17, 19)
DEAD_SET = 20
HALT_CODES = {404, 480, 486}

CONFIG = """
[source]
kind = "kamailio"
page_limit = 50
[source.kamailio]
accounting = "{accounting}"
{db}
jsonrpc_url = "{rpc}"
[poll]
overlap = "5s"
backfill = "1d"
[metrics]
sdc_max_s = 1
"""


def test_the_records_take_what_the_source_makes_of_a_kamailio() -> None:
    """A carrier with only an id and a name, an answered time in milliseconds: asked of
    the source's own records."""
    carriers = carrier_records([Destination("x", "sip:127.0.0.1:5060", 1, 1, "active",
                                            False)])
    attempt = attempt_record(("c", 1, "x", 1.8e9, None, "1", None, "200", "OK", 1.5))
    assert validate("carriers", carriers, ["probe"])[1] == []
    assert validate("attempts", [attempt], ["probe"])[1] == []


@pytest.fixture(scope="module")
def installed() -> None:
    reason = ensure_installed()
    if reason is not None:
        # CI installs Kamailio and SIPp first (.ci/run): there, a missing one is a failure.
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _expected_codes(route: int) -> list[int]:
    """The final code of each attempt of a call on this route."""
    codes = []
    for label in ROUTES[route]:
        behaviour = CARRIERS[label][1]
        assert behaviour is not None
        code = behaviour.code or 408
        codes.append(code)
        if code == 200 or code in HALT_CODES:
            break
    return codes


def _calls(routes: list[int], per_route: int, rnd: random.Random) -> list[tuple[str, str, int]]:
    calls = []
    for route in routes:
        hold = FAS_HOLD_MS if ROUTES[route][-1] == "fasco" else HOLD_MS
        for i in range(per_route):
            calls.append((f"{route}{rnd.randrange(10**8):08d}", f"4420{route}{i:05d}", hold))
    rnd.shuffle(calls)
    return calls


def _start(rig: Rig, *, acc_db: bool, acc_json: bool, db_url: str | None = None,
           children: int = 1) -> dict[str, CarrierSpec]:
    specs = {label: CarrierSpec(name, behaviour) for label, (name, behaviour) in CARRIERS.items()}
    for label, spec in specs.items():
        rig.start_carrier(spec, label)
    sets: dict[int, list[tuple[CarrierSpec, int, int]]] = {
        setid: [(specs[label], 0, 10 - i) for i, label in enumerate(labels)]
        for setid, labels in ROUTES.items()}
    sets[DEAD_SET] = [(specs["deadco"], 8, 1)]
    if acc_db and db_url is None:
        rig.create_sqlite_db()
    rig.start_kamailio(rig.write_dispatcher_list(sets), fr_timer_ms=FR_TIMER_MS, ping_s=1,
                       acc_db=acc_db, acc_json=acc_json, db_url=db_url, children=children)
    return specs


def _poll(tmp: Path, rig: Rig, accounting: str, capsys: pytest.CaptureFixture[str],
          db_url: str | None = None) -> str:
    cfg = tmp / "noc-tui.toml"
    db = f'db_url = "{db_url or rig.acc_db_url}"' if accounting == "db" else ""
    cfg.write_text(CONFIG.format(accounting=accounting, db=db, rpc=rig.rpc_url))
    rc = main(["--config", str(cfg), "--cache", str(tmp / "cache.db"), "poll"])
    err = capsys.readouterr().err
    assert rc == 0, err
    return err


def _cached(cache_path: Path) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(cache_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM attempts ORDER BY call_id, seq")]


def _check(tmp: Path, rig: Rig, specs: dict[str, CarrierSpec], caller: Sipp,
           calls: list[tuple[str, str, int]]) -> None:
    for sipp in rig.carriers.values():
        sipp.finish(wait_s=10)
    assert not rig.kamailio_errors(), rig.kamailio_errors()[:5]
    cache_path = tmp / "cache.db"
    rows = _cached(cache_path)
    uri_of = {label: spec.uri for label, spec in specs.items()}
    carrier_id = {label: name or uri_of[label] for label, (name, _b) in CARRIERS.items()}

    # Every call placed reached Kamailio and a carrier; SIPp's caller saw them all end.
    assert caller.count(0, "INVITE", "Sent") == len(calls)
    assert len({r["call_id"] for r in rows}) == len(calls)
    # Per carrier: attempts = INVITEs its SIPp received; each final code as it sent it.
    by_carrier = Counter(r["carrier_id"] for r in rows)
    codes = Counter((r["carrier_id"], r["sip_code"]) for r in rows)
    total_invites = 0
    for label, sipp in rig.carriers.items():
        cid = carrier_id[label]
        invites = sipp.count(0, "INVITE")
        total_invites += invites
        assert by_carrier[cid] == invites, (label, by_carrier[cid], invites)
        behaviour = CARRIERS[label][1]
        assert behaviour is not None
        if behaviour.code is None:
            assert codes[(cid, 408)] == invites
        else:
            sent = sipp.first(str(behaviour.code), "Sent")
            assert codes[(cid, behaviour.code)] == sent == invites
    # No attempt lost, none counted twice (the final acc row repeats the last failure).
    assert len(rows) == total_invites
    assert "deadco" not in by_carrier

    # Each call's attempts are the route's, in order, by the number it dialled.
    route_of = {r["call_id"]: int(r["dst"][:2]) for r in rows}
    per_call: dict[str, list[int]] = {}
    for r in rows:
        per_call.setdefault(r["call_id"], []).append(r["sip_code"])
    for call_id, got in per_call.items():
        assert got == _expected_codes(route_of[call_id]), (call_id, got)
    # ... and the caller got each call's last code.
    finals = Counter(codes_[-1] for codes_ in per_call.values())
    assert finals == {code: caller.first(str(code), "Recv") for code in finals}
    assert sum(finals.values()) == len(calls)

    # PDD: ringing carriers have one, the FAS-like one and the failures without 18x not.
    for r in rows:
        rings = CARRIERS[next(lb for lb, c in carrier_id.items() if c == r["carrier_id"])][1]
        assert rings is not None
        assert (r["pdd_ms"] is not None) == (rings.ring_ms is not None), r
    # Durations: the caller's hold time, from ACK to BYE as Kamailio's one SIP worker
    # took them off its socket: within 0.5 s with 40 calls in flight on 2 busy cores.
    for r in rows:
        if r["sip_code"] == 200:
            hold = FAS_HOLD_MS if r["carrier_id"] == "fasco" else HOLD_MS
            assert abs(r["duration_s"] - hold / 1000) < 0.5, r

    settings, _ = load_settings(tmp / "noc-tui.toml")
    now = now_ms() + 1000
    with Cache(cache_path, settings.metrics, readonly=True) as cache:
        metrics = {m["id"]: m for m in carrier_metrics(cache, now, 86400, settings.metrics)}
        routing = load_routing(cache.conn)
        fo = {label: failover_calls(cache, carrier_id[label], now, 86400, settings.metrics)
              for label in ("busy503", "silent", "nf404", "busy486", "na480")}
    for label in CARRIERS:
        cid = carrier_id[label]
        m = metrics[cid]
        assert m["attempts"] == by_carrier[cid]
        assert m["halt_violations"] == 0
        assert m["connected"] == codes[(cid, 200)]
    # Failovers: 503 and no reply fail over to the next carrier; 404/480/486 halt.
    calls_on = Counter(route_of[c] for c in per_call)
    assert len(fo["busy503"]) == calls_on[10] + calls_on[17]
    assert Counter(f["connected_carrier_id"] for f in fo["busy503"]) == \
        {"ring200": calls_on[10], "fasco": calls_on[17]}
    assert {f["failed_code"] for f in fo["busy503"]} == {503}
    assert len(fo["silent"]) == calls_on[11] + calls_on[17]
    assert {f["failed_code"] for f in fo["silent"]} == {408}
    for label in ("nf404", "busy486", "na480"):
        assert fo[label] == [] and metrics[label]["failover_out"] == 0
    # FAS: the carrier answering at once with short calls; not the ringing ones.
    assert metrics["fasco"]["fas_suspect"] is True
    assert {"NO_RING", "SHORT_CALLS"} <= set(metrics["fasco"]["fas_flags"])
    for label in ("ring200", "anon"):
        assert "NO_RING" not in metrics[carrier_id[label]]["fas_flags"]
        assert not metrics[carrier_id[label]]["fas_suspect"]

    # Dispatcher state: every destination, deadco inactive after its probes failed.
    assert set(routing) == set(carrier_id.values())
    assert routing["deadco"].down and routing["deadco"].label == "inactive"
    assert routing["deadco"].gateways[0].probing
    for label in CARRIERS:
        if label != "deadco":
            assert routing[carrier_id[label]].label == "active", label
    # The carrier list shows it: a Routing value per carrier, deadco DOWN.
    snap = list_snapshot(cache_path, settings, tmp / "noc-tui.toml", "24h", now)
    shown = {r["id"]: r for r in snap.rows}
    assert shown["deadco"]["health"] == "down" and shown["deadco"]["routing"] == "inactive"
    assert shown["ring200"]["routing"] == "active" and shown["ring200"]["health"] != "down"
    assert shown[uri_of["anon"]]["name"] == uri_of["anon"]


def _wait_for_inactive(rig: Rig, uri: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _, answer = rig.rpc("dispatcher.list")
        for rec in answer["result"]["RECORDS"]:
            for t in rec["SET"]["TARGETS"]:
                if t["DEST"]["URI"] == uri and t["DEST"]["FLAGS"].startswith("I"):
                    return
        time.sleep(0.2)
    raise AssertionError(f"Kamailio did not mark {uri} inactive in {timeout_s} s")


def test_sqlite_accounting_end_to_end(installed: None, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    rnd = random.Random(12)
    with Rig(tmp_path / "rig") as rig:
        specs = _start(rig, acc_db=True, acc_json=False)
        mixed = _calls([r for r in ROUTES if r not in TIMEOUT_ROUTES], CALLS_PER_ROUTE, rnd)
        timeouts = _calls(list(TIMEOUT_ROUTES), TIMEOUT_CALLS_PER_ROUTE, rnd)
        first = rig.run_caller(mixed, rate=50, limit=40, timeout_s=60, name="mixed")
        assert first.count(0, "INVITE", "Sent") == len(mixed)
        # The timed-out calls one at a time (see the module's docstring), while noc-tui
        # polls the live database: a poll mid-traffic, then one at the end.
        polled: list[str] = []
        poller = threading.Timer(3.0, lambda: polled.append(
            _poll(tmp_path, rig, "db", capsys)))
        poller.start()
        try:
            second = rig.run_caller(timeouts, rate=10, limit=1, timeout_s=60, name="timeouts")
        finally:
            poller.join(30)
        assert polled, "the poll during traffic did not finish"
        _poll(tmp_path, rig, "db", capsys)
        _wait_for_inactive(rig, specs["deadco"].uri)
        _poll(tmp_path, rig, "db", capsys)
        caller = _merged(first, second)
        _check(tmp_path, rig, specs, caller, mixed + timeouts)
        # One Kamailio row per attempt or per call end was written: nothing was lost to
        # locking (db_sqlite logs each such loss as an ERROR, checked in _check too).
        assert "database is locked" not in rig.kamailio.output()  # type: ignore[union-attr]


def test_mqueue_accounting_end_to_end(installed: None, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    rnd = random.Random(34)
    with Rig(tmp_path / "rig") as rig:
        specs = _start(rig, acc_db=False, acc_json=True)
        calls = _calls([r for r in ROUTES if r not in TIMEOUT_ROUTES], CALLS_PER_ROUTE, rnd)
        calls += _calls(list(TIMEOUT_ROUTES), TIMEOUT_CALLS_PER_ROUTE, rnd)
        rnd.shuffle(calls)
        # Everything mixed, timeouts included, with a poll draining the queues meanwhile.
        polled: list[str] = []
        poller = threading.Timer(3.0, lambda: polled.append(
            _poll(tmp_path, rig, "mqueue", capsys)))
        poller.start()
        try:
            caller = rig.run_caller(calls, rate=50, limit=40, timeout_s=60, name="mixed")
        finally:
            poller.join(30)
        assert polled, "the poll during traffic did not finish"
        _wait_for_inactive(rig, specs["deadco"].uri)
        _poll(tmp_path, rig, "mqueue", capsys)
        _check(tmp_path, rig, specs, caller, calls)
        # The queues were drained: nothing waits in Kamailio's memory.
        _, sizes = rig.rpc("mqueue.get_sizes")
        assert {q["name"]: q["size"] for q in sizes["result"]} == \
            {"acc_events": 0, "cdr_events": 0}


def _merged(a: Sipp, b: Sipp) -> Sipp:
    """The counters of two runs of the caller scenario, added."""
    merged = Sipp(a.proc, a.scenario)
    merged.counts = Counter(a.counts) + Counter(b.counts)
    return merged


@pytest.fixture
def postgres(installed: None, tmp_path: Path) -> Iterator[Postgres]:
    bindir = postgres_bin()
    if bindir is None:
        reason = "no PostgreSQL server: integrations/kamailio/install-deps.sh installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    pg = Postgres(bindir, tmp_path)
    try:
        pg.start()
        pg.psql("kamailio", POSTGRES_SCHEMA.read_text(), user="kamailio")
        pg.psql("kamailio", "GRANT SELECT ON acc, missed_calls, acc_cdrs TO noc_ro;",
                user="kamailio")
        yield pg
    finally:
        pg.stop()


def test_postgres_accounting_end_to_end(postgres: Postgres, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """PostgreSQL takes writes from every Kamailio process at once: four SIP workers,
    all calls mixed, timeouts included; noc-tui reads as a user that may only read."""
    rnd = random.Random(56)
    ro_url = postgres.url("noc_ro", Postgres.RO_PASSWORD)
    with Rig(tmp_path / "rig") as rig:
        specs = _start(rig, acc_db=True, acc_json=False, children=4,
                       db_url=postgres.url("kamailio", Postgres.PASSWORD))
        calls = _calls([r for r in ROUTES if r not in TIMEOUT_ROUTES], CALLS_PER_ROUTE, rnd)
        calls += _calls(list(TIMEOUT_ROUTES), TIMEOUT_CALLS_PER_ROUTE, rnd)
        rnd.shuffle(calls)
        polled: list[str] = []
        poller = threading.Timer(3.0, lambda: polled.append(
            _poll(tmp_path, rig, "db", capsys, ro_url)))
        poller.start()
        try:
            caller = rig.run_caller(calls, rate=50, limit=40, timeout_s=60, name="mixed")
        finally:
            poller.join(30)
        assert polled, "the poll during traffic did not finish"
        _wait_for_inactive(rig, specs["deadco"].uri)
        err = _poll(tmp_path, rig, "db", capsys, ro_url)
        assert Postgres.RO_PASSWORD not in err
        _check(tmp_path, rig, specs, caller, calls)
    # The password never reached the cache (poll_runs.source keeps where it polled).
    with contextlib.closing(sqlite3.connect(tmp_path / "cache.db")) as conn:
        sources = {r[0] for r in conn.execute("SELECT source FROM poll_runs")}
    assert sources and all(Postgres.RO_PASSWORD not in s and "noc_ro:***@" in s
                           for s in sources)


def test_postgres_wrong_password_is_one_line(postgres: Postgres, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "noc-tui.toml"
    cfg.write_text('[source]\nkind = "kamailio"\n[source.kamailio]\n'
                   f'db_url = "{postgres.url("noc_ro", "wrong-pw")}"\n')
    assert main(["--config", str(cfg), "--cache", str(tmp_path / "c.db"), "poll"]) == 2
    err = capsys.readouterr().err
    assert "failed (unauthorised): source.kamailio.db_url" in err
    assert "wrong-pw" not in err and "Traceback" not in err
    # The tables missing: the message names the table and the schema to create.
    postgres.psql("kamailio", "DROP TABLE acc_cdrs;", user="kamailio")
    cfg.write_text(cfg.read_text().replace("wrong-pw", Postgres.RO_PASSWORD))
    assert main(["--config", str(cfg), "--cache", str(tmp_path / "c.db"), "poll"]) == 2
    err = capsys.readouterr().err
    assert "no table acc_cdrs" in err and "integrations/kamailio/schema" in err


def test_mqueue_overflow_is_reported(installed: None, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A queue that filled up between two polls lost events: the poll says so (and
    keeps what it fetched); once drained, the next poll is fine again."""
    with Rig(tmp_path / "rig") as rig:
        spec = CarrierSpec("nf404", CARRIERS["nf404"][1])
        rig.start_carrier(spec, "nf404")
        rig.start_kamailio(rig.write_dispatcher_list({12: [(spec, 0, 1)]}),
                           fr_timer_ms=FR_TIMER_MS, acc_db=False, acc_json=True,
                           mqueue_size=4)
        calls = [(f"12{i:08d}", "4420700000", HOLD_MS) for i in range(6)]
        caller = rig.run_caller(calls, rate=20, limit=6, timeout_s=30)
        assert caller.first("404", "Recv") == 6
        cfg = tmp_path / "noc-tui.toml"
        cfg.write_text(CONFIG.format(accounting="mqueue", db="mqueue_size = 4",
                                     rpc=rig.rpc_url))
        argv = ["--config", str(cfg), "--cache", str(tmp_path / "cache.db"), "poll"]
        assert main(argv) == 2  # the poll failed
        err = capsys.readouterr().err
        assert "failed (bad-data): Kamailio's mqueue acc_events was full (4 events)" in err
        assert "MQUEUE_SIZE" in err and "Traceback" not in err
        # The 4 newest events survived (acc_json writes one event for a call that fails
        # on its only carrier), and are kept in the cache.
        assert len(_cached(tmp_path / "cache.db")) == 4
        assert main(argv) == 0
        capsys.readouterr()
