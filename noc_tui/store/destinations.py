"""The live routing state of each carrier's destinations (gateways), as the switch
reported it at the last poll that asked: Kamailio's dispatcher.list. A snapshot,
replaced whole at each such poll; a carrier whose destinations are all inactive or
disabled gets no calls, whatever its history says."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from noc_tui.store.cache import Cache

DOWN_STATES = frozenset({"inactive", "disabled"})
# Still selected for calls: active, and trying (failed a probe, not yet inactive).
UP_STATES = frozenset({"active", "trying"})


@dataclass(frozen=True)
class Gateway:
    set_id: int
    uri: str
    priority: int
    state: str  # active | inactive | trying | disabled
    probing: bool


@dataclass(frozen=True)
class Routing:
    """One carrier's destinations."""

    gateways: tuple[Gateway, ...]
    seen_at: int  # epoch ms of the poll that read them

    @property
    def down(self) -> bool:
        return bool(self.gateways) and all(g.state in DOWN_STATES for g in self.gateways)

    @property
    def label(self) -> str:
        """The state when all destinations share it, else "n/m up"."""
        states = {g.state for g in self.gateways}
        if len(states) == 1:
            return next(iter(states))
        up = sum(1 for g in self.gateways if g.state in UP_STATES)
        return f"{up}/{len(self.gateways)} up"

    def summary(self) -> str:
        """The label, how many gateways, and whether the switch probes them."""
        n = len(self.gateways)
        probed = sum(1 for g in self.gateways if g.probing)
        text = self.label + (f" ({n} gateways)" if n > 1 else "")
        return text + (" · probed" if probed == n else f" · {probed} probed" if probed else "")


def replace(cache: Cache, rows: Iterable[tuple[str, int, str, int, str, bool]],
            seen_at: int) -> int:
    """Store the switch's destinations (carrier_id, set_id, uri, priority, state,
    probing) in place of the previous ones; returns how many."""
    with cache.transaction() as conn:
        conn.execute("DELETE FROM destinations")
        conn.executemany(
            "INSERT OR REPLACE INTO destinations (carrier_id, set_id, uri, priority, state, "
            "probing, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*r[:5], int(r[5]), seen_at) for r in rows])
        return int(conn.execute("SELECT count(*) FROM destinations").fetchone()[0])


def load(conn: sqlite3.Connection, carrier_id: str | None = None) -> dict[str, Routing]:
    """Carrier id -> its destinations (all carriers, or one)."""
    where, args = ("WHERE carrier_id = ?", (carrier_id,)) if carrier_id else ("", ())
    out: dict[str, list[Gateway]] = {}
    seen: dict[str, int] = {}
    for cid, set_id, uri, prio, state, probing, at in conn.execute(
            "SELECT carrier_id, set_id, uri, priority, state, probing, seen_at "
            f"FROM destinations {where} ORDER BY carrier_id, set_id, priority DESC, uri", args):
        out.setdefault(cid, []).append(Gateway(set_id, uri, prio, state, bool(probing)))
        seen[cid] = max(seen.get(cid, 0), at)
    return {cid: Routing(tuple(gws), seen[cid]) for cid, gws in out.items()}
