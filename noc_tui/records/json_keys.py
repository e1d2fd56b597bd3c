"""JSON objects that give a key twice.

Python's json, msgspec and pydantic all keep the last value of a repeated key without a
word. The record formats reject such an object instead: one of the two values is wrong,
and nothing tells which. repeated_key is the exact check, by Python's json (a few µs a
record); repeats_among and top_level_repeat count colons at C speed first, and the
attempts' fast path screens whole batches by their colons (attempt_parser.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgspec


class _Repeated(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> None:
    if len(pairs) > 1:
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
    # The values are not needed: nested objects become None.


def repeated_key(text: str | bytes) -> str | None:
    """The first key that some object in the JSON text gives twice, at any depth; None
    when there is none, or when the text is not JSON (the validators say why)."""
    try:
        json.loads(text, object_pairs_hook=_pairs)
    except _Repeated as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None
    return None


class _Object(list[tuple[str, Any]]):
    """An object's pairs, as read: a repeated key stays repeated."""


def loads_as_written(text: str | bytes) -> Any:
    """JSON read by Python's json with every object kept as its pairs (_Object), so that
    dumps_as_written gives it back with its keys as written. ValueError if not JSON."""
    return json.loads(text, object_pairs_hook=_Object)


def dumps_as_written(value: Any) -> str:
    """JSON text of what loads_as_written read, a repeated key still repeated."""
    if isinstance(value, _Object):
        return "{" + ", ".join(f"{json.dumps(k)}: {dumps_as_written(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(dumps_as_written, value)) + "]"
    return json.dumps(value)


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_TOPS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])


def _counted_twice(text: bytes, top: dict[str, msgspec.Raw]) -> bool | None:
    """Whether the object msgspec read from `text` as `top` gives a key twice, told by
    its colons: those outside the values are one a key, so more than the keys msgspec
    kept means a key given twice. None when the count cannot tell: a key with a colon
    (maybe an escape), or an object inside a value (its keys are another matter)."""
    values = b"".join(top.values())
    if b"{" in values or ":" in "".join(top):
        return None
    return text.count(b":") - values.count(b":") != len(top)


def repeats_among(texts: Sequence[bytes]) -> list[bool]:
    """For each JSON text, whether some object in it gives a key twice (as
    repeated_key, exactly), mostly at C speed: msgspec reads the texts in one call and
    their colons are counted; only the texts that count cannot clear are read by
    Python's json."""
    try:
        tops = _TOPS.decode(b"[" + b",".join(texts) + b"]")
    except ValueError:  # msgspec's errors, or bytes that are not UTF-8
        tops = None
    if tops is None or len(tops) != len(texts):
        return [repeated_key(t) is not None for t in texts]
    out = []
    for text, top in zip(texts, tops, strict=True):
        twice = _counted_twice(text, top)
        out.append(repeated_key(text) is not None if twice is None else twice)
    return out


_CHUNK = 1 << 20


def _colons_in(raw: msgspec.Raw) -> int:
    """The colons of a raw value, counted a megabyte at a time: a page's items are one
    value, and a copy of them whole would double a big page's memory."""
    view = memoryview(raw)
    return sum(bytes(view[i:i + _CHUNK]).count(b":") for i in range(0, len(view), _CHUNK))


def top_level_repeat(text: str | bytes) -> str | None:
    """The first key the outermost object of the JSON text gives twice (not looking
    inside its values); None as for repeated_key.

    Made for an API page, whose outer object holds all its items: msgspec reads the
    object's values as raw text, and the colons outside them are one per key. Only
    when they are more than the keys msgspec kept is the text read by Python's json,
    which names the key."""
    data = text.encode() if isinstance(text, str) else text
    try:
        top = _TOP.decode(data)
    except ValueError:  # msgspec's errors, or bytes that are not UTF-8
        pass  # not an object, or not JSON to msgspec: Python's json says
    else:
        # Objects inside its values do not matter here (an item's keys are the cache's
        # business); only a key with a colon leaves the count in doubt.
        if ":" not in "".join(top):
            in_values = sum(_colons_in(raw) for raw in top.values())
            if data.count(b":") - in_values == len(top):
                return None
    try:
        top = loads_as_written(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(top, _Object):
        return None
    seen: set[str] = set()
    for key, _value in top:
        if key in seen:
            return str(key)
        seen.add(key)
    return None
