"""Failover links between the attempts of one call, derived in SQL.

A call fails over out of C at a non-2xx attempt when a later attempt (the first such,
by seq) on another carrier got 2xx; it fails over into C at a 2xx attempt after an
earlier failed attempt on another carrier (docs/metrics.md). Each link keeps when the
other end started (conn_ts, fail_ts): a view as of an instant counts a link only when
both ends had started by then. The cache keeps both kinds
of link in tables (failovers, failovers_in) so that no screen scans attempts for them.
"""

from __future__ import annotations

_CONN = "BETWEEN 200 AND 299"

# The columns of a failover-out link and of a failover-in link, in table order.
OUT_COLS = ("call_id", "seq", "carrier_id", "ts", "dst", "failed_code", "sip_reason",
            "conn_seq", "conn_carrier_id", "conn_ts", "conn_duration_s")
IN_COLS = ("call_id", "seq", "carrier_id", "ts", "fail_ts")


def _rows(src: str, alias: str, of_calls: str | None, not_in: str | None) -> tuple[str, str]:
    """(FROM clause, condition) of the attempts of `src` to link."""
    if of_calls is not None:
        # Driven by the list of calls; CROSS JOIN fixes the join order (the planner has
        # no statistics to see that list small, and once chose a scan of all attempts).
        return (f"{of_calls} c CROSS JOIN {src} {alias} ON {alias}.call_id = c.call_id",
                "true")
    if not_in is not None:
        return f"{src} {alias}", f"{alias}.call_id NOT IN (SELECT call_id FROM {not_in})"
    return f"{src} {alias}", "true"


def link_out(into: str, src: str, of_calls: str | None = None,
             not_in: str | None = None) -> str:
    """INSERT INTO `into` the failover-out links found among the attempts in `src`:
    of the calls listed in `of_calls` only, or of all but those listed in `not_in`.
    `src` needs an index on (call_id, seq)."""
    rows, keep = _rows(src, "a", of_calls, not_in)
    return (
        f"INSERT INTO {into} SELECT a.call_id, a.seq, a.carrier_id, a.ts, a.dst, "
        "a.sip_code, a.sip_reason, b.seq, b.carrier_id, b.ts, b.duration_s "
        f"FROM {rows} CROSS JOIN {src} b ON b.call_id = a.call_id AND b.seq = "
        f"(SELECT min(x.seq) FROM {src} x WHERE x.call_id = a.call_id AND x.seq > a.seq "
        f"AND x.carrier_id <> a.carrier_id AND x.sip_code {_CONN}) "
        f"WHERE a.sip_code NOT {_CONN} AND {keep}"
    )


# The earliest failed attempt before a 2xx one (lower seq) on another carrier: the
# failover-in link's fail_ts, so that a view as of an instant can tell whether that
# failure had happened by then (seq order need not be time order).
_FAIL_TS = (f"(SELECT min(a.ts) FROM {{src}} a WHERE a.call_id = b.call_id AND a.seq < b.seq "
            f"AND a.carrier_id <> b.carrier_id AND a.sip_code NOT {_CONN})")


def link_in(into: str, src: str, of_calls: str | None = None,
            not_in: str | None = None) -> str:
    """INSERT INTO `into` the failover-in links among the attempts in `src` (as
    link_out)."""
    rows, keep = _rows(src, "b", of_calls, not_in)
    return (
        f"INSERT INTO {into} SELECT * FROM (SELECT b.call_id, b.seq, b.carrier_id, b.ts, "
        f"{_FAIL_TS.format(src=src)} AS fail_ts FROM {rows} WHERE b.sip_code {_CONN} "
        f"AND {keep}) WHERE fail_ts IS NOT NULL"
    )
