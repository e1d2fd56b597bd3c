"""Text from a switch or a file made safe to show on a terminal.

Names, reasons, notes, a switch's error bodies and file names are data: a control
character in them (ESC starts ANSI and OSC sequences: clear the screen, set the
clipboard, forge a link), a C1 control (0x9b is a one-byte CSI) or a bidi override
(which reorders what the operator reads) must be seen, not obeyed. Each becomes a
visible escape: ``\\x1b``, ``\\x9b``, ``\\u202e``. The one definition for the
dashboard, the notifications and every CLI message; files written with ``-o`` keep the
data as it is.
"""

from __future__ import annotations

import re
from typing import Any

# C0 and C1 controls with DEL; the bidi marks, embeddings, overrides and isolates
# (U+061C, U+200E-200F, U+202A-202E, U+2066-2069); the line and paragraph separators,
# which some terminals take as line breaks.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                                 "\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any) -> str:
    """A data value as single-line text with every control shown escaped (None: "")."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_escape, text)


def printable_lines(value: Any) -> str:
    """As `printable`, but line feeds kept: a message or a document of several lines."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)


def printable_json(text: str) -> str:
    """JSON text with the controls and bidi marks in its strings written as ``\\u``
    escapes: the same data to a JSON reader, inert on a terminal."""
    return _UNSAFE_BUT_NEWLINE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
