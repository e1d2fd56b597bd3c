"""A poll always ends, in bounded memory, whatever the switch does: each misbehaving
switch is a real HTTP server on loopback, the deadlines are tiny so the tests are
quick, and peak memory is measured in a child process of its own."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from noc_tui.config import PollSettings, Settings, SourceSettings
from noc_tui.records.timefmt import iso_to_ms, ms_to_iso, now_ms
from noc_tui.sources.apiv1 import MAX_EMPTY_PAGES, SourceClient
from noc_tui.sources.base import BAD_DATA, TIMED_OUT, SourceError
from noc_tui.store.cache import Cache
from noc_tui.sync.poller import Poller, PollLock, poll_running
from tests.hostile import (
    empty_page,
    endless_cursors,
    gzip_bomb,
    page,
    send,
    serving,
    slow_headers,
    trickling,
)

ROOT = Path(__file__).resolve().parent.parent


def _client(url: str, **source: Any) -> SourceClient:
    settings = SourceSettings(url=url, **{"retries": 0, **source})
    return SourceClient(settings, backoff_base_s=0.01)


def _settings(url: str, deadline: str = "15m", **source: Any) -> Settings:
    return Settings(source=SourceSettings(url=url, **{"retries": 0, **source}),
                    poll=PollSettings(backfill="1h", deadline=deadline))


def _assert_released(db: Path) -> None:
    """The poll lock is free again, and poll_runs says the poll failed."""
    assert not poll_running(db)
    PollLock(db, try_s=0).release()


# -- time ------------------------------------------------------------------------------


@pytest.mark.parametrize("respond", [trickling(), slow_headers()],
                         ids=["trickled-body", "trickled-headers"])
def test_a_trickling_switch_meets_the_request_deadline(respond: Any) -> None:
    """One byte every 50 ms never trips the 5 s read timeout; the total deadline ends
    the request, however far it got."""
    with serving(respond) as url:
        t = time.monotonic()
        with _client(url, request_deadline_s=0.5, read_timeout_s=5.0) as client, \
                pytest.raises(SourceError) as info:
            list(client.carriers())
        took = time.monotonic() - t
    assert info.value.kind == TIMED_OUT
    assert "source.request_deadline_s = 0.5 s" in info.value.message
    assert 0.5 <= took < 2.0


def test_a_trickling_switch_ends_the_poll_and_frees_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with serving(trickling()) as url:
        t = time.monotonic()
        result = Poller(_settings(url, request_deadline_s=0.3, retries=1), db,
                        backoff_base_s=0.01).poll_once()
        took = time.monotonic() - t
    assert not result.ok and result.error_kind == TIMED_OUT
    assert result.error is not None and "source.request_deadline_s" in result.error
    assert "gave up after 2 tries" in result.error and took < 3.0
    _assert_released(db)
    assert Poller(_settings("http://127.0.0.1:9"), db).status().status == "failed"


def test_endless_empty_pages_with_new_cursors_end_the_listing() -> None:
    with serving(endless_cursors(("rates",))) as url, _client(url) as client, \
            pytest.raises(SourceError) as info:
        list(client.rates())
    assert info.value.kind == BAD_DATA
    assert f"{MAX_EMPTY_PAGES} empty pages in a row" in info.value.message
    assert client.requests_made == MAX_EMPTY_PAGES


def test_endless_slow_cursors_end_the_poll_at_its_deadline(tmp_path: Path) -> None:
    """Each page takes 0.2 s and hands out a new cursor: only poll.deadline ends it."""
    db = tmp_path / "c.db"
    with serving(endless_cursors(("attempts",), delay_s=0.2)) as url:
        t = time.monotonic()
        result = Poller(_settings(url, deadline="1s"), db).poll_once()
        took = time.monotonic() - t
    assert not result.ok and result.error_kind == TIMED_OUT
    assert result.error is not None and "poll.deadline = 1s" in result.error
    assert 1.0 <= took < 2.5 and result.pages >= 3
    _assert_released(db)


def test_the_poll_deadline_cuts_a_request_short(tmp_path: Path) -> None:
    """A request allowed 60 s by itself ends when the poll's time is up."""
    db = tmp_path / "c.db"
    with serving(trickling()) as url:
        t = time.monotonic()
        result = Poller(_settings(url, deadline="1s", request_deadline_s=60,
                                  read_timeout_s=30), db).poll_once()
        took = time.monotonic() - t
    assert not result.ok and result.error_kind == TIMED_OUT
    assert result.error is not None and "poll.deadline = 1s" in result.error
    assert took < 2.5
    _assert_released(db)


# -- size ------------------------------------------------------------------------------


def test_a_gzip_bomb_is_an_error_naming_the_limit() -> None:
    with serving(gzip_bomb(member_mb=100)) as url, _client(url, retries=3) as client, \
            pytest.raises(SourceError) as info:
        list(client.carriers())
    message = info.value.message
    assert info.value.kind == BAD_DATA and "over the 64 MB limit once decompressed" in message
    assert "source.page_limit" in message and "source.max_page_mb" in message
    assert client.requests_made == 1  # the same page would be as big again: no retry


def test_a_page_over_the_limit_is_an_error_naming_it() -> None:
    body = page([{"id": "x" * 1000}] * 2000)  # ~2 MB, not compressed

    with serving(lambda h: send(h, 200, body)) as url, \
            _client(url, max_page_mb=1) as client, pytest.raises(SourceError) as info:
        list(client.carriers())
    assert info.value.kind == BAD_DATA and "over the 1 MB limit" in info.value.message
    assert "source.page_limit (now 5,000)" in info.value.message


def test_more_items_than_asked_is_an_error() -> None:
    with serving(lambda h: send(h, 200, page([{"id": str(i)} for i in range(11)]))) as url, \
            _client(url, page_limit=10) as client, pytest.raises(SourceError) as info:
        list(client.rates())
    assert info.value.kind == BAD_DATA
    assert "holds more than 10 items, the limit asked (source.page_limit)" in info.value.message


def test_a_page_of_a_million_tiny_items_is_refused_without_building_them() -> None:
    body = b'{"items": [' + b"0," * 3_000_000 + b'0], "next_cursor": null}'
    with serving(lambda h: send(h, 200, body)) as url, _client(url) as client, \
            pytest.raises(SourceError) as info:
        t = time.monotonic()
        list(client.rates())
    assert info.value.kind == BAD_DATA and "holds more than 5,000 items" in info.value.message
    assert time.monotonic() - t < 2.0


def test_a_huge_cursor_is_refused() -> None:
    with serving(lambda h: send(h, 200, page([], "c" * 100_000))) as url, \
            _client(url) as client, pytest.raises(SourceError) as info:
        list(client.rates())
    assert info.value.kind == BAD_DATA and "next_cursor is 100,000 characters" in str(info.value)


# -- memory ----------------------------------------------------------------------------

# Peak memory is the child's VmHWM: ru_maxrss would include the memory of the test
# process that started it (Linux keeps it across exec).
_CHILD = """
import json, sys
from pathlib import Path
from noc_tui.config import PollSettings, Settings, SourceSettings
from noc_tui.sync.poller import Poller
url, db = sys.argv[1], Path(sys.argv[2])
settings = Settings(source=SourceSettings(url=url, retries=0),
                    poll=PollSettings(backfill="1h"))
r = Poller(settings, db).poll_once()
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": r.status, "kind": r.error_kind, "error": r.error,
                  "taken": r.taken, "quarantined": r.quarantined,
                  "peak_mb": int(hwm.split()[1]) / 1024}))
"""


def _poll_in_a_child(url: str, db: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _CHILD, url, str(db)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _only(kind: str, body: bytes) -> Any:
    """A switch serving `body` for one listing, empty pages for the others."""
    def respond(h: BaseHTTPRequestHandler) -> None:
        if f"/{kind}" in h.path:
            send(h, 200, body)
        else:
            empty_page(h)

    return respond


def _attempt(i: int, reason: str) -> dict[str, Any]:
    return {"call_id": f"c{i}", "seq": 1, "carrier_id": "A",
            "started_at": ms_to_iso(now_ms() - 1_800_000), "dst": "441234", "cli": None,
            "sip_code": 503, "sip_reason": reason, "pdd_ms": None, "duration_s": 0,
            "release_reason": None}


def _contact(i: int, notes: str) -> dict[str, Any]:
    return {"carrier_id": "A", "name": f"n{i}", "role": "noc", "email": None, "phone": None,
            "notes": notes}


Item = Callable[[int, dict[str, str]], dict[str, Any]]  # (index, query) -> record


def _paged(listings: dict[str, tuple[int, Item]], per_page: int) -> Any:
    """A switch listing, per kind, n records made by `item`, `per_page` a page by
    cursor; empty pages for the other listings."""
    def respond(h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        listing = listings.get(url.path.rstrip("/").rsplit("/", 1)[-1])
        if listing is None:
            empty_page(h)
            return
        n, item = listing
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        start = int(q.get("cursor", "0"))
        end = min(n, start + per_page)
        send(h, 200, page([item(i, q) for i in range(start, end)],
                          str(end) if end < n else None))

    return respond


def _carriers(n: int, name_chars: int, per_page: int) -> Any:
    """A switch listing n carriers, each name about `name_chars` long."""
    return _paged({"carriers": (n, lambda i, _q: {
        "id": f"C{i:06d}", "name": f"carrier {i} " + "n" * name_chars})}, per_page)


def _trunk_groups(n: int, name_chars: int, per_page: int) -> Any:
    """A switch listing n trunk groups (names about `name_chars` long), a DID each, a
    registration for every other one (the rest raise an alarm: registered nowhere), and
    a delivery of two attempts for every tenth, in the poll's window."""
    def at(q: dict[str, str], i: int) -> str:
        # In the later half: the 1h window ends at the refresh's now, after the poll's.
        since, until = iso_to_ms(q["since"]), iso_to_ms(q["until"])
        return ms_to_iso(until - 1 - i % max(1, (until - since) // 2))

    def attempt(i: int, q: dict[str, str]) -> dict[str, Any]:
        g, seq = divmod(i, 2)
        gid = 10 * g
        return {"delivery_id": f"D{g:06d}", "seq": seq + 1, "trunk_group_id": f"G{gid:06d}",
                "did": f"4420{gid:08d}", "started_at": at(q, g), "sent": True,
                "target_kind": ("primary_pbx", "trunk2")[seq], "sip_code": (503, 200)[seq],
                "duration_s": 60 * seq, "cancelled": False}

    return _paged({
        "trunk_groups": (n, lambda i, _q: {"id": f"G{i:06d}", "policy": "backup_then_number",
                                           "name": f"group {i} " + "n" * name_chars}),
        "dids": (n, lambda i, _q: {"did": f"4420{i:08d}", "trunk_group_id": f"G{i:06d}"}),
        "registrations": (n // 2, lambda i, q: {
            "trunk_group_id": f"G{2 * i:06d}", "edge": "trunk1", "at": at(q, i),
            "event": "registered"}),
        "deliveries": (n // 10 * 2, attempt),
    }, per_page)


# Each just under the 64 MB limit: what a valid page of that size costs is bounded, and
# so are the tricks that would make the poll build far more than the page. Then what
# the switch may send in many pages: every carrier is in each stored window's list.
PAGES = {
    "gzip-bomb": lambda: gzip_bomb(member_mb=100),
    "gzip-members": lambda: gzip_bomb(member_mb=1, members=1024),  # 1 GB expanded
    "tiny-items": lambda: _only("attempts", b'{"items": [' + b"0," * 30_000_000
                                + b'0], "next_cursor": null}'),
    "big-attempts": lambda: _only("attempts", page(
        [_attempt(i, "x" * 12_000) for i in range(5000)])),
    "big-contacts": lambda: _only("contacts", page(
        [_contact(i, "x" * 12_000) for i in range(5000)])),
    "one-huge-record": lambda: _only("attempts", page(
        [_attempt(0, "x" * 60_000_000), _attempt(1, "ok")])),
    "50k-carriers": lambda: _carriers(50_000, 0, 5000),  # 192 MB before the lists streamed
    "long-names": lambda: _carriers(5000, 12_000, 2500),  # 60 MB of names; 303 MB before
    "50k-trunk-groups": lambda: _trunk_groups(50_000, 0, 5000),  # 440 MB before
    # One page of 60 MB: 224 MB before, 190 with the lists streamed but the page parsed whole
    "long-group-names": lambda: _trunk_groups(5000, 12_000, 5000),
}
CARRIERS = {"50k-carriers": 50_000, "long-names": 5000}
TRUNK_GROUPS = {"50k-trunk-groups": 50_000, "long-group-names": 5000}


@pytest.mark.parametrize("case", list(PAGES))
def test_peak_memory_of_a_poll_stays_under_150_mb(tmp_path: Path, case: str) -> None:
    db = tmp_path / "c.db"
    with serving(PAGES[case]()) as url:
        got = _poll_in_a_child(url, db)
    if case in CARRIERS:
        n = CARRIERS[case]
        assert got["status"] == "ok" and got["taken"] == n, got
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT window_s, count(*) FROM window_metrics GROUP BY 1 "
                                "ORDER BY 1").fetchall() == [(3600, n), (86400, n), (604800, n)]
    elif case in TRUNK_GROUPS:
        n = TRUNK_GROUPS[case]
        # n groups, n DIDs, n / 2 registrations, n / 10 deliveries of two attempts
        assert got["status"] == "ok" and got["taken"] == n * 2 + n // 2 + n // 5, got
        with sqlite3.connect(db) as conn:
            assert conn.execute(
                "SELECT window_s, count(*) FROM inbound_window_metrics GROUP BY 1 ORDER BY 1"
            ).fetchall() == [(3600, n), (86400, n), (604800, n)]
            offered = json.loads(conn.execute(
                "SELECT data FROM inbound_window_metrics WHERE window_s = 3600 AND "
                "trunk_group_id = 'G000010'").fetchone()[0])["offered"]
            alarms = conn.execute("SELECT count(*) FROM alarms WHERE subject_kind = "
                                  "'trunk group' AND kind = 'unregistered'").fetchone()[0]
        assert (offered, alarms) == (1, n // 2)
    elif case.startswith("big-"):
        assert got["status"] == "ok" and got["taken"] == 5000, got
    elif case == "one-huge-record":
        assert got["status"] == "ok" and (got["taken"], got["quarantined"]) == (1, 1), got
    else:
        assert got["status"] == "failed" and got["kind"] == BAD_DATA, got
    assert got["peak_mb"] < 150, got


def test_a_record_too_big_to_take_is_quarantined_with_its_start(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    huge = _attempt(0, "y" * 1_500_000)
    with serving(_only("attempts", page([_attempt(1, "ok"), huge, _attempt(2, "ok")]))) as url:
        result = Poller(_settings(url), db).poll_once()
    assert result.ok and (result.attempts, result.quarantined) == (2, 1)
    with sqlite3.connect(db) as conn:
        location, reason, raw = conn.execute(
            "SELECT location, reason, raw FROM quarantine").fetchone()
    assert location == "attempts page 1 item 2"
    assert "more than the 1,000,000 a record may take" in reason
    assert raw.startswith('{"call_id": "c0"') and len(raw) == 1_000


def test_a_big_page_of_trunk_groups_is_stored_in_slices_each_bad_record_quarantined(
        tmp_path: Path) -> None:
    """Over 2 MB, an inbound page is stored slice by slice, as the carriers' are: a bad
    record and one too big to take cost only themselves, named by their place."""
    groups: list[dict[str, Any]] = [{"id": f"G{i:03d}", "name": "n" * 10_000,
                                     "policy": "registered_then_trunk2"} for i in range(400)]
    groups[250]["policy"] = "no such policy"
    groups[300]["name"] = "y" * 1_500_000
    db = tmp_path / "c.db"
    with serving(_only("trunk_groups", page(groups))) as url:
        result = Poller(_settings(url), db).poll_once()
    assert result.ok and (result.taken, result.quarantined) == (398, 2), result
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM trunk_groups").fetchone() == (398,)
        quarantined = conn.execute(
            "SELECT location, reason FROM quarantine ORDER BY location").fetchall()
    assert [loc for loc, _ in quarantined] == ["trunk_groups page 1 item 251",
                                               "trunk_groups page 1 item 301"]
    assert "policy" in quarantined[0][1]
    assert "more than the 1,000,000 a record may take" in quarantined[1][1]


# -- records the cache cannot store ------------------------------------------------------


def _listings(**bodies: list[dict[str, Any]]) -> Any:
    """A switch serving these items per listing (empty for the others)."""
    def respond(h: BaseHTTPRequestHandler) -> None:
        kind = h.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        send(h, 200, page(bodies.get(kind, [])))

    return respond


def _carrier(cid: str, channels: int = 1) -> dict[str, Any]:
    return {"id": cid, "name": cid, "status": "active", "channels": channels, "cps": 1,
            "currency": "USD", "halt_codes": None}


def _watermark(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT value FROM poll_state WHERE key = 'watermark'")
                   .fetchone()[0])


def _quarantine(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, location, reason FROM quarantine ORDER BY id").fetchall()


@pytest.mark.parametrize("prefetch", [True, False])
def test_a_record_the_cache_refuses_is_quarantined_and_polls_move_on(
        tmp_path: Path, prefetch: bool) -> None:
    """A constraint of the cache file itself refuses one carrier and one attempt: each is
    quarantined with the cache's reason, every other record stored, and the next poll
    moves on past them."""
    db = tmp_path / "c.db"
    Cache(db).close()
    with sqlite3.connect(db) as conn:
        for table, key in (("carriers", "id"), ("attempts", "call_id")):
            conn.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                         f"WHEN NEW.{key} = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END")
    switch = _listings(carriers=[_carrier("A"), _carrier("poison"), _carrier("B")],
                       attempts=[_attempt(1, "ok"), {**_attempt(2, "ok"), "call_id": "poison"},
                                 _attempt(3, "ok")])
    with serving(switch) as url:
        first = Poller(_settings(url), db, prefetch=prefetch).poll_once()
        mark = _watermark(db)
        time.sleep(0.01)
        second = Poller(_settings(url), db, prefetch=prefetch).poll_once()
    assert first.ok and (first.taken, first.attempts, first.quarantined) == (4, 2, 2)
    assert second.ok and _watermark(db) > mark  # the next poll moved on
    assert _quarantine(db) == [  # each once, though the overlap fetched them again
        ("carriers", "carriers page 1 item 2", "record: the cache cannot store it (refused)"),
        ("attempts", "attempts page 1 item 2", "record: the cache cannot store it (refused)"),
    ]
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM carriers ORDER BY id")] == ["A", "B"]
        assert [r[0] for r in conn.execute("SELECT call_id FROM attempts ORDER BY 1")] == \
            ["c1", "c3"]


def test_numbers_too_big_for_the_cache_are_quarantined_and_polls_move_on(
        tmp_path: Path) -> None:
    """A number no SQLite integer holds, in a carrier and in an attempt."""
    db = tmp_path / "c.db"
    switch = _listings(carriers=[_carrier("A"), _carrier("huge", channels=2**63)],
                       attempts=[_attempt(1, "ok"), {**_attempt(2, "ok"), "duration_s": 2**63}])
    with serving(switch) as url:
        first = Poller(_settings(url), db).poll_once()
        mark = _watermark(db)
        time.sleep(0.01)
        second = Poller(_settings(url), db).poll_once()
    assert first.ok and (first.taken, first.quarantined) == (2, 2), first
    assert second.ok and _watermark(db) > mark
    assert [(k, where) for k, where, _ in _quarantine(db)] == [
        ("carriers", "carriers page 1 item 2"), ("attempts", "attempts page 1 item 2")]
