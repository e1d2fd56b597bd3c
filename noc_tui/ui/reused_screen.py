"""A screen the app installs once and shows again for each carrier or trunk group
(Enter on a list): composing its tabs on every Enter cost most of the time to the
screen, and so would restyling it whole on every return.

Enter also holds the screen's first paint until its first data is shown (a few ms), so
the screen is painted once, complete, not "Loading…" first and then again with data."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from textual import events
from textual.screen import Screen

# A read slower than this shows "Loading…" (the paint is held no longer).
HEAD_WAIT_S = 0.2


class ReusedScreen(Screen):
    _styled_for: tuple[Any, ...] | None = None
    _hold: AbstractContextManager[None] | None = None

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

    # -- one paint per Enter ---------------------------------------------------------------

    def hold_paint(self) -> None:
        """Suspend repaints until release_paint (the first data is shown) or HEAD_WAIT_S
        has passed: one complete paint instead of "Loading…" then the data. Keys still
        reach the screen meanwhile (only painting waits)."""
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

    def _on_screen_suspend(self) -> None:
        self.release_paint()  # the app's other screens paint again

    def _on_unmount(self) -> None:
        self.release_paint()
