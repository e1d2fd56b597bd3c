"""The one-line footer of the keys a screen offers."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static


class KeyHints(Static):
    """A one-line footer of the shown bindings. Textual's Footer recomposes a widget per
    key on every focus change; this re-renders one line, which keeps screens quick
    to open (Enter on a carrier) and cheap over a slow SSH link."""

    DEFAULT_CSS = """
    KeyHints { dock: bottom; height: 1; background: $panel; color: $foreground;
        text-wrap: nowrap; text-overflow: ellipsis; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._queued = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._changed)
        self._render_hints()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _changed(self, _screen: Any) -> None:
        if not self._queued:
            self._queued = True
            self.call_after_refresh(self._render_hints)

    def _render_hints(self) -> None:
        self._queued = False
        if not self.is_attached:
            return
        key_style = self.app.current_theme.variables.get(
            "footer-key-foreground", self.app.current_theme.accent or "") or ""
        parts: list[Content] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            b = active.binding
            if not b.show or not b.description or b.action in seen:
                continue
            seen.add(b.action)
            parts.append(Content.assemble((self.app.get_key_display(b), f"bold {key_style}"),
                                          " ", b.description))
        self.update(Content("  ").join(parts))
