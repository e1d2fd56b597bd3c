"""Import of record files: formats, rejections with file and line, idempotence."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from noc_tui.cli import main
from noc_tui.records.timefmt import iso_to_ms, ms_to_iso
from noc_tui.store.cache import JSON_ATTEMPT_BATCH, Cache
from noc_tui.sync.record_files import MAX_LINE
from tests import inbound_data
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


# -- a bad spot costs only itself (issue 11, section 2) ---------------------------------

CARRIER_HEADER = "id,name,status,channels,cps,currency,halt_codes\n"
ATTEMPT_HEADER = ("call_id,seq,carrier_id,started_at,dst,cli,sip_code,sip_reason,pdd_ms,"
                  "duration_s,release_reason\n")


def _carrier_row(cid: str) -> str:
    return f"{cid},{cid} Telecom,active,10,5,USD,404;486\n"


def _import(db: Path, *paths: Path) -> tuple[int, str]:
    """`noc-tui import` as a user runs it: (exit status, stderr)."""
    run = subprocess.run([sys.executable, "-m", "noc_tui", "--cache", str(db), "import",
                          *map(str, paths)], capture_output=True, text=True, timeout=120,
                         check=False)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, run.stderr


def test_a_byte_order_mark_at_the_start_is_accepted(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    (tmp_path / "carriers.csv").write_bytes(bom + (CARRIER_HEADER + _carrier_row("A")).encode())
    (tmp_path / "rates.jsonl").write_bytes(bom + json.dumps(RATES[0]).encode() + b"\n")
    (tmp_path / "attempts.jsonl.gz").write_bytes(gzip.compress(
        bom + "".join(json.dumps(a) + "\n" for a in ATTEMPTS).encode()))
    (tmp_path / "contacts.csv").write_bytes(bom + b"carrier_id,name\r\nA,Ann\r\n")
    db = tmp_path / "c.db"
    rc, err = _import(db, tmp_path)
    assert rc == 0, err
    assert f"imported {1 + 1 + 1 + len(ATTEMPTS)} records, rejected 0" in err
    assert [r[0] for r in _rows(db, "carriers", "id")] == ["A"]
    assert [r[:2] for r in _rows(db, "contacts", "name")] == [("A", "Ann")]
    assert len(_rows(db, "rates", "prefix")) == 1
    assert [r[:2] for r in _rows(db, "attempts", "call_id, seq")] == [
        (a["call_id"], a["seq"]) for a in ATTEMPTS]


def test_a_bad_csv_row_costs_only_that_row(tmp_path: Path) -> None:
    f = tmp_path / "carriers.csv"
    rows = [_carrier_row(c).encode() for c in "ABCDEFGH"]
    rows[1] = b"B,B \xff\xfe Telecom,active,10,5,USD,\n"  # not UTF-8
    rows[3] = f"D,{'x' * 200_000},active,10,5,USD,\n".encode()  # over csv's 131072
    rows[5] = b'F,"F Telecom,active,10,5,USD,\n'  # a quote never closed
    rows[7] = b'H,H Telecom,active,10,5,USD,"404\n'  # never closed, in the last cell
    f.write_bytes(CARRIER_HEADER.encode() + b"".join(rows) + _carrier_row("I").encode())
    db = tmp_path / "c.db"
    rc, err = _import(db, f)
    assert rc == 1
    assert "imported 5 records, rejected 4" in err
    assert f"{f}:3: not valid UTF-8 (byte 0xff" in err
    assert f"{f}:5: a cell is longer than 131,072 characters" in err
    assert f"{f}:7: a quote opened on this line is never closed" in err
    assert f"{f}:9: a quote opened on this line is never closed" in err
    assert [r[0] for r in _rows(db, "carriers", "id")] == ["A", "C", "E", "G", "I"]


def test_quoted_cells_over_several_lines_are_kept_and_lines_still_count(
    tmp_path: Path,
) -> None:
    f = tmp_path / "contacts.csv"
    f.write_text('carrier_id,name,notes\nA,Ann,"call first,\nthen mail"\nA,Bob,x\n'
                 'A,,missing name\nA,"Cy ""the"" NOC",\n')
    db = tmp_path / "c.db"
    rc, err = _import(db, f)
    assert rc == 1
    assert f"{f}:5: name" in err  # the physical line, after the two-line cell
    assert _rows(db, "contacts", "name") == [
        ("A", "Ann", None, None, None, "call first,\nthen mail"),
        ("A", "Bob", None, None, None, "x"),
        ("A", 'Cy "the" NOC', None, None, None, None)]


def test_a_bad_json_line_costs_only_that_line(tmp_path: Path) -> None:
    good = [attempt(f"j{i}", 1, "A", "2026-11-01T10:00:00Z", 200, 5) for i in range(5)]
    lines = [json.dumps(a).encode() for a in good]
    lines[1] = lines[1].replace(b'"cli": "15550001"', b'"cli": "\xff\xfe"')  # not UTF-8
    lines[3] = lines[3][:40]  # cut short
    lines.insert(4, b'{"call_id": "' + b"x" * (MAX_LINE + 1) + b'"}')  # read past, not held
    f = tmp_path / "attempts.jsonl"
    f.write_bytes(b"\n".join(lines))  # and no newline at the end
    carriers = tmp_path / "carriers.jsonl"
    carriers.write_bytes(json.dumps(CARRIERS[0]).encode() + b"\n"
                         + json.dumps({**CARRIERS[1], "name": "B"}).encode()[:-1] + b"\xff}\n")
    db = tmp_path / "c.db"
    rc, err = _import(db, f, carriers)
    assert rc == 1
    assert "imported 4 records, rejected 4" in err
    assert f"{f}:2: line: not valid JSON" in err and f"{f}:4: line: not valid JSON" in err
    assert f"{f}:5: line longer than 16 MiB; skipped unread" in err
    assert f"{carriers}:2: line: not valid JSON" in err
    assert [r[0] for r in _rows(db, "attempts", "call_id")] == ["j0", "j2", "j4"]
    assert [r[0] for r in _rows(db, "carriers", "id")] == ["A"]


def test_a_bad_byte_in_a_field_no_format_names_costs_only_that_line(tmp_path: Path) -> None:
    # msgspec skips an unknown field unread: its bad byte once passed the decoder, and
    # then the repeated-key check raised (a traceback, the import lost). Found by the
    # property test in test_import_property.py.
    good = [attempt(f"u{i}", 1, "A", "2026-11-01T10:00:00Z", 200, 5) for i in range(4)]
    lines = [json.dumps(a).encode() for a in good]
    lines[1] = lines[1].replace(b'"sip_reason"', b'"\xf3ip_reason"')  # in a key
    lines[2] = lines[2][:-1] + b', "note": "\xf3"}'  # in the value of a field of no format
    f = tmp_path / "attempts.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    carriers = tmp_path / "carriers.jsonl"
    carriers.write_bytes(json.dumps(CARRIERS[0]).encode()[:-1] + b', "x\xf3": 1}\n')
    db = tmp_path / "c.db"
    rc, err = _import(db, f, carriers)
    assert rc == 1, err
    assert "Traceback" not in err
    assert f"{f}:2: line: not valid JSON" in err and f"{f}:3: line: not valid JSON" in err
    assert f"{carriers}:1: line: not valid JSON" in err
    assert [r[0] for r in _rows(db, "attempts", "call_id")] == ["u0", "u3"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_cut_gzip_keeps_every_record_before_the_cut(tmp_path: Path, fmt: str) -> None:
    n = 60_000  # the cut comes after more than one batch (JSON_ATTEMPT_BATCH)
    t0 = iso_to_ms("2026-11-01T00:00:00Z")
    recs = [attempt(f"t{i:06d}", 1, "A", ms_to_iso(t0 + i * 1000), 200, 3, dst=f"44{i}")
            for i in range(n)]
    if fmt == "jsonl":
        text = "".join(json.dumps(a) + "\n" for a in recs)
    else:
        text = ATTEMPT_HEADER + "".join(
            ",".join("" if a[k] is None else str(a[k]) for k in ATTEMPT_HEADER.strip().split(","))
            + "\n" for a in recs)
    packed = gzip.compress(text.encode())
    path = tmp_path / f"attempts.{fmt}.gz"
    path.write_bytes(packed[: len(packed) * 3 // 5])  # cut off mid-stream
    # What a reader can get out of the cut file: the whole lines in it are the records.
    readable = zlib.decompressobj(wbits=31).decompress(path.read_bytes())
    whole = readable.count(b"\n") - (fmt == "csv")
    assert JSON_ATTEMPT_BATCH < whole < n and not readable.endswith(b"\n")
    db = tmp_path / "c.db"
    rc, err = _import(db, path)
    assert rc == 1
    last = whole + (fmt == "csv")  # the header is line 1 of a CSV file
    assert (f"{path}: file could not be read further than line {last} and part of line "
            f"{last + 1}: the compressed file is cut off") in err
    assert f"imported {whole} records" in err
    stored = _rows(db, "attempts", "call_id")
    assert [r[0] for r in stored] == [f"t{i:06d}" for i in range(whole)]


def test_a_csv_file_must_start_with_a_header_of_its_kind(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    jsonl_named_csv = write_jsonl(tmp_path / "attempts.csv", ATTEMPTS)
    rc, err = _import(db, jsonl_named_csv)
    assert rc == 2
    assert (f"{jsonl_named_csv}: line 1 is not a header of attempts fields: it has no "
            "call_id") in err
    assert "name the file attempts.jsonl" in err
    assert not db.exists() or _rows(db, "attempts", "call_id") == []
    wrong_kind = tmp_path / "rates.csv"
    wrong_kind.write_text(CARRIER_HEADER + _carrier_row("A"))
    rc, err = _import(db, wrong_kind)
    assert rc == 2 and "is not a header of rates fields: it has no carrier_id, card_id" in err
    headless = tmp_path / "carriers.csv"
    headless.write_text(_carrier_row("A") + _carrier_row("B"))
    rc, err = _import(db, headless)
    assert rc == 2 and "not a header of carriers fields" in err and "like id,name" in err
    twice = tmp_path / "contacts.csv"
    twice.write_text("carrier_id,name,name\nA,Ann,Bob\n")
    rc, err = _import(db, twice)
    assert rc == 2 and 'line 1: duplicate column "name" in the header' in err
    empty = tmp_path / "empty" / "contacts.csv"  # no lines: no header, and no records
    empty.parent.mkdir()
    empty.write_text("")
    assert _import(db, empty)[0] == 0
    # Every file is checked before any is imported: nothing of a folder goes in.
    (tmp_path / "carriers.jsonl").write_text(json.dumps(CARRIERS[0]) + "\n")
    headless.unlink()
    rc, err = _import(db, tmp_path)
    assert rc == 2 and _rows(db, "carriers", "id") == []


# One valid record of each kind, with what it needs (its carrier or trunk group).
_ONE: dict[str, dict[str, Any]] = {
    "carriers": CARRIERS[0],
    "contacts": {"carrier_id": "A", "name": "Ann", "role": "noc"},
    "rates": RATES[0],
    "attempts": attempt("c1", 1, "A", "2026-11-01T10:00:00Z", 200, 5),
    "trunk_groups": inbound_data.group("g1"),
    "dids": inbound_data.did("100", "g1"),
    "registrations": inbound_data.reg("g1", "trunk1", "2026-11-01T10:00:00Z"),
    "deliveries": inbound_data.att("d1", 1, 200),
}
_TABLE = {"deliveries": "delivery_attempts"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)


def _count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("kind", list(_ONE))
def test_a_csv_header_naming_a_column_twice_is_refused(tmp_path: Path, kind: str) -> None:
    """Which of the two cells is meant cannot be told: the file is refused with its line
    1 and why, in one line, and like every header error before anything is imported."""
    rec = _ONE[kind]
    key = next(iter(rec))  # required in every kind
    data = tmp_path / "data"
    data.mkdir()
    for other in ("carriers", "trunk_groups"):
        if other != kind:
            write_jsonl(data / f"{other}.jsonl", [_ONE[other]])
    path = data / f"{kind}.csv"
    path.write_text(",".join([*rec, key]) + "\n"
                    + ",".join([*map(_cell, rec.values()), "other"]) + "\n")
    db = tmp_path / "c.db"
    rc, err = _import(db, data)
    assert rc == 2
    assert err == (f'noc-tui: {path}: line 1: duplicate column "{key}" in the header; '
                   "name each column once\n")
    tables = {"carriers", "trunk_groups", _TABLE.get(kind, kind)}
    assert {t: _count(db, t) for t in tables} == dict.fromkeys(tables, 0)
    # The same row under the header without the repeat is taken: the header was at fault.
    path.write_text(",".join(rec) + "\n" + ",".join(map(_cell, rec.values())) + "\n")
    rc, err = _import(db, data)
    assert rc == 0, err
    assert {t: _count(db, t) for t in tables} == dict.fromkeys(tables, 1)


def test_a_csv_header_of_many_columns_is_checked_at_once(tmp_path: Path) -> None:
    """Each name counted once: counting each cell's name among all cells took minutes."""
    path = tmp_path / "carriers.csv"
    path.write_text("id," + ",".join(f"x{i}" for i in range(100_000)) + ",x7\nA\n")
    t = time.monotonic()
    rc, err = _import(tmp_path / "c.db", path)
    assert rc == 2 and 'line 1: duplicate column "x7" in the header' in err
    assert time.monotonic() - t < 10


def test_a_number_too_big_for_the_cache_costs_only_its_record(tmp_path: Path) -> None:
    recs = [attempt(f"h{i}", 1, "A", "2026-11-01T10:00:00Z", 200, 5) for i in range(4)]
    lines = [json.dumps(a) for a in recs]
    lines[1] = lines[1].replace('"duration_s": 5', '"duration_s": ' + "9" * 30)
    lines[2] = lines[2].replace('"seq": 1', '"seq": 18446744073709551616')
    f = tmp_path / "attempts.jsonl"
    f.write_text("\n".join(lines) + "\n")
    carriers = tmp_path / "carriers.csv"
    carriers.write_text(CARRIER_HEADER + f"A,Alpha,active,{10**20},5,USD,\n" + _carrier_row("B"))
    db = tmp_path / "c.db"
    rc, err = _import(db, f, carriers)
    assert rc == 1
    # Every numeric field has a range (records/ranges.py): the reason names its limit.
    assert f"{f}:2: duration_s: Input should be less than or equal to 604800" in err
    assert f"{f}:3: seq: Input should be less than or equal to 1000" in err
    assert f"{carriers}:2: channels: Input should be less than or equal to 10000000" in err
    assert [r[0] for r in _rows(db, "attempts", "call_id")] == ["h0", "h3"]
    assert [r[0] for r in _rows(db, "carriers", "id")] == ["B"]
