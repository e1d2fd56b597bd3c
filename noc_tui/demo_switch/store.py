"""The demo switch's stored CDRs: simulated attempts materialised once, served by slicing.

A real switch serves call records it has stored; simulating and formatting them on every
request made the demo switch the slow end of a poll. Here each hour of traffic (by
``started_at``) is simulated once, on first use, and kept in API order as pre-rendered,
pre-compressed JSON: segments of SEGMENT_ROWS records, each raw deflate ended by a sync
flush, with the byte offset of every record, plus the started_at, call end and
late-publication draw of every record in compact arrays.

A page is then a few bisects. Its gzip body is the stored segments it covers whole, with
its ragged ends compressed on request: pieces from independent compressors, each ended
by a sync flush, concatenate into one valid deflate stream (as pigz does), and the
gzip CRC-32 is combined from the segments' own. Its plain body inflates the segments
(cheaper than deflating, and only a client that refuses gzip needs it). Keeping only
the compressed form holds 10^6 attempts in about 85 MB instead of about 320 MB.

Everything kept is independent of the clock: the publication rule (a call is published
once it has ended, a ``late_fraction`` of calls only ``late_delay_ms`` later) is applied
when a page is selected, so live traffic and late publication work as they did. The
content is that of Simulator.page, which stays the reference (the tests compare them).
"""

from __future__ import annotations

import struct
import threading
import zlib
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter

from noc_tui.demo_switch.simulator import MAX_SPAN_MS, SLOT_MS, Row, Simulator
from noc_tui.records.timefmt import HOUR_MS

# Materialised unit: small enough for a short window, few per page. A multiple of
# SLOT_MS and at least MAX_SPAN_MS, so a block's spill-over reaches only the next one.
BLOCK_MS = HOUR_MS
SEGMENT_ROWS = 256  # compressed unit: ~60 KB of JSON, within 5% of whole-page gzip
# gzip member header: no name, mtime 0, XFL 4 (fastest), OS 255 (unknown).
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\xff"
_ID_AT = len(b',{"call_id":"')  # where the call id starts in a stored record
_started = itemgetter(0)

Key = tuple[int, str, int]  # (started_at ms, call_id, seq): the API order


@dataclass(eq=False)
class Block:
    """The attempts starting in one BLOCK_MS, published or not, in API order.

    Every record is stored as ``,{...}`` (comma first, so any run of records is one
    slice of the block's text); record k is bytes [offs[k], offs[k + 1]) of that text,
    which is kept only as ``segments``: records [s*SEGMENT_ROWS, (s+1)*SEGMENT_ROWS)
    deflated, with the CRC-32 of their text and the operator that extends a CRC-32
    over that many bytes (``_crc_shift``)."""

    starts: array[int]  # started_at ms
    ends: array[int]  # call end ms: the record's publication instant
    late: array[float]  # the call's late-publication draw (Simulator row field 11)
    offs: array[int]
    segments: list[bytes]
    crcs: list[int]
    shifts: list[int]
    max_end: int  # every record is published once the clock reaches this

    def __len__(self) -> int:
        return len(self.starts)

    def text(self, i: int, j: int) -> bytes:
        """The stored text of records [i, j)."""
        if i >= j:
            return b""
        offs = self.offs
        s0, s1 = i // SEGMENT_ROWS, (j - 1) // SEGMENT_ROWS
        base = offs[s0 * SEGMENT_ROWS]
        text = b"".join([_inflate(self.segments[s]) for s in range(s0, s1 + 1)])
        return text[offs[i] - base: offs[j] - base]

    def key(self, k: int) -> Key:
        """Record k's sort key, read back from its JSON (call_id and seq come first)."""
        rec = self.text(k, k + 1)
        end = rec.index(b'"', _ID_AT)
        seq_end = rec.index(b",", end + 8)  # after '","seq":'
        return self.starts[k], rec[_ID_AT:end].decode(), int(rec[end + 8: seq_end])


@lru_cache(maxsize=16)
def _inflate(segment: bytes) -> bytes:
    # Cached: consecutive pages share the segment at their boundary, and a page's
    # cursor is read from the segment its last record is in.
    return zlib.decompressobj(-15).decompress(segment)


def _deflate(data: bytes, final: bool) -> bytes:
    # Level 1: on loopback and LANs speed matters more than the last few bytes. A fresh
    # compressor per piece: no back-reference crosses pieces, so they concatenate.
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


# CRC-32 combination (zlib's crc32_combine, which Python does not expose): crc(A + B) =
# crc(A) * x^(8 len B) + crc(B) over GF(2) modulo the CRC polynomial, bits reflected.
_CRC_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (as zlib's multmodp; a must not be 0)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _CRC_POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^k) modulo the polynomial; 1 << 30 is x^1
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _crc_shift(nbytes: int) -> int:
    """x^(8 nbytes): multiplying a CRC-32 by it appends that many bytes' worth."""
    p, k = 1 << 31, 3  # x^0; 8 = 2^3
    while nbytes:
        if nbytes & 1:
            p = _multmodp(_X2N[k & 31], p)
        nbytes >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from crc1 of A, crc2 of B and len(B)."""
    return _multmodp(_crc_shift(len2), crc1) ^ crc2


Run = tuple[Block, int, int]  # records [i, j) of a block


@dataclass
class Page:
    """The records of one attempts page, as runs of stored records."""

    runs: list[Run]
    next_after: Key | None  # the last record's key when more follow, else None

    def __len__(self) -> int:
        return sum(j - i for _, i, j in self.runs)

    def size(self, cursor: bytes) -> int:
        """The length of ``body(cursor)``, without building it."""
        text = sum(blk.offs[j] - blk.offs[i] for blk, i, j in self.runs)
        return len(b'{"items":[],"next_cursor":}') + len(cursor) + text - (1 if text else 0)

    def body(self, cursor: bytes) -> bytes:
        """``{"items":[...],"next_cursor":...}`` with ``cursor`` as JSON."""
        pieces = [b'{"items":[']
        pieces += [blk.text(i, j) for blk, i, j in self.runs]
        if len(pieces) > 1:
            pieces[1] = pieces[1][1:]  # the first record has no comma before it
        pieces.append(b'],"next_cursor":' + cursor + b"}")
        return b"".join(pieces)

    def gzip_body(self, cursor: bytes) -> bytes:
        """``body(cursor)`` as one gzip member: stored segments where a run covers one
        whole, the ragged parts compressed now."""
        out = [_GZIP_HEADER]
        pending = [b'{"items":[']
        crc, size = 0, 0
        first = True
        for blk, i, j in self.runs:
            if first:  # the first record goes out without its comma
                pending.append(blk.text(i, i + 1)[1:])
                i += 1
                first = False
            n = len(blk)
            s = -(-i // SEGMENT_ROWS)  # the first segment starting at or after i
            while True:
                a = s * SEGMENT_ROWS
                b = min(a + SEGMENT_ROWS, n)
                if a >= j or b > j:
                    break
                if a > i:
                    pending.append(blk.text(i, a))
                if pending:
                    data = b"".join(pending)
                    out.append(_deflate(data, final=False))
                    crc, size = zlib.crc32(data, crc), size + len(data)
                    pending = []
                out.append(blk.segments[s])
                crc = _multmodp(blk.shifts[s], crc) ^ blk.crcs[s]
                size += blk.offs[b] - blk.offs[a]
                i = b
                s += 1
            if i < j:
                pending.append(blk.text(i, j))
        pending.append(b'],"next_cursor":' + cursor + b"}")
        data = b"".join(pending)
        out.append(_deflate(data, final=True))
        crc, size = zlib.crc32(data, crc), size + len(data)
        out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
        return b"".join(out)


class AttemptStore:
    """Attempt pages of one simulator, from blocks materialised on first use.

    ``page`` has the semantics of Simulator.page: published records with since <=
    started_at < until and key > after, in API order, up to ``limit``, and whether more
    follow. Thread-safe: blocks are built under a lock and never change afterwards.
    """

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._blocks: dict[int, Block] = {}
        self._lock = threading.Lock()
        # Rows of a built block's last slots that start in the next block: that block
        # then need not simulate those slots again.
        self._carry: dict[int, list[Row]] = {}

    # -- materialising -----------------------------------------------------------------

    def block(self, b: int) -> Block:
        """Block number ``b`` (records starting in [b*BLOCK_MS, (b+1)*BLOCK_MS))."""
        blk = self._blocks.get(b)
        if blk is None:
            with self._lock:
                blk = self._blocks.get(b)
                if blk is None:
                    blk = self._build(b)
                    self._blocks[b] = blk
        return blk

    def materialised(self) -> int:
        """Records materialised so far."""
        return sum(len(b) for b in list(self._blocks.values()))

    def materialise(self, since_ms: int, until_ms: int) -> int:
        """Build every block that holds records starting in [since_ms, until_ms) now
        rather than on first use; returns the records they hold."""
        first = max(since_ms, self.sim.history_start_ms) // BLOCK_MS
        return sum(len(self.block(b)) for b in range(first, (until_ms - 1) // BLOCK_MS + 1))

    def _build(self, b: int) -> Block:
        sim = self.sim
        lo, hi = b * BLOCK_MS, (b + 1) * BLOCK_MS
        rows: list[Row] = []
        carry = self._carry.pop(b, None)
        first = (lo - MAX_SPAN_MS) // SLOT_MS  # calls started this early may retry in it
        if carry is not None:
            rows += carry
            first = lo // SLOT_MS
        spill: list[Row] = []
        for slot in range(first, (hi - 1) // SLOT_MS + 1):
            for r in sim.slot_rows(slot):
                if r[0] >= hi:
                    spill.append(r)
                elif r[0] >= lo:
                    rows.append(r)
        if b + 1 not in self._blocks:
            self._carry[b + 1] = spill
        # Rows arrive in (call_id, seq) order (earlier slots first, calls in index
        # order), so a stable sort on started_at alone gives the API order.
        rows.sort(key=_started)
        parts = sim.render_parts(rows)
        # Each record is stored as ",{...}"; ASCII only, so characters are bytes.
        offs = array("q", accumulate((n + 1 for n in map(len, parts)), initial=0))
        segments, crcs, shifts = [], [], []
        for a in range(0, len(parts), SEGMENT_ROWS):
            text = ("," + ",".join(parts[a: a + SEGMENT_ROWS])).encode()
            segments.append(_deflate(text, final=False))
            crcs.append(zlib.crc32(text))
            shifts.append(_crc_shift(len(text)))
        ends = array("q", [r[10] for r in rows])
        return Block(
            starts=array("q", [r[0] for r in rows]), ends=ends,
            late=array("d", [r[11] for r in rows]), offs=offs, segments=segments,
            crcs=crcs, shifts=shifts, max_end=max(ends, default=lo),
        )

    # -- serving -----------------------------------------------------------------------

    def page(
        self,
        since_ms: int,
        until_ms: int,
        limit: int,
        now: int,
        after: Key | None = None,
        late_fraction: float = 0.0,
        late_delay_ms: int = 0,
    ) -> Page:
        lo = since_ms if after is None else max(since_ms, after[0])
        # A record starting after now cannot be published (its call has not ended).
        hi = min(until_ms, now + 1)
        runs: list[Run] = []
        want = limit + 1  # one more than the page, to know whether more follow
        # Published once the clock passes max_end, or max_end + delay for late calls.
        slack = late_delay_ms if late_fraction > 0 and late_delay_ms > 0 else 0
        b = max(lo, self.sim.history_start_ms) // BLOCK_MS
        while want > 0 and b * BLOCK_MS < hi:
            blk = self.block(b)
            b += 1
            starts = blk.starts
            n = len(starts)
            i = bisect_left(starts, lo)
            if after is not None:
                while i < n and starts[i] == after[0] and blk.key(i) <= after:
                    i += 1
            j = n if n == 0 or starts[-1] < hi else bisect_left(starts, hi, i)
            if i >= j:
                continue
            if blk.max_end + slack <= now:  # all published: one run
                take = min(j - i, want)
                runs.append((blk, i, i + take))
                want -= take
                continue
            ends, late = blk.ends, blk.late
            start = -1
            for k in range(i, j):
                pub = ends[k] + late_delay_ms if late[k] < late_fraction else ends[k]
                if pub <= now:
                    if start < 0:
                        start = k
                    want -= 1
                    if want == 0:
                        runs.append((blk, start, k + 1))
                        start = -1
                        break
                elif start >= 0:
                    runs.append((blk, start, k))
                    start = -1
            if start >= 0:
                runs.append((blk, start, j))
        if want > 0:
            return Page(runs, None)
        # limit + 1 records found: drop the extra one; the last kept one is the cursor.
        blk, i, j = runs[-1]
        if j - i == 1:
            runs.pop()
        else:
            runs[-1] = (blk, i, j - 1)
        blk, _, j = runs[-1]
        return Page(runs, blk.key(j - 1))
