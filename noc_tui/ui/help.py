"""The help screen (`?`, F1): every key by screen (the one it was opened on first), a
legend of every column and figure with its definition and threshold, one line each,
and how to remap keys in the config's [keys] section by the ids shown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from noc_tui.keymap import BINDING_IDS
from noc_tui.ui.host import host
from noc_tui.ui.widgets.key_hints import key_text

if TYPE_CHECKING:
    from textual.app import App

KEY_W, DOES_W = 14, 34
TABLE_KEYS = (("Enter", "open the row (a carrier, a call, a number's calls)"),
              ("↑ ↓ PgUp PgDn", "move; past the last row: the next page (failover)"),
              ("← →", "the columns that did not fit (the pinned ones stay)"),
              ("click header", "sort by it; again: the other way"))


def _bindings_by_group(app: App) -> dict[str, list[Binding]]:
    """Every binding of the dashboard, by the group keymap.BINDING_IDS names."""
    from noc_tui.ui.alarm_screen import AlarmScreen
    from noc_tui.ui.call_screen import CallScreen
    from noc_tui.ui.carrier.screen import CarrierScreen
    from noc_tui.ui.carrier_list import CarrierListScreen
    from noc_tui.ui.export import ExportDialog
    from noc_tui.ui.number_calls import NumberCallsScreen
    from noc_tui.ui.search_screen import SearchScreen
    from noc_tui.ui.trunk_group.chain import DeliveryChainScreen
    from noc_tui.ui.trunk_group.screen import TrunkGroupScreen
    from noc_tui.ui.trunk_list import TrunkGroupListScreen
    from noc_tui.ui.widgets import NavTable

    owners: list[Any] = [type(app), NavTable, CarrierListScreen, CarrierScreen, CallScreen,
                         NumberCallsScreen, ExportDialog, HelpScreen, AlarmScreen, SearchScreen,
                         TrunkGroupListScreen, TrunkGroupScreen, DeliveryChainScreen]
    found: dict[str, Binding] = {}
    for owner in owners:
        for b in owner.BINDINGS:
            if isinstance(b, Binding) and b.id:
                found.setdefault(b.id, b)
    return {group: [found[i] for i in ids if i in found] for group, ids in BINDING_IDS.items()}


def binding_rows(app: App, group: str | None = None) -> list[tuple[str, str, str]]:
    """(keys, what it does, binding id) of every binding, or of one group's."""
    rows = []
    for name, bindings in _bindings_by_group(app).items():
        if group is None or name == group:
            rows += [(key_text(app, b), b.description or b.action.replace("_", " "),
                      b.id or "") for b in bindings]
    return rows


def screen_group(screen: Screen) -> str:
    """The group of keys of the screen help was opened on."""
    name = type(screen).__name__
    return {"CarrierListScreen": "carrier list", "CarrierScreen": "carrier",
            "CallScreen": "call", "NumberCallsScreen": "calls to a number",
            "AlarmScreen": "alarms", "SearchScreen": "search",
            "TrunkGroupListScreen": "trunk groups", "TrunkGroupScreen": "trunk group",
            "DeliveryChainScreen": "delivery chain"}.get(
        name, "everywhere")


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def legend(settings: Any, window: str) -> list[tuple[str, str]]:
    """(column or figure, its definition and threshold): one line each (docs/metrics.md
    has them in full)."""
    al, hs, m = settings.alarms, settings.health, settings.metrics
    return [
        ("!", f"alarm: CF >= {al.consecutive_failures}, ASR < {_pct(al.asr_floor)} over >= "
              f"{al.asr_min_attempts} att, Halt >= {al.halt_violations}"
              + (", FAS suspect" if al.fas_suspect else "")),
        ("Hlth", f"DOWN CF >= {hs.down_consecutive_failures}; SUSP FAS or Halt >= "
                 f"{al.halt_violations}; DEGR ASR < {_pct(hs.degraded_asr)} (>= "
                 f"{hs.degraded_min_attempts} att) or CF >= "
                 f"{hs.degraded_consecutive_failures}; — unknown (no failed attempts "
                 "in the records); else ok"),
        ("Att", f"attempts in the {window} window (each carrier tried for a call)"),
        ("ASR", "answer-seizure ratio: attempts answered 2xx / attempts"),
        ("ACD", "average call duration: seconds of the answered attempts / answered"),
        ("PDD", "post-dial delay: mean time from INVITE to the first 180/183, ms"),
        ("NER", "network effectiveness: answered or user-busy codes / attempts less 3xx"),
        ("CF", "consecutive failures: non-2xx attempts since the last 2xx (any time)"),
        ("FO out", "calls that failed here and connected on another carrier"),
        ("FO in", "calls answered here after another carrier failed"),
        ("Halt", "halt violations: FO out after a halt code (default "
                 f"{', '.join(str(c) for c in m.halt_codes)}): a misrouting switch"),
        ("FAS", f"false answer flags (of 4); FAS n: suspect, >= {m.fas_min_flags} flags"),
        ("Consist", "code consistency: share of numbers where 2xx/404 agrees with others"),
        ("Status", "the carrier's status on the switch (active, inactive...)"),
        ("Minutes", "minutes of all attempts; Connected: attempts answered 2xx"),
        ("Cost", "answered calls at the carrier's rate card, to its currency's cents"),
        ("Unrated", "answered calls no rate row prices (not in Cost)"),
        ("Counter", "consecutive failures after that attempt (reset: a 2xx)"),
        ("SDC", f"short-duration calls: answered and <= {m.sdc_max_s} s, share of answered"),
        ("NO_RING", f"FAS flag: >= {_pct(m.fas_no_ring_ratio)} of answered had no 180/183"
                    f" (>= {m.fas_min_connected} answered)"),
        ("SHORT_CALLS", f"FAS flag: SDC >= {_pct(m.fas_short_ratio)} of answered (>= "
                        f"{m.fas_min_connected} answered)"),
        ("NEVER_404", f"FAS flag: no 404 in >= {m.never_404_min_attempts} att while "
                      f"others' 404 >= {m.fas_never_404_others_ratio:.0%}"),
        ("ANSWERS_UNALLOCATED", f"FAS flag: answered >= {m.fas_unallocated_min_numbers} "
                                "numbers the others say do not exist"),
        ("Hlth (trunk groups)", f"DOWN registered on no edge; DEGR a delivery lost, or "
                                f"1st try < {_pct(hs.degraded_first_try)} (>= "
                                f"{hs.degraded_min_attempts} deliveries); — nothing known"),
        ("Reg", "registration per edge in the group's order: ✓ registered, ✗ not (now)"),
        ("Offered", "deliveries whose first attempt started in the window"),
        ("1st try", "answered on the first attempt / offered less abandoned"),
        ("Deliv", "answered on any attempt / offered less abandoned"),
        ("FO t2/bkp/num/dp", "answered after failover via trunk2, the backup PBX, the "
                             "failover number, the dial plan"),
        ("Lost", "deliveries not answered, not refused by the callee, not abandoned"),
        ("Findings", "F1-F11: the switch did not follow the group's policy, or a risk "
                     "(the Findings tab says each in words)"),
        ("Sent", "sent: the INVITE went out; local: the switch decided without sending "
                 "(404 not registered, 503 channel limit)"),
        ("new", "• marks a call that came in since you last looked at the list"),
        ("times", "every time is UTC, YYYY-MM-DD HH:MM:SS"),
        ("+s", "call time line: s after the first INVITE; ≤: before the next INVITE; "
               "?: not in the record (an answer's time)"),
    ]


def _line(*cells: tuple[str, int, str]) -> Text:
    t = Text(no_wrap=False)
    for text, width, style in cells:
        t.append(text.ljust(width) if width else text, style=style)
    t.append("\n")
    return t


def help_text(app: App, opened_on: str, config_path: str, settings: Any,
              window: str) -> Text:
    out = Text()
    groups = _bindings_by_group(app)
    order = [opened_on, *(g for g in groups if g != opened_on)]
    out.append("Keys, by screen (this one first). Binding id: what [keys] remaps.\n",
               style="bold")
    for group in order:
        bindings: Iterable[Binding] = groups.get(group, [])
        out.append(f"{group}{' (here)' if group == opened_on else ''}\n",
                   style="bold underline")
        for b in bindings:
            out.append_text(_line((key_text(app, b), KEY_W, "bold"),
                                  (b.description or b.action, DOES_W, ""),
                                  (b.id or "", 0, "dim")))
        if group == "tables":  # the table's own keys, which are not remapped
            for keys, does in TABLE_KEYS:
                out.append_text(_line((keys, KEY_W, "bold"), (does, 0, "")))
    out.append("\nColumns and figures (thresholds from the config)\n", style="bold")
    for name, what in legend(settings, window):
        out.append_text(_line((name, 12 if len(name) <= 11 else len(name) + 1, "bold"),
                              (what, 0, "")))
    out.append("\nRemapping keys\n", style="bold")
    out.append(f"In the [keys] section of {config_path}, by binding id:\n")
    out.append('  [keys]\n  "app.poll" = "ctrl+r"\n  "table.sort" = "o,f6"\n', style="bold")
    out.append("A key is a name (ctrl+r, f5, escape, question_mark) or one character; "
               "an unknown id or key stops noc-tui with a message naming it.\n")
    out.append("Enter drills down (carrier, call); Esc or q goes back, once a filter in "
               "force is cleared; ctrl+q quits.")
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 100; max-width: 100%; height: 100%; border: round $primary;
        background: $surface; }
    HelpScreen #help-title { height: 1; padding: 0 1; text-style: bold; }
    HelpScreen VerticalScroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, opened_on: str) -> None:
        super().__init__()
        self.opened_on = opened_on
        self.rows: list[tuple[str, str, str]] = []

    def compose(self) -> ComposeResult:
        app = host(self)
        self.rows = binding_rows(self.app)
        with Vertical():
            yield Static(Text(f"Help: {self.opened_on}   (↑↓ PgUp PgDn scroll, Esc closes)"),
                         id="help-title")
            with VerticalScroll():
                yield Static(help_text(self.app, self.opened_on, str(app.config_path),
                                       app.settings, app.window), id="help-body")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
