"""The calls behind a number of the Code Consistency tab: every attempt to the number in
the window that answered it 2xx or 404, on any carrier, newest first (the evidence for
the number's verdict). Read through the cache's index of 2xx/404 attempts by time."""

from __future__ import annotations

from typing import Any

from noc_tui.records.timefmt import ms_to_iso
from noc_tui.store.cache import Cache

LIMIT = 500


def number_attempts(cache: Cache, dst: str, start_ms: int, end_ms: int,
                    limit: int = LIMIT) -> tuple[list[dict[str, Any]], int]:
    """(the newest `limit` 2xx/404 attempts to dst in [start, end), how many there are)."""
    codes = "(a.sip_code BETWEEN 200 AND 299 OR a.sip_code = 404)"  # the index's rows
    where = f"a.ts >= ? AND a.ts < ? AND a.dst = ? AND {codes}"
    args = (start_ms, end_ms, dst)
    total = cache.conn.execute(f"SELECT count(*) FROM attempts a WHERE {where}",
                               args).fetchone()[0]
    rows = cache.conn.execute(
        "SELECT a.call_id, a.seq, a.carrier_id, c.name, a.ts, a.sip_code, a.sip_reason, "
        "a.duration_s FROM attempts a LEFT JOIN carriers c ON c.id = a.carrier_id "
        f"WHERE {where} ORDER BY a.ts DESC, a.call_id DESC, a.seq DESC LIMIT ?",
        (*args, limit)).fetchall()
    keys = ("call_id", "seq", "carrier_id", "carrier_name", "started_at", "sip_code",
            "sip_reason", "duration_s")
    out = []
    for row in rows:
        r = dict(zip(keys, row, strict=True))
        r["started_at"] = ms_to_iso(r["started_at"])
        out.append(r)
    return out, total
