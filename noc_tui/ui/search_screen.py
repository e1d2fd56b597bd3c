"""The search screen (ctrl+f or the palette, from any screen): calls found by dialled
number, CLI or Call-ID across every carrier, and inbound deliveries by DID, caller or
delivery id across every trunk group, newest first; Enter opens the call."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input

from noc_tui.records.timefmt import ms_to_iso
from noc_tui.ui import cells as fmt
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import LoadFailed, SearchDone
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note

# Typing searches once it pauses this long: a search per keystroke would queue reads.
TYPING_PAUSE_S = 0.15

SEARCH_COLS = (Col("started", "Started (UTC)", 19), Col("number", "Number", 14),
               Col("cli", "CLI", 14), Col("code", "Code", 4), Col("carrier", "Carrier / TG", 18),
               Col("attempts", "Att", 3), Col("matched", "Matched", 10),
               Col("call_id", "Call-ID", 24))
COMPACT_COLS = (Col("started", "Started (UTC)", 19), Col("number", "Number", 12),
                Col("code", "Code", 4), Col("carrier", "Carrier/TG", 13),
                Col("call_id", "Call-ID", 16))
EXPORT_COLS = ["kind", "started_at", "number", "cli", "code", "carrier_id", "carrier_name",
               "attempts", "matched", "call_id", "outcome"]


class SearchScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="search.back"),
        Binding("slash", "edit", "Edit search", id="search.edit"),
        Binding("c", "copy", "Copy call id", id="search.copy"),
    ]
    DEFAULT_CSS = """
    SearchScreen #search-box { height: 3; border: tall $panel; }
    SearchScreen #search-box:focus { border: tall $primary; }
    SearchScreen #search-info { height: auto; max-height: 2; background: $surface; }
    SearchScreen #t-search { height: 1fr; }
    """

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.query_text = query
        self.result: Any = None  # the last SearchResult shown
        self.pending = False
        self.loaded = True
        self._typing: Timer | None = None
        self._asked = 0  # searches started; an answer to an older one is dropped
        self._to_results = False  # Enter was pressed: focus the matches when they come

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        yield HeaderBar(Text("Search calls"))
        yield Input(value=self.query_text, id="search-box",
                    placeholder="number, CLI or Call-ID (all carriers and trunk groups); "
                    "Enter searches")
        yield Note(Text("Type a dialled number, a CLI or a Call-ID: exact matches, or "
                        "those starting with it when none is exact.", style="dim"),
                   id="search-info")
        yield NavTable(id="t-search")
        yield KeyHints()

    def on_mount(self) -> None:
        box = self.query_one("#search-box", Input)
        box.focus()
        if self.query_text.strip():
            self.search(self.query_text)

    def set_query(self, query: str) -> None:
        """Search for `query` (the palette's search over this screen)."""
        box = self.query_one("#search-box", Input)
        with box.prevent(Input.Changed):
            box.value = query
        self.search(query)

    # -- searching -------------------------------------------------------------------

    @on(Input.Changed, "#search-box")
    def _typed(self, event: Input.Changed) -> None:
        if self._typing is not None:
            self._typing.stop()
        value = event.value
        if value == self.query_text:
            return  # the box showing what was searched (its first value, set_query)
        self._typing = self.set_timer(TYPING_PAUSE_S, lambda: self.search(value))

    @on(Input.Submitted, "#search-box")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._typing is not None:
            self._typing.stop()
        # Enter means "to the matches": the table takes the focus once they are in.
        self._to_results = True
        if event.value != self.query_text or self.result is None or self.pending:
            self.search(event.value)
        else:
            self._focus_results()

    def _focus_results(self) -> None:
        table = self.query_one("#t-search", NavTable)
        if self._to_results and table.row_count:
            self._to_results = False
            table.focus()

    def search(self, query: str) -> None:
        """Search in a worker; SearchDone brings the matches back."""
        if self._typing is not None:  # this search replaces one still waiting
            self._typing.stop()
            self._typing = None
        self.query_text = query
        self._asked += 1
        asked = self._asked
        if not query.strip():
            self.result = None
            self.pending = False
            self._show(None)
            return
        self.pending = True
        app = self.noc

        def read() -> None:
            from noc_tui.analytics.search import find_calls

            try:
                with app.reader() as cache:
                    result = find_calls(cache.conn, query)
            except Exception as exc:
                self.post_message(LoadFailed("search", str(exc)))
                return
            self.post_message(SearchDone(asked, result))

        self.run_worker(read, name="search", group="search", exclusive=True, thread=True)

    def on_search_done(self, msg: SearchDone) -> None:
        if msg.asked != self._asked:
            return  # an older search, overtaken by what was typed since
        self.pending = False
        self.result = msg.result
        self._show(msg.result)
        self._focus_results()

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.pending = False
        self.noc.load_failed(msg)

    # -- showing ---------------------------------------------------------------------

    def _show(self, result: Any) -> None:
        info = self.query_one("#search-info", Note)
        table = self.query_one("#t-search", NavTable)
        compact = self.app.size.width < 100
        cols = COMPACT_COLS if compact else SEARCH_COLS
        if result is None:
            table.sync(cols, [])
            info.update(Text("Type a dialled number, a CLI or a Call-ID: exact matches, or "
                             "those starting with it when none is exact.", style="dim"))
            return
        n = len(result.matches)
        t = Text()
        if not n:
            t.append("No call matches ")
            t.append_text(fmt.lit(result.query, "bold"))
            t.append(" (number, CLI or Call-ID, exact or as a start).")
        else:
            t.append(f"{n:,} call{'s' if n != 1 else ''} ")
            t.append("matching " if result.exact else "starting with ")
            t.append_text(fmt.lit(result.query, "bold"))
            t.append(", newest first")
            if result.cut:
                t.append(" (more match: type more to narrow)", style="bold")
            t.append(". Enter opens the call.")
        info.update(t)
        hs = self.noc.health_style
        rows = []
        for m in result.matches:
            ok = 200 <= m.code <= 299
            # A delivery's trunk group stands where a call's carrier does.
            raw = {"kind": m.kind, "started_at": ms_to_iso(m.ts), "number": m.number,
                   "cli": m.cli, "code": m.code, "carrier_id": m.subject_id,
                   "carrier_name": m.subject_name, "attempts": m.attempts,
                   "matched": m.matched, "call_id": m.key, "outcome": m.outcome}
            where = m.subject_name or m.subject_id
            if m.subject_kind == "trunk group":
                where = f"TG {where}"
            by_key = {
                "started": fmt.lit(fmt.when(m.ts)), "number": fmt.lit(m.number),
                "cli": fmt.lit(m.cli), "call_id": fmt.lit(m.key),
                "code": fmt.num(str(m.code), hs("fine") if ok else ""),
                "carrier": fmt.lit(where),
                "attempts": fmt.num(str(m.attempts)), "matched": fmt.lit(m.matched, "dim"),
            }
            rows.append((f"{m.kind}\x00{m.key}", [by_key[c.key] for c in cols], raw))
        table.sync(cols, rows, EXPORT_COLS)

    def on_resize(self) -> None:
        if self.result is not None:
            self._show(self.result)

    # -- actions ---------------------------------------------------------------------

    @on(DataTable.RowSelected, "#t-search")
    def _open(self, event: DataTable.RowSelected) -> None:
        raw = self.query_one("#t-search", NavTable).cursor_raw()
        if raw and raw.get("kind") == "call":
            self.noc.open_call(raw["call_id"])
        elif raw and raw.get("kind") == "delivery":
            from noc_tui.ui.trunk_group.chain import DeliveryChainScreen

            self.app.push_screen(DeliveryChainScreen(raw["call_id"], raw["carrier_name"]))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_edit(self) -> None:
        self._to_results = False
        self.query_one("#search-box", Input).focus()

    def action_copy(self) -> None:
        raw = self.query_one("#t-search", NavTable).cursor_raw()
        self.noc.copy_call_id(raw.get("call_id") if raw else None)

    def refresh_data(self) -> None:
        if self.query_text.strip():
            self.search(self.query_text)

    def export_name(self) -> str:
        return f"search-{fmt.safe_filename(self.query_text)}"

    def export_table(self) -> tuple[list[str], list[dict[str, Any]]] | None:
        if self.result is None or not self.result.matches:
            return None
        return self.query_one("#t-search", NavTable).export_rows()
