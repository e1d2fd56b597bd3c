"""Tab 3 of the carrier screen: the carrier's 2xx/404 figures, and the numbers on which
its answer and the other carriers' disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from noc_tui.analytics.views import WINDOWS
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart, carrier_row
from noc_tui.ui.host import host
from noc_tui.ui.widgets import Col, NavTable, Note

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

CONS_COLS = (Col("dst", "Number", 16, pin=True, sort="asc"),
             Col("this", "This carrier", 12, pin=True, sort="desc", field="ok"),
             Col("others", "Others 2xx/404", 14, rank=0, sort="desc",
                 field="others_not_found"),
             Col("verdict", "Others say", 10, rank=1, sort="asc"),
             Col("why", "Why inconsistent", 50, rank=2, sort="asc"))


class ConsistencyPane(CarrierPart):
    PART = "consistency"
    LABEL = "3 Code Consistency"
    INFO = "cons-info"

    def widgets(self) -> list[Widget]:
        return [Note("", id="cons-info", classes="info"), NavTable(id="t-consistency")]

    def read(self, cache: Cache, app: Host, carrier_id: str) -> dict[str, Any]:
        from noc_tui.analytics.metrics import inconsistent_numbers, stored_inconsistent_numbers

        # The numbers kept with the carrier list's figures (same now); computed
        # live only when none were kept.
        nums = stored_inconsistent_numbers(cache, carrier_id, WINDOWS[app.window])
        if nums is None:
            nums = inconsistent_numbers(cache, carrier_id, app.now(), WINDOWS[app.window])
        return {"numbers": nums, "row": carrier_row(cache, app, carrier_id)}

    def show_data(self, data: dict[str, Any]) -> None:
        app = host(self)
        row = data["row"] or {}
        t = Text()
        if not row.get("attempts"):
            t.append(f"No calls in the {app.window} window.", style="dim")
        else:
            t.append(f"n200 {fmt.count(row.get('n200'))}  n404 {fmt.count(row.get('n404'))}  "
                     f"consistency {fmt.pct(row.get('code_consistency'))}"
                     f"  ({app.window})")
            if row.get("never_404"):
                t.append("  NEVER 404: this carrier never says a number does not exist",
                         style="bold " + app.health_style("suspect"))
        nums = data["numbers"]
        t.append(f"\n{len(nums)} inconsistent number{'s' if len(nums) != 1 else ''}"
                 "  (Enter: the calls behind a number)" if nums
                 else "\nNo inconsistent numbers.")
        cells = []
        for n in nums:
            this = "/".join(x for x, on_ in (("2xx", n.ok), ("404", n.not_found)) if on_)
            cells.append((n.dst, [fmt.lit(n.dst), fmt.lit(this),
                                  fmt.num(f"{n.others_ok}/{n.others_not_found}"),
                                  fmt.lit(n.verdict), fmt.lit(n.why)],
                          {"dst": n.dst, "ok": n.ok, "not_found": n.not_found,
                           "others_ok": n.others_ok, "others_not_found": n.others_not_found,
                           "verdict": n.verdict, "why": n.why}))
        self.query_one("#t-consistency", NavTable).sync(CONS_COLS, cells, [
            "dst", "ok", "not_found", "others_ok", "others_not_found", "verdict", "why"])
        self.show_info(t)
