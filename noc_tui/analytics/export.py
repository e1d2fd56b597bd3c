"""Exports of the carrier list, a carrier's summary and its failover calls.

Shapes and key names are those of the foundation issue (section 6); the command line
(`noc-tui export`) and the dashboard's snapshot (`e`) build them here, so both write the
same figures in the same shapes: carrier rows with their health and alarms, `now` as
ISO 8601, failover calls out or in. CSV and text show cost rounded to the carrier's
currency's minor unit (records/currency.py); JSON keeps it whole.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noc_tui.analytics import metrics
from noc_tui.analytics.list_state import CARRIER_COLUMNS
from noc_tui.analytics.views import SUMMARY_FAILURE_FIGURES, unknown_failures, with_health
from noc_tui.records.currency import in_cents
from noc_tui.records.printable import printable_json
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.store.cache import Cache
from noc_tui.store.poll_status import failures_recorded

if TYPE_CHECKING:
    from noc_tui.config import Settings

VIEWS = ("carriers", "summary", "failover")
DIRECTIONS = ("out", "in")
FAILOVER_KEYS = (
    "call_id", "started_at", "dst", "failed_code", "connected_carrier_id",
    "connected_duration_s", "halt_violation", "fas_suspect",
)
# A call picked up after another carrier failed: the failed carrier instead of this one.
FAILOVER_IN_KEYS = (
    "call_id", "started_at", "dst", "failed_carrier_id", "failed_code",
    "connected_duration_s", "halt_violation", "fas_suspect",
)
FAILOVER_COLUMNS = {"out": FAILOVER_KEYS, "in": FAILOVER_IN_KEYS}
SUMMARY_COLUMNS = metrics.SUMMARY_KEYS
MONEY_COLUMNS = ("cost",)


def _project(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    return [{c: r.get(c) for c in columns} for r in rows]


def carrier_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """A carrier row's columns: with the switch's routing state when it reports one."""
    routing = any("routing" in r for r in rows)
    return [*CARRIER_COLUMNS, *(("routing",) if routing else ())]


def carriers_doc(rows: Sequence[dict[str, Any]], now_ms: int, window_s: int) -> dict[str, Any]:
    """The carrier list: each row's figures with its health and alarms."""
    return {"now": ms_to_iso(now_ms), "window_s": window_s,
            "carriers": _project(rows, carrier_columns(rows))}


def summary_doc(carrier_id: str, period: str, rows: Sequence[dict[str, Any]], now_ms: int,
                currency: str | None) -> dict[str, Any]:
    """A carrier's figures per hour, day or month; cost in `currency`."""
    return {"carrier_id": carrier_id, "period": period, "now": ms_to_iso(now_ms),
            "currency": currency, "rows": _project(rows, SUMMARY_COLUMNS)}


def failover_doc(carrier_id: str, direction: str, rows: Sequence[dict[str, Any]],
                 now_ms: int, window_s: int) -> dict[str, Any]:
    """A carrier's failover calls, out (failed here) or in (picked up here)."""
    return {"carrier_id": carrier_id, "direction": direction, "now": ms_to_iso(now_ms),
            "window_s": window_s, "calls": _project(rows, FAILOVER_COLUMNS[direction])}


def carrier_currency(cache: Cache, carrier_id: str) -> str | None:
    row = cache.conn.execute("SELECT currency FROM carriers WHERE id = ?",
                             (carrier_id,)).fetchone()
    return row[0] if row else None


class ExportError(Exception):
    """An export that cannot be made as asked (unknown carrier, missing option...)."""


def build(
    cache: Cache, view: str, now_ms: int, window_s: int, carrier_id: str | None = None,
    period: str = "live", *, settings: Settings | None = None, direction: str = "out",
) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """(the JSON document, its table rows, their columns) for a view. settings: the
    health and alarm thresholds (default: the defaults). Figures that need failed
    attempts are null when the switch's records hold none (failures_recorded)."""
    if settings is None:
        from noc_tui.config import Settings

        settings = Settings()
    failures_known = failures_recorded(cache) is not False
    if view == "carriers":
        from noc_tui.store.alarms import open_alarms
        from noc_tui.store.destinations import load as load_routing

        # The alarms open in the cache, as the dashboard shows them (judged over
        # alarms.window at each poll or import), whatever window is exported.
        rows = with_health(metrics.carrier_metrics(cache, now_ms, window_s, settings.metrics),
                           settings, load_routing(cache.conn), failures_known,
                           opened=open_alarms(cache.conn))
        doc = carriers_doc(rows, now_ms, window_s)
        return doc, doc["carriers"], carrier_columns(rows)
    if carrier_id is None:
        raise ExportError(f"the {view} view needs --carrier ID")
    known = {r[0] for r in cache.conn.execute(
        "SELECT id FROM carriers UNION SELECT id FROM attempt_carriers")}
    if carrier_id not in known:
        raise ExportError(f"unknown carrier {carrier_id!r}: not in the cache")
    if view == "summary":
        rows = metrics.summary(cache, carrier_id, period, now_ms, settings.metrics)
        if not failures_known:
            unknown_failures(rows, SUMMARY_FAILURE_FIGURES)
        doc = summary_doc(carrier_id, period, rows, now_ms, carrier_currency(cache, carrier_id))
        return doc, doc["rows"], list(SUMMARY_COLUMNS)
    if view == "failover":
        if direction not in DIRECTIONS:
            raise ExportError(f"unknown direction {direction!r}; expected out or in")
        calls = metrics.failover_calls(cache, carrier_id, now_ms, window_s, settings.metrics,
                                       direction=direction)
        doc = failover_doc(carrier_id, direction, calls, now_ms, window_s)
        return doc, doc["calls"], list(FAILOVER_COLUMNS[direction])
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


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None,
           currency: str | None = None) -> str:
    """CSV with a header row; null is an empty cell, lists are ';'-joined, money (cost)
    rounded to `currency`'s minor unit."""
    cols = list(columns or (rows[0].keys() if rows else []))
    money = [c in MONEY_COLUMNS for c in cols]
    out = _Lines()
    # QUOTE_MINIMAL quotes a value holding a character of the line terminator: with
    # CRLF, both (a bare \r must not end a row in a reader that splits on it).
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(cols)
    for r in rows:
        writer.writerow([in_cents(r.get(c), currency) if m else _cell(r.get(c))
                         for c, m in zip(cols, money, strict=True)])
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
