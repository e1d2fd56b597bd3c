"""Search anywhere (issue 16, point 2), the data side: calls by dialled number, CLI or
Call-ID across carriers, newest first, by index seeks."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics import search
from noc_tui.analytics.search import find_calls, search_terms
from noc_tui.records.timefmt import iso_to_ms
from noc_tui.store.cache import MIGRATIONS, Cache
from tests.sample_data import CARRIERS


def att(call: str, seq: int, carrier: str, at: str, code: int, dst: str,
        cli: str | None = "15550001") -> dict[str, Any]:
    return {"call_id": call, "seq": seq, "carrier_id": carrier, "started_at": at, "dst": dst,
            "cli": cli, "sip_code": code, "sip_reason": "r", "pdd_ms": 1000,
            "duration_s": 30 if 200 <= code <= 299 else 0, "release_reason": None}


ATTS = [
    att("old", 1, "A", "2026-10-01T08:00:00Z", 503, "442079460000"),
    att("old", 2, "B", "2026-10-01T08:00:03Z", 200, "442079460000"),
    att("new", 1, "B", "2026-11-01T11:00:00Z", 486, "442079460000", cli="anonymous"),
    att("mid", 1, "A", "2026-10-20T09:00:00Z", 200, "442079460000"),
    att("other", 1, "A", "2026-11-01T11:30:00Z", 200, "4930123456", cli="442079460000"),
    att("abc-123@host", 1, "B", "2026-11-01T10:00:00Z", 404, "33123456789"),
]


@pytest.fixture
def cache(tmp_path: Path):
    with Cache(tmp_path / "c.db") as c:
        c.ingest("carriers", CARRIERS)
        c.ingest("attempts", ATTS)
        yield c


def test_a_number_finds_its_calls_newest_first_with_carrier_code_and_time(cache) -> None:
    result = find_calls(cache.conn, "442079460000")
    assert result.exact and not result.cut
    # Dialled on three calls, and the CLI of a fourth: each call once, newest first.
    assert [m.key for m in result.matches] == ["other", "new", "mid", "old"]
    by = {m.key: m for m in result.matches}
    assert by["other"].matched == "CLI" and by["new"].matched == "number"
    # A call shows where it ended: the last attempt's carrier and code; its time is
    # its first attempt's.
    assert (by["old"].subject_id, by["old"].subject_name, by["old"].code) == (
        "B", "Beta Voice", 200)
    assert by["old"].attempts == 2
    assert by["old"].ts == iso_to_ms("2026-10-01T08:00:00Z")


def test_a_number_as_operators_write_it(cache) -> None:
    for typed in ("+44 20 7946-0000", "0044 (20) 7946 0000", " 442079460000 "):
        assert [m.key for m in find_calls(cache.conn, typed).matches][:2] == ["other", "new"]
    assert search_terms("+44 20") == search.SearchTerms("+44 20", "4420")
    assert search_terms("abc-123@host") == search.SearchTerms("abc-123@host", None)
    assert search_terms("   ") is None


def test_call_id_and_a_cli_that_is_not_a_number(cache) -> None:
    [m] = find_calls(cache.conn, "abc-123@host").matches
    assert (m.key, m.matched, m.code, m.number) == ("abc-123@host", "Call-ID", 404,
                                                    "33123456789")
    [m] = find_calls(cache.conn, "anonymous").matches
    assert (m.key, m.matched) == ("new", "CLI")


def test_a_prefix_when_nothing_is_exact(cache) -> None:
    result = find_calls(cache.conn, "4420794")
    assert not result.exact
    assert [m.key for m in result.matches] == ["other", "new", "mid", "old"]
    assert {m.matched for m in result.matches} == {"number prefix", "CLI prefix"}
    result = find_calls(cache.conn, "abc-")
    assert [m.key for m in result.matches] == ["abc-123@host"]
    # Too short to be a prefix: exact only.
    assert find_calls(cache.conn, "442").matches == []
    assert find_calls(cache.conn, "nobody-here").matches == []


def test_limit_keeps_the_newest_and_says_more_match(cache) -> None:
    result = find_calls(cache.conn, "442079460000", limit=2)
    assert [m.key for m in result.matches] == ["other", "new"]
    assert result.cut


def test_a_long_prefix_scan_is_bounded_and_says_so(cache, monkeypatch) -> None:
    monkeypatch.setattr(search, "PREFIX_SCAN", 2)
    result = find_calls(cache.conn, "44207946")
    assert result.cut and len(result.matches) <= 2


def test_every_field_is_an_index_seek_not_a_scan(cache) -> None:
    for column in ("dst", "cli", "call_id"):
        plan = " ".join(r[-1] for r in cache.conn.execute(
            f"EXPLAIN QUERY PLAN SELECT call_id, ts FROM attempts WHERE {column} = ? "
            "ORDER BY ts DESC LIMIT 9", ("x",)))
        assert "USING INDEX" in plan and "SCAN" not in plan.replace("USING INDEX", ""), plan


def test_the_indexes_come_with_the_migration_of_an_older_cache(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    for script in MIGRATIONS[:6]:
        con.executescript(script)
    con.execute("PRAGMA user_version = 6")
    con.close()
    with Cache(db) as c:
        names = {r[0] for r in c.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'attempts'")}
        assert {"attempts_dst", "attempts_cli"} <= names
        c.ingest("carriers", CARRIERS)
        c.ingest("attempts", ATTS)
        assert len(find_calls(c.conn, "442079460000").matches) == 4


def test_deliveries_of_the_trunk_groups_are_found_beside_the_calls(cache) -> None:
    from tests.inbound_data import att as delivery
    from tests.inbound_data import group

    cache.ingest("trunk_groups", [group("g1")])
    cache.ingest("deliveries", [
        delivery("dl-1", 1, 486, number="442079460000", caller="15550009",
                 at="2026-11-01T11:45:00Z"),
        delivery("dl-1", 2, 200, "trunk2", number="442079460000", caller="15550009",
                 at="2026-11-01T11:45:02Z"),
        delivery("dl-2", 1, 200, number="3370000", caller="442079460000",
                 at="2026-10-01T00:00:00Z")])
    result = find_calls(cache.conn, "+44 20 7946 0000")
    # A number the carriers' calls dialled and a DID called, newest first together.
    assert [(m.kind, m.key) for m in result.matches] == [
        ("delivery", "dl-1"), ("call", "other"), ("call", "new"), ("call", "mid"),
        ("call", "old"), ("delivery", "dl-2")]
    d1 = result.matches[0]
    assert (d1.subject_kind, d1.subject_id, d1.subject_name) == ("trunk group", "g1",
                                                                 "Group g1")
    assert (d1.number, d1.cli, d1.code, d1.attempts, d1.matched) == (
        "442079460000", "15550009", 200, 2, "number")
    assert d1.outcome == "answered_failover"
    assert result.matches[-1].matched == "CLI"  # dl-2's caller
    [m] = find_calls(cache.conn, "dl-2").matches
    assert (m.kind, m.matched) == ("delivery", "Call-ID")
    [m] = find_calls(cache.conn, "15550009").matches
    assert m.key == "dl-1"
    for table, column in (("deliveries", "did"), ("delivery_attempts", "caller")):
        plan = " ".join(r[-1] for r in cache.conn.execute(
            f"EXPLAIN QUERY PLAN SELECT delivery_id, ts FROM {table} WHERE {column} = ? "
            "ORDER BY ts DESC LIMIT 9", ("x",)))
        assert "USING INDEX" in plan and "SCAN" not in plan, plan
