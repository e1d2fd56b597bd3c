"""The alarm screen (`!` or the palette, from any screen): open alarms, then past ones,
each with when it was raised and cleared, what crossed and how sending it went.
`a` acknowledges the selected open alarm: silenced until it clears."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable

from noc_tui.records.timefmt import ms_to_iso
from noc_tui.ui import cells as fmt
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import AlarmAcked, AlarmsLoaded, LoadFailed
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note

# Three widths: the columns that fit 80, 120 and 180 columns (cells pad 1 each side).
FULL_COLS = (Col("state", "State", 7), Col("raised", "Raised (UTC)", 19),
             Col("cleared", "Cleared (UTC)", 19), Col("subject", "Carrier / trunk group", 24),
             Col("what", "What crossed", 40), Col("now", "Last judged", 30),
             Col("delivery", "Sent", 24))
MEDIUM_COLS = FULL_COLS[:5]
COMPACT_COLS = (Col("state", "State", 7), Col("raised", "Raised (UTC)", 19),
                Col("subject", "Carrier / TG", 14), Col("what", "What crossed", 30))
EXPORT_COLS = ["id", "state", "subject_kind", "subject_id", "subject_name", "kind", "window",
               "raised_at", "message", "last_message", "cleared_at", "acked_at", "delivery"]


def state_of(alarm: Any) -> str:
    return "cleared" if not alarm.open else "acked" if alarm.silenced else "OPEN"


class AlarmScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="alarms.back"),
        Binding("a", "acknowledge", "Acknowledge", id="alarms.ack"),
    ]
    DEFAULT_CSS = """
    AlarmScreen #alarm-info { height: auto; max-height: 3; background: $surface; }
    AlarmScreen #t-alarms { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.alarms: list[Any] = []
        self.loaded = False
        self.pending: set[str] = set()
        self.inbound_as_of_ms: int | None = None

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        yield HeaderBar(Text("Alarms"))
        yield Note("Loading…", id="alarm-info")
        yield NavTable(id="t-alarms")
        yield KeyHints()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#t-alarms").focus()

    def refresh_data(self) -> None:
        self.load()

    def load(self) -> None:
        self.pending.add("alarms")
        self._read()

    @work(thread=True, exclusive=True, group="alarms")
    def _read(self) -> None:
        from noc_tui.analytics.inbound import NOW_KEY
        from noc_tui.store.alarms import alarm_history

        try:
            with self.noc.reader() as cache:
                alarms = alarm_history(cache.conn)
                as_of = cache.meta(NOW_KEY)
        except Exception as exc:
            self.post_message(LoadFailed("alarms", str(exc)))
            return
        self.post_message(AlarmsLoaded(alarms, int(as_of) if as_of is not None else None))

    def on_alarms_loaded(self, msg: AlarmsLoaded) -> None:
        self.pending.discard("alarms")
        self.loaded = True
        self.alarms = msg.alarms
        self.inbound_as_of_ms = msg.inbound_as_of_ms
        self.render_rows()

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.pending.discard(msg.what)
        self.loaded = True
        self.noc.load_failed(msg)

    def render_rows(self) -> None:
        alarms = self.alarms
        opened = [a for a in alarms if a.open]
        silenced = sum(1 for a in opened if a.silenced)
        info = Text()
        if opened:
            info.append(f"{len(opened)} open", style="bold " + self.noc.health_style("down"))
            if silenced:
                info.append(f" ({silenced} acknowledged)")
        else:
            info.append("No alarm open")
        info.append(f", {len(alarms) - len(opened)} past")
        width = self.app.size.width
        if width < 100:
            info.append(". a acknowledges, Enter opens it.")  # one line at 80
        else:
            info.append(f"; judged over the {self.noc.settings.alarms.window} window at "
                        "every poll or import. a acknowledges the selected open alarm "
                        "(silenced until it clears), Enter opens its carrier or trunk group.")
        self.query_one("#alarm-info", Note).update(info)
        cols = COMPACT_COLS if width < 100 else MEDIUM_COLS if width < 180 else FULL_COLS
        hs = self.noc.health_style
        rows = []
        for a in alarms:
            state = state_of(a)
            st = {"OPEN": "bold " + hs("down"), "acked": hs("suspect"), "cleared": "dim"}[state]
            body = "dim" if state == "cleared" else ""
            by_key = {
                "state": Text(state, style=st), "raised": fmt.lit(fmt.when(a.raised_at)),
                "cleared": fmt.lit(fmt.when(a.cleared_at)),
                # "TG" as the search screen says it: at 80 columns the name still shows.
                "subject": fmt.lit(a.subject if a.subject_kind == "carrier"
                                   else f"TG {a.subject}", body),
                "what": fmt.lit(f"{a.message} ({a.over})", body),
                "now": fmt.lit(a.last_message, body),
                "delivery": fmt.lit(a.delivery or "", "dim"),
            }
            raw = {"id": a.id, "state": state, "subject_kind": a.subject_kind,
                   "subject_id": a.subject_id, "subject_name": a.subject_name,
                   "kind": a.kind, "window": a.over, "raised_at": ms_to_iso(a.raised_at),
                   "message": a.message, "last_message": a.last_message,
                   "cleared_at": ms_to_iso(a.cleared_at) if a.cleared_at else None,
                   "acked_at": ms_to_iso(a.acked_at) if a.acked_at else None,
                   "delivery": a.delivery}
            rows.append((str(a.id), [by_key[c.key] for c in cols], raw))
        if not rows:
            rows = [("none", [Text("no alarm has been raised", style="dim"),
                              *[Text("")] * (len(cols) - 1)], {})]
        self.query_one("#t-alarms", NavTable).sync(cols, rows, EXPORT_COLS)

    def on_resize(self) -> None:
        if self.loaded:
            self.render_rows()

    # -- actions ---------------------------------------------------------------------

    def _selected(self) -> dict[str, Any] | None:
        raw = self.query_one("#t-alarms", NavTable).cursor_raw()
        return raw or None

    def action_acknowledge(self) -> None:
        raw = self._selected()
        if not raw or raw["state"] != "OPEN":
            self.app.bell()
            self.notify("Select an open alarm to acknowledge." if not raw or
                        raw["state"] != "acked" else "Already acknowledged.",
                        timeout=4, markup=False)
            return
        self._acknowledge(raw["id"], fmt.clean(raw["subject_name"] or raw["subject_id"]))

    @work(thread=True, group="ack")
    def _acknowledge(self, alarm_id: int, subject: str) -> None:
        from noc_tui.store.alarms import acknowledge

        app = self.noc
        try:
            done = acknowledge(app.cache_path, alarm_id, app.now())
        except Exception as exc:
            self.post_message(LoadFailed("acknowledge", f"{exc} (is the cache writable?)"))
            return
        self.post_message(AlarmAcked(alarm_id, subject, done))

    def on_alarm_acked(self, msg: AlarmAcked) -> None:
        self.notify(f"Acknowledged: {msg.subject}" if msg.done
                    else f"{msg.subject}: cleared or acknowledged meanwhile",
                    title="Alarm", timeout=4, markup=False)
        self.noc.data_changed()  # the list's marks and this screen

    @on(DataTable.RowSelected, "#t-alarms")
    def _open(self, event: DataTable.RowSelected) -> None:
        raw = self._selected()
        if not raw:
            return
        if raw["subject_kind"] == "carrier":
            self.noc.open_carrier(raw["subject_id"])
        elif raw["subject_kind"] == "trunk group":
            # As of the stored figures the alarm was judged on, as from the trunk-group
            # list: were it the wall clock, an imported day would show an empty window.
            if self.noc.inbound_as_of_ms is None:
                self.noc.inbound_as_of_ms = self.inbound_as_of_ms
            self.noc.open_trunk_group(raw["subject_id"], raw["subject_name"])

    def action_back(self) -> None:
        self.app.pop_screen()

    def export_name(self) -> str:
        return "alarms"

    def export_table(self) -> tuple[list[str], list[dict[str, Any]]] | None:
        if not self.alarms:
            return None
        return self.query_one("#t-alarms", NavTable).export_rows()
