"""Tab 2 of the trunk-group screen: the group's deliveries in the window, newest first,
failovers and losses unless another outcome is picked (`o`), optionally only those
with one trigger (`t`: their first or last attempt's). Enter shows a delivery's chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from noc_tui.analytics.inbound import delivery_list
from noc_tui.analytics.views import WINDOWS
from noc_tui.records.inbound import OUTCOMES, TRIGGERS
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.host import host
from noc_tui.ui.trunk_list import inbound_now
from noc_tui.ui.widgets import Col, NavTable, Note

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

DEFAULT = "failover+lost"
OUTCOME_CHOICES = (DEFAULT, "all", *OUTCOMES)
TRIGGER_CHOICES = ("any", *TRIGGERS)
LIMIT = 2000  # newest deliveries read per outcome
DELIVERY_COLS = (Col("started_at", "Started", 19, pin=True, sort="desc"),
                 Col("did", "DID", 12, pin=True, sort="asc"),
                 Col("outcome", "Outcome", 18, pin=True, sort="asc"),
                 Col("via", "Via", 15, rank=0, sort="asc"),
                 Col("attempts", "Att", 3, pin=True, sort="desc"),
                 Col("first_trigger", "First trigger", 18, rank=1, sort="asc"),
                 Col("last_trigger", "Last trigger", 18, rank=2, sort="asc"),
                 Col("delivery_id", "Delivery", 12, rank=3, grow=20, sort="asc"))


def outcome_style(outcome: str, style_of: Any) -> str:
    return {"lost": style_of("down"), "answered_failover": style_of("degraded")}.get(
        outcome, "")


class DeliveriesPane(CarrierPart):
    PART = "deliveries"
    LABEL = "2 Deliveries"
    INFO = "deliveries-info"

    def __init__(self) -> None:
        super().__init__()
        self.outcome = DEFAULT
        self.trigger = "any"
        self.capped = False

    def widgets(self) -> list[Widget]:
        return [Note("", id="deliveries-info", classes="info"),
                NavTable(id="t-deliveries")]

    def cycle_outcome(self) -> None:
        self.outcome = OUTCOME_CHOICES[(OUTCOME_CHOICES.index(self.outcome) + 1)
                                       % len(OUTCOME_CHOICES)]

    def cycle_trigger(self) -> None:
        self.trigger = TRIGGER_CHOICES[(TRIGGER_CHOICES.index(self.trigger) + 1)
                                       % len(TRIGGER_CHOICES)]

    def read(self, cache: Cache, app: Host, gid: str) -> dict[str, Any]:
        now, window_s = inbound_now(app), WINDOWS[app.window]
        picked = (("answered_failover", "lost") if self.outcome == DEFAULT
                  else (None,) if self.outcome == "all" else (self.outcome,))
        rows: list[dict[str, Any]] = []
        capped = False
        for o in picked:
            got = delivery_list(cache, gid, now, window_s, o, limit=LIMIT)
            capped = capped or len(got) == LIMIT
            rows += got
        rows.sort(key=lambda r: (r["started_at"], r["delivery_id"]), reverse=True)
        if self.trigger != "any":
            rows = [r for r in rows if self.trigger in (r["first_trigger"], r["last_trigger"])]
        return {"rows": rows, "outcome": self.outcome, "trigger": self.trigger,
                "capped": capped}

    def show_data(self, data: dict[str, Any]) -> None:
        app = host(self)
        rows = data["rows"]
        info = Text.assemble(("Outcome ", "bold"), data["outcome"].replace("+", " + "),
                             " (o)  ", ("trigger ", "bold"), data["trigger"], " (t)  ",
                             f"{len(rows):,} deliver{'y' if len(rows) == 1 else 'ies'} in "
                             f"the {app.window} window, newest first; Enter: its chain")
        if data["capped"]:
            info.append(f"  (the newest {LIMIT:,} per outcome)", style="dim")
        style_of = app.health_style
        cells = [(r["delivery_id"], [
            fmt.lit(fmt.when(r["started_at"])), fmt.lit(r["did"]),
            fmt.lit(r["outcome"], style=outcome_style(r["outcome"], style_of)),
            fmt.lit(r["via"] or ""), fmt.num(str(r["attempts"])),
            fmt.lit(r["first_trigger"] or ""), fmt.lit(r["last_trigger"] or ""),
            fmt.lit(r["delivery_id"])], r) for r in rows]
        if not rows:
            cells = [("none", [Text("no deliveries", style="dim"), *[Text("")] * 7], {})]
        self.query_one("#t-deliveries", NavTable).sync(DELIVERY_COLS, cells, [
            "delivery_id", "did", "started_at", "outcome", "via", "attempts",
            "first_trigger", "last_trigger"])
        self.show_info(info)
