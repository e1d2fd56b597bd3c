"""What the dashboard remembers between runs: the theme, the window and the sorts the
operator chose, and the newest call seen in each list of calls.

A small JSON file in the XDG state folder ($XDG_STATE_HOME/noc-tui/state.json, else
~/.local/state/noc-tui/state.json), written whole (a temporary file renamed over it) when
something in it changes. Only what the operator changed in the dashboard is kept there,
and a choice made there wins over the config's default at the next start (a --theme
given on the command line wins over both). A file that cannot be read or written is
said once and otherwise ignored: losing it costs the operator nothing but a choice.
No Textual here: the command line reads it before the dashboard is loaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from noc_tui.settings_view import APP

VERSION = 1
MAX_SEEN = 500  # lists of calls remembered (carrier x list); the oldest looked at go


def default_state_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME")
    return (Path(base) if base else Path.home() / ".local" / "state") / APP / "state.json"


class SavedState:
    """The remembered choices; `path` None keeps them in memory only (tests, exports)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.theme: str | None = None
        self.window: str | None = None
        self.sorts: dict[str, tuple[str, bool]] = {}  # table id -> (column, flipped)
        self.seen: dict[str, str] = {}  # list of calls -> the newest start seen (ISO)
        self.problem: str | None = None  # why the file could not be read or written

    @classmethod
    def load(cls, path: Path | None) -> SavedState:
        state = cls(path)
        if path is None or not path.exists():
            return state
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            state._take(data)
        except (OSError, ValueError, TypeError) as exc:
            state.problem = f"{path}: cannot read the dashboard's saved state ({exc}); " \
                "starting from the config's defaults"
        return state

    def _take(self, data: dict[str, Any]) -> None:
        theme, window = data.get("theme"), data.get("window")
        self.theme = theme if isinstance(theme, str) else None
        self.window = window if window in ("1h", "24h", "7d") else None
        for table, sort in (data.get("sorts") or {}).items():
            if (isinstance(sort, list) and len(sort) == 2 and isinstance(sort[0], str)
                    and isinstance(sort[1], bool)):
                self.sorts[str(table)] = (sort[0], sort[1])
        self.seen = {str(k): v for k, v in (data.get("seen") or {}).items()
                     if isinstance(v, str)}

    def as_json(self) -> dict[str, Any]:
        seen = dict(list(self.seen.items())[-MAX_SEEN:])
        return {"version": VERSION, "theme": self.theme, "window": self.window,
                "sorts": {k: list(v) for k, v in self.sorts.items()}, "seen": seen}

    def save(self) -> str | None:
        """Write the file (None: in memory only); the problem, if it could not be."""
        if self.path is None:
            return None
        import tempfile  # only when something is saved: not on the way to the first frame

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(self.as_json(), fh, indent=1)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self.problem = f"{self.path}: cannot save the dashboard's state " \
                f"({exc.strerror or exc}); choices will not be remembered"
            return self.problem
        return None

    def saw(self, key: str, newest: str) -> bool:
        """Remember the newest call seen in a list; True if that is news."""
        if newest <= self.seen.get(key, ""):
            return False
        self.seen.pop(key, None)  # re-inserted last: the most recently looked at
        self.seen[key] = newest
        return True
