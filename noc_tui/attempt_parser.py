"""Attempts from JSON text to checked, typed rows, parsed by SQLite's C JSON parser.

Only the plain, canonical form is taken in SQL: a JSON object whose fields have exactly
the JSON types of the record format and whose started_at is written as the switch API
writes it (YYYY-MM-DDTHH:MM:SS.mmmZ). Anything else (true/false, nested values, \\u
escapes, numbers as strings, other time forms, bad values) goes through pydantic, which
either takes it as before or words the rejection, so both paths take exactly the same
records (tests/test_ingest_paths.py).

A parser owns its own connection to an in-memory database, so it can run in a thread of
its own while the cache stores the previous batch (SQLite releases the GIL while it
works). Parsed rows wait in shared-cache in-memory databases, so that the cache's
connection can attach one and copy a batch's rows without them passing through Python.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noc_tui.records import Rejection

# The attempt columns of a parsed row, after n (the record's position in its batch).
ROW_COLS = ("call_id", "seq", "carrier_id", "ts", "dst", "cli", "sip_code", "sip_reason",
            "pdd_ms", "duration_s", "release_reason")

# A text that may be JSON of the plain form (?2 is the text). Malformed JSON is found
# when the extraction fails on it (rare), not by a second parse of every text.
_PLAIN_SQL = ("substr(?2, 1, 1) = '{' AND instr(substr(?2, 2), '{') = 0 "
              "AND instr(?2, '[') = 0 AND instr(?2, 'true') = 0 AND instr(?2, 'false') = 0 "
              "AND instr(?2, '\\u') = 0")

# Typed and in range, as the record format says: the CHECK of the parser's stage. The
# time must read back the same from the instant it gives, which also rules out dates
# like 02-30 (SQLite would read them as 03-02).
_CANONICAL_SQL = (
    "typeof(seq) = 'integer' AND seq >= 1 AND typeof(sip_code) = 'integer' "
    "AND sip_code BETWEEN 100 AND 699 AND typeof(duration_s) = 'integer' "
    "AND duration_s >= 0 AND (pdd_ms IS NULL OR typeof(pdd_ms) = 'integer' AND pdd_ms >= 0) "
    "AND typeof(call_id) = 'text' AND call_id <> '' "
    "AND typeof(carrier_id) = 'text' AND carrier_id <> '' "
    "AND typeof(dst) = 'text' AND dst <> '' AND rtrim(dst, '0123456789') = '' "
    "AND typeof(cli) IN ('text', 'null') AND typeof(sip_reason) IN ('text', 'null') "
    "AND typeof(release_reason) IN ('text', 'null') AND typeof(ts) = 'integer' "
    "AND started IS strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1000.0, 'unixepoch')"
)

_EXTRACT = (
    # A row that fails the table's CHECK is skipped: it goes to pydantic.
    "INSERT OR IGNORE INTO {table} (n, call_id, seq, carrier_id, ts, dst, cli, sip_code, "
    "sip_reason, pdd_ms, duration_s, release_reason, started) "
    "SELECT n, line->>'call_id', line->>'seq', line->>'carrier_id', "
    "CAST(round((julianday(line->>'started_at') - 2440587.5) * 86400000.0) AS INTEGER), "
    "line->>'dst', line->>'cli', line->>'sip_code', line->>'sip_reason', line->>'pdd_ms', "
    "line->>'duration_s', line->>'release_reason', line->>'started_at' "
    "FROM raw WHERE plain"
)


@dataclass
class ParsedAttempts:
    """One batch: its size, where its parsed rows wait (``table`` of the shared-cache
    in-memory database ``uri``), the rows pydantic took (n, *ROW_COLS) and the
    rejections."""

    total: int
    uri: str
    table: str
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


# A batch's parsed rows stay in an in-memory database until the cache copies them
# (SQLite to SQLite, no Python per row). Three take turns: one being stored, one
# waiting, one being parsed (read_ahead keeps at most one batch waiting). Each is a
# database of its own, not a table: connections to one shared cache wait for each
# other's transactions, and with one database the cache's ATTACH waited for the parse
# of the next batch to commit (8 ms a page, and the two threads in turn, not at once).
BUFFERS = 3


class AttemptParser:
    """Parses batches of attempts; use one from one thread at a time. Its database is
    shared-cache in-memory so that the cache's connection can attach it."""

    def __init__(self) -> None:
        # The raw texts in a private database; each buffer a shared-cache one, kept alive
        # by this connection (attached as buf0, buf1, ...).
        self.conn = sqlite3.connect(":memory:", isolation_level=None,
                                    check_same_thread=False)
        self.conn.execute("CREATE TABLE raw (n INTEGER PRIMARY KEY, line, plain INTEGER)")
        name = uuid.uuid4().hex
        self.uris = [f"file:noc_parse_{name}_{k}?mode=memory&cache=shared"
                     for k in range(BUFFERS)]
        for k, uri in enumerate(self.uris):
            self.conn.execute(f"ATTACH DATABASE ? AS buf{k}", (uri,))
            self.conn.execute(
                f"CREATE TABLE buf{k}.stage (n INTEGER PRIMARY KEY, call_id, seq, carrier_id, "
                "ts, dst, cli, sip_code, sip_reason, pdd_ms, duration_s, release_reason, "
                f"started, CHECK ({_CANONICAL_SQL}))")
        self._turn = 0

    def close(self) -> None:
        self.conn.close()

    def lines(self, lines: list[bytes], where: Callable[[int], str]) -> ParsedAttempts:
        """JSON lines (one record each); ``where(i)`` names line i in a rejection."""
        conn = self.conn
        with self._transaction():
            conn.execute("DELETE FROM raw")
            insert = "INSERT INTO raw (n, line, plain) VALUES (?, ?, ?)"
            try:
                conn.executemany(insert, _raw_rows(lines))
            except UnicodeDecodeError:
                conn.execute("DELETE FROM raw")
                conn.executemany(insert, _raw_rows_one_by_one(lines))
            parsed, odd = self._extract()
        return self._fall_back(parsed, odd, where)

    def page(self, body: str, where: Callable[[int], str]) -> ParsedAttempts:
        """The items of an API page (``{"items": [...], ...}`` as text)."""
        conn = self.conn
        with self._transaction():
            conn.execute("DELETE FROM raw")
            # json_each hands each item over as its own JSON text, still inside SQLite.
            conn.execute("INSERT INTO raw (n, line, plain) SELECT key, value, "
                         "type = 'object' FROM json_each(?, '$.items')", (body,))
            items, objects = conn.execute(
                "SELECT count(*), coalesce(sum(plain), 0) FROM raw").fetchone()
            # Decided for the whole page where it can be (every item an object with no
            # other '{' or '['), else item by item (json_each's value is rendered at
            # every use, so it is not tested on the way in).
            if not (objects == items and _plain_text(body, items + 1, 1)):
                conn.execute("UPDATE raw SET plain = plain AND "
                             f"{_PLAIN_SQL.replace('?2', 'line')}")
            parsed, odd = self._extract()
        return self._fall_back(parsed, odd, where)

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

    def _extract(self) -> tuple[ParsedAttempts, list[tuple[int, str | bytes]]]:
        """The plain rows parsed into the next stage table; the others (n, text) left
        for pydantic."""
        conn = self.conn
        turn = self._turn
        table = f"buf{turn}.stage"
        self._turn = (turn + 1) % BUFFERS
        extract = _EXTRACT.format(table=table)
        conn.execute(f"DELETE FROM {table}")
        try:
            conn.execute("SAVEPOINT extract")
            conn.execute(extract)
        except sqlite3.OperationalError:  # malformed JSON somewhere in the batch
            conn.execute("ROLLBACK TO extract")
            conn.execute("UPDATE raw SET plain = 0 WHERE plain AND NOT json_valid(line)")
            conn.execute(extract)
        conn.execute("RELEASE extract")
        parsed = ParsedAttempts(conn.execute("SELECT count(*) FROM raw").fetchone()[0],
                                self.uris[turn], "stage")
        odd = conn.execute("SELECT n, line FROM raw WHERE NOT plain OR n NOT IN "
                           f"(SELECT n FROM {table})").fetchall()
        return parsed, odd

    @staticmethod
    def _fall_back(parsed: ParsedAttempts, odd: list[tuple[int, str | bytes]],
                   where: Callable[[int], str]) -> ParsedAttempts:
        from noc_tui.records import Rejection, to_row, validate_json_each

        if odd:
            results = validate_json_each(
                "attempts", [line if isinstance(line, bytes) else line.encode()
                             for _n, line in odd], [where(n) for n, _l in odd])
            for (n, _line), r in zip(odd, results, strict=True):
                if isinstance(r, Rejection):
                    parsed.rejections.append(r)
                else:
                    parsed.rows.append((n, *to_row("attempts", r)))
        return parsed


# What _PLAIN_SQL looks for, counted or searched in a whole text at once in Python.
_MARKS = ("{", "[", "true", "false", "\\u")
_MARKS_B = tuple(m.encode() for m in _MARKS)


def _plain_text(text: Any, braces: int, brackets: int) -> bool:
    """_PLAIN_SQL for a text (str or bytes) holding `braces` '{' and `brackets` '['
    that are JSON's own, and none of the other marks."""
    brace, bracket, *others = _MARKS_B if isinstance(text, bytes) else _MARKS
    return (text.count(brace) == braces and text.count(bracket) == brackets
            and all(m not in text for m in others))


def _raw_rows(lines: list[bytes]) -> Iterable[tuple[int, str | bytes, bool]]:
    """raw rows of JSON lines, with _PLAIN_SQL tested in Python (bytes searches are
    cheaper there). A line that is not UTF-8 stops the decoding map; the caller then
    goes line by line."""
    whole = b"".join(lines)
    # The common case, decided for the whole batch at once: no marker anywhere, and as
    # many '{' as lines, each line starting with one (so one each).
    if _plain_text(whole, len(lines), 0) and all(line[:1] == b"{" for line in lines):
        return zip(range(len(lines)), map(bytes.decode, lines), itertools.repeat(True))
    return _raw_rows_one_by_one(lines)


def _raw_rows_one_by_one(lines: list[bytes]) -> Iterator[tuple[int, str | bytes, bool]]:
    for i, line in enumerate(lines):
        try:
            text = line.decode()
        except UnicodeDecodeError:
            yield i, line, False  # kept as bytes (a BLOB): pydantic rejects it as it is
            continue
        yield i, text, _plain_text(line, 1, 0)
