"""Kamailio as a source: its accounting and its live dispatcher state.

Kamailio runs integrations/kamailio/kamailio.cfg, which records one accounting row per
INVITE sent to a carrier (an attempt) with extra columns: the carrier (from the
dispatcher destination's attrs carrier=NAME, per attempt), the attempt number, the
INVITE time and the first 180/183 time. Failed branches are in missed_calls, each
call's final outcome in acc (a call that stops on a failure is in both: its last attempt
is counted once), answered durations in the dialog CDRs (acc_cdrs). The rows are read
from the database (SQLite read-only, or PostgreSQL), or arrive as acc_json events
fetched from Kamailio's mqueues over JSON-RPC into a local spool that has the same
tables.

The window of a poll is over *publication* time: when Kamailio wrote the row (time_s),
and for an answered attempt when its call ended (the CDR's time_s), so that an answered
attempt is published once, complete with its duration, however long the call was. An
answered call with no CDR `max_call` after its answer is published without one.

Carriers and the live state of their destinations come from dispatcher.list.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec

from noc_tui.records.timefmt import parse_duration
from noc_tui.sources.base import (
    BAD_DATA,
    CANCELLED,
    CLIENT_ERROR,
    SERVER_ERROR,
    UNAUTHORISED,
    UNREACHABLE,
    Destination,
    Page,
    SourceError,
)

if TYPE_CHECKING:
    from noc_tui.config import KamailioSettings, SourceSettings

SETTING = "source.kamailio"
# The columns noc-tui reads, by table (kamailio.cfg's db_extra, time_attr, cdr_extra).
ATTEMPT_COLUMNS = ("method", "callid", "sip_code", "sip_reason", "time_s", "carrier",
                   "attempt", "t_inv", "t_18x", "dst", "cli")
REQUIRED = {"acc": ATTEMPT_COLUMNS, "missed_calls": ATTEMPT_COLUMNS,
            "acc_cdrs": ("callid", "duration", "time_s")}
QUEUES = ("acc_events", "cdr_events")
# Dispatcher flags (dispatcher.list FLAGS, first letter) as noc-tui shows them.
STATES = {"A": "active", "I": "inactive", "T": "trying", "D": "disabled"}

# One attempt per row, whichever table it comes from; `pub` is when it was published.
# Failed attempts: their missed_calls row, or their acc row when missed_calls has none
# (acc repeats a call's last failed attempt). Answered attempts: when their CDR is
# written, or `max_call` after the answer when no CDR came.
_COLS = "callid, attempt, carrier, t_inv, t_18x, dst, cli, sip_code, sip_reason"
_A_COLS = ", ".join(f"a.{c.strip()}" for c in _COLS.split(","))
WINDOW_SQL = f"""
SELECT {_COLS}, CAST(NULL AS REAL) AS duration, time_s AS pub FROM missed_calls
 WHERE time_s >= :since AND time_s < :until AND method = 'INVITE'
UNION ALL
SELECT {_A_COLS}, NULL, a.time_s FROM acc a
 WHERE a.time_s >= :since AND a.time_s < :until AND a.method = 'INVITE'
   AND a.sip_code NOT LIKE '2%'
   AND NOT EXISTS (SELECT 1 FROM missed_calls m
                    WHERE m.callid = a.callid AND m.attempt = a.attempt)
UNION ALL
SELECT {_A_COLS}, c.duration, c.time_s FROM acc_cdrs c
  JOIN acc a ON a.callid = c.callid AND a.method = 'INVITE' AND a.sip_code LIKE '2%'
 WHERE c.time_s >= :since AND c.time_s < :until
UNION ALL
SELECT {_A_COLS}, NULL, a.time_s + :max_call FROM acc a
 WHERE a.time_s >= :since - :max_call AND a.time_s < :until - :max_call
   AND a.method = 'INVITE' AND a.sip_code LIKE '2%'
   AND NOT EXISTS (SELECT 1 FROM acc_cdrs c WHERE c.callid = a.callid)
ORDER BY pub, callid, attempt
"""
NO_CDR = "no CDR: duration unknown"


# -- records ------------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    """A finite number, or None. (Floats, the common case, take the first test: this
    runs several times for each of a million attempts.)"""
    if type(value) is float:
        return value if value - value == 0 else None  # inf - inf and nan are not 0
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> Any:
    if type(value) is int:
        return value
    if type(value) is str and value.isdigit():
        return int(value)
    secs = _number(value)
    return int(secs) if secs is not None and secs == int(secs) else value


# "YYYY-MM-DDTHH:MM:SS" by epoch second: a poll's attempts share few seconds.
_ISO_SECOND: dict[int, str] = {}


def _time(value: Any) -> Any:
    """Epoch seconds (as Kamailio writes them) as an ISO time (ms_to_iso's form);
    anything else as found, for the record's validation to reject with its reason."""
    secs = _number(value)
    if secs is None:
        return value
    second, ms = divmod(round(secs * 1000), 1000)
    prefix = _ISO_SECOND.get(second)
    if prefix is None:
        try:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        except (OverflowError, OSError, ValueError):
            return value
        if len(_ISO_SECOND) >= 100_000:
            _ISO_SECOND.clear()
        _ISO_SECOND[second] = prefix
    return f"{prefix}.{ms:03d}Z"


def attempt_record(row: Sequence[Any]) -> dict[str, Any]:
    """One attempt in the record format (docs/switch-api.md) from a row of
    WINDOW_SQL. Values Kamailio left empty or wrong go through as they are: the
    validator rejects that record, with the field and the reason."""
    callid, attempt, carrier, t_inv, t_18x, dst, cli, code, reason, duration = row[:10]
    code_n = _int(code)
    inv, ring = _number(t_inv), _number(t_18x)
    answered = isinstance(code_n, int) and 200 <= code_n < 300
    secs = _number(duration)
    if isinstance(dst, str):
        dst = dst.removeprefix("+")  # E.164 with a plus: the digits are the number
    return {
        "call_id": callid, "seq": _int(attempt), "carrier_id": carrier or None,
        "started_at": _time(t_inv), "dst": dst, "cli": cli or None,
        "sip_code": code_n, "sip_reason": reason or None,
        "pdd_ms": round((ring - inv) * 1000) if inv is not None and ring is not None else None,
        "duration_s": (round(secs, 3) if secs is not None else 0) if answered else 0,
        "release_reason": NO_CDR if answered and duration is None else None,
    }


def carrier_of(dest: dict[str, Any]) -> str:
    """A destination's carrier: attrs carrier=NAME, else its URI."""
    attrs = dest.get("ATTRS")
    body = attrs.get("BODY") if isinstance(attrs, dict) else None
    if isinstance(body, str):
        for part in body.split(";"):
            name, _, value = part.partition("=")
            if name.strip() == "carrier" and value.strip():
                return value.strip()
    return str(dest.get("URI"))


def destinations(result: Any) -> list[Destination]:
    """dispatcher.list's result, destination by destination; SourceError if it has
    another shape."""
    def bad(what: str) -> SourceError:
        return SourceError(BAD_DATA, f"dispatcher.list: {what} (is this Kamailio 5.x?)")

    if not isinstance(result, dict):
        raise bad("the result is not an object")
    records = result.get("RECORDS") or []
    if not isinstance(records, list):
        raise bad("RECORDS is not a list")
    out: list[Destination] = []
    for rec in records:
        group = rec.get("SET") if isinstance(rec, dict) else None
        if not isinstance(group, dict):
            raise bad("a record has no SET")
        for target in group.get("TARGETS") or []:
            dest = target.get("DEST") if isinstance(target, dict) else None
            flags = dest.get("FLAGS") if isinstance(dest, dict) else None
            if not isinstance(dest, dict) or not isinstance(flags, str) or not flags:
                raise bad(f"a destination of set {group.get('ID')} has no FLAGS")
            try:
                set_id, priority = int(group["ID"]), int(dest.get("PRIORITY") or 0)
            except (KeyError, TypeError, ValueError):
                raise bad(f"set {group.get('ID')!r}: not a number") from None
            out.append(Destination(carrier_of(dest), str(dest.get("URI")), set_id, priority,
                                   STATES.get(flags[0].upper(), flags),
                                   flags[1:2].upper() == "P"))
    return out


def carrier_records(dests: list[Destination]) -> list[dict[str, Any]]:
    """One carrier per carrier name (or destination URI). Kamailio knows its id and
    name only: the rest is unknown (null); its halt codes are the default set, as
    kamailio.cfg's failure_route."""
    seen: dict[str, dict[str, Any]] = {}
    for d in dests:
        seen.setdefault(d.carrier_id, {"id": d.carrier_id, "name": d.carrier_id,
                                       "status": None, "channels": None, "cps": None,
                                       "currency": None, "halt_codes": None})
    return list(seen.values())


def _page(kind: str, number: int, items: list[Any], more: bool,
          last_at: str | None = None) -> Page:
    cursor = f"{kind}-{number + 1}" if more else None
    # msgspec: a quarter of json.dumps's time for a page of attempts (measured).
    raw = msgspec.json.encode({"items": items, "next_cursor": cursor})
    return Page(kind, number, raw.decode(), len(items), cursor, len(raw), last_at)


# -- where the settings point ------------------------------------------------------------

def redact_url(url: str) -> str:
    """A database or HTTP URL without its password (for messages and poll_runs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unreadable URL)"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def sqlite_path(url: str, setting: str = f"{SETTING}.db_url") -> Path:
    """The file of an SQLite URL in Kamailio's form: sqlite://, an empty host, a slash,
    then the path, so an absolute path takes four slashes. ValueError naming the trap
    otherwise."""
    rest = url[len("sqlite://"):]
    path = rest[1:] if rest.startswith("/") else rest
    if not path.startswith("/"):
        absolute = "/" + path
        hint = (f"; for the absolute path {absolute} write sqlite:///{absolute} "
                "(four slashes, as in kamailio.cfg)") if Path(absolute).exists() else \
            "; write sqlite:////absolute/path/acc.db (four slashes)"
        raise ValueError(f"{setting} {url!r} names the relative path {path!r}{hint}")
    return Path(path)


# -- the accounting database ------------------------------------------------------------

class _Database:
    """The accounting tables, read-only: an SQLite file or a PostgreSQL database."""

    def __init__(self, url: str, connect_timeout_s: float,
                 setting: str = f"{SETTING}.db_url") -> None:
        self.url = url
        self.setting = setting
        self.shown = redact_url(url)
        self.postgres = url.startswith(("postgres://", "postgresql://"))
        self._timeout = connect_timeout_s
        if url.startswith("sqlite://"):
            self.path: Path | None = sqlite_path(url, setting)
        elif self.postgres:
            self.path = None
        else:
            raise ValueError(f"{self.setting} {self.shown!r}: write sqlite:////path/acc.db "
                             "or postgres://user:password@host/database")

    def connect(self) -> Any:
        if self.path is not None:
            return self._sqlite()
        return self._postgres()

    def _sqlite(self) -> sqlite3.Connection:
        if not self.path or not self.path.is_file():
            raise SourceError(UNREACHABLE, f"{self.setting}: no SQLite file at {self.path} "
                                           "(the database kamailio.cfg or inbound.cfg writes)")
        try:
            # mode=ro: never a write, never a lock that could make Kamailio lose a row.
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                   timeout=self._timeout, check_same_thread=False)
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise SourceError(UNREACHABLE, f"{self.setting}: cannot read {self.path}: {exc} "
                                           "(noc-tui needs read access to the file and to "
                                           "its -wal and -shm files)") from None
        return conn

    def _postgres(self) -> Any:
        try:
            import psycopg  # an optional extra: pip install 'noc-tui[postgres]'
        except ImportError:
            raise SourceError(CLIENT_ERROR, f"{self.setting} is a PostgreSQL URL but the "
                                            "driver is not installed: pip install "
                                            "'noc-tui[postgres]'") from None
        try:
            conn = psycopg.connect(self.url, connect_timeout=max(1, round(self._timeout)))
            conn.read_only = True
        except psycopg.OperationalError as exc:
            text = str(exc).replace(self.url, self.shown).strip().splitlines()
            kind = UNAUTHORISED if "password" in str(exc) else UNREACHABLE
            raise SourceError(kind, f"{self.setting} {self.shown}: "
                                    f"{text[-1] if text else 'cannot connect'}") from None
        return conn

    def columns(self, conn: Any, table: str) -> set[str]:
        if self.path is not None:
            return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        cur = conn.execute("SELECT column_name FROM information_schema.columns "
                           "WHERE table_name = %s AND table_schema = ANY(current_schemas(false))",
                           (table,))
        return {r[0] for r in cur.fetchall()}

    def check(self, conn: Any, required: dict[str, tuple[str, ...]] | None = None) -> None:
        """SourceError naming what is missing when the tables are not kamailio.cfg's
        (or those `required`)."""
        for table, needed in (REQUIRED if required is None else required).items():
            have = self.columns(conn, table)
            if not have:
                raise SourceError(BAD_DATA, f"{self.setting} {self.shown}: no table {table}: "
                                            "create the tables with integrations/kamailio/schema")
            missing = [c for c in needed if c not in have]
            if missing:
                raise SourceError(BAD_DATA, f"{self.setting} {self.shown}: table {table} has "
                                            f"no column {', '.join(missing)}: create it with "
                                            "integrations/kamailio/schema (kamailio.cfg's extra "
                                            "columns)")

    def errors(self) -> tuple[type[BaseException], ...]:
        """The driver's errors (a lost connection, a query the server refused)."""
        if self.path is not None:
            return (sqlite3.Error,)
        import psycopg

        return (psycopg.Error,)

    def window(self, conn: Any, params: dict[str, float]) -> Any:
        return self.query(conn, WINDOW_SQL, params)

    def query(self, conn: Any, sql: str, params: dict[str, Any]) -> Any:
        """A cursor on `sql`, written with SQLite's :name placeholders."""
        if self.path is None:
            # psycopg's placeholders; '%' in LIKE patterns doubled.
            sql = sql.replace("%", "%%")
            for name in params:
                sql = sql.replace(f":{name}", f"%({name})s")
        return conn.execute(sql, params)


# -- the acc_json events, fetched into a spool -------------------------------------------

_SPOOL_SCHEMA = """
CREATE TABLE IF NOT EXISTS acc (
    method TEXT, callid TEXT, sip_code TEXT, sip_reason TEXT, time_s REAL, carrier TEXT,
    attempt INTEGER, t_inv REAL, t_18x REAL, dst TEXT, cli TEXT, fetched_at REAL,
    UNIQUE (callid, attempt));
CREATE INDEX IF NOT EXISTS acc_time ON acc (time_s);
-- acc_json does not tell a failed branch from a call's final outcome: both go to acc,
-- where the final one, the same attempt again, is ignored (UNIQUE). This stays empty.
CREATE TABLE IF NOT EXISTS missed_calls (
    method TEXT, callid TEXT, sip_code TEXT, sip_reason TEXT, time_s REAL, carrier TEXT,
    attempt INTEGER, t_inv REAL, t_18x REAL, dst TEXT, cli TEXT);
CREATE TABLE IF NOT EXISTS acc_cdrs (
    callid TEXT PRIMARY KEY, duration REAL, time_s REAL, fetched_at REAL);
CREATE INDEX IF NOT EXISTS acc_cdrs_time ON acc_cdrs (time_s);
-- Events that are not JSON objects: kept, and served for the validator to reject.
CREATE TABLE IF NOT EXISTS unreadable (queue TEXT, value TEXT, fetched_at REAL);
"""
SPOOL_COMMIT_EVERY = 200


class Spool:
    """Events fetched from Kamailio's mqueues, kept in a local SQLite file (mqueue.fetch
    takes them out of Kamailio for good) until their window has been read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.executescript(_SPOOL_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SourceError(CLIENT_ERROR, f"{SETTING}.spool {path}: cannot use it: {exc}"
                              ) from None

    def add(self, queue: str, value: Any, now: float) -> None:
        try:
            ev = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            ev = None
        if not isinstance(ev, dict):
            self.conn.execute("INSERT INTO unreadable VALUES (?, ?, ?)",
                              (queue, str(value), now))
        elif queue == "cdr_events":
            self.conn.execute("INSERT OR REPLACE INTO acc_cdrs VALUES (?, ?, ?, ?)",
                              (ev.get("callid"), ev.get("duration"), ev.get("time_s"), now))
        else:
            self.conn.execute(
                "INSERT OR IGNORE INTO acc VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ev.get("method"), ev.get("callid"), ev.get("sip_code"), ev.get("sip_reason"),
                 ev.get("time"), ev.get("carrier"), ev.get("attempt"), ev.get("t_inv"),
                 ev.get("t_18x"), ev.get("dst"), ev.get("cli"), now))

    def unreadable(self, since: float) -> list[str]:
        """Events fetched since `since` that are not JSON objects: served with the
        window (the poll that fetched them included) for the validator to reject."""
        return [r[0] for r in self.conn.execute(
            "SELECT value FROM unreadable WHERE fetched_at >= ?", (since,))]

    def prune(self, before: float, max_call_s: float) -> None:
        """Forget the events of attempts published before `before` (already read, the
        overlap included). An answered attempt is published with its CDR, or max_call
        after its answer when none comes: it stays until then."""
        with self.conn:
            self.conn.execute(
                "DELETE FROM acc WHERE time_s < :before AND (sip_code NOT LIKE '2%' "
                "OR callid IN (SELECT callid FROM acc_cdrs WHERE time_s < :before) "
                "OR (time_s < :before - :max_call "
                "    AND callid NOT IN (SELECT callid FROM acc_cdrs)))",
                {"before": before, "max_call": max_call_s})
            self.conn.execute("DELETE FROM acc_cdrs WHERE time_s < ?", (before,))
            self.conn.execute("DELETE FROM unreadable WHERE fetched_at < ?", (before,))

    def close(self) -> None:
        self.conn.close()


# -- JSON-RPC ---------------------------------------------------------------------------

class JsonRpc:
    """Kamailio's jsonrpcs over HTTP (xhttp)."""

    def __init__(self, url: str, settings: SourceSettings) -> None:
        parts = httpx.URL(url)
        if parts.scheme not in ("http", "https") or not parts.host:
            raise ValueError(f"{SETTING}.jsonrpc_url {redact_url(url)!r}: write it like "
                             "http://127.0.0.1:5071/RPC")
        self.url = url
        self.shown = redact_url(url)
        self.calls = 0
        self._http = httpx.Client(
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            follow_redirects=False, headers={"User-Agent": "noc-tui"})

    def call(self, method: str, *params: Any, ok_errors: tuple[int, ...] = ()) -> Any:
        """The result; None for a JSON-RPC error whose code is in ok_errors."""
        self.calls += 1
        body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": self.calls}
        where = f"{SETTING}.jsonrpc_url {self.shown}"
        try:
            resp = self._http.post(self.url, json=body)
        except httpx.TimeoutException:
            raise SourceError(UNREACHABLE, f"{where}: no answer in time to {method}") from None
        except httpx.TransportError as exc:
            raise SourceError(UNREACHABLE, f"{where}: cannot connect ({type(exc).__name__}): "
                                           "is Kamailio running with xhttp and jsonrpcs "
                                           "listening there?") from None
        try:
            answer = resp.json()
        except ValueError:
            raise SourceError(CLIENT_ERROR, f"{where}: HTTP {resp.status_code}, not JSON-RPC: "
                                            "is this Kamailio's /RPC address?") from None
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            if code in ok_errors:
                return None
            message = str(error.get("message"))[:200]
            if message == "Method Not Found":
                raise SourceError(CLIENT_ERROR, f"{where}: Kamailio has no {method} "
                                                "(a module of kamailio.cfg is not loaded)")
            raise SourceError(SERVER_ERROR, f"{where}: {method} failed: {code} {message}")
        if not isinstance(answer, dict) or "result" not in answer:
            raise SourceError(BAD_DATA, f"{where}: {method}: an answer with no result")
        return answer["result"]

    def close(self) -> None:
        self._http.close()


# -- the source -------------------------------------------------------------------------

class KamailioSource:
    """A Kamailio as the poller sees it (the Source protocol of sources/base.py)."""

    def __init__(self, settings: SourceSettings, *, state_path: Path | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.settings = settings
        k: KamailioSettings = settings.kamailio
        self.k = k
        self.cancel = cancel or threading.Event()
        self.requests_made = 0
        self.max_call_s = parse_duration(k.max_call)
        self.db: _Database | None = None
        self.rpc: JsonRpc | None = None
        self.overflowed: list[str] = []
        if k.accounting == "db":
            if not k.db_url:
                raise ValueError(f"{SETTING}.db_url is not set (accounting = \"db\")")
            self.db = _Database(k.db_url, settings.connect_timeout_s)
        elif k.accounting == "mqueue" and not k.jsonrpc_url:
            raise ValueError(f"{SETTING}.jsonrpc_url is not set (accounting = \"mqueue\")")
        if k.jsonrpc_url:
            self.rpc = JsonRpc(k.jsonrpc_url, settings)
        spool = k.spool or (Path(str(state_path) + ".kamailio-spool") if state_path else None)
        if k.accounting == "mqueue" and spool is None:
            raise ValueError(f"{SETTING}.spool is not set")
        self.spool_path = spool
        self._spool: Spool | None = None
        self._dests: list[Destination] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        if self.rpc is not None:
            self.rpc.close()
        if self._spool is not None:
            self._spool.close()

    def __enter__(self) -> KamailioSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def display_url(self) -> str:
        if self.k.accounting == "none":
            return f"kamailio {self.rpc.shown}" if self.rpc else "kamailio"
        where = (f"kamailio {self.db.shown}" if self.db is not None
                 else f"kamailio mqueue {self.rpc.shown if self.rpc else ''}")
        if self.db is not None and self.rpc is not None:
            where += f" + {self.rpc.shown}"
        return where

    def _rpc(self, method: str, *params: Any, ok_errors: tuple[int, ...] = ()) -> Any:
        assert self.rpc is not None
        self.requests_made += 1
        return self.rpc.call(method, *params, ok_errors=ok_errors)

    # -- listings ----------------------------------------------------------------------

    def destinations(self) -> list[Destination] | None:
        """Every dispatcher destination with its live state (None: no jsonrpc_url).
        Asked once per poll: the carriers listing reads the same answer."""
        if self.rpc is None:
            return None
        if self._dests is None:
            self._dests = destinations(self._rpc("dispatcher.list"))
        return self._dests

    def carriers(self) -> Iterator[Page]:
        dests = self.destinations()
        if dests is None:
            return
        yield _page("carriers", 1, carrier_records(dests), False)

    def contacts(self) -> Iterator[Page]:
        return iter(())

    def rates(self) -> Iterator[Page]:
        return iter(())

    def attempts(self, since_ms: int, until_ms: int) -> Iterator[Page]:
        """Attempts published in since <= t < until, in (published, call_id, seq) order.
        A page's last_started_at is the last item's publication time: where a poll
        killed mid-window resumes."""
        if self.k.accounting == "none":
            return
        params = {"since": since_ms / 1000, "until": until_ms / 1000,
                  "max_call": float(self.max_call_s)}
        extra: list[Any] = []
        if self.db is not None:
            conn = self.db.connect()
            self.requests_made += 1
            errors = self.db.errors()
            where = f"{SETTING}.db_url {self.db.shown}"
        else:
            spool = self._fetch_events()
            conn = spool.conn
            extra = spool.unreadable(params["since"])
            errors, where = (sqlite3.Error,), f"{SETTING}.spool {self.spool_path}"
        try:
            if self.db is not None:
                self.db.check(conn)
            yield from self._pages(self.db.window(conn, params) if self.db else
                                   conn.execute(WINDOW_SQL, params), extra)
        except errors as exc:
            first = str(exc).strip().splitlines()
            raise SourceError(SERVER_ERROR, f"{where}: reading the accounting failed: "
                                            f"{first[0] if first else type(exc).__name__}"
                              ) from None
        finally:
            if self.db is not None:
                conn.close()
        if self._spool is not None:
            # Kept a day beyond the window: the poller's overlap re-reads part of it.
            self._spool.prune(params["since"] - 86400, params["max_call"])
        if self.overflowed:
            raise SourceError(BAD_DATA, "; ".join(self.overflowed))

    def _pages(self, cur: Any, extra: list[Any]) -> Iterator[Page]:
        limit = self.settings.page_limit
        number = 0
        rows = cur.fetchmany(limit)
        while rows or extra:
            if self.cancel.is_set():
                raise SourceError(CANCELLED, "cancelled")
            following = cur.fetchmany(limit) if rows else []
            items: list[Any] = [attempt_record(r) for r in rows] + extra
            extra = []
            number += 1
            last = _time(rows[-1][-1]) if rows else None
            yield _page("attempts", number, items, bool(following), last)
            rows = following

    def _fetch_events(self) -> Spool:
        """Drain the acc_json queues into the spool; notes a queue found full."""
        assert self.spool_path is not None
        if self._spool is None:
            self._spool = Spool(self.spool_path)
        spool = self._spool
        sizes = self._rpc("mqueue.get_sizes")
        if not isinstance(sizes, list):
            raise SourceError(BAD_DATA, f"{SETTING}.jsonrpc_url: mqueue.get_sizes: not a list")
        known = {q.get("name"): q.get("size") for q in sizes if isinstance(q, dict)}
        for queue in QUEUES:
            if queue not in known:
                raise SourceError(CLIENT_ERROR, f"{SETTING}.jsonrpc_url: Kamailio has no "
                                                f"mqueue {queue}: start kamailio.cfg with "
                                                "-A WITH_ACC_JSON")
            size = known[queue]
            if isinstance(size, int) and size >= self.k.mqueue_size:
                self.overflowed.append(
                    f"Kamailio's mqueue {queue} was full ({size} events) when noc-tui came "
                    "to fetch it: it dropped its oldest events, so attempts are missing; "
                    "poll more often (noc-tui poll --follow, or poll.interval) or raise "
                    "MQUEUE_SIZE in kamailio.cfg "
                    f"and {SETTING}.mqueue_size")
        # Bounded: a Kamailio adding events faster than they are fetched cannot hold the
        # poll forever; the rest waits for the next poll.
        budget = 2 * self.k.mqueue_size
        for queue in QUEUES:
            pending = 0
            for _ in range(budget):
                if self.cancel.is_set():
                    raise SourceError(CANCELLED, "cancelled")
                got = self._rpc("mqueue.fetch", queue, ok_errors=(404,))
                if got is None:  # 404 Empty queue
                    break
                value = got.get("val") if isinstance(got, dict) else got
                spool.add(queue, value, time.time())
                pending += 1
                if pending >= SPOOL_COMMIT_EVERY:
                    spool.conn.commit()
                    pending = 0
            spool.conn.commit()
        return spool

