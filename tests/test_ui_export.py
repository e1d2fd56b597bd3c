"""Snapshots are clean and the same everywhere (issue 16, point 8).

A screenshot (`e`, svg or text) holds the data only: no notifications, no key hints, no
cursor. The dashboard's CSV/JSON of the carrier list, a summary and failover calls are
the documents `noc-tui export` writes, with the same figures: health and alarms, `now`
as ISO, failover out or in; cost to the currency's cents in CSV and on screen.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.cli import main
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.ui.app import NocApp
from noc_tui.ui.export import screen_text
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable

NOW = ms_to_iso(FROZEN_NOW)


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("export") / "cache.db")


def make_app(cache_path: Path, tmp_path: Path) -> NocApp:
    return NocApp(ui_settings(tmp_path / "exports"), cache_path, clock=lambda: FROZEN_NOW,
                  watch_interval_s=0)


def cli(capsys: pytest.CaptureFixture[str], cache: Path, *argv: str) -> str:
    assert main(["--cache", str(cache), "export", *argv, "--now", NOW]) == 0
    return capsys.readouterr().out


async def test_a_screenshot_holds_the_data_only(cache_path: Path, tmp_path: Path):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        app.notify("Something happened to Tier One", title="Alarm", timeout=60)
        await pilot.pause()
        await pilot.press("j")  # the cursor on a row
        live = screen_text(app)
        assert "Something happened" in live and "? Help" in live
        table = app.screen.query_one("#carriers", NavTable)
        cursor_bg = table.get_component_styles("datatable--cursor").rich_style.bgcolor
        txt = app.export_snapshot("txt")
        svg = app.export_snapshot("svg")
        assert txt is not None and svg is not None
        text = txt.read_text()
        assert "Tier One Telecom" in text and "Carriers 7" in text
        assert "Something happened" not in text and "? Help" not in text
        assert "/ Filter" not in text
        picture = svg.read_text()
        assert "Tier&#160;One&#160;Telecom" in picture and "Something" not in picture
        assert cursor_bg is not None and f"fill=\"#{cursor_bg.triplet.hex[1:]}\"" not in picture
        # and the screen is back as it was
        await pilot.pause()
        assert table.show_cursor and "? Help" in screen_text(app)
        assert "Something happened" in screen_text(app)


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


async def test_dashboard_and_command_line_export_the_same_documents(
        cache_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    app = make_app(cache_path, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        tui = json.loads(app.export_snapshot("json").read_text())  # type: ignore[union-attr]
        tui_csv = list(csv.DictReader(io.StringIO(
            app.export_snapshot("csv").read_text())))  # type: ignore[union-attr]
        app.open_carrier("tier1")
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        tui_sum = json.loads(app.export_snapshot("json").read_text())  # type: ignore[union-attr]
        tui_sum_csv = list(csv.DictReader(io.StringIO(
            app.export_snapshot("csv").read_text())))  # type: ignore[union-attr]
        shown_cost = screen_text(app)
        await pilot.press("6", "i")
        await settle(pilot)
        tui_in = json.loads(app.export_snapshot("json").read_text())  # type: ignore[union-attr]
    cli_doc = json.loads(cli(capsys, cache_path, "carriers", "--window", "24h"))
    assert set(tui) == set(cli_doc) and tui["now"] == cli_doc["now"] == NOW
    assert tui["window_s"] == cli_doc["window_s"] == 86400
    assert by(tui["carriers"], "id") == by(cli_doc["carriers"], "id")
    assert by(tui["carriers"], "id")["down"]["health"] == "down"
    assert by(tui["carriers"], "id")["down"]["alarms"]["consecutive_failures"]
    cli_csv = list(csv.DictReader(io.StringIO(cli(capsys, cache_path, "carriers", "--format",
                                                  "csv"))))
    assert list(tui_csv[0]) == list(cli_csv[0])
    assert by(tui_csv, "id") == by(cli_csv, "id")

    cli_sum = json.loads(cli(capsys, cache_path, "summary", "--carrier", "tier1"))
    assert set(tui_sum) == set(cli_sum) and tui_sum["currency"] == "USD"
    assert by(tui_sum["rows"], "start") == by(cli_sum["rows"], "start")
    cli_sum_csv = list(csv.DictReader(io.StringIO(cli(
        capsys, cache_path, "summary", "--carrier", "tier1", "--format", "csv"))))
    assert by(tui_sum_csv, "start") == by(cli_sum_csv, "start")
    for row in cli_sum_csv:  # cost to the cent in CSV, as on screen
        assert len(row["cost"].split(".")[1]) == 2
    assert f"{max(float(r['cost']) for r in cli_sum_csv):,.2f}" in shown_cost

    cli_in = json.loads(cli(capsys, cache_path, "failover", "--carrier", "tier1",
                            "--direction", "in"))
    assert set(tui_in) == set(cli_in) and tui_in["direction"] == "in"
    assert list(tui_in["calls"][0]) == list(cli_in["calls"][0])
    assert by(tui_in["calls"], "call_id") == by(cli_in["calls"], "call_id")
