"""Inbound records (issue 15, section 1): validation of each kind, the rules over a whole
delivery, keys that make ingesting again change nothing, and import files."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from noc_tui.cli import main
from noc_tui.config import MetricSettings
from noc_tui.records.formats import validate
from noc_tui.store import inbound as store_inbound
from noc_tui.store.cache import Cache
from tests.inbound_data import att, did, group, reg, write_jsonl

INBOUND_TABLES = ("trunk_groups", "dids", "registrations", "registration_edges",
                  "delivery_attempts", "deliveries", "inbound_groups", "inbound_rollups")


@pytest.fixture
def cache(tmp_path: Path) -> Any:
    c = Cache(tmp_path / "c.db")
    yield c
    c.close()


def _reasons(kind: str, rec: dict[str, Any]) -> str:
    good, bad = validate(kind, [rec], ["here"])
    assert not good and len(bad) == 1 and bad[0].where == "here", (good, bad)
    return bad[0].reason


def _ok(kind: str, rec: dict[str, Any]) -> dict[str, Any]:
    good, bad = validate(kind, [rec], ["here"])
    assert bad == [], bad
    return good[0]


# -- one record ---------------------------------------------------------------------------


def test_trunk_group_fields_and_defaults(cache: Cache) -> None:
    store_inbound.InboundIngest(cache, "trunk_groups")  # registers the kinds
    rec = _ok("trunk_groups", {"id": "g", "name": "G", "policy": "backup_then_number",
                               "edges": "trunk1;trunk2;trunk3", "failover_triggers": "[]",
                               "channel_limit": "0", "no_1xx_timeout_s": "2.5"})
    assert rec["edges"] == ["trunk1", "trunk2", "trunk3"]
    assert rec["failover_triggers"] == []  # named none: not the default
    assert (rec["channel_limit"], rec["no_1xx_timeout_s"]) == (0, 2.5)
    rep = cache.ingest("trunk_groups", [group("g")])
    assert rep.taken == 1
    row = cache.conn.execute("SELECT edges, failover_triggers, no_1xx_timeout_s, "
                             "channel_limit FROM trunk_groups").fetchone()
    assert row == ('["trunk1", "trunk2"]', None, 15.0, None)


@pytest.mark.parametrize("field, value, words", [
    ("policy", "round_robin", "policy: Input should be"),
    ("edges", ["trunk1", "trunk1"], "edges: 'trunk1' is listed twice"),
    ("edges", [], "edges: List should have at least 1 item"),
    ("failover_triggers", ["no_1xx", "busy"], "failover_triggers.1"),
    ("no_1xx_timeout_s", 0, "no_1xx_timeout_s: Input should be greater than 0"),
    ("no_1xx_timeout_s", 301, "no_1xx_timeout_s: Input should be less than or equal to 300"),
    ("channel_limit", True, "channel_limit: expected a number, not true or false"),
    ("channel_limit", -1, "channel_limit: Input should be greater than or equal to 0"),
    ("channel_limit", 2**64, "channel_limit: Input should be less than or equal to 1000000"),
    ("global_failover_number", "+4420", "global_failover_number: String should match"),
    ("backup_pbx", "pbx one", "backup_pbx: expected a sip: URI, an FQDN or IP address"),
    ("id", "", "id: String should have at least 1 character"),
])
def test_trunk_group_rejections(field: str, value: Any, words: str) -> None:
    assert words in _reasons("trunk_groups", {**group("g"), field: value})


@pytest.mark.parametrize("value", [
    "sip:pbx@10.0.0.2:5080", "sips:pbx.example.com", "tg:backup-7", "pbx2.example.com",
    "10.0.0.2", "10.0.0.2:5060", "[2001:db8::1]:5060", "pbx",
])
def test_backup_pbx_forms(value: str) -> None:
    assert _ok("dids", did("100", "g", backup_pbx=value))["backup_pbx"] == value


@pytest.mark.parametrize("field, value, words", [
    ("event", "deleted", "event: Input should be"),
    ("at", "2026-11-01 10:00:00", "at: "),
    ("at", "2026-11-01T10:00:00", "at: Input should have timezone info"),
    ("expires_s", -1, "expires_s: Input should be greater than or equal to 0"),
    ("expires_s", 2**32, "expires_s: Input should be less than or equal to 4294967295"),
    ("expires_s", False, "expires_s: expected a number, not true or false"),
    ("edge", "", "edge: String should have at least 1 character"),
])
def test_registration_rejections(field: str, value: Any, words: str) -> None:
    assert words in _reasons("registrations", {**reg("g", "trunk1", "2026-11-01T10:00:00Z"),
                                               field: value})


@pytest.mark.parametrize("changes, words", [
    ({"sent": False, "sip_code": 486}, "record: sip_code 486 with sent false: an attempt "
                                       "not sent has code 404 (not registered) or 503"),
    ({"sent": 1}, "sent: expected true or false"),
    ({"cancelled": "yes"}, "cancelled: expected true or false"),
    ({"seq": True}, "seq: expected a number, not true or false"),
    ({"seq": 0}, "seq: Input should be greater than or equal to 1"),
    ({"seq": 1001}, "seq: Input should be less than or equal to 1000"),
    ({"sip_code": 700}, "sip_code: Input should be less than or equal to 699"),
    ({"sip_code": 200.5}, "sip_code: Input should be a valid integer"),
    ({"target_kind": "voicemail"}, "target_kind: Input should be"),
    ({"number_source": "carrier"}, "number_source: Input should be"),
    ({"first_1xx_ms": -5}, "first_1xx_ms: Input should be greater than or equal to 0"),
    ({"duration_s": -0.5}, "duration_s: Input should be greater than or equal to 0"),
    ({"duration_s": float("inf")}, "duration_s: "),
    ({"did": "+4420"}, "did: String should match pattern"),
])
def test_delivery_attempt_rejections(changes: dict[str, Any], words: str) -> None:
    assert words in _reasons("deliveries", {**att("d", 1, 404), **changes})


def test_delivery_attempt_accepts_csv_text_and_fractions() -> None:
    rec = _ok("deliveries", {**att("d", 1, 200), "sent": "TRUE", "cancelled": "false",
                             "seq": "1", "duration_s": "12.75", "first_1xx_ms": None})
    assert (rec["sent"], rec["cancelled"], rec["seq"], rec["duration_s"]) == (
        True, False, 1, 12.75)
    assert _ok("deliveries", att("d", 1, 503, sent=False))["sip_code"] == 503


# -- whole deliveries ---------------------------------------------------------------------


def test_a_delivery_with_a_gap_is_rejected_whole_with_its_places(cache: Cache) -> None:
    rep = cache.ingest("deliveries", [att("a", 1, 503), att("b", 1, 486), att("a", 3, 200)])
    assert (rep.taken, rep.rejected) == (1, 2)
    assert {r.where for r in rep.rejections} == {"record 1", "record 3"}
    assert {r.reason for r in rep.rejections} == {
        "delivery 'a': seq not contiguous from 1: has 1, 3, missing 2"}
    assert cache.conn.execute("SELECT delivery_id FROM delivery_attempts").fetchall() == [
        ("b",)]


@pytest.mark.parametrize("records, reason", [
    ([att("a", 1, 200), att("a", 2, 200, "trunk2")],
     "delivery 'a': more than one answered attempt (seq 1, 2)"),
    ([att("a", 1, 200), att("a", 2, 486, "trunk2")],
     "delivery 'a': answered attempt seq 1 is not the last (seq 2 follows)"),
    ([att("a", 2, 486), att("a", 3, 200, "trunk2")],
     "delivery 'a': seq not contiguous from 1: has 2, 3, missing 1"),
])
def test_delivery_rules(cache: Cache, records: list[dict[str, Any]], reason: str) -> None:
    rep = cache.ingest("deliveries", records)
    assert rep.taken == 0 and [r.reason for r in rep.rejections] == [reason] * len(records)


def test_rules_look_at_what_the_cache_holds(cache: Cache) -> None:
    assert cache.ingest("deliveries", [att("a", 1, 486)]).taken == 1
    # seq 2 alone continues the stored seq 1
    assert cache.ingest("deliveries", [att("a", 2, 200, "trunk2")]).taken == 1
    # an attempt after the answered one is rejected, the stored ones stay
    rep = cache.ingest("deliveries", [att("a", 3, 486, "trunk2")])
    assert rep.rejected == 1 and "answered attempt seq 2 is not the last" in \
        rep.rejections[0].reason
    assert cache.conn.execute("SELECT attempts, outcome FROM deliveries").fetchall() == [
        (2, "answered_failover")]


def test_a_gap_filled_later_in_the_same_file_is_no_rejection(cache: Cache) -> None:
    # batches of two: seq 3 comes two batches before seq 2
    recs = [att("a", 1, 486), att("a", 3, 200, "trunk2"), att("b", 1, 200), att("c", 1, 200),
            att("a", 2, 486, "trunk2"), att("d", 1, 200)]
    rep = cache.ingest("deliveries", recs, batch=2)
    assert (rep.taken, rep.rejected) == (6, 0)
    assert cache.conn.execute("SELECT attempts, outcome FROM deliveries WHERE "
                              "delivery_id = 'a'").fetchone() == (3, "answered_failover")


def test_held_deliveries_are_bounded(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_inbound, "PENDING_MAX", 4)
    recs = [att(f"x{i}", 2, 486) for i in range(6)] + [att("x5", 1, 486)]
    rep = cache.ingest("deliveries", recs, batch=1)
    # over 4 held, the oldest are rejected down to 2; x5 is completed by its seq 1
    assert rep.taken == 2 and rep.rejected == 5
    assert "(still incomplete 4 records later)" in rep.rejections[0].reason
    assert {r.raw["delivery_id"] for r in rep.rejections} == {"x0", "x1", "x2", "x3", "x4"}


# -- keys -----------------------------------------------------------------------------------


def _dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(db)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in INBOUND_TABLES}
    finally:
        con.close()


def _folder(path: Path) -> Path:
    write_jsonl(path / "trunk_groups.jsonl", [
        group("g1", "backup_then_number", backup_pbx="tg:g2", global_failover_number="999"),
        group("g2", "dial_plan_on_triggers", dial_plan="ivr", edges=["a"])])
    (path / "dids.csv").write_text("did,trunk_group_id,failover_number,backup_pbx\n"
                                   "100,g1,555,\n101,g1,,sip:pbx@10.0.0.9\n200,g2,,\n")
    with gzip.open(path / "registrations.jsonl.gz", "wt") as fh:
        for r in [reg("g1", "trunk1", "2026-11-01T10:00:00Z", expires_s=3600),
                  reg("g1", "trunk1", "2026-11-01T10:30:00Z", "refreshed", expires_s=3600),
                  reg("g2", "a", "2026-11-01T10:00:00Z", "rejected")]:
            fh.write(json.dumps(r) + "\n")
    cols = ["delivery_id", "seq", "trunk_group_id", "did", "started_at", "target_kind",
            "target", "sent", "sip_code", "duration_s", "cancelled", "first_1xx_ms"]
    rows = [
        ["d1", 1, "g1", "100", "2026-11-01T11:00:00Z", "primary_pbx", "", "false", 404, 0,
         "false", ""],
        ["d1", 2, "g1", "100", "2026-11-01T11:00:01Z", "failover_number", "555", "true", 200,
         "41.5", "false", "120"],
        ["d2", 1, "g2", "200", "2026-11-01T11:05:00Z", "primary_pbx", "", "true", 408, 0,
         "false", ""],
        ["d2", 2, "g2", "200", "2026-11-01T11:05:15Z", "dial_plan", "ivr", "true", 200, 5,
         "false", "10"],
    ]
    (path / "deliveries.csv").write_text(
        ",".join(cols) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_inbound_only_folder_imports_and_again_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _folder(tmp_path / "in")
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(data), "--now", "2026-11-01T12:00:00Z"]) == 0
    err = capsys.readouterr().err
    assert "imported 12 records, rejected 0" in err
    first = _dump(db)
    assert [r[:2] for r in first["delivery_attempts"]] == [("d1", 1), ("d1", 2), ("d2", 1),
                                                            ("d2", 2)]
    assert main(["--cache", str(db), "import", str(data), "--now", "2026-11-01T12:00:00Z"]) == 0
    err = capsys.readouterr().err
    assert "deliveries.csv: 4 taken (4 unchanged)" in err
    assert "trunk_groups.jsonl: 2 taken (2 unchanged)" in err
    assert "registrations.jsonl.gz: 3 taken (3 unchanged)" in err
    assert _dump(db) == first


def test_a_folder_may_hold_both_sides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.sample_data import write_dataset

    data = _folder(write_dataset(tmp_path / "both"))
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(data)]) == 0
    assert "imported 20 records, rejected 0" in capsys.readouterr().err
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM attempts").fetchone()[0] == 5
    assert con.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 2
    con.close()


def test_a_changed_record_replaces_the_old_one_and_its_rollups(cache: Cache) -> None:
    cache.ingest("deliveries", [att("a", 1, 486), att("a", 2, 503, "trunk2")])
    rep = cache.ingest("deliveries", [att("a", 1, 486), att("a", 2, 200, "trunk2")])
    assert (rep.taken, rep.unchanged) == (2, 1)
    assert cache.conn.execute("SELECT outcome, via FROM deliveries").fetchall() == [
        ("answered_failover", "trunk2")]
    # moved to another group and hour: the old cell is gone, the group list follows
    cache.ingest("deliveries", [att("a", 1, 486, gid="g9", at="2026-11-01T08:00:00Z")])
    assert cache.conn.execute("SELECT trunk_group_id, hour, offered, answered_failover "
                              "FROM inbound_rollups").fetchall() == [
        ("g9", 1793520000000, 1, 1)]
    assert cache.conn.execute("SELECT * FROM inbound_groups").fetchall() == [("g9", 1)]


def test_an_hour_holding_only_an_f9_attempt_keeps_it(cache: Cache) -> None:
    # "a" starts at 10:59 and hits the channel limit at 11:00; "b" starts at 11:30
    cache.ingest("deliveries", [att("a", 1, 500, at="2026-11-01T10:59:59Z"),
                                att("a", 2, 503, "trunk2", sent=False,
                                    at="2026-11-01T11:00:00Z"),
                                att("b", 1, 200, at="2026-11-01T11:30:00Z")])
    cells = "SELECT hour % 86400000 / 3600000, offered, rule_F9 FROM inbound_rollups ORDER BY 1"
    assert cache.conn.execute(cells).fetchall() == [(10, 1, 0), (11, 1, 1)]
    cache.ingest("deliveries", [att("b", 1, 200, at="2026-11-01T09:00:00Z")])  # moved
    assert cache.conn.execute(cells).fetchall() == [(9, 1, 0), (10, 1, 0), (11, 0, 1)]


def test_configuration_changes_derive_the_deliveries_again(cache: Cache) -> None:
    cache.ingest("trunk_groups", [group("g1", "backup_then_number")])
    cache.ingest("deliveries", [att("a", 1, 404, sent=False),
                                att("a", 2, 200, "failover_number", target="555")])
    rules = "SELECT rules FROM deliveries"
    assert store_inbound.mask_rules(cache.conn.execute(rules).fetchone()[0]) == ("F1",)
    cache.ingest("dids", [did("100", "g1", failover_number="555")])
    assert cache.conn.execute(rules).fetchone()[0] == 0
    assert cache.conn.execute("SELECT rule_F1 FROM inbound_rollups").fetchone()[0] == 0
    cache.ingest("trunk_groups", [group("g1", "backup_then_number", backup_pbx="pbx.b")])
    assert store_inbound.mask_rules(cache.conn.execute(rules).fetchone()[0]) == ("F2", "F11")


def test_refused_follows_the_ner_setting(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with Cache(path) as c:
        c.ingest("deliveries", [att("a", 1, 486)])
        assert c.conn.execute("SELECT outcome FROM deliveries").fetchone() == ("refused",)
    with Cache(path, MetricSettings(ner_codes=["200-299", 480])) as c:
        assert c.conn.execute("SELECT outcome FROM deliveries").fetchone() == ("lost",)
        assert c.conn.execute("SELECT refused, lost, lost_other FROM inbound_rollups"
                              ).fetchone() == (0, 1, 1)


def test_a_new_version_may_replace_the_attempts_that_break_a_rule(cache: Cache) -> None:
    cache.ingest("deliveries", [att("a", 1, 486), att("a", 2, 200, "trunk2")])
    # a longer version: seq 3 answers now; it comes first and breaks a rule with the
    # stored seq 2 until the new seq 2 replaces it later in the same file
    rep = cache.ingest("deliveries", [att("a", 3, 200, "backup_pbx"),
                                      att("a", 2, 503, "trunk2", sent=False)], batch=1)
    assert (rep.taken, rep.rejected) == (2, 0)
    assert cache.conn.execute("SELECT attempts, via, last_trigger FROM deliveries"
                              ).fetchone() == (3, "backup_pbx", None)
