"""The cache file: schema migrations, bad files, one writer with concurrent readers."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from noc_tui.analytics import metrics
from noc_tui.cli import main
from noc_tui.records.attempt_parser import AttemptParser
from noc_tui.records.timefmt import iso_to_ms
from noc_tui.store.cache import MIGRATIONS, SCHEMA_VERSION, Cache, CacheError
from tests.sample_data import ATTEMPTS, CARRIERS, NOW, RATES, attempt


def test_new_cache_is_wal_at_current_schema(tmp_path: Path) -> None:
    with Cache(tmp_path / "c.db") as cache:
        assert cache.schema_version() == SCHEMA_VERSION
        assert cache.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrates_a_version_1_cache_with_data(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(MIGRATIONS[0])
    con.execute("PRAGMA user_version = 1")
    # A version-1 cache as an older noc-tui left it: records and rollups, no links.
    con.execute("INSERT INTO carriers VALUES ('A', 'Alpha', 'active', 0, 1, 'USD', NULL)")
    for a in ATTEMPTS:
        con.execute(
            "INSERT INTO attempts VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL)",
            (a["call_id"], a["seq"], a["carrier_id"], iso_to_ms(a["started_at"]), a["dst"],
             a["cli"], a["sip_code"], a["sip_reason"], a["pdd_ms"], a["duration_s"], None),
        )
    con.commit()
    con.close()
    with Cache(db) as cache:
        assert cache.schema_version() == SCHEMA_VERSION
        rows = {r["id"]: r for r in metrics.carrier_metrics(cache, iso_to_ms(NOW), 86400)}
    # Rollups were rebuilt and failover links derived from the old attempts.
    assert rows["A"]["attempts"] == 3 and rows["A"]["failover_out"] == 2
    assert rows["B"]["failover_in"] == 2 and rows["B"]["name"] is None


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(CacheError, match="newer"):
        Cache(db)


def test_not_a_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "c.db"
    db.write_text("hello, this is not sqlite" * 100)
    assert main(["--cache", str(db), "export", "carriers"]) == 2
    err = capsys.readouterr().err
    assert "not a noc-tui cache" in err and "Traceback" not in err


def test_reader_sees_consistent_data_while_a_writer_ingests(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with Cache(db) as cache:
        cache.ingest("carriers", CARRIERS)
    batches = 40
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def write() -> None:
        try:
            with Cache(db) as w:
                for b in range(batches):
                    recs = [attempt(f"w{b}-{i}", 1, "A", "2026-11-01T10:00:00Z", 200, 10)
                            for i in range(200)]
                    w.ingest("attempts", recs)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            with Cache(db, readonly=True) as r:
                deadline = time.monotonic() + 30
                while not done.is_set() and time.monotonic() < deadline:
                    with r.snapshot() as con:
                        n = con.execute("SELECT count(*) FROM attempts").fetchone()[0]
                        rolled = con.execute(
                            "SELECT coalesce(sum(attempts), 0) FROM rollups").fetchone()[0]
                    # Each batch commits attempts and rollups together.
                    assert n == rolled and n % 200 == 0
                    seen.append(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert seen == sorted(seen) and len(seen) > 1
    with Cache(db, readonly=True) as r:
        assert r.conn.execute("SELECT count(*) FROM attempts").fetchone()[0] == batches * 200


def test_costs_made_by_a_parser_before_rates_changed_are_made_again(tmp_path: Path) -> None:
    """A parser costs attempts from the rates it reads; a batch costed before the rates
    changed is costed again when stored, and the parser's next batch uses the new ones."""
    import json

    from tests.sample_data import RATES

    def line(call: str) -> bytes:
        # 65 s on B's 30/6 card at 0.6 a minute + 0.01: billed 66 s.
        return json.dumps(attempt(call, 1, "B", "2026-11-01T10:00:02.000Z", 200,
                                  dur=65)).encode()

    with Cache(tmp_path / "c.db") as cache:
        cache.ingest("carriers", CARRIERS)
        cache.ingest("rates", RATES)
        parser = AttemptParser(cache.rates_view())
        try:
            early = parser.lines([line("k1")], str)
            assert early.rates_version is not None
            cache.ingest("rates", [RATES[0] | {"rate": 1.2}])
            cache.ingest_parsed(early)
            later = parser.lines([line("k2")], str)
            assert later.rates_version != early.rates_version
            cache.ingest_parsed(later)
        finally:
            parser.close()
        costs = dict(cache.conn.execute("SELECT call_id, cost FROM attempts"))
        assert costs == pytest.approx({"k1": 66 / 60 * 1.2 + 0.01, "k2": 66 / 60 * 1.2 + 0.01})
        # And the rollups hold the same cost (nothing of the old one left).
        assert cache.conn.execute("SELECT sum(cost) FROM rollups").fetchone()[0] == (
            pytest.approx(2 * (66 / 60 * 1.2 + 0.01)))


def test_a_page_with_a_lone_surrogate_escape_loses_only_that_record(tmp_path: Path) -> None:
    """A \\u escape of a lone surrogate (JSON that Python reads, msgspec and pydantic
    refuse) rejects its own record, with its place named; the others are stored."""
    body = ('{"items": [{"carrier_id": "A", "name": "x\\ud800"}, '
            '{"carrier_id": "A", "name": "ok"}], "next_cursor": null}')
    with Cache(tmp_path / "c.db") as cache:
        report = cache.ingest_json_page("contacts", body, lambda i: f"contacts item {i + 1}")
        names = [r[0] for r in cache.conn.execute("SELECT name FROM contacts")]
    assert (report.taken, report.rejected, names) == (1, 1, ["ok"])
    assert report.rejections[0].where == "contacts item 1"


def test_migrations_10_and_11_keep_every_figure(tmp_path: Path) -> None:
    """Schema 10 sums durations in ms and pdd in µs: a schema-9 cache's rollups (whole
    seconds and ms) are scaled, not rebuilt. Schema 11 gives failover-in links the start
    of their failure (fail_ts). Every figure stays the same."""
    db = tmp_path / "c.db"
    now = iso_to_ms(NOW)
    with Cache(db) as cache:
        for kind, recs in (("carriers", CARRIERS), ("rates", RATES), ("attempts", ATTEMPTS)):
            cache.ingest(kind, recs)
        rollups = cache.conn.execute("SELECT * FROM rollups ORDER BY 1, 2").fetchall()
        links_in = cache.conn.execute("SELECT * FROM failovers_in ORDER BY 1, 2").fetchall()
        figures = metrics.carrier_metrics(cache, now, 86400)
        summary = metrics.summary(cache, "B", "live", now)
    assert sum(r[4] for r in rollups) == 91_000  # dur_conn_ms: 65 + 20 + 6 s
    con = sqlite3.connect(db)
    con.executescript("""
        ALTER TABLE rollups RENAME COLUMN dur_conn_ms TO dur_conn;
        ALTER TABLE rollups RENAME COLUMN dur_all_ms TO dur_all;
        ALTER TABLE rollups RENAME COLUMN pdd_sum_us TO pdd_sum;
        UPDATE rollups SET dur_conn = dur_conn / 1000, dur_all = dur_all / 1000,
            pdd_sum = pdd_sum / 1000;
        DROP INDEX failovers_in_carrier;
        ALTER TABLE failovers_in DROP COLUMN fail_ts;
        CREATE INDEX failovers_in_carrier ON failovers_in (carrier_id, ts, call_id);
        DROP INDEX failovers_out;
        CREATE INDEX failovers_out ON failovers (carrier_id, ts, call_id, seq, failed_code);
        PRAGMA user_version = 9;
    """)
    con.close()
    with Cache(db) as cache:
        assert cache.schema_version() == SCHEMA_VERSION
        assert cache.conn.execute("SELECT * FROM rollups ORDER BY 1, 2").fetchall() == rollups
        assert cache.conn.execute(
            "SELECT * FROM failovers_in ORDER BY 1, 2").fetchall() == links_in
        assert len(links_in) == 2 and all(r[4] is not None for r in links_in)
        assert metrics.carrier_metrics(cache, now, 86400) == figures
        assert metrics.summary(cache, "B", "live", now) == summary
