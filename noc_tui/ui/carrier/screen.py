"""The carrier screen: the head (facts, a 24 h sparkline), and the Main and Failover tabs.

The head (facts, sparkline, contacts) loads first, in one worker, so Enter on a
carrier shows a complete screen at once; every other part loads the first time its
tab is shown, each in its own worker group, and reloads when new data arrives. Each
part is its own module (head.py, and one per tab); this screen composes them, runs
their reads and turns keys into tab changes and reloads.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, TabbedContent, TabPane

from noc_tui.analytics.export import (
    FAILOVER_COLUMNS,
    SUMMARY_COLUMNS,
    failover_doc,
    summary_doc,
)
from noc_tui.analytics.views import WINDOWS
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.consistency import ConsistencyPane
from noc_tui.ui.carrier.contacts import ContactsPane
from noc_tui.ui.carrier.failover import PAGE, FailoverPane
from noc_tui.ui.carrier.failures import FailuresPane
from noc_tui.ui.carrier.head import CarrierHead
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.carrier.rates import RatesPane
from noc_tui.ui.carrier.summary import SummaryPane
from noc_tui.ui.export import Snapshot, table_snapshot
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import LoadFailed, PartLoaded
from noc_tui.ui.reused_screen import ReusedScreen
from noc_tui.ui.widgets import HeaderBar, KeyHints, NavTable
from noc_tui.ui.widgets.tab_filter import TabFilter

# Actions that act on one tab only (check_action).
TAB_ONLY = {"cycle_period": "summary", "toggle_direction": "failover",
            "toggle_halt": "failover", "toggle_fas": "failover", "page": "failover"}
TAB_KEYS = {"1": "contacts", "2": "rates", "3": "consistency", "4": "failures",
            "5": "summary", "6": "failover"}
__all__ = ["PAGE", "TAB_KEYS", "CarrierScreen"]


class CarrierScreen(ReusedScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="carrier.back"),
        *(Binding(k, f"tab('{v}')", v.title(), show=False, id=f"carrier.tab_{v}")
          for k, v in TAB_KEYS.items()),
        Binding("slash", "filter", "Filter", id="carrier.filter"),
        Binding("w", "cycle_window", "Window", id="carrier.window"),
        Binding("t", "cycle_period", "Period", id="carrier.period"),
        Binding("i", "toggle_direction", "Out/In", id="carrier.direction"),
        Binding("h", "toggle_halt", "Halt only", id="carrier.halt_only"),
        Binding("f", "toggle_fas", "FAS only", id="carrier.fas_only"),
        Binding("right_square_bracket", "page(1)", "Next page", show=False,
                id="carrier.next_page"),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False,
                id="carrier.prev_page"),
        Binding("c", "copy", "Copy call id", id="carrier.copy"),
    ]

    DEFAULT_CSS = """
    CarrierScreen #outer { height: 1fr; }
    CarrierScreen TabbedContent ContentSwitcher { height: 1fr; }
    CarrierScreen TabPane { padding: 0; height: 1fr; }
    """

    def __init__(self, carrier_id: str) -> None:
        super().__init__()
        self.head_part = CarrierHead()
        self.contacts = ContactsPane()
        self.rates = RatesPane()
        self.summary = SummaryPane()
        self.failover = FailoverPane()
        self.tab_parts: dict[str, CarrierPart] = {p.PART: p for p in (
            self.contacts, self.rates, ConsistencyPane(), FailuresPane(), self.summary,
            self.failover)}
        self._reset(carrier_id)

    def _reset(self, carrier_id: str) -> None:
        self.carrier_id = carrier_id
        self.loaded: dict[str, int] = {}  # part -> generation it was loaded for
        self.pending: set[str] = set()
        self.asked: dict[str, int] = {}  # each part's latest read (PartLoaded.ticket)

    @property
    def noc(self) -> Host:
        return host(self)

    # What the tabs show now: the export's name, render.py and the key tests read it.
    @property
    def period(self) -> str:
        return self.summary.period

    @property
    def direction(self) -> str:
        return self.failover.direction

    @property
    def halt_only(self) -> bool:
        return self.failover.halt_only

    @property
    def fo_offset(self) -> int:
        return self.failover.row_offset

    @property
    def fo_total(self) -> int:
        return self.failover.row_total

    @property
    def rate_prefix(self) -> str:
        return self.rates.prefix

    def _crumb(self) -> Text:
        crumb = Text("Carriers › ")
        crumb.append_text(fmt.lit(self.noc.carrier_names.get(self.carrier_id, self.carrier_id)))
        return crumb

    def compose(self) -> ComposeResult:
        yield HeaderBar(self._crumb())
        yield self.head_part
        parts = self.tab_parts
        with TabbedContent(id="outer", initial="main"):
            with TabPane("Main", id="main"), TabbedContent(id="parts", initial="contacts"):
                # Only the first tab's widgets are there from the start; the others are
                # mounted the first time they are shown (CarrierPart).
                yield from (parts[p] for p in ("contacts", "rates", "consistency", "failures",
                                               "summary"))
            yield parts["failover"]
        yield TabFilter(self._filter_table, self._filtered, id="tab-filter")
        yield KeyHints()

    def _fit_width(self) -> None:
        self.head_part.set_class(self.app.size.width < 100, "-compact")

    def on_mount(self) -> None:
        self._fit_width()
        self.hold_paint()
        self.load_part("head")
        self.query_one("#t-contacts").focus()

    def on_screen_suspend(self) -> None:
        for part in self.tab_parts.values():
            part.end_look()  # what was listed counts as seen

    def show_carrier(self, carrier_id: str) -> None:
        """Make this (installed, not shown) screen show another carrier, as if new: the
        app reuses one carrier screen instead of composing one per Enter."""
        self._reset(carrier_id)
        self._fit_width()
        self.query_one(HeaderBar).set_crumb(self._crumb())
        self.head_part.reset()
        for part in self.tab_parts.values():
            part.reset()
        self.query_one("#outer", TabbedContent).active = "main"
        self.query_one("#parts", TabbedContent).active = "contacts"
        self.query_one(TabFilter).show_tab()
        self.hold_paint()
        self.load_part("head")
        self.query_one("#t-contacts").focus()

    def on_resize(self) -> None:
        self._fit_width()

    # -- loading -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.load_part("head")
        current = self.current_part()
        if current != "contacts":
            self.load_part(current)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A key that acts on one tab works only on that tab: it never switches tabs
        # behind the operator's back. Elsewhere it is disabled (None): help still
        # lists it, the footer leaves it out.
        tab = TAB_ONLY.get(action)
        if tab is None or not self.is_mounted or self.current_part() == tab:
            return True
        return None

    def current_part(self) -> str:
        outer = self.query_one("#outer", TabbedContent).active
        if outer == "failover":
            return "failover"
        return self.query_one("#parts", TabbedContent).active or "contacts"

    async def ensure_part(self, part: str) -> None:
        """Mount a part's widgets the first time it is needed."""
        if part != "head":
            await self.tab_parts[part].ensure_mounted()

    def load_part(self, part: str) -> None:
        self.pending.add(part)
        if part == "head":
            self._load_head()
        else:
            self._load(part, self.tab_parts[part])

    def _load_head(self) -> None:
        """The head, with the contacts: Enter on a carrier shows a complete screen."""
        self._load("head", self.head_part)

    def _load(self, part: str, source: CarrierHead | CarrierPart) -> None:
        """Read a part for the carrier shown, in a worker of its own group (a newer read
        of the same part replaces an older one); PartLoaded brings it back."""
        app, carrier_id = self.noc, self.carrier_id
        ticket = self.asked[part] = self.asked.get(part, 0) + 1

        def read() -> None:
            try:
                with app.reader() as cache:
                    data = source.read(cache, app, carrier_id)
            except Exception as exc:
                self.post_message(LoadFailed(f"carrier {part}", str(exc)))
                return
            self.post_message(PartLoaded(carrier_id, part, data, app.generation, ticket))

        self.run_worker(read, name=f"load {part}", group=part, exclusive=True, thread=True)

    async def on_part_loaded(self, msg: PartLoaded) -> None:
        # exclusive=True cancels an older worker, but a thread already reading still
        # posts: only the latest read of a part is shown.
        if msg.carrier_id != self.carrier_id or msg.ticket != self.asked.get(msg.part):
            return
        await self.ensure_part(msg.part)
        self.pending.discard(msg.part)
        self.loaded[msg.part] = msg.generation
        if msg.part == "head":
            self.head_part.show_data(msg.data)
            self.contacts.show_data(msg.data["contacts"])
            self.release_paint()
        else:
            self.tab_parts[msg.part].show_data(msg.data)

    def show_list_row(self, rows: dict[str, dict[str, Any]]) -> None:
        """The carrier list of the current window arrived (NocApp.list_loaded)."""
        self.head_part.show_list_row(rows)

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.pending.discard(msg.what.removeprefix("carrier "))
        self.release_paint()
        self.noc.load_failed(msg)

    @on(TabbedContent.TabActivated)
    async def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        part = self.current_part()
        self.refresh_bindings()  # the keys of this tab (check_action)
        self.query_one(TabFilter).show_tab()
        for name, other in self.tab_parts.items():
            if name != part:
                other.end_look()
        if part in ("contacts",):
            return
        await self.ensure_part(part)
        if self.loaded.get(part) != self.noc.generation and part not in self.pending:
            self.load_part(part)
        elif part not in self.pending:
            self.tab_parts[part].shown_again()
        table = self.query(f"#t-{part}")
        focused = self.focused
        if table and not (focused is not None and focused.id == "rate-prefix"):
            table.first().focus()

    # -- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.rates.prefix_focused:
            self.rates.leave_prefix()
            return
        # Esc clears the tab's filter first, in the box or kept with Enter (as the lists
        # do, a k9s habit); with none on, it goes back.
        if not self.query_one(TabFilter).clear():
            self.app.pop_screen()

    def action_tab(self, part: str) -> None:
        # Nothing keeps focus while the tabs switch: Textual would move the focus off a
        # hidden table to the next widget of the same hidden tab, whose focus message
        # switches back to that tab (a `/` typed at once then opened the wrong filter).
        # _tab_shown focuses the new tab's table.
        self.set_focus(None)
        outer = self.query_one("#outer", TabbedContent)
        if part == "failover":
            outer.active = "failover"
        else:
            outer.active = "main"
            self.query_one("#parts", TabbedContent).active = part
        if part == "contacts":
            self.query_one("#t-contacts").focus()

    async def action_filter(self) -> None:
        """`/` filters the table of the tab shown (the rate grid: by number prefix)."""
        part = self.current_part()
        if part == "rates":
            await self.ensure_part("rates")
            self.rates.enter_prefix()
            return
        if not self.query_one(TabFilter).open():
            self.app.bell()

    def _filter_table(self) -> NavTable | None:
        """The table `/` filters on the tab shown (the rate grid's is its prefix)."""
        part = self.current_part()
        return None if part == "rates" else next(
            iter(self.query(f"#t-{part}").results(NavTable)), None)

    def _filtered(self) -> None:
        self.tab_parts[self.current_part()].filter_changed()

    @on(Input.Changed, "#rate-prefix")
    def _prefix_changed(self, event: Input.Changed) -> None:
        self.rates.prefix = event.value
        self.load_part("rates")

    async def action_cycle_period(self) -> None:
        await self.ensure_part("summary")
        self.summary.cycle_period()

    async def _reload_failover(self, cursor: str | None = "top") -> None:
        await self.ensure_part("failover")
        self.failover.page_cursor = cursor
        self.load_part("failover")

    async def action_toggle_direction(self) -> None:
        self.failover.toggle_direction()
        await self._reload_failover()

    async def action_toggle_halt(self) -> None:
        self.failover.toggle_halt()
        await self._reload_failover()

    async def action_toggle_fas(self) -> None:
        self.failover.toggle_fas()
        await self._reload_failover()

    async def action_page(self, step: int) -> None:
        if self.current_part() != "failover" or not self.failover.turn_page(step):
            self.app.bell()
            return
        await self._reload_failover("top" if step > 0 else "bottom")

    @on(NavTable.SortChanged, "#t-failover")
    async def _failover_sorted(self, event: NavTable.SortChanged) -> None:
        self.failover.set_sort(event.key, event.flipped)
        await self._reload_failover()

    def action_cycle_window(self) -> None:
        from noc_tui.analytics.views import WINDOWS

        names = list(WINDOWS)
        self.noc.set_window(names[(names.index(self.noc.window) + 1) % len(names)])

    @on(NavTable.EdgeReached, "#t-failover")
    async def _edge(self, event: NavTable.EdgeReached) -> None:
        await self.action_page(event.direction)

    @on(DataTable.RowSelected)
    def _open_call(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if isinstance(table, NavTable) and table.id in ("t-failover", "t-failures"):
            raw = table.cursor_raw()
            if raw and raw.get("call_id"):
                self.noc.open_call(raw["call_id"])
        elif isinstance(table, NavTable) and table.id == "t-consistency":
            raw = table.cursor_raw()  # a number: the calls behind its verdict
            if raw and raw.get("dst"):
                from noc_tui.ui.number_calls import NumberCallsScreen

                self.app.push_screen(NumberCallsScreen(raw["dst"], self.carrier_id))

    def action_copy(self) -> None:
        focused = self.focused
        raw = focused.cursor_raw() if isinstance(focused, NavTable) else None
        self.noc.copy_call_id(raw.get("call_id") if raw else None)

    # -- export --------------------------------------------------------------------------

    def export_name(self) -> str:
        part = self.current_part()
        if part == "summary":
            part = f"summary-{self.period}"
        elif part == "failover":
            part = f"failover-{self.direction}"
        return f"carrier-{self.carrier_id}-{part}"

    def export_data(self) -> Snapshot | None:
        """The tab's table as the command line exports it (summary, failover), or as a
        table of its own (the other tabs)."""
        part = self.current_part()
        cols, rows = self.query_one(f"#t-{part}", NavTable).export_rows()
        rows = [r for r in rows if r]
        if not rows:
            return None
        now, window_s = self.noc.now(), WINDOWS[self.noc.window]
        if part == "summary":
            currency = self.summary.currency
            doc = summary_doc(self.carrier_id, self.period, rows, now, currency)
            return Snapshot(doc, doc["rows"], list(SUMMARY_COLUMNS), currency)
        if part == "failover":
            doc = failover_doc(self.carrier_id, self.direction, rows, now, window_s)
            return Snapshot(doc, doc["calls"], list(FAILOVER_COLUMNS[self.direction]))
        return table_snapshot(self.export_name(), cols, rows, now, window_s)
