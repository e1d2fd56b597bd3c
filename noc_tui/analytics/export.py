"""Headless exports of the carrier list, a carrier's summary and its failover calls.

Shapes and key names are those of the foundation issue (section 6); the dashboard's
snapshot export writes the same shapes for the table on screen.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from noc_tui.analytics import metrics
from noc_tui.analytics.views import FAILURE_FIGURES, SUMMARY_FAILURE_FIGURES, unknown_failures
from noc_tui.records.printable import printable_json
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.store.poll_status import failures_recorded

VIEWS = ("carriers", "summary", "failover")
FAILOVER_KEYS = (
    "call_id", "started_at", "dst", "failed_code", "connected_carrier_id",
    "connected_duration_s", "halt_violation", "fas_suspect",
)


class ExportError(Exception):
    """An export that cannot be made as asked (unknown carrier, missing option...)."""


def build(
    cache: Cache, view: str, now_ms: int, window_s: int, carrier_id: str | None = None,
    period: str = "live",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the JSON document, its table rows) for a view. Figures that need failed
    attempts are null when the switch's records hold none (failures_recorded)."""
    known = failures_recorded(cache) is not False
    if view == "carriers":
        rows = metrics.carrier_metrics(cache, now_ms, window_s)
        if not known:
            unknown_failures(rows, FAILURE_FIGURES)
        return {"now": ms_to_iso(now_ms), "window_s": window_s, "carriers": rows}, rows
    if carrier_id is None:
        raise ExportError(f"the {view} view needs --carrier ID")
    known = {r[0] for r in cache.conn.execute(
        "SELECT id FROM carriers UNION SELECT id FROM attempt_carriers")}
    if carrier_id not in known:
        raise ExportError(f"unknown carrier {carrier_id!r}: not in the cache")
    if view == "summary":
        rows = metrics.summary(cache, carrier_id, period, now_ms)
        if not known:
            unknown_failures(rows, SUMMARY_FAILURE_FIGURES)
        return {"carrier_id": carrier_id, "period": period, "rows": rows}, rows
    if view == "failover":
        calls = metrics.failover_calls(cache, carrier_id, now_ms, window_s)
        rows = [{k: c[k] for k in FAILOVER_KEYS} for c in calls]
        return {"carrier_id": carrier_id, "calls": rows}, rows
    raise ExportError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")


# What a spreadsheet may run as a formula: a cell starting with = + - @, tab or carriage
# return, also after leading whitespace.
_FORMULA = re.compile(r"^(?:[\t\r]|\s*[=+\-@])")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        value = "; ".join(str(x) for x in value.values())
    elif isinstance(value, list | tuple):
        value = ";".join(map(str, value))
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value  # a spreadsheet must not run a carrier name as a formula
    return value


class _Lines:
    """Where the csv writer puts each row, as one string ending in CRLF: the writer then
    quotes any value holding \r as well as \n; the rows end in \n all the same."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, row: str) -> None:
        self.parts.append(row[:-2] + "\n")


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV with a header row; null is an empty cell, lists are ';'-joined."""
    cols = list(columns or (rows[0].keys() if rows else []))
    out = _Lines()
    # QUOTE_MINIMAL quotes a value holding a character of the line terminator: with
    # CRLF, both (a bare \r must not end a row in a reader that splits on it).
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(cols)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in cols])
    return "".join(out.parts)


def to_json(doc: Any) -> str:
    # C1 controls and bidi marks as \u escapes too (json leaves them raw): the same
    # data, and a file that is safe to cat.
    return printable_json(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def write_private(path: Path, text: str) -> Path:
    """Write a file readable by its owner only (exports may hold customer numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to an existing file
    return path.resolve()
