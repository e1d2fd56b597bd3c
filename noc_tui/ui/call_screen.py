"""The call screen: every attempt of a call in routing order, as a ladder, and below it
the attempts on one time line (INVITE sent, first 18x, answer, release), as sngrep
shows a call."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable

from noc_tui.analytics.call_timeline import call_timeline
from noc_tui.analytics.views import WINDOWS, call_ladder, carrier_list, code_words
from noc_tui.ui import cells as fmt
from noc_tui.ui.export import Snapshot, table_snapshot
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import CallLoaded, LoadFailed
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note

LADDER_COLS = (Col("seq", "#", 2, pin=True, sort="asc"),
               Col("carrier", "Carrier", 16, pin=True, sort="asc", field="carrier_name"),
               Col("code", "Code", 4, pin=True, sort="asc", field="sip_code"),
               Col("reason", "Reason", 18, rank=1, sort="asc", field="sip_reason"),
               Col("pdd", "PDD", 6, rank=0, sort="desc", field="pdd_ms"),
               Col("dur", "Dur", 5, rank=2, sort="desc", field="duration_s"),
               Col("why", "Why routing moved on or stopped", 30, rank=3, grow=60))
TIMELINE_COLS = (Col("at", "Time", 19, pin=True), Col("offset", "+s", 8, pin=True),
                 Col("seq", "#", 2, pin=True),
                 Col("carrier", "Carrier", 16, rank=1),
                 Col("event", "", 15, pin=True), Col("text", "What", 24, rank=0, grow=60))
ARROW = {"INVITE": "──INVITE──▶", "18x": "◀──18x──", "answer": "◀══{code}══",
         "final": "◀──{code}──", "release": "──BYE/release"}
EXPORT_COLS = ["seq", "carrier_id", "carrier_name", "started_at", "dst", "cli", "sip_code",
               "sip_reason", "pdd_ms", "duration_s", "release_reason", "cost", "why",
               "fas_signals"]


class CallScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="call.back"),
        Binding("c", "copy", "Copy call id", id="call.copy"),
    ]
    DEFAULT_CSS = """
    CallScreen #call-head { height: auto; padding: 0 1; background: $surface; }
    CallScreen #ladder { height: auto; max-height: 40%; }
    CallScreen #timeline { height: 1fr; border-top: solid $panel; }
    CallScreen #detail { height: auto; max-height: 8; padding: 0 1; border-top: solid $panel; }
    """

    def __init__(self, call_id: str) -> None:
        super().__init__()
        self.call_id = call_id
        self.ladder: list[dict[str, Any]] = []
        self.flags: dict[str, list[str]] = {}
        self.pending = True

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        crumb = Text("Call ")
        crumb.append_text(fmt.lit(self.call_id))
        yield HeaderBar(crumb)
        yield Note("Loading…", id="call-head")
        yield NavTable(id="ladder", sort="seq")
        yield NavTable(id="timeline", fit_width=True)
        yield Note("", id="detail")
        yield KeyHints()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#ladder").focus()

    def refresh_data(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="call")
    def load(self) -> None:
        app = self.noc
        try:
            with app.reader() as cache:
                rows = app.carrier_rows.values() if app.carrier_rows else \
                    carrier_list(cache, WINDOWS[app.window], app.now())[1]
                flags = {r["id"]: list(r.get("fas_flags") or []) for r in rows
                         if r.get("fas_flags")}
                ladder = call_ladder(cache, self.call_id, app.settings.metrics, flags)
        except Exception as exc:
            self.post_message(LoadFailed("call", str(exc)))
            return
        self.post_message(CallLoaded(self.call_id, ladder, flags))

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.pending = False
        self.noc.load_failed(msg)

    def on_call_loaded(self, msg: CallLoaded) -> None:
        self.pending = False
        self.ladder = msg.ladder
        self.flags = msg.carrier_flags
        self.render_rows()

    def render_rows(self) -> None:
        hs = self.noc.health_style
        ladder = self.ladder
        head = Text()
        if not ladder:
            head.append("No attempts of this call in the cache.", style="dim")
        else:
            first, last = ladder[0], ladder[-1]
            head.append("Call ")
            head.append_text(fmt.lit(self.call_id, "bold"))
            head.append("  to ")
            head.append_text(fmt.lit(first["dst"], "bold"))
            if first.get("cli"):
                head.append("  from ")
                head.append_text(fmt.lit(first["cli"]))
            head.append(f"\nstarted {fmt.when(first['started_at'])}  "
                        f"{len(ladder)} attempt{'s' if len(ladder) != 1 else ''}  ")
            if last["connected"]:
                head.append(f"connected on {last['carrier_id']} for {last['duration_s']} s",
                            style="bold " + hs("fine"))
            else:
                done = next((a for a in ladder if a["connected"]), None)
                head.append("connected on " + done["carrier_id"] if done else "failed",
                            style="bold " + (hs("fine") if done else hs("down")))
        self.query_one("#call-head", Note).update(head)
        cols = LADDER_COLS
        cells = []
        for a in ladder:
            st = hs("fine") if a["connected"] else hs("suspect") if "halt violation" in a["why"] \
                else ""
            carrier = fmt.lit(a.get("carrier_name") or a["carrier_id"])
            by_key = {
                "seq": fmt.num(str(a["seq"])), "carrier": carrier,
                "code": fmt.num(str(a["sip_code"]), "bold " + st if st else "bold"),
                "reason": fmt.lit(a.get("sip_reason") or code_words(a["sip_code"])),
                "pdd": fmt.num(fmt.millis(a.get("pdd_ms"))),
                "dur": fmt.num(fmt.secs(a["duration_s"]) if a["connected"] else ""),
                "why": fmt.lit(a["why"], st),
            }
            cells.append((str(a["seq"]), [by_key[c.key] for c in cols], a))
        self.query_one("#ladder", NavTable).sync(cols, cells, EXPORT_COLS)
        self._timeline()
        self._detail()

    def _timeline(self) -> None:
        hs = self.noc.health_style
        cells = []
        for n, e in enumerate(call_timeline(self.ladder)):
            if e["when"] == "exact":
                at, off = fmt.when(e["at_ms"]), f"+{e['offset_ms'] / 1000:.3f}"
            elif e["when"] == "before":
                at, off = "", f"≤{e['offset_ms'] / 1000:.3f}"
            else:
                at, off = "", "?"
            code = e["code"]
            ok = code is not None and 200 <= code <= 299
            style = hs("fine") if ok else "bold" if e["event"] == "final" else ""
            arrow = ARROW[e["event"]].format(code=code)
            cells.append((str(n), [
                fmt.lit(at), fmt.num(off), fmt.num(str(e["seq"])),
                fmt.lit(e.get("carrier_name") or e["carrier_id"]),
                fmt.lit(arrow, style), fmt.lit(e["text"], style)], e))
        self.query_one("#timeline", NavTable).sync(TIMELINE_COLS, cells)

    def _detail(self) -> None:
        raw = self.query_one("#ladder", NavTable).cursor_raw()
        t = Text()
        if raw:
            t.append(f"#{raw['seq']} ")
            t.append_text(fmt.lit(raw.get("carrier_name") or raw["carrier_id"], "bold"))
            t.append(": ")
            t.append_text(fmt.lit(raw["why"]))
            if raw.get("release_reason"):
                t.append("\nrelease: ")
                t.append_text(fmt.lit(raw["release_reason"]))
        signals = [(a["seq"], s) for a in self.ladder for s in a["fas_signals"]]
        if signals:
            t.append("\nFAS signals: ", style="bold " + self.noc.health_style("suspect"))
            t.append("; ".join(f"#{seq} {s}" for seq, s in signals))
        elif self.ladder:
            t.append("\nFAS signals: none for this call")
        self.query_one("#detail", Note).update(t)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        if self.ladder:
            self._detail()

    def on_resize(self) -> None:
        if self.ladder:
            self.render_rows()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_copy(self) -> None:
        self.noc.copy_call_id(self.call_id)

    def export_name(self) -> str:
        return f"call-{self.call_id}"

    def export_data(self) -> Snapshot | None:
        if not self.ladder:
            return None
        cols, rows = self.query_one("#ladder", NavTable).export_rows()
        return table_snapshot(self.export_name(), cols, rows, self.noc.now(),
                              WINDOWS[self.noc.window])
