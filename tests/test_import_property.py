"""Property test (issue 11): any corruption of one line of a valid file costs exactly
that line.

Each example writes a valid record file (attempts or carriers; JSONL or CSV; plain or
gzipped), imports it into a fresh SQLite cache, then corrupts one record's line (bytes
flipped, the line cut short, or a number made huge), imports that into another fresh
cache, and compares. Every other record must be stored exactly as from the valid file;
the corrupted line is rejected with its line number or, if what is left of it is still
a valid record, stored as such (a flipped digit is a different valid value). Keys are
far apart (each record's key repeats its number four times), so no flip of three bytes
turns one record into another.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noc_tui.records.formats import FIELDS
from noc_tui.store.cache import Cache
from noc_tui.sync.importer import import_paths

PROPS = settings(
    # NOC_TUI_PROP_EXAMPLES=1000 for a deeper run by hand.
    max_examples=int(os.environ.get("NOC_TUI_PROP_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

REASONS = [None, "Service Unavailable", "Busy Here, try later", 'He said "no"', "Ünïcödé ✓"]
NUMERIC = {"attempts": ("seq", "sip_code", "pdd_ms", "duration_s"),
           "carriers": ("channels", "cps")}
KEYS = {"attempts": ("call_id", "seq"), "carriers": ("id",)}
HUGE = ["1" + "0" * 19, "18446744073709551616", "9" * 40, "-" + "9" * 25, "1" + "0" * 400]
SENTINEL = 7_654_321_987  # a number no record holds, replaced by the huge one


def _record(kind: str, i: int, draw: st.DrawFn) -> dict[str, Any]:
    tag = f"{i:02d}" * 4
    if kind == "carriers":
        return {"id": f"K{tag}", "name": draw(st.sampled_from(["Alpha", "Beta, Inc", "Ωmega"])),
                "status": draw(st.sampled_from(["active", "inactive", "pending"])),
                "channels": draw(st.integers(0, 5000)), "cps": draw(st.integers(0, 500)),
                "currency": "USD", "halt_codes": draw(st.sampled_from([None, [404], [404, 486]]))}
    return {"call_id": f"c{tag}", "seq": 1, "carrier_id": draw(st.sampled_from(["A", "B"])),
            "started_at": f"2026-11-01T{i % 24:02d}:{draw(st.integers(0, 59)):02d}:00.250Z",
            "dst": f"44{draw(st.integers(100, 99999))}",
            "cli": draw(st.sampled_from([None, "15550001"])),
            "sip_code": draw(st.sampled_from([200, 404, 486, 503])),
            "sip_reason": draw(st.sampled_from(REASONS)),
            "pdd_ms": draw(st.sampled_from([None, 0, 1500])),
            "duration_s": draw(st.integers(0, 7200)), "release_reason": None}


def _cell(v: Any) -> str:
    if v is None:
        return ""
    return ";".join(map(str, v)) if isinstance(v, list) else str(v)


def _lines(kind: str, fmt: str, recs: list[dict[str, Any]]) -> list[bytes]:
    """The file's lines, each with its newline; a CSV file's header first."""
    if fmt == "jsonl":
        return [json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in recs]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FIELDS[kind])
    for r in recs:
        w.writerow([_cell(r[f]) for f in FIELDS[kind]])
    return out.getvalue().encode().splitlines(keepends=True)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["attempts", "carriers"]))
    fmt = draw(st.sampled_from(["jsonl", "csv"]))
    n = draw(st.integers(2, 12))
    recs = [_record(kind, i, draw) for i in range(1, n + 1)]
    victim = draw(st.integers(0, n - 1))
    how = draw(st.sampled_from(["flip", "cut", "huge"]))
    lines = _lines(kind, fmt, recs)
    at = victim + (fmt == "csv")  # index of the victim's line (a CSV header comes first)
    if how == "huge":
        field = draw(st.sampled_from(NUMERIC[kind]))
        huge = dict(recs[victim], **{field: SENTINEL})
        line = _lines(kind, fmt, [huge])[-1]
        bad = line.replace(str(SENTINEL).encode(), draw(st.sampled_from(HUGE)).encode())
    elif how == "cut":
        body = lines[at][:-1]
        bad = body[: draw(st.integers(0, len(body) - 1))] + b"\n"
    else:
        body = bytearray(lines[at][:-1])
        for _ in range(draw(st.integers(1, 3))):
            pos = draw(st.integers(0, len(body) - 1))
            body[pos] ^= draw(st.integers(1, 255))
        bad = bytes(body) + b"\n"
    return {"kind": kind, "fmt": fmt, "gz": draw(st.booleans()), "lines": lines,
            "at": at, "bad": bad, "how": how, "victim": recs[victim]}


def _write(folder: Path, case: dict[str, Any], lines: list[bytes]) -> Path:
    name = f"{case['kind']}.{case['fmt']}" + (".gz" if case["gz"] else "")
    data = b"".join(lines)
    path = folder / name
    path.write_bytes(gzip.compress(data) if case["gz"] else data)
    return path


def _stored(db: Path, kind: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    keys = KEYS[kind]
    con = sqlite3.connect(db)
    try:
        cur = con.execute(f"SELECT * FROM {kind}")
        names = [d[0] for d in cur.description]
        return {tuple(row[names.index(k)] for k in keys): row for row in cur.fetchall()}
    finally:
        con.close()


@PROPS
@given(cases())
def test_any_corruption_of_one_line_costs_exactly_that_line(case: dict[str, Any]) -> None:
    kind = case["kind"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "good").mkdir()
        (root / "bad").mkdir()
        good_file = _write(root / "good", case, case["lines"])
        with Cache(root / "good.db") as cache:
            assert import_paths(cache, [good_file]).rejected == 0
        lines = list(case["lines"])
        lines[case["at"]] = case["bad"]
        bad_file = _write(root / "bad", case, lines)
        with Cache(root / "bad.db") as cache:
            summary = import_paths(cache, [bad_file])
        before = _stored(root / "good.db", kind)
        after = _stored(root / "bad.db", kind)
    victim = tuple(case["victim"][k] for k in KEYS[kind])
    # Every other record, exactly as from the valid file.
    assert {k: v for k, v in after.items() if k in before and k != victim} == {
        k: v for k, v in before.items() if k != victim}
    # The corrupted line gives at most one record: its own key or a new one.
    assert len(set(after) - set(before)) + (victim in after) <= 1
    # Rejections name the corrupted line only (the next one too when the corruption
    # broke it in two: a byte flipped into a line break).
    number = case["at"] + 1
    split = re.search(rb"[\r\n]", case["bad"][:-1]) is not None
    allowed = {f"{bad_file}:{number}"} | ({f"{bad_file}:{number + 1}"} if split else set())
    wheres = [r.where for r in summary.rejections()]
    assert set(wheres) <= allowed, (wheres, case["bad"])
    if case["how"] == "huge":
        assert wheres == [f"{bad_file}:{number}"]
        assert victim not in after and set(after) <= set(before)
