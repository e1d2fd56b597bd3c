"""The status line atop every screen: where we are, the clock (UTC, as every time on
screen), the data's age, pause, poll progress. Below 100 columns the app's name makes
way, and a long crumb or age ends in an ellipsis rather than pushing the rest off."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static

from noc_tui.ui.cells import TIME_ZONE, when
from noc_tui.ui.host import host

NARROW = 100  # columns below which the header drops the app's name


class HeaderBar(Horizontal):
    """App name and where we are, the data's age, a PAUSED badge, poll progress."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; }
    HeaderBar > #hb-title { width: auto; padding: 0 1; text-style: bold; color: $primary; }
    HeaderBar.-narrow > #hb-title { display: none; }
    HeaderBar > #hb-crumb { width: 1fr; padding: 0 1; text-wrap: nowrap;
        text-overflow: ellipsis; }
    HeaderBar > #hb-clock { width: auto; padding: 0 1; }
    HeaderBar > #hb-age { width: auto; max-width: 60%; padding: 0 1; text-wrap: nowrap;
        text-overflow: ellipsis; }
    HeaderBar > #hb-age.-warning { color: $warning; text-style: bold; }
    HeaderBar > #hb-age.-error { color: $error; text-style: bold; }
    App:nocolor HeaderBar > #hb-age.-warning { color: $foreground; text-style: bold; }
    App:nocolor HeaderBar > #hb-age.-error { color: $foreground; text-style: bold reverse; }
    HeaderBar > #hb-paused { width: auto; padding: 0 1; display: none;
        background: $warning; color: $background; text-style: bold; }
    HeaderBar > #hb-paused.-on { display: block; }
    HeaderBar > ProgressBar { width: 30; display: none; }
    HeaderBar > ProgressBar.-on { display: block; }
    """

    def __init__(self, crumb: str | Text = "") -> None:
        super().__init__()
        self._crumb = crumb

    def compose(self) -> ComposeResult:
        yield Static("noc-tui", id="hb-title", markup=False)
        crumb = self._crumb if isinstance(self._crumb, Text) else Text(self._crumb)
        yield Static(crumb, id="hb-crumb")
        yield Static("", id="hb-clock", markup=False)
        yield Static("", id="hb-age", markup=False)
        yield Static("PAUSED", id="hb-paused", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="hb-progress")

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < NARROW, "-narrow")
        self.app.call_later(host(self).update_headers)

    def on_resize(self) -> None:
        self.set_class(self.app.size.width < NARROW, "-narrow")

    def set_crumb(self, crumb: Text) -> None:
        self.query_one("#hb-crumb", Static).update(crumb)

    def show(self, age: Content, level: str, paused: bool,
             progress: tuple[int, int | None] | None) -> None:
        # The time the figures are for, to the minute: the calls' times are read against it.
        self.query_one("#hb-clock", Static).update(
            f"{when(host(self).now())[:16]} {TIME_ZONE}")
        age_w = self.query_one("#hb-age", Static)
        age_w.update(age)
        age_w.set_class(level == "warning", "-warning")
        age_w.set_class(level == "error", "-error")
        self.query_one("#hb-paused").set_class(paused, "-on")
        bar = self.query_one(ProgressBar)
        bar.set_class(progress is not None, "-on")
        if progress is not None:
            done, total = progress
            bar.update(total=total, progress=done)

