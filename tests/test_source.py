"""The API v1 client against the real demo switch over loopback HTTP.

A few cases the demo switch cannot produce (basic auth, non-JSON, a wrong shape, a
Retry-After date) use a tiny scripted HTTP server, also on loopback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

import pytest

from noc_tui.config import SourceSettings
from noc_tui.demo_switch import DemoSwitch
from noc_tui.records.timefmt import HOUR_MS, now_ms
from noc_tui.sources.apiv1 import SourceClient
from noc_tui.sources.base import (
    BAD_DATA,
    CANCELLED,
    CLIENT_ERROR,
    RATE_LIMITED,
    SERVER_ERROR,
    UNAUTHORISED,
    UNREACHABLE,
    SourceError,
)
from noc_tui.sources.http import retry_after as _retry_after

if TYPE_CHECKING:
    from tests.conftest import Script

T0 = now_ms() // HOUR_MS * HOUR_MS - HOUR_MS
FAST = {"backoff_base_s": 0.005, "backoff_cap_s": 0.02}


@pytest.fixture
def switch() -> Iterator[DemoSwitch]:
    sw = DemoSwitch(seed=5, start_ms=T0, clock=lambda: T0, calls_per_min=1.0, token="s3cret-tok")
    sw.start()
    try:
        yield sw
    finally:
        sw.stop()


def _client(url: str, token: str | None = "s3cret-tok", **kw: object) -> SourceClient:
    settings = SourceSettings(url=url, token=token, retries=kw.pop("retries", 3),  # type: ignore[arg-type]
                              page_limit=kw.pop("page_limit", 500),  # type: ignore[arg-type]
                              read_timeout_s=kw.pop("read_timeout_s", 5.0))  # type: ignore[arg-type]
    return SourceClient(settings, **{**FAST, **kw})  # type: ignore[arg-type]


def test_attempts_paginate_exactly(switch: DemoSwitch) -> None:
    # A whole day: six night hours of the daily traffic curve can hold under 100 calls.
    since, until = T0 - 24 * HOUR_MS, T0
    expected = list(switch.simulator.attempts(since, until, T0))
    assert len(expected) > 100
    with _client(switch.url, page_limit=30) as client:
        pages = list(client.attempts(since, until))
    got = [item for page in pages for item in page.items]
    assert got == expected
    assert all(len(p.items) == p.count <= 30 for p in pages)
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert pages[-1].next_cursor is None and all(p.next_cursor for p in pages[:-1])
    assert client.requests_made == len(pages) == -(-len(expected) // 30)


def test_reference_listings(switch: DemoSwitch) -> None:
    with _client(switch.url + "/api/v1/") as client:  # the API base is accepted too
        carriers = [c for p in client.carriers() for c in p.items]
        rates = [r for p in client.rates(limit=7) for r in p.items]
        contacts = [c for p in client.contacts() for c in p.items]
    assert carriers == switch.simulator.carriers()
    assert rates == switch.simulator.rates()
    assert contacts == switch.simulator.contacts()


def test_gzip_is_asked_for_and_decoded(switch: DemoSwitch) -> None:
    with _client(switch.url) as client:
        resp = client._http.get("/api/v1/rates")
        assert resp.headers.get("content-encoding") == "gzip"
        assert resp.json()["items"] == switch.simulator.rates()[:5000]


def test_wrong_token_is_unauthorised_without_retries(switch: DemoSwitch) -> None:
    client = _client(switch.url, token="wrong-token-xyz", retries=10)
    with client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == UNAUTHORISED and info.value.status == 401
    assert client.requests_made == 1  # no retry storm
    assert "wrong-token-xyz" not in str(info.value)


def test_server_errors_are_retried_then_classified(switch: DemoSwitch) -> None:
    switch.faults.error_rate = 1.0
    with _client(switch.url, retries=3) as client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == SERVER_ERROR
    assert client.requests_made == 4
    assert "s3cret-tok" not in str(info.value)


def test_transient_errors_recover(switch: DemoSwitch) -> None:
    switch.faults.error_rate = 0.3
    switch.faults.drop_next = 2
    # A whole day, so that there are pages enough for errors to hit at any hour.
    since, until = T0 - 24 * HOUR_MS, T0
    with _client(switch.url, retries=10, page_limit=20) as client:
        got = [a for p in client.attempts(since, until) for a in p.items]
    assert got == list(switch.simulator.attempts(since, until, T0))
    assert switch.faults.injected["drop"] == 2 and switch.faults.injected["error"] > 0


def test_429_honours_retry_after(switch: DemoSwitch) -> None:
    switch.faults.burst_429(2, retry_after_s=1)
    t = time.monotonic()
    with _client(switch.url) as client:
        assert [c for p in client.carriers() for c in p.items] == switch.simulator.carriers()
    assert time.monotonic() - t >= 2.0
    assert client.requests_made == 3


def test_429_exhausted_is_rate_limited(switch: DemoSwitch) -> None:
    switch.faults.burst_429(10, retry_after_s=1)
    t = time.monotonic()
    client = _client(switch.url, retries=2, retry_after_cap_s=0.05)
    with client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == RATE_LIMITED
    assert time.monotonic() - t < 1.0  # Retry-After was capped
    assert client.requests_made == 3


def test_unreachable() -> None:
    with _client("http://127.0.0.1:9", retries=2) as client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == UNREACHABLE
    assert client.requests_made == 3


def test_read_timeout_is_unreachable(switch: DemoSwitch) -> None:
    switch.faults.latency_ms = 400
    client = _client(switch.url, retries=1, read_timeout_s=0.1)
    with client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == UNREACHABLE and "in time" in info.value.message


def test_cancel_stops_before_the_next_request(switch: DemoSwitch) -> None:
    cancel = threading.Event()
    cancel.set()
    with _client(switch.url, cancel=cancel) as client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == CANCELLED and client.requests_made == 0


def test_cancel_interrupts_a_backoff_wait(switch: DemoSwitch) -> None:
    switch.faults.burst_429(5, retry_after_s=30)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    t = time.monotonic()
    with _client(switch.url, cancel=cancel) as client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == CANCELLED and time.monotonic() - t < 5


def test_bad_url_rejected_and_credentials_hidden() -> None:
    with pytest.raises(ValueError):
        _client("ftp://example.org")
    client = _client("http://user:pa55word@127.0.0.1:9", token=None)
    assert "pa55word" not in client.display_url
    client.close()


# -- a scripted server for what the demo switch does not do: tests/conftest.py ------


def test_basic_auth(scripted: Callable[[Script], str]) -> None:
    seen: list[str | None] = []

    def script(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        seen.append(h.headers.get("Authorization"))
        return 200, {}, b'{"items": []}'

    url = scripted(script)
    settings = SourceSettings(url=url, username="noc", password="hunter22")  # type: ignore[arg-type]
    with SourceClient(settings) as client:
        assert [p.items for p in client.carriers()] == [[]]
    assert seen == ["Basic bm9jOmh1bnRlcjIy"]


@pytest.mark.parametrize(("body", "retried"), [
    (b"<html>oops</html>", True),  # not JSON (a truncated body looks the same): retried
    (b'{"items": {"a": 1}}', False),  # JSON of the wrong shape: not retried
    (b"[1, 2]", False),
    (b'{"items": [], "next_cursor": 5}', False),
])
def test_bad_data(scripted: Callable[[Script], str], body: bytes, retried: bool) -> None:
    url = scripted(lambda h: (200, {}, body))
    with _client(url, retries=2) as client, pytest.raises(SourceError) as info:
        list(client.rates())
    assert info.value.kind == BAD_DATA
    assert client.requests_made == (3 if retried else 1)


def test_a_lone_surrogate_escape_is_a_record_problem_not_a_page_problem(
        scripted: Callable[[Script], str]) -> None:
    """JSON that Python's json reads but msgspec refuses (a \\u escape of a lone
    surrogate, as JavaScript's JSON.stringify writes one): the page is taken as served,
    not retried as "not JSON"; the cache rejects that record alone."""
    body = (b'{"items": [{"carrier_id": "A", "name": "x\\ud800"}, '
            b'{"carrier_id": "A", "name": "ok"}], "next_cursor": null}')
    url = scripted(lambda h: (200, {}, body))
    with _client(url, retries=2) as client:
        pages = list(client.contacts())
    assert [p.count for p in pages] == [2] and client.requests_made == 1
    assert pages[0].body == body  # as served


def test_repeated_cursor_is_bad_data(scripted: Callable[[Script], str]) -> None:
    url = scripted(lambda h: (200, {}, b'{"items": [], "next_cursor": "same"}'))
    with _client(url) as client, pytest.raises(SourceError) as info:
        list(client.rates())
    assert info.value.kind == BAD_DATA and client.requests_made == 2


def test_other_4xx_is_a_client_error(scripted: Callable[[Script], str]) -> None:
    url = scripted(lambda h: (404, {}, b'{"error": "no such endpoint"}'))
    with _client(url) as client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == CLIENT_ERROR and "no such endpoint" in info.value.message
    assert client.requests_made == 1


def test_server_error_text_never_echoes_the_token(scripted: Callable[[Script], str]) -> None:
    url = scripted(lambda h: (500, {}, json.dumps(
        {"error": f"bad header {h.headers.get('Authorization')}"}).encode()))
    with _client(url, retries=0) as client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert "s3cret-tok" not in str(info.value) and "***" in str(info.value)


def test_retry_after_forms() -> None:
    assert _retry_after("3", 60) == 3
    assert _retry_after("3600", 60) == 60  # capped
    assert _retry_after(None, 60) is None and _retry_after("soon", 60) is None
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= (_retry_after(when, 60) or 0) <= 20
