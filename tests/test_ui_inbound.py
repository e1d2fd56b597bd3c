"""The inbound screens (issue 15, section 4) over a cache filled by `noc-tui import`:
the trunk-group list, a trunk group's tabs and a delivery's chain, as an operator sees
them at a frozen now; snapshots at 80x24, 120x40 and 200x50."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

try:
    from tests.inbound_data import att, group, write_jsonl
    from tests.inbound_ui_fixtures import (
        NASTY_CALLER,
        NASTY_CUSTOMER,
        NASTY_GROUP,
        build_inbound_cache,
    )
    from tests.ui_fixtures import FROZEN_NOW, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from inbound_data import att, group, write_jsonl  # type: ignore[no-redef]
    from inbound_ui_fixtures import (  # type: ignore[no-redef]
        NASTY_CALLER,
        NASTY_CUSTOMER,
        NASTY_GROUP,
        build_inbound_cache,
    )
    from ui_fixtures import FROZEN_NOW, ui_settings  # type: ignore[no-redef]

from noc_tui.cli import main
from noc_tui.records.printable import printable
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.ui.alarm_screen import AlarmScreen
from noc_tui.ui.app import NocApp
from noc_tui.ui.carrier_list import CarrierListScreen
from noc_tui.ui.commands import palette_commands
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.trunk_group.chain import DeliveryChainScreen
from noc_tui.ui.trunk_group.screen import TrunkGroupScreen
from noc_tui.ui.trunk_list import TrunkGroupListScreen
from noc_tui.ui.widgets import NavTable, Note


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_inbound_cache(tmp_path_factory.mktemp("inbound-ui"))


def make_app(cache_path: Path, exports: Path) -> NocApp:
    return NocApp(ui_settings(exports), cache_path, clock=lambda: FROZEN_NOW,
                  config_path=Path("/etc/noc-tui/config.toml"), watch_interval_s=0)


async def press(pilot, *keys: str) -> None:
    for k in keys:
        await pilot.press(*k.split())
        await settle(pilot)


def column(table: NavTable, key: str) -> list:
    return [r.get(key) for r in table.export_rows()[1] if r]  # not a "none" line


def note(app: NocApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Note).render())


async def test_the_list_shows_each_group_worst_first_and_exports_what_is_filtered(
        cache_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        assert isinstance(app.screen, TrunkGroupListScreen)
        table = app.screen.query_one("#trunks", NavTable)
        # Registered nowhere: down; a delivery lost: degraded; the rest fine.
        assert column(table, "id") == ["g2", "g1", "g3"]
        assert column(table, "health") == ["down", "degraded", "fine"]
        text = screen_text(app)
        acme = next(line for line in text.splitlines() if "Acme PBX" in line)
        for seen in ("DEGR", "Acme Ltd", "backup+num", "✓✗", "25.0%", "75.0%",
                     "F2 F4 F9 F11"):
            assert seen in acme, (seen, acme)
        beta = next(line for line in text.splitlines() if "Beta Office" in line)
        assert "DOWN" in beta and "✗✗" in beta and beta.startswith(" !")
        assert not acme.startswith(" !")
        assert "1 down  1 degraded  1 in alarm" in text
        assert column(table, "alarms")[0] == {"unregistered": "registered on no edge "
                                                              "(trunk1, trunk2)"}

        await press(pilot, "slash", "a c m e", "enter")
        assert column(table, "id") == ["g1"]
        assert "Trunk groups 1 of 3" in screen_text(app)
        csv_path = app.export_snapshot("csv")
        json_path = app.export_snapshot("json")
        await press(pilot, "escape")  # clears the filter first
        assert isinstance(app.screen, TrunkGroupListScreen)
        assert column(table, "id") == ["g2", "g1", "g3"]
        await press(pilot, "escape")
        assert isinstance(app.screen, CarrierListScreen)
    assert csv_path is not None and json_path is not None
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [(r["id"], r["health"], r["customer"], r["offered"], r["lost"],
             r["registered.trunk2"], r["answered_via.backup_pbx"], r["findings"])
            for r in rows] == [("g1", "degraded", "Acme Ltd", "4", "1", "false", "1",
                                "F2;F4;F9;F11")]
    # The JSON holds the figures `noc-tui export trunks` gives for the same group.
    doc = json.loads(json_path.read_text())
    assert main(["--cache", str(cache_path), "export", "trunks", "--now",
                 ms_to_iso(FROZEN_NOW)]) == 0
    cli = {g["id"]: g for g in json.loads(capsys.readouterr().out)["trunk_groups"]}
    [shown] = doc["trunk_groups"]
    assert {k: v for k, v in shown.items()
            if k not in ("customer", "health", "alarms")} == cli["g1"]
    # Beta Office, registered nowhere, is in alarm since the import (as judged there).
    assert shown["alarms"] == {}


async def test_the_list_s_title_fits_80_columns_leaving_parts_out_whole(
        cache_path: Path, tmp_path: Path) -> None:
    """At 80 columns the title said '... 1 degraded  1 in' and no more: the alarm count
    and the hidden columns were cut silently. The as-of (in the header's age too) gives
    way, whole; a filter in force always shows."""
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        title = screen_text(app).splitlines()[1].rstrip()
        assert title.startswith(" Trunk groups 3  window 24h  1 down  1 degraded  1 in "
                                "alarm  ←→ ") and title.endswith(" more columns"), title
        assert "as of" not in title and len(title) <= 80
        await press(pilot, "slash", "a c m e", "enter")
        title = screen_text(app).splitlines()[1].rstrip()
        assert "Trunk groups 1 of 3" in title and "filter: acme" in title, title
        await press(pilot, "slash", *["z"] * 90, "enter")  # longer than the line
        title = screen_text(app).splitlines()[1].rstrip()
        assert "Trunk groups 0 of 3  filter: zzz" in title, title
        assert title.endswith("z…") and len(title) <= 80
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        assert "window 24h  as of 2026-11-01 12:00  1 down" in screen_text(app)


async def test_a_group_s_tabs_and_a_delivery_s_chain(cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.show_trunk_groups()
        await settle(pilot)
        await press(pilot, "down", "enter")  # Acme PBX, second worst
        assert isinstance(app.screen, TrunkGroupScreen) and app.screen.gid == "g1"
        head = note(app, "#tg-head")
        assert "trunk1 ✓ trunk2 ✗" in head
        assert "failover on any failure to backup pbx.backup.example, then number " \
               "442000000000" in head
        dids = app.screen.query_one("#t-dids", NavTable)
        assert [(r["did"], r["offered"], r["lost"], r["effective_failover_number"],
                 r["number_source"]) for r in dids.export_rows()[1]] == [
            ("100", 3, 1, "447000000001", "did"), ("101", 1, 0, "442000000000", "trunk_group")]
        assert "group's global" in screen_text(app)

        await press(pilot, "2")
        deliveries = app.screen.query_one("#t-deliveries", NavTable)
        # Failovers and losses, newest first.
        assert column(deliveries, "delivery_id") == ["d4", "d3", "d2"]
        assert column(deliveries, "outcome") == ["lost", "answered_failover",
                                                 "answered_failover"]
        await press(pilot, "o")  # all outcomes
        assert column(deliveries, "delivery_id") == ["d4", "d3", "d2", "d1"]
        await press(pilot, "o")
        assert column(deliveries, "delivery_id") == ["d1"]  # answered first try
        await press(pilot, "o", "t")  # failovers only, then the first trigger listed
        assert "trigger not_registered_404" in note(app, "#deliveries-info")
        assert column(deliveries, "delivery_id") == ["d2"]
        await press(pilot, "t")  # no_1xx
        assert column(deliveries, "delivery_id") == []
        await press(pilot, "t", "t")  # channels_full_503
        assert column(deliveries, "delivery_id") == ["d3"]
        await press(pilot, "t", "t")  # other, then any again
        assert column(deliveries, "delivery_id") == ["d3", "d2"]
        await press(pilot, "o", "o", "o", "o")  # refused, abandoned, lost, failovers+losses
        assert column(deliveries, "delivery_id") == ["d4", "d3", "d2"]

        await press(pilot, "enter")
        assert isinstance(app.screen, DeliveryChainScreen)
        chain = app.screen.query_one("#chain", NavTable)
        assert [(a["seq"], a["target_kind"], a["sent"], a["sip_code"], a["trigger"])
                for a in chain.export_rows()[1]] == [
            (1, "primary_pbx", True, 500, "pbx_5xx"), (2, "backup_pbx", True, 408, "no_1xx"),
            (3, "failover_number", True, 503, "pbx_5xx")]
        why = note(app, "#chain-why")
        assert "#1 primary_pbx (Server Internal Error): a server error (5xx) came back: a " \
               "failover trigger of backup_then_number, so on to the backup PBX" in \
               why.replace("\n", " ")
        assert "the configured chain is used up (lost)" in why.replace("\n", " ")
        assert "outcome lost" in note(app, "#chain-head")
        await press(pilot, "escape")
        assert isinstance(app.screen, TrunkGroupScreen)

        await press(pilot, "down", "enter")  # d3: the number before the backup
        why = note(app, "#chain-why").replace("\n", " ")
        assert "not sent: the group's channel limit was reached (503): a failover " \
               "trigger, moved on to the failover number, but the configured next step " \
               "is the backup PBX" in why
        assert [r["sent"] for r in app.screen.query_one("#chain", NavTable)
                .export_rows()[1]] == [False, True]
        assert "local" in screen_text(app)
        await press(pilot, "escape")

        await press(pilot, "3")
        info = note(app, "#reg-info")
        assert "trunk1 registered  latest: registered at 2026-11-01 10:00:00" in info
        assert "trunk2 NOT registered  latest: expired at 2026-11-01 10:00:00  flaps in " \
               "24h: 1" in info
        regs = app.screen.query_one("#t-registrations", NavTable)
        assert [(r["edge"], r["event"]) for r in regs.export_rows()[1]] == [
            ("trunk1", "registered"), ("trunk2", "expired"), ("trunk2", "registered")]

        await press(pilot, "4")
        found = app.screen.query_one("#t-findings", NavTable)
        rows = {r["rule"]: r for r in found.export_rows()[1]}
        assert sorted(rows, key=lambda r: int(r[1:])) == ["F2", "F4", "F9", "F11"]
        assert rows["F2"]["delivery_ids"] == ["d3"] and rows["F4"]["edge"] == "trunk2"
        assert "the failover number was called before the backup PBX was tried" in \
               screen_text(app)

        await press(pilot, "5")
        summary = app.screen.query_one("#t-summary", NavTable)
        assert [(r["start"], r["offered"], r["lost"], r["first_try_rate"])
                for r in summary.export_rows()[1]] == [("2026-11-01T11:00:00.000Z", 4, 1, 0.25)]
        await press(pilot, "t")
        assert column(summary, "offered") == [4]  # the day
        await press(pilot, "escape")
        assert isinstance(app.screen, TrunkGroupListScreen)


async def test_keys_typed_at_once_act_on_the_tab_they_name(cache_path: Path,
                                                           tmp_path: Path) -> None:
    # A tab key and the next keys in one burst, as a fast typist or a paste sends
    # them: `/` filters the tab just named, never the one left.
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.show_trunk_groups()
        await settle(pilot)
        await press(pilot, "down", "enter")
        screen = app.screen
        assert isinstance(screen, TrunkGroupScreen)
        for tab, part in (("2", "deliveries"), ("1", "dids"), ("2", "deliveries")):
            await pilot.press(tab, "slash", "d", "3")
            await settle(pilot)
            assert screen.current_part() == part
            table = screen.query_one(f"#t-{part}", NavTable)
            assert table.filter_text == "d3"
            await press(pilot, "escape")  # clears the filter, stays on the tab
            assert screen.current_part() == part and table.filter_text == ""
        deliveries = screen.query_one("#t-deliveries", NavTable)
        await pilot.press("slash", "d", "4")
        await settle(pilot)
        assert column(deliveries, "delivery_id") == ["d4"]


@pytest.mark.parametrize("keys", [{}, {"list.trunk_groups": "f7"}])
async def test_a_cache_of_inbound_records_only_says_the_trunk_groups_are_a_key_away(
        cache_path: Path, tmp_path: Path, keys: dict[str, str]) -> None:
    # The cache holds what `noc-tui import` of inbound files wrote, no carrier: the
    # carrier list says so and names the key (as remapped) that shows the trunk groups.
    settings = ui_settings(tmp_path / "exports").model_copy(update={"keys": keys})
    app = NocApp(settings, cache_path, clock=lambda: FROZEN_NOW, watch_interval_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen)
        key = "f7" if keys else "t"
        text = screen_text(app)
        assert "No carriers in the cache" in text, text
        assert f"Press {key} for the trunk groups" in text, text
        await press(pilot, key)
        assert isinstance(app.screen, TrunkGroupListScreen)


LONG_TARGET = "sip:night-desk@pbx-backup.acme.example"


async def test_a_chain_s_long_target_takes_the_spare_width(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # At 120 columns a target of 38 characters fits whole beside the other columns
    # once the short ones are as wide as what they hold; it was cut at 24 with "…".
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    data = tmp_path / "data"
    write_jsonl(data / "trunk_groups.jsonl", [group("g1", "backup_then_number",
                                                    backup_pbx=LONG_TARGET)])
    write_jsonl(data / "deliveries.jsonl", [
        att("d1", 1, 503, at="2026-11-01T11:10:00Z", edge="trunk1"),
        att("d1", 2, 200, "backup_pbx", at="2026-11-01T11:10:01Z", target=LONG_TARGET)])
    db = tmp_path / "cache.db"
    assert main(["--cache", str(db), "import", str(data), "--now", ms_to_iso(FROZEN_NOW)]) == 0
    app = make_app(db, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(DeliveryChainScreen("d1", "Group g1"))
        await settle(pilot)
        row = next(line for line in screen_text(app).splitlines()
                   if "backup_pbx" in line and " 200 " in line)
        assert LONG_TARGET in row and "…" not in row, row
        assert "Started" in screen_text(app)  # no column gave way for it


async def test_esc_clears_a_kept_tab_filter_before_it_goes_back(cache_path: Path,
                                                                 tmp_path: Path) -> None:
    # As on the lists (k9s): the first Esc clears a filter kept with Enter, the second
    # goes back to the trunk-group list.
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "t", "down", "enter", "2")
        screen = app.screen
        assert isinstance(screen, TrunkGroupScreen)
        deliveries = screen.query_one("#t-deliveries", NavTable)
        everything = column(deliveries, "delivery_id")
        await pilot.press("slash", "d", "3", "enter")
        await settle(pilot)
        assert column(deliveries, "delivery_id") == ["d3"] and deliveries.has_focus
        await press(pilot, "escape")
        assert app.screen is screen and screen.current_part() == "deliveries"
        assert deliveries.filter_text == "" and column(deliveries, "delivery_id") == everything
        assert not screen.query_one("#tg-filter").has_class("-on")
        await press(pilot, "escape")
        assert isinstance(app.screen, TrunkGroupListScreen)


async def test_the_deliveries_line_counts_what_a_filter_leaves(cache_path: Path,
                                                                tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "t", "down", "enter", "2")
        deliveries = app.screen.query_one("#t-deliveries", NavTable)
        total = len(column(deliveries, "delivery_id"))
        assert total > 1
        assert f"{total} deliveries in the" in note(app, "#deliveries-info")
        assert "shown" not in note(app, "#deliveries-info")
        await pilot.press("slash", "d", "3")
        await settle(pilot)
        assert f"filter d3: 1 of {total} shown" in note(app, "#deliveries-info")
        await press(pilot, "enter", "o")  # another outcome read: the filter still counted
        shown = len(column(deliveries, "delivery_id"))
        assert f"filter d3: {shown} of " in note(app, "#deliveries-info")
        await press(pilot, "escape")
        assert "shown" not in note(app, "#deliveries-info")


async def test_the_screen_shown_again_for_another_group_keeps_nothing_of_the_first(
        cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "t", "down", "enter", "2", "o", "t")
        assert app.screen.gid == "g1"
        await press(pilot, "escape", "up", "enter")
        screen = app.screen
        assert isinstance(screen, TrunkGroupScreen) and screen.gid == "g2"
        assert column(screen.query_one("#t-dids", NavTable), "did") == ["200"]
        assert "Beta Office" in str(screen.query_one("#hb-crumb").render())
        await press(pilot, "2")  # the default filter again, Beta's delivery only
        assert column(screen.query_one("#t-deliveries", NavTable), "delivery_id") == ["d5"]
        assert "trigger any" in note(app, "#deliveries-info")


async def test_a_group_is_shown_as_of_the_list_it_was_opened_from(
        cache_path: Path, tmp_path: Path) -> None:
    """The list is the one the import computed; a month later by the wall clock, the
    group's screen still gives the figures of that list, not an empty window."""
    app = NocApp(ui_settings(tmp_path), cache_path, clock=lambda: FROZEN_NOW + 30 * 86_400_000,
                 watch_interval_s=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        assert "as of 2026-11-01 12:00" in screen_text(app)
        await press(pilot, "down", "enter")
        dids = app.screen.query_one("#t-dids", NavTable)
        assert column(dids, "offered") == [3, 1]
        assert "trunk1 ✓ trunk2 ✗" in note(app, "#tg-head")


async def test_hostile_names_are_shown_literally(cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        text = screen_text(app)
        assert printable(NASTY_GROUP) in text and printable(NASTY_CUSTOMER) in text
        assert "\x1b" not in text and "\x07" not in text
        await press(pilot, "down", "down", "enter")  # the one fine group
        assert app.screen.gid == "g3"
        crumb = str(app.screen.query_one("#hb-crumb").render())
        assert printable(NASTY_GROUP) in crumb
        await press(pilot, "2", "o", "enter")  # every outcome: d6, answered first try
        head = note(app, "#chain-head")
        assert f"from {printable(NASTY_CALLER)}" in head
        assert "\x1b" not in screen_text(app)


async def test_enter_on_a_trunk_group_alarm_opens_that_group(cache_path: Path,
                                                             tmp_path: Path) -> None:
    """As Enter on a carrier's alarm opens the carrier: Beta Office, registered on no
    edge, is in alarm since the import; Enter on that alarm opens Beta Office, as of the
    figures the alarm was judged on (a month later by the wall clock, the trunk-group
    list never opened)."""
    app = NocApp(ui_settings(tmp_path), cache_path, clock=lambda: FROZEN_NOW + 30 * 86_400_000,
                 watch_interval_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "exclamation_mark")
        assert isinstance(app.screen, AlarmScreen)
        assert "TG Beta Offic…" in screen_text(app)  # its name, not "trunk group B…"
        table = app.screen.query_one("#t-alarms", NavTable)
        rows = [r for r in table.export_rows()[1] if r]
        [beta] = [i for i, r in enumerate(rows) if r["subject_kind"] == "trunk group"]
        assert rows[beta]["subject_id"] == "g2" and rows[beta]["kind"] == "unregistered"
        table.move_cursor(row=beta)
        await press(pilot, "enter")
        screen = app.screen
        assert isinstance(screen, TrunkGroupScreen) and screen.gid == "g2"
        assert "Beta Office" in str(screen.query_one("#hb-crumb").render())
        dids = screen.query_one("#t-dids", NavTable)
        assert [(r["did"], r["offered"], r["lost"]) for r in dids.export_rows()[1]] == [
            ("200", 1, 1)]
        # Its policy's chain: primary, then trunk2 (it said "to nothing configured").
        assert "failover on any failure to trunk2" in note(app, "#tg-head")
        assert "trunk1 ✗ trunk2 ✗" in note(app, "#tg-head")
        await press(pilot, "escape")
        assert isinstance(app.screen, AlarmScreen)


async def test_a_group_s_head_is_whole_at_80_columns(cache_path: Path,
                                                    tmp_path: Path) -> None:
    """The head wraps to five lines at 80 columns for the dial-plan group (a long name,
    the four triggers): it held four, and the dial plan's name was cut off unseen."""
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_trunk_group("g3")
        await settle(pilot)
        text = screen_text(app)
        assert "503 channels full to dial plan" in text and "ivr-main" in text, text
        assert "1 DIDs  2 Deliveries" in text


async def test_the_palette_opens_the_list_and_help_names_its_keys(
        cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path / "exports")
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        [run] = [c[2] for c in palette_commands(app) if c[0] == "inbound: trunk groups"]
        run()
        await settle(pilot)
        assert isinstance(app.screen, TrunkGroupListScreen)
        await press(pilot, "question_mark")
        body = str(app.screen.query_one("#help-body").render())
        assert body.splitlines()[1] == "trunk groups (here)"
        assert any(line.startswith("1st try") and "offered less abandoned" in line
                   for line in body.splitlines())


# -- snapshots ---------------------------------------------------------------------------

SIZES = [(80, 24), (120, 40), (200, 50)]


def steps(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for k in keys:
            await pilot.press(*k.split())
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


VIEWS = {
    "trunk_groups": ("t",),
    "trunk_group_deliveries": ("t", "down", "enter", "2"),
    "delivery_chain": ("t", "down", "enter", "2", "enter"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
def test_inbound_screen(snap_compare, cache_path: Path, view: str,
                        size: tuple[int, int]) -> None:
    app = make_app(cache_path, Path("/nonexistent/noc-tui/exports"))
    assert snap_compare(app, terminal_size=size, run_before=steps(*VIEWS[view]))
