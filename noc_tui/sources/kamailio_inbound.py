"""Kamailio's inbound side as a source: integrations/kamailio/inbound.cfg's records.

inbound.cfg reads its provisioning from two tables of its database, and noc-tui reads
the same rows as its trunk groups and DIDs: what the switch routes by is what the
deliveries are checked against. The switch writes one inbound_attempts row per delivery
attempt (sent, or decided locally: not registered, channel limit), one inbound_ends row
when a delivery is over, and its registration events. Registrations are also asked of
the switch itself (JSON-RPC ul.dump), so that the state noc-tui shows is the switch's
even when an event was never logged (see `reconcile`).

Deliveries are published whole, like the carrier side's attempts: a poll's window is
over the time the delivery ended (its inbound_ends row), so a delivery still failing
over is not taken for lost. A delivery whose end never came (Kamailio restarted
mid-call or mid-failover, or the row was lost) is published `max_call` after its last
attempt's row, as it stands: an answered one without a duration, a failed one with the
attempts it had.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from noc_tui.sources.base import BAD_DATA, CANCELLED, SERVER_ERROR, Page, SourceError
from noc_tui.sources.kamailio import (
    SETTING,
    JsonRpc,
    KamailioSource,
    _Database,
    _int,
    _number,
    _page,
    _time,
)

if TYPE_CHECKING:
    import threading
    from pathlib import Path

    from noc_tui.config import SourceSettings

DB_SETTING = f"{SETTING}.inbound_db_url"
GROUP_COLUMNS = ("id", "name", "customer", "policy", "edges", "backup_pbx",
                 "global_failover_number", "dial_plan", "failover_triggers",
                 "no_1xx_timeout_s", "channel_limit")
DID_COLUMNS = ("did", "trunk_group_id", "failover_number", "backup_pbx")
ATTEMPT_COLUMNS = ("callid", "seq", "trunk_group_id", "did", "caller", "t_sent",
                   "target_kind", "target", "edge", "sent", "number_source", "t_1xx",
                   "sip_code", "sip_reason", "cancelled", "time_s")
REG_COLUMNS = ("trunk_group_id", "edge", "at", "event", "contact", "expires_s")
REQUIRED = {"inbound_trunk_groups": GROUP_COLUMNS, "inbound_dids": DID_COLUMNS,
            "inbound_attempts": ATTEMPT_COLUMNS,
            "inbound_ends": ("callid", "ended", "time_s"),
            "inbound_registrations": REG_COLUMNS}
# usrloc table -> edge (inbound.cfg: one table per trunk socket).
EDGE_OF_TABLE = {"location": "trunk1", "location_t2": "trunk2"}

_A = ", ".join(f"a.{c}" for c in ATTEMPT_COLUMNS[:-1])
# Every attempt of the deliveries published in [since, until): ended then, or never
# ended and their last attempt (x) written max_call before; with the end, the seconds
# from the row to the end (an answered attempt's row is written at its 2xx: its
# duration). Ordered by (pub, callid, seq): by position, as a compound SELECT orders in
# both SQLite and PostgreSQL.
DELIVERIES_SQL = f"""
SELECT {_A}, e.ended, e.time_s - a.time_s, e.time_s AS pub
  FROM inbound_ends e JOIN inbound_attempts a ON a.callid = e.callid
 WHERE e.time_s >= :since AND e.time_s < :until
UNION ALL
SELECT {_A}, NULL, NULL, x.time_s + :max_call
  FROM inbound_attempts x JOIN inbound_attempts a ON a.callid = x.callid
 WHERE x.time_s >= :since - :max_call AND x.time_s < :until - :max_call
   AND NOT EXISTS (SELECT 1 FROM inbound_attempts y
                    WHERE y.callid = x.callid AND y.seq > x.seq)
   AND NOT EXISTS (SELECT 1 FROM inbound_ends e WHERE e.callid = x.callid)
ORDER BY 18, 1, 2
"""
REGISTRATIONS_SQL = """
SELECT trunk_group_id, edge, at, event, contact, expires_s FROM inbound_registrations
 WHERE at >= :since AND at < :until ORDER BY at, trunk_group_id, edge, event
"""
# The latest logged event of each trunk group and edge (for `reconcile`).
LATEST_SQL = """
SELECT r.trunk_group_id, r.edge, r.event, r.at, r.expires_s FROM inbound_registrations r
 WHERE r.at = (SELECT MAX(at) FROM inbound_registrations
                WHERE trunk_group_id = r.trunk_group_id AND edge = r.edge)
"""


# -- records ----------------------------------------------------------------------------

def group_record(row: Sequence[Any]) -> dict[str, Any]:
    """A trunk group from its inbound_trunk_groups row. Lists are the table's comma
    text (the record's validator splits it); NULL lists and timeout are the defaults,
    '' triggers names none."""
    rec = dict(zip(GROUP_COLUMNS, row, strict=True))
    if not rec["name"]:
        rec["name"] = rec["id"]
    for key in ("edges", "failover_triggers", "no_1xx_timeout_s", "channel_limit"):
        if rec[key] is None:
            del rec[key]
    return rec


def did_record(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(DID_COLUMNS, row, strict=True))


def _flag(value: Any) -> Any:
    n = _int(value)
    return bool(n) if n in (0, 1) else value


def delivery_record(row: Sequence[Any]) -> dict[str, Any]:
    """One delivery attempt in the record format from a row of DELIVERIES_SQL. Values
    the switch left wrong go through as found, for the validator to reject."""
    (callid, seq, group, did, caller, t_sent, kind, target, edge, sent, source, t_1xx,
     code, reason, cancelled, ended, answered_s) = row[:17]
    code_n = _int(code)
    sent_s, first_s = _number(t_sent), _number(t_1xx)
    secs = _number(answered_s)
    answered = isinstance(code_n, int) and 200 <= code_n < 300
    return {
        "delivery_id": callid, "seq": _int(seq), "trunk_group_id": group, "did": did,
        "caller": caller or None, "started_at": _time(t_sent), "target_kind": kind,
        "target": target or None, "edge": edge or None, "sent": _flag(sent),
        "number_source": source or None,
        "first_1xx_ms": (round((first_s - sent_s) * 1000)
                         if first_s is not None and sent_s is not None else None),
        "sip_code": code_n, "sip_reason": reason or None,
        # The answered time: from the 2xx to the dialog's end.
        "duration_s": (round(max(secs, 0.0), 3) if answered and ended == "hung_up"
                       and secs is not None else 0),
        "cancelled": _flag(cancelled),
    }


def registration_record(row: Sequence[Any]) -> dict[str, Any]:
    group, edge, at, event, contact, expires = row
    return {"trunk_group_id": group, "edge": edge, "at": _time(at), "event": event,
            "contact": contact or None, "expires_s": _int(expires)}


# -- the switch's registrations (ul.dump) ----------------------------------------------

def live_contacts(result: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """ul.dump's answer as {(AOR, edge): its latest contact}, each contact with
    Address, Expires (seconds left) and Last-Modified (epoch seconds). SourceError if
    the answer has another shape."""
    def bad(what: str) -> SourceError:
        return SourceError(BAD_DATA, f"ul.dump: {what} (is this inbound.cfg on Kamailio 5.x?)")

    if not isinstance(result, dict) or not isinstance(result.get("Domains"), list):
        raise bad("no Domains list")
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for dom in result["Domains"]:
        domain = dom.get("Domain") if isinstance(dom, dict) else None
        if not isinstance(domain, dict):
            raise bad("a domain has no Domain")
        edge = EDGE_OF_TABLE.get(str(domain.get("Domain")))
        if edge is None:
            continue  # not one of inbound.cfg's trunk tables
        for aor in domain.get("AoRs") or []:
            info = aor.get("Info") if isinstance(aor, dict) else None
            if not isinstance(info, dict):
                raise bad("an AoR has no Info")
            for c in info.get("Contacts") or []:
                contact = c.get("Contact") if isinstance(c, dict) else None
                if not isinstance(contact, dict):
                    raise bad(f"AoR {str(info.get('AoR'))[:80]!r}: a contact has no Contact")
                key = (str(info.get("AoR")), edge)
                old = out.get(key)
                if old is None or (_number(contact.get("Last-Modified")) or 0) > (
                        _number(old.get("Last-Modified")) or 0):
                    out[key] = contact
    return out


def reconcile(groups: Sequence[str], latest: dict[tuple[str, str], tuple[str, float,
                                                                            int | None]],
              live: dict[tuple[str, str], dict[str, Any]], now_s: float,
              started_s: float | None) -> list[dict[str, Any]]:
    """The events that make the logged registrations agree with the switch's state now,
    each at a time that stays the same from poll to poll (so a repeated poll adds
    nothing):
      * registered per ul.dump, not per the log (the event was never logged, or was
        removed): `registered` at the contact's Last-Modified (1 ms after the latest
        logged event, if that is later);
      * registered per the log, absent from ul.dump: `unregistered` at Kamailio's start
        when it restarted since (usrloc in memory forgets every contact), else 1 ms after
        the logged event (it went without one: ul.rm, or a lost row).
    """
    out = []
    for gid in groups:
        for edge in EDGE_OF_TABLE.values():
            ev = latest.get((gid, edge))
            logged_up = ev is not None and ev[0] in ("registered", "refreshed") and (
                ev[2] is None or ev[1] + ev[2] > now_s)
            contact = live.get((gid, edge))
            if contact is not None and not logged_up:
                modified = _number(contact.get("Last-Modified"))
                if modified is None:
                    continue
                # Last-Modified is whole seconds: never before the logged event it undoes.
                at = max(modified, ev[1] + 0.001) if ev is not None else modified
                out.append({"trunk_group_id": gid, "edge": edge, "at": _time(at),
                            "event": "registered", "contact": contact.get("Address"),
                            # ul.dump gives the seconds left, not the expiry granted:
                            # none, rather than one that differs from poll to poll. Its
                            # end comes as an event (logged, or the case below).
                            "expires_s": None})
            elif contact is None and logged_up and ev is not None:
                at = started_s if started_s is not None and started_s > ev[1] \
                    else ev[1] + 0.001
                out.append({"trunk_group_id": gid, "edge": edge, "at": _time(at),
                            "event": "unregistered", "contact": None, "expires_s": None})
    return out


def _started(result: Any) -> float | None:
    """Kamailio's start (core.uptime: now - uptime, to the second)."""
    if isinstance(result, dict):
        up = _number(result.get("uptime"))
        if up is not None:
            return float(int(time.time() - up))
    return None


# -- the source -------------------------------------------------------------------------

class KamailioInboundSource(KamailioSource):
    """A Kamailio source that also lists the inbound records (InboundSource)."""

    def __init__(self, settings: SourceSettings, *, state_path: Path | None = None,
                 cancel: threading.Event | None = None) -> None:
        super().__init__(settings, state_path=state_path, cancel=cancel)
        k = self.k
        assert k.inbound_db_url is not None
        self.inbound_db = _Database(k.inbound_db_url, settings.connect_timeout_s, DB_SETTING)
        self._pages_read = 0
        url = k.inbound_jsonrpc_url
        self.inbound_rpc = JsonRpc(url, settings) if url else None

    def close(self) -> None:
        super().close()
        if self.inbound_rpc is not None:
            self.inbound_rpc.close()

    @property
    def display_url(self) -> str:
        return f"{super().display_url} + inbound {self.inbound_db.shown}"

    def _read(self, kind: str, sql: str, params: dict[str, Any],
              record: Any) -> Iterator[Page]:
        """The rows of `sql` as pages of records, SourceError naming the setting when the
        database fails."""
        db = self.inbound_db
        conn = db.connect()
        self.requests_made += 1
        try:
            db.check(conn, REQUIRED)
            cur = db.query(conn, sql, params)
            limit = self.settings.page_limit
            rows = cur.fetchmany(limit)
            self._pages_read = 0
            while rows:
                if self.cancel.is_set():
                    raise SourceError(CANCELLED, "cancelled")
                following = cur.fetchmany(limit)
                self._pages_read += 1
                yield _page(kind, self._pages_read, [record(r) for r in rows],
                            bool(following))
                rows = following
        except db.errors() as exc:
            raise _read_failed(db.shown, "records", exc) from None
        finally:
            conn.close()

    def trunk_groups(self) -> Iterator[Page]:
        return self._read("trunk_groups", f"SELECT {', '.join(GROUP_COLUMNS)} FROM "
                          "inbound_trunk_groups ORDER BY id", {}, group_record)

    def dids(self) -> Iterator[Page]:
        return self._read("dids", f"SELECT {', '.join(DID_COLUMNS)} FROM inbound_dids "
                          "ORDER BY did", {}, did_record)

    def deliveries(self, since_ms: int, until_ms: int) -> Iterator[Page]:
        """The attempts of the deliveries published (over) in [since, until)."""
        return self._read("deliveries", DELIVERIES_SQL,
                          {"since": since_ms / 1000, "until": until_ms / 1000,
                           "max_call": float(self.max_call_s)}, delivery_record)

    def registrations(self, since_ms: int, until_ms: int) -> Iterator[Page]:
        """The logged events in [since, until), then the events that make them agree
        with the switch's registrations now (`reconcile`; none without
        inbound_jsonrpc_url)."""
        yield from self._read("registrations", REGISTRATIONS_SQL,
                              {"since": since_ms / 1000, "until": until_ms / 1000},
                              registration_record)
        if self.inbound_rpc is None:
            return
        self.requests_made += 2
        live = live_contacts(self.inbound_rpc.call("ul.dump"))
        started = _started(self.inbound_rpc.call("core.uptime"))
        db = self.inbound_db
        conn = db.connect()
        try:
            groups = [r[0] for r in db.query(conn, "SELECT id FROM inbound_trunk_groups "
                                                   "ORDER BY id", {}).fetchall()]
            latest = {(g, e): (ev, float(at), _int(exp)) for g, e, ev, at, exp in
                      db.query(conn, LATEST_SQL, {}).fetchall()}
        except db.errors() as exc:
            raise _read_failed(db.shown, "registrations", exc) from None
        finally:
            conn.close()
        extra = reconcile(groups, latest, live, time.time(), started)
        if extra:
            yield _page("registrations", self._pages_read + 1, extra, False)


def _read_failed(shown: str, what: str, exc: Exception) -> SourceError:
    """The database's error as one line naming the setting and what was read."""
    first = str(exc).strip().splitlines()
    return SourceError(SERVER_ERROR, f"{DB_SETTING} {shown}: reading the inbound {what} "
                                     f"failed: {first[0] if first else type(exc).__name__}")
