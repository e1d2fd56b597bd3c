"""Each inbound finding (issue 15, section 2) on a hand-made case, through the cache,
with the case next to it that must not raise it; and the inbound exports' shapes
(section 3) from the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics import inbound
from noc_tui.cli import INBOUND_OUTCOMES, INBOUND_VIEWS, main
from noc_tui.records import inbound as records_inbound
from noc_tui.records.timefmt import iso_to_ms
from noc_tui.store.cache import Cache
from tests.inbound_data import NOW, att, did, group, reg, write_jsonl

NOW_MS = iso_to_ms(NOW)


def _found(tmp_path: Path, groups: list[dict[str, Any]], dids: list[dict[str, Any]],
           deliveries: list[dict[str, Any]], regs: list[dict[str, Any]] | None = None,
           ) -> list[tuple[str, str, str | None, str | None, list[str]]]:
    with Cache(tmp_path / "c.db") as cache:
        for kind, recs in (("trunk_groups", groups), ("dids", dids),
                           ("registrations", regs or []), ("deliveries", deliveries)):
            if recs:
                rep = cache.ingest(kind, recs)
                assert rep.rejected == 0, rep.rejections
        rows = inbound.findings(cache, NOW_MS, 86_400)
        # the list's findings are the rules with rows
        listed = {r["id"]: r["findings"] for r in inbound.trunk_groups(cache, NOW_MS, 86_400)}
    for gid, rules in listed.items():
        assert rules == sorted({r["rule"] for r in rows if r["trunk_group_id"] == gid},
                               key=lambda r: int(r[1:]))
    return [(r["rule"], r["trunk_group_id"], r["did"], r["edge"], r["delivery_ids"])
            for r in rows]


def _rules(found: list[tuple[str, str, str | None, str | None, list[str]]]) -> set[str]:
    return {f[0] for f in found}


BOTH_UP = [reg("g1", "trunk1", "2026-11-01T10:00:00Z"), reg("g1", "trunk2",
                                                             "2026-11-01T10:00:00Z")]


def test_f1_number_override(tmp_path: Path) -> None:
    g = [group("g1", "backup_then_number", global_failover_number="999")]
    d = [did("100", "g1", failover_number="555"), did("101", "g1")]
    found = _found(tmp_path, g, d, [
        att("own", 1, 404, sent=False), att("own", 2, 200, "failover_number", target="555"),
        att("glob", 1, 404, sent=False, number="101"),
        att("glob", 2, 200, "failover_number", number="101", target="999"),
        att("bad", 1, 404, sent=False), att("bad", 2, 200, "failover_number", target="999"),
    ], BOTH_UP)
    assert found == [("F1", "g1", None, None, ["bad"])]


def test_f2_backup_before_number(tmp_path: Path) -> None:
    g = [group("g1", "backup_then_number", backup_pbx="pbx.b", global_failover_number="9")]
    found = _found(tmp_path, g, [], [
        att("ok", 1, 500), att("ok", 2, 500, "backup_pbx"),
        att("ok", 3, 200, "failover_number", target="9"),
        att("skip", 1, 500), att("skip", 2, 200, "failover_number", target="9"),
    ], BOTH_UP)
    assert ("F2", "g1", None, None, ["skip"]) in found
    assert ("F11", "g1", None, None, ["skip"]) in found  # the backup step was skipped


def test_f3_trunk2_with_failover(tmp_path: Path) -> None:
    g = [group("g1", "registered_then_trunk2"), group("g2", "registered_then_trunk2")]
    d = [did("100", "g1", backup_pbx="pbx.b")]
    found = _found(tmp_path, g, d, [
        att("a", 1, 404, sent=False), att("a", 2, 200, "trunk2"),
        att("b", 1, 404, sent=False, gid="g2", number="200"),
        att("b", 2, 200, "trunk2", gid="g2", number="200"),
    ], BOTH_UP + [reg("g2", e, "2026-11-01T10:00:00Z") for e in ("trunk1", "trunk2")])
    assert found == [("F3", "g1", None, None, ["a"])]


def test_f4_and_f5_registration(tmp_path: Path) -> None:
    g = [group("g1", "registered_then_trunk2", backup_pbx="pbx.b"),
         group("g2", "registered_then_trunk2"), group("g3", "dial_plan_on_triggers",
                                                      dial_plan="ivr")]
    regs = [reg("g1", "trunk2", "2026-11-01T10:00:00Z"),
            reg("g2", "trunk1", "2026-11-01T10:00:00Z", expires_s=3600),  # expired at 11:00
            reg("g2", "trunk2", "2026-11-01T11:59:59Z", "refreshed"),
            reg("g3", "trunk1", "2026-11-01T10:00:00Z")]
    found = _found(tmp_path, g, [], [], regs)
    assert found == [("F4", "g1", None, "trunk1", []), ("F5", "g1", None, "trunk1", []),
                     ("F5", "g2", None, "trunk1", [])]  # g3: a dial plan is no failover


def test_registration_state_and_flaps(tmp_path: Path) -> None:
    with Cache(tmp_path / "c.db") as cache:
        cache.ingest("trunk_groups", [group("g1", edges=["a", "b", "c"])])
        cache.ingest("registrations", [
            reg("g1", "a", "2026-11-01T11:00:00Z"),
            reg("g1", "a", "2026-11-01T11:00:00Z", "expired"),  # same instant: it wins
            reg("g1", "b", "2026-11-01T11:00:00Z", "unregistered"),
            reg("g1", "b", "2026-11-01T11:30:00Z", "registered", expires_s=1800),
            reg("g1", "c", "2026-11-01T12:00:00Z"),  # at now: counts
            reg("g1", "c", "2026-11-01T10:59:59Z", "unregistered"),  # before the hour
        ])
        (row,) = inbound.trunk_groups(cache, NOW_MS, 3600)
        assert row["registered"] == {"a": False, "b": False, "c": True}  # b: 11:30 + 30 min
        assert row["flaps"] == {"a": 1, "b": 1, "c": 0}
        (later,) = inbound.trunk_groups(cache, NOW_MS - 1, 3600)
        assert later["registered"] == {"a": False, "b": True, "c": False}


def test_f6_dial_plan_off_trigger(tmp_path: Path) -> None:
    g = [group("g1", "dial_plan_on_triggers", dial_plan="ivr",
               failover_triggers=["no_1xx", "pbx_5xx"])]
    found = _found(tmp_path, g, [], [
        att("ok", 1, 408), att("ok", 2, 200, "dial_plan"),
        att("off", 1, 486), att("off", 2, 200, "dial_plan"),
        att("gone", 1, 486, cancelled=True), att("gone", 2, 200, "dial_plan"),
    ], BOTH_UP)
    assert found == [("F6", "g1", None, None, ["gone", "off"])]


def test_f7_trigger_without_target_and_f11_lost(tmp_path: Path) -> None:
    g = [group("g1", "dial_plan_on_triggers"),  # no dial plan: nothing after the primary
         group("g2", "registered_then_trunk2")]
    found = _found(tmp_path, g, [], [
        att("a", 1, 503, sent=False),
        att("b", 1, 486),  # refused: ends the chain normally
        att("c", 1, 500, gid="g2", number="200"),  # trunk2 never tried
        att("d", 1, 486, gid="g2", number="200"),  # refused
    ], BOTH_UP)
    assert [f for f in found if f[0] in ("F7", "F11")] == [
        ("F7", "g1", None, None, ["a"]), ("F11", "g2", None, None, ["c"])]


def test_f8_no_number_fallback_and_f10_number_loops(tmp_path: Path) -> None:
    g = [group("g1", "backup_then_number"), group("g2", "backup_then_number",
                                                  global_failover_number="200")]
    d = [did("100", "g1", failover_number="101"), did("101", "g1"), did("102", "g1"),
         did("200", "g2"), did("300", "g9", failover_number="300")]
    found = _found(tmp_path, g, d, [])
    assert [f for f in found if f[0] in ("F8", "F10")] == [
        ("F8", "g1", "101", None, []), ("F8", "g1", "102", None, []),
        ("F10", "g1", "100", None, []),  # its number 101 is a DID of g1
        ("F10", "g2", "200", None, []),  # the global number is the DID itself
    ]  # 300's group g9 has no record, deliveries or registrations: not listed


def test_evidence_is_in_order_of_the_deliveries_start(tmp_path: Path) -> None:
    g = [group("g1", "registered_then_trunk2", edges=["trunk1"])]
    found = _found(tmp_path, g, [], [
        att("a", 1, 503, sent=False, at="2026-11-01T11:00:00Z"),
        att("b", 1, 503, sent=False, at="2026-11-01T10:00:00Z"),
        att("c", 1, 503, sent=False, at="2026-11-01T10:00:00Z"),
    ], BOTH_UP[:1])
    assert found == [("F7", "g1", None, None, ["b", "c", "a"]),
                     ("F9", "g1", None, None, ["b", "c", "a"])]


def test_f9_at_the_edges_of_a_window_that_is_not_on_the_hour(tmp_path: Path) -> None:
    with Cache(tmp_path / "c.db") as cache:
        cache.ingest("deliveries", [
            att("a", 1, 500, at="2026-11-01T10:20:00Z"),
            att("a", 2, 503, "trunk2", sent=False, at="2026-11-01T10:30:00Z"),  # start: in
            att("b", 1, 500, at="2026-11-01T10:40:00Z"),
            att("b", 2, 503, "trunk2", sent=False, at="2026-11-01T12:30:00Z"),  # now: out
        ])
        now, window_s = iso_to_ms("2026-11-01T12:30:00Z"), 7200
        (row,) = inbound.trunk_groups(cache, now, window_s)
        assert "F9" in row["findings"]
        assert [f["delivery_ids"] for f in inbound.findings(cache, now, window_s)
                if f["rule"] == "F9"] == [["a"]]
        (later,) = inbound.trunk_groups(cache, now + 1, window_s)  # 10:30 just left
        assert "F9" in later["findings"]  # b's 12:30 attempt is in now
        (earlier,) = inbound.trunk_groups(cache, now - 1000, window_s - 2)
        assert "F9" not in earlier["findings"]  # starts 10:30:01; 12:30 not yet


def test_f9_counts_attempts_in_the_window(tmp_path: Path) -> None:
    g = [group("g1", "registered_then_trunk2")]
    found = _found(tmp_path, g, [], [
        # started the day before; its full attempt is in the window
        att("early", 1, 500, at="2026-10-31T11:59:59Z"),
        att("early", 2, 503, "trunk2", sent=False, at="2026-10-31T12:00:01Z"),
        att("x", 1, 503, sent=False, at="2026-11-01T11:00:00Z"),
        att("y", 1, 503, sent=False, cancelled=True),  # cancelled: no trigger
    ], BOTH_UP)
    assert ("F9", "g1", None, None, ["early", "x"]) in found


# -- exports --------------------------------------------------------------------------


def test_cli_constants_follow_the_definitions() -> None:
    assert INBOUND_VIEWS == inbound.VIEWS
    assert INBOUND_OUTCOMES == records_inbound.OUTCOMES


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    write_jsonl(data / "trunk_groups.jsonl", [
        group("g1", "backup_then_number", backup_pbx="pbx.b", global_failover_number="999"),
        group("g2", "registered_then_trunk2", edges=["east", "west"])])
    write_jsonl(data / "dids.jsonl", [did("100", "g1", failover_number="555"),
                                      did("101", "g1")])
    write_jsonl(data / "registrations.jsonl", [reg("g2", "west", "2026-11-01T08:00:00Z")])
    write_jsonl(data / "deliveries.jsonl", [
        att("d1", 1, 200, at="2026-11-01T09:00:00Z"),
        att("d2", 1, 500, at="2026-11-01T10:00:00Z"),
        att("d2", 2, 200, "backup_pbx", at="2026-11-01T10:00:02Z"),
        att("d3", 1, 404, sent=False, at="2026-11-01T11:00:00Z"),
        att("d3", 2, 486, "backup_pbx", at="2026-11-01T11:00:01Z"),
        att("d4", 1, 503, sent=False, gid="g2", number="200", at="2026-11-01T11:30:00Z"),
        att("d5", 1, 200, at="2026-10-30T11:00:00Z"),  # outside 24h
    ])
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(data), "--now", NOW]) == 0
    return db


def _export(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> Any:
    assert main(["--cache", str(db), "export", *argv, "--now", NOW]) == 0
    return capsys.readouterr().out


def test_export_trunks_shape(cache_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_export(capsys, cache_path, "trunks"))
    assert list(doc) == ["now", "window_s", "trunk_groups"]
    assert (doc["now"], doc["window_s"]) == ("2026-11-01T12:00:00.000Z", 86_400)
    g1, g2 = doc["trunk_groups"]
    assert list(g1) == list(inbound.TRUNK_KEYS)
    assert (g1["id"], g1["name"], g1["policy"]) == ("g1", "Group g1", "backup_then_number")
    assert (g1["offered"], g1["answered_first_try"], g1["refused"], g1["lost"]) == (3, 1, 1, 0)
    assert g1["answered_via"] == {"trunk2": 0, "backup_pbx": 1, "failover_number": 0,
                                  "dial_plan": 0}
    assert g1["first_try_rate"] == pytest.approx(1 / 3)
    assert g1["delivery_rate"] == pytest.approx(2 / 3)
    assert g1["primary_failures"] == {"not_registered_404": 1, "no_1xx": 0, "pbx_5xx": 1,
                                      "channels_full_503": 0, "other": 0}
    assert list(g1["lost_by_trigger"]) == list(records_inbound.TRIGGERS)
    assert g1["registered"] == {"trunk1": False, "trunk2": False}
    assert g1["findings"] == ["F4"]
    assert g2["registered"] == {"east": False, "west": True} and g2["flaps"] == {
        "east": 0, "west": 0}
    assert g2["lost_by_trigger"]["channels_full_503"] == 1
    assert g2["findings"] == ["F5", "F9", "F11"]
    one_hour = json.loads(_export(capsys, cache_path, "trunks", "--window", "1h"))
    assert [g["offered"] for g in one_hour["trunk_groups"]] == [1, 1]


def test_export_dids_deliveries_findings_shapes(cache_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_export(capsys, cache_path, "dids", "--trunk-group", "g1"))
    assert list(doc) == ["trunk_group_id", "dids"] and doc["trunk_group_id"] == "g1"
    assert [list(d) for d in doc["dids"]] == [list(inbound.DID_KEYS)] * 2
    assert [(d["did"], d["offered"], d["effective_failover_number"], d["number_source"])
            for d in doc["dids"]] == [("100", 3, "555", "did"), ("101", 0, "999",
                                                                  "trunk_group")]
    doc = json.loads(_export(capsys, cache_path, "deliveries", "--trunk-group", "g1"))
    assert list(doc) == ["trunk_group_id", "deliveries"]
    assert [d["delivery_id"] for d in doc["deliveries"]] == ["d3", "d2", "d1"]
    assert doc["deliveries"][1] == {
        "delivery_id": "d2", "did": "100", "started_at": "2026-11-01T10:00:00.000Z",
        "outcome": "answered_failover", "via": "backup_pbx", "attempts": 2,
        "first_trigger": "pbx_5xx", "last_trigger": None}
    doc = json.loads(_export(capsys, cache_path, "deliveries", "--trunk-group", "g1",
                             "--outcome", "refused"))
    assert [d["delivery_id"] for d in doc["deliveries"]] == ["d3"]
    doc = json.loads(_export(capsys, cache_path, "findings"))
    assert list(doc) == ["findings"]
    assert all(list(f) == list(inbound.FINDING_KEYS) for f in doc["findings"])
    assert [(f["rule"], f["trunk_group_id"], f["edge"], f["delivery_ids"])
            for f in doc["findings"]] == [
        ("F4", "g1", "trunk1", []), ("F4", "g1", "trunk2", []), ("F5", "g2", "east", []),
        ("F9", "g2", None, ["d4"]), ("F11", "g2", None, ["d4"])]
    doc = json.loads(_export(capsys, cache_path, "findings", "--trunk-group", "g2"))
    assert {f["trunk_group_id"] for f in doc["findings"]} == {"g2"}


def test_export_csv(cache_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(capsys, cache_path, "trunks",
                                                   "--format", "csv"))))
    assert [r["id"] for r in rows] == ["g1", "g2"]
    assert rows[0]["answered_via.backup_pbx"] == "1" and rows[0]["registered.trunk1"] == "false"
    assert rows[1]["registered.west"] == "true" and rows[1]["findings"] == "F5;F9;F11"
    assert rows[0]["registered.west"] == ""  # another group's edge
    rows = list(csv.DictReader(io.StringIO(_export(capsys, cache_path, "findings",
                                                   "--format", "csv"))))
    assert rows[3] == {"rule": "F9", "trunk_group_id": "g2", "did": "", "edge": "",
                       "delivery_ids": "d4"}


@pytest.mark.parametrize("argv, words", [
    (["dids"], "the dids view needs --trunk-group ID"),
    (["deliveries", "--trunk-group", "nope"], "unknown trunk group 'nope'"),
    (["findings", "--trunk-group", "nope"], "unknown trunk group 'nope'"),
    (["trunks", "--format", "svg"], "the trunks view exports as json or csv"),
    (["trunks", "--window", "soon"], "bad duration"),
])
def test_export_mistakes(cache_path: Path, capsys: pytest.CaptureFixture[str],
                         argv: list[str], words: str) -> None:
    assert main(["--cache", str(cache_path), "export", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
