"""Finding calls anywhere in the cache: by dialled number, CLI or Call-ID, across every
carrier and trunk group, newest first.

Each kind of record searched is a SearchSource: it finds its matches for the terms by
index seeks (the records' keys and migration 12's indexes), never by a scan, and says
what each match opens. Two sources: calls (the carriers' attempts: number, CLI,
Call-ID) and inbound deliveries (the trunk groups': DID, caller, delivery id), in one
Match shape.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Protocol

DEFAULT_LIMIT = 200  # matches shown: newest first, the operator narrows from there
# A typed prefix can match millions of attempts: at most this many index entries are
# read for it, and the result says it was cut.
PREFIX_SCAN = 20_000
MIN_PREFIX = 4  # shorter text is searched exactly only
_NUMBER_PUNCT = re.compile(r"[\s().\-/]")


@dataclass(frozen=True)
class SearchTerms:
    """What was typed: the text (trimmed), and the number in it if it reads as one
    ("+44 20 7946-0000" -> "442079460000"; numbers are cached as digits)."""

    text: str
    digits: str | None


def search_terms(query: str) -> SearchTerms | None:
    """The terms of a query; None for an empty one."""
    text = query.strip()
    if not text:
        return None
    bare = _NUMBER_PUNCT.sub("", text)
    if bare.startswith("+"):
        bare = bare[1:]
    if bare.startswith("00") and bare[2:].isdigit():
        bare = bare[2:]  # the international prefix as dialled in Europe
    return SearchTerms(text, bare if bare.isdigit() else None)


@dataclass(frozen=True)
class Match:
    """One call (or, from another source, one delivery) that matched."""

    kind: str  # "call" (opens the call screen) or "delivery"
    key: str  # what opens it: the call id, or the delivery id
    ts: int  # when it started (its first attempt), epoch ms
    number: str  # dialled
    cli: str | None
    subject_kind: str  # "carrier" or "trunk group"
    subject_id: str  # where it ended: the last attempt's carrier; the trunk group
    subject_name: str | None
    code: int  # the last attempt's SIP code
    attempts: int
    matched: str  # "number", "CLI", "Call-ID", each with " prefix" for a prefix match
    outcome: str | None = None  # a delivery's: answered_first_try, lost, ...


@dataclass(frozen=True)
class SearchResult:
    query: str
    matches: list[Match]
    cut: bool  # more matched than were read (a short prefix, or past the limit)
    exact: bool  # the matches are exact (False: prefix matches, since none were exact)


class SearchSource(Protocol):
    """A kind of record the search looks through."""

    def find(self, conn: sqlite3.Connection, terms: SearchTerms, limit: int,
             prefix: bool) -> tuple[list[Match], bool]:
        """Up to `limit` matches, newest first, and whether more matched. `prefix`:
        values starting with the terms (bounded by PREFIX_SCAN), not equal to them."""
        ...


def _prefix_end(text: str) -> str:
    """The smallest string above every string that starts with `text`."""
    return text + "\U0010ffff"


class CallSource:
    """Calls, from the carriers' attempts."""

    FIELDS = (("dst", "number"), ("cli", "CLI"), ("call_id", "Call-ID"))

    def find(self, conn: sqlite3.Connection, terms: SearchTerms, limit: int,
             prefix: bool) -> tuple[list[Match], bool]:
        # Attempts per field, newest first by its index (call_id: by its key, then
        # ordered here). A call has a few attempts, so 8 a call finds `limit` calls.
        seeks: list[_Seek] = []
        for column, label in self.FIELDS:
            value = terms.digits if column == "dst" else terms.text
            if value is None:
                continue
            if column == "cli" and terms.digits and terms.digits != terms.text:
                values = [terms.text, terms.digits]  # as typed and as digits
            else:
                values = [value]
            seeks += [("attempts", "call_id", column, v, label, limit * 8) for v in values]
        newest, matched, cut = _newest(conn, seeks, limit, prefix)
        calls = self._calls(conn, newest, matched)
        matches = [m for c in newest if (m := calls.get(c)) is not None]
        matches.sort(key=lambda m: m.ts, reverse=True)
        return matches, cut

    @staticmethod
    def _calls(conn: sqlite3.Connection, call_ids: list[str], matched: dict[str, str]
               ) -> dict[str, Match]:
        """Each call as a Match: its first attempt's time and number, its last
        attempt's carrier and code (by the attempts' key)."""
        out: dict[str, Match] = {}
        for i in range(0, len(call_ids), 500):
            chunk = call_ids[i:i + 500]
            rows = conn.execute(
                "SELECT a.call_id, a.seq, a.ts, a.dst, a.cli, a.carrier_id, a.sip_code, "
                "c.name FROM attempts a LEFT JOIN carriers c ON c.id = a.carrier_id "
                f"WHERE a.call_id IN ({','.join('?' * len(chunk))}) ORDER BY a.call_id, a.seq",
                chunk).fetchall()
            by_call: dict[str, list[tuple]] = {}
            for r in rows:
                by_call.setdefault(r[0], []).append(r)
            for call_id, atts in by_call.items():
                first, last = atts[0], atts[-1]
                out[call_id] = Match("call", call_id, min(a[2] for a in atts), first[3],
                                     first[4], "carrier", last[5], last[7], last[6],
                                     len(atts), matched[call_id])
        return out


def _seek(conn: sqlite3.Connection, table: str, key: str, column: str, value: str,
          limit: int, prefix: bool) -> tuple[list[tuple[str, int]], bool]:
    """(key, ts) of the rows of `table` whose `column` matches (by its index), newest
    first, and whether more matched than were read."""
    if not prefix:
        order = "ORDER BY ts DESC" if column != key else ""
        rows = conn.execute(
            f"SELECT {key}, ts FROM {table} WHERE {column} = ? {order} LIMIT ?",
            (value, limit + 1)).fetchall()
        return rows[:limit], len(rows) > limit
    # A range of the index, read in its order (bounded), then newest first.
    rows = conn.execute(
        f"SELECT {key}, ts FROM {table} WHERE {column} >= ? AND {column} < ? "
        f"ORDER BY {column} LIMIT ?", (value, _prefix_end(value), PREFIX_SCAN + 1),
    ).fetchall()
    more = len(rows) > PREFIX_SCAN
    rows = sorted(rows[:PREFIX_SCAN], key=lambda r: r[1], reverse=True)
    return rows[:limit], more or len(rows) > limit



# One seek: (table, its key column, the column searched, the value, what a match on it is
# called, how many index entries to read).
_Seek = tuple[str, str, str, str, str, int]


def _newest(conn: sqlite3.Connection, seeks: list[_Seek], limit: int, prefix: bool
            ) -> tuple[list[str], dict[str, str], bool]:
    """The keys the seeks found, newest first by their latest row (at most `limit`);
    what each matched on (the first seek that found it); whether more matched."""
    found: dict[str, tuple[int, str]] = {}  # key -> (latest ts seen, what matched)
    cut = False
    for table, key, column, value, label, reads in seeks:
        rows, more = _seek(conn, table, key, column, value, reads, prefix)
        cut = cut or more
        tag = f"{label} prefix" if prefix else label
        for k, ts in rows:
            if k not in found or found[k][0] < ts:
                found[k] = (ts, found.get(k, (0, tag))[1])
    newest = sorted(found, key=lambda k: found[k][0], reverse=True)
    if len(newest) > limit:
        cut, newest = True, newest[:limit]
    return newest, {k: found[k][1] for k in newest}, cut

class DeliverySource:
    """Inbound deliveries (issue 15): by the DID called, the caller, the delivery id."""

    def find(self, conn: sqlite3.Connection, terms: SearchTerms, limit: int,
             prefix: bool) -> tuple[list[Match], bool]:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'deliveries'"
                        ).fetchone() is None:
            return [], False  # a cache from before inbound delivery
        seeks: list[_Seek] = [
            ("delivery_attempts", "delivery_id", "caller", terms.text, "CLI", limit * 4),
            ("deliveries", "delivery_id", "delivery_id", terms.text, "Call-ID", limit * 4)]
        if terms.digits is not None:
            seeks.insert(0, ("deliveries", "delivery_id", "did", terms.digits, "number",
                             limit * 4))
            if terms.digits != terms.text:
                seeks.insert(2, ("delivery_attempts", "delivery_id", "caller", terms.digits,
                                 "CLI", limit * 4))
        newest, matched, cut = _newest(conn, seeks, limit, prefix)
        matches = []
        for i in range(0, len(newest), 500):
            chunk = newest[i:i + 500]
            for row in conn.execute(
                    "SELECT d.delivery_id, d.ts, d.did, d.trunk_group_id, g.name, d.attempts, "
                    "d.outcome, (SELECT caller FROM delivery_attempts a WHERE a.delivery_id = "
                    "d.delivery_id ORDER BY seq LIMIT 1), (SELECT sip_code FROM "
                    "delivery_attempts a WHERE a.delivery_id = d.delivery_id ORDER BY seq "
                    "DESC LIMIT 1) FROM deliveries d LEFT JOIN trunk_groups g ON "
                    f"g.id = d.trunk_group_id WHERE d.delivery_id IN "
                    f"({','.join('?' * len(chunk))})", chunk):
                key, ts, did, gid, name, n, outcome, caller, code = row
                matches.append(Match("delivery", key, ts, did, caller, "trunk group", gid,
                                     name, code or 0, n, matched[key], outcome))
        matches.sort(key=lambda m: m.ts, reverse=True)
        return matches, cut


SOURCES: tuple[SearchSource, ...] = (CallSource(), DeliverySource())


def find_calls(conn: sqlite3.Connection, query: str, limit: int = DEFAULT_LIMIT,
               sources: tuple[SearchSource, ...] = SOURCES) -> SearchResult:
    """The calls matching `query` exactly as a number, CLI or Call-ID, newest first;
    when none does and the query is long enough, those starting with it."""
    terms = search_terms(query)
    if terms is None:
        return SearchResult(query, [], False, True)
    result = _gather(conn, terms, limit, sources, prefix=False)
    if result.matches or len(terms.text) < MIN_PREFIX:
        return result
    return _gather(conn, terms, limit, sources, prefix=True)


def _gather(conn: sqlite3.Connection, terms: SearchTerms, limit: int,
            sources: tuple[SearchSource, ...], prefix: bool) -> SearchResult:
    matches: list[Match] = []
    cut = False
    for source in sources:
        found, more = source.find(conn, terms, limit, prefix)
        matches.extend(found)
        cut = cut or more
    matches.sort(key=lambda m: m.ts, reverse=True)
    if len(matches) > limit:
        matches, cut = matches[:limit], True
    return SearchResult(terms.text, matches, cut, not prefix)
