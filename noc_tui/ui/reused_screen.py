"""A screen the app installs once and shows again for each carrier or trunk group
(Enter on a list): composing its tabs on every Enter cost most of the time to the
screen, and so would restyling it whole on every return.

Enter also holds the screen's first paint until its first data is shown (a few ms), so
the screen is painted once, complete, not "Loading…" first and then again with data
(paint_hold.PaintHold)."""

from __future__ import annotations

from typing import Any

from textual import events

from noc_tui.ui.paint_hold import PaintHold


class ReusedScreen(PaintHold):
    _styled_for: tuple[Any, ...] | None = None

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
