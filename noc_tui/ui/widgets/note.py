"""A paragraph of literal text."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import Static


class Note(Static):
    """A paragraph of literal text (never markup)."""

    DEFAULT_CSS = "Note { padding: 0 1; height: auto; }"

    def __init__(self, text: str | Text | Content = "", *, id: str | None = None,
                 classes: str | None = None) -> None:
        if isinstance(text, str):
            text = Content(text)
        super().__init__(text, id=id, classes=classes, markup=False)

