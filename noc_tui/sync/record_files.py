"""Reading a record file line by line, so that a bad spot costs only itself.

A file's lines are read in blocks, each line with its number, until the file ends or
cannot be read further (a cut or damaged gzip stream, a read error): every line before
that point is given, and the reader says why and where it stopped. A UTF-8 byte-order
mark at the start is dropped. CSV rows are read from those lines with the csv module,
one row at a time: a row with bytes that are not UTF-8, a cell over the csv module's
size limit or a quote that is never closed is reported with its first line, and
reading goes on at the next line.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from noc_tui.records.formats import FIELDS, REQUIRED

# What stops a file from being read further: a cut gzip stream (EOFError), damaged
# compressed data (zlib.error, gzip.BadGzipFile), a read error of the disk (OSError).
READ_ERRORS = (OSError, EOFError, zlib.error)
READ_CHUNK = 1 << 20
# A line longer than this is rejected unread: no record comes near it, and memory
# stays bounded whatever the file holds.
MAX_LINE = 16 << 20
_BOM = codecs.BOM_UTF8
_CSV_EOL = re.compile(rb"\r\n?|\n")


def open_bytes(path: Path, gz: bool) -> IO[bytes]:
    return gzip.open(path, "rb") if gz else path.open("rb")


def cut_reason(exc: BaseException) -> str:
    """Why a file could not be read further, in a user's words."""
    if isinstance(exc, EOFError):
        return "the compressed file is cut off (it ends before its end marker)"
    if isinstance(exc, zlib.error | gzip.BadGzipFile):
        return f"the compressed data is damaged ({exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"read error: {exc.strerror}"
    return f"read error: {exc}"


class Lines:
    """The lines of a binary file in blocks, numbered from 1. `csv`: lines end at \\n,
    \\r or \\r\\n and keep their ends (a quoted CSV cell may hold a line break);
    otherwise they end at \\n and lose it (JSON lines).

    After the blocks: `count` lines were read; `cut` says why reading stopped early
    (None when the file was read to its end); `too_long` has the numbers of the lines
    skipped for being over MAX_LINE; `partial` is the number of the line the cut went
    through. A JSON line cut short is given (it is whole only if it parses); a CSV one
    is not: a row cut short may look whole, with a wrong last value."""

    def __init__(self, fb: IO[bytes], csv: bool = False) -> None:
        self._fb = fb
        self._csv = csv
        self.count = 0
        self.cut: str | None = None
        self.too_long: list[int] = []
        self.partial: int | None = None

    def blocks(self) -> Iterator[tuple[int, list[bytes]]]:
        """(number of the block's first line, its lines)."""
        fb = self._fb
        carry = b""
        start = True
        skipping = False  # inside a line over MAX_LINE
        while True:
            try:
                # read1: what the file has decoded so far, so a gzip cut loses nothing
                # before the cut (read(n) drops what it gathered when the cut is hit).
                data = fb.read1(READ_CHUNK)  # type: ignore[attr-defined]
            except READ_ERRORS as exc:
                self.cut = cut_reason(exc)
                data = b""
            if start and data:
                data, carry = carry + data, b""
                if len(data) < len(_BOM) and _BOM.startswith(data):
                    carry = data  # too little yet to tell a byte-order mark
                    continue
                start = False
                if data.startswith(_BOM):
                    data = data[len(_BOM):]
            if not data:
                if skipping:
                    self.count += 1
                    self.too_long.append(self.count)
                elif carry:
                    self.count += 1
                    if self.cut is not None:
                        self.partial = self.count
                    if self.cut is None or not self._csv:
                        yield self.count, [carry]
                return
            if skipping or (carry and len(carry) + len(data) > MAX_LINE):
                # The line in hand may be over MAX_LINE: where does it end?
                end, width = self._line_end(data)
                if skipping or end < 0 or len(carry) + end > MAX_LINE:
                    carry = b""
                    skipping = end < 0
                    if skipping:
                        continue
                    self.count += 1
                    self.too_long.append(self.count)
                    data = data[end + width:]
            text = carry + data if carry else data
            if self._csv:
                lines = text.splitlines(keepends=True)
                # The last line has no end yet, or only \r whose \n may be in the next
                # chunk: kept until then.
                carry = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
            else:
                lines = text.split(b"\n")
                carry = lines.pop()
            if lines:
                first = self.count + 1
                self.count += len(lines)
                yield first, lines

    def _line_end(self, data: bytes) -> tuple[int, int]:
        """(where the first line of `data` ends, the length of its end), -1 if it does not."""
        if not self._csv:
            return data.find(b"\n"), 1
        m = _CSV_EOL.search(data)
        return (m.start(), m.end() - m.start()) if m else (-1, 0)


@dataclass(frozen=True)
class CsvRow:
    """A CSV row: its first line and cells, or the reason it could not be read."""

    line: int
    cells: list[str] | None
    problem: str | None = None


class _Feed:
    """Lines for csv.reader, keeping those of the row being read: after a bad row,
    reading starts again at the line after its first one."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.again: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        item = self.again.popleft() if self.again else next(self._lines)
        self.taken.append(item)
        return item[1]

    def take(self) -> list[tuple[int, str]]:
        taken, self.taken = self.taken, []
        return taken


def _texts(lines: Lines, bad: dict[int, str]) -> Iterator[tuple[int, str]]:
    """Each line as text; a line that is not UTF-8 is noted in `bad` and goes on with
    its bad bytes kept as surrogates, so the row it belongs to is found and rejected."""
    for first, block in lines.blocks():
        for n, raw in enumerate(block, first):
            try:
                yield n, raw.decode()
            except UnicodeDecodeError as exc:
                bad[n] = (f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte "
                          f"{exc.start + 1} of line {n})")
                yield n, raw.decode("utf-8", "surrogateescape")


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if text.startswith("field larger than field limit"):
        return f"a cell is longer than {csv.field_size_limit():,} characters"
    if "unexpected end of data" in text:
        return "a quote opened on this line is never closed"
    if "expected after" in text:
        return "a quote opened on this line is never closed, or closed mid-cell"
    return f"not valid CSV ({text})"


class CsvRows:
    """The rows of a CSV file, each from its first line. `width`, once set (the
    header's), lets a row that runs over several lines with the wrong number of cells
    be seen as a quote never closed: that row's first line is rejected and reading goes
    on at its second."""

    def __init__(self, lines: Lines) -> None:
        self._bad: dict[int, str] = {}
        self._feed = _Feed(_texts(lines, self._bad))
        self.width: int | None = None

    def __iter__(self) -> Iterator[CsvRow]:
        feed = self._feed
        while True:
            reader = csv.reader(feed, strict=True)
            try:
                for cells in reader:
                    taken = feed.take()
                    if not cells:
                        continue  # a blank line
                    first = taken[0][0]
                    if (len(taken) > 1 and self.width is not None
                            and len(cells) != self.width):
                        yield CsvRow(first, None, "a quote opened on this line is never "
                                     "closed (its cell runs over the next lines)")
                        self._again(taken)
                        break
                    if self._bad:
                        problem = next((self._bad.pop(n) for n, _ in taken if n in self._bad),
                                       None)
                        if problem is not None:
                            for n, _ in taken:
                                self._bad.pop(n, None)
                            yield CsvRow(first, None, problem)
                            continue
                    yield CsvRow(first, cells)
                else:
                    return
            except csv.Error as exc:
                taken = feed.take()
                yield CsvRow(taken[0][0] if taken else 0, None, _csv_problem(exc))
                self._again(taken)

    def _again(self, taken: list[tuple[int, str]]) -> None:
        """Read again from the second of a bad row's lines: its first one is spent."""
        if taken:
            self._bad.pop(taken[0][0], None)
        self._feed.again.extendleft(reversed(taken[1:]))


class HeaderError(ValueError):
    """The first line of a CSV file is not a header of its kind's fields."""


def csv_header(row: CsvRow | None, kind: str) -> list[str]:
    """The column names of a CSV file of `kind` from its first row (none for a file
    without rows: it holds no records); HeaderError says what is wrong with it."""
    example = ",".join(FIELDS[kind])
    if row is None:
        return []
    if row.cells is None:
        raise HeaderError(f"line {row.line}: the header cannot be read: {row.problem}")
    names = [c.strip() for c in row.cells]
    # Counted once each: names.count per cell took minutes on a header of 10^5 cells.
    twice = sorted(n for n, k in Counter(names).items() if n and k > 1)
    missing = [f for f in FIELDS[kind] if f in REQUIRED[kind] and f not in names]
    if not missing and not twice:
        return names
    if not missing:
        # Which of the two cells is meant cannot be told: the file is refused, not read
        # with one of them dropped.
        listed = ", ".join(f'"{n}"' for n in twice)
        raise HeaderError(f"line {row.line}: duplicate column{'s' if len(twice) > 1 else ''} "
                          f"{listed} in the header; name each column once")
    looks_json = row.cells[0].lstrip().startswith(("{", "["))
    what = f"it has no {', '.join(missing)} column" + ("s" if len(missing) > 1 else "")
    hint = (f"; it looks like JSON: name the file {kind}.jsonl" if looks_json
            else f"; the first line names the columns, like {example}")
    raise HeaderError(f"line {row.line} is not a header of {kind} fields: {what}{hint}")
