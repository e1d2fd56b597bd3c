"""The trunk-group screen: its configuration atop, and the tabs DIDs, Deliveries,
Registrations, Findings and Summary.

The head and the first tab load at once, in one worker, and the screen is painted once
they are shown (ReusedScreen.hold_paint: no "Loading…" frame first); every other tab
loads the first time it is shown and again when new data arrives (the carrier
screen's parts, ui/carrier/part.py, do the same, and these tabs are such parts).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, TabbedContent

from noc_tui.analytics.trunk_group import triggers_short
from noc_tui.analytics.views import WINDOWS
from noc_tui.records import inbound as ib
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.export import Snapshot, table_snapshot
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import LoadFailed, PartLoaded
from noc_tui.ui.reused_screen import ReusedScreen
from noc_tui.ui.trunk_group.deliveries import DEFAULT, DeliveriesPane
from noc_tui.ui.trunk_group.dids import DidsPane
from noc_tui.ui.trunk_group.findings import FindingsPane
from noc_tui.ui.trunk_group.registrations import RegistrationsPane
from noc_tui.ui.trunk_group.summary import TrunkSummaryPane
from noc_tui.ui.trunk_list import inbound_now
from noc_tui.ui.widgets import HeaderBar, KeyHints, NavTable, Note
from noc_tui.ui.widgets.tab_filter import TabFilter

TAB_KEYS = {"1": "dids", "2": "deliveries", "3": "registrations", "4": "findings",
            "5": "summary"}
# Actions that act on one tab only (check_action): elsewhere their key does nothing.
TAB_ONLY = {"cycle_outcome": "deliveries", "cycle_trigger": "deliveries",
            "cycle_period": "summary"}


def head_text(facts: dict[str, Any] | None, style_of: Any) -> Text:
    """The group's configuration and registration, one short line each."""
    if facts is None:
        return Text("This trunk group is not in the cache.", style="dim")
    t = Text()
    t.append_text(fmt.lit(facts["name"] or facts["id"], "bold"))
    if facts["customer"]:
        t.append("  customer ")
        t.append_text(fmt.lit(facts["customer"]))
    t.append("  policy ")
    t.append_text(fmt.lit(facts["policy"] or "none (known only from its data)"))
    t.append("\nregistered:")
    states = facts["edge_states"]
    if not states:
        t.append("no edge known", style="dim")
    for s in states:
        t.append(" ")
        t.append_text(fmt.lit(s["edge"]))
        t.append(" ✓" if s["registered"] else " ✗",
                 style="bold " + style_of("fine" if s["registered"] else "down"))
    # The group's own chain under its policy (a DID's own backup or number: DIDs tab):
    # trunk2 for registered_then_trunk2, which uses no backup, number or dial plan.
    group = ib.GroupConfig(facts["policy"], tuple(facts["edges"]), facts["backup_pbx"],
                           facts["global_failover_number"], facts["dial_plan"])
    labels = {"trunk2": "trunk2", "backup_pbx": f"backup {facts['backup_pbx']}",
              "failover_number": f"number {facts['global_failover_number']}",
              "dial_plan": f"dial plan {facts['dial_plan']}"}
    steps = [labels[kind] for kind in ib.chain(group, ib.NO_DID)[1:]]
    if facts["policy"] is not None:
        t.append(f"  no-1xx timeout {facts['no_1xx_timeout_s']:g} s")
        limit = facts["channel_limit"]
        t.append(f"  channel limit {limit:,}" if limit else "  no channel limit")
        t.append("\nfailover on " + triggers_short(facts["failover_triggers"]) + " to ")
        t.append_text(fmt.lit(", then ".join(steps) if steps else "nothing configured"))
    return t


class TrunkGroupScreen(ReusedScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="tg.back"),
        *(Binding(k, f"tab('{v}')", "DIDs" if v == "dids" else v.title(), show=False,
                  id=f"tg.tab_{v}") for k, v in TAB_KEYS.items()),
        Binding("slash", "filter", "Filter", id="tg.filter"),
        Binding("w", "cycle_window", "Window", id="tg.window"),
        Binding("o", "cycle_outcome", "Outcome", id="tg.outcome"),  # on Deliveries
        Binding("t", "cycle_trigger", "Trigger", id="tg.trigger"),  # on Deliveries
        Binding("t", "cycle_period", "Period", id="tg.period"),  # on Summary
    ]

    DEFAULT_CSS = """
    TrunkGroupScreen #tg-head { height: auto; max-height: 6; padding: 0 1;
        background: $surface; }
    TrunkGroupScreen #tg-tabs { height: 1fr; }
    TrunkGroupScreen TabbedContent ContentSwitcher { height: 1fr; }
    TrunkGroupScreen TabPane { padding: 0; height: 1fr; }
    """

    def __init__(self, gid: str, name: str | None = None) -> None:
        super().__init__()
        self.gid = gid
        self.name_shown = name or gid
        self.deliveries = DeliveriesPane()
        self.summary = TrunkSummaryPane()
        self.tab_parts: dict[str, CarrierPart] = {p.PART: p for p in (
            DidsPane(), self.deliveries, RegistrationsPane(), FindingsPane(), self.summary)}
        self.loaded: dict[str, int] = {}  # part -> generation it was loaded for
        self.pending: set[str] = set()
        self.asked: dict[str, int] = {}  # each part's latest read (PartLoaded.ticket)

    def show_group(self, gid: str, name: str | None = None) -> None:
        """Make this (installed, not shown) screen show another group, as if new: the
        app reuses one such screen instead of composing its tabs on every Enter."""
        self.gid, self.name_shown = gid, name or gid
        self.loaded, self.pending = {}, set()
        crumb = Text("Trunk groups › ")
        crumb.append_text(fmt.lit(self.name_shown))
        self.query_one(HeaderBar).set_crumb(crumb)
        self.query_one("#tg-head", Note).update("Loading…")
        for part in self.tab_parts.values():
            part.reset()
        self.deliveries.outcome, self.deliveries.trigger = DEFAULT, "any"
        tabs = self.query_one("#tg-tabs", TabbedContent)
        with tabs.prevent(TabbedContent.TabActivated):
            tabs.active = "dids"
        self.query_one(TabFilter).show_tab()
        self.hold_paint()
        self.load_head()
        self.query_one("#t-dids").focus()

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        crumb = Text("Trunk groups › ")
        crumb.append_text(fmt.lit(self.name_shown))
        yield HeaderBar(crumb)
        yield Note("Loading…", id="tg-head")
        with TabbedContent(id="tg-tabs", initial="dids"):
            for name, part in self.tab_parts.items():
                if name == "dids":  # the first tab's table from the start: one layout
                    with part:
                        yield from part.widgets()
                else:
                    yield part
        yield TabFilter(lambda: self._tab_table(self.current_part()), self._filtered,
                        id="tg-filter")
        yield KeyHints()

    def on_mount(self) -> None:
        self.hold_paint()
        self.load_head()
        self.query_one("#t-dids").focus()

    # -- loading -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.load_head()
        if self.current_part() != "dids":
            self.load_part(self.current_part())

    def load_head(self) -> None:
        """The head with the DIDs tab, in one read: Enter shows a complete screen."""
        self.pending |= {"head", "dids"}
        self._read_head(self.tab_parts["dids"], self._ticket("head"), self._ticket("dids"))

    def _ticket(self, part: str) -> int:
        """A new read of `part`: a worker cancelled while reading still posts its
        answer, and only the latest read's answer is shown."""
        ticket = self.asked[part] = self.asked.get(part, 0) + 1
        return ticket

    @work(thread=True, exclusive=True, group="head")
    def _read_head(self, dids: CarrierPart, head_ticket: int, dids_ticket: int) -> None:
        from noc_tui.analytics.trunk_group import group_facts

        app, gid = self.noc, self.gid
        try:
            with app.reader() as cache:
                facts = group_facts(cache, gid, inbound_now(app), WINDOWS[app.window])
                did_rows = dids.read(cache, app, gid)
        except Exception as exc:
            self.post_message(LoadFailed("trunk group head", str(exc)))
            return
        self.post_message(PartLoaded(gid, "head", facts, app.generation, head_ticket))
        self.post_message(PartLoaded(gid, "dids", did_rows, app.generation, dids_ticket))

    def load_part(self, part: str) -> None:
        """Read a tab for the group shown, in a worker of its own group (a newer read of
        the same tab replaces an older one); PartLoaded brings it back."""
        app, gid, source = self.noc, self.gid, self.tab_parts[part]
        self.pending.add(part)
        ticket = self._ticket(part)

        def read() -> None:
            try:
                with app.reader() as cache:
                    data = source.read(cache, app, gid)
            except Exception as exc:
                self.post_message(LoadFailed(f"trunk group {part}", str(exc)))
                return
            self.post_message(PartLoaded(gid, part, data, app.generation, ticket))

        self.run_worker(read, name=f"load {part}", group=part, exclusive=True, thread=True)

    async def on_part_loaded(self, msg: PartLoaded) -> None:
        if msg.carrier_id != self.gid or msg.ticket != self.asked.get(msg.part):
            return  # read for the group shown before, or a newer read was asked
        self.pending.discard(msg.part)
        if msg.part == "head":
            self.query_one("#tg-head", Note).update(head_text(msg.data, self.noc.health_style))
            if msg.data and msg.data["name"]:
                self.name_shown = msg.data["name"]
                crumb = Text("Trunk groups › ")
                crumb.append_text(fmt.lit(self.name_shown))
                self.query_one(HeaderBar).set_crumb(crumb)
            return
        await self.tab_parts[msg.part].ensure_mounted()
        self.loaded[msg.part] = msg.generation
        self.tab_parts[msg.part].show_data(msg.data)
        if msg.part == "dids":  # the head came just before, from the same read
            self.release_paint()

    def on_load_failed(self, msg: LoadFailed) -> None:
        part = msg.what.removeprefix("trunk group ")
        self.pending -= {"head", "dids"} if part == "head" else {part}
        self.release_paint()
        self.noc.load_failed(msg)

    def current_part(self) -> str:
        return self.query_one("#tg-tabs", TabbedContent).active or "dids"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False, not None: the key then reaches the other tab's action bound to it (t:
        # trigger on Deliveries, period on Summary); the footer leaves it out.
        tab = TAB_ONLY.get(action)
        return tab is None or not self.is_mounted or self.current_part() == tab

    @on(TabbedContent.TabActivated)
    async def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        part = self.current_part()
        self.refresh_bindings()
        self.query_one(TabFilter).show_tab()
        await self.tab_parts[part].ensure_mounted()
        if self.loaded.get(part) != self.noc.generation and part not in self.pending:
            self.load_part(part)
        table = self._tab_table(part)
        if table is not None:
            table.focus()

    # -- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        # Esc clears the tab's filter first, in the box or kept with Enter (as the lists
        # do, a k9s habit); with none on, it goes back.
        if not self.query_one(TabFilter).clear():
            self.app.pop_screen()

    def action_tab(self, part: str) -> None:
        # Focus let go first, as on the carrier screen: Textual would move it to another
        # widget of the hidden tab, whose focus message switches back to that tab.
        self.set_focus(None)
        self.query_one("#tg-tabs", TabbedContent).active = part

    def action_cycle_window(self) -> None:
        names = list(WINDOWS)
        self.noc.set_window(names[(names.index(self.noc.window) + 1) % len(names)])

    def action_cycle_outcome(self) -> None:
        self.deliveries.cycle_outcome()
        self.load_part("deliveries")

    def action_cycle_trigger(self) -> None:
        self.deliveries.cycle_trigger()
        self.load_part("deliveries")

    def action_cycle_period(self) -> None:
        self.summary.cycle_period()

    def _tab_table(self, part: str) -> NavTable | None:
        return next(iter(self.query(f"#t-{part}").results(NavTable)), None)

    def action_filter(self) -> None:
        """`/` filters the table of the tab shown (each tab keeps its own filter)."""
        if not self.query_one(TabFilter).open():
            self.app.bell()

    def _filtered(self) -> None:
        self.tab_parts[self.current_part()].filter_changed()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        from noc_tui.ui.trunk_group.chain import DeliveryChainScreen

        table = event.data_table
        raw = table.cursor_raw() if isinstance(table, NavTable) else None
        if not raw:
            return
        delivery = raw.get("delivery_id") if table.id == "t-deliveries" else (
            (raw.get("delivery_ids") or [None])[0] if table.id == "t-findings" else None)
        if delivery:
            self.app.push_screen(DeliveryChainScreen(delivery, self.name_shown))

    # -- export --------------------------------------------------------------------------

    def export_name(self) -> str:
        return f"trunk-group-{self.gid}-{self.current_part()}"

    def export_data(self) -> Snapshot | None:
        """The tab's table as shown (filter applied), under the screen's name."""
        table = self._tab_table(self.current_part())
        if table is None:
            return None
        cols, rows = table.export_rows()
        rows = [r for r in rows if r]
        if not rows:
            return None
        return table_snapshot(self.export_name(), cols, rows, inbound_now(self.noc),
                              WINDOWS[self.noc.window])
