"""A call's attempts on one time line, the way sngrep shows a call's messages.

For each attempt, in time order: the INVITE sent (its started_at), the first 180/183
(started_at + pdd_ms, when one came), the final answer (2xx or the failure code) and,
for an answered attempt, the release (answer + duration_s). The records say exactly when
an INVITE and the first 18x were; the final answer is only known to lie before the
next attempt's INVITE (routing moved on after it), and an answer's time is not in the
record at all: such events carry their bound rather than a made-up time.
"""

from __future__ import annotations

from typing import Any

from noc_tui.records.timefmt import iso_to_ms

EXACT, BEFORE, UNKNOWN = "exact", "before", "unknown"


def call_timeline(ladder: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events {at_ms, offset_ms, when, seq, carrier_id, carrier_name, event, code,
    text}: `when` is EXACT (at_ms is the time), BEFORE (at or before at_ms) or UNKNOWN
    (at_ms None; for a release, `text` says how long after the answer). Offsets are
    from the call's first INVITE."""
    if not ladder:
        return []
    starts = [iso_to_ms(a["started_at"]) for a in ladder]
    first = min(starts)
    events: list[dict[str, Any]] = []

    def add(a: dict[str, Any], at: int | None, when: str, event: str, text: str,
            code: int | None = None) -> None:
        events.append({"at_ms": at, "offset_ms": None if at is None else at - first,
                       "when": when, "seq": a["seq"], "carrier_id": a["carrier_id"],
                       "carrier_name": a.get("carrier_name"), "event": event,
                       "code": code, "text": text})

    for i, a in enumerate(ladder):
        start = starts[i]
        code = a["sip_code"]
        reason = a.get("sip_reason") or ""
        add(a, start, EXACT, "INVITE", "INVITE sent")
        if a.get("pdd_ms") is not None:
            add(a, start + a["pdd_ms"], EXACT, "18x", f"180/183, PDD {a['pdd_ms']} ms")
        later = [s for s in starts[i + 1:] if s >= start]
        final = f"{code} {reason}".strip()
        if 200 <= code <= 299:
            add(a, None, UNKNOWN, "answer", f"{final}, time unknown", code)
            release = a.get("release_reason")
            add(a, None, UNKNOWN, "release", f"{a['duration_s']} s after the answer"
                + (f": {release}" if release else ""))
        elif later:
            add(a, min(later), BEFORE, "final", f"{final}, before the next INVITE", code)
        else:
            add(a, None, UNKNOWN, "final", f"{final}: the call ended here", code)
    # Time order; an event without a time stays after the one before it in its attempt.
    order = {id(e): n for n, e in enumerate(events)}
    last_known: dict[int, int] = {}
    for e in events:
        if e["at_ms"] is not None:
            last_known[e["seq"]] = e["at_ms"]
        e["_key"] = (e["at_ms"] if e["at_ms"] is not None else last_known.get(e["seq"], 0),
                     order[id(e)])
    events.sort(key=lambda e: e["_key"])
    for e in events:
        del e["_key"]
    return events
