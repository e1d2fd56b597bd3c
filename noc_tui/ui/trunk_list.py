"""The second top-level list: every trunk group's inbound delivery for the chosen window
(issue 15, section 4), in the carrier list's style."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from noc_tui.ui import cells as fmt
from noc_tui.ui.health_list import alarm_mark, count_part, filter_parts
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import LoadFailed, TrunkListLoaded
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note
from noc_tui.ui.widgets.columns import text_width, widened, widest_figure
from noc_tui.ui.widgets.key_focus import focus_now

if TYPE_CHECKING:
    from noc_tui.ui.export import Snapshot

HEALTH_RANK = {"down": 0, "degraded": 1, "unknown": 2, "fine": 3}
HEALTH_LABEL = {"down": "DOWN", "degraded": "DEGR", "unknown": "—", "fine": "ok"}
POLICY_SHORT = {"registered_then_trunk2": "trunk2", "backup_then_number": "backup+num",
                "dial_plan_on_triggers": "dial plan"}
VIA_COLS = (("trunk2", "FO t2"), ("backup_pbx", "FO bkp"), ("failover_number", "FO num"),
            ("dial_plan", "FO dp"))
# In the order shown; pinned: health, name, registration, offered, first try, lost; the
# others by rank as the width allows (left/right page through the rest). Sorting: the
# first sort on a column puts the worst first.
TRUNK_COLS = (
    Col("alarm", "!", 1, pin=True),
    Col("health", "Hlth", 4, pin=True, sort="asc", field="health_rank", hotkey="h"),
    Col("name", "Trunk group", 12, pin=True, grow=28, grow_rank=4, sort="asc",
        field="sort_name", hotkey="n"),
    Col("customer", "Customer", 10, rank=3, grow=10, sort="asc", hotkey="c"),
    Col("policy", "Policy", 10, rank=2, sort="asc", hotkey="p"),
    Col("registered", "Reg", 3, pin=True, sort="asc", field="reg_up", hotkey="r"),
    Col("offered", "Offered", 7, pin=True, sort="desc", hotkey="o"),
    Col("first_try_rate", "1st try", 7, pin=True, sort="asc", hotkey="f"),
    Col("delivery_rate", "Deliv", 6, rank=0, sort="asc", hotkey="d"),
    *(Col(f"via_{k}", label, len(label), rank=4, sort="desc") for k, label in VIA_COLS),
    Col("lost", "Lost", 4, pin=True, sort="desc", hotkey="l"),
    Col("findings", "Findings", 8, rank=1, sort="desc", field="n_findings", hotkey="i"),
    Col("id", "ID", 8, rank=6, grow=8, sort="asc", hotkey="x"),
)
COUNT_KEYS = ("offered", "lost", *(f"via_{k}" for k, _ in VIA_COLS))
NAME_WIDTH = 16  # a name this long is shown whole before any optional column
# The export: `noc-tui export trunks`' keys, with the customer, health and open alarms.
EXPORT_KEYS = ("id", "name", "customer", "health", "alarms", "policy", "offered",
               "answered_first_try", "answered_via", "refused", "abandoned", "lost",
               "first_try_rate", "delivery_rate", "primary_failures", "lost_by_trigger",
               "registered", "flaps", "findings")
EMPTY = ("No trunk groups in the cache yet.\n\nImport a folder holding trunk_groups.*, "
         "dids.*, registrations.* and deliveries.* files (noc-tui import FOLDER), or poll "
         "a switch that serves /api/v1/trunk_groups.")


def mark_alarms(rows: list[dict[str, Any]], opened: list[Any]) -> None:
    """Each row's open alarms (store.alarms.Alarm of trunk groups), kind -> what
    crossed: "alarms" those that want attention, "alarms_silenced" those acknowledged
    (as the carrier list marks its rows)."""
    by_group: dict[str, list[Any]] = {}
    for a in opened:
        by_group.setdefault(a.subject_id, []).append(a)
    for r in rows:
        mine = by_group.get(r["id"], ())
        r["alarms"] = {a.kind: a.last_message for a in mine if not a.silenced}
        r["alarms_silenced"] = {a.kind: a.last_message for a in mine if a.silenced}


def inbound_now(app: Host) -> int:
    """The instant a trunk group's figures are of: that of the list it was opened from
    (the standard windows an import or poll computed), so the screen and the list
    agree; now when no list was read."""
    return app.inbound_as_of_ms if app.inbound_as_of_ms is not None else app.now()


def reg_marks(row: dict[str, Any]) -> str:
    """One mark per edge, in the group's order: ✓ registered, ✗ not."""
    return "".join("✓" if up else "✗" for up in (row.get("registered") or {}).values())


def findings_text(row: dict[str, Any]) -> str:
    return " ".join(row.get("findings") or ())


def shown_row(r: dict[str, Any]) -> dict[str, Any]:
    """A list row with what the table sorts and shows by (in place)."""
    r["health_rank"] = HEALTH_RANK.get(r["health"], 9)
    r["sort_name"] = str(r.get("name") or r["id"])
    r["reg_up"] = sum(bool(v) for v in (r.get("registered") or {}).values())
    r["n_findings"] = len(r.get("findings") or ())
    for k, _ in VIA_COLS:
        r[f"via_{k}"] = (r.get("answered_via") or {}).get(k, 0)
    return r


def data_widths(rows: list[dict[str, Any]]) -> tuple[Col, ...]:
    """TRUNK_COLS with each figure's column as wide as its widest value, the name as
    the longest within its growth: the cells are built only when painted, so the
    table cannot measure them."""
    idle = any(not r.get("offered") for r in rows)
    measured = {k: widest_figure(rows, k, fmt.count) for k in COUNT_KEYS}
    if idle:
        measured["offered"] = max(measured["offered"], len("no calls"))
    measured["registered"] = max((len(r.get("registered") or ()) for r in rows), default=0)
    measured["findings"] = max((len(findings_text(r)) for r in rows), default=0)
    # As shown: a control character takes four cells once escaped (\x1b).
    longest = max((len(fmt.clean(r["sort_name"])) for r in rows), default=0)
    customer = max((len(fmt.clean(r.get("customer") or "")) for r in rows), default=0)
    return widened((text_width(c, longest, NAME_WIDTH, 40) if c.key == "name"
                    else text_width(c, customer, 0, 30) if c.key == "customer" else c
                    for c in TRUNK_COLS), measured)


def cells(r: dict[str, Any], style_of: Callable[[str], str]) -> list[Any]:
    """A row's cells in TRUNK_COLS order; everything from data shown literally."""
    h = r["health"]
    hstyle = style_of(h)
    idle = not r.get("offered")
    out: list[Any] = []
    for c in TRUNK_COLS:
        k = c.key
        if k == "alarm":
            out.append(alarm_mark(r, style_of))
        elif k == "health":
            out.append(Text(HEALTH_LABEL[h], style="bold " + hstyle))
        elif k == "name":
            out.append(fmt.lit(r.get("name") or r["id"], style=hstyle if h != "fine" else ""))
        elif k in ("customer", "id"):
            out.append(fmt.lit(r.get(k) or ""))
        elif k == "policy":
            out.append(fmt.lit(POLICY_SHORT.get(r.get("policy") or "", fmt.DASH)))
        elif k == "registered":
            regs = r.get("registered") or {}
            out.append(fmt.lit(reg_marks(r) or fmt.DASH,
                               style=style_of("down") if regs and not all(regs.values())
                               else ""))
        elif k == "offered":
            out.append(fmt.num("no calls") if idle else fmt.num(fmt.count(r[k])))
        elif idle and k != "findings":
            out.append(Text(""))
        elif k in ("first_try_rate", "delivery_rate"):
            out.append(fmt.num(fmt.pct(r.get(k))))
        elif k == "findings":
            out.append(fmt.lit(findings_text(r), style=style_of("suspect")))
        else:
            v = r.get(k)
            out.append(fmt.num(fmt.count(v), style_of("degraded") if k == "lost" and v
                               else ""))
    return out


class TrunkGroupListScreen(Screen):
    """Trunk groups x inbound figures, coloured by health, filterable and sortable."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Carriers", id="trunks.back"),
        Binding("slash", "filter", "Filter", id="trunks.filter"),
        Binding("w", "cycle_window", "Window", id="trunks.window"),
        Binding("1", "window('1h')", "Window 1h", show=False, id="trunks.window_1h"),
        Binding("2", "window('24h')", "Window 24h", show=False, id="trunks.window_24h"),
        Binding("3", "window('7d')", "Window 7d", show=False, id="trunks.window_7d"),
    ]

    DEFAULT_CSS = """
    TrunkGroupListScreen #trunks-title { height: 1; padding: 0 1; background: $surface;
        text-wrap: nowrap; text-overflow: ellipsis; }
    TrunkGroupListScreen #trunks-switch { height: 1fr; }
    TrunkGroupListScreen #trunks { height: 1fr; }
    TrunkGroupListScreen #trunks-empty { padding: 1 2; border: round $warning;
        height: auto; margin: 1 2; }
    TrunkGroupListScreen #trunks-filter { dock: bottom; display: none; }
    TrunkGroupListScreen #trunks-filter.-on { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.filter_text = ""
        self.as_of_ms: int | None = None
        self.loaded = False

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        yield HeaderBar("Trunk groups")
        with Vertical():
            yield Static(Text("Trunk groups: loading…"), id="trunks-title")
            with ContentSwitcher(initial="trunks", id="trunks-switch"):
                yield NavTable(id="trunks", sort="health")
                yield Note("Loading…", id="trunks-empty")
        yield Input(placeholder="filter by name, customer or id (Enter keeps it, Esc clears)",
                    id="trunks-filter")
        yield KeyHints()

    def on_mount(self) -> None:
        self.load()

    # -- loading -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="trunks")
    def load(self) -> None:
        from noc_tui.analytics import inbound
        from noc_tui.analytics.trunk_group import with_health
        from noc_tui.analytics.views import WINDOWS
        from noc_tui.store.alarms import open_alarms

        app = self.noc
        window, gen = app.window, app.generation
        hs = app.settings.health
        try:
            with app.reader() as cache:
                as_of, rows, _ = inbound.trunk_group_list(cache, WINDOWS[window], app.now())
                opened = open_alarms(cache.conn, "trunk group")
        except Exception as exc:
            self.post_message(LoadFailed("trunk-group list", str(exc)))
            return
        with_health(rows, hs.degraded_first_try, hs.degraded_min_attempts)
        mark_alarms(rows, opened)
        self.post_message(TrunkListLoaded(window, as_of, [shown_row(r) for r in rows], gen))

    def on_trunk_list_loaded(self, msg: TrunkListLoaded) -> None:
        if msg.window != self.noc.window:
            return  # a stale answer for a window the operator has left
        self.loaded = True
        self.rows, self.as_of_ms = msg.rows, msg.as_of_ms
        self.noc.inbound_as_of_ms = msg.as_of_ms
        switch = self.query_one(ContentSwitcher)
        if not msg.rows:
            self.query_one("#trunks-empty", Note).update(fmt.block(EMPTY))
            switch.current = "trunks-empty"
            self.query_one("#trunks-title", Static).update(Text("Trunk groups: none yet"))
            return
        switch.current = "trunks"
        self.render_rows()

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.loaded = True
        self.noc.load_failed(msg)

    # -- rendering -----------------------------------------------------------------------

    def visible_rows(self) -> list[dict[str, Any]]:
        needle = self.filter_text.casefold().strip()
        if not needle:
            return self.rows
        return [r for r in self.rows if any(needle in str(r.get(k) or "").casefold()
                                            for k in ("id", "name", "customer"))]

    def render_rows(self) -> None:
        cols = data_widths(self.rows)
        style_of = self.noc.health_style
        table = self.query_one("#trunks", NavTable)
        # Cells as functions: the table builds those of the rows it paints (2,000 groups).
        table.sync(cols, [(r["id"], partial(cells, r, style_of), r)
                          for r in self.visible_rows()], EXPORT_KEYS)
        self._render_title()

    def _render_title(self) -> None:
        table = self.query_one("#trunks", NavTable)
        total, shown = len(self.rows), len(table.raw)
        # (rank, part): at 80 columns the least needed are left out whole (the as-of
        # first), never cut; the count and a filter in force always show.
        parts = [count_part("Trunk groups", shown, total),
                 (1, Text(f"window {self.noc.window}"))]
        if self.as_of_ms is not None:
            parts.append((4, Text(f"as of {fmt.when(self.as_of_ms)[:16]}")))
        for state in ("down", "degraded"):
            n = sum(1 for r in self.rows if r["health"] == state)
            if n:
                parts.append((2, Text(f"{n} {state}",
                                      style="bold " + self.noc.health_style(state))))
        n_alarm = sum(1 for r in self.rows if r.get("alarms"))
        if n_alarm:
            parts.append((2, Text(f"{n_alarm} in alarm",
                                  style="bold " + self.noc.health_style("down"))))
        parts += filter_parts(self.filter_text, table.fit)
        title = self.query_one("#trunks-title", Static)
        width = title.content_region.width or self.app.size.width - 2
        title.update(fmt.fit_parts(parts, width))

    @on(NavTable.ColumnsFitted, "#trunks")
    def _columns_fitted(self) -> None:
        if self.rows:
            self._render_title()

    # -- actions -------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#trunks")
    def _open(self, event: DataTable.RowSelected) -> None:
        gid = str(event.row_key.value)
        raw = self.query_one("#trunks", NavTable).raw.get(gid) or {}
        self.noc.open_trunk_group(gid, raw.get("name"))

    def action_back(self) -> None:
        if self.filter_text:  # Esc first clears a filter, as on the carrier list
            self._set_filter("")
            return
        self.app.pop_screen()

    def action_filter(self) -> None:
        box = self.query_one("#trunks-filter", Input)
        box.add_class("-on")
        box.value = self.filter_text
        focus_now(box)

    def _set_filter(self, text: str) -> None:
        self.filter_text = text
        box = self.query_one("#trunks-filter", Input)
        if box.value != text:
            with box.prevent(Input.Changed):
                box.value = text
        if self.rows:
            self.render_rows()

    @on(Input.Changed, "#trunks-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._set_filter(event.value)

    @on(Input.Submitted, "#trunks-filter")
    def _filter_done(self) -> None:
        self.query_one("#trunks-filter").remove_class("-on")
        self.query_one("#trunks").focus()

    def on_key(self, event: Any) -> None:
        box = self.query_one("#trunks-filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            self._set_filter("")
            self._filter_done()

    def action_window(self, window: str) -> None:
        self.noc.set_window(window)

    def action_cycle_window(self) -> None:
        from noc_tui.analytics.views import WINDOWS

        names = list(WINDOWS)
        self.noc.set_window(names[(names.index(self.noc.window) + 1) % len(names)])

    # -- export --------------------------------------------------------------------------

    def export_name(self) -> str:
        return f"trunk-groups-{self.noc.window}"

    def export_data(self) -> Snapshot | None:
        """The trunk groups shown (filter and sort applied), as `noc-tui export trunks`
        writes them, with each group's customer and health."""
        if not self.rows:
            return None
        from noc_tui.analytics.inbound import flat
        from noc_tui.analytics.views import WINDOWS
        from noc_tui.records.timefmt import ms_to_iso
        from noc_tui.ui.export import Snapshot

        _, raw = self.query_one("#trunks", NavTable).export_rows()
        rows = [{k: r.get(k) for k in EXPORT_KEYS} for r in raw]
        doc = {"now": ms_to_iso(self.as_of_ms or self.noc.now()),
               "window_s": WINDOWS[self.noc.window], "trunk_groups": rows}
        table, columns = flat(rows)
        return Snapshot(doc, table, columns)
