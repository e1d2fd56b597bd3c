"""Widgets the screens share, one module each: the header bar, the key hints footer,
a literal-text note, and NavTable (with how it paints cells and builds rows lazily,
which columns fit its width (columns.py) and how it sorts (table_sort.py)).
Their styles are each widget's DEFAULT_CSS, a few lines beside it.
"""

from noc_tui.ui.widgets.header_bar import HeaderBar
from noc_tui.ui.widgets.key_hints import KeyHints
from noc_tui.ui.widgets.navtable import Col, NavTable
from noc_tui.ui.widgets.note import Note

__all__ = ["Col", "HeaderBar", "KeyHints", "NavTable", "Note"]
