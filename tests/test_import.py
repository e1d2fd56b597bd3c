"""Import of record files: formats, rejections with file and line, idempotence."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from noc_tui.cli import main
from noc_tui.records.timefmt import iso_to_ms, ms_to_iso
from noc_tui.store.cache import Cache
from tests.sample_data import ATTEMPTS, CARRIERS, RATES, attempt, write_dataset, write_jsonl


def _rows(db: Path, table: str, order: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
    finally:
        con.close()


def test_import_folder_counts_and_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_dataset(tmp_path / "data")
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(data)]) == 0
    err = capsys.readouterr().err
    assert f"imported {len(CARRIERS) + len(RATES) + len(ATTEMPTS)} records, rejected 0" in err
    assert len(_rows(db, "attempts", "call_id, seq")) == len(ATTEMPTS)
    # Rates arrived before attempts (folder order is by kind), so B's call is rated:
    # 65 s on 30/6 at 0.6/min + 0.01 -> 66 s billed.
    cost = _rows(db, "rollups", "carrier_id, hour")
    b_cost = sum(r[14] for r in cost if r[0] == "B")
    assert b_cost == pytest.approx(66 / 60 * 0.6 + 0.01 + 30 / 60 * 0.6 + 0.01)


def test_bad_records_are_rejected_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "attempts.jsonl"
    good = [attempt("g1", 1, "A", "2026-11-01T10:00:00Z", 200, 5),
            attempt("g2", 1, "A", "2026-11-01T10:00:01.5Z", 486)]
    no_code = attempt("b1", 1, "A", "2026-11-01T10:00:00Z", 200)
    del no_code["sip_code"]
    lines = [
        json.dumps(good[0]),
        "{broken json",
        json.dumps(attempt("b2", 1, "A", "2026-11-01T10:00:00Z", 700)),
        json.dumps(no_code),
        "",
        json.dumps({**good[1], "seq": "one"}),
        json.dumps({**good[1], "started_at": "2026-11-01 10:00:00"}),
        json.dumps(good[1]),
    ]
    f.write_text("\n".join(lines) + "\n")
    db = tmp_path / "c.db"
    rc = main(["--cache", str(db), "import", str(f), "--rejects", str(tmp_path / "rej.jsonl")])
    err = capsys.readouterr().err
    assert rc == 1
    assert "imported 2 records, rejected 5" in err
    assert f"{f}:2: line: not valid JSON" in err
    assert f"{f}:3: sip_code" in err and "699" in err
    assert f"{f}:4: sip_code: missing field" in err
    assert f"{f}:6: seq" in err
    assert f"{f}:7: started_at" in err
    rej = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert [r["where"] for r in rej] == [f"{f}:{n}" for n in (2, 3, 4, 6, 7)]
    assert (tmp_path / "rej.jsonl").stat().st_mode & 0o777 == 0o600
    assert [r[0] for r in _rows(db, "attempts", "call_id")] == ["g1", "g2"]


def test_csv_and_gzip(tmp_path: Path) -> None:
    csv_path = tmp_path / "carriers.csv"
    csv_path.write_text(
        "id,name,status,channels,cps,currency,halt_codes\n"
        "A,Alpha,active,0,10,USD,\n"
        "B,Beta,inactive,30,5,EUR,404;486\n"
    )
    gz_path = tmp_path / "attempts.csv.gz"
    header = "call_id,seq,carrier_id,started_at,dst,cli,sip_code,sip_reason,pdd_ms,duration_s\n"
    with gzip.open(gz_path, "wt") as fh:
        fh.write(header)
        fh.write("x1,1,A,2026-11-01T10:00:00.250Z,4412,,503,Service Unavailable,,0\n")
        fh.write("x1,2,B,2026-11-01T10:00:01Z,4412,1555,200,OK,900,31\n")
    with Cache(tmp_path / "c.db") as cache:
        from noc_tui.sync.importer import import_paths

        summary = import_paths(cache, [csv_path, gz_path])
        assert (summary.taken, summary.rejected) == (4, 0)
        rows = cache.conn.execute(
            "SELECT call_id, seq, ts, cli, pdd_ms FROM attempts ORDER BY seq").fetchall()
        assert rows[0][3] is None and rows[0][4] is None  # empty cell = null
        assert rows[0][2] % 1000 == 250
        assert cache.conn.execute(
            "SELECT halt_codes FROM carriers WHERE id = 'B'").fetchone()[0] == "404,486"
        assert cache.conn.execute("SELECT count(*) FROM failovers").fetchone()[0] == 1


def test_unknown_file_kind_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "calls.jsonl"
    f.write_text("{}\n")
    assert main(["--cache", str(tmp_path / "c.db"), "import", str(f)]) == 2
    err = capsys.readouterr().err
    assert "cannot tell the record kind" in err and "Traceback" not in err
    assert main(["--cache", str(tmp_path / "c.db"), "import", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_reimport_is_idempotent_and_changes_replace(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(data)]) == 0
    first = {t: _rows(db, t, "1, 2") for t in ("attempts", "rollups", "failovers")}
    assert main(["--cache", str(db), "import", str(data)]) == 0
    assert {t: _rows(db, t, "1, 2") for t in first} == first
    # c1's second leg now fails too: no failover any more, and the rollups follow.
    changed = [dict(a) for a in ATTEMPTS]
    changed[1].update(sip_code=503, duration_s=0)
    write_jsonl(data / "attempts.jsonl", changed)
    assert main(["--cache", str(db), "import", str(data / "attempts.jsonl")]) == 0
    with Cache(db) as cache:
        incremental = _rows(db, "rollups", "1, 2")
        cache.rebuild_rollups()
    assert _rows(db, "rollups", "1, 2") == incremental
    assert [r[0] for r in _rows(db, "failovers", "1")] == ["c3"]
    b = [r for r in incremental if r[0] == "B"]
    assert sum(r[3] for r in b) == 1  # only c3 still connects on B


def test_truncated_gzip_keeps_what_was_read_and_says_where_it_broke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # More than one batch of attempts, so the first is stored before the break is read.
    n = 40_000
    t0 = iso_to_ms("2026-11-01T00:00:00Z")
    lines = b"".join(
        json.dumps(attempt(f"t{i:06d}", 1, "A", ms_to_iso(t0 + i * 1000), 200,
                           dst=f"44{i}")).encode() + b"\n"
        for i in range(n))
    packed = gzip.compress(lines)
    path = tmp_path / "attempts.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 3 // 4])  # cut off mid-stream
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "could not be read further" in err and str(path) in err
    stored = _rows(db, "attempts", "call_id")
    assert 25_000 <= len(stored) < n  # the whole batches read before the break
    assert [r[0] for r in stored] == [f"t{i:06d}" for i in range(len(stored))]
