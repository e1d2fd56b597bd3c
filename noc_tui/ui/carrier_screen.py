"""The carrier screen: facts, a 24 h sparkline, and the Main and Failover tabs.

The head (facts, sparkline, contacts) loads first, in one worker, so Enter on a
carrier shows a complete screen at once; every other part loads the first time its
tab is shown, each in its own worker group, and reloads when new data arrives.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Input,
    Sparkline,
    Static,
    Tab,
    TabbedContent,
    TabPane,
    Tabs,
)

from noc_tui.analytics.metrics import PERIODS, failover_page
from noc_tui.analytics.views import (
    WINDOWS,
    carrier_facts,
    carrier_list,
    compress_codes,
    contacts,
    failover_policy,
    failure_history,
    fas_map,
    hourly_series,
    rates,
    summaries,
)
from noc_tui.ui import cells as fmt
from noc_tui.ui.host import Host, host
from noc_tui.ui.messages import LoadFailed, PartLoaded
from noc_tui.ui.widgets import Col, HeaderBar, KeyHints, NavTable, Note

PARTS = ("contacts", "rates", "consistency", "failures", "summary")
TAB_KEYS = {"1": "contacts", "2": "rates", "3": "consistency", "4": "failures",
            "5": "summary", "6": "failover"}
PAGE = 500  # failover rows per page: 100,000 calls never sit in the table at once
# Enter on a carrier holds the first paint until the head has arrived (a few ms at
# 10^7 attempts), so the screen is painted once, complete; a slower read shows
# "Loading…" after this long.
HEAD_WAIT_S = 0.2

CONTACT_COLS = (Col("name", "Name", 22), Col("role", "Role", 12), Col("email", "Email", 28),
                Col("phone", "Phone", 16), Col("notes", "Notes", 30))
RATE_COLS = (Col("prefix", "Prefix", 10), Col("destination", "Destination", 20),
             Col("rate", "Rate/min", 9), Col("connect_fee", "Conn fee", 8),
             Col("mcd_pulse", "MCD/pulse", 9), Col("effective_from", "Effective", 20),
             Col("status", "Status", 13), Col("card", "Card", 14))
CONS_COLS = (Col("dst", "Number", 16), Col("this", "This carrier", 12),
             Col("others", "Others 2xx/404", 14), Col("verdict", "Others say", 10),
             Col("why", "Why inconsistent", 50))
CF_COLS = (Col("started_at", "Started", 24), Col("counter", "Counter", 7),
           Col("sip_code", "Code", 4), Col("sip_reason", "Reason", 24),
           Col("dst", "Number", 14), Col("call_id", "Call id", 24))
SUM_COLS = (Col("start", "Start", 17), Col("attempts", "Attempts", 9),
            Col("connected", "Connected", 9), Col("asr", "ASR", 6), Col("acd_s", "ACD", 6),
            Col("minutes", "Minutes", 9), Col("pdd_avg_ms", "PDD", 7), Col("ner", "NER", 6),
            Col("cost", "Cost", 11), Col("unrated", "Unrated", 7))
FO_OUT_COLS = (Col("started_at", "Started", 14), Col("call_id", "Call id", 20),
               Col("dst", "Number", 14), Col("failed_code", "Code", 4),
               Col("failed_reason", "Reason", 18), Col("connected_carrier_id", "Connected on", 14),
               Col("connected_duration_s", "Dur", 6), Col("halt", "Halt", 4),
               Col("fas", "FAS", 4))
FO_IN_COLS = (Col("started_at", "Started", 14), Col("call_id", "Call id", 20),
              Col("dst", "Number", 14), Col("failed_carrier_id", "Failed on", 14),
              Col("failed_code", "Code", 4), Col("failed_reason", "Reason", 18),
              Col("connected_duration_s", "Dur", 6), Col("halt", "Halt", 4),
              Col("fas", "FAS", 4))


def _ts(iso: str | None) -> str:
    return (iso or "").replace("T", " ").replace(".000Z", "Z")


def _short_ts(iso: str | None) -> str:
    """'2026-10-31T12:21:04.904Z' -> '10-31 12:21:04': what fits a call list."""
    return (iso or "")[5:19].replace("T", " ")


class CarrierScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="carrier.back"),
        *(Binding(k, f"tab('{v}')", v.title(), show=False, id=f"carrier.tab_{v}")
          for k, v in TAB_KEYS.items()),
        Binding("slash", "filter", "Prefix filter", id="carrier.filter"),
        Binding("s", "cycle_period", "Period", id="carrier.period"),
        Binding("i", "toggle_direction", "Out/In", id="carrier.direction"),
        Binding("h", "toggle_halt", "Halt only", id="carrier.halt_only"),
        Binding("f", "toggle_fas", "FAS only", id="carrier.fas_only"),
        Binding("right_square_bracket", "page(1)", "Next page", show=False,
                id="carrier.next_page"),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False,
                id="carrier.prev_page"),
        Binding("c", "copy", "Copy call id", id="carrier.copy"),
    ]

    DEFAULT_CSS = """
    CarrierScreen #top { height: 4; }
    CarrierScreen #facts { width: 1fr; height: 4; padding: 0 1; text-wrap: nowrap;
        text-overflow: ellipsis; }
    CarrierScreen #sparks { width: 42; height: 4; padding: 0 1 0 0; }
    CarrierScreen #sparks Static { height: 1; }
    CarrierScreen #sparks Sparkline { height: 1; }
    CarrierScreen.-compact #top { height: 4; }
    CarrierScreen.-compact #facts { height: 4; }
    CarrierScreen.-compact #sparks { width: 26; height: 4; }
    CarrierScreen #outer { height: 1fr; }
    CarrierScreen TabbedContent ContentSwitcher { height: 1fr; }
    CarrierScreen TabPane { padding: 0; height: 1fr; }
    CarrierScreen NavTable { height: 1fr; }
    CarrierScreen .info { height: auto; max-height: 6; padding: 0 1; background: $surface; }
    CarrierScreen #rate-prefix { height: 3; border: tall $panel; }
    CarrierScreen #rate-prefix:focus { border: tall $primary; }
    CarrierScreen #period { height: 2; }
    """

    def __init__(self, carrier_id: str) -> None:
        super().__init__()
        self._hold: AbstractContextManager[None] | None = None
        self._styled_for: tuple[Any, ...] | None = None
        self._reset(carrier_id)

    def _reset(self, carrier_id: str) -> None:
        self.carrier_id = carrier_id
        self.loaded: dict[str, int] = {}  # part -> generation it was loaded for
        self.pending: set[str] = set()
        self.head: dict[str, Any] | None = None
        self.period = "live"
        self.summary_data: dict[str, list[dict[str, Any]]] = {}
        self.direction = "out"
        self.halt_only = False
        self.fas_only = False
        self.fo_offset = 0
        self.fo_total = 0
        self._page_cursor: str | None = None
        self.rate_prefix = ""

    @property
    def noc(self) -> Host:
        return host(self)

    def _crumb(self) -> Text:
        crumb = Text("Carriers › ")
        crumb.append_text(fmt.lit(self.noc.carrier_names.get(self.carrier_id, self.carrier_id)))
        return crumb

    def compose(self) -> ComposeResult:
        yield HeaderBar(self._crumb())
        with Horizontal(id="top"):
            yield Note("Loading…", id="facts")
            with Vertical(id="sparks"):
                yield Static("", id="spark-att-label", markup=False)
                yield Sparkline([], id="spark-att")
                yield Static("", id="spark-asr-label", markup=False)
                yield Sparkline([], id="spark-asr")
        with TabbedContent(id="outer", initial="main"):
            with TabPane("Main", id="main"), TabbedContent(id="parts", initial="contacts"):
                with TabPane("1 Contacts", id="contacts"):
                    yield NavTable(id="t-contacts")
                # The other parts are mounted the first time they are shown: a screen
                # with fewer widgets opens faster (Enter on a carrier).
                yield TabPane("2 Rates Grid", id="rates")
                yield TabPane("3 Code Consistency", id="consistency")
                yield TabPane("4 Consecutive Failure", id="failures")
                yield TabPane("5 Summary", id="summary")
            yield TabPane("6 Failover", id="failover")
        yield KeyHints()

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < 100, "-compact")
        self.hold_paint()
        self.load_part("head")
        self.query_one("#t-contacts").focus()

    # -- one paint per Enter ---------------------------------------------------------------

    def hold_paint(self) -> None:
        """Suspend repaints until the head is shown or HEAD_WAIT_S has passed: one
        complete paint instead of "Loading…" then the data. Keys still reach the screen
        meanwhile (only painting waits)."""
        if self._hold is None:
            hold = self._hold = self.app.batch_update()
            hold.__enter__()
            # Only this hold: an earlier timer must not end a later hold early.
            self.set_timer(HEAD_WAIT_S, lambda: self.release_paint(hold))

    def release_paint(self, only: AbstractContextManager[None] | None = None) -> None:
        hold = self._hold
        if hold is None or (only is not None and only is not hold):
            return
        self._hold = None
        hold.__exit__(None, None, None)
        # Wake the paused update timer: the layout and dirty widgets are still queued
        # (a refresh() here would add a second, full repaint in the same tick).
        self.check_idle()

    def _style_signature(self) -> tuple[Any, ...]:
        app = self.app
        # The parsed rules are a new list after any CSS change (theme, new source).
        return (app.stylesheet.rules, app.theme, frozenset(app.classes), app.size,
                app.ansi_color, app.app_focus)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual re-applies the whole stylesheet to every node of a resumed screen
        # (~50 ms here). Class and focus changes on this screen are applied as they
        # happen, even while it is not shown; so re-apply only if the CSS itself, the
        # theme or the app's classes changed since the screen was last styled.
        # Textual calls Screen._on_screen_resume after this one (handlers run down the
        # MRO), so only the event is changed here.
        sig = self._style_signature()
        if self._styled_for is not None and all(
                a is b or a == b for a, b in zip(sig, self._styled_for, strict=True)):
            event.refresh_styles = False
        self._styled_for = sig

    def on_screen_suspend(self) -> None:
        self.release_paint()

    def on_unmount(self) -> None:
        self.release_paint()

    def show_carrier(self, carrier_id: str) -> None:
        """Make this (installed, not shown) screen show another carrier, as if new: the
        app reuses one carrier screen instead of composing one per Enter."""
        self._reset(carrier_id)
        self.set_class(self.app.size.width < 100, "-compact")
        self.query_one(HeaderBar).set_crumb(self._crumb())
        self.query_one("#facts", Note).update(Content("Loading…"))
        for spark in self.query(Sparkline):
            spark.data = []
        for label in ("#spark-att-label", "#spark-asr-label"):
            self.query_one(label, Static).update("")
        for table in self.query(NavTable):
            table.reset()  # no row of the previous carrier stays on screen
        for note in self.query(".info"):
            note.update("")  # type: ignore[attr-defined]
        for box in self.query("#rate-prefix").results(Input):
            with box.prevent(Input.Changed):
                box.value = ""
            box.can_focus = False
        for tabs in self.query("#period").results(Tabs):
            with tabs.prevent(Tabs.TabActivated):
                tabs.active = "live"
        self.query_one("#outer", TabbedContent).active = "main"
        self.query_one("#parts", TabbedContent).active = "contacts"
        self.hold_paint()
        self.load_part("head")
        self.query_one("#t-contacts").focus()

    def on_resize(self) -> None:
        self.set_class(self.app.size.width < 100, "-compact")

    # -- loading -------------------------------------------------------------------------

    def refresh_data(self) -> None:
        self.load_part("head")
        current = self.current_part()
        if current != "contacts":
            self.load_part(current)

    def current_part(self) -> str:
        outer = self.query_one("#outer", TabbedContent).active
        if outer == "failover":
            return "failover"
        return self.query_one("#parts", TabbedContent).active or "contacts"

    def _part_widgets(self, part: str) -> list[Any]:
        if part == "rates":
            box = Input(placeholder="/ prefix filter: digits, e.g. 44 or a full number",
                        id="rate-prefix", restrict=r"[0-9]*")
            box.can_focus = False  # only `/` enters it, so digits keep switching tabs
            return [box,
                    Note("", id="rates-info", classes="info"), NavTable(id="t-rates")]
        if part == "consistency":
            return [Note("", id="cons-info", classes="info"), NavTable(id="t-consistency")]
        if part == "failures":
            return [Note("", id="cf-info", classes="info"), NavTable(id="t-failures")]
        if part == "summary":
            return [Tabs(Tab("Live", id="live"), Tab("Daily", id="daily"),
                         Tab("Monthly", id="monthly"), id="period"), NavTable(id="t-summary")]
        if part == "failover":
            return [Note("", id="policy", classes="info"), Note("", id="fo-info", classes="info"),
                    NavTable(id="t-failover")]
        return []

    async def ensure_part(self, part: str) -> None:
        """Mount a part's widgets the first time it is needed."""
        if part == "head" or self.query(f"#t-{part}"):
            return
        pane = self.query_one(f"TabPane#{part}", TabPane)
        await pane.mount_all(self._part_widgets(part))

    def load_part(self, part: str) -> None:
        self.pending.add(part)
        getattr(self, f"_load_{part}")()

    def _post(self, part: str, data: Any) -> None:
        self.post_message(PartLoaded(self.carrier_id, part, data, self.noc.generation))

    def _fail(self, part: str, exc: Exception) -> None:
        self.post_message(LoadFailed(f"carrier {part}", str(exc)))

    def _row(self, cache: Any) -> dict[str, Any] | None:
        app = self.noc
        rows = app.list_rows()
        if rows is not None:
            return rows.get(self.carrier_id)
        _, all_rows, _ = carrier_list(cache, WINDOWS[app.window], app.now())
        return next((r for r in all_rows if r["id"] == self.carrier_id), None)

    @work(thread=True, exclusive=True, group="head")
    def _load_head(self) -> None:
        app = self.noc
        try:
            with app.reader() as cache:
                now = app.now()
                data = {
                    "facts": carrier_facts(cache, self.carrier_id, app.settings.metrics),
                    "series": hourly_series(cache, self.carrier_id, now),
                    "row": self._row(cache),
                    "contacts": contacts(cache, self.carrier_id),
                }
        except Exception as exc:
            self._fail("head", exc)
            return
        self._post("head", data)

    @work(thread=True, exclusive=True, group="rates")
    def _load_rates(self, prefix: str | None = None) -> None:
        app = self.noc
        prefix = self.rate_prefix if prefix is None else prefix
        try:
            with app.reader() as cache:
                rows, total = rates(cache, self.carrier_id, prefix, app.now())
        except Exception as exc:
            self._fail("rates", exc)
            return
        self._post("rates", {"rows": rows, "total": total, "prefix": prefix})

    @work(thread=True, exclusive=True, group="consistency")
    def _load_consistency(self) -> None:
        from noc_tui.analytics.metrics import inconsistent_numbers, stored_inconsistent_numbers

        app = self.noc
        try:
            with app.reader() as cache:
                # The numbers kept with the carrier list's figures (same now); computed
                # live only when none were kept.
                nums = stored_inconsistent_numbers(cache, self.carrier_id,
                                                   WINDOWS[app.window])
                if nums is None:
                    nums = inconsistent_numbers(cache, self.carrier_id, app.now(),
                                                WINDOWS[app.window])
                row = self._row(cache)
        except Exception as exc:
            self._fail("consistency", exc)
            return
        self._post("consistency", {"numbers": nums, "row": row})

    @work(thread=True, exclusive=True, group="failures")
    def _load_failures(self) -> None:
        app = self.noc
        try:
            with app.reader() as cache:
                data = failure_history(cache, self.carrier_id, app.now())
        except Exception as exc:
            self._fail("failures", exc)
            return
        self._post("failures", data)

    @work(thread=True, exclusive=True, group="summary")
    def _load_summary(self) -> None:
        app = self.noc
        try:
            with app.reader() as cache:
                data = summaries(cache, self.carrier_id, app.now())
        except Exception as exc:
            self._fail("summary", exc)
            return
        self._post("summary", data)

    @work(thread=True, exclusive=True, group="failover")
    def _load_failover(self) -> None:
        app = self.noc
        window_s = WINDOWS[app.window]
        now = app.now()
        try:
            with app.reader() as cache:
                fas = fas_map(cache, window_s, now)
                page = failover_page(
                    cache, self.carrier_id, now, window_s, app.settings.metrics,
                    direction=self.direction, offset=self.fo_offset, limit=PAGE,
                    halt_only=self.halt_only, fas_only=self.fas_only, fas=fas)
                policy = failover_policy(cache, self.carrier_id, now, window_s,
                                         app.settings.metrics)
        except Exception as exc:
            self._fail("failover", exc)
            return
        self._post("failover", {"page": page, "policy": policy})

    async def on_part_loaded(self, msg: PartLoaded) -> None:
        if msg.carrier_id != self.carrier_id:
            return
        await self.ensure_part(msg.part)
        self.pending.discard(msg.part)
        self.loaded[msg.part] = msg.generation
        getattr(self, f"_show_{msg.part}")(msg.data)
        if msg.part == "head":
            self.release_paint()

    def on_load_failed(self, msg: LoadFailed) -> None:
        self.pending.discard(msg.what.removeprefix("carrier "))
        self.release_paint()
        self.noc.load_failed(msg)

    @on(TabbedContent.TabActivated)
    async def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        part = self.current_part()
        if part in ("contacts",):
            return
        await self.ensure_part(part)
        if self.loaded.get(part) != self.noc.generation and part not in self.pending:
            self.load_part(part)
        table = self.query(f"#t-{part}")
        focused = self.focused
        if table and not (focused is not None and focused.id == "rate-prefix"):
            table.first().focus()

    # -- rendering -----------------------------------------------------------------------

    def _show_head(self, data: dict[str, Any]) -> None:
        self.head = data
        facts, row, series = data["facts"], data["row"], data["series"]
        hs = self.noc.health_style
        t = Text(no_wrap=True, overflow="ellipsis")
        if row:
            h = row.get("health", "fine")
            t.append(f"{h.upper()} ", style="bold " + hs(h))
            if row.get("alarms"):
                t.append("ALARM ", style="bold reverse " + hs("down"))
        t.append_text(fmt.lit(facts.get("name") or self.carrier_id, style="bold"))
        t.append("\nid ")
        t.append_text(fmt.lit(self.carrier_id))
        t.append(" · ")
        t.append_text(fmt.lit(facts.get("status") or "unknown"))
        ch = facts.get("channels")
        chans = "unlimited" if ch == 0 else fmt.count(ch) if ch is not None else "—"
        t.append(f" · ch {chans} · cps {fmt.count(facts.get('cps'))} · ")
        t.append_text(fmt.lit(facts.get("currency") or "—"))
        t.append(f" · halts {facts['halts']}"
                 f"{' (own)' if facts.get('halt_codes') is not None else ' (default)'}\n")
        w = self.noc.window
        if not row or not row.get("attempts"):
            t.append(f"{w}: no calls", style="dim")
        else:
            t.append(f"{w}: {fmt.count(row['attempts'])} att  ASR {fmt.pct(row['asr'])}  "
                     f"ACD {fmt.secs(row['acd_s'])}  PDD {fmt.millis(row['pdd_avg_ms'])}  "
                     f"NER {fmt.pct(row['ner'])}  CF {fmt.count(row['consecutive_failures'])}"
                     f"  FO {row['failover_out']}/{row['failover_in']}")
        t.append("\n")
        if row and row.get("alarms"):
            t.append("; ".join(row["alarms"].values()), style="bold " + hs("down"))
        elif row and row.get("fas_flags"):
            t.append("FAS flags: " + ", ".join(row["fas_flags"]), style=hs("suspect"))
        else:
            t.append(f"contacts {facts['contacts']} · rate rows {facts['rate_rows']}"
                     f" · last call {_ts(facts.get('last_seen')) or 'never'}")
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
            if asr_known else "ASR/h 24h: no calls"))
        self._show_contacts(data["contacts"])

    def _show_contacts(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#t-contacts", NavTable)
        table.sync(CONTACT_COLS, [
            (f"{i}", [fmt.lit(r.get(c.key)) for c in CONTACT_COLS], r)
            for i, r in enumerate(rows)])
        table.border_title = None
        if not rows:
            table.sync(CONTACT_COLS, [("none", [Text("no contacts on file", style="dim"),
                                                *[Text("")] * 4], {})])

    def _show_rates(self, data: dict[str, Any]) -> None:
        rows = data["rows"]
        cells = []
        for i, r in enumerate(rows):
            st = "dim" if r["status"] != "active" or r.get("future") else ""
            status = r["status"] + (" from then" if r.get("future") else "")
            cells.append((f"{i}", [
                fmt.lit(r["prefix"], st), fmt.lit(r.get("destination"), st),
                fmt.num(f"{r['rate']:.4f}", st), fmt.num(f"{r['connect_fee']:.4f}", st),
                fmt.num(f"{r['mcd_s']}/{r['pulse_s']}", st),
                fmt.lit(_ts(r["effective_from"]), st), fmt.lit(status, st),
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

    def _show_consistency(self, data: dict[str, Any]) -> None:
        row = data["row"] or {}
        t = Text()
        if not row.get("attempts"):
            t.append(f"No calls in the {self.noc.window} window.", style="dim")
        else:
            t.append(f"n200 {fmt.count(row.get('n200'))}  n404 {fmt.count(row.get('n404'))}  "
                     f"consistency {fmt.pct(row.get('code_consistency'))}"
                     f"  ({self.noc.window})")
            if row.get("never_404"):
                t.append("  NEVER 404: this carrier never says a number does not exist",
                         style="bold " + self.noc.health_style("suspect"))
        nums = data["numbers"]
        t.append(f"\n{len(nums)} inconsistent number{'s' if len(nums) != 1 else ''}"
                 if nums else "\nNo inconsistent numbers.")
        self.query_one("#cons-info", Note).update(t)
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

    def _show_failures(self, data: dict[str, Any]) -> None:
        al = self.noc.settings.alarms.consecutive_failures
        hs = self.noc.settings.health
        count = data["count"]
        style = "bold " + self.noc.health_style(
            "down" if count >= hs.down_consecutive_failures else
            "degraded" if count >= hs.degraded_consecutive_failures else "fine")
        t = Text()
        t.append("Consecutive failures now: ")
        t.append(f"{count:,}", style=style)
        t.append(f"   alarm at {al:,}  (degraded at {hs.degraded_consecutive_failures:,},"
                 f" down at {hs.down_consecutive_failures:,})")
        t.append("\nLast connected call: "
                 + (_ts(data["last_connected"]) if data["last_connected"] else "never"))
        self.query_one("#cf-info", Note).update(t)
        cells = []
        for h in data["history"]:
            ok = h["connected"]
            st = self.noc.health_style("fine") if ok else ""
            cells.append((f"{h['call_id']}\x00{h['seq']}", [
                fmt.lit(_ts(h["started_at"])),
                fmt.num("reset" if ok else fmt.count(h["counter"]), st),
                fmt.num(str(h["sip_code"]), st), fmt.lit(h.get("sip_reason")),
                fmt.lit(h["dst"]), fmt.lit(h["call_id"])], h))
        self.query_one("#t-failures", NavTable).sync(CF_COLS, cells, [
            "started_at", "counter", "sip_code", "sip_reason", "dst", "call_id", "seq"])

    def _show_summary(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self.summary_data = data
        self._render_summary()

    def _render_summary(self) -> None:
        rows = self.summary_data.get(self.period, [])
        cut = {"live": 16, "daily": 10, "monthly": 7}[self.period]
        cells = [(r["start"], [
            fmt.lit(_ts(r["start"])[:cut]), fmt.num(fmt.count(r["attempts"])),
            fmt.num(fmt.count(r["connected"])), fmt.num(fmt.pct(r["asr"])),
            fmt.num(fmt.secs(r["acd_s"])), fmt.num(fmt.minutes(r["minutes"])),
            fmt.num(fmt.millis(r["pdd_avg_ms"])), fmt.num(fmt.pct(r["ner"])),
            fmt.num(fmt.money(r["cost"])), fmt.num(fmt.count(r["unrated"]))], r)
            for r in reversed(rows)]  # newest first: what an operator looks at
        if not rows:
            cells = [("none", [Text("no calls", style="dim"), *[Text("")] * 9], {})]
        self.query_one("#t-summary", NavTable).sync(SUM_COLS, cells)

    def _show_failover(self, data: dict[str, Any]) -> None:
        page, policy = data["page"], data["policy"]
        hs = self.noc.health_style
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
        self.fo_total = page.total
        cols = FO_OUT_COLS if page.direction == "out" else FO_IN_COLS
        cells = []
        for r in page.rows:
            hv = Text("HALT", style="bold " + hs("suspect")) if r["halt_violation"] else Text("")
            fas = Text("FAS", style="bold " + hs("suspect")) if r["fas_suspect"] else Text("")
            common = [fmt.lit(_short_ts(r["started_at"])), fmt.lit(r["call_id"]),
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
        table.sync(cols, cells, raw_cols)
        table.more_below = page.offset + len(page.rows) < page.total
        table.more_above = page.offset > 0
        if self._page_cursor == "top":
            table.move_cursor(row=0, animate=False)
        elif self._page_cursor == "bottom":
            table.move_cursor(row=max(0, table.row_count - 1), animate=False)
        self._page_cursor = None
        info = Text("Calls that failed here and connected elsewhere" if page.direction == "out"
                    else "Calls this carrier picked up after another failed", style="bold")
        info.append(f"  ({self.noc.window})  i: {'in' if page.direction == 'out' else 'out'}")
        filters = [n for n, on_ in (("halt violations", self.halt_only),
                                    ("FAS suspects", self.fas_only)) if on_]
        info.append("  filter: " + (" + ".join(filters) if filters else "none (h, f)"))
        if page.total:
            last = page.offset + len(page.rows)
            info.append(f"\nrows {page.offset + 1:,}–{last:,} of {page.total:,}")
            if page.total > PAGE:
                info.append(f"  page {page.offset // PAGE + 1}/{-(-page.total // PAGE)}"
                            "  ([ ] or scroll past the edge)")
        else:
            info.append("\nno failover calls in this window")
        self.query_one("#fo-info", Note).update(info)

    # -- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query("#rate-prefix").first(Input) if self.query("#rate-prefix") else None
        if box is not None and box.has_focus:
            self._prefix_done()
            return
        self.app.pop_screen()

    def action_tab(self, part: str) -> None:
        outer = self.query_one("#outer", TabbedContent)
        if part == "failover":
            outer.active = "failover"
        else:
            outer.active = "main"
            self.query_one("#parts", TabbedContent).active = part
        if part == "contacts":
            self.query_one("#t-contacts").focus()

    async def action_filter(self) -> None:
        self.action_tab("rates")
        await self.ensure_part("rates")
        box = self.query_one("#rate-prefix", Input)
        box.can_focus = True
        box.focus()

    @on(Input.Changed, "#rate-prefix")
    def _prefix_changed(self, event: Input.Changed) -> None:
        self.rate_prefix = event.value
        self.pending.add("rates")
        self._load_rates(event.value)

    @on(Input.Submitted, "#rate-prefix")
    def _prefix_done(self) -> None:
        self.query_one("#rate-prefix", Input).can_focus = False
        self.query_one("#t-rates").focus()

    async def action_cycle_period(self) -> None:
        self.action_tab("summary")
        await self.ensure_part("summary")
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self.query_one("#period", Tabs).active = self.period

    @on(Tabs.TabActivated, "#period")
    def _period_shown(self, event: Tabs.TabActivated) -> None:
        event.stop()
        self.period = event.tab.id or "live"
        if self.summary_data:
            self._render_summary()

    async def _reload_failover(self, cursor: str | None = "top") -> None:
        self.action_tab("failover")
        await self.ensure_part("failover")
        self._page_cursor = cursor
        self.load_part("failover")

    async def action_toggle_direction(self) -> None:
        self.direction = "in" if self.direction == "out" else "out"
        self.fo_offset = 0
        await self._reload_failover()

    async def action_toggle_halt(self) -> None:
        self.halt_only = not self.halt_only
        self.fo_offset = 0
        await self._reload_failover()

    async def action_toggle_fas(self) -> None:
        self.fas_only = not self.fas_only
        self.fo_offset = 0
        await self._reload_failover()

    async def action_page(self, step: int) -> None:
        new = self.fo_offset + step * PAGE
        if self.current_part() != "failover" or new < 0 or new >= max(self.fo_total, 1):
            self.app.bell()
            return
        self.fo_offset = new
        await self._reload_failover("top" if step > 0 else "bottom")

    @on(NavTable.EdgeReached, "#t-failover")
    async def _edge(self, event: NavTable.EdgeReached) -> None:
        await self.action_page(event.direction)

    @on(DataTable.RowSelected)
    def _open_call(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if isinstance(table, NavTable) and table.id in ("t-failover", "t-failures"):
            raw = table.cursor_raw()
            if raw and raw.get("call_id"):
                self.noc.open_call(raw["call_id"])

    def action_copy(self) -> None:
        focused = self.focused
        raw = focused.cursor_raw() if isinstance(focused, NavTable) else None
        self.noc.copy_call_id(raw.get("call_id") if raw else None)

    # -- export --------------------------------------------------------------------------

    def export_name(self) -> str:
        part = self.current_part()
        if part == "summary":
            part = f"summary-{self.period}"
        elif part == "failover":
            part = f"failover-{self.direction}"
        return f"carrier-{self.carrier_id}-{part}"

    def export_table(self) -> tuple[list[str], list[dict[str, Any]]] | None:
        table = self.query_one(f"#t-{self.current_part()}", NavTable)
        cols, rows = table.export_rows()
        rows = [r for r in rows if r]
        return (cols, rows) if rows else None


__all__ = ["CarrierScreen", "compress_codes"]
