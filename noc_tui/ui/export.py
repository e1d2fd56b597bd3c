"""Snapshot export (`e`): the table shown as CSV/JSON, or the screen as SVG/text.

A screenshot holds the data only: the key hints, notifications and the table cursor
are taken off the screen while it is captured (`data_only`), in the dashboard and in
the headless `noc-tui export --format svg|txt` alike.

Files go to settings.ui.export_dir, else $XDG_DATA_HOME/noc-tui/exports
(~/.local/share/noc-tui/exports): a per-user folder, not the current directory an SSH
session happens to start in. Names carry the screen and a UTC timestamp; files are
created 0600 (they may hold customer numbers) and never overwrite another.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.console import Console
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen

from noc_tui.analytics.export import to_csv, to_json
from noc_tui.records.timefmt import ms_to_dt, ms_to_iso
from noc_tui.ui.cells import safe_filename

if TYPE_CHECKING:
    from textual.app import App

    from noc_tui.config import Settings

FORMATS = ("csv", "json", "svg", "txt")


def default_export_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME")
    return (Path(base) if base else Path.home() / ".local" / "share") / "noc-tui" / "exports"


def export_dir(settings: Settings) -> Path:
    return Path(settings.ui.export_dir).expanduser() if settings.ui.export_dir \
        else default_export_dir()


def snapshot_name(screen: str, now_ms: int, ext: str) -> str:
    stamp = ms_to_dt(now_ms).strftime("%Y%m%dT%H%M%SZ")
    return f"noc-tui_{safe_filename(screen)}_{stamp}.{ext}"


def write_private(folder: Path, name: str, text: str) -> Path:
    """Create folder/name with mode 0600 (never replacing a file) and write text."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem, dot, ext = name.rpartition(".")
    for n in range(1, 1000):
        path = folder / (name if n == 1 else f"{stem}-{n}{dot}{ext}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path.resolve()
    raise FileExistsError(f"{folder}: too many exports named {name}")


@dataclass(frozen=True)
class Snapshot:
    """What a screen exports as data: the JSON document, and its rows and columns for
    CSV (cost rounded to `currency`'s minor unit). The carrier list, a summary and a
    failover list are the command line's documents (analytics/export.py)."""

    doc: dict[str, Any]
    rows: list[dict[str, Any]]
    columns: list[str]
    currency: str | None = None

    def csv(self) -> str:
        return to_csv(self.rows, self.columns, self.currency)

    def json(self) -> str:
        return to_json(self.doc)


def table_snapshot(screen: str, columns: Sequence[str], rows: Sequence[dict[str, Any]],
                   now_ms: int, window_s: int) -> Snapshot:
    """A table no command exports: its rows under the screen's name."""
    data = [{c: r.get(c) for c in columns} for r in rows]
    return Snapshot({"screen": screen, "now": ms_to_iso(now_ms), "window_s": window_s,
                     "columns": list(columns), "rows": data}, data, list(columns))


T = TypeVar("T")


def data_only(app: App, capture: Callable[[], T]) -> T:
    """What `capture` returns while the screen shows its data only: no key hints, no
    notifications, no table cursor. The screen is laid out again for the capture (the
    tables take the footer's line) and put back as it was after it."""
    from textual.widgets import DataTable

    from noc_tui.ui.widgets import KeyHints

    screen = app.screen
    hidden = [w for w in (*screen.query(KeyHints), *screen.query("#textual-toastrack"))
              if w.display]
    cursors = [t for t in screen.query(DataTable) if t.show_cursor]
    try:
        for w in hidden:
            w.display = False
        for t in cursors:
            t.show_cursor = False
        screen._refresh_layout()  # now, not at the next frame: the capture is now
        return capture()
    finally:
        for w in hidden:
            w.display = True
        for t in cursors:
            t.show_cursor = True
        screen._refresh_layout()
        screen.refresh()


def screen_svg(app: App, title: str) -> str:
    """The screen as an SVG picture, data only."""
    return data_only(app, lambda: app.export_screenshot(title=title))


def screen_text(app: App) -> str:
    """The current screen as plain text (what export_screenshot does, without styles)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=False,
                      color_system=None, record=True, legacy_windows=False, safe_box=False)
    update = app.screen._compositor.render_update(  # same call as App.export_screenshot
        full=True, screen_stack=app._background_screens)
    console.print(update)
    lines = console.export_text(styles=False).splitlines()
    return "\n".join(line.rstrip() for line in lines).rstrip("\n") + "\n"


class ExportDialog(ModalScreen[str | None]):
    """Pick the export format with one key."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "pick('csv')", "CSV", id="export.csv"),
        Binding("j", "pick('json')", "JSON", id="export.json"),
        Binding("s", "pick('svg')", "SVG", id="export.svg"),
        Binding("t", "pick('txt')", "Text", id="export.txt"),
        Binding("escape,q", "pick('')", "Cancel", id="export.cancel"),
    ]
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical { width: 60; max-width: 95%; height: auto; padding: 1 2;
        border: round $primary; background: $surface; }
    """

    def __init__(self, folder: Path, has_table: bool) -> None:
        super().__init__()
        self.folder = folder
        self.has_table = has_table

    def compose(self) -> ComposeResult:
        from noc_tui.ui.widgets import Note

        lines = ["Export a snapshot of this screen", ""]
        if self.has_table:
            lines += ["  c  CSV of the table shown (filter applied)",
                      "  j  JSON of the table shown (filter applied)"]
        lines += ["  s  SVG screenshot", "  t  plain-text screenshot", "",
                  f"to {self.folder}", "", "Esc cancels"]
        with Vertical():
            yield Note("\n".join(lines))

    def action_pick(self, fmt: str) -> None:
        if fmt in ("csv", "json") and not self.has_table:
            self.app.bell()
            return
        self.dismiss(fmt or None)
