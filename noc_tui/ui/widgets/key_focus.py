"""Keys typed at once with the key that opens a box (a fast typist, a paste): `/486`.

Textual's `Widget.focus()` moves the focus later (`call_later`), after the key events
already read: the characters after `/` then reached the screen's keys (on a carrier
screen `/486` on Consecutive Failure opened the Failover tab; on the list `/1` switched
the window). And Textual hands each key to the widget focused when it read it: keys read
before the box had the focus go to the table, bubble up, and once the box has the focus
were dropped (a focused box takes printable keys from the bindings). So a box opened by
a key takes the focus at once (`focus_now`), and a printable key that comes back up to
the app while a box has the focus is given to the box (`typed_before_focus`)."""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.widget import Widget
from textual.widgets import Input


def focus_now(widget: Widget) -> None:
    """Give `widget` the focus now, so the very next key event reaches it."""
    widget.screen.set_focus(widget)


def typed_before_focus(app: App, event: events.Key) -> bool:
    """If `event` is a printable key bubbling back to the app while an input box has the
    focus, hand it to the box and say so (True). The box stops the printable keys it
    gets itself: one coming back was read before the box had the focus."""
    focused = app.focused
    if not (event.is_forwarded and event.is_printable and isinstance(focused, Input)):
        return False
    focused.post_message(events.Key(event.key, event.character))
    return True
