"""A small, hand-checked record set shared by the foundation tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOW = "2026-11-01T12:00:00Z"

CARRIERS: list[dict[str, Any]] = [
    {"id": "A", "name": "Alpha Telecom", "status": "active", "channels": 0, "cps": 10,
     "currency": "USD", "halt_codes": None},
    {"id": "B", "name": "Beta Voice", "status": "active", "channels": 30, "cps": 5,
     "currency": "EUR", "halt_codes": [404]},
]

RATES: list[dict[str, Any]] = [
    {"carrier_id": "B", "card_id": "std", "card_name": "Standard", "prefix": "44",
     "destination": "UK", "rate": 0.6, "connect_fee": 0.01, "mcd_s": 30, "pulse_s": 6,
     "currency": "EUR", "effective_from": "2026-01-01T00:00:00Z", "status": "active"},
]


def attempt(call: str, seq: int, carrier: str, at: str, code: int, dur: int = 0,
            dst: str = "441234", pdd: int | None = 1500) -> dict[str, Any]:
    return {"call_id": call, "seq": seq, "carrier_id": carrier, "started_at": at, "dst": dst,
            "cli": "15550001", "sip_code": code, "sip_reason": "reason", "pdd_ms": pdd,
            "duration_s": dur, "release_reason": None}


ATTEMPTS: list[dict[str, Any]] = [
    attempt("c1", 1, "A", "2026-11-01T10:00:00Z", 503),
    attempt("c1", 2, "B", "2026-11-01T10:00:02Z", 200, dur=65),
    attempt("c2", 1, "A", "2026-11-01T10:30:00Z", 200, dur=20, dst="441111"),
    attempt("c3", 1, "A", "2026-11-01T11:40:00Z", 486, dst="441111"),
    # A halted-code failover: A's 486 should have stopped routing, yet B got the call.
    attempt("c3", 2, "B", "2026-11-01T11:40:01Z", 200, dur=6, dst="441111"),
]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def write_dataset(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "carriers.jsonl", CARRIERS)
    write_jsonl(folder / "rates.jsonl", RATES)
    write_jsonl(folder / "attempts.jsonl", ATTEMPTS)
    return folder
