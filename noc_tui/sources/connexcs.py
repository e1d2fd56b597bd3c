"""ConnexCS source: a ConnexCS account's control-panel API, read as noc-tui's records.

Attempts come from the CDR, read in date-bounded windows (source.connexcs.cdr_window,
an hour by default) with at most four queries in flight (ConnexCS's own limit), by SQL
(setup/query/0/run, CSV or JSON) or by the structured CDR query (POST cdr). Carriers,
contacts and rate cards come from their listings. Every path, the SQL text and every
column or field mapping is configuration (config.py ConnexCSSettings); what is
documented by ConnexCS and what is a guess is in docs/sources/connexcs.md, and
`noc-tui doctor` shows an account's real shapes against them.

Answers come as bare JSON arrays, single objects, {"result": [...]}, CSV, or an HTML
page when something is wrong: all are read here. CDR times (dt) have no zone and are
UTC. Credentials (Basic, JWT or a pasted token) are sent, never written anywhere: every
message is redacted.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from noc_tui.records.timefmt import TimeFormatError, ms_to_iso, parse_duration, parse_iso
from noc_tui.sources.base import BAD_DATA, CANCELLED, UNAUTHORISED, Deadline, Page, SourceError
from noc_tui.sources.http import (
    Answer,
    Exchange,
    Redactor,
    Retry,
    basic_value,
    display_url,
    read_token_file,
)

if TYPE_CHECKING:
    from noc_tui.config import SourceSettings

DEFAULT_URL = "https://app.connexcs.com/api/cp/"
MAX_LIST_PAGES = 10_000  # pages of one listing: a server that never ends one is stopped
MIN_SPLIT_MS = 60_000  # a structured CDR window full at cdr_limit is halved down to this
_ENCODE = msgspec.json.Encoder()
_CSV_NULLS = ("", "\\N", "NULL")
_ERROR_KEYS = {"error", "message", "status", "code", "success"}
# A card rule's field the account does not give: what its absence means. The others
# (prefix, rate) must be given.
_RATE_DEFAULTS: dict[str, Any] = {"connect_fee": 0, "mcd_s": 0, "pulse_s": 1,
                                  "effective_from": "1970-01-01T00:00:00.000Z",
                                  "status": "active"}
_CARRIER_STATUS = {"active": "active", "enabled": "active", "1": "active", "true": "active",
                   "inactive": "inactive", "disabled": "inactive", "0": "inactive",
                   "false": "inactive", "pending": "pending"}
_BLOCKED = {"blocked", "block", "disabled", "inactive", "0", "false"}


# -- values as the record formats want them ---------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in _CSV_NULLS)


def _text(value: Any) -> Any:
    """A text field: None when empty, numbers as their digits."""
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, str) else str(value)


def _number(value: Any) -> Any:
    """An integer when it is one, else a real; a value that is not a number stays as it
    is, for validation to reject with its field and reason."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def utc_iso(value: Any) -> Any:
    """A CDR time as the record formats write it: `2026-11-01 12:00:00` (no zone: UTC,
    as ConnexCS writes dt), ISO 8601 with a zone, or Unix seconds."""
    if _blank(value):
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            dt = datetime.fromtimestamp(value, UTC)
        else:
            dt = parse_iso(str(value))
    except (TimeFormatError, ValueError, OverflowError, OSError):
        return value
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _digits(value: Any) -> Any:
    """A dialled number: `+44...` is written without its `+`."""
    text = _text(value)
    return text[1:] if isinstance(text, str) and text.startswith("+") else text


def _get(row: dict[str, Any], column: str) -> Any:
    return row.get(column) if column else None


def _put(rec: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        rec[key] = value


def attempt_record(row: dict[str, Any], columns: dict[str, str], seq_offset: int = 1,
                   pdd_zero_is_none: bool = True) -> dict[str, Any] | None:
    """One CDR row as an attempt record; None for a row no carrier was tried for (no
    provider: the call was refused before routing). A value the format cannot take is
    passed on as it is, so that validation quarantines the row with its reason."""
    c = columns
    carrier = _text(_get(row, c["carrier_id"]))
    if carrier is None or carrier == "0":
        return None
    rec: dict[str, Any] = {"call_id": _text(_get(row, c["call_id"])) or ""}
    seq = _number(_get(row, c["seq"]))
    rec["seq"] = seq + seq_offset if isinstance(seq, int) and not isinstance(seq, bool) else seq
    rec["carrier_id"] = carrier
    rec["started_at"] = utc_iso(_get(row, c["started_at"]))
    rec["dst"] = _digits(_get(row, c["dst"]))
    _put(rec, "cli", _text(_get(row, c["cli"])))
    rec["sip_code"] = _number(_get(row, c["sip_code"]))
    _put(rec, "sip_reason", _text(_get(row, c["sip_reason"])))
    pdd = _number(_get(row, c["pdd_ms"]))
    _put(rec, "pdd_ms", None if pdd == 0 and pdd_zero_is_none else pdd)
    duration = _number(_get(row, c["duration_s"]))
    rec["duration_s"] = 0 if duration is None else duration
    _put(rec, "release_reason", _text(_get(row, c["release_reason"])))
    return rec


def carrier_record(row: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": _text(_get(row, fields["id"])) or ""}
    _put(rec, "name", _text(_get(row, fields["name"])))
    status = _get(row, fields["status"])
    if not _blank(status):
        text = str(status).strip()
        rec["status"] = _CARRIER_STATUS.get(text.lower(), text)
    for key in ("channels", "cps"):
        _put(rec, key, _number(_get(row, fields[key])))
    _put(rec, "currency", _text(_get(row, fields["currency"])))
    if fields.get("halt_codes"):
        _put(rec, "halt_codes", _get(row, fields["halt_codes"]))
    return rec


def contact_record(row: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    rec: dict[str, Any] = {"carrier_id": _text(_get(row, fields["carrier_id"])) or "",
                           "name": _text(_get(row, fields["name"])) or ""}
    for key in ("role", "email", "phone", "notes"):
        _put(rec, key, _text(_get(row, fields.get(key, ""))))
    return rec


def rate_record(rule: dict[str, Any], card: dict[str, Any], carrier_id: str,
                fields: dict[str, str]) -> dict[str, Any]:
    """One rule of a card's active revision as a rate record. The card gives the
    carrier, its id, name and currency; a rule without a connection fee, minimum,
    increment, date or status has none, 0, 1 s, since ever and active."""
    rec: dict[str, Any] = {"carrier_id": carrier_id, "card_id": _text(card.get("id")) or "",
                           "card_name": _text(card.get("name")),
                           "prefix": _digits(_get(rule, fields["prefix"])),
                           "destination": _text(_get(rule, fields["destination"])),
                           "rate": _number(_get(rule, fields["rate"]))}
    for key in ("connect_fee", "mcd_s", "pulse_s"):
        value = _number(_get(rule, fields[key]))
        rec[key] = _RATE_DEFAULTS[key] if value is None else value
    eff = utc_iso(_get(rule, fields["effective_from"]))
    rec["effective_from"] = _RATE_DEFAULTS["effective_from"] if eff is None else eff
    status = _text(_get(rule, fields["status"]))
    rec["status"] = "blocked" if status is not None and status.lower() in _BLOCKED \
        else "active"
    rec["currency"] = _text(card.get("currency")) or ""
    return rec


# -- answers as rows -----------------------------------------------------------------------


def rows_of(body: bytes, what: str, csv_expected: bool = False) -> list[dict[str, Any]]:
    """The rows of an answer: a JSON array, one object, {"result": [...]} (or "data"),
    or CSV with a header. SourceError (bad data) for an HTML page or other shapes;
    ValueError for JSON cut short."""
    text = body.decode("utf-8", "replace").lstrip("\ufeff")
    head = text.lstrip()[:1]
    if head == "<":
        said = " ".join(text[:300].split())
        raise SourceError(BAD_DATA, f"{what}: the switch answered with an HTML page, not "
                                    f"data ({said[:120]!r}...): is source.url the account's "
                                    "API address (…/api/cp/)?")
    if head in ("[", "{"):
        doc = json.loads(text)
        if isinstance(doc, dict):
            for key in ("result", "data", "rows"):
                if isinstance(doc.get(key), list):
                    doc = doc[key]
                    break
        if isinstance(doc, dict) and doc and set(doc) <= _ERROR_KEYS and (
                isinstance(doc.get("error"), str) or isinstance(doc.get("message"), str)):
            # {"error": "..."} with a 200: an error, not one record.
            said = " ".join(str(doc.get("error") or doc.get("message")).split())
            raise SourceError(BAD_DATA, f"{what}: the switch answered an error: {said[:200]}")
        if isinstance(doc, dict):
            doc = [doc]
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise SourceError(BAD_DATA, f"{what}: expected JSON objects (an array, one "
                                        "object or {\"result\": [...]}), got something else")
        return doc
    if not text.strip():
        return []
    if not csv_expected and "," not in text.split("\n", 1)[0]:
        raise SourceError(BAD_DATA, f"{what}: the answer is neither JSON nor CSV "
                                    f"({' '.join(text[:80].split())!r}...)")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [{k: (None if v in _CSV_NULLS else v) for k, v in r.items() if k is not None}
            for r in reader]


def _jwt_exp(token: str) -> float | None:
    """The exp (Unix seconds) of a JWT, None when it has none or is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        pad = "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + pad))
        exp = claims.get("exp")
    except (ValueError, AttributeError):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def cdr_time(ms: int) -> str:
    """An instant as ConnexCS's CDR writes dt: UTC, to the second, no zone."""
    return ms_to_iso(ms)[:19].replace("T", " ")


class _AnyEvent:
    """Set when any of its events is: the poll's cancel or this source's own stop."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not self.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.events[0].wait(min(left, 0.05))
        return True


class _Tokens:
    """JWT mode: a refresh token (from Basic credentials) and the access tokens it gets,
    each renewed a little before its exp. Shared by the CDR threads."""

    def __init__(self, source: ConnexCSSource, clock: Callable[[], float]) -> None:
        self.source = source
        self.clock = clock
        self.lock = threading.Lock()
        self.refresh: tuple[str, float | None, float] | None = None  # token, exp, got at
        self.access: tuple[str, float | None, float] | None = None
        self.refusals = 0

    def _fresh(self, held: tuple[str, float | None, float] | None) -> bool:
        if held is None:
            return False
        _, exp, got = held
        if exp is None:
            return True  # no exp: used until the switch refuses it
        # Renewed a tenth of its life (at most a minute) before it ends.
        return self.clock() < exp - min(60.0, max(0.0, exp - got) / 10)

    def current(self) -> str:
        with self.lock:
            if not self._fresh(self.access):
                renewed = not self._fresh(self.refresh)
                if renewed:
                    self._renew_refresh()
                assert self.refresh is not None
                try:
                    token = self.source._new_access_token(self.refresh[0])
                except SourceError as exc:
                    if exc.kind != UNAUTHORISED or renewed:
                        raise
                    # The refresh token was refused before its exp (revoked): a new one.
                    self._renew_refresh()
                    token = self.source._new_access_token(self.refresh[0])
                self.access = (token, _jwt_exp(token), self.clock())
            assert self.access is not None
            return self.access[0]

    def _renew_refresh(self) -> None:
        token, exp = self.source._new_refresh_token()
        self.refresh = (token, exp, self.clock())

    def accepted(self) -> None:
        self.refusals = 0

    def refused(self, token: str) -> None:
        """The switch refused this access token (expired early, or revoked): the next
        request gets a new one; refused again, a new refresh token too."""
        with self.lock:
            if self.access is not None and self.access[0] == token:
                self.access = None
                self.refusals += 1
                if self.refusals >= 2:
                    self.refresh = None


class ConnexCSSource:
    """A ConnexCS account as the poller's Source. One per poll; its attempts listing
    runs up to source.connexcs.cdr_parallel CDR queries in threads.

    After the attempts are read, ``failures_recorded`` says whether the CDR holds
    failed attempts: True (some non-2xx rows), False (connected calls only), None (no
    rows to tell by). ``columns_seen`` holds the CDR columns the answers had;
    ``no_carrier`` counts the rows skipped for having no provider."""

    def __init__(
        self,
        settings: SourceSettings,
        *,
        url: str | None = None,
        token: str | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        retry_after_cap_s: float = 60.0,
        cancel: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        deadline: Deadline | None = None,
    ) -> None:
        self.settings = settings
        cx = self.cx = settings.connexcs
        base = httpx.URL(url or settings.url or DEFAULT_URL)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"bad ConnexCS URL {display_url(base)!r} (source.url): write "
                             f"it like {DEFAULT_URL}")
        if base.username or base.password:
            raise ValueError("source.url holds credentials: write them in source.username "
                             "and source.password instead")
        # Paths are relative to the API base: it must end with a slash to keep its path.
        if not base.path.endswith("/"):
            base = base.copy_with(path=base.path + "/")
        self.window_ms = parse_duration(cx.cdr_window) * 1000
        self.failures_recorded: bool | None = None
        self.columns_seen: set[str] = set()
        self.no_carrier = 0
        self._stop = threading.Event()
        self._cancel = cancel or threading.Event()
        self._count_lock = threading.Lock()

        secret = token or (settings.token.get_secret_value() if settings.token else None)
        if not secret and settings.token_file:
            secret = read_token_file(settings.token_file, "source.token_file")
        user = settings.username
        password = settings.password.get_secret_value() if settings.password else None
        mode = cx.auth
        if mode == "auto":
            mode = "token" if secret else "basic"
        if mode == "token" and not secret:
            raise ValueError("source.connexcs.auth is \"token\" but neither source.token nor "
                             "source.token_file is set")
        if mode in ("basic", "jwt") and not (user and password):
            raise ValueError(f"source.connexcs.auth is {mode!r}: set source.username and "
                             "source.password (a control-panel user), or source.token")
        self.auth_mode = mode
        redact = Redactor()
        redact.add(secret, password)
        if user and password:
            redact.add(basic_value(user, password))
        headers = {"Accept": "application/json"}
        if mode == "token":
            headers["Authorization"] = f"Bearer {secret}"
        self._basic = httpx.BasicAuth(user, password) if user and password else None
        self.x = Exchange(
            settings, base, headers=headers,
            redact=redact, backoff_base_s=backoff_base_s, backoff_cap_s=backoff_cap_s,
            retry_after_cap_s=retry_after_cap_s, transport=transport,
            cancel=_AnyEvent(self._cancel, self._stop),  # type: ignore[arg-type]
            deadline=deadline,
        )
        self._clock = clock
        self._tokens = _Tokens(self, clock) if mode == "jwt" else None

    # -- lifecycle -------------------------------------------------------------------

    @property
    def requests_made(self) -> int:
        return self.x.requests_made

    @property
    def display_url(self) -> str:
        return display_url(self.x.base_url)

    def close(self) -> None:
        self._stop.set()
        self.x.close()

    def __enter__(self) -> ConnexCSSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------

    def _hint(self) -> str:
        if self.auth_mode == "token":
            return "check source.token (a control-panel API token of this account)"
        return ("check source.username and source.password (a control-panel user with "
                "API access)")

    def _once(self, method: str, path: str, what: str, key: str,
              params: dict[str, Any] | None, json_body: Any) -> Answer:
        """One API call (a second and third with new tokens when JWTs expired early): a
        2xx answer, or Retry / SourceError."""
        answer: Answer | None = None
        for _ in range(3):
            token = self._tokens.current() if self._tokens is not None else None
            answer = self.x.send(
                method, path, what, params=params, json=json_body,
                headers={"Authorization": f"Bearer {token}"} if token else None,
                auth=self._basic if self.auth_mode == "basic" else None)
            if 200 <= answer.status < 300:
                if self._tokens is not None:
                    self._tokens.accepted()
                return answer
            if answer.status != 401 or token is None:
                break
            self._tokens.refused(token)  # type: ignore[union-attr]
        assert answer is not None
        hint = (f": is source.connexcs.{key} ({getattr(self.cx, key)!r}) right for this "
                "account? noc-tui doctor lists the paths the account has")
        raise self.x.refused(answer, what, unauthorised_hint=self._hint(), client_hint=hint)

    def call(self, method: str, path: str, what: str, key: str, *,
             params: dict[str, Any] | None = None, json_body: Any = None) -> Answer:
        """One API call with retries; a 2xx answer or SourceError. `key` names the
        setting holding the path, for the message when the path is wrong."""
        return self.x.retrying(lambda: self._once(method, path, what, key, params, json_body))

    def rows(self, method: str, path: str, what: str, key: str, *,
             params: dict[str, Any] | None = None, json_body: Any = None,
             csv_expected: bool = False) -> list[dict[str, Any]]:
        """The rows an API call answers (JSON in any of its shapes, or CSV); a body cut
        short is retried like a failed request."""

        def once() -> list[dict[str, Any]]:
            answer = self._once(method, path, what, key, params, json_body)
            try:
                return rows_of(answer.body, what, csv_expected)
            except (ValueError, csv.Error) as exc:
                raise Retry(BAD_DATA, f"{answer.where} answered {what} with something that "
                                      f"cannot be read ({type(exc).__name__}, "
                                      f"{len(answer.body)} bytes)") from None

        return self.x.retrying(once)

    def _new_refresh_token(self) -> tuple[str, float]:
        cx = self.cx
        body: dict[str, Any] = {"lifetime": cx.jwt_lifetime_s}
        if cx.jwt_audience:
            body["audience"] = cx.jwt_audience
        answer = self._token_call("POST", cx.jwt_refresh_path, body, self._basic,
                                  "a refresh token", "jwt_refresh_path")
        token = self._token_of(answer, "jwt_refresh_path")
        exp = _jwt_exp(token)
        return token, exp if exp is not None else self._clock() + cx.jwt_lifetime_s

    def _new_access_token(self, refresh: str) -> str:
        answer = self._token_call("GET", self.cx.jwt_access_path, None,
                                  _Bearer(refresh), "an access token", "jwt_access_path")
        return self._token_of(answer, "jwt_access_path")

    def _token_call(self, method: str, path: str, body: Any, auth: httpx.Auth | None,
                    what: str, key: str) -> Answer:
        def once() -> Answer:
            answer = self.x.send(method, path, what, json=body, auth=auth)
            if 200 <= answer.status < 300:
                return answer
            raise self.x.refused(answer, what, unauthorised_hint=(
                "check source.username and source.password (JWT mode gets its tokens "
                "with them)"), client_hint=f": check source.connexcs.{key}")

        return self.x.retrying(once)

    def _token_of(self, answer: Answer, key: str) -> str:
        try:
            token = json.loads(answer.body).get("token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise SourceError(UNAUTHORISED, f"{answer.where} gave no token (a JSON object "
                                            f"with 'token' was expected): check "
                                            f"source.connexcs.{key}")
        self.x.redact.add(token)
        return token

    # -- reference listings ------------------------------------------------------------

    def _listing(self, key: str, what: str) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list (_startRow/_endRow paging), until one comes short. A
        server that ignores the paging answers the same rows again: that ends it."""
        path = getattr(self.cx, key)
        size = self.settings.page_limit
        start = 0
        last: bytes | None = None
        for _ in range(MAX_LIST_PAGES):
            rows = self.rows("GET", path, what, key,
                             params={"_startRow": start, "_endRow": start + size})
            digest = _ENCODE.encode(rows)
            if digest == last:
                return
            last = digest
            yield rows
            if len(rows) != size:
                return
            start += size
        raise SourceError(BAD_DATA, f"{what}: more than {MAX_LIST_PAGES} pages")

    def _pages(self, kind: str, batches: Iterator[list[dict[str, Any]]]) -> Iterator[Page]:
        number = 0
        pending: list[dict[str, Any]] | None = None
        for records in batches:
            if pending is not None:
                number += 1
                yield _page(kind, number, pending, "more")
            pending = records
        number += 1
        yield _page(kind, number, pending or [], None)

    def carriers(self) -> Iterator[Page]:
        if not self.cx.carriers_path:
            return iter(())
        fields = self.cx.carrier_fields
        return self._pages("carriers", ([carrier_record(r, fields) for r in rows]
                                        for rows in self._listing("carriers_path",
                                                                  "the carrier list")))

    def contacts(self) -> Iterator[Page]:
        if not self.cx.contacts_path:
            return iter(())
        fields = self.cx.contact_fields
        return self._pages("contacts", ([contact_record(r, fields) for r in rows]
                                        for rows in self._listing("contacts_path",
                                                                  "the contact list")))

    def rates(self) -> Iterator[Page]:
        if not self.cx.cards_path:
            return iter(())
        return self._pages("rates", self._rate_batches())

    def cards(self) -> list[dict[str, Any]]:
        return [card for rows in self._listing("cards_path", "the rate card list")
                for card in rows]

    def _rate_batches(self) -> Iterator[list[dict[str, Any]]]:
        cx = self.cx
        size = self.settings.page_limit
        for card in self.cards():
            carrier = _text(card.get(cx.card_carrier_field))
            card_id = _text(card.get("id"))
            if carrier is None or carrier == "0" or card_id is None:
                continue  # a customer card, or one tied to no carrier
            rev = card.get("active_rev")
            if _blank(rev):
                one = self.rows("GET", cx.card_path.format(card_id=card_id),
                                f"rate card {card_id}", "card_path")
                card = {**card, **(one[0] if one else {})}
                rev = card.get("active_rev")
            if _blank(rev):
                continue  # no active revision: the card rates nothing
            path = cx.card_rules_path.format(card_id=card_id, rev=_text(rev))
            last: bytes | None = None
            for page in range(MAX_LIST_PAGES):
                rules = self.rows("GET", path, f"the rules of rate card {card_id} "
                                  f"revision {_text(rev)}", "card_rules_path",
                                  params={"limit": size, "offset": page * size})
                digest = _ENCODE.encode(rules)
                if digest == last:
                    break
                last = digest
                yield [rate_record(r, card, carrier, cx.rate_fields) for r in rules]
                if len(rules) != size:
                    break

    # -- attempts ---------------------------------------------------------------------

    def windows(self, since_ms: int, until_ms: int) -> list[tuple[int, int]]:
        """[since, until) cut at multiples of cdr_window."""
        out = []
        start = since_ms
        while start < until_ms:
            end = min(until_ms, (start // self.window_ms + 1) * self.window_ms)
            out.append((start, end))
            start = end
        return out

    def attempts(self, since_ms: int, until_ms: int) -> Iterator[Page]:
        """One page per CDR window, in time order; up to cdr_parallel windows are
        fetched at once, the next one asked for as each page is handed over."""
        wins = self.windows(since_ms, until_ms)
        parallel = self.cx.cdr_parallel
        connected = failed = 0
        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="connexcs-cdr")
        pending: deque[Future[list[dict[str, Any]]]] = deque()
        todo = iter(wins)
        try:
            for win in todo:
                pending.append(pool.submit(self._window_records, *win))
                if len(pending) >= parallel:
                    break
            number = 0
            while pending:
                records = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(self._window_records, *nxt))
                for r in records:
                    code = r.get("sip_code")
                    if isinstance(code, int) and 100 <= code <= 699:
                        if 200 <= code <= 299:
                            connected += 1
                        else:
                            failed += 1
                number += 1
                cursor = None if number == len(wins) else f"window {number + 1}"
                yield _page("attempts", number, records, cursor)
            if failed:
                self.failures_recorded = True
            elif connected:
                self.failures_recorded = False
        finally:
            self._stop.set()  # workers stop before their next request
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True)
            self._stop.clear()

    def _window_records(self, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        cx = self.cx
        records = []
        for row in self.cdr_rows(since_ms, until_ms):
            rec = attempt_record(row, cx.cdr_columns, cx.seq_offset, cx.pdd_zero_is_none)
            if rec is None:
                with self._count_lock:
                    self.no_carrier += 1
                continue
            at = rec["started_at"]
            # dt is to the second: the window asked is whole seconds around [since,
            # until); rows outside it belong to the windows before and after.
            if isinstance(at, str) and at[:1].isdigit() and len(at) == 24 and not (
                    ms_to_iso(since_ms) <= at < ms_to_iso(until_ms)):
                continue
            records.append(rec)
        records.sort(key=_order)
        return records

    def cdr_rows(self, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """The CDR rows with since <= dt < until (in whole seconds, rounded outwards),
        as the account answers them."""
        if self._stop.is_set() or self._cancel.is_set():
            raise SourceError(CANCELLED, "cancelled")
        cx = self.cx
        since_s = cdr_time(since_ms // 1000 * 1000)
        until_s = cdr_time(-(-until_ms // 1000) * 1000)
        span = f"{since_s} .. {until_s} UTC"
        if cx.cdr_mode == "sql":
            body: dict[str, Any] = {"_query": cx.cdr_query, "_src": "cdr", "since": since_s,
                                    "until": until_s}
            if cx.cdr_format == "csv":
                body["_format"] = "csv"
            rows = self.rows("POST", cx.query_path, f"the CDR query (source.connexcs."
                             f"cdr_query) for {span}", "query_path", json_body=body,
                             csv_expected=cx.cdr_format == "csv")
        else:
            rows = self._structured(since_ms, until_ms)
        for row in rows[:1]:
            with self._count_lock:
                self.columns_seen.update(row)
        return rows

    def _structured(self, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """POST cdr for [since, until); a window answered with cdr_limit rows may hold
        more, so it is read again in halves."""
        cx = self.cx
        dt = cx.cdr_columns["started_at"]
        since_s = cdr_time(since_ms // 1000 * 1000)
        until_s = cdr_time(-(-until_ms // 1000) * 1000)
        body = {"field": sorted({c for c in cx.cdr_columns.values() if c}),
                "where": {"rules": [{"field": dt, "condition": ">=", "data": since_s},
                                    {"field": dt, "condition": "<", "data": until_s}]},
                "limit": cx.cdr_limit, "order": [{"field": dt, "direction": "ASC"}]}
        rows = self.rows("POST", cx.cdr_path, f"the CDR search for {since_s} .. {until_s} "
                         "UTC", "cdr_path", json_body=body)
        if len(rows) < cx.cdr_limit:
            return rows
        if until_ms - since_ms <= MIN_SPLIT_MS:
            raise SourceError(BAD_DATA, f"the CDR search for {since_s} .. {until_s} UTC "
                                        f"answered {len(rows)} rows, source.connexcs.cdr_limit"
                                        ": there may be more; raise cdr_limit or use "
                                        "cdr_mode = \"sql\"")
        mid = (since_ms + until_ms) // 2 // 1000 * 1000
        return self._structured(since_ms, mid) + self._structured(mid, until_ms)


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def _order(rec: dict[str, Any]) -> tuple[str, str, int]:
    seq = rec.get("seq")
    return (str(rec.get("started_at")), str(rec.get("call_id")),
            seq if isinstance(seq, int) else 0)


def _page(kind: str, number: int, items: list[dict[str, Any]], cursor: str | None) -> Page:
    body = _ENCODE.encode({"items": items, "next_cursor": cursor}).decode()
    last = items[-1].get("started_at") if items and kind == "attempts" else None
    return Page(kind, number, body, len(items), cursor, len(body), last)
