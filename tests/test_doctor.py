"""`noc-tui doctor` against real servers on loopback: the fake ConnexCS account, the demo
switch (API v1), a Kamailio accounting file and a fake Kamailio JSON-RPC. Each problem
doctor reports has a test that makes it happen and reads the line and the exit status."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noc_tui.cli import main
from noc_tui.config import Settings
from noc_tui.demo_switch import DemoSwitch
from noc_tui.records.timefmt import HOUR_MS, now_ms
from noc_tui.sync.doctor import CHECKERS, OK, PROBLEM, WARN, Check, doctor
from tests.fake_connexcs import PASSWORD, PASTED_TOKEN, USER, FakeConnexCS, make_account
from tests.kamailio_rig import SQLITE_SCHEMA, free_port

T0 = now_ms() // HOUR_MS * HOUR_MS - 6 * HOUR_MS


@pytest.fixture
def fake() -> Iterator[FakeConnexCS]:
    server = FakeConnexCS(make_account(3, T0, 6, fractional=False)).start()
    try:
        yield server
    finally:
        server.stop()


def _cx(fake: FakeConnexCS, **kw: Any) -> Settings:
    source: dict[str, Any] = {"kind": "connexcs", "url": fake.url, "username": USER,
                              "password": PASSWORD, "retries": 1}
    source.update(kw.pop("source", {}))
    return Settings(source={**source, "connexcs": kw})


def _checks(settings: Settings) -> list[Check]:
    return list(doctor(settings))


def _find(checks: list[Check], what: str, status: str) -> Check:
    found = [c for c in checks if c.what == what and c.status == status]
    assert found, f"no {status} {what!r} in:\n" + "\n".join(c.line() for c in checks)
    return found[0]


def _run(tmp_path: Path, toml: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(toml)
    cfg.chmod(0o600)
    status = main(["doctor", "--config", str(cfg)])
    return status, capsys.readouterr().out


# -- ConnexCS -------------------------------------------------------------------------------


def test_a_healthy_account(fake: FakeConnexCS, tmp_path: Path, isolated_config: None,
                           capsys: pytest.CaptureFixture[str]) -> None:
    status, out = _run(tmp_path, f'[source]\nkind = "connexcs"\nurl = "{fake.url}"\n'
                                 f'username = "{USER}"\npassword = "{PASSWORD}"\n', capsys)
    lines = out.splitlines()
    assert status == 0 and lines[-1] == "no problem found", out
    assert not [line for line in lines if line.startswith(PROBLEM)]
    for what in ("reachability", "credentials", "carrier list", "contact list",
                 "rate cards", "rate card rules", "CDR query", "CDR columns",
                 "failed attempts"):
        assert any(line.startswith(f"ok      {what}:") for line in lines), (what, out)
    assert "account 'Example Telecom Ltd'" in out
    # The account's API document lists every path but the guessed contact one.
    assert "source.connexcs.contacts_path = 'contact'" in out
    assert PASSWORD not in out


def test_missing_credentials(fake: FakeConnexCS) -> None:
    checks = _checks(_cx(fake, source={"username": None, "password": None}))
    assert "source.username" in _find(checks, "configuration", PROBLEM).detail


def test_unreachable() -> None:
    settings = Settings(source={"kind": "connexcs", "url": f"http://127.0.0.1:{free_port(1)}/"
                                f"api/cp/", "username": USER, "password": PASSWORD,
                                "retries": 0})
    check = _find(_checks(settings), "reachability", PROBLEM)
    assert "source.url" in check.fix


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    return cert, key


def test_tls_certificate_not_trusted_then_trusted(certificate: tuple[Path, Path]) -> None:
    server = FakeConnexCS(make_account(3, T0, 2, fractional=False), tls=certificate).start()
    try:
        checks = _checks(_cx(server))
        assert "ca_bundle" in _find(checks, "TLS", PROBLEM).fix
        trusted = _checks(_cx(server, source={"ca_bundle": str(certificate[0])}))
        assert "verified" in _find(trusted, "TLS", OK).detail
        unchecked = _checks(_cx(server, source={"verify_tls": False}))
        assert "verify_tls" in _find(unchecked, "TLS", WARN).fix
    finally:
        server.stop()


def test_wrong_password(fake: FakeConnexCS) -> None:
    fake.refuse = True
    check = _find(_checks(_cx(fake)), "credentials", PROBLEM)
    assert "source.username" in check.fix and PASSWORD not in check.line()


def test_no_permission(fake: FakeConnexCS) -> None:
    fake.forbid = {"setup/account"}
    assert "HTTP 403" in _find(_checks(_cx(fake)), "permissions", PROBLEM).detail


def test_a_wrong_base_url_answering_a_login_page(fake: FakeConnexCS) -> None:
    fake.html_200 = True
    check = _find(_checks(_cx(fake)), "reachability", PROBLEM)
    assert "HTML page" in check.detail and "source.url" in check.fix


def test_jwt_and_a_pasted_token_are_checked_too(fake: FakeConnexCS) -> None:
    checks = _checks(_cx(fake, auth="jwt"))
    assert _find(checks, "credentials", OK) and fake.issued
    assert not [t for t in fake.issued if t in "\n".join(c.line() for c in checks)]
    fake.refuse = True
    assert _find(_checks(_cx(fake, auth="jwt")), "credentials", PROBLEM)
    fake.refuse = False
    token = {"username": None, "password": None, "token": PASTED_TOKEN}
    checks = _checks(_cx(fake, source=token))
    assert _find(checks, "credentials", OK)
    assert PASTED_TOKEN not in "\n".join(c.line() for c in checks)


def test_api_document_missing(fake: FakeConnexCS) -> None:
    fake.spec = False
    assert "tried below" not in _find(_checks(_cx(fake)), "API document", WARN).detail


def test_a_guessed_path_the_account_lacks(fake: FakeConnexCS) -> None:
    fake.missing = {"carrier"}
    check = _find(_checks(_cx(fake)), "carrier list", PROBLEM)
    assert "HTTP 404" in check.detail and "source.connexcs.carriers_path" in check.fix


def test_a_field_mapping_the_account_does_not_have(fake: FakeConnexCS) -> None:
    checks = _checks(_cx(fake, carrier_fields={"id": "carrier_no", "cps": "max_cps"}))
    check = _find(checks, "carrier list", PROBLEM)
    assert "carrier_fields.id" in check.detail and "company_id" in check.fix
    assert "carrier_fields.cps" in _find(checks, "carrier list", WARN).detail


def test_sample_rows_that_would_be_quarantined(fake: FakeConnexCS) -> None:
    checks = _checks(_cx(fake, carrier_fields={"status": "name"}))  # a field, wrong values
    assert _find(checks, "carrier list", OK)  # the mapped fields are there...
    assert "status" in _find(checks, "carrier list", PROBLEM).detail  # ...not their values


def test_rate_cards_with_no_carrier_field(fake: FakeConnexCS) -> None:
    check = _find(_checks(_cx(fake, card_carrier_field="vendor")), "rate cards", PROBLEM)
    assert "provider_id" in check.fix and "card_carrier_field" in check.fix


def test_rate_card_rules_path_wrong(fake: FakeConnexCS) -> None:
    checks = _checks(_cx(fake, card_rules_path="card/{card_id}/rules"))
    assert "card_rules_path" in _find(checks, "rate card rules", PROBLEM).fix


def test_cdr_query_failing(fake: FakeConnexCS) -> None:
    fake.errors_500 = 100
    check = _find(_checks(_cx(fake)), "CDR query", PROBLEM)
    assert "source.connexcs.cdr_query" in check.detail and "cdr_query" in check.fix
    assert " UTC" in check.detail  # the window


def test_cdr_columns_the_account_lacks(fake: FakeConnexCS) -> None:
    fake.cdr_columns = ["dt", "callid", "provider_id", "dest_number", "duration", "sip_code",
                        "pdd_out", "dest_cli", "sip_reason", "release_reason"]
    checks = _checks(_cx(fake))
    check = _find(checks, "CDR columns", PROBLEM)
    assert "cdr_columns.seq" in check.detail and "branch_idx" in check.detail
    assert "callid" in check.fix  # what the answer does have


def test_optional_cdr_columns_missing_are_warnings(fake: FakeConnexCS) -> None:
    fake.cdr_columns = ["dt", "callid", "branch_idx", "provider_id", "dest_number", "duration",
                        "sip_code"]
    checks = _checks(_cx(fake))
    warned = {c.detail.split("(")[1].split(")")[0] for c in checks
              if c.what == "CDR columns" and c.status == WARN}
    assert warned == {"source.connexcs.cdr_columns.cli", "source.connexcs.cdr_columns.pdd_ms",
                      "source.connexcs.cdr_columns.sip_reason",
                      "source.connexcs.cdr_columns.release_reason"}
    assert not [c for c in checks if c.status == PROBLEM and c.what == "CDR columns"]


def test_cdr_rows_that_would_be_quarantined(fake: FakeConnexCS) -> None:
    checks = _checks(_cx(fake, cdr_columns={"sip_code": "dest_cli"}))  # numbers, not codes
    check = _find(checks, "CDR rows", PROBLEM)
    assert "would be quarantined" in check.detail and "sip_code" in check.detail


def test_no_cdr_rows(fake: FakeConnexCS) -> None:
    fake.account.attempts.clear()
    fake.account.unrouted.clear()
    assert "no rows" in _find(_checks(_cx(fake)), "CDR query", WARN).detail


def test_connected_calls_only() -> None:
    server = FakeConnexCS(make_account(4, T0, 6, failures=False, fractional=False)).start()
    try:
        check = _find(_checks(_cx(server)), "failed attempts", WARN)
        assert "unknown" in check.detail and "connected" in check.detail
    finally:
        server.stop()


def test_problems_exit_1_and_control_characters_are_escaped(
        fake: FakeConnexCS, tmp_path: Path, isolated_config: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake.missing = {"carrier"}
    status, out = _run(tmp_path, f'[source]\nkind = "connexcs"\nurl = "{fake.url}"\n'
                                 f'username = "{USER}"\npassword = "{PASSWORD}"\n'
                                 '[source.connexcs]\ncarriers_path = "carr\\u001b[2Jier"\n',
                       capsys)
    assert status == 1 and "1 problem found" in out
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_a_bad_config_is_exit_2(tmp_path: Path, isolated_config: None,
                                capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[source]\nkind = "connexcs"\n[source.connexcs]\ncdr_query = "SELECT 1"\n')
    assert main(["doctor", "--config", str(cfg)]) == 2
    assert "source.connexcs.cdr_query" in capsys.readouterr().err


# -- API v1 -------------------------------------------------------------------------------


@pytest.fixture
def switch() -> Iterator[DemoSwitch]:
    sw = DemoSwitch(seed=2, start_ms=T0, clock=lambda: T0 + 5 * HOUR_MS, calls_per_min=0.5,
                    token="v1-secret-tok")
    sw.start()
    try:
        yield sw
    finally:
        sw.stop()


def _v1(url: str, token: str | None = "v1-secret-tok") -> Settings:
    return Settings(source={"url": url, "token": token, "retries": 0})


def test_v1_every_endpoint(switch: DemoSwitch) -> None:
    checks = _checks(_v1(switch.url))
    assert not [c for c in checks if c.status == PROBLEM], [c.line() for c in checks]
    for kind in ("carriers", "contacts", "rates", "attempts"):
        assert _find(checks, f"GET /api/v1/{kind}", OK)


def test_v1_wrong_token(switch: DemoSwitch) -> None:
    check = _find(_checks(_v1(switch.url, "nope-token")), "credentials", PROBLEM)
    assert "source.token" in check.fix and "nope-token" not in check.line()


def test_v1_without_a_url() -> None:
    assert "source.url" in _find(_checks(Settings()), "configuration", PROBLEM).fix
    bad = _checks(Settings(source={"url": "ftp://example.org"}))
    assert "source.url" in _find(bad, "configuration", PROBLEM).fix


def test_v1_unreachable() -> None:
    _find(_checks(_v1(f"http://127.0.0.1:{free_port(1)}")), "reachability", PROBLEM)


def test_v1_not_an_api_v1_address(fake: FakeConnexCS) -> None:
    # The fake ConnexCS has no /api/v1/...: every endpoint is a problem.
    checks = _checks(Settings(source={"url": fake.url.split("/api")[0], "username": USER,
                                      "password": PASSWORD, "retries": 0}))
    check = _find(checks, "GET /api/v1/carriers", PROBLEM)
    assert "HTTP 404" in check.detail and "source.url" in check.fix


def test_v1_pages_of_another_shape_and_records_that_would_be_quarantined(
        tmp_path: Path) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies = {"carriers": {"items": [{"id": "x", "name": "X", "status": "sometimes",
                                      "channels": 1, "cps": 1, "currency": "EUR"}]},
              "contacts": [1, 2], "rates": {"items": []}, "attempts": {"items": []}}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            kind = self.path.split("?")[0].rsplit("/", 1)[1]
            data = json.dumps(bodies[kind]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        checks = _checks(_v1(f"http://127.0.0.1:{server.server_port}", token=None))
    finally:
        server.shutdown()
        server.server_close()
    assert "status" in _find(checks, "GET /api/v1/carriers", PROBLEM).detail
    assert "items" in _find(checks, "GET /api/v1/contacts", PROBLEM).detail
    assert _find(checks, "GET /api/v1/rates", OK)


# -- Kamailio -------------------------------------------------------------------------------


def _kamailio(**k: Any) -> Settings:
    return Settings(source={"kind": "kamailio", "kamailio": k})


def _acc_file(path: Path, drop: str | None = None) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SQLITE_SCHEMA.read_text())
    if drop:
        table, column = drop.split(".")
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.commit()
    conn.close()
    return path


def test_kamailio_tables_ok_and_no_jsonrpc(tmp_path: Path) -> None:
    db = _acc_file(tmp_path / "acc.db")
    checks = _checks(_kamailio(db_url=f"sqlite:///{db}"))
    for table in ("acc", "missed_calls", "acc_cdrs"):
        assert _find(checks, f"table {table}", OK)
    assert "jsonrpc_url" in _find(checks, "JSON-RPC", WARN).fix


def test_kamailio_missing_column_and_table(tmp_path: Path) -> None:
    db = _acc_file(tmp_path / "acc.db", drop="acc.t_18x")
    checks = _checks(_kamailio(db_url=f"sqlite:///{db}"))
    assert "t_18x" in _find(checks, "table acc", PROBLEM).detail
    sqlite3.connect(db).execute("DROP TABLE acc_cdrs").connection.commit()
    assert _find(_checks(_kamailio(db_url=f"sqlite:///{db}")), "table acc_cdrs", PROBLEM)


def test_kamailio_database_missing(tmp_path: Path) -> None:
    check = _find(_checks(_kamailio(db_url=f"sqlite:///{tmp_path}/none.db")),
                  "accounting database", PROBLEM)
    assert "db_url" in check.fix


def test_kamailio_four_slash_trap_is_a_configuration_problem(tmp_path: Path) -> None:
    _find(_checks(_kamailio(db_url="sqlite://var/lib/acc.db")), "configuration", PROBLEM)


@pytest.fixture
def rpc() -> Iterator[Any]:
    import threading
    from http.server import ThreadingHTTPServer

    from tests.test_kamailio_source import DISPATCHER, _FakeKamailio

    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _FakeKamailio)
    server.calls = []
    methods: dict[str, Any] = {"dispatcher.list": DISPATCHER,
                               "mqueue.get_sizes": [{"name": "acc_events", "size": 0},
                                                    {"name": "cdr_events", "size": 0}]}
    server.methods = methods

    def answer(method: str, params: list[Any]) -> tuple[int, dict[str, Any]]:
        if method in server.methods:
            return 200, {"result": server.methods[method]}
        return 500, {"error": {"code": 500, "message": "Method Not Found"}}

    server.answer = answer
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_kamailio_jsonrpc_dispatcher_and_mqueue(tmp_path: Path, rpc: Any) -> None:
    url = f"http://127.0.0.1:{rpc.server_port}/RPC"
    checks = _checks(_kamailio(accounting="mqueue", jsonrpc_url=url, spool=str(tmp_path / "s")))
    assert "4 destinations of 3 carriers" in _find(checks, "JSON-RPC dispatcher.list", OK).detail
    assert _find(checks, "JSON-RPC mqueue", OK)
    assert [m for m, _ in rpc.calls] == ["dispatcher.list", "mqueue.get_sizes"]  # no fetch
    rpc.methods["mqueue.get_sizes"] = [{"name": "acc_events", "size": 0}]
    checks = _checks(_kamailio(accounting="mqueue", jsonrpc_url=url, spool=str(tmp_path / "s")))
    assert "cdr_events" in _find(checks, "JSON-RPC mqueue", PROBLEM).detail
    del rpc.methods["dispatcher.list"]
    checks = _checks(_kamailio(accounting="mqueue", jsonrpc_url=url, spool=str(tmp_path / "s")))
    assert "dispatcher" in _find(checks, "JSON-RPC dispatcher.list", PROBLEM).fix


def test_kamailio_jsonrpc_unreachable(tmp_path: Path) -> None:
    db = _acc_file(tmp_path / "acc.db")
    url = f"http://127.0.0.1:{free_port(1)}/RPC"
    check = _find(_checks(_kamailio(db_url=f"sqlite:///{db}", jsonrpc_url=url)),
                  "JSON-RPC dispatcher.list", PROBLEM)
    assert "jsonrpc_url" in check.fix


def test_every_source_kind_has_checks() -> None:
    from typing import get_args

    from noc_tui.config import SourceSettings

    kinds = get_args(SourceSettings.model_fields["kind"].annotation)
    assert set(kinds) == set(CHECKERS)


def test_doctor_is_quick_on_failures(fake: FakeConnexCS) -> None:
    """A switch failing every CDR query is reported, not waited out."""
    fake.errors_500 = 1000
    t = time.monotonic()
    _checks(_cx(fake, source={"retries": 5}))
    assert time.monotonic() - t < 10
