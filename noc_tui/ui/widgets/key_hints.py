"""The one-line footer of the keys a screen offers, the most useful first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.widgets import Static

# The order keys are offered in, by binding id: what an operator reaches for first. Keys
# not named here follow, in the screen's order; those that do not fit the line are left
# out whole (never cut), and `? Help`, which lists them all, is always there.
FIRST = (
    "carrier.back", "call.back", "number.back", "trunks.back", "tg.back", "chain.back",
    "alarms.back", "search.back", "alarms.ack", "search.edit",
    "list.filter", "trunks.filter", "tg.filter", "tg.outcome", "tg.trigger", "tg.period",
    "table.sort", "list.window",
    "list.trunk_groups",  # the second top-level list: in view at 80 columns
    "trunks.window", "tg.window", "carrier.window",
    "carrier.filter", "carrier.period", "carrier.direction",
    "carrier.halt_only", "carrier.fas_only", "list.alarmed_first", "carrier.copy",
    "call.copy", "search.copy", "app.help", "app.palette", "app.export", "app.poll",
    "app.pause", "app.quit",
)
HELP_ID = "app.help"

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import Binding


def key_text(app: App, binding: Binding) -> str:
    """The binding's keys as the operator presses them, after any [keys] remap."""
    keys = getattr(app, "_keymap", {}).get(binding.id or "", binding.key)
    return ", ".join(app.get_key_display(binding.with_key(k.strip(), key_display=None))
                     for k in keys.split(","))


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

    def on_resize(self) -> None:
        self._changed(None)

    def _render_hints(self) -> None:
        self._queued = False
        if not self.is_attached:
            return
        key_style = self.app.current_theme.variables.get(
            "footer-key-foreground", self.app.current_theme.accent or "") or ""
        hints: list[tuple[str, Content]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            b = active.binding
            if not b.show or not b.description or not active.enabled or b.action in seen:
                continue
            seen.add(b.action)
            hints.append((b.id or "", Content.assemble(
                (self.app.get_key_display(b), f"bold {key_style}"), " ", b.description)))
        order = {bid: i for i, bid in enumerate(FIRST)}
        hints.sort(key=lambda h: order.get(h[0], len(FIRST)))
        room = (self.content_region.width or self.app.size.width) or 80
        help_hint = next((c for bid, c in hints if bid == HELP_ID), None)
        if help_hint is not None:
            room -= help_hint.cell_length + 2
        parts: list[Content] = []
        for bid, content in hints:
            if bid == HELP_ID:
                continue
            need = content.cell_length + (2 if parts else 0)
            if need > room:
                continue  # left out whole; a shorter one further on may still fit
            parts.append(content)
            room -= need
        if help_hint is not None:
            at = next((i for i, (bid, _) in enumerate(hints) if bid == HELP_ID), len(parts))
            shown_before = sum(1 for bid, c in hints[:at] if any(c is p for p in parts))
            parts.insert(shown_before, help_hint)
        self.update(Content("  ").join(parts))
