"""Rating of connected attempts: longest-prefix match over a carrier's rate cards."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from noc_tui.records.ranges import thousandths

# The meta key of a token the cache changes with every change of rates: costs made with
# another token are made again.
RATES_VERSION_KEY = "rates_version"


@dataclass(frozen=True, slots=True)
class Tariff:
    effective_from: int  # epoch ms
    card_id: str
    rate: float  # per minute
    connect_fee: float
    mcd_s: int
    pulse_s: int


def billed_seconds(duration_s: float, mcd_s: int, pulse_s: int) -> int:
    """mcd_s, plus the excess over it rounded up to whole pulses (docs/metrics.md, Cost);
    counted in milliseconds, as integers, so a fractional duration is billed exactly."""
    over = thousandths(duration_s) - mcd_s * 1000
    if over <= 0:
        return mcd_s
    return mcd_s + -(-over // (pulse_s * 1000)) * pulse_s


def charge(t: Tariff, duration_s: float) -> float:
    return billed_seconds(duration_s, t.mcd_s, t.pulse_s) / 60 * t.rate + t.connect_fee


# Entries are (carrier, the digits that can reach a prefix): 2,000 carriers with a dozen
# such digit strings each cleared a 20,000-entry memo again and again.
_MEMO_MAX = 100_000


class RateBook:
    """Active rate rows of some carriers, indexed by prefix; loaded lazily per carrier."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._by_carrier: dict[str, dict[str, list[Tariff]]] = {}
        self._longest: dict[str, int] = {}
        self._memo: dict[tuple[str, str], tuple[Tariff, ...]] = {}

    def clear(self) -> None:
        """Forget every carrier's rates (they changed)."""
        self._by_carrier.clear()
        self._longest.clear()
        self._memo.clear()

    def forget(self, carrier_ids: Iterable[str]) -> None:
        for cid in carrier_ids:
            self._by_carrier.pop(cid, None)
        self._memo.clear()

    def _load(self, carrier_id: str) -> dict[str, list[Tariff]]:
        book: dict[str, list[Tariff]] = {}
        rows = self._conn.execute(
            "SELECT prefix, effective_from, card_id, rate, connect_fee, mcd_s, pulse_s "
            "FROM rates WHERE carrier_id = ? AND status = 'active'",
            (carrier_id,),
        )
        for prefix, eff, card, rate, fee, mcd, pulse in rows:
            book.setdefault(prefix, []).append(Tariff(eff, card, rate, fee, mcd, pulse))
        for tariffs in book.values():
            # Latest effective_from first; on a tie the lowest card_id wins.
            tariffs.sort(key=lambda t: t.card_id)
            tariffs.sort(key=lambda t: t.effective_from, reverse=True)
        self._by_carrier[carrier_id] = book
        self._longest[carrier_id] = max(map(len, book), default=0)
        return book

    def _candidates(self, carrier_id: str, dst: str) -> tuple[Tariff, ...]:
        """Tariffs that could rate dst: longest prefix first, then latest first."""
        book = self._by_carrier.get(carrier_id)
        if book is None:
            book = self._load(carrier_id)
        out: list[Tariff] = []
        for k in range(min(len(dst), self._longest[carrier_id]), 0, -1):
            out.extend(book.get(dst[:k], ()))
        return tuple(out)

    def tariff(self, carrier_id: str, dst: str, ts: int) -> Tariff | None:
        # Only the first `longest` digits can match a prefix: memoise on them, so numbers
        # that share them (most, with short prefixes) share one entry.
        longest = self._longest.get(carrier_id)
        key = (carrier_id, dst if longest is None else dst[:longest])
        cands = self._memo.get(key)
        if cands is None:
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()  # numbers repeat; a bounded memo keeps the hot ones
            cands = self._memo[key] = self._candidates(carrier_id, dst)
        for t in cands:
            if t.effective_from <= ts:
                return t
        return None

    def cost(self, carrier_id: str, dst: str, ts: int, duration_s: float) -> float | None:
        t = self.tariff(carrier_id, dst, ts)
        return None if t is None else charge(t, duration_s)


class RatesView:
    """A read-only view of a cache file's rates, for a parser in another thread to cost
    attempts with (records.attempt_parser.Rater): its own connection, so the parse
    never waits on the storing thread's transactions."""

    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                                     isolation_level=None, check_same_thread=False,
                                     timeout=10)
        self._book = RateBook(self._conn)
        self._version: str | None = None
        self.cost = self._book.cost

    @contextmanager
    def reading(self) -> Iterator[str]:
        # One read transaction: the version and the rates read under it agree.
        self._conn.execute("BEGIN")
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?",
                                     (RATES_VERSION_KEY,)).fetchone()
            version = str(row[0]) if row else ""
            if version != self._version:
                self._book.clear()
                self._version = version
            yield version
        finally:
            self._conn.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()
