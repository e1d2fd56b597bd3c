"""The calls behind a number (Enter on the Code Consistency tab): the attempts that
answered it 2xx or 404 on any carrier in the window, newest first; Enter opens a call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable

from noc_tui.ui import cells as fmt
from noc_tui.ui.export import Snapshot, table_snapshot
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import LoadFailed
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note

COLS = (Col("started_at", "Started", 19, pin=True, sort="desc"),
        Col("carrier", "Carrier", 18, pin=True, sort="asc", field="carrier_name"),
        Col("sip_code", "Code", 4, pin=True, sort="asc"),
        Col("sip_reason", "Reason", 18, rank=1, sort="asc"),
        Col("duration_s", "Dur", 5, rank=2, sort="desc"),
        Col("call_id", "Call id", 20, rank=0, sort="asc"))
EXPORT_COLS = ["started_at", "call_id", "seq", "carrier_id", "carrier_name", "sip_code",
               "sip_reason", "duration_s"]


@dataclass
class NumberLoaded(Message):
    dst: str
    rows: list[dict[str, Any]]
    total: int


class NumberCallsScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="number.back"),
    ]
    DEFAULT_CSS = """
    NumberCallsScreen #number-head { height: auto; padding: 0 1; background: $surface; }
    NumberCallsScreen #number-calls { height: 1fr; }
    """

    def __init__(self, dst: str, carrier_id: str) -> None:
        super().__init__()
        self.dst, self.carrier_id = dst, carrier_id
        self.pending = True
        self.rows: list[dict[str, Any]] = []

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        crumb = Text("Number ")
        crumb.append_text(fmt.lit(self.dst))
        yield HeaderBar(crumb)
        yield Note("Loading…", id="number-head")
        yield NavTable(id="number-calls", sort="started_at")
        yield KeyHints()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#number-calls").focus()

    def refresh_data(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="number")
    def load(self) -> None:
        from noc_tui.analytics.number_calls import number_attempts
        from noc_tui.analytics.views import WINDOWS

        app = self.noc
        now = app.now()
        try:
            with app.reader() as cache:
                rows, total = number_attempts(cache, self.dst,
                                              now - WINDOWS[app.window] * 1000, now)
        except Exception as exc:
            self.post_message(LoadFailed("number", str(exc)))
            return
        self.post_message(NumberLoaded(self.dst, rows, total))

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.pending = False
        self.noc.load_failed(msg)

    def on_number_loaded(self, msg: NumberLoaded) -> None:
        self.pending = False
        self.rows = msg.rows
        hs = self.noc.health_style
        name = self.noc.carrier_names.get(self.carrier_id, self.carrier_id)
        head = Text("Answers to ")
        head.append_text(fmt.lit(self.dst, "bold"))
        head.append(f" in the {self.noc.window} window, newest first: 2xx (it exists) and "
                    "404 (it does not), on every carrier")
        shown = len(msg.rows)
        head.append(f"\n{msg.total:,} answers" + (f", the newest {shown:,} shown"
                                                  if shown < msg.total else ""))
        head.append("; ")
        head.append_text(fmt.lit(name, "bold"))
        head.append("'s in bold. Enter opens a call.")
        self.query_one("#number-head", Note).update(head)
        cells = []
        for r in msg.rows:
            ok = 200 <= r["sip_code"] <= 299
            mine = "bold" if r["carrier_id"] == self.carrier_id else ""
            code = hs("fine") if ok else hs("suspect")
            cells.append((f"{r['call_id']}\x00{r['seq']}", [
                fmt.lit(fmt.when(r["started_at"]), mine),
                fmt.lit(r.get("carrier_name") or r["carrier_id"], mine),
                fmt.num(str(r["sip_code"]), f"{mine} {code}".strip()),
                fmt.lit(r.get("sip_reason"), mine),
                fmt.num(fmt.secs(r["duration_s"]) if ok else "", mine),
                fmt.lit(r["call_id"], mine)], r))
        if not cells:
            cells = [("none", [Text("no 2xx or 404 answers in this window", style="dim"),
                               *[Text("")] * 5], {})]
        self.query_one("#number-calls", NavTable).sync(COLS, cells, EXPORT_COLS)

    @on(DataTable.RowSelected, "#number-calls")
    def _open_call(self) -> None:
        raw = self.query_one("#number-calls", NavTable).cursor_raw()
        if raw and raw.get("call_id"):
            self.noc.open_call(raw["call_id"])

    def action_back(self) -> None:
        self.app.pop_screen()

    def export_name(self) -> str:
        return f"number-{self.dst}"

    def export_data(self) -> Snapshot | None:
        from noc_tui.analytics.views import WINDOWS

        cols, rows = self.query_one("#number-calls", NavTable).export_rows()
        rows = [r for r in rows if r]
        if not rows:
            return None
        return table_snapshot(self.export_name(), cols, rows, self.noc.now(),
                              WINDOWS[self.noc.window])
