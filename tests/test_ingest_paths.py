"""The cache decodes plain JSON attempts with msgspec (and checks the rest of the plain
form in SQLite) and sends everything else through pydantic. Both paths must take
exactly the same records with the same values: checked here against pydantic alone,
over records that mix valid values with every odd form (booleans, floats, numbers as
strings, other time forms, escapes, broken JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from noc_tui.records.formats import Rejection, to_row, validate_json_each
from noc_tui.store.cache import ATTEMPT_COLS, Cache

MISSING = object()

# Values that send a record to pydantic (which takes or rejects it) or are rejected.
ODD = st.one_of(
    st.sampled_from([None, True, False, 1.0, 1.5, "1", "", [], {}, [1], {"a": 1}, -1, 0,
                     "x{y", "a[b", "true", "\\u0041", "[/]", "[@click=app.quit]", "12a",
                     "\uff10\uff11", "44 77", "\x00nul", 99, 700]),
    # The ends of the documented ranges, numbers too big for 64 bits, and what JSON
    # has no number for (Python's json writes them as Infinity and NaN).
    st.sampled_from([1000, 1001, 600_000, 600_001, 604_800, 604_801, 2**63, 2**64,
                     -(2**63) - 1, 10**30, 10**400, 1e300, float("inf"), float("nan"),
                     "1e400", "Infinity", "NaN", 1e-400]),
    st.text(max_size=6),
)
TEXT = st.sampled_from(["c1", "C2", "caf\u00e9", "\u202eevil", "\u4e2d\u6587", "a b"])
STARTED = st.one_of(
    st.sampled_from([
        "2026-10-16T12:00:26.700Z", "2026-10-16T12:00:26Z", "2026-10-16T12:00:26.5Z",
        "2026-10-16T12:00:26.25Z", "2026-10-31T10:00:00Z", "2024-02-29T00:00:00Z",
        "2026-02-28T23:59:59.999Z", "0001-01-01T00:00:00Z",
        # The canonical form with a time that does not exist, or at the calendar's ends.
        "2026-02-30T12:00:00.000Z", "2026-10-16T24:00:00.000Z", "2026-13-01T00:00:00.000Z",
        "2026-00-10T00:00:00.000Z", "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
        "1969-12-31T23:59:59.999Z", "2025-02-29T10:00:00.000Z", "2024-02-29T10:00:00.000Z",
    ]),
    st.sampled_from([
        "2026-10-16T12:00:26.123456Z", "2026-10-16T12:00:26.1234Z",
        "2026-10-16T12:00:26+02:00", "2026-10-16T12:00:26", "2026-10-16 12:00:26Z",
        "2026-02-30T12:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-10-16T24:00:00Z", "2026-10-16T23:60:00Z", "2026-10-16T23:59:60Z",
        "2026-11-31T10:00:00Z", "2025-02-29T10:00:00Z", "now", "2460000.5",
        "2026-10-16T12:00Z", "2026-10-16t12:00:26Z", "2026-10-16T12:00:26.Z",
        "2026-10-16T12:00:26X",
    ]),
    st.integers(1_600_000_000, 1_900_000_000),
)
VALID: dict[str, st.SearchStrategy[Any]] = {
    "call_id": st.sampled_from(["k1", "k2", "k3"]),
    "seq": st.integers(1, 3),
    "carrier_id": TEXT,
    "started_at": STARTED,
    "dst": st.sampled_from(["447700900123", "1", "12\n", "\uff11\uff12", "0"]),
    "cli": TEXT,
    "sip_code": st.sampled_from([200, 204, 404, 486, 503, 100, 699]),
    "sip_reason": TEXT,
    # Fractions, with finer digits than kept (rounded alike by Python and SQLite).
    "pdd_ms": st.sampled_from([0, 1500, None, 1840.5, 0.0001, 0.0005, 599_999.9996, 12.3456]),
    "duration_s": st.sampled_from([0, 7, 3600, 0.5, 95.123, 1.0005, 6.0004, 95.1236, 3.0,
                                   604_799.9999, 604_799.9995, 0.0004999]),
    "release_reason": TEXT,
}
# Mostly well-formed records (so that SQLite's path is taken often), some with a field
# or two replaced by an odd value or left out.
RECORD = st.builds(
    lambda rec, odd: {**rec, **odd},
    st.fixed_dictionaries(VALID),
    st.dictionaries(st.sampled_from(sorted(VALID)), st.one_of(ODD, st.just(MISSING)),
                    max_size=2),
)


# A key given twice, written into a record's text: a field of the format (its value
# the same or another), a vendor's key, one inside a vendor's object, one spelt with
# an escape; or a colon in a text, that the colon count must not mistake for a key.
TWICE = st.sampled_from([None, None, None, ', "seq": 2', ', "cli": "x"', ', "pdd_ms": null',
                         ', "duration_s": 1.5', ', "call_id": "k1"', ', "v": 1, "v": 1',
                         ', "v": {"a": 1, "a": 2}', ', "se\\u0071": 3', ', "v": "a:b"',
                         ', "v": {"a": 1, "b": 2}', ', "started_at": "2026-10-16T12:00:26Z"',
                         ', "w": "12\\u003a00"'])


def _line(rec: dict[str, Any], ascii_only: bool, extra: bool, twice: str | None = None
          ) -> bytes:
    obj = {k: v for k, v in rec.items() if v is not MISSING}
    if extra:
        obj["vendor_field"] = "kept out"
    text = json.dumps(obj, ensure_ascii=ascii_only)
    if twice is not None and text.endswith("}") and text != "{}":
        text = text[:-1] + twice + "}"
    return text.encode()


_BASE = {"call_id": "k1", "seq": 1, "carrier_id": "c1", "started_at": "2026-10-16T12:00:26.700Z",
         "dst": "1", "cli": "c", "sip_code": 200, "sip_reason": "OK", "pdd_ms": 0,
         "duration_s": 3, "release_reason": None}
# Each breaks the plain form in one way SQLite's path must not take as plain.
TRICKY = [
    json.dumps(_BASE | {"call_id": f"k{i}"} | odd).encode()
    for i, odd in enumerate([
        {}, {"cli": {"a": 1}}, {"sip_reason": [1]}, {"seq": True}, {"pdd_ms": False},
        {"cli": "caf\u00e9"}, {"release_reason": "[/]"}, {"carrier_id": "x{y"},
        {"duration_s": 3.0}, {"sip_code": "200"}, {"started_at": "2026-02-30T00:00:00.000Z"},
    ])
]
# Not UTF-8 inside a string: a line of a file can be this; an API page (text) cannot.
NOT_UTF8 = json.dumps(_BASE | {"call_id": "kx"}).encode().replace(b'"kx"', b'"k\xff"')
# \u escapes as a switch may write them: a lone surrogate (refused), a pair, a NUL,
# and escaped digits in dst.
ESCAPED = [
    json.dumps(_BASE | {"call_id": f"ke{i}"}).encode().replace(b'"c"', text, 1)
    for i, text in enumerate([b'"\\ud800"', b'"\\ud83d\\ude00"', b'"a\\u0000b"',
                              b'"caf\\u00e9"', b'"\\udc00x"'])
] + [json.dumps(_BASE | {"call_id": "kd"}).encode().replace(b'"dst": "1"',
                                                             b'"dst": "\\u0031\\u0032"')]


# Colons that balance across a batch: a record leaving out a key beside one giving a key
# twice, and a colon written as an escape beside another key given twice.
BALANCED = [
    json.dumps({k: v for k, v in _BASE.items() if k != "cli"} | {"call_id": "kb1"}).encode(),
    json.dumps(_BASE | {"call_id": "kb2"}).encode()[:-1] + b', "cli": "x"}',
    json.dumps(_BASE | {"call_id": "kb3"}).encode().replace(b"12:00:26", b"12\\u003a00:26"),
    json.dumps(_BASE | {"call_id": "kb4"}).encode()[:-1] + b', "dst": "1"}',
]


LINE = st.one_of(
    st.builds(_line, RECORD, st.booleans(), st.booleans(), TWICE),
    st.sampled_from([b'{"call_id": ', b"null", b"[1]", b"{} {}", b"\xff\xfe{}", b'"x"',
                     b'{"call_id":"k1"},{"call_id":"k2"}']),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=25))
@example(lines=[*TRICKY, NOT_UTF8])
@example(lines=ESCAPED)
@example(lines=BALANCED[:2])
@example(lines=BALANCED[2:])
def test_fast_parse_takes_what_pydantic_takes(tmp_path: Path, lines: list[bytes]) -> None:
    wheres = [f"f.jsonl:{i + 1}" for i in range(len(lines))]
    results = validate_json_each("attempts", lines, wheres)
    expected: dict[tuple[str, int], tuple[Any, ...]] = {}
    for r in results:
        if not isinstance(r, Rejection):
            row = to_row("attempts", r)
            expected[(row[0], row[1])] = row  # the last record of a key wins
    rejected = [r.where for r in results if isinstance(r, Rejection)]

    path = tmp_path / "c.db"
    path.unlink(missing_ok=True)
    with Cache(path) as cache:
        report = cache.ingest_json_lines("attempts", lines, wheres)
        cols = ", ".join(ATTEMPT_COLS[:-1])  # all but cost (no rates here)
        got = {(r[0], r[1]): tuple(r) for r in cache.conn.execute(
            f"SELECT {cols} FROM attempts")}
    assert [r.where for r in report.rejections] == rejected
    assert report.taken == len(lines) - len(rejected)
    assert got == expected


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.builds(_line, RECORD, st.booleans(), st.booleans(), TWICE), min_size=1,
                max_size=25))
@example(lines=TRICKY)
@example(lines=ESCAPED)
@example(lines=BALANCED[:2])
@example(lines=BALANCED[2:])
def test_api_page_takes_what_pydantic_takes(tmp_path: Path, lines: list[bytes]) -> None:
    """The same through a switch API page (items split by SQLite's json_each)."""
    body = '{"items": [' + ", ".join(line.decode() for line in lines) + '], "next_cursor": null}'
    wheres = [f"attempts page 1 item {i + 1}" for i in range(len(lines))]
    results = validate_json_each("attempts", lines, wheres)
    expected = {}
    for r in results:
        if not isinstance(r, Rejection):
            row = to_row("attempts", r)
            expected[(row[0], row[1])] = row
    rejected = [r.where for r in results if isinstance(r, Rejection)]

    path = tmp_path / "c.db"
    path.unlink(missing_ok=True)
    with Cache(path) as cache:
        report = cache.ingest_json_page("attempts", body,
                                        lambda i: f"attempts page 1 item {i + 1}")
        cols = ", ".join(ATTEMPT_COLS[:-1])
        got = {(r[0], r[1]): tuple(r) for r in cache.conn.execute(
            f"SELECT {cols} FROM attempts")}
    assert [r.where for r in report.rejections] == rejected
    assert got == expected


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.lists(st.builds(_line, RECORD, st.just(True), st.just(False)),
                         min_size=1, max_size=20), min_size=1, max_size=3))
def test_rollups_stay_exact_through_parsed_batches(tmp_path: Path,
                                                   batches: list[list[bytes]]) -> None:
    """Batches stored from the parser (rollups added row by row or grouped, whichever
    the batch's spread picks; records repeated or changed across batches) leave the
    rollups equal to a rebuild from the attempts."""
    path = tmp_path / "c.db"
    path.unlink(missing_ok=True)
    with Cache(path) as cache:
        for lines in batches:
            cache.ingest_json_lines("attempts", lines, [f"l{i}" for i in range(len(lines))])
        stored = cache.conn.execute("SELECT * FROM rollups ORDER BY 1, 2").fetchall()
        cache.rebuild_rollups()
        rebuilt = cache.conn.execute("SELECT * FROM rollups ORDER BY 1, 2").fetchall()
    assert stored == rebuilt
