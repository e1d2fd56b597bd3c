"""NocApp: the dashboard application and its entry point for the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen

if TYPE_CHECKING:
    from noc_tui.analytics.list_state import ListSnapshot
    from noc_tui.config import Settings  # or a settings_view.SettingsView
    from noc_tui.store.cache import Cache
    from noc_tui.ui.widgets import NavTable

from noc_tui.records.printable import printable, printable_lines
from noc_tui.records.timefmt import now_ms as wall_now_ms
from noc_tui.records.timefmt import parse_duration
from noc_tui.settings_view import default_config_path, source_missing
from noc_tui.store.poll_status import PollInfo
from noc_tui.store.private_file import exposed
from noc_tui.ui import cells as fmt
from noc_tui.ui.commands import NocCommands
from noc_tui.ui.messages import ListLoaded, LoadFailed, PollFinished, PollProgressed
from noc_tui.ui.polling import PollControl, Progress
from noc_tui.ui.saved_state import SavedState
from noc_tui.ui.startup import (
    collect_when_idle,
    defer_full_collections,
    gc_held,
    release_gc,
    resume_full_collections,
)
from noc_tui.ui.themes import DEFAULT_THEME, HEALTH_DEFAULTS, NO_COLOR_HEALTH, load_themes
from noc_tui.ui.widgets import HeaderBar
from noc_tui.ui.widgets.key_focus import typed_before_focus

MAX_ALARM_TOASTS = 5  # per reload; more crossings are summed up in one more toast
# The collector, held from the start (startup.py), resumes this long after the first
# frame of the carrier list: its first collections then walk everything startup made
# (a generation-2 one took 22-31 ms at 2,000 carriers), so they wait for the screen to
# be up rather than hold it back; and at the latest this long after mount, if no list
# ever arrives.
GC_RESUME_AFTER_FRAME_S = 1.0
GC_RESUME_AT_LATEST_S = 10.0


class NocApp(App[int]):
    """Carrier list -> carrier -> call, over a read-only view of the cache."""

    TITLE = "noc-tui"
    COMMANDS = App.COMMANDS | {NocCommands}
    ENABLE_COMMAND_PALETTE = True
    CSS = """
    Screen { background: $background; }
    Footer { height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("colon", "command_palette", "Commands", id="app.palette"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("f1", "help", "Help", show=False, id="app.help_f1"),
        Binding("r", "poll_now", "Poll now", id="app.poll"),
        Binding("p", "toggle_pause", "Pause", id="app.pause"),
        Binding("e", "export", "Export", id="app.export"),
        # From any screen, also over a filter box (priority): Input's own ctrl+f, delete
        # the word on the right, is the one thing given up.
        Binding("ctrl+f", "search", "Search calls", id="app.search", priority=True),
        Binding("exclamation_mark", "alarms", "Alarms", id="app.alarms"),
    ]

    def __init__(
        self,
        settings: Settings,
        cache_path: str | Path,
        poller: Any | None = None,
        clock: Callable[[], int] | None = None,
        *,
        theme: str | None = None,
        config_path: Path | None = None,
        watch_interval_s: float = 15.0,
        first_list: Callable[[], ListSnapshot | None] | None = None,
        state: SavedState | None = None,
    ) -> None:
        self.settings = settings
        self._last_input = time.monotonic()
        # Waits for the carrier list read while the app was starting (in a worker); if it
        # has a close(), that is called should the app end before taking it.
        self._first_list = first_list
        self.cache_path = Path(cache_path)
        self.config_path = config_path or default_config_path()
        self.clock = clock
        self.polls = PollControl(poller)
        # What the operator chose last time (theme, window, sorts, calls seen); kept in
        # memory only unless the command line gives the file (ui/saved_state.py).
        self.state = state or SavedState(None)
        self._state_save_due = False
        self._polled_at_start = False
        self.window: str = self.state.window or settings.ui.window
        self.generation = 0
        self.paused = False
        self.poll_info: PollInfo | None = None
        self.as_of_ms: int | None = None
        self.inbound_as_of_ms: int | None = None  # the trunk-group list's, once loaded
        self.progress: tuple[int, int | None] | None = None
        self.carrier_names: dict[str, str] = {}
        self.carrier_rows: dict[str, dict[str, Any]] = {}
        self._carrier_screen: Any = None  # the reused CarrierScreen, once opened
        self._trunk_group_screen: Any = None  # the reused TrunkGroupScreen, once opened
        self._rows_window = self.window  # the window carrier_rows are of
        self._alarm_mark: int | None = None  # the newest alarm already said
        self._errors_shown: set[str] = set()
        self._watch_interval_s = watch_interval_s
        self._watch_mark: tuple[Any, ...] | None = None  # the mark a reload was asked for
        self._shown_mark: tuple[Any, ...] | None = None  # the mark of the list shown
        self.ui_loop: asyncio.AbstractEventLoop | None = None  # once running
        super().__init__()
        if not settings.ui.animations:
            self.animation_level = "none"
        themes, self.theme_errors = load_themes()
        for t in themes.values():
            self.register_theme(t)
        self._pick_theme(theme or self.state.theme or settings.ui.theme)
        if settings.keys:
            self.set_keymap(dict(settings.keys))

    def take_first_list(self) -> Callable[[], ListSnapshot | None] | None:
        """What waits for the list read at startup; once, and only for the first load."""
        if self.generation:  # newer data came first: that list is stale
            self._drop_first_list()
            return None
        first, self._first_list = self._first_list, None
        return first

    def _drop_first_list(self) -> None:
        first, self._first_list = self._first_list, None
        if first is not None and hasattr(first, "close"):
            first.close()  # never taken: stop and reap the process reading it

    # -- themes --------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **HEALTH_DEFAULTS}

    def theme_names(self) -> list[str]:
        return list(self.available_themes)

    def _pick_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name
            return
        fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        bad = [e for e in self.theme_errors if f"/{name}.toml" in e or f"\\{name}.toml" in e]
        reason = bad[0] if bad else f"theme {name!r} not found"
        if bad:  # one message per bad file: the load error, now saying what happens
            self.theme_errors.remove(bad[0])
        self.theme_errors.insert(0, f"{reason}; using {fallback}")
        self.theme = fallback

    def use_theme(self, name: str) -> None:
        self.theme = name
        self.state.theme = name
        self.state_changed()

    def watch_theme(self, _name: str) -> None:
        self._health_styles: dict[str, str] = {}
        for screen in self.screen_stack:
            if hasattr(screen, "render_rows") and getattr(screen, "rows", None):
                screen.render_rows()  # health colours are baked into cells

    def health_style(self, state: str) -> str:
        cache = getattr(self, "_health_styles", None)
        if cache is None:
            cache = self._health_styles = {}
        if state not in cache:
            var = f"health-{state}"
            # "unknown" has no colour of its own: nothing is known to be wrong or right.
            cache[state] = NO_COLOR_HEALTH.get(state, "") if self.no_color else \
                self.current_theme.variables.get(var, HEALTH_DEFAULTS.get(var, ""))
        return cache[state]

    # -- life cycle ----------------------------------------------------------------------

    def on_mount(self) -> None:
        from noc_tui.ui.carrier_list import CarrierListScreen

        self.ui_loop = asyncio.get_running_loop()

        self.push_screen(CarrierListScreen())
        seen: set[str] = set()
        for err in self.theme_errors:
            if err not in seen:  # one clear message per bad file
                seen.add(err)
                self.notify(err, title="Theme", severity="warning", timeout=15, markup=False)
        exposure = exposed(Path(self.cache_path))
        if exposure:
            self.notify(exposure, title="Cache", severity="warning", timeout=30, markup=False)
        if self.state.problem:
            self.notify(self.state.problem, title="State", severity="warning", timeout=15,
                        markup=False)
        if self.polls.available:
            interval = parse_duration(self.settings.poll.interval)
            self._poll_timer = self.set_interval(interval, self._scheduled_poll)
        self.set_interval(10, self.update_headers)
        self.set_timer(GC_RESUME_AT_LATEST_S, release_gc)  # if no list ever arrives
        defer_full_collections()
        self.set_interval(1.0, self._collect_when_idle)
        if self._watch_interval_s:
            self.set_interval(self._watch_interval_s, self._watch_cache)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = time.monotonic()
            if isinstance(event, events.Key) and typed_before_focus(self, event):
                return
        await super().on_event(event)

    def _collect_when_idle(self) -> None:
        collect_when_idle(time.monotonic() - self._last_input)

    def on_unmount(self) -> None:
        self.save_state()
        resume_full_collections()
        self._drop_first_list()
        self.polls.cancel.set()

    def now(self) -> int:
        return self.clock() if self.clock else wall_now_ms()

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast, from any screen or thread: names, reasons, file names and the
        switch's error text in it show their control characters escaped."""
        super().notify(printable_lines(message), title=printable(title), severity=severity,
                       timeout=timeout, markup=markup)

    @contextlib.contextmanager
    def reader(self) -> Iterator[Cache]:
        """A read-only cache connection for the calling (worker) thread."""
        from noc_tui.store.cache import Cache  # lazy: only workers open the cache
        cache = Cache(self.cache_path, self.settings.metrics, readonly=True)
        try:
            yield cache
        finally:
            cache.close()

    # -- what the operator has seen ----------------------------------------------------

    def last_seen(self, key: str) -> str | None:
        return self.state.seen.get(key)

    def saw(self, key: str, newest: str) -> None:
        if self.state.saw(key, newest):
            self.state_changed()

    # -- what is remembered between runs -------------------------------------------------

    def saved_sort(self, table_id: str) -> tuple[str, bool] | None:
        """The sort the operator last chose for a table (column, flipped)."""
        return self.state.sorts.get(table_id)

    def on_nav_table_sort_changed(self, event: NavTable.SortChanged) -> None:
        if event.table.id:
            self.state.sorts[event.table.id] = (event.key, event.flipped)
            self.state_changed()

    def state_changed(self) -> None:
        """Save the remembered state soon (a burst of changes is written once)."""
        if not self._state_save_due and self.state.path is not None:
            self._state_save_due = True
            self.set_timer(1.0, self.save_state)

    def save_state(self) -> None:
        if not self._state_save_due:
            return
        self._state_save_due = False
        problem = self.state.save()
        if problem and problem not in self._errors_shown:
            self._errors_shown.add(problem)
            self.notify(problem, title="State", severity="warning", markup=False)

    # -- data from the list --------------------------------------------------------------

    def list_rows(self) -> dict[str, dict[str, Any]] | None:
        """The carrier list's rows by id, if that list is of the current window."""
        if self.carrier_rows and self._rows_window == self.window:
            return self.carrier_rows
        return None

    def list_loaded(self, msg: ListLoaded) -> None:
        first = self._shown_mark is None
        self.poll_info = msg.poll
        self.as_of_ms = msg.as_of_ms
        self._shown_mark = msg.mark or ()  # () no data: any mark is news
        if first and self._watch_interval_s:
            # The list may have been read while the app started: a poll or import that
            # ended since then is shown now, not at the first tick of the watch.
            self._watch_cache()
        self.carrier_names = {r["id"]: r.get("name") or r["id"] for r in msg.rows}
        self.carrier_rows = {r["id"]: r for r in msg.rows}
        self._rows_window = msg.window
        self._process_alarms(msg)
        self.update_headers()
        for screen in self.screen_stack:
            if hasattr(screen, "show_list_row"):  # a carrier's state is the list's
                screen.show_list_row(self.carrier_rows)
        if not self._polled_at_start:
            self._polled_at_start = True
            self._poll_if_stale()

    def _poll_if_stale(self) -> None:
        """Poll now if the newest data is older than the poll interval (or none came from
        a poll): the dashboard opens on fresh figures, not an interval later."""
        if not self.polls.available or self.paused or self.polls.running:
            return
        info = self.poll_info
        last = info.last_ok_ms if info else None
        if last is None or self.now() - last > parse_duration(
                self.settings.poll.interval) * 1000:
            self._scheduled_poll()

    def _process_alarms(self, msg: ListLoaded) -> None:
        """Say the alarms raised since the last look, each once, naming its carrier and
        what crossed. They are the cache's (a poll or an import judged them): a
        redraw, a reload or a window switch raises none."""
        seen, self._alarm_mark = self._alarm_mark, max(msg.alarm_mark, self._alarm_mark or 0)
        wanting = [a for a in msg.alarms if not a.silenced]
        if seen is None:  # the first look: what is open, in one line
            if wanting:
                n = len(wanting)
                self.notify(f"{n} alarm{'s' if n != 1 else ''} open (! lists them)",
                            title="Alarms", severity="warning", timeout=8, markup=False)
            return
        new = sorted((a for a in wanting if a.id > seen), key=lambda a: a.id)
        for a in new[:MAX_ALARM_TOASTS]:
            self.notify(fmt.clean(f"{a.subject}: {a.last_message}"),
                        title=f"Alarm ({a.subject_kind})", severity="error", timeout=30,
                        markup=False)
        if len(new) > MAX_ALARM_TOASTS:
            self.notify(f"and {len(new) - MAX_ALARM_TOASTS} more alarms (! lists them)",
                        title="Alarm", severity="error", timeout=30, markup=False)

    def first_frame_shown(self) -> None:
        """The carrier list's first frame is on screen (or its error): startup is over."""
        if gc_held():
            self.set_timer(GC_RESUME_AFTER_FRAME_S, release_gc)

    def load_failed(self, msg: LoadFailed) -> None:
        key = f"{msg.what}: {msg.error}"
        if key not in self._errors_shown:
            self._errors_shown.add(key)
            self.notify(key, title="Cannot read the cache", severity="error", markup=False)

    # -- header --------------------------------------------------------------------------

    def age_line(self) -> tuple[Content, str]:
        """The data's age and its colour level: ok, warning or error, with the reason."""
        now = self.now()
        info = self.poll_info
        interval_ms = parse_duration(self.settings.poll.interval) * 1000
        if self.progress is not None or (info and info.status == "running"):
            return Content("polling…"), "ok"
        # The age of what is on screen: when the list's figures were computed (a poll's
        # or import's refresh); the last poll's end only if there is no list yet.
        last = self.as_of_ms if self.as_of_ms is not None else (
            info.last_ok_ms if info else None)
        parts: list[str] = []
        level = "ok"
        if last is None:
            parts.append("no data yet")
            level = "warning"
        else:
            parts.append(f"updated {fmt.ago(now - last)}")
            if now - last > interval_ms:
                level = "warning"
                parts.append(f"(older than the {self.settings.poll.interval} poll interval)")
        if info and info.status == "failed":
            level = "error"
            why = fmt.clean(info.error or "")[:120]
            parts.append(f"last poll failed: {info.error_kind or 'error'}"
                         + (f": {why}" if why else ""))
        elif info and info.quarantined:
            # Records the switch served invalid were left out: the figures lack them.
            level = "warning" if level == "ok" else level
            parts.append(f"last poll quarantined {info.quarantined:,} (noc-tui quarantine)")
        if info and info.failures_recorded is False:
            level = "warning" if level == "ok" else level
            parts.append("· no failed attempts in the switch's records: ASR, CF, failover "
                         "and consistency unknown (—)")
        return Content(" ".join(parts)), level

    def update_headers(self) -> None:
        age, level = self.age_line()
        for screen in self.screen_stack:
            for bar in screen.query(HeaderBar):
                bar.show(age, level, self.paused, self.progress)

    # -- navigation ----------------------------------------------------------------------

    def open_carrier(self, carrier_id: str) -> None:
        from noc_tui.ui.carrier.screen import CarrierScreen

        # One installed carrier screen, switched to each carrier: composing and styling
        # the nested tabs again on every Enter cost most of the time to the screen.
        screen = self._carrier_screen
        if screen is None:
            screen = self._carrier_screen = CarrierScreen(carrier_id)
            self.install_screen(screen, name="carrier")
        elif screen in self.screen_stack:  # jumped to from the palette over itself
            self.push_screen(CarrierScreen(carrier_id))
            return
        else:
            screen.show_carrier(carrier_id)
        self.push_screen(screen)

    def show_trunk_groups(self) -> None:
        """The trunk-group list (the second top-level list): the one open, else a new
        one over the carrier list."""
        from noc_tui.ui.trunk_list import TrunkGroupListScreen

        if isinstance(self.screen, TrunkGroupListScreen):
            return
        for screen in self.screen_stack:
            if isinstance(screen, TrunkGroupListScreen):
                while self.screen is not screen:
                    self.pop_screen()
                return
        self.push_screen(TrunkGroupListScreen())

    def open_trunk_group(self, trunk_group_id: str, name: str | None = None) -> None:
        from noc_tui.ui.trunk_group.screen import TrunkGroupScreen

        # One installed screen, switched to each group (as the carrier screen): its
        # tabs are composed once, not on every Enter.
        screen = self._trunk_group_screen
        if screen is None:
            screen = self._trunk_group_screen = TrunkGroupScreen(trunk_group_id, name)
            self.install_screen(screen, name="trunk_group")
        elif screen in self.screen_stack:
            self.push_screen(TrunkGroupScreen(trunk_group_id, name))
            return
        else:
            screen.show_group(trunk_group_id, name)
        self.push_screen(screen)

    def open_call(self, call_id: str) -> None:
        from noc_tui.ui.call_screen import CallScreen

        self.push_screen(CallScreen(call_id))

    def open_search(self, query: str | None = None) -> None:
        """The search screen, with `query` searched; the one shown is reused."""
        from noc_tui.ui.search_screen import SearchScreen

        screen = self.screen
        if isinstance(screen, SearchScreen):
            if query is not None:
                screen.set_query(query)
            else:
                screen.action_edit()
            return
        self.push_screen(SearchScreen(query or ""))

    def action_search(self) -> None:
        self.open_search()

    def show_alarms(self) -> None:
        """The alarm screen: open alarms, then past ones."""
        from noc_tui.ui.alarm_screen import AlarmScreen

        if not isinstance(self.screen, AlarmScreen):
            self.push_screen(AlarmScreen())

    def action_alarms(self) -> None:
        self.show_alarms()

    def list_screen(self) -> Screen | None:
        from noc_tui.ui.carrier_list import CarrierListScreen

        for s in self.screen_stack:
            if isinstance(s, CarrierListScreen):
                return s
        return None

    def set_window(self, window: str) -> None:
        if window == self.window:
            return
        self.window = window
        self.state.window = window
        self.state_changed()
        # Every screen reloads for the new window; what a screen loaded for the old one
        # (a carrier screen's other tabs) is stale, as after new data.
        self.data_changed()

    def sort_list(self, key: str) -> None:
        """Sort the carrier list by a column, worst first (again: the other way)."""
        screen = self.list_screen()
        if screen is not None:
            screen.query_one("#carriers").choose_sort(key)  # type: ignore[attr-defined]

    def toggle_alarmed_first(self) -> None:
        screen = self.list_screen()
        if screen is not None:
            screen.action_alarmed_first()  # type: ignore[attr-defined]

    def data_changed(self) -> None:
        """New data in the cache: every screen reloads what it shows (by key)."""
        self.generation += 1
        for screen in self.screen_stack:
            if hasattr(screen, "refresh_data"):
                screen.refresh_data()

    # -- polling -------------------------------------------------------------------------

    def action_poll_now(self) -> None:
        if not self.polls.available:
            missing = source_missing(self.settings.source)
            hint = (f"set {missing} in {self.config_path}") if missing else \
                "start the dashboard with the poller"
            self.notify(f"No poller in this dashboard ({hint}); re-read the cache.",
                        title="Poll", timeout=6, markup=False)
            self.data_changed()
            return
        if self.polls.running:
            self.notify("A poll is already running.", title="Poll", markup=False)
            return
        self.progress = (0, None)
        self.update_headers()
        self._poll_worker()

    def _scheduled_poll(self) -> None:
        if not self.paused and not self.polls.running:
            self.progress = (0, None)
            self.update_headers()
            self._poll_worker()

    @work(thread=True, exclusive=True, group="poll")
    def _poll_worker(self) -> None:
        def progress(p: Progress) -> None:
            self.post_message(PollProgressed(p.phase, p.done, p.total, p.taken, p.quarantined))

        ok, message = self.polls.run(progress)
        self.post_message(PollFinished(ok, message))

    def on_poll_progressed(self, msg: PollProgressed) -> None:
        self.progress = (msg.done, msg.total)
        self.update_headers()

    def on_poll_finished(self, msg: PollFinished) -> None:
        self.progress = None
        if not msg.ok:
            self.notify(msg.message, title="Poll failed", severity="error", markup=False)
        self.data_changed()
        self.update_headers()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        timer = getattr(self, "_poll_timer", None)
        if timer is not None:
            if self.paused:
                timer.pause()
            else:
                timer.resume()
        self.notify("Polling paused" if self.paused else "Polling resumed", timeout=3,
                    markup=False)
        self.update_headers()

    @work(thread=True, exclusive=True, group="watch")
    def _watch_cache(self) -> None:
        """Notice polls by other processes (cron, another dashboard) and reload."""
        if self.paused or not self.cache_path.exists():
            return
        from noc_tui.analytics.views import data_mark

        try:
            with self.reader() as cache:
                mark = data_mark(cache)
        except Exception:
            return
        # Against the list on screen (not the last look): a change made before this
        # first look, while the dashboard started, counts too. Once per new mark.
        shown = self._shown_mark
        if shown is not None and mark != shown and mark != self._watch_mark:
            self._watch_mark = mark
            self.call_from_thread(self.data_changed)

    # -- help, export --------------------------------------------------------------------

    def action_help(self) -> None:
        from noc_tui.ui.help import HelpScreen, screen_group

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        self.push_screen(HelpScreen(screen_group(screen)))

    def action_export(self) -> None:
        from noc_tui.ui.export import ExportDialog, export_dir

        screen = self.screen
        if isinstance(screen, ExportDialog):
            return
        has_table = bool(getattr(screen, "export_data", lambda: None)())

        def done(fmt_: str | None) -> None:
            if fmt_:
                self.call_after_refresh(self.export_snapshot, fmt_)

        self.push_screen(ExportDialog(export_dir(self.settings), has_table), done)

    def export_snapshot(self, fmt_: str) -> Path | None:
        from noc_tui.ui.export import (
            data_only,
            export_dir,
            screen_svg,
            screen_text,
            snapshot_name,
            write_private,
        )

        screen = self.screen
        name = getattr(screen, "export_name", lambda: "screen")()
        try:
            if fmt_ in ("csv", "json"):
                snap = getattr(screen, "export_data", lambda: None)()
                if not snap:
                    self.notify("No table on this screen to export.", markup=False)
                    return None
                text = snap.csv() if fmt_ == "csv" else snap.json()
            elif fmt_ == "svg":
                text = screen_svg(self, f"noc-tui {name}")
            else:
                text = data_only(self, lambda: screen_text(self))
            path = write_private(export_dir(self.settings),
                                 snapshot_name(name, self.now(), fmt_), text)
        except OSError as exc:
            self.notify(f"Export failed: {exc}", severity="error", markup=False)
            return None
        self.last_export = path
        self.notify(f"Wrote {path}", title="Export", timeout=10, markup=False)
        return path

    def copy_call_id(self, call_id: str | None) -> None:
        if not call_id:
            self.bell()
            return
        self.copy_to_clipboard(call_id)  # OSC 52: reaches the operator's clipboard over SSH
        self.last_copied = call_id
        self.notify(Text.assemble("Copied call id ", fmt.clean(call_id)).plain, timeout=3,
                    markup=False)


def run_app(app: NocApp) -> int:
    """Run the dashboard in the terminal; returns the process exit status. Once the
    command line has armed noc_tui.ui.terminal, a hang-up ends it within a second."""
    from noc_tui.ui import terminal

    def hung_up() -> None:
        app.polls.cancel.set()
        app.exit(return_code=terminal.HANGUP_STATUS)

    def graceful() -> None:
        # From the signal handler: handed to the event loop, never run in the handler.
        loop = app.ui_loop
        if loop is not None:
            loop.call_soon_threadsafe(hung_up)

    terminal.set_graceful(graceful)
    terminal.watch()
    try:
        result = app.run()
    finally:
        terminal.set_graceful(None)
        _send_what_is_left(app)
    return result if isinstance(result, int) else (app.return_code or 0)


def _send_what_is_left(app: NocApp) -> None:
    """The terminal is back: alarms the dashboard's polls raised but had not sent yet
    go now, said on stderr (lost quietly with the process otherwise)."""
    notifier = getattr(app.polls.poller, "notifier", None)
    if notifier is None:
        return
    from noc_tui.alerts.delivery import drain_at_quit

    def say(text: str) -> None:
        sys.stderr.write(f"noc-tui: {printable_lines(text)}\n")
        sys.stderr.flush()

    with contextlib.suppress(OSError, KeyboardInterrupt):  # a hung-up terminal: no one to tell
        drain_at_quit(notifier, say)


def run_dashboard(
    settings: Settings,
    cache_path: str | Path,
    poller: Any | None = None,
    theme: str | None = None,
    config_path: Path | None = None,
) -> int:
    """Run the dashboard in the terminal, with what it remembers from the last run;
    returns the process exit status."""
    from noc_tui.ui.saved_state import default_state_path

    return run_app(NocApp(settings, cache_path, poller=poller, theme=theme,
                          config_path=config_path,
                          state=SavedState.load(default_state_path())))
