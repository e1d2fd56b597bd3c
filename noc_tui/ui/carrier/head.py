"""The head of the carrier screen: its facts and the last 24 h as sparklines.

It is read with the contacts, in one worker, so Enter on a carrier shows a complete
screen at once (the Contacts tab is the first one shown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Sparkline, Static

from noc_tui.analytics.views import carrier_facts, contacts, hourly_series
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import carrier_row
from noc_tui.ui.host import host
from noc_tui.ui.widgets import Note

if TYPE_CHECKING:
    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host


class CarrierHead(Horizontal):
    """Health, name, facts and the window's figures; attempts and ASR per hour."""

    DEFAULT_CSS = """
    CarrierHead { height: 4; }
    CarrierHead #facts { width: 1fr; height: 4; padding: 0 1; text-wrap: nowrap;
        text-overflow: ellipsis; }
    CarrierHead #sparks { width: 42; height: 4; padding: 0 1 0 0; }
    CarrierHead #sparks Static { height: 1; }
    CarrierHead #sparks Sparkline { height: 1; }
    CarrierHead.-compact #sparks { width: 26; }
    """

    def compose(self) -> ComposeResult:
        yield Note("Loading…", id="facts")
        with Vertical(id="sparks"):
            yield Static("", id="spark-att-label", markup=False)
            yield Sparkline([], id="spark-att")
            yield Static("", id="spark-asr-label", markup=False)
            yield Sparkline([], id="spark-asr")

    shown: dict[str, Any] | None = None  # the data on show (read() of the carrier shown)

    def reset(self) -> None:
        """Another carrier: "Loading…" until its head is read."""
        self.shown = None
        self.query_one("#facts", Note).update(Content("Loading…"))
        for spark in self.query(Sparkline):
            spark.data = []
        for label in ("#spark-att-label", "#spark-asr-label"):
            self.query_one(label, Static).update("")

    def read(self, cache: Cache, app: Host, carrier_id: str) -> dict[str, Any]:
        now = app.now()
        return {
            "facts": carrier_facts(cache, carrier_id, app.settings.metrics, now),
            "series": hourly_series(cache, carrier_id, now),
            "row": carrier_row(cache, app, carrier_id),
            "contacts": contacts(cache, carrier_id),
        }

    def show_list_row(self, rows: dict[str, dict[str, Any]]) -> None:
        """The carrier list (of the current window) arrived: health, alarm and flags
        here are its row's, whatever this head read before."""
        data = self.shown
        if data is not None and data["row"] is not rows.get(data["facts"]["id"]):
            self.show_data({**data, "row": rows.get(data["facts"]["id"])})

    def show_data(self, data: dict[str, Any]) -> None:
        self.shown = data
        facts, row, series = data["facts"], data["row"], data["series"]
        carrier_id = facts["id"]
        hs = host(self).health_style
        t = Text(no_wrap=True, overflow="ellipsis")
        if row:
            h = row.get("health", "fine")
            t.append(f"{h.upper()} ", style="bold " + hs(h))
            if row.get("alarms"):
                t.append("ALARM ", style="bold reverse " + hs("down"))
        t.append_text(fmt.lit(facts.get("name") or carrier_id, style="bold"))
        t.append("\nid ")
        t.append_text(fmt.lit(carrier_id))
        t.append(" · ")
        # What the switch did not say is unknown: "—", never 0 or unlimited.
        t.append_text(fmt.lit(facts.get("status") or fmt.DASH))
        routing = facts.get("routing")
        if routing is not None:  # the switch's live state of its gateways (Kamailio)
            t.append(" · gateways ")
            t.append_text(fmt.lit(routing.summary(), style=hs("down") if routing.down else ""))
        ch = facts.get("channels")
        chans = "unlimited" if ch == 0 else fmt.count(ch)
        t.append(f" · ch {chans} · cps {fmt.count(facts.get('cps'))} · ")
        t.append_text(fmt.lit(facts.get("currency") or fmt.DASH))
        t.append(f" · halts {facts['halts']}"
                 f"{' (own)' if facts.get('halt_codes') is not None else ' (default)'}\n")
        w = host(self).window
        if not row or not row.get("attempts"):
            t.append(f"{w}: no calls", style="dim")
        else:
            t.append(f"{w}: {fmt.count(row['attempts'])} att  ASR {fmt.pct(row['asr'])}  "
                     f"ACD {fmt.secs(row['acd_s'])}  PDD {fmt.millis(row['pdd_avg_ms'])}  "
                     f"NER {fmt.pct(row['ner'])}  CF {fmt.count(row['consecutive_failures'])}"
                     f"  FO {fmt.count(row['failover_out'])}/{fmt.count(row['failover_in'])}")
        t.append("\n")
        if row and row.get("alarms"):
            t.append("; ".join(row["alarms"].values()), style="bold " + hs("down"))
        elif row and row.get("fas_flags"):
            t.append("FAS flags: " + ", ".join(row["fas_flags"]), style=hs("suspect"))
        else:
            t.append(f"contacts {facts['contacts']} · rate rows {facts['rate_rows']}"
                     f" · last call {fmt.when(facts.get('last_seen')) or 'never'}")
        self.query_one("#facts", Note).update(t)
        att = [float(a) for _, a, _ in series]
        asr = [float(x or 0.0) for _, _, x in series]
        self.query_one("#spark-att", Sparkline).data = att
        self.query_one("#spark-asr", Sparkline).data = asr
        total = int(sum(att))
        asr_known = [x for _, a, x in series if x is not None]
        self.query_one("#spark-att-label", Static).update(
            Text(f"attempts/h 24h: {total:,} max {int(max(att, default=0)):,}"))
        self.query_one("#spark-asr-label", Static).update(Text(
            f"ASR/h 24h: {fmt.pct(min(asr_known))}–{fmt.pct(max(asr_known))}"
            if asr_known else "ASR/h 24h: unknown (no failed attempts in the records)"
            if total else "ASR/h 24h: no calls"))
