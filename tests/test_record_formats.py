"""Record formats as real switches write them (issue 11, section 1).

Every numeric field has a documented range (noc_tui/records/ranges.py); a value outside
it, a number too big for 64 bits, a boolean for a number or a bare number for a time
rejects that record alone, with its place and the reason. Each rule is checked through
a real JSONL file, a real CSV file and a poll of a switch on loopback, into a real
SQLite cache.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noc_tui.config import Settings
from noc_tui.records.formats import FIELDS
from noc_tui.records.json_keys import repeated_key, repeats_among, top_level_repeat
from noc_tui.records.ranges import FRACTIONAL, RANGES
from noc_tui.records.timefmt import iso_to_ms
from noc_tui.sources.base import BAD_DATA
from noc_tui.store.cache import Cache
from noc_tui.sync.importer import import_paths
from noc_tui.sync.poller import Poller
from tests.sample_data import CARRIERS, RATES, attempt

BASE: dict[str, dict[str, Any]] = {
    "carriers": CARRIERS[1],
    "rates": RATES[0],
    "attempts": attempt("k", 1, "B", "2026-11-01T10:00:00.000Z", 200, 5),
}
# The field made unique per record, so that every record taken is a row of its own.
KEY = {"carriers": "id", "rates": "card_id", "attempts": "call_id"}
KINDS = sorted(RANGES)

# A case: (the record, the field its rejection names; None when it is taken).
Case = tuple[dict[str, Any], str | None]


def _record(kind: str, n: int, **values: Any) -> dict[str, Any]:
    return {**BASE[kind], KEY[kind]: f"r{n}", **values}


def _value(name: str, value: Any) -> Any:
    return [value] if name == "halt_codes" else value  # halt codes come as a list


def range_cases(kind: str) -> list[Case]:
    """Each numeric field at both ends of its range, just outside them, as a boolean
    and as numbers too big for 64 bits."""
    out: list[Case] = []
    for name, (lo, hi) in RANGES[kind].items():
        step = 0.001 if (kind, name) in FRACTIONAL else 1
        for value, taken in ((lo, True), (hi, True), (lo - step, False), (hi + step, False),
                             (True, False), (False, False), (2**64, False),
                             (-(2**63) - 1, False), (10**30, False)):
            out.append((_record(kind, len(out), **{name: _value(name, value)}),
                        None if taken else name))
    return out


def time_cases(kind: str) -> list[Case]:
    """A time given as a bare number (or a text of one): no unit, so an error."""
    name = "effective_from" if kind == "rates" else "started_at"
    if kind == "carriers":
        return []
    out: list[Case] = [(_record(kind, 0), None)]
    for value in (1_793_000_000, 1_793_000_000_000, 1.793e9, "1793000000", "1793000000.5"):
        out.append((_record(kind, len(out), **{name: value}), name))
    return out


def _jsonl(path: Path, cases: list[Case]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r, _ in cases))
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(map(str, value))
    return str(value)


def _csv(path: Path, kind: str, cases: list[Case]) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIELDS[kind])
    for r, _ in cases:
        writer.writerow([_cell(r.get(f)) for f in FIELDS[kind]])
    path.write_text(buf.getvalue())
    return path


def _taken(cache: Cache, kind: str) -> set[str]:
    return {k for (k,) in cache.conn.execute(f"SELECT {KEY[kind]} FROM {kind}")}


def _check(cases: list[Case], kind: str, rejected: dict[str, str], taken: set[str],
           where: Callable[[int], str]) -> None:
    """The rejections name exactly the bad records, each with its field; the others
    are stored."""
    want = {where(i): name for i, (_r, name) in enumerate(cases) if name}
    assert set(rejected) == set(want)
    for place, name in want.items():
        assert rejected[place].split(":")[0].split(".")[0] == name, (place, rejected[place])
    assert taken == {r[KEY[kind]] for r, name in cases if name is None}


def _import(tmp_path: Path, kind: str, cases: list[Case], fmt: str) -> None:
    path = (_jsonl(tmp_path / f"{kind}.jsonl", cases) if fmt == "jsonl"
            else _csv(tmp_path / f"{kind}.csv", kind, cases))
    with Cache(tmp_path / "c.db") as cache:
        summary = import_paths(cache, [path])
        taken = _taken(cache, kind)
    first = 1 if fmt == "jsonl" else 2  # a CSV file's first line is its header
    _check(cases, kind, {r.where: r.reason for r in summary.rejections()}, taken,
           lambda i: f"{path}:{i + first}")


def _poll(tmp_path: Path, json_switch: Callable[[dict[str, bytes]], str], kind: str,
          cases: list[Case]) -> None:
    empty = b'{"items": [], "next_cursor": null}'
    bodies = {f"/api/v1/{k}": empty for k in ("carriers", "contacts", "rates", "attempts")}
    bodies[f"/api/v1/{kind}"] = json.dumps(
        {"items": [r for r, _ in cases], "next_cursor": None}).encode()
    url = json_switch(bodies)
    settings = Settings(source={"url": url, "retries": 0}, poll={"backfill": "1d"})
    path = tmp_path / "c.db"
    result = Poller(settings, path).poll_once(until_ms=iso_to_ms("2026-11-01T12:00:00Z"))
    assert result.ok, result
    with Cache(path, readonly=True) as cache:
        rejected = dict(cache.conn.execute("SELECT location, reason FROM quarantine"))
        taken = _taken(cache, kind)
    assert result.quarantined == sum(name is not None for _r, name in cases)
    _check(cases, kind, rejected, taken, lambda i: f"{kind} page 1 item {i + 1}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_numbers_outside_their_range_reject_their_record(tmp_path: Path, kind: str,
                                                         fmt: str) -> None:
    _import(tmp_path, kind, range_cases(kind), fmt)


@pytest.mark.parametrize("kind", KINDS)
def test_numbers_outside_their_range_reject_their_item_of_a_page(
        tmp_path: Path, json_switch: Callable[[dict[str, bytes]], str], kind: str) -> None:
    _poll(tmp_path, json_switch, kind, range_cases(kind))


@pytest.mark.parametrize("kind", ["rates", "attempts"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_time_given_as_a_bare_number_is_an_error(tmp_path: Path, kind: str,
                                                   fmt: str) -> None:
    cases = time_cases(kind)
    if fmt == "csv":  # CSV has no types: the texts of numbers are the cases there
        cases = [(r, name) for r, name in cases
                 if name is None or isinstance(r.get("started_at", r.get("effective_from")),
                                               int | str)]
    _import(tmp_path, kind, cases, fmt)


@pytest.mark.parametrize("kind", ["rates", "attempts"])
def test_a_time_given_as_a_bare_number_is_an_error_in_a_page(
        tmp_path: Path, json_switch: Callable[[dict[str, bytes]], str], kind: str) -> None:
    _poll(tmp_path, json_switch, kind, time_cases(kind))


def test_the_reasons_say_what_is_wrong(tmp_path: Path) -> None:
    base = BASE["attempts"]
    path = _jsonl(tmp_path / "attempts.jsonl", [
        ({**base, "seq": 1001}, "seq"), ({**base, "seq": True}, "seq"),
        ({**base, "duration_s": 2**64}, "duration_s"),
        ({**base, "started_at": 1_793_000_000}, "started_at"),
    ])
    with Cache(tmp_path / "c.db") as cache:
        reasons = [r.reason for r in import_paths(cache, [path]).rejections()]
    assert reasons == [
        "seq: Input should be less than or equal to 1000",
        "seq: a boolean is not a number",
        "duration_s: Input should be less than or equal to 604800",
        "started_at: a time is ISO 8601 with a zone, like 2026-11-01T12:00:00Z (a bare "
        "number has no unit)",
    ]


# -- fractional durations and pdd ------------------------------------------------------

NOW = iso_to_ms("2026-11-01T12:00:00Z")


def _calls(durations: tuple[float, float, float, float], pdd: float) -> list[dict[str, Any]]:
    """A fails over to B (c1); B connects three more calls. B is rated 0.6/min with
    mcd 30 s, pulse 6 s and a 0.01 connect fee (sample_data.RATES)."""
    d1, d2, d3, d4 = durations
    return [
        attempt("c1", 1, "A", "2026-11-01T10:00:00.000Z", 503, pdd=pdd),
        attempt("c1", 2, "B", "2026-11-01T10:00:02.000Z", 200, d1, pdd=pdd),
        attempt("c2", 1, "B", "2026-11-01T10:10:00.000Z", 200, d2, pdd=100),
        attempt("c3", 1, "B", "2026-11-01T10:20:00.000Z", 200, d3, pdd=100),
        attempt("c4", 1, "B", "2026-11-01T10:30:00.000Z", 200, d4, pdd=100),
    ]


def _ingested(tmp_path: Path, how: str, records: list[dict[str, Any]],
              json_switch: Callable[[dict[str, bytes]], str]) -> Path:
    """A cache holding CARRIERS, RATES and the records, read as `how` reads them."""
    db = tmp_path / "c.db"
    with Cache(db) as cache:
        cache.ingest("carriers", CARRIERS)
        cache.ingest("rates", RATES)
        if how == "jsonl":
            import_paths(cache, [_jsonl(tmp_path / "attempts.jsonl",
                                        [(r, None) for r in records])])
        elif how == "csv":
            import_paths(cache, [_csv(tmp_path / "attempts.csv", "attempts",
                                      [(r, None) for r in records])])
    if how == "poll":
        empty = b'{"items": [], "next_cursor": null}'
        url = json_switch({
            "/api/v1/carriers": json.dumps({"items": CARRIERS}).encode(),
            "/api/v1/contacts": empty,
            "/api/v1/rates": json.dumps({"items": RATES, "next_cursor": None}).encode(),
            "/api/v1/attempts": json.dumps({"items": records, "next_cursor": None}).encode(),
        })
        settings = Settings(source={"url": url, "retries": 0}, poll={"backfill": "1d"})
        assert Poller(settings, db).poll_once(until_ms=NOW).ok
    return db


def _figures(db: Path) -> dict[str, Any]:
    from noc_tui.analytics import export, metrics

    with Cache(db, readonly=True) as cache:
        rows = {r["id"]: r for r in metrics.carrier_metrics(cache, NOW, 86400)}
        _doc, calls, _columns = export.build(cache, "failover", NOW, 86400, "A")
        costs = dict(cache.conn.execute("SELECT call_id, cost FROM attempts WHERE cost > 0"))
        durations = dict(cache.conn.execute(
            "SELECT call_id, duration_s FROM attempts WHERE carrier_id = 'B'"))
        summary = metrics.summary(cache, "B", "daily", NOW)
    return {"A": rows["A"], "B": rows["B"], "failover": calls, "costs": costs,
            "durations": durations, "summary": summary}


def _cost(billed_s: int) -> float:
    return billed_s / 60 * 0.6 + 0.01


@pytest.mark.parametrize("how", ["jsonl", "csv", "poll"])
def test_fractional_durations_and_pdd_count_as_given(
        tmp_path: Path, json_switch: Callable[[dict[str, bytes]], str], how: str) -> None:
    db = _ingested(tmp_path, how, _calls((65.25, 30.001, 5.999, 6.0004), 1840.25),
                   json_switch)
    got = _figures(db)
    b = got["B"]
    # 6.0004 is kept to the millisecond: 6.0, a short call (<= 6 s).
    assert got["durations"] == {"c1": 65.25, "c2": 30.001, "c3": 5.999, "c4": 6}
    assert b["connected"] == 4
    assert b["acd_s"] == pytest.approx((65.25 + 30.001 + 5.999 + 6) / 4, abs=1e-12)
    assert b["minutes"] == pytest.approx(107.25 / 60, abs=1e-12)
    assert b["sdc_ratio"] == 0.5
    assert b["pdd_avg_ms"] == pytest.approx((1840.25 + 300) / 4, abs=1e-12)
    assert got["A"]["pdd_avg_ms"] == 1840.25
    assert [c["connected_duration_s"] for c in got["failover"]] == [65.25]
    # The excess over mcd_s (30 s) rounded up to whole pulses of 6 s: 35.25 s -> 36 s,
    # 0.001 s -> 6 s; at or under mcd_s, mcd_s.
    assert got["costs"] == {"c1": _cost(66), "c2": _cost(36), "c3": _cost(30),
                            "c4": _cost(30)}
    assert got["summary"][0]["cost"] == pytest.approx(_cost(66) + _cost(36) + 2 * _cost(30))


@pytest.mark.parametrize("how", ["jsonl", "csv", "poll"])
def test_integer_durations_keep_exactly_the_figures_of_whole_numbers(
        tmp_path: Path, json_switch: Callable[[dict[str, bytes]], str], how: str) -> None:
    db = _ingested(tmp_path, how, _calls((65, 30, 5, 7), 1840), json_switch)
    got = _figures(db)
    b = got["B"]
    # Exactly int / int, as before fractions were taken (no approx).
    assert b["acd_s"] == 107 / 4 and b["minutes"] == 107 / 60
    assert b["pdd_avg_ms"] == 2140 / 4 and got["A"]["pdd_avg_ms"] == 1840
    assert got["durations"] == {"c1": 65, "c2": 30, "c3": 5, "c4": 7}
    assert all(type(d) is int for d in got["durations"].values())
    assert [c["connected_duration_s"] for c in got["failover"]] == [65]
    assert type(got["failover"][0]["connected_duration_s"]) is int
    assert got["costs"] == {"c1": _cost(66), "c2": _cost(30), "c3": _cost(30),
                            "c4": _cost(30)}


# -- a key given twice -------------------------------------------------------------------


def _twice(record: dict[str, Any], extra: str) -> str:
    """The record's JSON text with `extra` (pairs) written in before its last brace."""
    return json.dumps(record)[:-1] + extra + "}"


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_given_twice_rejects_its_record(tmp_path: Path, kind: str) -> None:
    base = _record(kind, 0)
    first = FIELDS[kind][1]
    texts = [
        (json.dumps(base), None),
        # A field of the format twice, with another value or the same one.
        (_twice(_record(kind, 1), f', "{first}": {json.dumps(base[first])}'), first),
        (_twice(_record(kind, 2), f', "{KEY[kind]}": "r2"'), KEY[kind]),
        # A vendor's key twice, a key spelt with an escape, one inside a vendor object.
        (_twice(_record(kind, 3), ', "x_vendor": 1, "x_vendor": 2'), "x_vendor"),
        (_twice(_record(kind, 4), ', "' + "".join(f"\\u{ord(c):04x}" for c in first)
                + f'": {json.dumps(base[first])}'), first),
        (_twice(_record(kind, 5), ', "x_vendor": {"a": 1, "a": 1}'), "a"),
        # Colons that are not keys: in a text, in a vendor's key, in a nested object.
        (_twice(_record(kind, 6), ', "x:y": "a:b:c", "x_v": {"k": "1:2"}'), None),
        (json.dumps(_record(kind, 7)), None),
    ]
    path = tmp_path / f"{kind}.jsonl"
    path.write_text("".join(t + "\n" for t, _ in texts))
    with Cache(tmp_path / "c.db") as cache:
        rejected = {r.where: r.reason for r in import_paths(cache, [path]).rejections()}
        taken = _taken(cache, kind)
    assert rejected == {f"{path}:{i}": f"{name}: given twice in one object (which value is "
                        "meant cannot be told)" for i, (_t, name) in enumerate(texts, 1) if name}
    assert taken == {"r0", "r6", "r7"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_given_twice_rejects_its_item_of_a_page(
        tmp_path: Path, json_switch: Callable[[dict[str, bytes]], str], kind: str) -> None:
    items = [json.dumps(_record(kind, 0)), _twice(_record(kind, 1), ', "x": 1, "x": 1'),
             json.dumps(_record(kind, 2))]
    empty = b'{"items": [], "next_cursor": null}'
    bodies = {f"/api/v1/{k}": empty for k in ("carriers", "contacts", "rates", "attempts")}
    bodies[f"/api/v1/{kind}"] = ('{"items": [' + ", ".join(items)
                                 + '], "next_cursor": null}').encode()
    settings = Settings(source={"url": json_switch(bodies), "retries": 0},
                        poll={"backfill": "1d"})
    path = tmp_path / "c.db"
    result = Poller(settings, path).poll_once(until_ms=NOW)
    assert result.ok and result.quarantined == 1
    with Cache(path, readonly=True) as cache:
        assert cache.conn.execute("SELECT location, reason FROM quarantine").fetchall() == [
            (f"{kind} page 1 item 2",
             "x: given twice in one object (which value is meant cannot be told)")]
        assert _taken(cache, kind) == {"r0", "r2"}


@pytest.mark.parametrize("body", [
    b'{"items": [], "items": [], "next_cursor": null}',
    b'{"items": [], "next_cursor": null, "next_cursor": "c2"}',
    b'{"items": [], "next_cursor": "a:b", "\\u0069tems": []}',
])
def test_a_page_that_gives_a_key_twice_is_bad_data(
        tmp_path: Path, json_switch: Callable[[dict[str, bytes]], str], body: bytes) -> None:
    empty = b'{"items": [], "next_cursor": null}'
    bodies = {f"/api/v1/{k}": empty for k in ("carriers", "contacts", "rates", "attempts")}
    bodies["/api/v1/rates"] = body
    settings = Settings(source={"url": json_switch(bodies), "retries": 0},
                        poll={"backfill": "1d"})
    result = Poller(settings, tmp_path / "c.db").poll_once(until_ms=NOW)
    assert not result.ok and result.error_kind == BAD_DATA
    assert "rates: the page gives key" in (result.error or "") and "twice" in result.error


# JSON texts of objects, with keys drawn from a few (so that some repeat, at any depth),
# spelt plainly or with escapes, and values that hold colons.
_KEYS = st.sampled_from(["a", "b", "a:b", "seq", ""])
_SCALARS = st.one_of(st.integers(), st.sampled_from(["x", "1:2", '{"k": 1}', ":", "é:"]),
                     st.none(), st.booleans())
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.lists(st.tuples(_KEYS, inner), max_size=4).map(lambda pairs: ("obj", pairs))),
    max_leaves=8)


def _text(value: Any, escape: bool) -> str:
    if isinstance(value, tuple) and value[0] == "obj":
        keys = [('"' + "".join(f"\\u{ord(c):04x}" for c in k) + '"') if escape
                else json.dumps(k) for k, _v in value[1]]
        return "{" + ", ".join(f"{k}: {_text(v, escape)}"
                               for k, (_k, v) in zip(keys, value[1], strict=True)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v, escape) for v in value) + "]"
    return json.dumps(value)


def _repeats(value: Any, top_only: bool = False) -> bool:
    if isinstance(value, tuple) and value[0] == "obj":
        keys = [k for k, _v in value[1]]
        return len(set(keys)) != len(keys) or (not top_only and any(
            _repeats(v) for _k, v in value[1]))
    return not top_only and isinstance(value, list) and any(map(_repeats, value))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(st.tuples(_KEYS, _VALUES), max_size=5), st.booleans()),
                min_size=1, max_size=6))
def test_the_colon_count_tells_a_key_given_twice_exactly(
        objects: list[tuple[list[tuple[str, Any]], bool]]) -> None:
    values = [("obj", pairs) for pairs, _e in objects]
    texts = [_text(v, escape).encode() for v, (_p, escape) in zip(values, objects, strict=True)]
    assert repeats_among(texts) == [_repeats(v) for v in values]
    for text, value in zip(texts, values, strict=True):
        assert (repeated_key(text) is not None) == _repeats(value)
        assert (top_level_repeat(text) is not None) == _repeats(value, top_only=True)


# -- carriers: only the id is required -------------------------------------------------

UNKNOWN = [
    {"id": "bare"},  # nothing but the id
    {"id": "nulls", "name": None, "status": None, "channels": None, "cps": None,
     "currency": None, "halt_codes": None},
    {"id": "zero", "name": "Zero Ltd", "status": "active", "channels": 0, "cps": 0,
     "currency": "EUR"},  # 0 channels = unlimited; 0 cps as given
]


@pytest.mark.parametrize("how", ["jsonl", "csv", "poll"])
def test_a_carrier_needs_only_its_id(tmp_path: Path,
                                     json_switch: Callable[[dict[str, bytes]], str],
                                     how: str) -> None:
    from noc_tui.analytics import export

    db = tmp_path / "c.db"
    cases: list[Case] = [(r, None) for r in UNKNOWN]
    if how == "poll":
        empty = b'{"items": [], "next_cursor": null}'
        bodies = {f"/api/v1/{k}": empty for k in ("contacts", "rates", "attempts")}
        bodies["/api/v1/carriers"] = json.dumps({"items": UNKNOWN}).encode()
        settings = Settings(source={"url": json_switch(bodies), "retries": 0},
                            poll={"backfill": "1d"})
        assert Poller(settings, db).poll_once(until_ms=NOW).quarantined == 0
    else:
        path = (_jsonl(tmp_path / "carriers.jsonl", cases) if how == "jsonl"
                else _csv(tmp_path / "carriers.csv", "carriers", cases))
        with Cache(db) as cache:
            assert not list(import_paths(cache, [path]).rejections())
    with Cache(db, readonly=True) as cache:
        stored = cache.conn.execute("SELECT * FROM carriers ORDER BY id").fetchall()
        doc, rows, columns = export.build(cache, "carriers", NOW, 86400)
    # The name defaults to the id; what was not given is unknown (NULL), not 0.
    assert stored == [("bare", "bare", None, None, None, None, None),
                      ("nulls", "nulls", None, None, None, None, None),
                      ("zero", "Zero Ltd", "active", 0, 0, "EUR", None)]
    assert [(r["id"], r["name"], r["status"]) for r in rows] == [
        ("bare", "bare", None), ("nulls", "nulls", None), ("zero", "Zero Ltd", "active")]
    assert '"status": null' in export.to_json(doc)
    assert export.to_csv(rows, columns).splitlines()[1].startswith("bare,bare,,")


def test_unknown_carrier_fields_show_as_a_dash(tmp_path: Path) -> None:
    from noc_tui.ui.render import render_view
    from tests.ui_fixtures import ui_settings

    db = tmp_path / "c.db"
    with Cache(db) as cache:
        cache.ingest("carriers", UNKNOWN)
        cache.ingest("attempts", [attempt("k1", 1, "bare", "2026-11-01T11:00:00Z", 200, 5)])
    settings = ui_settings(tmp_path)
    listing = render_view(settings, db, "carriers", None, "txt", size=(160, 20), now_ms=NOW)
    lines = listing.splitlines()
    header = next(x for x in lines if " Hlth" in x and " Status " in x)
    at_id, at_status = header.index(" ID ") + 1, header.index(" Status ") + 1
    rows = {x[at_id:at_status].strip(): x for x in lines
            if x[at_id:at_status].strip() in ("bare", "nulls", "zero")}
    # The status: unknown is a dash, never blank.
    assert rows["bare"][at_status:].split()[0] == "—"
    assert rows["nulls"][at_status:].split()[0] == "—"
    assert rows["zero"][at_status:].split()[0] == "active" and "Zero Ltd" in rows["zero"]
    head = render_view(settings, db, "carrier", "nulls", "txt", size=(160, 30), now_ms=NOW)
    assert "id nulls · — · ch — · cps — · — · halts" in head
    assert "unlimited" not in head
    zero = render_view(settings, db, "carrier", "zero", "txt", size=(160, 30), now_ms=NOW)
    assert "id zero · active · ch unlimited · cps 0 · EUR" in zero


# -- --now means "as of" ---------------------------------------------------------------


def test_now_means_as_of_in_every_export(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing that started at or after --now counts: not in the live summary's current
    hour, not in a window, not as the far end of a failover."""
    from noc_tui.cli import main

    db = tmp_path / "c.db"
    with Cache(db) as cache:
        cache.ingest("carriers", CARRIERS)
        cache.ingest("attempts", [
            attempt("k1", 1, "A", "2026-11-01T11:10:00Z", 200, 30),
            # A fails at 11:59:59 and B connects the call at 12:00:01, after --now.
            attempt("k2", 1, "A", "2026-11-01T11:59:59Z", 503),
            attempt("k2", 2, "B", "2026-11-01T12:00:01Z", 200, 40),
            # In now's own hour, but at and after now.
            attempt("k3", 1, "A", "2026-11-01T12:00:00Z", 200, 50),
            attempt("k4", 1, "A", "2026-11-01T12:30:00Z", 486),
        ])
    now = "2026-11-01T12:00:00Z"

    def export(*args: str) -> Any:
        assert main(["--cache", str(db), "export", *args, "--now", now]) == 0
        return json.loads(capsys.readouterr().out)

    live = export("summary", "--carrier", "A", "--period", "live")["rows"]
    assert [(r["start"], r["attempts"], r["connected"]) for r in live] == [
        ("2026-11-01T11:00:00.000Z", 2, 1)]
    assert export("summary", "--carrier", "B", "--period", "daily")["rows"] == []
    at_noon = iso_to_ms(now)
    with Cache(db) as cache:  # the hour that holds now is k3 and k4, both not yet
        from noc_tui.analytics import metrics

        assert metrics.summary(cache, "A", "live", at_noon + 1)[-1]["attempts"] == 1
        # The carrier screen's hourly chart and facts, as of now too.
        from noc_tui.analytics.views import carrier_facts, hourly_series

        assert hourly_series(cache, "A", at_noon)[-1] == (at_noon, 0, None)
        assert hourly_series(cache, "A", at_noon + 1)[-1] == (at_noon, 1, 1.0)
        facts = carrier_facts(cache, "A", cache.settings, at_noon)
        assert facts["last_seen"] == "2026-11-01T11:59:59.000Z"
    carriers = {r["id"]: r for r in export("carriers", "--window", "1h")["carriers"]}
    assert carriers["A"]["attempts"] == 2 and carriers["A"]["failover_out"] == 0
    assert carriers["B"]["attempts"] == 0 and carriers["B"]["failover_in"] == 0
    assert export("failover", "--carrier", "A", "--window", "1h")["calls"] == []
    # A second later the connection has happened: the failover counts.
    now = "2026-11-01T12:00:02Z"
    carriers = {r["id"]: r for r in export("carriers", "--window", "1h")["carriers"]}
    assert carriers["A"]["failover_out"] == 1 and carriers["B"]["failover_in"] == 1
    assert [c["connected_duration_s"] for c in
            export("failover", "--carrier", "A", "--window", "1h")["calls"]] == [40]
