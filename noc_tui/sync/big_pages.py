"""Pages of any size within the source's limit, stored in bounded memory.

A page can be up to source.max_page_mb (64 MB) of JSON. Parsed whole it would cost
that again in Python objects and once more in the parser's buffer; so a big page is
stored in slices of about SLICE_BYTES, each parsed and stored on its own, while its
body stays the only full copy. And while a big page is on its way through the poll's
stages, the next one is not fetched: the bytes of pages fetched but not yet stored
stay near ROOM_BYTES plus one page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from noc_tui.sources.base import Page

if TYPE_CHECKING:
    from noc_tui.records.formats import Rejection

SLICE_BYTES = 2_000_000
ROOM_BYTES = 8_000_000  # pages of the default size (~1.5 MB) never wait for room
# A record this big is quarantined, not parsed: real ones are well under 10 KB, and one
# of tens of MB would cost its size several times over once parsed.
MAX_RECORD_BYTES = 1_000_000
KEPT_OF_A_BIG_RECORD = 1_000  # characters of it kept in the quarantine


class _Items(msgspec.Struct):
    items: list[msgspec.Raw]  # views into the body, not copies


_ITEMS = msgspec.json.Decoder(_Items)


@dataclass
class Slice:
    """Some items of a page, next to each other: their places in the page, their JSON
    texts (views into the body) and the records too big to take among them."""

    positions: list[int] = field(default_factory=list)
    items: list[msgspec.Raw] = field(default_factory=list)
    too_big: list[Rejection] = field(default_factory=list)

    def texts(self) -> list[bytes]:
        """The items' JSON texts (a copy of this slice only)."""
        return [bytes(raw) for raw in self.items]


def slices(page: Page, name: Callable[[int], str]) -> list[Slice] | None:
    """A big page's items in slices of about SLICE_BYTES, or a page holding a record
    over MAX_RECORD_BYTES with that record set apart; None for a page to store whole
    (or one msgspec cannot read: the whole-page path words what is wrong). `name(i)`
    names item i in a rejection."""
    if page.size_bytes <= SLICE_BYTES and page.largest_item <= MAX_RECORD_BYTES:
        return None
    try:
        raws = _ITEMS.decode(page.body).items
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    out = [Slice()]
    size = 0
    for i, raw in enumerate(raws):
        n = len(raw)
        if n > MAX_RECORD_BYTES:
            from noc_tui.records.formats import Rejection  # pydantic: only when needed

            kept = bytes(memoryview(raw)[:KEPT_OF_A_BIG_RECORD]).decode("utf-8", "replace")
            out[-1].too_big.append(Rejection(
                name(i), f"record: {n:,} bytes of JSON, more than the {MAX_RECORD_BYTES:,} "
                         f"a record may take (its first {KEPT_OF_A_BIG_RECORD:,} kept here)",
                kept))
            continue
        if size + n > SLICE_BYTES and out[-1].items:
            out.append(Slice())
            size = 0
        out[-1].positions.append(i)
        out[-1].items.append(raw)
        size += n
    return out


def namer(name: Callable[[int], str], positions: list[int]) -> Callable[[int], str]:
    """Names item i of a slice by its place in the page."""
    return lambda i: name(positions[i])


class InFlight:
    """Bytes of pages fetched and not yet stored. The fetcher asks for room before each
    request, so a big page is stored before the next one is fetched."""

    def __init__(self, room: int = ROOM_BYTES) -> None:
        self.room = room
        self.bytes = 0
        self.closed = False
        self._cond = threading.Condition()

    def wait_for_room(self) -> bool:
        """True when there is room; False once closed (the poll stopped)."""
        with self._cond:
            while self.bytes > self.room and not self.closed:
                self._cond.wait(0.5)
            return not self.closed

    def add(self, n: int) -> None:
        with self._cond:
            self.bytes += n

    def done(self, n: int) -> None:
        with self._cond:
            self.bytes -= n
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def budgeted(pages: Iterator[Page], inflight: InFlight) -> Generator[Page, None, None]:
    """The pages, each fetched only when there is room for it (the request is made when
    the next page is asked for)."""
    try:
        while inflight.wait_for_room():
            page = next(pages, None)
            if page is None:
                return
            inflight.add(page.size_bytes)
            yield page
    finally:
        if isinstance(pages, Generator):
            pages.close()
