"""The first screen: every carrier's health for the chosen window."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from noc_tui.ui import cells as fmt
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import ListLoaded, LoadFailed
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note

if TYPE_CHECKING:
    from noc_tui.analytics.list_state import ListSnapshot

HEALTH_ORDER = {"down": 0, "suspect": 1, "degraded": 2, "unknown": 3, "fine": 4}
HEALTH_LABEL = {"down": "DOWN", "suspect": "SUSP", "degraded": "DEGR", "unknown": "—",
                "fine": "ok"}

FULL_COLS = (
    Col("alarm", "!", 1), Col("health", "Health", 6), Col("id", "ID", 12),
    Col("name", "Name", 24), Col("status", "Status", 8), Col("attempts", "Attempts", 9),
    Col("asr", "ASR", 6), Col("acd_s", "ACD", 6), Col("pdd_avg_ms", "PDD", 7),
    Col("ner", "NER", 6), Col("consecutive_failures", "ConsFail", 8),
    Col("code_consistency", "Consist", 7), Col("failover_out", "FO out", 7),
    Col("failover_in", "FO in", 7), Col("halt_violations", "Halt", 5), Col("fas", "FAS", 11),
)
COMPACT_COLS = (
    Col("alarm", "!", 1), Col("health", "Hlth", 4), Col("name", "Carrier", 18),
    Col("attempts", "Att", 8), Col("asr", "ASR", 6), Col("consecutive_failures", "CF", 6),
    Col("failover_out", "FO", 5), Col("halt_violations", "Hlt", 3), Col("fas", "FAS", 4),
)
# The exported columns: the metric keys of the foundation issue plus health and alarms.
EXPORT_COLS = (
    "id", "name", "status", "health", "alarms", "attempts", "connected", "asr", "acd_s",
    "minutes", "pdd_avg_ms", "ner", "n200", "n404", "code_consistency", "never_404",
    "consecutive_failures", "failover_out", "failover_in", "halt_violations", "sdc_ratio",
    "fas_flags", "fas_suspect",
)
SORT_KEYS = [c.key for c in FULL_COLS if c.key != "alarm"]
# Shown after Status when the switch reports live routing state (Kamailio's dispatcher).
ROUTING_COL = Col("routing", "Routing", 10)


_DIGITS = re.compile(r"(\d+)")


def _text_key(text: str) -> tuple[Any, ...]:
    """Names in the order an operator reads them: "Carrier 2" before "Carrier 10",
    case ignored. Text and numbers alternate, so like is compared with like."""
    parts = _DIGITS.split(text.casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def _sort_value(row: dict[str, Any], key: str) -> Any:
    if key == "health":
        return HEALTH_ORDER.get(row.get("health", "fine"), 9)
    if key in ("id", "name", "status"):
        return _text_key(str(row.get(key) or row.get("id") or ""))
    if key == "fas":
        return (bool(row.get("fas_suspect")), len(row.get("fas_flags") or []))
    return row.get(key)


def sort_rows(rows: list[dict[str, Any]], key: str, reverse: bool,
              alarmed_first: bool) -> list[dict[str, Any]]:
    """Sort by a column, missing values last in both directions; ties by name."""
    # Each row's value is taken once (2,000 carriers on every sort, filter keystroke
    # and refresh); the sorts are stable, so ties keep the name order.
    by_name = sorted(rows, key=lambda r: _text_key(str(r.get("name") or r["id"])))
    valued = [(_sort_value(r, key), r) for r in by_name]
    present = [vr for vr in valued if vr[0] is not None]
    present.sort(key=itemgetter(0), reverse=reverse)
    out = [r for _, r in present]
    out += [r for v, r in valued if v is None]
    if alarmed_first:
        out.sort(key=lambda r: not r.get("alarms"))
    return out


class CarrierListScreen(Screen):
    """Carriers x metrics, coloured by health, filterable and sortable."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="list.filter"),
        Binding("w", "cycle_window", "Window", id="list.window"),
        Binding("1", "window('1h')", "1h", show=False, id="list.window_1h"),
        Binding("2", "window('24h')", "24h", show=False, id="list.window_24h"),
        Binding("3", "window('7d')", "7d", show=False, id="list.window_7d"),
        Binding("s", "cycle_sort", "Sort", id="list.sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False, id="list.sort_reverse"),
        Binding("a", "alarmed_first", "Alarmed first", id="list.alarmed_first"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="list.clear_filter"),
    ]

    DEFAULT_CSS = """
    CarrierListScreen #list-title { height: 1; padding: 0 1; background: $surface; }
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
        self.sort_reverse = False
        self.alarmed_first = False
        self.loaded = False
        self.state_kind = "loading"
        self._compact: bool | None = None

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        yield HeaderBar("Carriers")
        with Vertical():
            yield Static(Text("Carriers: loading…"), id="list-title")
            with ContentSwitcher(initial="carriers", id="list-switch"):
                yield NavTable(id="carriers")
                yield Note("Loading…", id="empty")
        yield Input(placeholder="filter by name or id (Enter keeps it, Esc clears)",
                    id="filter")
        yield KeyHints()

    def on_mount(self) -> None:
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
                          generation, snap.mark)

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
        else:
            switch.current = "carriers"
            self.rows = msg.rows
            self.render_rows()
        self.loaded = True
        self.call_after_refresh(self.noc.first_frame_shown)

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.noc.load_failed(msg)
        self.loaded = True
        self.call_after_refresh(self.noc.first_frame_shown)

    # -- rendering -----------------------------------------------------------------------

    def visible_rows(self) -> list[dict[str, Any]]:
        needle = self.filter_text.casefold().strip()
        rows = self.rows
        if needle:
            rows = [r for r in rows if needle in str(r.get("id") or "").casefold()
                    or needle in str(r.get("name") or "").casefold()]
        return sort_rows(rows, self.sort_key, self.sort_reverse, self.alarmed_first)

    def render_rows(self) -> None:
        compact = self.app.size.width < 100
        self._compact = compact
        cols = COMPACT_COLS if compact else FULL_COLS
        export = EXPORT_COLS
        if not compact and any("routing" in r for r in self.rows):
            at = [c.key for c in cols].index("status") + 1
            cols = (*cols[:at], ROUTING_COL, *cols[at:])
            export = (*EXPORT_COLS, "routing")
        shown = self.visible_rows()
        style_of: Callable[[str], str] = self.noc.health_style
        table = self.query_one("#carriers", NavTable)
        # Cells as functions: the table builds the Text cells of the rows it paints, so
        # the first frame of 2,000 carriers does not wait for 32,000 of them.
        cells = self._cells
        table.sync(cols, [(r["id"], partial(cells, r, cols, style_of, compact), r)
                          for r in shown], export)
        self._render_title(len(shown))

    def _render_title(self, shown: int) -> None:
        total = len(self.rows)
        label = next(c.label for c in FULL_COLS if c.key == self.sort_key)
        title = Text.assemble(
            ("Carriers ", "bold"),
            (f"{shown} of {total}" if shown != total else f"{total}", "bold"),
            f"  window {self.noc.window}",
            f"  sort {label} {'↓' if self.sort_reverse else '↑'}",
        )
        if self.alarmed_first:
            title.append("  alarmed first")
        n_alarm = sum(1 for r in self.rows if r.get("alarms"))
        if n_alarm:
            title.append(f"  {n_alarm} in alarm", style="bold red")
        if self.filter_text:
            title.append("  filter: ")
            title.append_text(fmt.lit(self.filter_text, style="italic"))
        self.query_one("#list-title", Static).update(title)

    @staticmethod
    def _cells(r: dict[str, Any], cols: tuple[Col, ...], style_of: Callable[[str], str],
               compact: bool) -> list[Any]:
        h = r.get("health", "fine")
        hstyle = style_of(h)
        idle = not r.get("attempts")
        out: list[Any] = []
        for c in cols:
            k = c.key
            if k == "alarm":
                out.append(Text("!" if r.get("alarms") else "", style="bold " + style_of("down")))
            elif k == "health":
                label = HEALTH_LABEL[h]
                out.append(Text(label[:4] if compact else label, style="bold " + hstyle))
            elif k == "name":
                out.append(fmt.lit(r.get("name") or r["id"], style=hstyle if h != "fine" else ""))
            elif k == "id":
                out.append(fmt.lit(r.get(k)))
            elif k == "routing":
                out.append(fmt.lit(r.get(k), style=style_of("down") if r.get("routing_down")
                                   else ""))
            elif k == "status":
                out.append(fmt.lit(r.get(k) or fmt.DASH))  # unknown, not blank
            elif k == "attempts":
                out.append(fmt.num("no calls", "dim") if idle else fmt.num(fmt.count(r[k])))
            elif idle and k not in ("consecutive_failures",):
                out.append(Text(""))
            elif k in ("asr", "ner", "code_consistency"):
                out.append(fmt.num(fmt.pct(r.get(k))))
            elif k == "acd_s":
                out.append(fmt.num(fmt.secs(r.get(k))))
            elif k == "pdd_avg_ms":
                out.append(fmt.num(fmt.millis(r.get(k))))
            elif k == "fas":
                flags = r.get("fas_flags") or []
                if r.get("fas_suspect"):
                    out.append(Text("FAS" if compact else f"FAS {len(flags)}",
                                    style="bold " + style_of("suspect")))
                else:
                    out.append(Text(f"{len(flags)} flag" if flags and not compact else "",
                                    style="dim"))
            else:
                v = r.get(k)
                style = hstyle if k == "consecutive_failures" and h in ("down", "degraded") else ""
                if k == "halt_violations" and v:
                    style = style_of("suspect")
                out.append(fmt.num(fmt.count(v), style))
        return out

    def on_resize(self) -> None:
        if self.rows and self._compact is not None and (self.app.size.width < 100) != self._compact:
            self.render_rows()

    # -- actions -------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#carriers")
    def open_carrier(self, event: DataTable.RowSelected) -> None:
        self.noc.open_carrier(str(event.row_key.value))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-on")
        box.value = self.filter_text
        box.focus()

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

    def action_cycle_window(self) -> None:
        from noc_tui.analytics.views import WINDOWS

        names = list(WINDOWS)
        self.noc.set_window(names[(names.index(self.noc.window) + 1) % len(names)])

    def action_cycle_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.render_rows()

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        self.sort_key = key
        if reverse is not None:
            self.sort_reverse = reverse
        self.render_rows()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.render_rows()

    def action_alarmed_first(self) -> None:
        self.alarmed_first = not self.alarmed_first
        self.render_rows()

    @on(DataTable.HeaderSelected, "#carriers")
    def _header_sort(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key in SORT_KEYS:
            self.set_sort(key, not self.sort_reverse if key == self.sort_key else False)

    # -- export --------------------------------------------------------------------------

    def export_name(self) -> str:
        return f"carriers-{self.noc.window}"

    def export_table(self) -> tuple[list[str], list[dict[str, Any]]] | None:
        if not self.rows:
            return None
        return self.query_one("#carriers", NavTable).export_rows()
