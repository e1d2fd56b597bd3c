"""What the screens and the command palette ask of the app, as an interface.

The app imports its screens to open them; were the screens to import the app back for
`now()` or `reader()`, the two would form an import loop. They see the app through
these protocols instead, which NocApp satisfies (tests/test_architecture.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from noc_tui.analytics.list_state import ListSnapshot
    from noc_tui.config import Settings  # or a settings_view.SettingsView
    from noc_tui.store.cache import Cache
    from noc_tui.ui.messages import ListLoaded, LoadFailed


class Host(Protocol):
    """The dashboard's state and services, as the screens use them."""

    settings: Settings
    cache_path: Path
    config_path: Path
    window: str  # "1h", "24h" or "7d"
    as_of_ms: int | None  # the instant the carrier list's figures are of
    inbound_as_of_ms: int | None  # the instant the trunk-group list's figures are of
    generation: int  # counts reloads of the cache: a part loaded for an older one is stale
    carrier_names: dict[str, str]  # id -> name, from the last carrier list
    carrier_rows: dict[str, dict[str, Any]]  # id -> row, from the last carrier list

    def now(self) -> int:
        """The time the figures are computed at, in ms (a frozen clock in tests)."""
        ...

    def reader(self) -> AbstractContextManager[Cache]:
        """A read-only cache connection for the calling (worker) thread."""
        ...

    def list_rows(self) -> dict[str, dict[str, Any]] | None:
        """The carrier list's rows by id, if that list is of the current window."""
        ...

    def take_first_list(self) -> Callable[[], ListSnapshot | None] | None: ...

    def health_style(self, state: str) -> str: ...

    def last_seen(self, key: str) -> str | None:
        """The newest call (its ISO start) the operator saw in a list of calls."""
        ...

    def saw(self, key: str, newest: str) -> None:
        """The operator has seen a list of calls up to this one."""
        ...

    def saved_sort(self, table_id: str) -> tuple[str, bool] | None:
        """The sort the operator last chose for a table (column, flipped)."""
        ...

    def list_loaded(self, msg: ListLoaded) -> None: ...

    def load_failed(self, msg: LoadFailed) -> None: ...

    def first_frame_shown(self) -> None: ...

    def update_headers(self) -> None: ...

    def set_window(self, window: str) -> None: ...

    def open_carrier(self, carrier_id: str) -> None: ...

    def open_call(self, call_id: str) -> None: ...

    def show_trunk_groups(self) -> None:
        """The trunk-group list: the one open, else a new one."""
        ...

    def open_trunk_group(self, trunk_group_id: str, name: str | None = None) -> None: ...

    def open_search(self, query: str | None = None) -> None:
        """The search screen (calls by number, CLI or Call-ID), searching `query`."""
        ...

    def show_alarms(self) -> None:
        """The alarm screen: open alarms, then past ones."""
        ...

    def data_changed(self) -> None:
        """The cache changed (a poll, an acknowledgement): every screen reloads."""
        ...

    def copy_call_id(self, call_id: str | None) -> None: ...


class PaletteHost(Host, Protocol):
    """What the command palette offers besides: the app's own actions."""

    def action_poll_now(self) -> None: ...

    def action_toggle_pause(self) -> None: ...

    def action_help(self) -> None: ...

    async def action_quit(self) -> None: ...

    def export_snapshot(self, fmt_: str) -> Path | None: ...

    def toggle_alarmed_first(self) -> None: ...

    def sort_list(self, key: str) -> None: ...

    def theme_names(self) -> list[str]: ...

    def use_theme(self, name: str) -> None: ...


def host(node: DOMNode) -> Host:
    """The app `node` runs in, as the Host it is."""
    return cast("Host", node.app)
