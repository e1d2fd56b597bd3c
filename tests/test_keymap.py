"""Help that explains, keys that remap (issue 16, point 7).

The binding ids the config accepts are exactly the dashboard's; a [keys] entry with an
unknown id or something that is not a key is a config error naming it; the example in
config.example.toml is a real id; `?` lists every key by screen with its id (remapped
keys as remapped), a legend of every column and figure, and the [keys] section.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

try:
    from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import FROZEN_NOW, build_cache, ui_settings

from noc_tui.config import Settings, load_settings
from noc_tui.keymap import (
    ALL_IDS,
    BINDING_IDS,
    CHARACTER_KEYS,
    NAMED_KEYS,
    KeymapError,
    check_keymap,
)
from noc_tui.settings_view import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def dashboard_binding_ids() -> set[str]:
    from textual.binding import Binding

    from noc_tui.ui.alarm_screen import AlarmScreen
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.call_screen import CallScreen
    from noc_tui.ui.carrier.screen import CarrierScreen
    from noc_tui.ui.carrier_list import CarrierListScreen
    from noc_tui.ui.export import ExportDialog
    from noc_tui.ui.help import HelpScreen
    from noc_tui.ui.number_calls import NumberCallsScreen
    from noc_tui.ui.search_screen import SearchScreen
    from noc_tui.ui.trunk_group.chain import DeliveryChainScreen
    from noc_tui.ui.trunk_group.screen import TrunkGroupScreen
    from noc_tui.ui.trunk_list import TrunkGroupListScreen
    from noc_tui.ui.widgets import NavTable

    ids = set()
    for owner in (NocApp, NavTable, CarrierListScreen, CarrierScreen, CallScreen,
                  NumberCallsScreen, ExportDialog, HelpScreen, AlarmScreen, SearchScreen,
                  TrunkGroupListScreen, TrunkGroupScreen, DeliveryChainScreen):
        for b in owner.BINDINGS:
            assert isinstance(b, Binding) and b.id, (owner, b)
            ids.add(b.id)
    return ids


def test_the_ids_the_config_accepts_are_the_dashboards():
    assert dashboard_binding_ids() == set(ALL_IDS)


def test_key_names_are_textuals():
    from textual.keys import Keys, _character_to_key

    assert set(NAMED_KEYS) <= {k.value for k in Keys}
    for code in range(33, 127):
        assert check_keymap({"app.poll": chr(code)})["app.poll"] == _character_to_key(
            chr(code)), chr(code)
    assert {_character_to_key(chr(c)) for c in range(33, 127)} == set(CHARACTER_KEYS)


@pytest.mark.parametrize(("keys", "want"), [
    ({"app.poll": "ctrl+r"}, {"app.poll": "ctrl+r"}),
    ({"app.poll": "?"}, {"app.poll": "question_mark"}),
    ({"table.sort": "o, f6"}, {"table.sort": "o,f6"}),
    ({"carrier.back": "escape,q,backspace"}, {"carrier.back": "escape,q,backspace"}),
    ({"app.quit": "ctrl+shift+q"}, {"app.quit": "ctrl+shift+q"}),
    ({"list.filter": "/"}, {"list.filter": "slash"}),
])
def test_keys_are_taken_as_textual_names_them(keys: dict[str, str], want: dict[str, str]):
    assert check_keymap(keys) == want
    assert Settings(keys=keys).keys == want


@pytest.mark.parametrize(("keys", "named"), [
    ({"poll.now": "ctrl+r"}, "'poll.now' is not a binding id"),
    ({"app.pol": "ctrl+r"}, "did you mean 'app.poll'"),
    ({"app.poll": "ctrl+rr"}, "app.poll = 'ctrl+rr': not a key"),
    ({"app.poll": "hyper+banana"}, "app.poll = 'hyper+banana'"),
    ({"app.poll": "ctrl+ctrl+r"}, "app.poll = 'ctrl+ctrl+r'"),
    ({"app.poll": ""}, "app.poll: give a key"),
    ({"app.poll": "r,,f5"}, "app.poll = 'r,,f5'"),
])
def test_a_bad_entry_is_an_error_naming_it(keys: dict[str, str], named: str, tmp_path: Path):
    with pytest.raises(KeymapError, match=re.escape(named)):
        check_keymap(keys)
    cfg = tmp_path / "config.toml"
    (bid, key), = keys.items()
    cfg.write_text(f'[keys]\n"{bid}" = "{key}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert f"{cfg}: keys:" in str(err.value) and named.split(" ")[0].strip("'") in str(
        err.value)


def test_a_bad_entry_stops_the_command_line_with_one_message(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture):
    from noc_tui.cli import main

    cfg = tmp_path / "config.toml"
    cfg.write_text('[keys]\n"poll.now" = "ctrl+r"\n')
    assert main(["--config", str(cfg), "--cache", str(tmp_path / "c.db"), "export",
                 "carriers"]) == 2
    err = capsys.readouterr().err
    assert "poll.now" in err and str(cfg) in err and "Traceback" not in err


def test_the_examples_keys_are_real():
    text = (ROOT / "config.example.toml").read_text()
    section = text.split("[keys]", 1)[1]
    examples = "\n".join(line.removeprefix("# ") for line in section.splitlines()
                         if line.startswith('# "'))
    keys = tomllib.loads(examples)
    assert keys and set(keys) <= ALL_IDS
    assert check_keymap(keys)


async def test_help_lists_every_key_by_screen_a_legend_and_the_remapping(tmp_path: Path):
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.export import screen_text
    from noc_tui.ui.help import HelpScreen
    from noc_tui.ui.render import settle

    cache = build_cache(tmp_path / "c.db", calls=200)
    settings = ui_settings(tmp_path).model_copy(update={"keys": {"app.pause": "f9"}})
    app = NocApp(settings, cache, clock=lambda: FROZEN_NOW, watch_interval_s=0,
                 config_path=Path("/etc/noc-tui/config.toml"))
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        app.open_carrier("tier1")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        body = str(app.screen.query_one("#help-body").render())
        assert {r[2] for r in app.screen.rows} == set(ALL_IDS)
        groups = [line for line in body.splitlines() if line in (
            "carrier (here)", "everywhere", "tables", "carrier list", "call",
            "calls to a number", "export dialog", "help", "search", "alarms",
            "trunk groups", "trunk group", "delivery chain")]
        assert groups[0] == "carrier (here)" and len(groups) == len(BINDING_IDS)
        assert any(line.startswith("f9") and "app.pause" in line for line in body.splitlines())
        legend = body.split("Columns and figures", 1)[1]
        for name in ("Hlth", "CF", "FO out", "FO in", "NER", "SDC", "NO_RING",
                     "SHORT_CALLS", "NEVER_404", "ANSWERS_UNALLOCATED", "ASR", "Halt"):
            line = next(x for x in legend.splitlines() if x.startswith(name + " "))
            assert len(line.split(None, 1)[1]) > 20, line  # a definition, one line
        assert "DOWN CF >= 100" in legend and "SDC" in legend and "<= 6 s" in legend
        assert "[keys]" in body and '"app.poll" = "ctrl+r"' in body
        assert "/etc/noc-tui/config.toml" in body
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f9")
        assert app.paused
        assert "Help" in screen_text(app)
