"""What matters stays in view, and tables sort as operators think (issue 16, points 1, 3).

Column priorities: the carrier list's pinned columns at every width, the others by rank,
never a figure cut; left/right page through the columns that did not fit while the name
stays; the footer fits the screen with `? Help` always there. Sorting: `s` then a
column's letter, or a header click; worst first, again reverses; carrier-screen tables
too; the sort is shown in the header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.ui.app import NocApp
from noc_tui.ui.carrier.screen import CarrierScreen
from noc_tui.ui.carrier_list import LIST_COLS
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable
from noc_tui.ui.widgets.columns import Col, fit_columns, outer

# The "always visible": health, name, ASR, consecutive failures, halt, FAS.
assert {c.key for c in LIST_COLS if c.pin} == {
    "alarm", "health", "name", "asr", "consecutive_failures", "halt_violations", "fas"}
PINNED = tuple(c.label for c in LIST_COLS if c.pin and c.key != "alarm")


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("cols") / "cache.db")


def make_app(cache_path: Path, tmp_path: Path) -> NocApp:
    return NocApp(ui_settings(tmp_path / "exports"), cache_path, clock=lambda: FROZEN_NOW,
                  watch_interval_s=0)


def header_line(app: NocApp) -> str:
    return next(line for line in screen_text(app).splitlines() if line.startswith(" !  Hlth"))


def order(app: NocApp, selector: str = "#carriers") -> list[str]:
    return list(app.screen.query_one(selector, NavTable)._order)


def rows_by_id(app: NocApp) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in app.screen.rows}  # type: ignore[attr-defined]


# -- fitting columns to a width ---------------------------------------------------------


def test_fit_keeps_pinned_columns_and_takes_the_others_by_rank():
    cols = (Col("a", "A", 4, pin=True), Col("x", "X", 10, rank=2), Col("n", "Name", 8,
            pin=True, grow=10), Col("y", "Y", 10, rank=0), Col("z", "Z", 10, rank=1))
    fit = fit_columns(cols, outer(4) + outer(8) + outer(10) + 3)
    assert [c.key for c in fit.cols] == ["a", "n", "y"]  # y ranks first; table order kept
    assert (fit.hidden_left, fit.hidden_right) == (0, 2)
    assert next(c for c in fit.cols if c.key == "n").width == 8 + 3  # what is left over
    wide = fit_columns(cols, 200)
    assert [c.key for c in wide.cols] == ["a", "x", "n", "y", "z"] and not wide.hidden_right
    paged = fit_columns(cols, outer(4) + outer(8) + outer(10), skip=1)
    assert [c.key for c in paged.cols] == ["a", "n", "z"] and paged.hidden_left == 1
    tiny = fit_columns(cols, 5)  # the pinned ones even when nothing fits
    assert [c.key for c in tiny.cols] == ["a", "n"]
    # the sorted column's label takes its sort mark: its width allows for it
    assert fit_columns((Col("q", "Quux", 2),), 80, sorted_key="q").cols[0].width == 5


# -- the carrier list -------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)])
async def test_pinned_columns_at_every_width_and_figures_whole(cache_path: Path, tmp_path: Path,
                                                              size: tuple[int, int]):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        head = header_line(app)
        for label in PINNED:
            assert f" {label}" in head, (label, head)
        text = screen_text(app)
        assert all(len(line) <= size[0] for line in text.splitlines())
        table = app.screen.query_one("#carriers", NavTable)
        shown = {c.key for c in table.fit.cols}
        cols = table.ordered_columns
        name_end = sum(c.get_render_width(table) for c in cols[:[
            c.key.value for c in cols].index("name") + 1])
        for row in app.screen.rows:
            line = next(x for x in text.splitlines() if f" {row['name'][:12]}" in x)
            for key in ("attempts", "consecutive_failures", "failover_out",
                        "halt_violations"):
                if key in shown and row.get("attempts"):
                    assert f"{row[key]:,}" in line, (key, line)
            assert "…" not in line[name_end:], line  # no figure is cut
        width = {80: 8, 120: 3, 200: 0}[size[0]]  # columns that did not fit
        assert (f"{width} more column" in text) == bool(width)


async def test_huge_figures_widen_their_columns(cache_path: Path, tmp_path: Path):
    from noc_tui.analytics.views import DashboardState
    from noc_tui.ui.messages import ListLoaded

    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = [dict(r) for r in app.screen.rows]
        big = next(r for r in rows if r["id"] == "down")
        big.update(attempts=123_456_789, consecutive_failures=98_765_432,
                   halt_violations=7_654_321)
        app.screen.on_list_loaded(ListLoaded(DashboardState("ready"), app.window, FROZEN_NOW,
                                             rows, None, app.generation))
        await pilot.pause()
        text = screen_text(app)
        for figure in ("98,765,432", "7,654,321"):  # pinned: always there, whole
            assert figure in text
        assert "123,456,789" in text or "Att" not in header_line(app)  # whole or dropped
        assert all(len(line) <= 80 for line in text.splitlines())


async def test_left_and_right_page_columns_and_the_name_stays(cache_path: Path,
                                                              tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#carriers", NavTable)
        first = [c.key for c in table.fit.cols]
        assert "id" not in first and "status" not in first
        for _ in range(10):
            await pilot.press("right")
        last = [c.key for c in table.fit.cols]
        assert "id" in last and table.fit.hidden_right == 0
        for label in PINNED:
            assert f" {label}" in header_line(app)
        assert "Tier One Telecom" in screen_text(app)
        for _ in range(10):
            await pilot.press("left")
        assert [c.key for c in table.fit.cols] == first


async def test_footer_fits_with_the_most_useful_keys_and_help(cache_path: Path,
                                                              tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for opened in (None, "misroute"):
            if opened:
                app.open_carrier(opened)
                await settle(pilot)
            foot = screen_text(app).splitlines()[-1]
            assert len(foot) <= 80 and not foot.endswith("…"), foot
            assert "? Help" in foot
            assert foot.split()[:2] == (["/", "Filter"] if not opened else ["esc", "Back"])
            if not opened:  # the way to the second top-level list, in view at 80
                assert "t Trunk groups" in foot, foot
        # The alarm and search screens offer their own keys first too (Back was last,
        # Acknowledge and Edit search were left out at 80).
        await pilot.press("escape", "exclamation_mark")
        await settle(pilot)
        foot = screen_text(app).splitlines()[-1]
        assert foot.split()[:4] == ["esc", "Back", "a", "Acknowledge"], foot
        await pilot.press("escape")
        app.open_search("misroute")
        await settle(pilot)
        foot = screen_text(app).splitlines()[-1]
        assert foot.split()[:5] == ["esc", "Back", "/", "Edit", "search"], foot


async def test_the_title_fits_80_columns_leaving_parts_out_whole(cache_path: Path,
                                                                 tmp_path: Path):
    """With a filter in force the title ran past 80 columns and was cut where the
    screen ended; now the least needed parts give way whole and the filter shows."""
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"tier one telecom", "enter")
        await settle(pilot)
        title = screen_text(app).splitlines()[1].rstrip()
        assert title.startswith(" Carriers 1 of ") and title.endswith(
            "filter: tier one telecom"), title
        assert "in alarm" in title and len(title) <= 80


# -- sorting ----------------------------------------------------------------------------


async def test_sort_by_a_key_then_the_column_worst_first(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rows = rows_by_id(app)
        active = [k for k, r in rows.items() if r.get("attempts")]
        await pilot.press("s", "a")  # ASR: the lowest first
        asr = [rows[k]["asr"] for k in order(app) if k in active]
        assert asr == sorted(asr) and "ASR▲" in header_line(app)
        assert "sort ASR worst first" in screen_text(app)
        await pilot.press("s", "a")  # again: reversed
        asr = [rows[k]["asr"] for k in order(app) if k in active]
        assert asr == sorted(asr, reverse=True) and "ASR▼" in header_line(app)
        assert "sort ASR best first" in screen_text(app)
        await pilot.press("s", "c")  # consecutive failures: the most first
        assert order(app)[0] == max(rows, key=lambda k: rows[k]["consecutive_failures"])
        await pilot.press("s", "l")  # halt violations
        assert order(app)[0] == "misroute"
        await pilot.press("s", "f")  # FAS suspects first
        assert rows[order(app)[0]]["fas_suspect"]
        await pilot.press("s", "h")  # health: down first
        assert rows[order(app)[0]]["health"] == "down"
        await pilot.press("s", "escape")  # nothing picked: the sort stays
        assert app.screen.sort_key == "health"  # type: ignore[attr-defined]


async def test_clicking_a_header_sorts_and_again_reverses(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#carriers", NavTable)
        rows = rows_by_id(app)
        cols = table.ordered_columns
        at = next(i for i, c in enumerate(cols) if c.key.value == "consecutive_failures")
        x = sum(c.get_render_width(table) for c in cols[:at])
        await pilot.click("#carriers", offset=(x + 2, 0))
        await pilot.pause()
        cf = [rows[k]["consecutive_failures"] for k in order(app)]
        assert cf == sorted(cf, reverse=True) and "CF▼" in header_line(app)
        await pilot.click("#carriers", offset=(x + 2, 0))
        await pilot.pause()
        cf = [rows[k]["consecutive_failures"] for k in order(app)]
        assert cf == sorted(cf) and "CF▲" in header_line(app)


async def test_carrier_screen_tables_sort_too(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_carrier("misroute")
        await settle(pilot)
        screen: CarrierScreen = app.screen  # type: ignore[assignment]
        await pilot.press("5")  # summary: newest first, then by ASR
        await settle(pilot)
        starts = [r["start"] for r in screen.query_one("#t-summary", NavTable).export_rows()[1]]
        assert starts == sorted(starts, reverse=True)
        await pilot.press("s", "a")
        asr = [r["asr"] for r in screen.query_one("#t-summary", NavTable).export_rows()[1]]
        assert asr == sorted(asr)
        await pilot.press("6")  # failover: sorted in SQL, a page at a time
        await settle(pilot)
        fo = screen.query_one("#t-failover", NavTable)
        started = [r["started_at"] for r in fo.export_rows()[1]]
        assert started == sorted(started, reverse=True)  # newest first
        await pilot.press("s", "c")  # the failed code, lowest first
        await settle(pilot)
        codes = [r["failed_code"] for r in fo.export_rows()[1]]
        assert codes == sorted(codes) and len(set(codes)) > 1
        await pilot.press("S")
        await settle(pilot)
        codes = [r["failed_code"] for r in fo.export_rows()[1]]
        assert codes == sorted(codes, reverse=True)
        assert "Code▼" in screen_text(app)


async def test_the_palette_sorts_the_list_too(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        for ch in "carriers by ASR":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert (app.screen.sort_key, app.screen.sort_flipped) == ("asr", False)
        assert "ASR▲" in header_line(app)
