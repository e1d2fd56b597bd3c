"""The records polls quarantined: what the switch served that could not be taken.

The poller (sync/poller.py) keeps each bad record once, as served, with where it came
from and why it was refused; these are the reads behind `noc-tui quarantine`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from noc_tui.records.timefmt import ms_to_iso

if TYPE_CHECKING:
    from noc_tui.store.cache import Cache

COLUMNS = ("id", "run_id", "received_at", "kind", "where", "reason", "record")


def quarantined(cache: Cache, kind: str | None = None,
                limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The quarantined records, newest first (all, or of one kind; at most `limit`).
    `record` is the record as served: its JSON parsed back, or the text when it is not
    JSON."""
    sql = ("SELECT id, run_id, received_at, kind, location, reason, raw FROM quarantine"
           + (" WHERE kind = ?" if kind else "") + " ORDER BY id DESC"
           + (" LIMIT ?" if limit is not None else ""))
    args: list[Any] = ([kind] if kind else []) + ([limit] if limit is not None else [])
    for qid, run_id, received, k, where, reason, raw in cache.conn.execute(sql, args):
        try:
            record = json.loads(raw) if raw is not None else None
        except ValueError:
            record = raw
        yield {"id": qid, "run_id": run_id, "received_at": ms_to_iso(received), "kind": k,
               "where": where, "reason": reason, "record": record}


def quarantine_count(cache: Cache) -> int:
    return int(cache.conn.execute("SELECT count(*) FROM quarantine").fetchone()[0])
