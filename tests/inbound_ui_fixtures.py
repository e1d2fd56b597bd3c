"""A small inbound cache for the trunk-group screens, filled by `noc-tui import` of
record files (the real import path) as of FROZEN_NOW.

Acme PBX (backup_then_number, registered on trunk1 only): a first-try answer, a
failover to the backup PBX, one to the number before the backup was tried (F2, F11)
after the channel limit (F9), and a delivery lost after every step. Beta Office
(registered_then_trunk2, registered nowhere): lost on both trunks. A group whose name,
customer and caller hold markup and escape sequences.
"""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from tests.inbound_data import att, did, group, reg, write_jsonl
    from tests.ui_fixtures import FROZEN_NOW
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from inbound_data import att, did, group, reg, write_jsonl  # type: ignore[no-redef]
    from ui_fixtures import FROZEN_NOW  # type: ignore[no-redef]

from noc_tui.cli import main
from noc_tui.records.timefmt import ms_to_iso

NASTY_GROUP = "[bold]Evil[/bold] \x1b[31mred\x1b[0m"
NASTY_CUSTOMER = "[@click=app.quit]x[/]"
NASTY_CALLER = "[red]\x1b]52;c;ZXZpbA==\x07"


def write_inbound(folder: Path) -> Path:
    write_jsonl(folder / "trunk_groups.jsonl", [
        group("g1", "backup_then_number", name="Acme PBX", customer="Acme Ltd",
              backup_pbx="pbx.backup.example", global_failover_number="442000000000"),
        group("g2", name="Beta Office"),
        group("g3", "dial_plan_on_triggers", name=NASTY_GROUP, customer=NASTY_CUSTOMER,
              dial_plan="ivr-main"),
    ])
    write_jsonl(folder / "dids.jsonl", [did("100", "g1", failover_number="447000000001"),
                                        did("101", "g1"), did("200", "g2"), did("300", "g3")])
    write_jsonl(folder / "registrations.jsonl", [
        reg("g1", "trunk1", "2026-11-01T10:00:00Z", expires_s=14400,
            contact="sip:acme@10.0.0.1"),
        reg("g1", "trunk2", "2026-11-01T09:00:00Z", expires_s=3600),
        reg("g1", "trunk2", "2026-11-01T10:00:00Z", "expired"),
        reg("g2", "trunk1", "2026-11-01T08:00:00Z", "unregistered"),
        reg("g3", "trunk1", "2026-11-01T11:00:00Z", expires_s=7200),
        reg("g3", "trunk2", "2026-11-01T11:00:00Z", expires_s=7200),
    ])
    write_jsonl(folder / "deliveries.jsonl", [
        att("d1", 1, 200, number="100", at="2026-11-01T11:10:00Z", edge="trunk1"),
        att("d2", 1, 404, number="100", at="2026-11-01T11:20:00Z", sent=False, edge="trunk2"),
        att("d2", 2, 200, "backup_pbx", number="100", at="2026-11-01T11:20:01Z",
            target="pbx.backup.example"),
        att("d3", 1, 503, number="101", at="2026-11-01T11:30:00Z", sent=False, edge="trunk1"),
        att("d3", 2, 200, "failover_number", number="101", at="2026-11-01T11:30:01Z",
            target="442000000000", number_source="trunk_group", first_1xx_ms=900),
        att("d4", 1, 500, number="100", at="2026-11-01T11:40:00Z", edge="trunk1",
            first_1xx_ms=120, sip_reason="Server Internal Error"),
        att("d4", 2, 408, "backup_pbx", number="100", at="2026-11-01T11:40:02Z",
            target="pbx.backup.example"),
        att("d4", 3, 503, "failover_number", number="100", at="2026-11-01T11:40:20Z",
            target="447000000001", number_source="did", first_1xx_ms=300),
        att("d5", 1, 404, gid="g2", number="200", at="2026-11-01T11:50:00Z", sent=False,
            edge="trunk1"),
        att("d5", 2, 404, "trunk2", gid="g2", number="200", at="2026-11-01T11:50:01Z",
            sent=False, edge="trunk2"),
        att("d6", 1, 200, gid="g3", number="300", at="2026-11-01T11:55:00Z",
            caller=NASTY_CALLER),
    ])
    return folder


def build_inbound_cache(folder: Path) -> Path:
    """The cache at folder/inbound.db, imported from record files under folder."""
    db = folder / "inbound.db"
    with pytest.MonkeyPatch.context() as mp:  # no config of the machine's user
        mp.setenv("XDG_CONFIG_HOME", str(folder / "xdg-config"))
        mp.setenv("XDG_CACHE_HOME", str(folder / "xdg-cache"))
        assert main(["--cache", str(db), "import", str(write_inbound(folder / "data")),
                     "--now", ms_to_iso(FROZEN_NOW)]) == 0
    return db
