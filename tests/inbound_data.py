"""Builders of inbound records (issue 15, section 1) for the example tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOW = "2026-11-01T12:00:00Z"


def group(gid: str, policy: str = "registered_then_trunk2", **kw: Any) -> dict[str, Any]:
    return {"id": gid, "name": f"Group {gid}", "policy": policy, **kw}


def did(number: str, gid: str, **kw: Any) -> dict[str, Any]:
    return {"did": number, "trunk_group_id": gid, **kw}


def reg(gid: str, edge: str, at: str, event: str = "registered", **kw: Any) -> dict[str, Any]:
    return {"trunk_group_id": gid, "edge": edge, "at": at, "event": event, **kw}


def att(delivery: str, seq: int, code: int, kind: str = "primary_pbx", *, gid: str = "g1",
        number: str = "100", at: str = "2026-11-01T11:00:00Z", sent: bool = True,
        cancelled: bool = False, **kw: Any) -> dict[str, Any]:
    """One delivery attempt; `number` is the DID."""
    return {"delivery_id": delivery, "seq": seq, "trunk_group_id": gid, "did": number,
            "started_at": at, "target_kind": kind, "sent": sent, "sip_code": code,
            "duration_s": 30 if 200 <= code <= 299 else 0, "cancelled": cancelled, **kw}


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path
