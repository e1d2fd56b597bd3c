"""Property tests: the cache's inbound figures and findings against the plain-Python
reference (issue 15, section 2; tests/reference_inbound.py).

Every example ingests a random inbound record set (configuration of every policy,
registration histories, deliveries in several versions, out of order across batches,
configuration changed after its deliveries) into a fresh SQLite file, then compares every
trunk group's figures, DIDs, deliveries and findings with the reference for a random
``now``, window and NER set.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noc_tui.analytics import inbound
from noc_tui.analytics.metrics import STANDARD_WINDOWS
from noc_tui.analytics.trunk_group import group_facts
from noc_tui.config import MetricSettings
from noc_tui.store.cache import Cache

try:
    from tests import reference_inbound as ref
    from tests.strategies_inbound import InboundScenario, inbound_scenarios, ner_sets
    from tests.strategies_inbound import now_and_window as inbound_now
except ImportError:  # tests/ itself is on sys.path (rootdir import mode)
    import reference_inbound as ref  # type: ignore[no-redef]
    from strategies_inbound import (  # type: ignore[no-redef]
        InboundScenario,
        inbound_scenarios,
        ner_sets,
    )
    from strategies_inbound import now_and_window as inbound_now  # type: ignore[no-redef]

PROPS = settings(
    # NOC_TUI_PROP_EXAMPLES=1000 for a deeper run by hand.
    max_examples=int(os.environ.get("NOC_TUI_PROP_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRUNK_FIELDS = [*inbound.TRUNK_KEYS, "answered_failover"]


def _codes(spec: list[Any]) -> set[int]:
    out: set[int] = set()
    for c in spec:
        if isinstance(c, str):
            lo, hi = c.split("-")
            out |= set(range(int(lo), int(hi) + 1))
        else:
            out.add(c)
    return out


@contextmanager
def loaded(sc: InboundScenario, ner: list[Any]) -> Iterator[tuple[Cache, ref.RefInbound]]:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp) / "cache.db", MetricSettings(ner_codes=ner))
        try:
            data = ref.RefInbound()
            for kind, records, batch in sc.ops:
                rep = cache.ingest(kind, [dict(r) for r in records], batch=batch)
                assert rep.rejected == 0, (kind, rep.rejections)
                assert rep.taken == len(records)
                data.ingest(kind, records)
            yield cache, data
        finally:
            cache.close()


def same(got: Any, want: Any) -> bool:
    """Equal; floats within 1e-9; None only equals None; bools must be bools."""
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, float) or isinstance(got, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(want, dict):
        return (isinstance(got, dict) and list(got) == list(want)
                and all(same(got[k], want[k]) for k in want))
    if isinstance(want, list):
        return (isinstance(got, list) and len(got) == len(want)
                and all(same(g, w) for g, w in zip(got, want, strict=True)))
    return bool(got == want)


def check_rows(got: list[dict[str, Any]], want: list[dict[str, Any]], key: str,
               fields: list[str] | tuple[str, ...], what: str) -> None:
    assert [r[key] for r in got] == [r[key] for r in want], (
        f"{what}: {[r[key] for r in got]} != {[r[key] for r in want]}")
    for g, w in zip(got, want, strict=True):
        for f in fields:
            assert same(g[f], w[f]), f"{what} {w[key]}: {f} = {g[f]!r}, want {w[f]!r}"


# The trunk groups a list computes at a time: a few (several runs of them in a
# scenario's groups, as 50,000 groups are in runs of GROUPS_AT_ONCE) or all at once.
AT_ONCE = st.sampled_from([1, 2, 3, inbound.GROUPS_AT_ONCE])


@contextmanager
def groups_at_once(n: int) -> Iterator[None]:
    saved, inbound.GROUPS_AT_ONCE = inbound.GROUPS_AT_ONCE, n
    try:
        yield
    finally:
        inbound.GROUPS_AT_ONCE = saved


@PROPS
@given(sc=inbound_scenarios(), ner=ner_sets(), data=st.data())
def test_trunk_group_list(sc: InboundScenario, ner: list[Any], data: st.DataObject) -> None:
    now, window_s = data.draw(inbound_now(sc), label="now, window_s")
    at_once = data.draw(AT_ONCE, label="groups at once")
    with loaded(sc, ner) as (cache, refdata), groups_at_once(at_once):
        got = inbound.trunk_groups(cache, now, window_s)
        doc, rows = inbound.build(cache, "trunks", now, window_s)
        # One group's screen reads its registration alone (its own flaps only).
        heads = {r["id"]: group_facts(cache, r["id"], now, window_s) for r in got}
    want = ref.trunk_groups(refdata, now, window_s, _codes(ner))
    check_rows(got, want, "id", TRUNK_FIELDS, "trunk groups")
    for w in want:
        head = heads[w["id"]]
        assert head is not None
        states = {s["edge"]: (s["registered"], s["flaps"]) for s in head["edge_states"]}
        assert states == {e: (w["registered"][e], w["flaps"][e]) for e in w["registered"]}, \
            f"the screen's head of {w['id']}"
    assert all(list(r) == list(inbound.TRUNK_KEYS) for r in doc["trunk_groups"])
    assert rows == doc["trunk_groups"] and doc["window_s"] == window_s


@PROPS
@given(sc=inbound_scenarios(), ner=ner_sets(), data=st.data())
def test_findings(sc: InboundScenario, ner: list[Any], data: st.DataObject) -> None:
    now, window_s = data.draw(inbound_now(sc), label="now, window_s")
    codes = _codes(ner)
    with loaded(sc, ner) as (cache, refdata):
        got = inbound.findings(cache, now, window_s)
        want = ref.findings(refdata, now, window_s, codes)
        assert got == want, f"findings:\n got  {got}\n want {want}"
        for gid in ref.group_ids(refdata):
            assert inbound.findings(cache, now, window_s, gid) == ref.findings(
                refdata, now, window_s, codes, gid), f"findings of {gid}"


@PROPS
@given(sc=inbound_scenarios(), ner=ner_sets(), data=st.data())
def test_dids_and_deliveries(sc: InboundScenario, ner: list[Any], data: st.DataObject) -> None:
    now, window_s = data.draw(inbound_now(sc), label="now, window_s")
    outcome = data.draw(st.sampled_from([None, *ref.OUTCOMES]), label="outcome")
    codes = _codes(ner)
    with loaded(sc, ner) as (cache, refdata):
        for gid in ref.group_ids(refdata):
            check_rows(inbound.did_figures(cache, gid, now, window_s),
                       ref.did_figures(refdata, gid, now, window_s, codes), "did",
                       inbound.DID_KEYS, f"dids of {gid}")
            got = inbound.delivery_list(cache, gid, now, window_s, outcome)
            want = ref.delivery_list(refdata, gid, now, window_s, codes, outcome)
            assert got == want, f"deliveries of {gid}:\n got  {got}\n want {want}"


@PROPS
@given(sc=inbound_scenarios(), ner=ner_sets(), data=st.data())
def test_stored_windows_are_the_live_ones(sc: InboundScenario, ner: list[Any],
                                          data: st.DataObject) -> None:
    now, _window_s = data.draw(inbound_now(sc), label="now")
    at_once = data.draw(AT_ONCE, label="groups at once")
    with loaded(sc, ner) as (cache, refdata), groups_at_once(at_once):
        inbound.refresh_standard_windows(cache, now)
        for w in STANDARD_WINDOWS:
            as_of, rows, stored = inbound.trunk_group_list(cache, w, now + 12_345)
            assert stored and as_of == now
            want = ref.trunk_groups(refdata, now, w, _codes(ner))
            check_rows(rows, want, "id", TRUNK_FIELDS, f"stored {w}")


# --------------------------------------------------------------------------- the reference itself
# Hand-worked cases, so that a wrong reference cannot agree with a wrong engine unnoticed.

T = ref.to_ms("2026-11-01T12:00:00Z")


def _a(d: str, seq: int, code: int, kind: str = "primary_pbx", **kw: Any) -> dict[str, Any]:
    rec = {"delivery_id": d, "seq": seq, "trunk_group_id": "g", "did": "100",
           "started_at": ref.to_iso(T - 60_000 + seq), "target_kind": kind, "sent": True,
           "sip_code": code, "duration_s": 0, "cancelled": False}
    rec.update(kw)
    return rec


def test_reference_outcomes_and_triggers() -> None:
    d = ref.RefInbound()
    d.ingest("deliveries", [
        _a("first", 1, 200),
        _a("fo", 1, 404, sent=False), _a("fo", 2, 200, "trunk2"),
        _a("ab", 1, 408), _a("ab", 2, 486, "trunk2", cancelled=True),
        _a("ref", 1, 503, sent=False), _a("ref", 2, 603, "trunk2"),
        _a("lost", 1, 408, first_1xx_ms=100), _a("lost", 2, 502, "trunk2"),
    ])
    rows = {r["delivery_id"]: r for r in ref.delivery_list(d, "g", T, 3600, ref.DEFAULT_NER)}
    assert {k: (r["outcome"], r["via"], r["first_trigger"], r["last_trigger"])
            for k, r in rows.items()} == {
        "first": ("answered_first_try", None, None, None),
        "fo": ("answered_failover", "trunk2", "not_registered_404", None),
        "ab": ("abandoned", None, "no_1xx", None),
        "ref": ("refused", None, "channels_full_503", "other"),
        "lost": ("lost", None, "other", "pbx_5xx"),
    }
    (g,) = ref.trunk_groups(d, T, 3600, ref.DEFAULT_NER)
    assert (g["offered"], g["first_try_rate"], g["delivery_rate"]) == (5, 1 / 4, 2 / 4)
    assert g["lost_by_trigger"]["pbx_5xx"] == 1 and g["primary_failures"]["no_1xx"] == 1
    # An unconfigured group: no chain beyond the primary, no listed triggers.
    assert g["policy"] is None and g["findings"] == ["F9"]


def test_reference_findings_by_hand() -> None:
    d = ref.RefInbound()
    d.ingest("trunk_groups", [{"id": "g", "name": "G", "policy": "backup_then_number",
                               "backup_pbx": "pbx.b"}])
    d.ingest("dids", [{"did": "100", "trunk_group_id": "g", "failover_number": "555"},
                      {"did": "101", "trunk_group_id": "g", "failover_number": "100"},
                      {"did": "102", "trunk_group_id": "g"}])
    d.ingest("registrations", [{"trunk_group_id": "g", "edge": "trunk2",
                                "at": ref.to_iso(T - 10), "event": "registered"}])
    d.ingest("deliveries", [
        _a("n", 1, 404, sent=False), _a("n", 2, 200, "failover_number", target="556"),
        _a("t", 1, 500), _a("t", 2, 500, "trunk2"),
    ])
    rows = [(f["rule"], f["did"], f["edge"], f["delivery_ids"])
            for f in ref.findings(d, T, 3600, ref.DEFAULT_NER)]
    assert rows == [
        ("F1", None, None, ["n"]),  # 556 is not DID 100's own 555
        ("F2", None, None, ["n"]),  # number before the backup PBX
        ("F3", None, None, ["t"]),  # trunk2 though failover is configured
        ("F4", None, "trunk1", []),  # registered on trunk2 only
        ("F8", "102", None, []),  # no number of its own, no global one
        ("F10", "101", None, []),  # 101's number is DID 100 of the same group
        ("F11", None, None, ["n", "t"]),  # backup skipped; t lost on a listed trigger
    ]
