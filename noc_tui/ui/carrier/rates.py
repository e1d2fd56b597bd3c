"""Tab 2 of the carrier screen: the carrier's rate cards, filtered by a number prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.widgets import Input

from noc_tui.analytics.views import rates
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.widgets import Col, NavTable, Note
from noc_tui.ui.widgets.key_focus import focus_now

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

RATE_COLS = (Col("prefix", "Prefix", 10, pin=True, sort="asc"),
             Col("destination", "Destination", 20, rank=0, sort="asc"),
             Col("rate", "Rate/min", 9, pin=True, sort="desc"),
             Col("connect_fee", "Conn fee", 8, rank=1, sort="desc"),
             Col("mcd_pulse", "MCD/pulse", 9, rank=2, sort="desc", field="mcd_s"),
             Col("effective_from", "Effective", 19, rank=3, sort="desc"),
             Col("status", "Status", 13, rank=4, sort="asc"),
             Col("card", "Card", 14, rank=5, sort="asc", field="card_name"))


class RatesPane(CarrierPart):
    PART = "rates"
    LABEL = "2 Rates Grid"

    DEFAULT_CSS = """
    RatesPane #rate-prefix { height: 3; border: tall $panel; }
    RatesPane #rate-prefix:focus { border: tall $primary; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.prefix = ""

    def widgets(self) -> list[Widget]:
        box = Input(placeholder="/ prefix filter: digits, e.g. 44 or a full number",
                    id="rate-prefix", restrict=r"[0-9]*")
        box.can_focus = False  # only `/` enters it, so digits keep switching tabs
        return [box,
                Note("", id="rates-info", classes="info"), NavTable(id="t-rates", sort="prefix")]

    def reset(self) -> None:
        super().reset()
        self.prefix = ""
        for box in self.query("#rate-prefix").results(Input):
            with box.prevent(Input.Changed):
                box.value = ""
            box.can_focus = False

    # -- the prefix box ------------------------------------------------------------------

    def enter_prefix(self) -> None:
        box = self.query_one("#rate-prefix", Input)
        box.can_focus = True
        focus_now(box)

    @property
    def prefix_focused(self) -> bool:
        return any(box.has_focus for box in self.query("#rate-prefix").results(Input))

    @on(Input.Submitted, "#rate-prefix")
    def leave_prefix(self) -> None:
        self.query_one("#rate-prefix", Input).can_focus = False
        self.query_one("#t-rates").focus()

    # -- data ----------------------------------------------------------------------------

    def read(self, cache: Cache, app: Host, carrier_id: str) -> dict[str, Any]:
        prefix = self.prefix
        rows, total = rates(cache, carrier_id, prefix, app.now())
        return {"rows": rows, "total": total, "prefix": prefix}

    def show_data(self, data: dict[str, Any]) -> None:
        rows = data["rows"]
        cells = []
        for i, r in enumerate(rows):
            st = "dim" if r["status"] != "active" or r.get("future") else ""
            status = r["status"] + (" from then" if r.get("future") else "")
            cells.append((f"{i}", [
                fmt.lit(r["prefix"], st), fmt.lit(r.get("destination"), st),
                fmt.num(f"{r['rate']:.4f}", st), fmt.num(f"{r['connect_fee']:.4f}", st),
                fmt.num(f"{r['mcd_s']}/{r['pulse_s']}", st),
                fmt.lit(fmt.when(r["effective_from"]), st), fmt.lit(status, st),
                fmt.lit(r.get("card_name") or r["card_id"], st)], r))
        self.query_one("#t-rates", NavTable).sync(RATE_COLS, cells, [
            "card_id", "card_name", "prefix", "destination", "rate", "connect_fee", "mcd_s",
            "pulse_s", "currency", "effective_from", "status"])
        info = Text(f"{data['total']:,} rate rows")
        if data["prefix"]:
            info = Text(f"{data['total']:,} rate rows for prefix ")
            info.append_text(fmt.lit(data["prefix"], "bold"))
        if data["total"] > len(rows):
            info.append(f" (first {len(rows):,} shown: narrow the prefix)")
        if not rows:
            info.append(" — none match" if data["prefix"] else " — no rate cards on file")
        self.query_one("#rates-info", Note).update(info)
