"""Which calls of a list came in since the operator last looked at it.

A look lasts while its tab is shown: the calls newer than the newest one seen at the
previous look are marked (•), also those arriving while the operator looks; leaving the
tab (another tab, screen or carrier) ends the look. The app keeps the newest call seen
per list (failover out/in, consecutive failures) and carrier, across restarts.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from noc_tui.ui.host import Host
from noc_tui.ui.widgets import Col

NEW_COL = Col("new", "", 1, pin=True)  # the mark, before a call's time
MARK = "•"


class NewCalls:
    """The looks at one kind of list (one key per carrier and list)."""

    def __init__(self) -> None:
        self._baseline: dict[str, str | None] = {}  # key -> newest seen before this look

    def look(self, app: Host, key: str, starts: Iterable[str]) -> str | None:
        """The baseline of the look at `key` (None: never looked, nothing is new), and
        the calls listed now count as seen."""
        if key not in self._baseline:
            self._baseline[key] = app.last_seen(key)
        newest = max(starts, default=None)
        if newest is not None:
            app.saw(key, newest)
        return self._baseline[key]

    def end(self) -> None:
        self._baseline.clear()


def is_new(started_at: str | None, baseline: str | None) -> bool:
    return baseline is not None and started_at is not None and started_at > baseline


def mark(new: bool) -> Text:
    return Text(MARK if new else "", style="bold")
