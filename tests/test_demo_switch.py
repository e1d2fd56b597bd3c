"""The demo switch over real loopback HTTP, and the simulator behind it."""

from __future__ import annotations

import gzip
import json
import random
import re
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx
import pytest

from noc_tui.demo_switch import HISTORY_MS, DemoSwitch, Faults, Simulator, serve_forever
from noc_tui.demo_switch.server import encode_cursor
from noc_tui.demo_switch.simulator import MAX_SPAN_MS
from noc_tui.demo_switch.store import AttemptStore, Page, crc32_combine
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, iso_to_ms, ms_to_iso

START = iso_to_ms("2026-11-01T12:00:00Z")
SINCE = ms_to_iso(START - 2 * DAY_MS)
UNTIL = ms_to_iso(START)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def switch(clock: Clock) -> Iterator[DemoSwitch]:
    with DemoSwitch(seed=7, start_ms=START, clock=clock) as sw:
        yield sw


@pytest.fixture
def client(switch: DemoSwitch) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=switch.url, timeout=10) as c:
        yield c


def fetch_all(c: httpx.Client, since: str, until: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):  # bounded: fails loudly instead of looping forever
        params: dict[str, Any] = {"since": since, "until": until, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = c.get("/api/v1/attempts", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


def key(a: dict[str, Any]) -> tuple[str, str, int]:
    # Canonical ISO times (fixed width, always milliseconds, Z) sort as the instants do.
    return (a["started_at"], a["call_id"], a["seq"])


# -- the simulator ---------------------------------------------------------------------


def test_same_seed_same_records_and_ranges_are_independent() -> None:
    a = Simulator(seed=3, start_ms=START, clock=lambda: START)
    b = Simulator(seed=3, start_ms=START, clock=lambda: START)
    lo, mid, hi = START - DAY_MS, START - DAY_MS // 2 + 12_345, START
    whole = list(a.attempts(lo, hi))
    assert whole == list(b.attempts(lo, hi))
    # Any range alone equals the same slice of a larger one.
    assert list(b.attempts(lo, mid)) + list(b.attempts(mid, hi)) == whole
    other = list(Simulator(seed=4, start_ms=START, clock=lambda: START).attempts(lo, hi))
    assert other != whole


def test_ties_on_started_at_order_by_call_id_and_seq() -> None:
    # Heavy traffic: many attempts share a millisecond, across slots too.
    sim = Simulator(seed=2, start_ms=START, clock=lambda: START, calls_per_min=1500)
    lo = START - 3 * HOUR_MS
    rows = [(iso_to_ms(a["started_at"]), a["call_id"], a["seq"])
            for a in sim.attempts(lo, lo + 5 * 60_000)]
    assert len(rows) - len({r[0] for r in rows}) > 30
    assert rows == sorted(rows) and len(set(rows)) == len(rows)


def test_fast_formats_match_reference() -> None:
    sim = Simulator(seed=1, start_ms=START, clock=lambda: START)
    for ms in (0, 1, 59_999, 60_000, START - 1, START + 123_456_789, 4_102_444_799_999):
        assert sim.iso(ms) == ms_to_iso(ms)
    rows = list(sim.iter_rows(START - 3 * HOUR_MS, START))
    assert rows
    for r in rows:
        assert json.loads(sim.record_json(r)) == sim.record(r)


@pytest.fixture(scope="module")
def history() -> list[dict[str, Any]]:
    """The default demo: 35 days at default volume, as the dashboard will see it."""
    sim = Simulator(seed=1, start_ms=START, clock=lambda: START)
    return list(sim.attempts(START - HISTORY_MS, START))


def test_default_volume_and_record_shape(history: list[dict[str, Any]]) -> None:
    assert 100_000 <= len(history) <= 200_000
    sim = Simulator(seed=1, start_ms=START, clock=lambda: START)
    estimate = sim.expected_attempts(START - HISTORY_MS, START)
    assert 0.9 < estimate / len(history) < 1.1
    assert [key(a) for a in history] == sorted(key(a) for a in history)
    assert len({(a["call_id"], a["seq"]) for a in history}) == len(history)
    calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    assert all(ISO.fullmatch(a["started_at"]) for a in history)
    for a in history:
        assert a["dst"].isdigit()
        assert isinstance(a["duration_s"], int) and a["duration_s"] >= 0
        assert a["pdd_ms"] is None or isinstance(a["pdd_ms"], int)
        assert (a["duration_s"] > 0) == (a["sip_code"] == 200)
        calls[a["call_id"]].append(a)
    for atts in calls.values():
        atts.sort(key=lambda a: a["seq"])
        assert [a["seq"] for a in atts] == list(range(1, len(atts) + 1))
        starts = [a["started_at"] for a in atts]
        assert starts == sorted(starts) and len(set(starts)) == len(starts)
        if len(atts) > 1:  # range queries rely on this bound to find retries
            span = iso_to_ms(starts[-1]) - iso_to_ms(starts[0])
            assert span <= MAX_SPAN_MS
        assert all(a["sip_code"] != 200 for a in atts[:-1])  # nothing after a connect
    # Daily curve: business hours busier than the night.
    by_hour = Counter(int(a["started_at"][11:13]) for a in history)
    assert by_hour[11] > 3 * by_hour[3]


def _by_carrier(history: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in history:
        out[a["carrier_id"]].append(a)
    return out


def test_carriers_an_operator_recognises(history: list[dict[str, Any]]) -> None:
    sim = Simulator(seed=1, start_ms=START, clock=lambda: START)
    carriers = {c["id"]: c for c in sim.carriers()}
    assert len(carriers) >= 12
    by = _by_carrier(history)

    def asr(cid: str) -> float:
        return sum(a["sip_code"] == 200 for a in by[cid]) / len(by[cid])

    # Inactive and pending carriers carry nothing.
    for cid, c in carriers.items():
        assert (c["status"] == "active") == bool(by.get(cid)), cid
    # Tier-1 routes are good; the cheap one connects far less and runs out of channels.
    assert min(asr("atlantic"), asr("nordlink"), asr("meridian")) > 0.5
    assert asr("budget") < asr("atlantic") - 0.1
    assert any(a["release_reason"] == "channel limit" and a["sip_code"] == 503
               for a in by["budget"])

    # The degrading carrier: 503s rise over the period.
    def share_503(rows: list[dict[str, Any]]) -> float:
        return sum(a["sip_code"] == 503 for a in rows) / len(rows)

    week = 7 * DAY_MS
    h = by["helios"]
    first = [a for a in h if iso_to_ms(a["started_at"]) < START - HISTORY_MS + week]
    last = [a for a in h if iso_to_ms(a["started_at"]) >= START - week]
    assert share_503(last) > share_503(first) + 0.2

    # The down carrier: consecutive failures up to now climb into the thousands.
    trailing = 0
    for a in by["orbitel"]:
        trailing = 0 if a["sip_code"] == 200 else trailing + 1
    assert trailing > 1000
    for cid in ("atlantic", "nordlink", "continental"):
        assert all(a["sip_code"] == 200 for a in by[cid][-1:]) or asr(cid) > 0.5


def test_404_carrier_fas_carrier_and_misconfigured_failover(
    history: list[dict[str, Any]],
) -> None:
    connected: dict[str, set[str]] = defaultdict(set)  # dst -> carriers that connected it
    not_found: dict[str, set[str]] = defaultdict(set)
    for a in history:
        if a["sip_code"] == 200:
            connected[a["dst"]].add(a["carrier_id"])
        elif a["sip_code"] == 404:
            not_found[a["dst"]].add(a["carrier_id"])
    # Quantum answers 404 for numbers that other carriers connect.
    disputed = [d for d, cs in not_found.items() if "quantum" in cs and connected[d] - {"quantum"}]
    assert len(disputed) > 50

    fas = [a for a in history if a["carrier_id"] == "sunrise"]
    fas_ok = [a for a in fas if a["sip_code"] == 200]
    assert len(fas_ok) / len(fas) > 0.9
    assert all(a["pdd_ms"] is None and 1 <= a["duration_s"] <= 6 for a in fas_ok)
    assert not any(a["sip_code"] == 404 for a in fas)
    # It connects unallocated numbers: ones only ever answered 404 by everyone else.
    unallocated = [d for d, cs in connected.items()
                   if cs == {"sunrise"} and not_found.get(d, set()) - {"sunrise"}]
    assert len(unallocated) >= 3

    # Failover after a halt code happens only behind the misconfigured switch (486).
    calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in history:
        calls[a["call_id"]].append(a)
    violations: Counter[str] = Counter()
    for atts in calls.values():
        atts.sort(key=lambda a: a["seq"])
        for prev, nxt in pairwise(atts):
            if prev["sip_code"] in (404, 480, 486) or 300 <= prev["sip_code"] < 400:
                assert prev["carrier_id"] == "pacific" and prev["sip_code"] == 486
                assert nxt["carrier_id"] != "pacific"
                if atts[-1]["sip_code"] == 200:
                    violations[prev["carrier_id"]] += 1
    assert violations["pacific"] > 50


def test_rates_and_contacts_cover_every_carrier() -> None:
    sim = Simulator(seed=1, start_ms=START, clock=lambda: START)
    ids = {c["id"] for c in sim.carriers()}
    assert {c["carrier_id"] for c in sim.contacts()} == ids
    rates = sim.rates()
    assert {r["carrier_id"] for r in rates} == ids
    assert {(60, 60), (30, 6), (1, 1)} <= {(r["mcd_s"], r["pulse_s"]) for r in rates}
    assert any(r["status"] == "blocked" for r in rates)
    assert len({r["effective_from"] for r in rates}) >= 3
    assert len({r["prefix"] for r in rates}) >= 10


# -- the store: materialised pages equal simulated ones --------------------------------


def _reference_body(sim: Simulator, rows: list[Any], more: bool) -> bytes:
    """A page as the switch formatted it before the store: simulated and rendered."""
    cursor = "null"
    if more:
        cursor = '"' + encode_cursor([rows[-1][0], rows[-1][1], rows[-1][2]]) + '"'
    return ('{"items":[' + sim.render_json(rows) + '],"next_cursor":' + cursor + "}").encode()


def _store_body(page: Page) -> bytes:
    cursor = b"null"
    if page.next_after is not None:
        cursor = b'"' + encode_cursor(list(page.next_after)).encode() + b'"'
    raw = page.body(cursor)
    assert page.size(cursor) == len(raw)
    gz = page.gzip_body(cursor)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # one gzip member, nothing after it
    assert d.decompress(gz) == raw and d.eof and not d.unused_data
    return raw


def _walk(sim: Simulator, store: AttemptStore, since: int, until: int, limit: int, now: int,
          late: tuple[float, int] = (0.0, 0), pages: int = 4) -> int:
    """Page through a window both ways; every body and cursor must be the same."""
    after = None
    seen = 0
    for _ in range(pages):
        rows, more = sim.page(since, until, limit, now, after, *late)
        page = store.page(since, until, limit, now, after, *late)
        assert _store_body(page) == _reference_body(sim, rows, more)
        seen += len(rows)
        if not more:
            break
        after = (rows[-1][0], rows[-1][1], rows[-1][2])
        assert page.next_after == after
    return seen


def test_store_pages_equal_simulated_pages() -> None:
    rng = random.Random(5)
    sim = Simulator(seed=3, start_ms=START, clock=lambda: START, calls_per_min=3)
    store = AttemptStore(sim)
    seen = 0
    for _ in range(20):
        since = START - rng.randrange(0, HISTORY_MS + DAY_MS)
        until = since + rng.randrange(0, 2 * DAY_MS)
        # The clock inside the history, at the start, or hours into live traffic.
        now = START + rng.choice([0, -rng.randrange(3 * HOUR_MS), rng.randrange(5 * HOUR_MS)])
        limit = rng.choice([1, 3, 250, 257, 1000, 5000])
        late = rng.choice([(0.0, 0), (0.25, 2 * HOUR_MS), (0.5, 600_000), (0.3, -5_000)])
        seen += _walk(sim, store, since, until, limit, now, late, pages=3)
    assert seen > 10_000


def test_crc32_combine_matches_zlib() -> None:
    rng = random.Random(1)
    for n1, n2 in ((0, 0), (1, 0), (0, 1), (5, 7), (1000, 65_536), (70_001, 3)):
        a, b = rng.randbytes(n1), rng.randbytes(n2)
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), n2) == zlib.crc32(a + b)


def test_store_cursor_inside_ties_on_started_at() -> None:
    sim = Simulator(seed=2, start_ms=START, clock=lambda: START, calls_per_min=300)
    store = AttemptStore(sim)
    lo = START - 3 * HOUR_MS
    rows, _ = sim.page(lo, lo + 30 * 60_000, 50_000, START)
    ties = [(a, b) for a, b in pairwise(rows) if a[0] == b[0]]
    assert len(ties) > 15
    for a, _b in ties[:: max(1, len(ties) // 10)]:
        # Resume right after the first of two records sharing a millisecond, and right
        # before it (a key between two stored ones).
        for after in ((a[0], a[1], a[2]), (a[0], a[1], a[2] - 1), (a[0], a[1] + "~", 0)):
            got = store.page(lo, lo + HOUR_MS, 5, START, after)
            want, more = sim.page(lo, lo + HOUR_MS, 5, START, after)
            assert _store_body(got) == _reference_body(sim, want, more)
    # Pages crossing an hour (a stored block) with ties on both sides.
    assert _walk(sim, store, lo + 55 * 60_000, lo + 65 * 60_000, 499, START, pages=20) > 2000


def test_store_serves_live_traffic_as_the_clock_moves() -> None:
    clock = Clock(START + 30 * 60_000)
    sim = Simulator(seed=5, start_ms=START, clock=clock, calls_per_min=4)
    store = AttemptStore(sim)
    lo, hi = START - 3 * HOUR_MS, START + 6 * HOUR_MS
    assert store.materialise(lo, clock.now + 1) == store.materialised() > 0
    counts = []
    for _ in range(5):  # the live hour was stored early; later clocks publish more of it
        counts.append(_walk(sim, store, lo, hi, 100_000, clock.now, pages=1))
        clock.now += 40 * 60_000
    assert counts == sorted(counts) and counts[-1] > counts[0]


def _bodies(c: httpx.Client, since: str, until: str, limit: int) -> list[bytes]:
    """Every page's decoded body as sent, for byte comparisons."""
    out: list[bytes] = []
    params: dict[str, Any] = {"since": since, "until": until, "limit": limit}
    for _ in range(100):
        r = c.get("/api/v1/attempts", params=params)
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        out.append(r.content)
        cursor = json.loads(r.content[r.content.rindex(b'"next_cursor":') + 14: -1])
        if cursor is None:
            return out
        params["cursor"] = cursor
    raise AssertionError("paging did not end")


def test_materialised_switch_serves_what_a_lazy_one_does(clock: Clock) -> None:
    with DemoSwitch(seed=4, start_ms=START, clock=clock, calls_per_min=0.5) as warm, \
            DemoSwitch(seed=4, start_ms=START, clock=clock, calls_per_min=0.5) as lazy, \
            httpx.Client(base_url=warm.url) as cw, httpx.Client(base_url=lazy.url) as cl:
        stored = warm.materialise()
        assert 20_000 < stored == warm.store.materialised()
        since, until = ms_to_iso(START - HISTORY_MS), ms_to_iso(START + HOUR_MS)
        assert _bodies(cw, since, until, 5000) == _bodies(cl, since, until, 5000)
        clock.now += 2 * HOUR_MS  # live traffic appears on both alike
        a, b = _bodies(cw, since, until, 50_000), _bodies(cl, since, until, 50_000)
        assert a == b and sum(x.count(b'"call_id"') for x in a) > stored * 0.9


# -- publication and live traffic ------------------------------------------------------


def test_publication_rule_and_live_traffic() -> None:
    first_now = START + 24 * HOUR_MS
    clock = Clock(first_now)
    sim = Simulator(seed=5, start_ms=START, clock=clock)
    lo, hi = START, START + 26 * HOUR_MS
    early = list(sim.attempts(lo, hi))
    assert early, "live traffic continues after the start"
    assert max(iso_to_ms(a["started_at"]) for a in early) < clock.now
    clock.now += 3 * HOUR_MS
    later = list(sim.attempts(lo, hi))
    assert len(later) > len(early)
    # Published records never change or vanish; a call is published whole.
    later_keys = {(a["call_id"], a["seq"]): a for a in later}
    assert all(later_keys[(a["call_id"], a["seq"])] == a for a in early)
    seqs_early = Counter(a["call_id"] for a in early)
    seqs_later = Counter(a["call_id"] for a in later)
    assert all(seqs_later[c] == n for c, n in seqs_early.items())
    # Calls still running at the first look (answered ones) appear later, in the past.
    new = [a for a in later if a["call_id"] not in seqs_early]
    assert any(iso_to_ms(a["started_at"]) < first_now - 120_000 for a in new)


# -- HTTP ------------------------------------------------------------------------------


def test_static_endpoints(client: httpx.Client, switch: DemoSwitch) -> None:
    r = client.get("/api/v1/carriers")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"items": switch.simulator.carriers()}
    assert client.get("/api/v1/contacts").json() == {"items": switch.simulator.contacts()}
    rates: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/rates", params=params).json()
        rates += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert rates == switch.simulator.rates()


def test_paging_is_exact_and_ordered(client: httpx.Client, switch: DemoSwitch) -> None:
    one = client.get("/api/v1/attempts",
                     params={"since": SINCE, "until": UNTIL, "limit": 50_000}).json()
    assert one["next_cursor"] is None
    big = one["items"]
    assert 3000 < len(big) < 50_000
    assert fetch_all(client, SINCE, UNTIL, 997) == big
    keys = [key(a) for a in big]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    lo, hi = iso_to_ms(SINCE), iso_to_ms(UNTIL)
    assert all(SINCE <= k[0] < UNTIL for k in keys)
    assert big == list(switch.simulator.attempts(lo, hi))
    # A cursor stays exact when the clock moves between pages: the next pages hold
    # exactly what follows the cursor at the new clock (calls ended meanwhile included).
    first = client.get("/api/v1/attempts",
                       params={"since": SINCE, "until": UNTIL, "limit": 1000}).json()
    switch.clock.now += HOUR_MS  # type: ignore[attr-defined]
    rest = fetch_all_from(client, first["next_cursor"])
    now_all = list(switch.simulator.attempts(lo, hi))
    assert len(now_all) > len(big)
    last = key(first["items"][-1])
    assert rest == [a for a in now_all if key(a) > last]


def fetch_all_from(c: httpx.Client, cursor: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for _ in range(1000):
        page = c.get("/api/v1/attempts", params={
            "since": SINCE, "until": UNTIL, "limit": 2000, "cursor": cursor}).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": SINCE, "until": UNTIL, "limit": 0}, "limit"),
        ({"since": SINCE, "until": UNTIL, "limit": 50_001}, "limit"),
        ({"since": SINCE, "until": UNTIL, "limit": "many"}, "limit"),
        ({"until": UNTIL}, "since"),
        ({"since": SINCE}, "until"),
        ({"since": "yesterday", "until": UNTIL}, "since"),
        ({"since": UNTIL, "until": SINCE}, "until"),
        ({"since": SINCE, "until": UNTIL, "cursor": "!!not-a-cursor"}, "cursor"),
        ({"since": SINCE, "until": UNTIL, "cursor": "WzNd"}, "cursor"),  # a rates cursor
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: httpx.Client, params: dict[str, Any], named: str
) -> None:
    r = client.get("/api/v1/attempts", params=params)
    assert r.status_code == 400
    assert f"'{named}'" in r.json()["error"]


# A cursor of every listing's shape, one with a bool for a number, one negative offset.
FORGED = [[5], ["x"], [1, "c", 1], [1, "tg", "trunk1", "registered"], [True, "c", 1], [-1]]


@pytest.mark.parametrize("path,window,takes", [
    ("/api/v1/attempts", True, [1, "c", 1]), ("/api/v1/deliveries", True, [1, "c", 1]),
    ("/api/v1/registrations", True, [1, "tg", "trunk1", "registered"]),
    ("/api/v1/rates", False, [5]), ("/api/v1/trunk_groups", False, ["x"]),
    ("/api/v1/dids", False, ["x"])])
def test_each_listing_takes_only_cursors_of_its_own_shape(
    client: httpx.Client, path: str, window: bool, takes: list[Any]
) -> None:
    base = {"since": SINCE, "until": UNTIL} if window else {}
    for key in FORGED:
        r = client.get(path, params={**base, "cursor": encode_cursor(key)})
        if json.dumps(key) == json.dumps(takes):  # not ==: True == 1
            assert r.status_code == 200, (path, key)
        else:
            assert r.status_code == 400, (path, key)
            assert r.json()["error"] == "bad parameter 'cursor': not a cursor this API returned"


def test_limit_bounds_and_errors(client: httpx.Client) -> None:
    r = client.get("/api/v1/attempts", params={"since": SINCE, "until": UNTIL, "limit": 1})
    page = r.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    default = client.get("/api/v1/attempts", params={"since": SINCE, "until": UNTIL}).json()
    assert len(default["items"]) == 5000
    assert client.get("/api/v1/rates", params={"limit": 50_001}).status_code == 400
    r = client.get("/api/v2/attempts")
    assert r.status_code == 404 and "error" in r.json()
    r = client.post("/api/v1/carriers")
    assert r.status_code == 405 and "error" in r.json()


def test_bearer_token(clock: Clock) -> None:
    with DemoSwitch(seed=1, start_ms=START, clock=clock, token="s3cret") as sw, \
            httpx.Client(base_url=sw.url) as c:
        for headers in ({}, {"Authorization": "Bearer zz-guess"}, {"Authorization": "s3cret"}):
            r = c.get("/api/v1/carriers", headers=headers)
            assert r.status_code == 401
            assert "error" in r.json() and "zz-guess" not in r.text
        ok = c.get("/api/v1/carriers", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_gzip(client: httpx.Client) -> None:
    params = {"since": SINCE, "until": UNTIL, "limit": 500}
    plain = client.get("/api/v1/attempts", params=params,
                       headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    with httpx.stream("GET", str(client.base_url) + "/api/v1/attempts", params=params,
                      headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
    assert len(raw) < len(plain.content) / 3
    assert json.loads(gzip.decompress(raw)) == plain.json()


# -- faults ----------------------------------------------------------------------------


def test_fault_429_burst(client: httpx.Client, switch: DemoSwitch) -> None:
    switch.faults.burst_429(2, retry_after_s=3)
    for _ in range(2):
        r = client.get("/api/v1/carriers")
        assert r.status_code == 429 and r.headers["retry-after"] == "3"
        assert "error" in r.json()
    assert client.get("/api/v1/carriers").status_code == 200


def test_fault_error_rate_is_deterministic(clock: Clock) -> None:
    def statuses() -> list[int]:
        with DemoSwitch(seed=2, start_ms=START, clock=clock) as sw, \
                httpx.Client(base_url=sw.url) as c:
            sw.faults.error_rate = 0.4
            out = [c.get("/api/v1/carriers").status_code for _ in range(30)]
            for s in out:
                assert s in (200, 500, 503)
            sw.faults.reset()
            assert c.get("/api/v1/carriers").status_code == 200
            return out

    first = statuses()
    assert 3 <= sum(s != 200 for s in first) <= 25
    assert statuses() == first


def test_fault_latency(client: httpx.Client, switch: DemoSwitch) -> None:
    switch.faults.latency_ms = 200
    t = time.monotonic()
    assert client.get("/api/v1/carriers").status_code == 200
    assert time.monotonic() - t >= 0.19


def test_fault_dropped_connection(client: httpx.Client, switch: DemoSwitch) -> None:
    switch.faults.drop(1)
    with pytest.raises(httpx.TransportError):
        client.get("/api/v1/attempts", params={"since": SINCE, "until": UNTIL})
    assert switch.faults.injected["drop"] == 1
    r = client.get("/api/v1/attempts", params={"since": SINCE, "until": UNTIL})
    assert r.status_code == 200 and len(r.json()["items"]) == 5000


def test_fault_late_publication(client: httpx.Client, switch: DemoSwitch, clock: Clock) -> None:
    since, until = ms_to_iso(START - HOUR_MS), ms_to_iso(START)
    on_time = fetch_all(client, since, until, 5000)
    switch.faults.late_fraction = 0.25
    switch.faults.late_delay_ms = 2 * HOUR_MS
    late = fetch_all(client, since, until, 5000)
    ids = {(a["call_id"], a["seq"]) for a in late}
    assert ids < {(a["call_id"], a["seq"]) for a in on_time}
    assert len(late) < 0.9 * len(on_time)
    # Two hours later the withheld records appear inside the window already read.
    clock.now += 2 * HOUR_MS
    caught_up = fetch_all(client, since, until, 5000)
    assert {(a["call_id"], a["seq"]) for a in on_time} <= {
        (a["call_id"], a["seq"]) for a in caught_up}


# -- lifecycle -------------------------------------------------------------------------


def test_stop_closes_the_port_and_busy_port_is_reported(clock: Clock) -> None:
    sw = DemoSwitch(seed=1, start_ms=START, clock=clock).start()
    assert sw.url.startswith("http://127.0.0.1:")
    said: list[str] = []
    assert serve_forever(port=sw.port, announce=said.append) == 2
    assert "cannot listen" in said[0]
    url = sw.url
    sw.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/v1/carriers", timeout=2)


def test_faults_object_can_be_shared() -> None:
    f = Faults(seed=3, error_rate=1.0)
    with DemoSwitch(seed=1, start_ms=START, clock=lambda: START, faults=f) as sw:
        assert sw.faults is f
        assert httpx.get(sw.url + "/api/v1/contacts").status_code in (500, 503)
