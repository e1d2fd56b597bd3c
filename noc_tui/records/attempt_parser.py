"""Attempts from JSON text to checked, typed rows, decoded by msgspec.

msgspec (compiled, strict) decodes a whole batch into typed structs in one pass and
checks the record format's types and ranges on the way. Only the plain form is taken
there: exact JSON types, and started_at written as the switch API writes it
(YYYY-MM-DDTHH:MM:SS.mmmZ). Anything msgspec refuses (true/false, numbers as strings,
other time forms, bad values) goes through pydantic, which either takes it or words
the rejection. Both paths take exactly the same records with the same values
(tests/test_ingest_paths.py); \\u escapes included, which both decode alike (lone
surrogates refused by both). A record that gives a key twice, which msgspec would take
with its last value, is found by counting colons (_given_twice) and sent to pydantic's
path, which rejects it.

A parser runs in a thread of its own while the cache stores the previous batch, and
does there what needs only the batch: the last record of each key, cost, and the
failover links among the batch's attempts. Parsed rows wait in shared-cache in-memory
databases; the cache's connection attaches one and stores from it directly.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import msgspec
from msgspec.structs import astuple

from noc_tui.records.failover_links import IN_COLS, OUT_COLS, link_in, link_out
from noc_tui.records.json_keys import dumps_as_written, loads_as_written, repeats_among
from noc_tui.records.ranges import bounds, kept_sql

if TYPE_CHECKING:
    from collections.abc import Iterator

    from noc_tui.records.formats import Rejection

# The attempt columns of a parsed row, after n (the record's position in its batch).
ROW_COLS = ("call_id", "seq", "carrier_id", "ts", "dst", "cli", "sip_code", "sip_reason",
            "pdd_ms", "duration_s", "release_reason")

_Text = Annotated[str, msgspec.Meta(min_length=1)]


def _int(name: str) -> Any:
    """An integer field of attempts, in its documented range (ranges.RANGES)."""
    return Annotated[int, msgspec.Meta(**bounds("attempts", name))]


def _real(name: str) -> Any:
    """A field of attempts that may hold a fraction, in its documented range; an integer
    stays one (msgspec takes a Meta on each type of a union, not on the union)."""
    meta = msgspec.Meta(**bounds("attempts", name))
    return Annotated[int, meta] | Annotated[float, meta]


_Seq = _int("seq")
_SipCode = _int("sip_code")
_PddMs = _real("pdd_ms")
_DurationS = _real("duration_s")


class _Attempt(msgspec.Struct, kw_only=True, gc=False):
    """The record format's attempt as msgspec checks it: exact JSON types and ranges.
    dst's digits and started_at's form are checked in SQLite (_NOT_PLAIN_SQL), cheaper
    than a regular expression per value. Fields in the order of ROW_COLS. Every field
    is required here, as the switch API always writes them all: then every record has
    the same keys, which the screen for keys given twice counts on (_given_twice);
    records that leave some out are read as _LooseAttempt."""

    call_id: _Text
    seq: _Seq
    carrier_id: _Text
    started_at: str
    dst: _Text
    cli: str | None
    sip_code: _SipCode
    sip_reason: str | None
    pdd_ms: _PddMs | None
    duration_s: _DurationS
    release_reason: str | None


# An optional field left out: a BLOB, which no field is, so that it can be counted, and
# stored as NULL (_LOOSE_VALUES_SQL).
_ABSENT = b""


class _LooseAttempt(_Attempt, kw_only=True, gc=False):
    """An attempt that may leave out the optional fields."""

    cli: str | None = _ABSENT  # type: ignore[assignment]
    sip_reason: str | None = _ABSENT  # type: ignore[assignment]
    pdd_ms: _PddMs | None = _ABSENT
    release_reason: str | None = _ABSENT  # type: ignore[assignment]


class _Items(msgspec.Struct):
    """An API page's items, as they are written."""

    items: msgspec.Raw


class _RawPage(msgspec.Struct):
    items: list[msgspec.Raw]


_ONE = msgspec.json.Decoder(_LooseAttempt)
_MANY = msgspec.json.Decoder(list[_Attempt])
_MANY_LOOSE = msgspec.json.Decoder(list[_LooseAttempt])
# The colons in the text of a record that gives each key of the format once (one after
# each key), with started_at in the canonical form (two).
_PLAIN_COLONS = len(ROW_COLS) + 2
_ITEMS = msgspec.json.Decoder(_Items)
_RAW_PAGE = msgspec.json.Decoder(_RawPage)


@dataclass
class ParsedAttempts:
    """One batch: its size, where its parsed rows wait (``table`` of the shared-cache
    in-memory database ``uri``: one per key, the last record of the batch, n its
    position from 1; beside it the failover links among them, links_out and links_in)
    and the rejections."""

    total: int
    uri: str
    table: str
    rejections: list[Rejection] = field(default_factory=list)
    # The cache's rates version the rows were costed with (Rater.reading; "" when it
    # has none); None when they were not costed.
    rates_version: str | None = None
    # How many (carrier, hour) rollup cells the rows fall in, as far as the parser
    # counted them (those pydantic took are left out).
    rollup_cells: int = 0


# A batch's parsed rows stay in an in-memory database until the cache has stored them
# (SQLite to SQLite, no Python per row). Three take turns: one being stored, one
# waiting, one being parsed (read_ahead keeps at most one batch waiting). Each is a
# database of its own, not a table: connections to one shared cache wait for each
# other's transactions, and with one database the cache's ATTACH waited for the parse
# of the next batch to commit (8 ms a page, and the two threads in turn, not at once).
BUFFERS = 3


class Rater(Protocol):
    """What the parser needs to cost connected attempts: the cache's rates, handed in by
    whoever drives the parse (the parser never opens the cache itself)."""

    def reading(self) -> AbstractContextManager[str]:
        """A consistent read of the rates; gives the rates version it reads."""
        ...

    def cost(self, carrier_id: str, dst: str, ts: int, duration_s: float) -> float | None:
        ...

    def close(self) -> None: ...


_COLS = ", ".join(ROW_COLS)

# -- the staging table: a batch's rows, shared by the parser's buffers and the cache's
# own stage (records pydantic validated). n is the record's position in its batch.


def create_stage(conn: sqlite3.Connection, schema: str, extra: str = "") -> None:
    """The staging table `schema`.stage (with `extra` columns after cost)."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}.stage "
                 f"(n INTEGER PRIMARY KEY, {_COLS}, cost{extra})")
    # For the last record of a key, and the failover links (a join of each call's rows).
    conn.execute(f"CREATE INDEX IF NOT EXISTS {schema}.stage_key "
                 "ON stage (call_id, seq, carrier_id, sip_code)")


def insert_rows_sql(table: str) -> str:
    """Insert rows (n, *ROW_COLS) into a staging table."""
    return f"INSERT INTO {table} (n, {_COLS}) VALUES ({', '.join('?' * (len(ROW_COLS) + 1))})"


def last_record_wins_sql(table: str) -> str:
    """Keep only the last row (highest n) of each key of a staging table."""
    return (f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {table} l WHERE "
            "l.call_id = stage.call_id AND l.seq = stage.seq AND l.n > stage.n)")


def cost_sql(table: str) -> str:
    """Cost the connected rows of a staging table (noc_cost: RateBook.cost)."""
    return (f"UPDATE {table} SET cost = noc_cost(carrier_id, dst, ts, duration_s) "
            "WHERE sip_code BETWEEN 200 AND 299")


# The instant of a canonical started_at, in SQLite (exact to the millisecond).
_TS_SQL = "CAST(round((julianday(?4) - 2440587.5) * 86400000.0) AS INTEGER)"


_PDD_SQL = kept_sql("?9")
_DURATION_SQL = kept_sql("?10")
# The same of a _LooseAttempt, whose left-out fields are stored as NULL.
_LOOSE_PDD_SQL = kept_sql("nullif(?9, x'')")
_LOOSE_VALUES_SQL = (f"nullif(?6, x''), ?7, nullif(?8, x''), {_LOOSE_PDD_SQL}, "
                     f"{_DURATION_SQL}, nullif(?11, x'')")


def _insert_decoded_sql(table: str, numbered: bool, loose: bool) -> str:
    """Insert rows msgspec decoded: ROW_COLS order with started_at's text in place of ts
    (?4), then n (?12) if `numbered`; else n is the rowid, 1.. in insertion order.
    pdd_ms and duration_s are kept to three decimals, as formats.to_row keeps them;
    `loose`: rows of _LooseAttempt."""
    n_col, n_val = ("n, ", "?12, ") if numbered else ("", "")
    values = (_LOOSE_VALUES_SQL if loose
              else f"?6, ?7, ?8, {_PDD_SQL}, {_DURATION_SQL}, ?11")
    return (f"INSERT INTO {table} ({n_col}{_COLS}, started) VALUES ({n_val}?1, ?2, ?3, "
            f"{_TS_SQL}, ?5, {values}, ?4)")


# What msgspec leaves to SQLite: dst all ASCII digits and started_at in the canonical
# form, a real instant. The days themselves are checked in Python, once per day seen
# (SQLite would read 02-30 as 03-02).
_STARTED_GLOB = ("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
                 ".[0-9][0-9][0-9]Z")
_NOT_PLAIN_SQL = ("started IS NOT NULL AND NOT (rtrim(dst, '0123456789') = '' AND started "
                  f"GLOB '{_STARTED_GLOB}' AND substr(started, 12, 2) < '24' "
                  "AND ts IS NOT NULL)")


def _check_utf8(data: bytes | str | msgspec.Raw) -> None:
    """UnicodeDecodeError unless the bytes are UTF-8. msgspec checks the strings it
    keeps, not the keys and values it skips (an unknown field): a line with a bad byte
    there was taken, and then failed the repeated-key check with a traceback."""
    if isinstance(data, str):
        return
    raw = data if isinstance(data, bytes) else bytes(data)
    if not raw.isascii():  # at C speed; the decode runs only on non-ASCII text
        raw.decode()


class AttemptParser:
    """Parses batches of attempts; use one from one thread at a time. Given a rater, it
    also costs the connected ones (and closes the rater with itself)."""

    def __init__(self, rater: Rater | None = None) -> None:
        # Each buffer a shared-cache database, kept alive by this connection.
        self.conn = sqlite3.connect(":memory:", isolation_level=None,
                                    check_same_thread=False)
        name = uuid.uuid4().hex
        self.uris = [f"file:noc_parse_{name}_{k}?mode=memory&cache=shared"
                     for k in range(BUFFERS)]
        for k, uri in enumerate(self.uris):
            self.conn.execute(f"ATTACH DATABASE ? AS buf{k}", (uri,))
            create_stage(self.conn, f"buf{k}", extra=", started")
            self.conn.execute(f"CREATE TABLE buf{k}.links_out ({', '.join(OUT_COLS)})")
            self.conn.execute(f"CREATE TABLE buf{k}.links_in ({', '.join(IN_COLS)})")
        self._turn = 0
        # Costing here, not in the storing thread: the rating function runs in Python,
        # and called from SQLite once per connected row it took the GIL back from this
        # thread as often (a thread switch each time).
        self._rater = rater
        if rater is not None:
            self.conn.create_function("noc_cost", 4, rater.cost, deterministic=True)

    def close(self) -> None:
        self.conn.close()
        if self._rater is not None:
            self._rater.close()

    def lines(self, lines: Sequence[bytes], where: Callable[[int], str]) -> ParsedAttempts:
        """JSON lines (one record each); ``where(i)`` names line i in a rejection."""
        # One JSON array of the lines, made in one copy (the brackets go on the first
        # and last lines, not around a second copy of the whole batch).
        joined = b",".join([b"[" + lines[0], *lines[1:-1], lines[-1] + b"]"]
                           if len(lines) > 1 else [b"[" + lines[0] + b"]"]) if lines else b"[]"
        try:
            _check_utf8(joined)
            items, loose = _decode_many(joined)
        except ValueError:  # msgspec's errors, or bytes that are not UTF-8
            return self._one_by_one(lines, where)
        colons = _colons(joined)
        del joined
        # A line like `{...},{...}` would count twice inside the array.
        if len(items) != len(lines):
            return self._one_by_one(lines, where)
        parsed = self._store(items, [], lines, where, colons=colons, loose=loose)
        assert parsed is not None  # with the texts at hand, every item finds its path
        return parsed

    def page(self, body: str | bytes, where: Callable[[int], str]) -> ParsedAttempts:
        """The items of an API page (``{"items": [...], ...}`` as text)."""
        try:
            raw = _ITEMS.decode(body).items
            _check_utf8(raw)
            items, loose = _decode_many(raw)
            parsed = self._store(items, [], None, where, colons=_colons(bytes(raw)),
                                 loose=loose)
        except msgspec.ValidationError:
            parsed = None
        except ValueError:  # msgspec.DecodeError, or bytes that are not UTF-8
            return self._one_by_one(item_texts(body), where)
        if parsed is not None:
            return parsed
        # Item by item (the page's shape was checked by the source).
        return self._one_by_one(item_texts(body), where)

    def _one_by_one(self, texts: Sequence[bytes], where: Callable[[int], str]
                    ) -> ParsedAttempts:
        items: list[_Attempt] = []
        positions: list[int] = []
        odd: list[tuple[int, bytes]] = []
        for i, text in enumerate(texts):
            try:
                _check_utf8(text)
                items.append(_ONE.decode(text))
                positions.append(i)
            except ValueError:  # msgspec.DecodeError, or bytes that are not UTF-8
                odd.append((i, text))
        parsed = self._store(items, odd, texts, where, positions, loose=True)
        assert parsed is not None  # with the texts at hand, every item finds its path
        return parsed

    def _store(self, decoded: Sequence[_Attempt], odd: list[tuple[int, bytes]],
               texts: Sequence[bytes] | None, where: Callable[[int], str],
               positions: Sequence[int] | None = None, colons: int | None = None,
               loose: bool = False) -> ParsedAttempts | None:
        """The decoded items (the whole batch, or those at `positions`; `loose`: some
        may leave optional fields out) into the next buffer, the odd texts through
        pydantic; the last record of a key wins. `colons`: how many colons the decoded
        items' texts hold in all (None: count them text by text). None if an item needs
        pydantic but its text is not at hand (``texts`` None): the caller then goes
        item by item."""
        conn = self.conn
        turn = self._turn
        table = f"buf{turn}.stage"
        rows = list(map(astuple, decoded))
        with self._transaction():
            conn.execute(f"DELETE FROM {table}")
            if positions is None:
                conn.executemany(_insert_decoded_sql(table, False, loose), rows)
            else:
                # Each row at its own position.
                conn.executemany(_insert_decoded_sql(table, True, loose),
                                 [(*r, i + 1) for i, r in zip(positions, rows, strict=True)])
            not_plain = _NOT_PLAIN_SQL
            no_days = [d for d in {a.started_at[:10] for a in decoded} if not _real_day(d)]
            if no_days:
                not_plain += (" OR substr(started, 1, 10) IN "
                              f"({', '.join('?' * len(no_days))})")
            bad = {n for (n,) in conn.execute(f"SELECT n FROM {table} WHERE {not_plain}",
                                              no_days)}
            twice = _given_twice(rows, positions, bad, texts, colons, loose)
            if bad or twice != set():
                if texts is None or twice is None:
                    return None  # the buffer is emptied at its next use
                conn.execute(f"DELETE FROM {table} WHERE {not_plain}", no_days)
                conn.executemany(f"DELETE FROM {table} WHERE n = ?", [(n,) for n in twice])
                bad |= twice
                odd.extend((n - 1, texts[n - 1]) for n in sorted(bad))
            parsed = ParsedAttempts(len(decoded) + len(odd) - len(bad), self.uris[turn],
                                    "stage")
            parsed.rollup_cells = len({(a.carrier_id, a.started_at[:13]) for a in decoded})
            if odd:
                conn.executemany(insert_rows_sql(table), self._fall_back(parsed, odd, where))
            # Keys repeat in the batch (rarely; always looked for when pydantic took part).
            if odd or len({(a.call_id, a.seq) for a in decoded}) != len(decoded):
                # The last record of a key wins, as across batches.
                conn.execute(last_record_wins_sql(table))
            if self._rater is not None:
                with self._rater.reading() as version:
                    self.conn.execute(cost_sql(table))
                parsed.rates_version = version
            # The links within the batch, here rather than in the storing thread; the
            # cache keeps those of the calls that had no attempts cached before.
            db = f"buf{turn}"
            conn.execute(f"DELETE FROM {db}.links_out")
            conn.execute(f"DELETE FROM {db}.links_in")
            conn.execute(link_out(f"{db}.links_out", table))
            conn.execute(link_in(f"{db}.links_in", table))
        self._turn = (turn + 1) % BUFFERS
        return parsed

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # One transaction a batch: the in-memory journal per statement is then skipped.
        self.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @staticmethod
    def _fall_back(parsed: ParsedAttempts, odd: list[tuple[int, bytes]],
                   where: Callable[[int], str]) -> list[tuple[Any, ...]]:
        from noc_tui.records.formats import Rejection, to_row, validate_json_each

        odd.sort()
        rows = []
        results = validate_json_each("attempts", [text for _i, text in odd],
                                     [where(i) for i, _t in odd])
        for (i, _text), r in zip(odd, results, strict=True):
            if isinstance(r, Rejection):
                parsed.rejections.append(r)
            else:
                rows.append((i + 1, *to_row("attempts", r)))
        return rows


def _decode_many(text: bytes | msgspec.Raw) -> tuple[list[_Attempt], bool]:
    """A JSON array of attempts: (them, whether some leave optional fields out). Those
    that give every field are read first (the switch API's); ValueError as msgspec's."""
    try:
        return _MANY.decode(text), False
    except msgspec.ValidationError:
        return _MANY_LOOSE.decode(text), True


def _given_twice(rows: Sequence[tuple[Any, ...]], positions: Sequence[int] | None,
                 bad: set[int], texts: Sequence[bytes] | None, colons: int | None,
                 loose: bool) -> set[int] | None:
    """Which of the rows (by n) msgspec decoded come from a record that gives a key
    twice; None if telling takes the texts and they are not at hand. The `bad` rows
    are left out: pydantic's path checks them (formats.repeated_key).

    msgspec keeps the last value of a repeated key without a word, so the texts are
    screened first, by their colons: the text of a record msgspec took holds one after
    each key and two in a canonical started_at (the bad rows' may not be canonical),
    and more only for keys outside the format, a colon in a text, or a key given twice.
    When the batch's texts hold exactly as many as its records' keys ask, no record
    gives a key twice: one count, at C speed, for the whole batch. Otherwise each text
    whose count differs, or that may write a colon as an escape, is read exactly."""
    absent = [r.count(_ABSENT) for r in rows] if loose else None
    n_of = (range(1, len(rows) + 1) if positions is None
            else [i + 1 for i in positions])
    if colons is not None:
        if bad:
            if texts is None:
                return None
            colons -= sum(texts[n - 1].count(b":") for n in bad)
        want = _PLAIN_COLONS * (len(rows) - len(bad))
        if absent is not None:
            want -= sum(a for a, n in zip(absent, n_of, strict=True) if n not in bad)
        if colons == want:
            return set()
    if texts is None:
        return None
    doubt = []
    for k, n in enumerate(n_of):
        if n in bad:
            continue
        text = texts[n - 1]
        want = _PLAIN_COLONS - (absent[k] if absent is not None else 0)
        if text.count(b":") != want or b"\\u003" in text:
            doubt.append(n)
    return {n for n, twice in zip(doubt, repeats_among([texts[n - 1] for n in doubt]),
                                  strict=True) if twice}


def _colons(text: bytes) -> int | None:
    """How many colons a batch's text holds; None when one may be written as an escape
    (\\u003a), which the count would miss: its texts are then checked one by one."""
    return None if b"\\u003" in text else text.count(b":")


@lru_cache(maxsize=4096)
def _real_day(text: str) -> bool:
    """'YYYY-MM-DD' names a day of the calendar (not 02-30, not month 13)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def item_texts(body: str | bytes) -> list[bytes]:
    """A page's items as JSON texts, as written. Past what msgspec refuses (\\u escapes
    of lone surrogates, NaN, Infinity), by Python's json, which reads them, so that one
    such record can be rejected on its own instead of the whole page; a key an item
    repeats stays repeated. ValueError if the page is not JSON."""
    try:
        return [bytes(raw) for raw in _RAW_PAGE.decode(body).items]
    except msgspec.DecodeError:
        items = dict(loads_as_written(body))["items"]
        return [dumps_as_written(item).encode() for item in items]
