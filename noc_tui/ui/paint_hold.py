"""One complete paint instead of "Loading…" then the data: a screen holds its paints
from the moment it asks for its first data until that data is shown, or HEAD_WAIT_S
has passed (a slower read shows "Loading…"). Keys still reach the screen meanwhile;
only painting waits.

Textual still lays out and composes the held frames; only writing them to the terminal
waits, so the operator sees no "Loading…" flash. Used at start by the carrier list (its
list arrives from the start-up child a few ms after the screen is mounted) and on each
Enter by the carrier and trunk-group screens (ReusedScreen)."""

from __future__ import annotations

from contextlib import AbstractContextManager

from textual.screen import Screen

# A read slower than this shows "Loading…" (the paint is held no longer).
HEAD_WAIT_S = 0.2


class PaintHold(Screen):
    _hold: AbstractContextManager[None] | None = None

    def hold_paint(self) -> None:
        """Suspend repaints until release_paint (the first data is shown) or HEAD_WAIT_S
        has passed."""
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
