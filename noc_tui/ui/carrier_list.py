"""The first screen: every carrier's health for the chosen window."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from noc_tui.analytics.list_state import CARRIER_COLUMNS, ListTrends
from noc_tui.ui import cells as fmt
from noc_tui.ui.health_list import alarm_mark, count_part, filter_parts
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import ListLoaded, LoadFailed
from noc_tui.ui.paint_hold import PaintHold
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note
from noc_tui.ui.widgets.columns import text_width, widened, widest_figure
from noc_tui.ui.widgets.key_focus import focus_now
from noc_tui.ui.widgets.key_hints import key_text
from noc_tui.ui.widgets.table_sort import descending, natural_key, sort_items

if TYPE_CHECKING:
    from noc_tui.analytics.list_state import ListSnapshot
    from noc_tui.ui.export import Snapshot

HEALTH_ORDER = {"down": 0, "suspect": 1, "degraded": 2, "unknown": 3, "fine": 4}
HEALTH_LABEL = {"down": "DOWN", "suspect": "SUSP", "degraded": "DEGR", "unknown": "—",
                "fine": "ok"}

# The columns in the order shown. Always in view (pinned): the alarm mark, health, the
# name, ASR, consecutive failures (CF), halt violations and FAS. The others as the width
# allows, by rank: Att, the answered calls of the last 24 h (a trend), FO out, NER,
# PDD, then the whole name (past 16 characters),
# then ACD, FO in, Consist, Routing (when the switch reports it), Status, ID (README
# lists the same order); left/right
# page through those that do not fit. Figures'
# widths come from the data (data_widths), so a number is never cut. `sort`: the first
# sort on a column puts the worst first; the letter picks it after `s`.
LIST_COLS = (
    Col("alarm", "!", 1, pin=True),
    Col("health", "Hlth", 4, pin=True, sort="asc", hotkey="h"),
    Col("name", "Carrier", 12, pin=True, grow=28, grow_rank=3, sort="asc", hotkey="n"),
    # A picture, not a figure: not sorted by; after Att in rank (ties go in this order).
    Col("trend", "Answered 24h", 12, rank=1),
    Col("id", "ID", 10, rank=9, grow=4, sort="asc", hotkey="x"),
    Col("status", "Status", 8, rank=8, sort="asc", hotkey="u"),
    Col("attempts", "Att", 3, rank=0, sort="desc", hotkey="t"),
    Col("asr", "ASR", 6, pin=True, sort="asc", hotkey="a"),
    Col("acd_s", "ACD", 4, rank=4, sort="asc", hotkey="d"),
    Col("pdd_avg_ms", "PDD", 5, rank=3, sort="desc", hotkey="p"),
    Col("ner", "NER", 6, rank=2, sort="asc", hotkey="e"),
    Col("consecutive_failures", "CF", 2, pin=True, sort="desc", hotkey="c"),
    Col("code_consistency", "Consist", 7, rank=6, sort="asc", hotkey="k"),
    Col("failover_out", "FO out", 6, rank=1, sort="desc", hotkey="o"),
    Col("failover_in", "FO in", 5, rank=5, sort="desc", hotkey="i"),
    Col("halt_violations", "Halt", 4, pin=True, sort="desc", hotkey="l"),
    Col("fas", "FAS", 3, pin=True, sort="desc", hotkey="f"),
)
NAME_WIDTH = 16  # a name this long is shown whole before any optional column
TEXT_COLS = ("name", "id", "status", "routing")
# The exported columns: the metric keys of the foundation issue plus health and alarms.
EXPORT_COLS = CARRIER_COLUMNS
# After Status when the switch reports live routing state (Kamailio's dispatcher).
ROUTING_COL = Col("routing", "Routing", 7, rank=7, sort="asc", hotkey="g")
COLS_BY_KEY = {c.key: c for c in (*LIST_COLS, ROUTING_COL)}

SPARK = " ▁▂▃▄▅▆▇█"


def trend_cell(slices: list[tuple[int, int]] | None, width: int, style: str) -> Text:
    """Answered calls per slice of the last 24 hours (oldest first) as block heights,
    scaled to the carrier's own busiest slice, `width` characters (slices merged to
    fit): traffic that stops and calls that stop connecting both show as a fall. A
    slice with calls and none answered is a dot; one with no calls is blank."""
    if not slices:
        return Text("")
    per = max(1, -(-len(slices) // width))
    merged = [(sum(a for a, _ in slices[i:i + per]), sum(c for _, c in slices[i:i + per]))
              for i in range(0, len(slices), per)]
    top = max(c for _, c in merged) or 1
    return Text("".join(" " if not a else "·" if not c else SPARK[max(1, round(c / top * 8))]
                        for a, c in merged), style=style, no_wrap=True, end="")



def _sort_value(row: dict[str, Any], key: str) -> Any:
    if key == "health":
        return HEALTH_ORDER.get(row.get("health", "fine"), 9)
    if key in TEXT_COLS:
        return natural_key(str(row.get(key) or row.get("id") or ""))
    if key == "fas":
        return (bool(row.get("fas_suspect")), len(row.get("fas_flags") or []))
    return row.get(key)


def sort_rows(rows: list[dict[str, Any]], key: str, reverse: bool,
              alarmed_first: bool) -> list[dict[str, Any]]:
    """Sort by a column (reverse: descending), missing values last in both directions;
    ties by name."""
    # Each row's value is taken once (2,000 carriers on every sort, filter keystroke
    # and refresh); the sorts are stable, so ties keep the name order.
    by_name = sorted(rows, key=lambda r: natural_key(str(r.get("name") or r["id"])))
    out = sort_items(by_name, lambda r: _sort_value(r, key), reverse)
    if alarmed_first:
        out.sort(key=lambda r: not r.get("alarms"))
    return out


def fas_text(row: dict[str, Any]) -> str:
    flags = len(row.get("fas_flags") or ())
    if row.get("fas_suspect"):
        return f"FAS {flags}"
    return f"{flags} flag{'s' if flags != 1 else ''}" if flags else ""


def data_widths(rows: list[dict[str, Any]]) -> tuple[Col, ...]:
    """LIST_COLS with each figure's column as wide as its widest value (and the name
    as wide as the longest, within its growth), measured on the raw figures: the
    longest formatted count is that of the largest, and so on."""
    idle = any(not r.get("attempts") for r in rows)
    measured = {
        "attempts": max(widest_figure(rows, "attempts", fmt.count), 8 if idle else 0),
        "asr": 6, "ner": 6, "code_consistency": 6,
        "acd_s": widest_figure(rows, "acd_s", fmt.secs),
        "pdd_avg_ms": widest_figure(rows, "pdd_avg_ms", fmt.millis),
        "consecutive_failures": widest_figure(rows, "consecutive_failures", fmt.count),
        "failover_out": widest_figure(rows, "failover_out", fmt.count),
        "failover_in": widest_figure(rows, "failover_in", fmt.count),
        "halt_violations": widest_figure(rows, "halt_violations", fmt.count),
        "fas": max((len(fas_text(r)) for r in rows), default=0),
    }
    # The name: whole up to NAME_WIDTH, longer ones as the width allows.
    longest = max((len(str(r.get("name") or r.get("id") or "")) for r in rows), default=0)
    return widened((text_width(c, longest, NAME_WIDTH, 40) if c.key == "name" else c
                    for c in LIST_COLS), measured)


class CarrierListScreen(PaintHold):
    """Carriers x metrics, coloured by health, filterable and sortable."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="list.filter"),
        Binding("w", "cycle_window", "Window", id="list.window"),
        Binding("1", "window('1h')", "Window 1h", show=False, id="list.window_1h"),
        Binding("2", "window('24h')", "Window 24h", show=False, id="list.window_24h"),
        Binding("3", "window('7d')", "Window 7d", show=False, id="list.window_7d"),
        Binding("a", "alarmed_first", "Alarmed first", id="list.alarmed_first"),
        Binding("t", "trunk_groups", "Trunk groups", id="list.trunk_groups"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="list.clear_filter"),
    ]

    DEFAULT_CSS = """
    CarrierListScreen #list-title { height: 1; padding: 0 1; background: $surface;
        text-wrap: nowrap; text-overflow: ellipsis; }
    CarrierListScreen #list-switch { height: 1fr; }
    CarrierListScreen #carriers { height: 1fr; }
    CarrierListScreen #empty { padding: 1 2; border: round $warning; height: auto;
        margin: 1 2; }
    CarrierListScreen #filter { dock: bottom; display: none; }
    CarrierListScreen #filter.-on { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.filter_text = ""
        self.sort_key = "health"
        self.sort_flipped = False  # the other way than worst first
        self.alarmed_first = False
        self.loaded = False
        self.state_kind = "loading"

        self.trends = ListTrends()  # id -> the last 24 h
    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        yield HeaderBar("Carriers")
        with Vertical():
            yield Static(Text("Carriers: loading…"), id="list-title")
            with ContentSwitcher(initial="carriers", id="list-switch"):
                yield NavTable(id="carriers", sorts_rows=False)  # sorted here, see sort_rows
                yield Note("Loading…", id="empty")
        yield Input(placeholder="filter by name or id (Enter keeps it, Esc clears)",
                    id="filter")
        yield KeyHints()

    def on_mount(self) -> None:
        saved = self.noc.saved_sort("carriers")
        if saved is not None and saved[0] in COLS_BY_KEY and COLS_BY_KEY[saved[0]].sort:
            self.sort_key, self.sort_flipped = saved
        # The first paint waits for the list (read ahead at start: a few ms).
        self.hold_paint()
        self.load()

    # -- loading -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="list")
    def load(self) -> None:
        # The data layer (SQLite helpers, metrics) is imported here, in the worker thread,
        # and only when the list read at startup is not there to use.
        app = self.noc
        gen = app.generation
        snap = None
        ahead = app.take_first_list()
        if ahead is not None:  # read while the app started (cli.prepare_dashboard)
            snap = ahead()
            if snap is None:  # that process failed: do its work here
                from noc_tui.analytics.views import migrate_for_reading

                migrate_for_reading(app.cache_path, app.settings)
        if snap is None or snap.window != app.window:
            from noc_tui.analytics.views import list_snapshot

            snap = list_snapshot(app.cache_path, app.settings, app.config_path,
                                 app.window, app.now())
        self.post_message(self._loaded(snap, gen))

    @staticmethod
    def _loaded(snap: ListSnapshot, generation: int) -> ListLoaded | LoadFailed:
        if snap.error is not None:
            return LoadFailed("carrier list", snap.error)
        return ListLoaded(snap.state, snap.window, snap.as_of_ms, snap.rows, snap.poll,
                          generation, snap.mark, snap.alarms, snap.alarm_mark, snap.trends)

    def on_list_loaded(self, msg: ListLoaded) -> None:
        if msg.window != self.noc.window:
            return  # a stale answer for a window the operator has left
        self.noc.list_loaded(msg)
        self.state_kind = msg.state.kind
        switch = self.query_one(ContentSwitcher)
        if msg.state.kind != "ready":
            self.query_one("#empty", Note).update(fmt.block(msg.state.message))
            switch.current = "empty"
            self.rows = []
            self.query_one("#list-title", Static).update(Text("Carriers: no data yet"))
        elif not msg.rows:  # records of trunk groups only (an inbound import or poll)
            self.rows = []
            key = next(b for b in self.BINDINGS if isinstance(b, Binding)
                       and b.id == "list.trunk_groups")
            self.query_one("#empty", Note).update(Text(
                "No carriers in the cache.\n\n"
                f"Press {key_text(self.app, key)} for the trunk groups (the inbound side: "
                "their DIDs, registrations and deliveries)."))
            switch.current = "empty"
            self.query_one("#list-title", Static).update(Text("Carriers: none"))
        else:
            switch.current = "carriers"
            self.rows = msg.rows
            self.trends = msg.trends
            self.render_rows()
        self.loaded = True
        self.release_paint()
        self.call_after_refresh(self.noc.first_frame_shown)

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.noc.load_failed(msg)
        self.loaded = True
        self.release_paint()
        self.call_after_refresh(self.noc.first_frame_shown)

    # -- rendering -----------------------------------------------------------------------

    def visible_rows(self) -> list[dict[str, Any]]:
        needle = self.filter_text.casefold().strip()
        rows = self.rows
        if needle:
            rows = [r for r in rows if needle in str(r.get("id") or "").casefold()
                    or needle in str(r.get("name") or "").casefold()]
        col = COLS_BY_KEY[self.sort_key]
        return sort_rows(rows, self.sort_key, descending(col, self.sort_flipped),
                         self.alarmed_first)

    def render_rows(self) -> None:
        cols = data_widths(self.rows)
        export = EXPORT_COLS
        if any("routing" in r for r in self.rows):
            at = [c.key for c in cols].index("status") + 1
            cols = (*cols[:at], ROUTING_COL, *cols[at:])
            export = (*EXPORT_COLS, "routing")
        shown = self.visible_rows()
        style_of: Callable[[str], str] = self.noc.health_style
        table = self.query_one("#carriers", NavTable)
        table.sort_by(self.sort_key, self.sort_flipped)
        # Cells as functions: the table builds the Text cells of the rows it paints, so
        # the first frame of 2,000 carriers does not wait for 32,000 of them. They are
        # built for every column; the table picks those that fit its width.
        cells = self._cells
        trends = self.trends
        table.sync(cols, [(r["id"], partial(cells, r, cols, style_of, trends), r)
                          for r in shown], export)
        self._render_title(len(shown))

    def sort_words(self) -> str:
        """The sort as the title says it: the column and which end comes first."""
        col = COLS_BY_KEY[self.sort_key]
        if col.key in TEXT_COLS:
            order = "Z-A" if self.sort_flipped else "A-Z"
        else:
            order = "best first" if self.sort_flipped else "worst first"
        return f"{col.label} {order}"

    def _render_title(self, shown: int) -> None:
        total = len(self.rows)
        # (rank, part): what does not fit is left out whole (fmt.fit_parts), never cut;
        # the count and a filter in force always show.
        parts = [count_part("Carriers", shown, total),
                 (1, Text(f"window {self.noc.window}")),
                 (2, Text(f"sort {self.sort_words()}"))]
        if self.alarmed_first:
            parts.append((1, Text("alarmed first")))
        n_alarm = sum(1 for r in self.rows if r.get("alarms"))
        if n_alarm:
            parts.append((1, Text(f"{n_alarm} in alarm",
                                  style="bold " + self.noc.health_style("down"))))
        parts += filter_parts(self.filter_text, self.query_one("#carriers", NavTable).fit)
        title = self.query_one("#list-title", Static)
        title.update(fmt.fit_parts(parts, title.content_region.width
                                   or self.app.size.width - 2))

    @on(NavTable.ColumnsFitted, "#carriers")
    def _columns_fitted(self) -> None:
        if self.rows:
            self._render_title(len(self.query_one("#carriers", NavTable).raw))

    @staticmethod
    def _cells(r: dict[str, Any], cols: tuple[Col, ...], style_of: Callable[[str], str],
               trends: ListTrends | None = None) -> list[Any]:
        h = r.get("health", "fine")
        hstyle = style_of(h)
        idle = not r.get("attempts")
        out: list[Any] = []
        for c in cols:
            k = c.key
            if k == "alarm":
                out.append(alarm_mark(r, style_of))
            elif k == "health":
                out.append(Text(HEALTH_LABEL[h], style="bold " + hstyle))
            elif k == "name":
                out.append(fmt.lit(r.get("name") or r["id"], style=hstyle if h != "fine" else ""))
            elif k == "id":
                out.append(fmt.lit(r.get(k)))
            elif k == "routing":
                out.append(fmt.lit(r.get(k), style=style_of("down") if r.get("routing_down")
                                   else ""))
            elif k == "status":
                out.append(fmt.lit(r.get(k) or fmt.DASH))  # unknown, not blank
            elif k == "trend":
                trend = trends.get(r["id"]) if trends is not None else None
                out.append(trend_cell(trend, c.width or 12, hstyle if h != "fine" else ""))
            elif k == "attempts":
                out.append(fmt.num("no calls") if idle else fmt.num(fmt.count(r[k])))
            elif idle and k not in ("consecutive_failures",):
                out.append(Text(""))
            elif k in ("asr", "ner", "code_consistency"):
                out.append(fmt.num(fmt.pct(r.get(k))))
            elif k == "acd_s":
                out.append(fmt.num(fmt.secs(r.get(k))))
            elif k == "pdd_avg_ms":
                out.append(fmt.num(fmt.millis(r.get(k))))
            elif k == "fas":
                out.append(fmt.num(fas_text(r), "bold " + style_of("suspect")
                                   if r.get("fas_suspect") else ""))
            else:
                v = r.get(k)
                style = hstyle if k == "consecutive_failures" and h in ("down", "degraded") else ""
                if k == "halt_violations" and v:
                    style = style_of("suspect")
                out.append(fmt.num(fmt.count(v), style))
        return out

    # -- actions -------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#carriers")
    def open_carrier(self, event: DataTable.RowSelected) -> None:
        self.noc.open_carrier(str(event.row_key.value))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-on")
        box.value = self.filter_text
        focus_now(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        if self.rows:
            self.render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#filter").remove_class("-on")
        self.query_one("#carriers").focus()

    def on_key(self, event: Any) -> None:
        box = self.query_one("#filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            self._filter_done()

    def action_clear_filter(self) -> None:
        if self.filter_text:
            self.filter_text = ""
            self.query_one("#filter", Input).value = ""
            self.render_rows()

    def action_window(self, window: str) -> None:
        self.noc.set_window(window)

    def action_trunk_groups(self) -> None:
        self.noc.show_trunk_groups()

    def action_cycle_window(self) -> None:
        from noc_tui.analytics.views import WINDOWS

        names = list(WINDOWS)
        self.noc.set_window(names[(names.index(self.noc.window) + 1) % len(names)])

    def set_sort(self, key: str, flipped: bool = False) -> None:
        """Sort by a column of LIST_COLS, worst first unless flipped."""
        self.sort_key = key
        self.sort_flipped = flipped
        if self.rows:
            self.render_rows()

    def action_alarmed_first(self) -> None:
        self.alarmed_first = not self.alarmed_first
        self.render_rows()

    @on(NavTable.SortChanged, "#carriers")
    def _sorted(self, event: NavTable.SortChanged) -> None:
        self.set_sort(event.key, event.flipped)

    # -- export --------------------------------------------------------------------------

    def export_name(self) -> str:
        return f"carriers-{self.noc.window}"

    def export_data(self) -> Snapshot | None:
        """The carriers shown (filter and sort applied), as `noc-tui export carriers`
        writes them, for the instant the figures are of."""
        if not self.rows:
            return None
        from noc_tui.analytics.export import carrier_columns, carriers_doc
        from noc_tui.analytics.views import WINDOWS
        from noc_tui.ui.export import Snapshot

        _, rows = self.query_one("#carriers", NavTable).export_rows()
        app = self.noc
        doc = carriers_doc(rows, app.as_of_ms or app.now(), WINDOWS[app.window])
        return Snapshot(doc, doc["carriers"], carrier_columns(rows))
