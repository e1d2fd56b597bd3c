"""A delivery's chain (Enter on a delivery): each attempt's target, edge, whether it was
sent or decided by the switch itself, its first 1xx, code and trigger, and in plain
words why the chain moved on or stopped under the group's policy."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen

from noc_tui.analytics.trunk_group import triggers_short
from noc_tui.analytics.views import WINDOWS
from noc_tui.ui import cells as fmt
from noc_tui.ui.export import Snapshot, table_snapshot
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import ChainLoaded, LoadFailed
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note
from noc_tui.ui.widgets.columns import text_width

# The text columns are as wide as what the chain holds (chain_cols): a few attempts, so
# the width a short kind, trigger or edge leaves goes to the target.
CHAIN_COLS = (Col("seq", "#", 2, pin=True),
              Col("target_kind", "Target kind", 11, pin=True),
              Col("sent", "Sent", 5, pin=True),
              Col("sip_code", "Code", 4, pin=True),
              Col("trigger", "Trigger", 7, pin=True),
              Col("first_1xx_ms", "1st 1xx", 7, rank=0),
              Col("edge", "Edge", 4, rank=1),
              Col("target", "Target", 16, rank=2),
              Col("started_at", "Started", 19, rank=3))
TARGET_WHOLE = 16  # a target this long is shown whole before Started gets room
EXPORT_COLS = ["seq", "started_at", "target_kind", "target", "edge", "sent", "number_source",
               "first_1xx_ms", "sip_code", "sip_reason", "duration_s", "cancelled", "trigger",
               "why"]


def trigger_text(a: dict[str, Any]) -> str:
    return a["trigger"] or ("cancelled" if a["cancelled"] else "")


def chain_cols(attempts: list[dict[str, Any]]) -> tuple[Col, ...]:
    """CHAIN_COLS with the text columns as wide as their longest value as shown (an
    escaped control character takes four cells); the target grows into what is left."""
    def longest(text: Any) -> int:
        return max((len(fmt.clean(text(a))) for a in attempts), default=0)

    widths = {"target_kind": longest(lambda a: a["target_kind"]),
              "trigger": longest(trigger_text), "edge": longest(lambda a: a["edge"] or "")}
    target = longest(lambda a: a["target"] or "")
    return tuple(text_width(c, target, TARGET_WHOLE) if c.key == "target"
                 else text_width(c, widths[c.key]) if c.key in widths else c
                 for c in CHAIN_COLS)


class DeliveryChainScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="chain.back"),
    ]
    DEFAULT_CSS = """
    DeliveryChainScreen #chain-head { height: auto; padding: 0 1; background: $surface; }
    DeliveryChainScreen #chain { height: auto; max-height: 50%; }
    DeliveryChainScreen #chain-why { height: 1fr; padding: 0 1; border-top: solid $panel; }
    """

    def __init__(self, delivery_id: str, group_name: str | None = None) -> None:
        super().__init__()
        self.delivery_id = delivery_id
        self.group_name = group_name
        self.chain: dict[str, Any] | None = None
        self.pending = True

    @property
    def noc(self) -> Host:
        return host(self)

    def compose(self) -> ComposeResult:
        crumb = Text("Trunk groups › ")
        if self.group_name:
            crumb.append_text(fmt.lit(self.group_name))
            crumb.append(" › ")
        crumb.append("delivery ")
        crumb.append_text(fmt.lit(self.delivery_id))
        yield HeaderBar(crumb)
        yield Note("Loading…", id="chain-head")
        yield NavTable(id="chain")
        yield Note("", id="chain-why")
        yield KeyHints()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#chain").focus()

    def refresh_data(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="chain")
    def load(self) -> None:
        from noc_tui.analytics.trunk_group import delivery_chain

        try:
            with self.noc.reader() as cache:
                chain = delivery_chain(cache, self.delivery_id)
        except Exception as exc:
            self.post_message(LoadFailed("delivery", str(exc)))
            return
        self.post_message(ChainLoaded(self.delivery_id, chain))

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.pending = False
        self.noc.load_failed(msg)

    def on_chain_loaded(self, msg: ChainLoaded) -> None:
        self.pending = False
        self.chain = msg.chain
        self.render_rows()

    def render_rows(self) -> None:
        hs = self.noc.health_style
        c = self.chain
        head, why = Text(), Text()
        if c is None:
            head.append("No attempts of this delivery in the cache.", style="dim")
            self.query_one("#chain-head", Note).update(head)
            return
        first = c["attempts"][0]
        head.append("Delivery ")
        head.append_text(fmt.lit(c["delivery_id"], "bold"))
        head.append(" to DID ")
        head.append_text(fmt.lit(c["did"], "bold"))
        if first.get("caller"):
            head.append(" from ")
            head.append_text(fmt.lit(first["caller"]))
        outcome = c["outcome"] or "unknown"
        style = {"lost": hs("down"), "answered_failover": hs("degraded"),
                 "answered_first_try": hs("fine")}.get(outcome, "")
        head.append("\noutcome ")
        head.append(outcome + (f" via {c['via']}" if c["via"] else ""), style="bold " + style)
        head.append(f"  started {fmt.when(first['started_at'])}")
        head.append("\npolicy ")
        head.append_text(fmt.lit(c["policy"] or "none (group not configured)"))
        head.append("  chain " + " → ".join(c["chain"]))
        head.append("\nfails over on " + triggers_short(c["failover_triggers"]))
        self.query_one("#chain-head", Note).update(head)
        cells = []
        for a in c["attempts"]:
            ok = 200 <= a["sip_code"] <= 299
            st = hs("fine") if ok else hs("down") if a["trigger"] else ""
            cells.append((str(a["seq"]), [
                fmt.num(str(a["seq"])), fmt.lit(a["target_kind"]),
                fmt.lit("sent" if a["sent"] else "local"),
                fmt.num(str(a["sip_code"]), "bold " + st if st else "bold"),
                fmt.lit(trigger_text(a)),
                fmt.num(fmt.millis(a["first_1xx_ms"])), fmt.lit(a["edge"] or ""),
                fmt.lit(a["target"] or ""), fmt.lit(fmt.when(a["started_at"]))], a))
            if why.plain:
                why.append("\n")
            why.append(f"#{a['seq']} ", style="bold")
            why.append_text(fmt.lit(a["target_kind"], "bold"))
            if a.get("sip_reason"):
                why.append(" (")
                why.append_text(fmt.lit(a["sip_reason"]))
                why.append(")")
            why.append(": ")
            why.append_text(fmt.lit(a["why"], st))
        why.no_wrap = False
        self.query_one("#chain", NavTable).sync(chain_cols(c["attempts"]), cells,
                                                EXPORT_COLS)
        self.query_one("#chain-why", Note).update(why)

    def action_back(self) -> None:
        self.app.pop_screen()

    def export_name(self) -> str:
        return f"delivery-{self.delivery_id}"

    def export_data(self) -> Snapshot | None:
        if not self.chain:
            return None
        cols, rows = self.query_one("#chain", NavTable).export_rows()
        return table_snapshot(self.export_name(), cols, rows, self.noc.now(),
                              WINDOWS[self.noc.window])
