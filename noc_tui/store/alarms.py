"""Alarms as the cache keeps them (migration 13): one row per crossing of a threshold.

A row opens when a subject (a carrier, or a trunk group) crosses a threshold, is
updated while it stays across, and closes (cleared_at) when it is back. A new crossing
is a new row, so each fires once. Whoever judges the figures (a poll or an import, in
any process) records the changes here, and every dashboard reads them: they agree.
Acknowledging (acked_at) silences an open alarm until it clears.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLUMNS = ("id", "subject_kind", "subject_id", "subject_name", "kind", "over", "raised_at",
           "message", "updated_at", "last_message", "cleared_at", "acked_at", "delivery")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM alarms"
HISTORY_LIMIT = 500
BUSY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Alarm:
    id: int
    subject_kind: str  # "carrier" or "trunk group"
    subject_id: str
    subject_name: str | None
    kind: str  # the threshold: consecutive_failures, asr_floor, halt_violations, ...
    over: str  # the window the figures were judged over ("1h")
    raised_at: int  # epoch ms: the figures' time when it crossed
    message: str  # what crossed, in words, when it crossed
    updated_at: int  # the figures' time it was last judged still across (or cleared)
    last_message: str  # what the figures said then
    cleared_at: int | None
    acked_at: int | None
    delivery: str | None  # how sending it went (command, webhook), if it was sent

    @property
    def open(self) -> bool:
        return self.cleared_at is None

    @property
    def silenced(self) -> bool:
        return self.open and self.acked_at is not None

    @property
    def subject(self) -> str:
        """'Tier One Telecom (tier1)', or the id alone when it has no other name."""
        name = self.subject_name
        return f"{name} ({self.subject_id})" if name and name != self.subject_id \
            else self.subject_id


def _alarms(conn: sqlite3.Connection, sql: str, args: tuple = ()) -> list[Alarm]:
    return [Alarm(*row) for row in conn.execute(sql, args)]


def open_alarms(conn: sqlite3.Connection, subject_kind: str | None = None) -> list[Alarm]:
    """The alarms across now, newest first."""
    where = "WHERE cleared_at IS NULL" + (" AND subject_kind = ?" if subject_kind else "")
    return _alarms(conn, f"{_SELECT} {where} ORDER BY raised_at DESC, id DESC",
                   (subject_kind,) if subject_kind else ())


def alarm_history(conn: sqlite3.Connection, limit: int = HISTORY_LIMIT) -> list[Alarm]:
    """Open alarms first, then past ones; each newest first."""
    return _alarms(conn, f"{_SELECT} ORDER BY cleared_at IS NOT NULL, "
                   "coalesce(cleared_at, raised_at) DESC, id DESC LIMIT ?", (limit,))


def last_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM alarms").fetchone()[0])


def alarms_mark(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """Changes whenever an alarm is raised, cleared or acknowledged (a small table)."""
    return tuple(conn.execute(
        "SELECT max(id), max(coalesce(cleared_at, 0)), max(coalesce(acked_at, 0)) "
        "FROM alarms").fetchone())


def record(conn: sqlite3.Connection, subject_kind: str, across: dict[tuple[str, str], str],
           names: dict[str, str | None], over: str, at: int) -> tuple[list[Alarm], list[Alarm]]:
    """Record what is across now for one kind of subject: `across` maps (subject id,
    alarm kind) to what crossed, in words. Opens a row for each new crossing, closes
    the open rows no longer across, updates the others. Returns (raised, cleared).
    The caller holds a write transaction."""
    was = {(a.subject_id, a.kind): a for a in open_alarms(conn, subject_kind)}
    raised_ids: list[int] = []
    for (sid, kind), message in across.items():
        if (sid, kind) in was:
            conn.execute("UPDATE alarms SET updated_at = ?, last_message = ?, over = ?, "
                         "subject_name = ? WHERE id = ?",
                         (at, message, over, names.get(sid), was[(sid, kind)].id))
            continue
        # OR IGNORE: the open-row index holds one crossing once, should another
        # process have recorded it meanwhile.
        cur = conn.execute(
            "INSERT OR IGNORE INTO alarms (subject_kind, subject_id, subject_name, kind, "
            "over, raised_at, message, updated_at, last_message) VALUES (?,?,?,?,?,?,?,?,?)",
            (subject_kind, sid, names.get(sid), kind, over, at, message, at, message))
        if cur.rowcount:
            raised_ids.append(int(cur.lastrowid or 0))
    cleared_ids = [a.id for key, a in was.items() if key not in across]
    for alarm_id in cleared_ids:
        conn.execute("UPDATE alarms SET cleared_at = ?, updated_at = ? WHERE id = ? AND "
                     "cleared_at IS NULL", (at, at, alarm_id))
    return _by_ids(conn, raised_ids), _by_ids(conn, cleared_ids)


def _by_ids(conn: sqlite3.Connection, ids: list[int]) -> list[Alarm]:
    if not ids:
        return []
    return _alarms(conn, f"{_SELECT} WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id",
                   tuple(ids))


def _writer(path: Path) -> sqlite3.Connection:
    """A short-lived write connection beside the readers (the dashboard's are read-only)."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def acknowledge(path: Path, alarm_id: int, at: int) -> bool:
    """Silence an open alarm until it clears; False if it is not open (cleared since)
    or already acknowledged."""
    conn = _writer(path)
    try:
        cur = conn.execute("UPDATE alarms SET acked_at = ? WHERE id = ? AND "
                           "cleared_at IS NULL AND acked_at IS NULL", (at, alarm_id))
        return bool(cur.rowcount)
    finally:
        conn.close()


def note_delivery(path: Path, alarm_id: int, text: str) -> None:
    """Say how sending an alarm went (never with the webhook's URL in it)."""
    conn = _writer(path)
    try:
        conn.execute("UPDATE alarms SET delivery = CASE WHEN delivery IS NULL THEN ? "
                     "ELSE delivery || '; ' || ? END WHERE id = ?", (text, text, alarm_id))
    finally:
        conn.close()
