"""The ConnexCS source against a fake ConnexCS account on loopback (tests/fake_connexcs.py),
through the poller into real SQLite caches: every mapping rule, the answer shapes and
quirks, both auth modes, 429 and 5xx, at most four CDR queries at once, and a CDR of
connected calls only."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics import metrics
from noc_tui.analytics.export import build
from noc_tui.analytics.views import list_snapshot
from noc_tui.config import MetricSettings, Settings, SourceSettings
from noc_tui.records.formats import validate
from noc_tui.records.timefmt import HOUR_MS, now_ms
from noc_tui.sources.base import BAD_DATA, CLIENT_ERROR, SERVER_ERROR, UNAUTHORISED, SourceError
from noc_tui.sources.connexcs import (
    ConnexCSSource,
    attempt_record,
    carrier_record,
    contact_record,
    rate_record,
    rows_of,
    utc_iso,
)
from noc_tui.store.cache import Cache
from noc_tui.store.poll_status import NO_FAILURES, failures_recorded
from noc_tui.sync.poller import EXIT_OK, Poller, run_poll_command
from tests import reference as ref
from tests.fake_connexcs import (
    PASSWORD,
    PASTED_TOKEN,
    USER,
    Account,
    FakeConnexCS,
    cdr_row,
    make_account,
)
from tests.test_poller import _cached

T0 = now_ms() // HOUR_MS * HOUR_MS - 6 * HOUR_MS
HOURS = 5
COLUMNS = SourceSettings().connexcs.cdr_columns


def _formats_take_fractions() -> bool:
    """Whether attempts may have fractional durations (the real-data record formats);
    until they may, the end-to-end tests draw whole seconds."""
    rec = {"call_id": "a", "seq": 1, "carrier_id": "c", "started_at": "2026-01-01T00:00:00Z",
           "dst": "1", "sip_code": 200, "duration_s": 1.5}
    return not validate("attempts", [rec], ["x"])[1]


FRACTIONS = _formats_take_fractions()


@pytest.fixture
def account() -> Account:
    return make_account(7, T0, HOURS, fractional=FRACTIONS)


@pytest.fixture
def fake(account: Account) -> Iterator[FakeConnexCS]:
    server = FakeConnexCS(account).start()
    try:
        yield server
    finally:
        server.stop()


def _settings(fake: FakeConnexCS, *, creds: bool = True, **connexcs: Any) -> Settings:
    source: dict[str, Any] = {"kind": "connexcs", "url": fake.url, "retries": 4,
                              "page_limit": 3, "connexcs": connexcs}
    if creds:
        source |= {"username": USER, "password": PASSWORD}
    return Settings(source=source, poll={"backfill": "1d", "overlap": "2h"})


def _poller(fake: FakeConnexCS, path: Path, **connexcs: Any) -> Poller:
    return Poller(_settings(fake, **connexcs), path, backoff_base_s=0.01,
                  retry_after_cap_s=2)


def _source(fake: FakeConnexCS, **kw: Any) -> ConnexCSSource:
    token = kw.pop("token", None)
    creds = kw.pop("with_auth", True)
    return ConnexCSSource(_settings(fake, creds=creds, **kw).source, token=token,
                          backoff_base_s=0.01, retry_after_cap_s=2)


def _truth(acc: Account) -> dict[str, list[dict[str, Any]]]:
    """The account's records as the cache gives them back (test_poller._cached)."""
    def full(kind: str, rec: dict[str, Any]) -> dict[str, Any]:
        from noc_tui.records.formats import FIELDS

        return {f: rec.get(f) for f in FIELDS[kind]}

    carriers = sorted((full("carriers", c) for c in acc.carriers), key=lambda r: r["id"])
    contacts = sorted((full("contacts", c) for c in acc.contacts),
                      key=lambda r: (r["carrier_id"], r["name"]))
    rates = sorted((full("rates", r) for r in acc.rates()),
                   key=lambda r: (r["carrier_id"], r["card_id"], r["prefix"],
                                  r["effective_from"]))
    attempts = sorted((full("attempts", a) for a in acc.attempts),
                      key=lambda a: (a["started_at"], a["call_id"], a["seq"]))
    return {"carriers": carriers, "contacts": contacts, "rates": rates, "attempts": attempts}


def _same_records(got: dict[str, list[dict[str, Any]]], want: dict[str, list[dict[str, Any]]]
                  ) -> None:
    for kind in ("carriers", "contacts", "rates", "attempts"):
        assert len(got[kind]) == len(want[kind]), kind
        for g, w in zip(got[kind], want[kind], strict=True):
            assert g == w, kind


# -- mapping rules, one by one -------------------------------------------------------------


ROW = {"dt": "2026-11-01 09:14:03", "callid": "abc-1", "branch_idx": 1, "provider_id": 4711,
       "dest_number": "+442071234567", "dest_cli": "442079461234", "duration": 95.25,
       "pdd_out": 1840, "sip_code": 200, "sip_reason": "OK", "release_reason": "BYE caller"}


def test_each_cdr_column_maps_to_its_attempt_field() -> None:
    rec = attempt_record(ROW, COLUMNS)
    assert rec == {"call_id": "abc-1", "seq": 2, "carrier_id": "4711",
                   "started_at": "2026-11-01T09:14:03.000Z", "dst": "442071234567",
                   "cli": "442079461234", "sip_code": 200, "sip_reason": "OK",
                   "pdd_ms": 1840, "duration_s": 95.25, "release_reason": "BYE caller"}


@pytest.mark.parametrize(("column", "value", "field", "want"), [
    ("callid", 12345, "call_id", "12345"),  # numbers become text
    ("branch_idx", 0, "seq", 1),  # branch_idx counts from 0
    ("branch_idx", "2", "seq", 3),  # CSV cells are text
    ("provider_id", "17", "carrier_id", "17"),
    ("dt", "2026-11-01 23:59:59", "started_at", "2026-11-01T23:59:59.000Z"),  # no zone: UTC
    ("dt", "2026-11-01T10:00:00+02:00", "started_at", "2026-11-01T08:00:00.000Z"),
    ("dt", "2026-11-01 09:14:03.250", "started_at", "2026-11-01T09:14:03.250Z"),
    ("dt", 1793524443, "started_at", "2026-11-01T09:14:03.000Z"),  # Unix seconds
    ("pdd_out", 0, "pdd_ms", None),  # no 180/183 before the answer
    ("pdd_out", "2500", "pdd_ms", 2500),
    ("duration", "0.5", "duration_s", 0.5),  # fractional seconds stay fractional
    ("duration", 30.0, "duration_s", 30),
    ("duration", None, "duration_s", 0),
    ("sip_code", "503", "sip_code", 503),
    ("sip_reason", "", "sip_reason", None),
    ("release_reason", "\\N", "release_reason", None),  # ClickHouse's NULL in CSV
    ("dest_number", "0049301234", "dst", "0049301234"),
    ("dest_cli", "", "cli", None),
])
def test_mapping_rule(column: str, value: Any, field: str, want: Any) -> None:
    rec = attempt_record({**ROW, column: value}, COLUMNS)
    assert rec is not None and rec.get(field) == want


def test_bad_values_are_passed_on_for_validation_to_reject_with_their_reason() -> None:
    rec = attempt_record({**ROW, "dt": "yesterday", "sip_code": "OK?"}, COLUMNS)
    assert rec is not None and rec["started_at"] == "yesterday" and rec["sip_code"] == "OK?"
    _, rejected = validate("attempts", [rec], ["cdr row 1"])
    assert "started_at" in rejected[0].reason and "sip_code" in rejected[0].reason


@pytest.mark.parametrize("provider", [None, 0, "0", ""])
def test_a_row_without_a_provider_is_not_a_carrier_attempt(provider: Any) -> None:
    assert attempt_record({**ROW, "provider_id": provider}, COLUMNS) is None


def test_columns_come_from_the_configured_mapping() -> None:
    cols = SourceSettings(connexcs={"cdr_columns": {"dst": "dnis", "cli": ""}}).connexcs
    rec = attempt_record({**ROW, "dnis": "15550100"}, cols.cdr_columns, cols.seq_offset)
    assert rec is not None and rec["dst"] == "15550100" and "cli" not in rec
    assert rec["call_id"] == "abc-1"  # the others keep their defaults
    zero_based = attempt_record(ROW, COLUMNS, seq_offset=0, pdd_zero_is_none=False)
    assert zero_based is not None and zero_based["seq"] == 1
    assert attempt_record({**ROW, "pdd_out": 0}, COLUMNS, pdd_zero_is_none=False)["pdd_ms"] == 0  # type: ignore[index]


def test_reference_records_are_mapped() -> None:
    fields = SourceSettings().connexcs
    assert carrier_record({"id": 7, "name": "X", "status": "Enabled", "channels": "30",
                           "cps": 5, "currency": "USD"}, fields.carrier_fields) == {
        "id": "7", "name": "X", "status": "active", "channels": 30, "cps": 5,
        "currency": "USD"}
    assert carrier_record({"id": 8}, fields.carrier_fields) == {"id": "8"}  # unknown: absent
    assert contact_record({"company_id": 7, "name": "Ops", "email": "", "phone": "+1 555"},
                          fields.contact_fields) == {"carrier_id": "7", "name": "Ops",
                                                     "phone": "+1 555"}
    card = {"id": "C1", "name": "A-Z", "currency": "EUR"}
    assert rate_record({"prefix": "+44", "name": "UK", "cost": "0.0123", "connection": 0.01,
                        "initial": 30, "interval": 6, "effective": "2026-10-01 00:00:00",
                        "status": "Blocked"}, card, "7", fields.rate_fields) == {
        "carrier_id": "7", "card_id": "C1", "card_name": "A-Z", "prefix": "44",
        "destination": "UK", "rate": 0.0123, "connect_fee": 0.01, "mcd_s": 30, "pulse_s": 6,
        "effective_from": "2026-10-01T00:00:00.000Z", "status": "blocked", "currency": "EUR"}
    # A rule that says nothing of fees, increments, date or status: none, 1 s, ever, active.
    bare = rate_record({"prefix": "1", "cost": 0.01}, card, "7", fields.rate_fields)
    assert (bare["connect_fee"], bare["mcd_s"], bare["pulse_s"], bare["effective_from"],
            bare["status"]) == (0, 0, 1, "1970-01-01T00:00:00.000Z", "active")


def test_utc_iso_leaves_what_it_cannot_read() -> None:
    assert utc_iso("2026-11-01 00:00:00") == "2026-11-01T00:00:00.000Z"
    assert utc_iso("not a time") == "not a time"
    assert utc_iso(None) is None


# -- answer shapes -----------------------------------------------------------------------


@pytest.mark.parametrize(("body", "rows"), [
    (b'[{"a": 1}, {"a": 2}]', [{"a": 1}, {"a": 2}]),  # a bare array
    (b'{"a": 1}', [{"a": 1}]),  # a single object
    (b'{"result": [{"a": 1}]}', [{"a": 1}]),
    (b"[]", []),
    (b"a,b\n1,\n\\N,x\n", [{"a": "1", "b": None}, {"a": None, "b": "x"}]),  # CSV
    (b"\xef\xbb\xbfa,b\n1,2\n", [{"a": "1", "b": "2"}]),  # a byte-order mark
    (b"", []),
])
def test_answer_shapes(body: bytes, rows: list[dict[str, Any]]) -> None:
    assert rows_of(body, "x", csv_expected=True) == rows


@pytest.mark.parametrize("body", [b"<html><title>Login</title></html>", b"[1, 2]",
                                  b"just words", b'{"error": "Query too large"}',
                                  b'{"success": false, "message": "no access"}'])
def test_answers_of_other_shapes_are_bad_data(body: bytes) -> None:
    with pytest.raises(SourceError) as info:
        rows_of(body, "the carrier list")
    assert info.value.kind == BAD_DATA and "the carrier list" in info.value.message


# -- the poll, end to end ---------------------------------------------------------------


def _check_metrics(path: Path, acc: Account) -> None:
    """Every carrier's figures in the cache equal the plain-Python reference's."""
    data = ref.RefData()
    for kind, recs in (("carriers", acc.carriers), ("rates", acc.rates()),
                       ("attempts", acc.attempts)):
        data.ingest(kind, recs)
    now = T0 + HOURS * HOUR_MS
    with Cache(path, readonly=True) as cache:
        for window_s in (3600, 86400):
            got = metrics.carrier_metrics(cache, now, window_s, MetricSettings())
            want = ref.carrier_metrics(data, now, window_s, ref.RefSettings())
            assert [r["id"] for r in got] == [r["id"] for r in want]
            for g, w in zip(got, want, strict=True):
                for key in w:
                    if isinstance(w[key], float):
                        assert g[key] == pytest.approx(w[key]), (w["id"], key)
                    else:
                        assert g[key] == w[key], (w["id"], key)


@pytest.mark.parametrize(("mode", "fmt", "shape"), [
    ("sql", "csv", "array"), ("sql", "json", "result"), ("structured", "csv", "single"),
])
def test_poll_caches_the_account_exactly(fake: FakeConnexCS, account: Account,
                                         tmp_path: Path, mode: str, fmt: str,
                                         shape: str) -> None:
    fake.shape = shape
    path = tmp_path / "cache.db"
    result = _poller(fake, path, cdr_mode=mode, cdr_format=fmt, cdr_limit=40).poll_once()
    assert result.ok, result.error
    assert result.quarantined == 0
    _same_records(_cached(path), _truth(account))
    _check_metrics(path, account)
    assert result.failures_recorded is True
    with Cache(path, readonly=True) as cache:
        assert failures_recorded(cache) is True
    assert fake.max_in_flight <= 4


def test_a_second_poll_changes_nothing(fake: FakeConnexCS, account: Account,
                                       tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    assert _poller(fake, path).poll_once().ok
    again = _poller(fake, path).poll_once()  # the overlap re-reads the last two hours
    assert again.ok and again.quarantined == 0
    _same_records(_cached(path), _truth(account))


def test_at_most_four_cdr_queries_at_once(fake: FakeConnexCS) -> None:
    fake.cdr_delay_s = 0.15
    with _source(fake) as src:
        pages = list(src.attempts(T0, T0 + 12 * HOUR_MS))
    assert len(pages) == 12 and fake.max_in_flight == 4
    assert [p.number for p in pages] == list(range(1, 13))
    assert all(p.next_cursor for p in pages[:-1]) and pages[-1].next_cursor is None
    starts = [a["started_at"] for p in pages for a in p.items]
    assert starts == sorted(starts)  # pages in time order, whatever finished first
    with _source(fake, cdr_parallel=2) as src:
        fake.max_in_flight = 0
        list(src.attempts(T0, T0 + 6 * HOUR_MS))
    assert fake.max_in_flight == 2


def test_day_windows_and_a_window_not_on_the_hour(fake: FakeConnexCS,
                                                  account: Account) -> None:
    since, until = T0 + 1234, T0 + 3 * HOUR_MS + 5678
    with _source(fake, cdr_window="1d") as src:
        wins = src.windows(since, until)
        got = [a for p in src.attempts(since, until) for a in p.items]
    # Contiguous, covering [since, until), cut only at midnight (UTC).
    assert wins[0][0] == since and wins[-1][1] == until and len(wins) <= 2
    assert all(a[1] == b[0] and a[1] % (24 * HOUR_MS) == 0 for a, b in itertools.pairwise(wins))
    want = [a for a in _truth(account)["attempts"] if since <= _ms(a["started_at"]) < until]
    assert [(a["call_id"], a["seq"]) for a in got] == [(a["call_id"], a["seq"]) for a in want]


def _ms(iso: str) -> int:
    from noc_tui.records.timefmt import iso_to_ms

    return iso_to_ms(iso)


def test_structured_query_splits_a_full_window(fake: FakeConnexCS, account: Account) -> None:
    import collections

    per_minute = collections.Counter(a["started_at"][:16] for a in account.attempts)
    assert max(per_minute.values()) < 25  # a minute's rows always fit in one answer
    with _source(fake, cdr_mode="structured", cdr_limit=25) as src:
        got = [a for p in src.attempts(T0, T0 + 2 * HOUR_MS) for a in p.items]
    want = [a for a in _truth(account)["attempts"] if _ms(a["started_at"]) < T0 + 2 * HOUR_MS]
    assert len(want) > 100 and got == [{k: v for k, v in a.items() if v is not None}
                                      for a in want]


def test_structured_limit_that_cannot_be_split_names_the_setting(fake: FakeConnexCS) -> None:
    with _source(fake, cdr_mode="structured", cdr_limit=1) as src, \
            pytest.raises(SourceError) as info:
        list(src.attempts(T0, T0 + HOUR_MS))
    assert info.value.kind == BAD_DATA and "source.connexcs.cdr_limit" in info.value.message


def test_rows_without_a_provider_are_skipped_and_counted(fake: FakeConnexCS,
                                                         account: Account) -> None:
    assert account.unrouted
    with _source(fake) as src:
        got = [a for p in src.attempts(T0, T0 + HOURS * HOUR_MS) for a in p.items]
    assert len(got) == len(account.attempts) and src.no_carrier == len(account.unrouted)


def test_listings_that_ignore_paging_are_read_once(fake: FakeConnexCS,
                                                   account: Account) -> None:
    fake.ignore_paging = True
    with _source(fake) as src:  # page_limit 3, four carriers: more than a page
        carriers = [c for p in src.carriers() for c in p.items]
    assert [c["id"] for c in carriers] == [c["id"] for c in account.carriers]
    fake.ignore_paging = False
    with _source(fake) as src:
        pages = list(src.carriers())
    assert [p.count for p in pages] == [3, 1]


# -- failures: 429, 5xx, HTML, wrong paths and credentials ------------------------------


def test_429_bursts_are_waited_out(fake: FakeConnexCS, account: Account,
                                   tmp_path: Path) -> None:
    fake.burst_429, fake.retry_after = 3, "1"
    t = time.monotonic()
    with _source(fake) as src:
        carriers = [c for p in src.carriers() for c in p.items]
    assert len(carriers) == len(account.carriers)
    assert time.monotonic() - t >= 3.0  # Retry-After: 1, three times
    assert src.requests_made == 3 + 2  # the burst, then two pages


def test_a_500_on_the_cdr_query_is_retried(fake: FakeConnexCS, account: Account,
                                           tmp_path: Path) -> None:
    fake.errors_500 = 3
    path = tmp_path / "cache.db"
    assert _poller(fake, path).poll_once().ok
    _same_records(_cached(path), _truth(account))


def test_a_500_that_lasts_names_the_query_and_the_window(fake: FakeConnexCS,
                                                         tmp_path: Path) -> None:
    fake.errors_500 = 1000
    path = tmp_path / "cache.db"
    result = _poller(fake, path).poll_once()
    assert not result.ok and result.error_kind == SERVER_ERROR
    err = result.error or ""
    assert "source.connexcs.cdr_query" in err and " UTC" in err and " .. " in err
    assert "HTTP 500" in err and "500 Internal Server Error" in err  # the page's title
    assert "<" not in err  # not the page's markup


def test_bad_urls_are_refused() -> None:
    with pytest.raises(ValueError, match=r"source\.url"):
        ConnexCSSource(SourceSettings(kind="connexcs", url="ftp://x", token="t-123456789"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"source\.username") as info:
        ConnexCSSource(SourceSettings(kind="connexcs", url="https://u:pw-secret@h/api/cp/",
                                      token="t-123456789"))  # type: ignore[arg-type]
    assert "pw-secret" not in str(info.value)


def test_an_unbounded_query_is_refused_by_the_config_and_by_connexcs(
        fake: FakeConnexCS) -> None:
    with pytest.raises(ValueError, match=":since"):
        SourceSettings(connexcs={"cdr_query": "SELECT * FROM cdr.cdr"})


def test_a_login_page_instead_of_data_is_bad_data(fake: FakeConnexCS) -> None:
    fake.html_200 = True
    with _source(fake) as src, pytest.raises(SourceError) as info:
        list(src.carriers())
    assert info.value.kind == BAD_DATA and "HTML page" in info.value.message
    assert "source.url" in info.value.message


def test_a_guessed_path_that_is_wrong_names_its_setting(fake: FakeConnexCS) -> None:
    fake.missing = {"contact"}
    with _source(fake) as src, pytest.raises(SourceError) as info:
        list(src.contacts())
    assert info.value.kind == CLIENT_ERROR and info.value.status == 404
    assert "source.connexcs.contacts_path" in info.value.message
    assert "404 Not Found" in info.value.message and src.requests_made == 1
    with _source(fake, contacts_path="") as src:  # "" leaves contacts out
        assert list(src.contacts()) == []


def test_wrong_credentials_are_not_retried_and_not_shown(fake: FakeConnexCS,
                                                         tmp_path: Path) -> None:
    fake.refuse = True
    path = tmp_path / "cache.db"
    result = _poller(fake, path).poll_once()
    assert not result.ok and result.error_kind == UNAUTHORISED
    assert result.requests == 1
    assert PASSWORD not in (result.error or "") and "source.username" in (result.error or "")


# -- auth ----------------------------------------------------------------------------------


def _auth_headers(fake: FakeConnexCS) -> list[str]:
    return [h.get("Authorization", "") for _, _, h, _ in fake.requests]


def test_basic_auth_on_every_call(fake: FakeConnexCS) -> None:
    with _source(fake) as src:
        list(src.carriers())
    assert _auth_headers(fake) and all(h.startswith("Basic ") for h in _auth_headers(fake))


def test_a_pasted_token(fake: FakeConnexCS, account: Account) -> None:
    with _source(fake, with_auth=False, token=PASTED_TOKEN) as src:
        assert len([c for p in src.carriers() for c in p.items]) == len(account.carriers)
    assert set(_auth_headers(fake)) == {f"Bearer {PASTED_TOKEN}"}


def test_jwt_refresh_then_access_tokens(fake: FakeConnexCS, account: Account,
                                        tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    result = _poller(fake, path, auth="jwt").poll_once()
    assert result.ok, result.error
    _same_records(_cached(path), _truth(account))
    paths = [p for _, p, _, _ in fake.requests]
    assert paths[:2] == ["auth/jwt/refresh", "auth/jwt"]
    assert paths.count("auth/jwt/refresh") == 1 and paths.count("auth/jwt") == 1
    # Basic credentials went to the refresh call only; the rest carried the access token.
    basic = [p for (_, p, h, _) in fake.requests if h.get("Authorization", "").startswith(
        "Basic")]
    assert basic == ["auth/jwt/refresh"]
    body = json.loads(fake.requests[0][3])
    assert body["lifetime"] == 86400


def test_jwts_are_renewed_before_they_expire(fake: FakeConnexCS) -> None:
    fake.access_lifetime_s = 1.0
    with _source(fake, auth="jwt", jwt_lifetime_s=300) as src:
        for _ in range(4):
            list(src.carriers())
            time.sleep(0.5)
    assert 401 not in fake.statuses  # no request carried an expired token
    access = [p for _, p, _, _ in fake.requests if p == "auth/jwt"]
    assert len(access) >= 2  # a new access token before the old one ran out
    assert [p for _, p, _, _ in fake.requests].count("auth/jwt/refresh") == 1


def test_a_token_refused_early_is_replaced(fake: FakeConnexCS, account: Account) -> None:
    with _source(fake, auth="jwt") as src:
        list(src.carriers())
        fake.issued.clear()  # the switch forgets every token (revoked, restarted)
        assert len([c for p in src.carriers() for c in p.items]) == len(account.carriers)
    paths = [p for _, p, _, _ in fake.requests]
    assert paths.count("auth/jwt/refresh") == 2  # the access token, then the refresh one


def test_secrets_never_reach_the_cache(fake: FakeConnexCS, tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    fake.errors_500 = 1000
    _poller(fake, path, auth="jwt").poll_once()  # fails: its error is in poll_runs
    fake.errors_500 = 0
    assert _poller(fake, path, auth="jwt").poll_once().ok
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    secrets = [PASSWORD, *fake.issued]
    import base64

    secrets.append(base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    assert fake.issued and not [s for s in secrets if s.encode() in blob]


# -- a CDR of connected calls only ---------------------------------------------------------


@pytest.fixture
def connected_only() -> Iterator[tuple[FakeConnexCS, Account]]:
    acc = make_account(8, T0, HOURS, failures=False, fractional=FRACTIONS)
    server = FakeConnexCS(acc).start()
    try:
        yield server, acc
    finally:
        server.stop()


def test_connected_only_makes_failure_figures_unknown(
        connected_only: tuple[FakeConnexCS, Account], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake, acc = connected_only
    assert all(a["sip_code"] == 200 for a in acc.attempts)
    path = tmp_path / "cache.db"
    settings = _settings(fake)
    import io

    out = io.StringIO()
    assert run_poll_command(settings, path, out=out) == EXIT_OK
    assert NO_FAILURES in out.getvalue()
    _same_records(_cached(path), _truth(acc))
    _check_metrics(path, acc)  # the cache's own figures are the reference's...
    # ...but what the operator sees says the failure figures are unknown.
    snap = list_snapshot(path, settings, None, "24h", T0 + HOURS * HOUR_MS)
    assert snap.poll is not None and snap.poll.failures_recorded is False
    assert snap.rows and {r["health"] for r in snap.rows} <= {"unknown", "suspect"}
    for r in snap.rows:
        assert (r["asr"], r["ner"], r["consecutive_failures"], r["failover_out"],
                r["code_consistency"]) == (None, None, None, None, None)
        assert r["attempts"] and r["connected"] == r["attempts"]  # these stay known
    with Cache(path, readonly=True) as cache:
        _, rows, _ = build(cache, "carriers", T0 + HOURS * HOUR_MS, 86400)
        assert rows and all(r["asr"] is None for r in rows)
    # A later poll that finds a failure makes them known again.
    from noc_tui.records.timefmt import ms_to_iso

    acc.attempts.append({**acc.attempts[-1], "call_id": "late-fail", "sip_code": 503,
                         "duration_s": 0,
                         "started_at": ms_to_iso((now_ms() - 1_800_000) // 1000 * 1000)})
    assert _poller(fake, path).poll_once().ok
    with Cache(path, readonly=True) as cache:
        assert failures_recorded(cache) is True


def test_connected_only_header_says_so(connected_only: tuple[FakeConnexCS, Account],
                                       tmp_path: Path) -> None:
    from noc_tui.ui.app import NocApp

    fake, _ = connected_only
    path = tmp_path / "cache.db"
    assert _poller(fake, path).poll_once().ok
    app = NocApp(_settings(fake), path, watch_interval_s=0)
    snap = list_snapshot(path, app.settings, None, "24h", now_ms())
    app.poll_info = snap.poll
    text, level = app.age_line()
    assert "no failed attempts" in str(text) and level == "warning"


def test_no_rows_keeps_the_last_finding(fake: FakeConnexCS, tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    with Cache(path) as cache, cache.transaction() as conn:
        conn.execute("INSERT INTO poll_state VALUES ('failures_recorded', '0')")
    fake.account.attempts.clear()
    result = _poller(fake, path).poll_once()
    assert result.ok and result.failures_recorded is None
    with Cache(path, readonly=True) as cache:
        assert failures_recorded(cache) is False


def test_cdr_rows_as_the_fake_serves_them_are_connexcs_shaped(account: Account) -> None:
    """The fake writes what ConnexCS documents: no zone on dt, branch_idx from 0."""
    row = cdr_row(account.attempts[0])
    assert len(row["dt"]) == 19 and "T" not in row["dt"] and row["branch_idx"] == 0



def test_connected_only_screens_show_no_perfect_figure(
        connected_only: tuple[FakeConnexCS, Account], tmp_path: Path) -> None:
    """The dashboard as rendered (the list, a carrier's head and its summary): every
    carrier connected every call it was sent, and no screen says 100%."""
    from noc_tui.ui.render import render_view

    fake, acc = connected_only
    path = tmp_path / "cache.db"
    settings = _settings(fake)
    assert _poller(fake, path).poll_once().ok
    now = now_ms()
    listing = render_view(settings, path, "carriers", None, "txt", now_ms=now)
    carrier = render_view(settings, path, "summary", acc.carriers[0]["id"], "txt", now_ms=now)
    for text in (listing, carrier):
        assert "100.0%" not in text and "no failed attempts" in text
    assert "UNKNOWN" in carrier and "ASR/h 24h: unknown" in carrier
    assert " ok " not in listing  # no carrier's health is FINE


def test_a_token_from_a_file(fake: FakeConnexCS, account: Account, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(PASTED_TOKEN + "\n")
    token_file.chmod(0o600)
    settings = SourceSettings(kind="connexcs", url=fake.url, token_file=token_file)  # type: ignore[arg-type]
    with ConnexCSSource(settings) as src:
        assert len([c for p in src.carriers() for c in p.items]) == len(account.carriers)
    assert set(_auth_headers(fake)) == {f"Bearer {PASTED_TOKEN}"}


def test_the_poll_deadline_ends_a_slow_cdr(fake: FakeConnexCS, tmp_path: Path) -> None:
    from noc_tui.sources.base import TIMED_OUT

    fake.cdr_delay_s = 0.7  # every window; 24 of them, four at a time
    settings = _settings(fake).model_copy(update={"poll": Settings().poll.model_copy(
        update={"deadline": "2s", "backfill": "1d"})})
    t = time.monotonic()
    result = Poller(settings, tmp_path / "cache.db", backoff_base_s=0.01).poll_once()
    assert not result.ok and result.error_kind == TIMED_OUT
    assert "poll.deadline" in (result.error or "")
    assert time.monotonic() - t < 6
