"""The Kamailio source without Kamailio: accounting rows written by hand into the shipped
schema (integrations/kamailio/schema/sqlite.sql), dispatcher.list answers as Kamailio
5.6 gives them, and every bad setting or database an operator can point it at. The
source against a real Kamailio is tests/test_kamailio.py."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from noc_tui.cli import main
from noc_tui.config import KamailioSettings, SourceSettings
from noc_tui.records.timefmt import iso_to_ms
from noc_tui.sources import open_source
from noc_tui.sources.base import BAD_DATA, CLIENT_ERROR, UNREACHABLE, SourceError
from noc_tui.sources.kamailio import (
    NO_CDR,
    KamailioSource,
    attempt_record,
    destinations,
    redact_url,
    sqlite_path,
)
from tests.kamailio_rig import SQLITE_SCHEMA, free_port

T0 = 1_800_000_000.0  # epoch seconds


def _source(db: Path | None = None, **kw: Any) -> KamailioSource:
    k = KamailioSettings(db_url=f"sqlite:///{db}" if db else None, **kw)
    return KamailioSource(SourceSettings(kind="kamailio", kamailio=k, page_limit=2))


def _acc_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.executescript(SQLITE_SCHEMA.read_text())
    return conn


def _row(conn: sqlite3.Connection, table: str, callid: str, attempt: int, carrier: str,
         code: int, reason: str, t_inv: float, written: float, t_18x: float | None = None,
         dst: str = "4420700001") -> None:
    conn.execute(
        f"INSERT INTO {table} (method, from_tag, to_tag, callid, sip_code, sip_reason, time, "
        "time_s, carrier, attempt, t_inv, t_18x, dst, cli) "
        "VALUES ('INVITE', 'f', NULL, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, '4420799999')",
        (callid, str(code), reason, written, carrier, attempt, t_inv, t_18x, dst))


def _items(src: KamailioSource, since: float, until: float) -> list[dict[str, Any]]:
    return [i for p in src.attempts(round(since * 1000), round(until * 1000))
            for i in json.loads(p.body)["items"]]


@pytest.fixture
def acc(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    path = tmp_path / "acc.db"
    conn = _acc_db(path)
    # c1: 503 on A, failover, answered by B (rings 1.2 s), ends at T0+100 (CDR).
    _row(conn, "missed_calls", "c1", 1, "A", 503, "Service Unavailable", T0, T0 + 0.01)
    _row(conn, "acc", "c1", 2, "B", 200, "OK", T0 + 0.02, T0 + 2.0, t_18x=T0 + 1.22,
         dst="+4420700001")
    conn.execute("INSERT INTO acc_cdrs (callid, duration, time_s) VALUES ('c1', 98.125, ?)",
                 (T0 + 100,))
    # c2: 404 on A halts: missed_calls and acc both hold attempt 1.
    _row(conn, "missed_calls", "c2", 1, "A", 404, "Not Found", T0 + 1, T0 + 1.01)
    _row(conn, "acc", "c2", 1, "A", 404, "Not Found", T0 + 1, T0 + 1.02)
    # c3: answered at T0+3, still up (no CDR).
    _row(conn, "acc", "c3", 1, "B", 200, "OK", T0 + 2.5, T0 + 3)
    conn.commit()
    yield path, conn
    conn.close()


def test_each_attempt_once_in_publication_order(acc: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = acc
    with _source(path) as src:
        items = _items(src, T0, T0 + 200)
    # c1's failed branch, c2 once (not twice), then c1's answer when its call ended.
    assert [(i["call_id"], i["seq"]) for i in items] == [("c1", 1), ("c2", 1), ("c1", 2)]
    fail, halt, answer = items
    assert fail == {"call_id": "c1", "seq": 1, "carrier_id": "A",
                    "started_at": "2027-01-15T08:00:00.000Z", "dst": "4420700001",
                    "cli": "4420799999", "sip_code": 503, "sip_reason": "Service Unavailable",
                    "pdd_ms": None, "duration_s": 0, "release_reason": None}
    assert halt["sip_code"] == 404
    assert answer["pdd_ms"] == 1200 and answer["duration_s"] == 98.125
    assert answer["dst"] == "4420700001"  # the + of E.164 dropped


def test_window_is_publication_time(acc: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = acc
    with _source(path) as src:
        # Before c1 ended its answer is not published; the failed attempts are.
        assert [(i["call_id"], i["seq"]) for i in _items(src, T0, T0 + 50)] == \
            [("c1", 1), ("c2", 1)]
        assert [(i["call_id"], i["seq"]) for i in _items(src, T0 + 50, T0 + 200)] == \
            [("c1", 2)]


def test_answer_without_cdr_published_after_max_call(
        acc: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = acc
    with _source(path, max_call="1h") as src:
        assert "c3" not in {i["call_id"] for i in _items(src, T0, T0 + 3599)}
        late = _items(src, T0 + 3599, T0 + 3700)
    assert [(i["call_id"], i["duration_s"], i["release_reason"]) for i in late] == \
        [("c3", 0, NO_CDR)]


def test_pages_and_resume_point(acc: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = acc
    with _source(path) as src:  # page_limit 2
        pages = list(src.attempts(round(T0 * 1000), round((T0 + 200) * 1000)))
    assert [p.count for p in pages] == [2, 1]
    assert pages[0].next_cursor and pages[1].next_cursor is None
    # Where a killed poll resumes: the last item's publication time.
    assert iso_to_ms(pages[0].last_started_at) == round((T0 + 1.01) * 1000)


def test_empty_values_reach_the_validator() -> None:
    assert attempt_record(("c", "inf", "A", "nan", "inf", "1", None, "1e999", None, "inf"))
    rec = attempt_record(("c", None, "", "not a time", "", "44x", None, "abc", "", None))
    # Nothing dropped, nothing invented: the record's validation says what is wrong.
    assert (rec["seq"], rec["carrier_id"], rec["started_at"], rec["sip_code"]) == \
        (None, None, "not a time", "abc")
    assert rec["dst"] == "44x" and rec["pdd_ms"] is None


def test_sqlite_url_four_slashes(tmp_path: Path) -> None:
    db = tmp_path / "acc.db"
    db.touch()
    assert sqlite_path(f"sqlite:///{db}") == db
    with pytest.raises(ValueError, match="four slashes") as err:
        sqlite_path(f"sqlite://{db}")
    assert f"sqlite:///{db}" in str(err.value)


def test_database_errors_name_the_setting(tmp_path: Path) -> None:
    with _source(tmp_path / "missing.db") as src, pytest.raises(SourceError) as err:
        list(src.attempts(0, 1))
    assert err.value.kind == UNREACHABLE and "source.kamailio.db_url" in err.value.message
    stock = tmp_path / "stock.db"
    with sqlite3.connect(stock) as conn:  # Debian's acc-create.sql: no extra columns
        conn.executescript("""
            CREATE TABLE acc (id INTEGER PRIMARY KEY, method, from_tag, to_tag, callid,
                              sip_code, sip_reason, time);""")
    with _source(stock) as src, pytest.raises(SourceError) as err:
        list(src.attempts(0, 1))
    assert err.value.kind == BAD_DATA
    assert "table acc has no column time_s, carrier, attempt, t_inv" in err.value.message
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with _source(empty) as src, pytest.raises(SourceError, match="no table acc"):
        list(src.attempts(0, 1))


def test_reading_never_writes(acc: tuple[Path, sqlite3.Connection]) -> None:
    path, conn = acc
    before = path.read_bytes()
    with _source(path) as src:
        _items(src, T0, T0 + 200)
    assert path.read_bytes() == before
    # ... and a writer holding its transaction open does not stop the reader (WAL).
    conn.execute("BEGIN IMMEDIATE")
    _row(conn, "acc", "c9", 1, "A", 486, "Busy Here", T0 + 5, T0 + 5)
    with _source(path) as src:
        assert len(_items(src, T0, T0 + 200)) == 3
    conn.commit()


DISPATCHER = {"NRSETS": 2, "RECORDS": [
    {"SET": {"ID": 10, "TARGETS": [
        {"DEST": {"URI": "sip:10.0.0.1:5060", "FLAGS": "AP", "PRIORITY": 10,
                  "ATTRS": {"BODY": "weight=50;carrier=nordlink", "DUID": None}}},
        {"DEST": {"URI": "sip:10.0.0.2:5060", "FLAGS": "IP", "PRIORITY": 5,
                  "ATTRS": {"BODY": "carrier=nordlink"}}},
        {"DEST": {"URI": "sip:10.0.0.3:5060", "FLAGS": "DX", "PRIORITY": 1}}]}},
    {"SET": {"ID": 20, "TARGETS": [
        {"DEST": {"URI": "sip:10.0.0.4:5060", "FLAGS": "TX", "PRIORITY": 0,
                  "ATTRS": {"BODY": "duid=x"}}}]}}]}


def test_dispatcher_list() -> None:
    got = [(d.carrier_id, d.set_id, d.priority, d.state, d.probing)
           for d in destinations(DISPATCHER)]
    assert got == [("nordlink", 10, 10, "active", True), ("nordlink", 10, 5, "inactive", True),
                   ("sip:10.0.0.3:5060", 10, 1, "disabled", False),
                   ("sip:10.0.0.4:5060", 20, 0, "trying", False)]
    for bad in ([], {"RECORDS": [{"SET": {"ID": 1, "TARGETS": [{"DEST": {"URI": "x"}}]}}]},
                {"RECORDS": [{"nope": 1}]}):
        with pytest.raises(SourceError) as err:
            destinations(bad)
        assert err.value.kind == BAD_DATA and "dispatcher.list" in err.value.message


class _FakeKamailio(BaseHTTPRequestHandler):
    """Kamailio's JSON-RPC as it answers (status line and body) for the few methods the
    source calls: the answers come from the server's `answers`."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server: Any = self.server
        server.calls.append((body["method"], body["params"]))
        status, answer = server.answer(body["method"], body["params"])
        data = json.dumps({"jsonrpc": "2.0", **answer, "id": body["id"]}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_rpc() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeKamailio)
    server.calls = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _mqueue_answers(events: dict[str, list[str]], sizes: dict[str, int]) -> Any:
    def answer(method: str, params: list[Any]) -> tuple[int, dict[str, Any]]:
        if method == "mqueue.get_sizes":
            return 200, {"result": [{"name": n, "size": s} for n, s in sizes.items()]}
        if method == "mqueue.fetch":
            queue = events.get(params[0])
            if queue is None:
                return 500, {"error": {"code": 500, "message": "No such queue"}}
            if not queue:
                return 404, {"error": {"code": 404, "message": "Empty queue"}}
            return 200, {"result": {"key": "acc", "val": queue.pop(0)}}
        if method == "dispatcher.list":
            return 200, {"result": DISPATCHER}
        return 500, {"error": {"code": 500, "message": "Method Not Found"}}
    return answer


def _event(callid: str, attempt: int, code: int, t: float, carrier: str = "nordlink") -> str:
    return json.dumps({"time": t, "method": "INVITE", "callid": callid, "sip_code": str(code),
                       "sip_reason": "x", "carrier": carrier, "attempt": str(attempt),
                       "t_inv": str(t - 0.5), "t_18x": "", "dst": "4420700001", "cli": ""})


def _mqueue_source(tmp_path: Path, server: Any, size: int = 100) -> KamailioSource:
    k = KamailioSettings(accounting="mqueue", mqueue_size=size,
                         jsonrpc_url=f"http://127.0.0.1:{server.server_port}/RPC")
    return KamailioSource(SourceSettings(kind="kamailio", kamailio=k),
                          state_path=tmp_path / "cache.db")


def test_mqueue_events_spooled_once(tmp_path: Path, fake_rpc: Any) -> None:
    acc_q = [_event("m1", 1, 503, T0), _event("m1", 2, 486, T0 + 1),
             _event("m1", 2, 486, T0 + 1.001),  # the call's final outcome: the same attempt
             "not json {"]
    fake_rpc.answer = _mqueue_answers({"acc_events": acc_q, "cdr_events": []},
                                      {"acc_events": 4, "cdr_events": 0})
    with _mqueue_source(tmp_path, fake_rpc) as src:
        items = _items(src, 0, 2e9)
    assert [(i.get("call_id"), i.get("seq")) if isinstance(i, dict) else i for i in items] == \
        [("m1", 1), ("m1", 2), "not json {"]
    # Drained: the events now live in the spool beside the cache, and a second poll
    # (nothing left in Kamailio) still serves its window from there.
    assert (tmp_path / "cache.db.kamailio-spool").exists()
    with _mqueue_source(tmp_path, fake_rpc) as src:
        assert len(_items(src, 0, 2e9)) == 3


def test_spool_keeps_answers_until_published(tmp_path: Path) -> None:
    from noc_tui.sources.kamailio import Spool

    spool = Spool(tmp_path / "spool")
    old, new = T0 - 10 * 86400, T0
    spool.add("acc_events", _event("failed", 1, 503, old), old)
    spool.add("acc_events", _event("ended", 1, 200, old), old)
    spool.add("cdr_events", json.dumps({"callid": "ended", "duration": "9.5",
                                        "time_s": old + 10}), old)
    spool.add("acc_events", _event("long", 1, 200, old), old)  # still up: no CDR yet
    spool.add("cdr_events", json.dumps({"callid": "late", "duration": "1",
                                        "time_s": new}), new)
    spool.add("acc_events", _event("late", 1, 200, old), old)  # ended just now
    spool.conn.commit()
    spool.prune(new - 86400, max_call_s=30 * 86400)
    assert sorted(r[0] for r in spool.conn.execute("SELECT callid FROM acc")) == \
        ["late", "long"]
    assert [r[0] for r in spool.conn.execute("SELECT callid FROM acc_cdrs")] == ["late"]
    spool.prune(new - 86400, max_call_s=3600)  # "long" was published without a CDR
    assert sorted(r[0] for r in spool.conn.execute("SELECT callid FROM acc")) == ["late"]
    spool.close()


def test_mqueue_overflow_is_reported_after_draining(tmp_path: Path, fake_rpc: Any) -> None:
    acc_q = [_event(f"o{i}", 1, 503, T0 + i) for i in range(3)]
    fake_rpc.answer = _mqueue_answers({"acc_events": acc_q, "cdr_events": []},
                                      {"acc_events": 3, "cdr_events": 0})
    with _mqueue_source(tmp_path, fake_rpc, size=3) as src:
        pages = src.attempts(round((T0 - 1) * 1000), round((T0 + 10) * 1000))
        first = next(pages)
        assert first.count == 3  # what was fetched is served first ...
        with pytest.raises(SourceError) as err:
            next(pages)  # ... then the poll fails, saying why
    assert err.value.kind == BAD_DATA
    assert "mqueue acc_events was full (3 events)" in err.value.message
    assert "source.kamailio.mqueue_size" in err.value.message
    assert acc_q == []


def test_jsonrpc_errors(tmp_path: Path, fake_rpc: Any) -> None:
    fake_rpc.answer = _mqueue_answers({"acc_events": []}, {"acc_events": 0})
    with _mqueue_source(tmp_path, fake_rpc) as src, pytest.raises(SourceError) as err:
        list(src.attempts(0, 1))
    assert err.value.kind == CLIENT_ERROR and "no mqueue cdr_events" in err.value.message
    assert "WITH_ACC_JSON" in err.value.message
    k = KamailioSettings(accounting="mqueue",
                         jsonrpc_url=f"http://127.0.0.1:{free_port(1)}/RPC")
    with KamailioSource(SourceSettings(kind="kamailio", kamailio=k),
                        state_path=tmp_path / "c.db") as src, \
            pytest.raises(SourceError) as err:
        list(src.carriers())
    assert err.value.kind == UNREACHABLE
    assert "source.kamailio.jsonrpc_url" in err.value.message and "xhttp" in err.value.message


def test_carriers_from_dispatcher(tmp_path: Path, fake_rpc: Any) -> None:
    fake_rpc.answer = _mqueue_answers({}, {})
    k = KamailioSettings(db_url=f"sqlite:///{tmp_path}/acc.db",
                         jsonrpc_url=f"http://127.0.0.1:{fake_rpc.server_port}/RPC")
    with open_source(SourceSettings(kind="kamailio", kamailio=k)) as src:
        assert src.destinations() is src.destinations()  # one dispatcher.list a poll
        (page,) = list(src.carriers())
    unknown = dict.fromkeys(("status", "channels", "cps", "currency", "halt_codes"))
    assert json.loads(page.body)["items"] == [
        {"id": "nordlink", "name": "nordlink", **unknown},
        {"id": "sip:10.0.0.3:5060", "name": "sip:10.0.0.3:5060", **unknown},
        {"id": "sip:10.0.0.4:5060", "name": "sip:10.0.0.4:5060", **unknown}]
    assert [c[0] for c in fake_rpc.calls] == ["dispatcher.list"]


def test_password_never_shown() -> None:
    url = "postgres://noc:s3cret@db.example:5432/kamailio"
    assert redact_url(url) == "postgres://noc:***@db.example:5432/kamailio"
    k = KamailioSettings(db_url=url, jsonrpc_url="http://rpc:p4ss@127.0.0.1:5071/RPC")
    with KamailioSource(SourceSettings(kind="kamailio", kamailio=k)) as src:
        shown = src.display_url  # what poll_runs stores and the dashboard shows
    assert "s3cret" not in shown and "p4ss" not in shown and "db.example" in shown


def test_poll_says_which_setting_is_missing(tmp_path: Path, isolated_config: None,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[source]\nkind = "kamailio"\n')
    assert main(["--config", str(cfg), "--cache", str(tmp_path / "x.db"), "poll"]) == 2
    err = capsys.readouterr().err
    assert "source.kamailio.db_url is not set" in err and str(cfg) in err
    cfg.write_text('[source]\nkind = "kamailio"\n[source.kamailio]\n'
                   f'db_url = "sqlite://{tmp_path}/acc.db"\n')
    assert main(["--config", str(cfg), "--cache", str(tmp_path / "x.db"), "poll"]) == 2
    err = capsys.readouterr().err
    assert "four slashes" in err and "Traceback" not in err
