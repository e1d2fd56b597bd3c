"""Tab 6 of the carrier screen: failover calls, out (failed here, connected elsewhere)
or in (picked up here after another failed), a page at a time, with the carrier's
failover policy and the codes seen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from noc_tui.analytics.metrics import FAILOVER_ORDERS, failover_page
from noc_tui.analytics.views import WINDOWS, failover_policy, fas_map
from noc_tui.store.poll_status import failures_recorded
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.new_calls import NEW_COL, NewCalls, is_new, mark
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.host import host
from noc_tui.ui.widgets import Col, NavTable, Note
from noc_tui.ui.widgets.table_sort import descending

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

PAGE = 500  # failover rows per page: 100,000 calls never sit in the table at once

# Sorted in SQL (a page at a time): the keys are failover_page's orders.
_STARTED = Col("started_at", "Started", 19, pin=True, sort="desc")
_CALL = Col("call_id", "Call id", 20, rank=3, sort="asc", hotkey="i")
_NUMBER = Col("dst", "Number", 14, rank=0, sort="asc")
_CODE = Col("failed_code", "Code", 4, pin=True, sort="asc", hotkey="c")
_REASON = Col("failed_reason", "Reason", 18, rank=2, sort="asc")
_DUR = Col("connected_duration_s", "Dur", 5, rank=4, sort="asc")
_HALT = Col("halt", "Halt", 4, pin=True, sort="desc", field="halt_violation")
_FAS = Col("fas", "FAS", 3, pin=True, sort="desc", field="fas_suspect")
FO_OUT_COLS = (NEW_COL, _STARTED, _CALL, _NUMBER, _CODE, _REASON,
               Col("connected_carrier_id", "Connected on", 14, rank=1, sort="asc"),
               _DUR, _HALT, _FAS)
FO_IN_COLS = (NEW_COL, _STARTED, _CALL, _NUMBER,
              Col("failed_carrier_id", "Failed on", 14, rank=1, sort="asc"),
              _CODE, _REASON, _DUR, _HALT, _FAS)
FO_COLS = {"out": FO_OUT_COLS, "in": FO_IN_COLS}


class FailoverPane(CarrierPart):
    PART = "failover"
    LABEL = "6 Failover"
    INFO = "fo-info"

    def __init__(self) -> None:
        super().__init__()
        self.new_calls = NewCalls()
        self.sort_key = "started_at"  # newest first; the operator's sort stays per carrier
        self.sort_flipped = False
        self._clear_view()

    def end_look(self) -> None:
        self.new_calls.end()

    def shown_again(self) -> None:
        if self.last_data is not None:
            self.show_data(self.last_data)  # a new look: the marks of the last one go

    def _clear_view(self) -> None:
        self.direction = "out"
        self.halt_only = False
        self.fas_only = False
        self.row_offset = 0  # the page's first row
        self.row_total = 0  # of the last page read
        self.page_cursor: str | None = None  # where the next page puts the cursor

    def widgets(self) -> list[Widget]:
        saved = host(self).saved_sort("t-failover")
        if saved is not None and any(c.key == saved[0] and c.sort for c in FO_OUT_COLS):
            self.sort_key, self.sort_flipped = saved
        return [Note("", id="policy", classes="info"), Note("", id="fo-info", classes="info"),
                NavTable(id="t-failover", sorts_rows=False)]

    def reset(self) -> None:
        super().reset()
        self._clear_view()

    # -- what is shown -------------------------------------------------------------------

    def toggle_direction(self) -> None:
        self.direction = "in" if self.direction == "out" else "out"
        self.row_offset = 0
        if not any(c.key == self.sort_key for c in FO_COLS[self.direction]):
            self.sort_key, self.sort_flipped = "started_at", False

    def set_sort(self, key: str, flipped: bool) -> None:
        """Sort by a column (a new query, from the first page)."""
        self.sort_key, self.sort_flipped = key, flipped
        self.row_offset = 0

    def _order(self) -> tuple[str, bool]:
        col = next(c for c in FO_COLS[self.direction] if c.key == self.sort_key)
        order = col.sort_field
        if order not in FAILOVER_ORDERS[self.direction]:
            return "started_at", True
        return order, descending(col, self.sort_flipped)

    def toggle_halt(self) -> None:
        self.halt_only = not self.halt_only
        self.row_offset = 0

    def toggle_fas(self) -> None:
        self.fas_only = not self.fas_only
        self.row_offset = 0

    def turn_page(self, step: int) -> bool:
        """Move `step` pages on; False (and no move) past either end."""
        new = self.row_offset + step * PAGE
        if new < 0 or new >= max(self.row_total, 1):
            return False
        self.row_offset = new
        return True

    # -- data ----------------------------------------------------------------------------

    def read(self, cache: Cache, app: Host, carrier_id: str) -> dict[str, Any]:
        window_s = WINDOWS[app.window]
        now = app.now()
        fas = fas_map(cache, window_s, now)
        order, desc = self._order()
        page = failover_page(
            cache, carrier_id, now, window_s, app.settings.metrics,
            direction=self.direction, offset=self.row_offset, limit=PAGE,
            halt_only=self.halt_only, fas_only=self.fas_only, fas=fas, order=order,
            descending=desc)
        policy = failover_policy(cache, carrier_id, now, window_s, app.settings.metrics)
        return {"page": page, "policy": policy, "unknown": failures_recorded(cache) is False,
                "carrier_id": carrier_id}

    def show_data(self, data: dict[str, Any]) -> None:
        self.last_data = data
        page, policy = data["page"], data["policy"]
        hs = host(self).health_style
        p = Text("Failover policy: halts on ", style="")
        p.append(policy.halts, style="bold")
        p.append(" (carrier's own list)" if policy.custom else " (default list)")
        p.append("; every other non-2xx fails over to the next carrier.")
        if policy.seen:
            p.append("\nSeen here: ")
            for i, (code, n, action) in enumerate(policy.seen[:8]):
                if i:
                    p.append(", ")
                p.append(f"{code}×{n:,}→{action}",
                         style=hs("suspect") if action == "halt" else "")
        self.query_one("#policy", Note).update(p)
        self.row_total = page.total
        cols = FO_COLS[page.direction]
        seen = self.new_calls.look(host(self), f"failover-{page.direction}:{data['carrier_id']}",
                                   (r["started_at"] for r in page.rows))
        new = 0
        cells = []
        for r in page.rows:
            fresh = is_new(r["started_at"], seen)
            new += fresh
            hv = Text("HALT", style="bold " + hs("suspect")) if r["halt_violation"] else Text("")
            fas = Text("FAS", style="bold " + hs("suspect")) if r["fas_suspect"] else Text("")
            common = [mark(fresh), fmt.lit(fmt.when(r["started_at"])), fmt.lit(r["call_id"]),
                      fmt.lit(r["dst"])]
            if page.direction == "out":
                rest = [fmt.num(str(r["failed_code"])), fmt.lit(r["failed_reason"]),
                        fmt.lit(r["connected_carrier_id"]),
                        fmt.num(fmt.secs(r["connected_duration_s"]))]
            else:
                rest = [fmt.lit(r["failed_carrier_id"]), fmt.num(str(r["failed_code"])),
                        fmt.lit(r["failed_reason"]),
                        fmt.num(fmt.secs(r["connected_duration_s"]))]
            cells.append((r["call_id"], [*common, *rest, hv, fas], r))
        raw_cols = list(page.rows[0]) if page.rows else []
        table = self.query_one("#t-failover", NavTable)
        table.sort_by(self.sort_key, self.sort_flipped)
        table.sync(cols, cells, raw_cols)
        table.more_below = page.offset + len(page.rows) < page.total
        table.more_above = page.offset > 0
        if self.page_cursor == "top":
            table.move_cursor(row=0, animate=False)
        elif self.page_cursor == "bottom":
            table.move_cursor(row=max(0, table.row_count - 1), animate=False)
        self.page_cursor = None
        info = Text("Calls that failed here and connected elsewhere" if page.direction == "out"
                    else "Calls this carrier picked up after another failed", style="bold")
        info.append(f"  ({host(self).window})  i: {'in' if page.direction == 'out' else 'out'}")
        filters = [n for n, on_ in (("halt violations", self.halt_only),
                                    ("FAS suspects", self.fas_only)) if on_]
        info.append("  filter: " + (" + ".join(filters) if filters else "none (h, f)"))
        if page.total:
            last = page.offset + len(page.rows)
            info.append(f"\nrows {page.offset + 1:,}–{last:,} of {page.total:,}")
            if page.total > PAGE:
                info.append(f"  page {page.offset // PAGE + 1}/{-(-page.total // PAGE)}"
                            "  ([ ] or scroll past the edge)")
            if new:
                info.append(f"  • {new:,} new since you last looked", style="bold")
        else:
            info.append("\nno failover calls in this window" if not data.get("unknown") else
                        "\nfailover unknown: the switch's records hold no failed attempts")
        self.show_info(info)
