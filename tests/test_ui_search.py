"""Search anywhere (issue 16, point 2), as the operator uses it: ctrl+f or the palette
from any screen, matches newest first, Enter opens the call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.ui.app import NocApp
from noc_tui.ui.call_screen import CallScreen
from noc_tui.ui.carrier.screen import CarrierScreen
from noc_tui.ui.carrier_list import CarrierListScreen
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.search_screen import SearchScreen
from noc_tui.ui.trunk_group.chain import DeliveryChainScreen
from noc_tui.ui.widgets import NavTable


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("ui") / "cache.db")


def make_app(cache_path: Path, tmp_path: Path, **kw: Any) -> NocApp:
    return NocApp(ui_settings(tmp_path / "exports"), cache_path, watch_interval_s=0,
                  clock=lambda: FROZEN_NOW, **kw)


def results(app: NocApp) -> list[dict[str, Any]]:
    return app.screen.query_one("#t-search", NavTable).export_rows()[1]


async def type_search(pilot: Any, text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")
    await settle(pilot)


async def test_ctrl_f_from_the_list_finds_a_number_newest_first_and_opens_the_call(
        cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await type_search(pilot, "44000105")
        rows = results(app)
        assert rows and all(r["number"] == "44000105" for r in rows)
        times = [r["started_at"] for r in rows]
        assert times == sorted(times, reverse=True)  # newest first
        assert {r["carrier_id"] for r in rows} >= {"tier1"}  # across carriers
        text = screen_text(app)
        assert "newest first" in text and "44000105" in text
        assert rows[0]["started_at"][:19].replace("T", " ") in text  # the time, UTC
        await pilot.press("enter")  # the table has the focus after Enter in the box
        await settle(pilot)
        assert isinstance(app.screen, CallScreen)
        assert app.screen.call_id == rows[0]["call_id"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)  # back to the matches
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen)


async def test_search_from_a_carrier_tab_by_call_id_and_a_number_as_written(
        cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_carrier("tier1")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await type_search(pilot, "call-000042")
        [row] = results(app)
        assert row["call_id"] == "call-000042" and row["matched"] == "Call-ID"
        # Typing again replaces the search; a number with + and spaces is a number.
        await pilot.press("slash")
        box = app.screen.query_one("#search-box")
        box.value = ""
        await type_search(pilot, "+44 000 105")
        assert results(app) and all(r["number"] == "44000105" for r in results(app))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CarrierScreen)
        assert app.screen.current_part() == "failover"  # where the operator was


async def test_nothing_found_and_a_prefix(cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_search("999999999")
        await settle(pilot)
        assert results(app) == []
        assert "No call matches 999999999" in screen_text(app)
        app.open_search("call-00004")  # no such Call-ID: the calls starting with it
        await settle(pilot)
        rows = results(app)
        assert len(rows) == 10 and all(r["call_id"].startswith("call-00004") for r in rows)
        assert "starting with call-00004" in screen_text(app)


async def test_the_palette_searches_what_is_typed(cache_path: Path, tmp_path: Path) -> None:
    from noc_tui.ui.commands import palette_commands

    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [c[0] for c in palette_commands(app)]
        assert "search: find a call" in titles
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"call-000042")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        assert [r["call_id"] for r in results(app)] == ["call-000042"]


async def misroute_screen(app: NocApp, pilot: Any) -> CarrierScreen:
    """The carrier screen of the misrouting carrier, opened once the list is shown."""
    await settle(pilot)
    app.open_carrier("misroute")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CarrierScreen)
    return screen


async def test_search_text_never_becomes_markup(cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_search("[@click=app.quit]x\x1b[31m")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, SearchScreen)
        assert "[@click=app.quit]x\\x1b[31m" in screen_text(app)


async def test_slash_filters_the_table_in_view_on_every_tab(cache_path: Path,
                                                            tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await misroute_screen(app, pilot)
        # A value each tab's table holds in some rows but not all.
        for key, part, needle in (("1", "contacts", "commercial"), ("4", "failures", "486"),
                                  ("5", "summary", "T2"), ("6", "failover", "Busy")):
            await pilot.press(key)
            await settle(pilot)
            t = screen.query_one(f"#t-{part}", NavTable)
            before = len([r for r in t.export_rows()[1] if r])
            await pilot.press("slash", *needle, "enter")
            await settle(pilot)
            assert screen.current_part() == part  # never another tab
            rows = [r for r in t.export_rows()[1] if r]
            assert rows and len(rows) < before, (part, len(rows), before)
            assert all(any(needle in str(v) for v in r.values()) for r in rows), part
            assert screen.query_one("#tab-filter").has_class("-on")  # the filter stays shown
        # The rate grid's `/` is its number prefix, on its own tab.
        await pilot.press("2", "slash", "4", "4", "7", "enter")
        await settle(pilot)
        assert screen.current_part() == "rates" and screen.rate_prefix == "447"
        # Each tab keeps its own filter; Esc in the box clears it.
        await pilot.press("4")
        await settle(pilot)
        failures = screen.query_one("#t-failures", NavTable)
        assert failures.filter_text == "486"
        assert screen.query_one("#tab-filter").value == "486"
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert failures.filter_text == "" and screen.current_part() == "failures"
        assert not screen.query_one("#tab-filter").has_class("-on")
        assert len(failures.export_rows()[1]) == failures.rows_given


async def test_esc_clears_a_kept_tab_filter_before_it_goes_back(cache_path: Path,
                                                                 tmp_path: Path) -> None:
    # k9s habit, as on the lists: a filter kept with Enter (the box no longer focused)
    # is cleared by the first Esc; the second goes back.
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await misroute_screen(app, pilot)
        await pilot.press("4", "slash", *"486", "enter")
        await settle(pilot)
        failures = screen.query_one("#t-failures", NavTable)
        assert failures.filter_text == "486" and failures.has_focus
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.current_part() == "failures"
        assert failures.filter_text == ""
        assert not screen.query_one("#tab-filter").has_class("-on")
        assert len(failures.export_rows()[1]) == failures.rows_given
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen)


async def test_the_failover_line_counts_what_a_filter_leaves(cache_path: Path,
                                                              tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await misroute_screen(app, pilot)
        await pilot.press("6", "slash", *"Busy", "enter")
        await settle(pilot)
        table = screen.query_one("#t-failover", NavTable)
        shown = len([r for r in table.export_rows()[1] if r])
        assert 0 < shown < table.rows_given
        info = str(screen.query_one("#fo-info").render())
        assert f"filter Busy: {shown} of {table.rows_given} shown" in info, info


async def test_a_tab_s_keys_never_switch_tabs(cache_path: Path, tmp_path: Path) -> None:
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await misroute_screen(app, pilot)
        for key in ("t", "i", "h", "f", "right_square_bracket"):
            await pilot.press(key)
            await settle(pilot)
            assert screen.current_part() == "contacts", key
        assert (screen.period, screen.direction, screen.halt_only) == ("live", "out", False)
        footer = screen_text(app).splitlines()[-1]
        assert "Period" not in footer and "Out/In" not in footer  # not offered here
        await pilot.press("6", "i")  # on their tab they work
        await settle(pilot)
        assert screen.current_part() == "failover" and screen.direction == "in"
        assert "Out/In" in screen_text(app).splitlines()[-1]


async def test_a_delivery_of_a_trunk_group_is_found_and_opens_its_chain(cache_path: Path,
                                                             tmp_path: Path) -> None:
    import shutil

    from noc_tui.store.cache import Cache
    from tests.inbound_data import att as delivery
    from tests.inbound_data import group

    path = tmp_path / "cache.db"
    shutil.copy(cache_path, path)
    with Cache(path) as cache:
        cache.ingest("trunk_groups", [group("g1")])
        cache.ingest("deliveries", [delivery("dl-9", 1, 404, number="44000105",
                                             caller="4479", at="2026-11-01T11:59:00Z")])
    app = make_app(path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_search("44000105")
        await settle(pilot)
        rows = results(app)
        assert rows[0]["kind"] == "delivery" and rows[0]["call_id"] == "dl-9"  # newest
        assert {r["kind"] for r in rows[1:]} == {"call"}
        assert "TG Group g1" in screen_text(app)
        # The box says what it searches: deliveries too.
        assert "trunk groups" in str(app.screen.query_one("#search-box").placeholder)
        await pilot.press("enter", "enter")  # from the box to the matches, then open
        await settle(pilot)
        # Its chain, as Enter on a delivery of a trunk group's Deliveries tab shows it.
        assert isinstance(app.screen, DeliveryChainScreen)
        chain = app.screen.query_one("#chain", NavTable)
        assert [(a["seq"], a["sip_code"], a["trigger"]) for a in chain.export_rows()[1]] \
            == [(1, 404, "other")]  # sent: the PBX said 404
        assert "Delivery dl-9 to DID 44000105 from 4479" in screen_text(app)
        assert "Group g1" in str(app.screen.query_one("#hb-crumb").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)


async def test_a_filter_typed_in_one_burst_goes_to_the_box(cache_path: Path,
                                                          tmp_path: Path) -> None:
    # `/` and the filter's characters sent at once, as a fast typist or a paste in a
    # terminal sends them: the digits go into the box, not to the tab keys (`/486` on
    # Consecutive Failure opened the Failover tab).
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await misroute_screen(app, pilot)
        await pilot.press("4")
        await settle(pilot)
        for key, char in (("slash", "/"), ("4", "4"), ("8", "8"), ("6", "6")):
            app.post_message(events.Key(key, char))
        await settle(pilot)
        assert screen.current_part() == "failures"
        failures = screen.query_one("#t-failures", NavTable)
        assert failures.filter_text == "486"
        assert screen.query_one("#tab-filter").value == "486"
