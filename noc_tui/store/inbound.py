"""Inbound records in the cache (issue 15): idempotent ingest by key, one row per
delivery and hourly rollups per trunk group, kept at ingest.

Configuration (trunk groups, DIDs) and registration events are upserted by their keys.
Delivery attempts are checked as whole deliveries: the records of a batch together with
what the cache holds of their deliveries (records.inbound.delivery_problem). A delivery
that breaks a rule is held back until the end of the file or poll listing (an
`InboundIngest`), since records still to come may fill its gap or replace the attempts
that break the rule; only then are its records rejected. A delivery that starts before
the pruning horizon and is not cached is not taken (IngestReport.closed), as for the
carriers' attempts: its closed hour may count it already. Every accepted change
re-derives its delivery's row (outcome, via, triggers, findings) and moves the
delivery's share of the hourly rollups from its old row to its new one, so no window
ever scans raw attempts for a whole hour.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from noc_tui.records import inbound as ib
from noc_tui.records.attempt_parser import item_texts
from noc_tui.records.formats import (
    Rejection,
    validate,
    validate_each,
    validate_json_each,
    validate_json_lines,
)
from noc_tui.records.timefmt import HOUR_MS
from noc_tui.store.report import IngestReport

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from contextlib import AbstractContextManager


class Db(Protocol):
    """What the inbound ingest needs of the cache (store.cache.Cache), which imports
    this module: named here so that the two do not import each other."""

    conn: sqlite3.Connection

    @property
    def settings(self) -> Any: ...  # MetricSettings

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def attempts_horizon(self) -> int | None: ...

ROLLUP_COLS = (
    "offered", *ib.OUTCOMES, *(f"via_{k}" for k in ib.TARGET_KINDS),
    *(f"first_{t}" for t in ib.TRIGGERS), *(f"lost_{t}" for t in ib.TRIGGERS),
    *(f"rule_{r}" for r in ib.DELIVERY_RULES), "rule_F9",
)
DELIVERY_COLS = ("delivery_id", "trunk_group_id", "did", "ts", "attempts", "outcome", "via",
                 "first_trigger", "last_trigger", "rules", "full_ts")
# Deliveries held back for a gap in their seqs, at most (records): a file that is out of
# order beyond this has its oldest held deliveries rejected early, so memory stays bounded.
PENDING_MAX = 100_000
CHUNK = 500  # keys per IN (...) list


@dataclass(frozen=True)
class Item:
    rec: dict[str, Any]
    where: str
    raw: Any


# -- the per-delivery row and its share of the rollups ------------------------------------


def rules_mask(rules: Iterable[str]) -> int:
    return sum(1 << ib.DELIVERY_RULES.index(r) for r in rules)


def mask_rules(mask: int) -> tuple[str, ...]:
    return tuple(r for i, r in enumerate(ib.DELIVERY_RULES) if mask >> i & 1)


def delivery_row(d: ib.Delivery) -> tuple[Any, ...]:
    return (d.delivery_id, d.trunk_group_id, d.did, d.started_ms, d.attempts, d.outcome,
            d.via, d.first_trigger, d.last_trigger, rules_mask(d.rules),
            json.dumps(list(d.full_ts)) if d.full_ts else None)


def hour_of(ts: int) -> int:
    return ts // HOUR_MS * HOUR_MS


def contribution(row: Sequence[Any], into: Counter[tuple[str, int, str]], sign: int = 1,
                 f9: bool = True) -> None:
    """Add what a deliveries row (DELIVERY_COLS order) adds to the rollups, times sign:
    (trunk group, hour, column) -> count. The delivery counts in the hour of its start,
    its channels_full_503 attempts (F9, unless not `f9`) in the hours of theirs."""
    _id, group, _did, ts, _n, result, via, first, last, mask, full_ts = row
    cell = (group, hour_of(ts))
    into[(*cell, "offered")] += sign
    into[(*cell, result)] += sign
    if via is not None:
        into[(*cell, f"via_{via}")] += sign
    if first is not None:
        into[(*cell, f"first_{first}")] += sign
    if result == "lost" and last is not None:
        into[(*cell, f"lost_{last}")] += sign
    for r in mask_rules(mask):
        into[(*cell, f"rule_{r}")] += sign
    if full_ts and f9:
        for t in json.loads(full_ts):
            into[(group, hour_of(t), "rule_F9")] += sign


def sum_rows(rows: Iterable[Sequence[Any]], f9: bool = True) -> dict[str, Counter[str]]:
    """Rollup columns summed per trunk group over deliveries rows (no hours)."""
    cells: Counter[tuple[str, int, str]] = Counter()
    for row in rows:
        contribution(row, cells, f9=f9)
    out: dict[str, Counter[str]] = {}
    for (group, _hour, col), n in cells.items():
        out.setdefault(group, Counter())[col] += n
    return out


def _apply(conn: sqlite3.Connection, old: Sequence[Sequence[Any]],
           new: Sequence[Sequence[Any]]) -> None:
    """Replace deliveries rows `old` by `new` (by delivery_id) with their rollups."""
    delta: Counter[tuple[str, int, str]] = Counter()
    groups: Counter[str] = Counter()
    for row in old:
        contribution(row, delta, -1)
        groups[row[1]] -= 1
    for row in new:
        contribution(row, delta, 1)
        groups[row[1]] += 1
    gone = {r[0] for r in old} - {r[0] for r in new}
    for chunk in _chunks(sorted(gone)):
        conn.execute(f"DELETE FROM deliveries WHERE delivery_id IN ({_marks(chunk)})", chunk)
    conn.executemany(f"INSERT OR REPLACE INTO deliveries VALUES ({_marks(DELIVERY_COLS)})",
                     new)
    by_cell: dict[tuple[str, int], dict[str, int]] = {}
    for (group, hour, col), n in delta.items():
        if n:
            by_cell.setdefault((group, hour), {})[col] = n
    for (group, hour), cols in by_cell.items():
        names = ", ".join(cols)
        sets = ", ".join(f"{c} = {c} + excluded.{c}" for c in cols)
        conn.execute(f"INSERT INTO inbound_rollups (trunk_group_id, hour, {names}) VALUES "
                     f"(?, ?, {_marks(cols)}) ON CONFLICT DO UPDATE SET {sets}",
                     (group, hour, *cols.values()))
    if any(n < 0 for n in delta.values()):
        # A cell whose last delivery and F9 attempt moved away is gone.
        zero = " AND ".join(f"{c} = 0" for c in ("offered", "rule_F9"))
        conn.executemany(f"DELETE FROM inbound_rollups WHERE trunk_group_id = ? AND hour = ? "
                         f"AND {zero}", [cell for cell, cols in by_cell.items()
                                         if any(n < 0 for n in cols.values())])
    for group, n in groups.items():
        if n:
            conn.execute("INSERT INTO inbound_groups VALUES (?, ?) ON CONFLICT DO UPDATE "
                         "SET deliveries = deliveries + excluded.deliveries", (group, n))
    if any(n < 0 for n in groups.values()):
        conn.execute("DELETE FROM inbound_groups WHERE deliveries <= 0")


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield list(values[i:i + size])


# -- configuration as the definitions read it ------------------------------------------


_GROUP_SQL = ("SELECT id, policy, edges, backup_pbx, global_failover_number, dial_plan, "
              "failover_triggers FROM trunk_groups")


def group_configs(conn: sqlite3.Connection, ids: Iterable[str] | None = None,
                  span: tuple[str, str] | None = None) -> dict[str, ib.GroupConfig]:
    """The configured trunk groups among `ids` (all when None; those whose ids are in
    the range `span`, when given)."""
    rows: list[tuple[Any, ...]] = []
    if ids is None and span is not None:
        rows = conn.execute(f"{_GROUP_SQL} WHERE id BETWEEN ? AND ?", span).fetchall()
    elif ids is None:
        rows = conn.execute(_GROUP_SQL).fetchall()
    else:
        for chunk in _chunks(sorted(set(ids))):
            rows += conn.execute(f"{_GROUP_SQL} WHERE id IN ({_marks(chunk)})", chunk).fetchall()
    return {r[0]: ib.group_config(*r[1:]) for r in rows}


def did_configs(conn: sqlite3.Connection, dids: Iterable[str] | None = None,
                ) -> dict[str, ib.DidConfig]:
    sql = "SELECT did, failover_number, backup_pbx FROM dids"
    rows: list[tuple[Any, ...]] = []
    if dids is None:
        rows = conn.execute(sql).fetchall()
    else:
        for chunk in _chunks(sorted(set(dids))):
            rows += conn.execute(f"{sql} WHERE did IN ({_marks(chunk)})", chunk).fetchall()
    return {r[0]: ib.DidConfig(r[1], r[2]) for r in rows}


# -- deriving deliveries ----------------------------------------------------------------

_COLS = ib.COLUMNS["deliveries"]
_I = {c: i for i, c in enumerate(_COLS)}


def _step(row: Sequence[Any]) -> ib.Step:
    return ib.Step(row[_I["seq"]], row[_I["trunk_group_id"]], row[_I["did"]], row[_I["ts"]],
                   row[_I["target_kind"]], row[_I["target"]], bool(row[_I["sent"]]),
                   row[_I["first_1xx_ms"]], row[_I["sip_code"]], bool(row[_I["cancelled"]]))


def summarise_all(conn: sqlite3.Connection, attempts: dict[str, list[Sequence[Any]]],
                  ner: frozenset[int]) -> list[tuple[Any, ...]]:
    """Deliveries rows of deliveries given as their attempt rows (any order)."""
    firsts = {d: min(rows, key=lambda r: r[1]) for d, rows in attempts.items() if rows}
    groups = group_configs(conn, (r[_I["trunk_group_id"]] for r in firsts.values()))
    dids = did_configs(conn, (r[_I["did"]] for r in firsts.values()))
    out = []
    for d, rows in attempts.items():
        if not rows:
            continue
        steps = [_step(r) for r in sorted(rows, key=lambda r: r[1])]
        first = steps[0]
        out.append(delivery_row(ib.summarise(
            d, steps, ner, groups.get(first.trunk_group_id, ib.UNCONFIGURED),
            dids.get(first.did, ib.NO_DID))))
    return out


def _rows_of(conn: sqlite3.Connection, table: str, key: str, ids: Sequence[str],
             cols: str = "*") -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for chunk in _chunks(ids):
        out += conn.execute(f"SELECT {cols} FROM {table} WHERE {key} IN ({_marks(chunk)})",
                            chunk).fetchall()
    return out


def resummarise(conn: sqlite3.Connection, ids: Sequence[str], ner: frozenset[int]) -> None:
    """Derive the rows of these deliveries again from their stored attempts (after their
    configuration changed), with their rollups."""
    for chunk in _chunks(ids, 2000):
        attempts: dict[str, list[Sequence[Any]]] = {d: [] for d in chunk}
        for row in _rows_of(conn, "delivery_attempts", "delivery_id", chunk):
            attempts[row[0]].append(row)
        old = _rows_of(conn, "deliveries", "delivery_id", chunk)
        _apply(conn, old, summarise_all(conn, attempts, ner))


def rebuild(cache: Db) -> None:
    """Every delivery row and rollup again (the NER set changed: refused moved). Once
    deliveries were pruned, each cached one's row and share of the rollups are replaced
    instead: the rollups of the pruned ones keep their figures (docs/metrics.md, "What
    the cache keeps")."""
    conn = cache.conn
    if conn.execute("SELECT 1 FROM delivery_attempts LIMIT 1").fetchone() is None:
        return
    with cache.transaction():
        if cache.attempts_horizon() is None:
            conn.execute("DELETE FROM deliveries")
            conn.execute("DELETE FROM inbound_rollups")
            conn.execute("DELETE FROM inbound_groups")
        ids = [r[0] for r in conn.execute("SELECT DISTINCT delivery_id FROM delivery_attempts")]
        resummarise(conn, ids, cache.settings.ner_set())


# -- ingest -----------------------------------------------------------------------------


class InboundIngest:
    """The records of one inbound kind from one file or one poll listing, in batches;
    `finish` ends it (a delivery still missing a seq is rejected then). The importer
    hands batches to it as it would to the cache (ingest_batch, ingest_json_lines)."""

    def __init__(self, cache: Db, kind: str) -> None:
        if kind not in ib.INBOUND_KINDS:
            raise ValueError(f"unknown inbound kind {kind!r}")
        self.cache = cache
        self.kind = kind
        self.pending: dict[str, list[Item]] = {}
        self.npending = 0
        # Deliveries not taken because they start before the horizon and are not cached
        # (their hours are closed): their later records, maybe on a later page, neither.
        self.closed: set[str] = set()

    # the importer's calls
    def ingest_batch(self, kind: str, raws: list[Any], wheres: list[str]) -> IngestReport:
        return self.add(raws, wheres)

    def ingest_json_lines(self, kind: str, lines: list[bytes], wheres: list[str]
                          ) -> IngestReport:
        return self.add_json(lines, wheres)

    def add(self, raws: Sequence[Any], wheres: Sequence[str]) -> IngestReport:
        """Parsed records (dicts)."""
        good, bad = validate(self.kind, raws, wheres)
        if not bad:
            return self._take(list(map(Item, good, wheres, raws)), [])
        items: list[Item] = []
        bad = []
        for r, where, raw in zip(validate_each(self.kind, raws, wheres), wheres, raws,
                                 strict=True):
            if isinstance(r, Rejection):
                bad.append(r)
            else:
                items.append(Item(r, where, raw))
        return self._take(items, bad)

    def add_json(self, lines: Sequence[bytes], wheres: Sequence[str]) -> IngestReport:
        """JSON texts, one record each."""
        good, bad = validate_json_lines(self.kind, lines, wheres)
        if not bad and len(good) == len(lines):
            return self._take([Item(g, w, line.decode("utf-8", "replace").rstrip())
                               for g, w, line in zip(good, wheres, lines, strict=True)], [])
        items: list[Item] = []
        bad = []
        for r, where, line in zip(validate_json_each(self.kind, lines, wheres), wheres, lines,
                                  strict=True):
            if isinstance(r, Rejection):
                bad.append(r)
            else:
                items.append(Item(r, where, line.decode("utf-8", "replace").rstrip()))
        return self._take(items, bad)

    def add_page(self, body: str | bytes, where: Callable[[int], str]) -> IngestReport:
        """The items of one API page (``{"items": [...], ...}`` as text)."""
        from pydantic_core import from_json

        try:
            items = from_json(body)["items"]
        except ValueError:
            # A \\u escape of a lone surrogate somewhere: record by record.
            texts = item_texts(body)
            return self.add_json(texts, [where(i) for i in range(len(texts))])
        return self.add(items, [where(i) for i in range(len(items))])

    def finish(self) -> IngestReport:
        """End of the file or listing: deliveries still missing a seq are rejected."""
        report = IngestReport(self.kind)
        self._reject_pending(report, list(self.pending), "")
        return report

    # -- storing ------------------------------------------------------------------------

    def _take(self, items: list[Item], bad: list[Rejection]) -> IngestReport:
        report = IngestReport(self.kind, rejected=len(bad), rejections=list(bad))
        if self.kind == "deliveries":
            self._deliveries(items, report)
        elif items:
            rows = [ib.to_row(self.kind, it.rec) for it in items]
            with self.cache.transaction() as conn:
                changed = self._upsert(conn, rows)
                if self.kind == "registrations":
                    conn.executemany("INSERT OR IGNORE INTO registration_edges VALUES (?, ?)",
                                     {(r[0], r[1]) for r in rows})
                elif changed:
                    self._config_changed(conn, changed)
            report.taken = len(rows)
            report.unchanged = len(rows) - len(changed)
        return report

    def _upsert(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[Any]:
        """Upsert rows by key, leaving identical ones untouched; the changed rows' keys
        (first key column)."""
        cols, pk = ib.COLUMNS[self.kind], ib.KEYS[self.kind]
        others = [c for c in cols if c not in pk]
        sets = ", ".join(f"{c} = excluded.{c}" for c in others)
        differs = " OR ".join(f"{c} IS NOT excluded.{c}" for c in others)
        sql = (f"INSERT INTO {self.kind} ({', '.join(cols)}) VALUES ({_marks(cols)}) "
               f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {sets} WHERE {differs}")
        changed = []
        for row in rows:
            before = conn.total_changes
            conn.execute(sql, row)
            if conn.total_changes != before:
                changed.append(row[0])
        return changed

    def _config_changed(self, conn: sqlite3.Connection, keys: list[str]) -> None:
        """Trunk groups or DIDs changed: the findings of their deliveries may have."""
        col = "trunk_group_id" if self.kind == "trunk_groups" else "did"
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS changed_keys (k TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM temp.changed_keys")
        conn.executemany("INSERT OR IGNORE INTO temp.changed_keys VALUES (?)",
                         [(k,) for k in keys])
        ids = [r[0] for r in conn.execute(
            f"SELECT delivery_id FROM deliveries WHERE {col} IN "
            "(SELECT k FROM temp.changed_keys)")]
        conn.execute("DELETE FROM temp.changed_keys")
        resummarise(conn, ids, self.cache.settings.ner_set())

    def _deliveries(self, items: list[Item], report: IngestReport) -> None:
        by_id: dict[str, list[Item]] = {}
        for it in items:
            by_id.setdefault(it.rec["delivery_id"], []).append(it)
        for d in list(by_id):
            held = self.pending.pop(d, None)
            if held:
                self.npending -= len(held)
                by_id[d] = held + by_id[d]
        if not by_id:
            return
        ner = self.cache.settings.ner_set()
        seq_i, code_i, ts_i = _I["seq"], _I["sip_code"], _I["ts"]
        horizon = self.cache.attempts_horizon()
        with self.cache.transaction() as conn:
            stored: dict[str, dict[int, tuple[Any, ...]]] = {}
            for row in _rows_of(conn, "delivery_attempts", "delivery_id", list(by_id)):
                stored.setdefault(row[0], {})[row[seq_i]] = row
            writes: list[tuple[Any, ...]] = []
            touched: dict[str, list[Sequence[Any]]] = {}
            for d, its in by_id.items():
                new = {it.rec["seq"]: ib.to_row("deliveries", it.rec) for it in its}
                have = stored.get(d, {})
                if not have and (d in self.closed or (horizon is not None and min(
                        r[ts_i] for r in new.values()) < horizon)):
                    # Its hour's figures were closed when the deliveries there were
                    # pruned: it may be counted there already, and cannot be told apart.
                    self.closed.add(d)
                    report.closed += len(its)
                    continue
                merged = {**have, **new}
                if ib.delivery_problem(d, {s: r[code_i] for s, r in merged.items()}):
                    # Held to the end of the file or listing: records still to come may
                    # fill a gap, or replace the attempts that break a rule.
                    self.pending[d] = its
                    self.npending += len(its)
                    continue
                report.taken += len(its)
                changed = [r for s, r in new.items() if have.get(s) != r]
                report.unchanged += len(its) - len(changed)
                if changed:
                    writes += changed
                    touched[d] = list(merged.values())
            if writes:
                conn.executemany("INSERT OR REPLACE INTO delivery_attempts VALUES "
                                 f"({_marks(_COLS)})", writes)
                old = _rows_of(conn, "deliveries", "delivery_id", list(touched))
                _apply(conn, old, summarise_all(conn, touched, ner))
        if self.npending > PENDING_MAX:
            # Oldest first (dict order): the ones least likely to be completed.
            drop, n = [], self.npending
            for d, its in self.pending.items():
                if n <= PENDING_MAX // 2:
                    break
                drop.append(d)
                n -= len(its)
            self._reject_pending(report, drop, f" (still incomplete {PENDING_MAX:,} records "
                                               "later)")

    def _reject_pending(self, report: IngestReport, ids: list[str], why: str) -> None:
        stored: dict[str, dict[int, int]] = {}
        for d, seq, code in _rows_of(self.cache.conn, "delivery_attempts", "delivery_id", ids,
                                     "delivery_id, seq, sip_code"):
            stored.setdefault(d, {})[seq] = code
        for d in ids:
            its = self.pending.pop(d)
            self.npending -= len(its)
            codes = {**stored.get(d, {}), **{it.rec["seq"]: it.rec["sip_code"] for it in its}}
            reason = ib.delivery_problem(d, codes) or f"delivery {d!r}: incomplete"
            report.rejected += len(its)
            report.rejections += [Rejection(it.where, reason + why, it.raw) for it in its]
