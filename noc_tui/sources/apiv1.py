"""Client of the noc-tui switch API v1 (docs/switch-api.md).

One page is one HTTP request; pages are yielded one at a time so a caller never holds
more than a page of a window. Failures are classified into a few kinds an operator can
act on (``SourceError.kind``); transient ones are retried with exponential backoff and
jitter, authorisation failures never are (retrying a wrong token only hammers the
switch and can get the account locked). Secrets never appear in error messages.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import math
import random
import re
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from noc_tui.records.json_keys import top_level_repeat
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.sources.base import (
    BAD_DATA,
    CANCELLED,
    CLIENT_ERROR,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMED_OUT,
    UNAUTHORISED,
    UNREACHABLE,
    Deadline,
    Page,
    SourceError,
)
from noc_tui.sources.bounded_http import Cut, RequestClock, TooBig, bound_by, read_body

if TYPE_CHECKING:
    from noc_tui.config import SourceSettings

API_PREFIX = "/api/v1"
# Credentials as an Authorization header carries them, whatever the switch echoes back.
_AUTH_VALUE = re.compile(r"\b(Basic|Bearer|Digest|Token)(\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)

# Limits on what a page may hold, so that reading it stays cheap whatever is sent.
MAX_CURSOR_CHARS = 4096
MAX_EMPTY_PAGES = 100  # empty pages in a row, each with a new cursor: a switch looping
# Items on one page of a listing the switch does not page (carriers, contacts).
MAX_UNPAGED_ITEMS = 50_000
# Below this many commas per item allowed, counting the items by decoding them is safe
# (a decoded item costs ~72 bytes, whatever it is); above, they are counted first.
COMMAS_PER_ITEM = 16
ERROR_BODY_BYTES = 65_536  # of an error answer, read for its message
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')


def _too_many_items(body: bytes, most: int) -> bool:
    """Whether the page's items array may hold more than `most` items. A page with few
    commas for that many items is let through (decoding them is cheap, and their count
    is checked then); otherwise they are counted without building them (a page of a
    million tiny items is a memory bomb): the commas outside strings at the array's
    depth, stopping as soon as there are too many."""
    if body.count(b",") < COMMAS_PER_ITEM * most:
        return False
    depth = items = 0
    for m in _JSON_TOKEN.finditer(body):
        c = m.group()
        if c in (b"{", b"["):
            depth += 1
        elif c in (b"}", b"]"):
            depth -= 1
        elif c == b"," and depth == 2:  # between items (or other top-level arrays')
            items += 1
            if items >= most:
                return True
    return False


def _items_error(what: str, where: str, most: int, paged: bool) -> SourceError:
    return SourceError(BAD_DATA, f"{what} from {where} holds more than {most:,} items"
                       + (", the limit asked (source.page_limit)" if paged
                          else ", more than noc-tui takes in one listing"))


class _Shape(msgspec.Struct):
    """A page as far as the client reads it: the items stay raw JSON for the cache."""

    items: list[msgspec.Raw]
    next_cursor: Any = None


class _Last(msgspec.Struct):
    """The one field read of a page's last item (the others are skipped, not built)."""

    started_at: Any = None


_SHAPE = msgspec.json.Decoder(_Shape)
_LAST = msgspec.json.Decoder(_Last)


def _wrong_shape(kind: str, top: Any) -> SourceError:
    """The error for a page that is JSON, but not an object with an 'items' list."""
    if isinstance(top, bool):
        got = "true" if top else "false"
    else:
        got = {dict: "object", list: "array", str: "text", int: "integer",
               float: "real"}.get(type(top), "null")
    return SourceError(BAD_DATA, f"{kind}: expected a JSON object with an 'items' list, "
                                 f"got {got}")


def _shape(kind: str, body: bytes) -> tuple[int, str | None, Any, int]:
    """(item count, next cursor, last started_at, largest item's bytes) of a page;
    SourceError if the body is JSON of another shape, ValueError if it is not JSON (or
    cut short)."""
    largest = 0
    twice = top_level_repeat(body)
    if twice is not None:  # msgspec would keep the last 'items' or cursor without a word
        raise SourceError(BAD_DATA, f"{kind}: the page gives key {twice!r} twice")
    try:
        page = _SHAPE.decode(body)
        count, cursor = len(page.items), page.next_cursor
        largest = max(map(len, page.items), default=0)
        try:
            last = _LAST.decode(page.items[-1]).started_at if page.items else None
        except msgspec.ValidationError:  # not an object: a record problem, not the page's
            last = None
    except msgspec.ValidationError:
        top = msgspec.json.decode(body)  # DecodeError if it is not JSON after all
        raise _wrong_shape(kind, top) from None
    except msgspec.DecodeError:
        # msgspec refuses \\u escapes of lone surrogates, which Python's json reads:
        # such a page is JSON, and its odd record is quarantined on its own.
        top = json.loads(body)
        items = top.get("items") if isinstance(top, dict) else None
        if not isinstance(items, list):
            raise _wrong_shape(kind, top) from None
        count, cursor = len(items), top.get("next_cursor")
        last = items[-1].get("started_at") if items and isinstance(items[-1], dict) else None
    if cursor is not None and (not isinstance(cursor, str) or not cursor):
        raise SourceError(BAD_DATA, f"{kind}: next_cursor must be a non-empty string "
                                    "or null")
    if cursor is not None and len(cursor) > MAX_CURSOR_CHARS:
        raise SourceError(BAD_DATA, f"{kind}: next_cursor is {len(cursor):,} characters "
                                    f"long, more than the {MAX_CURSOR_CHARS:,} noc-tui takes")
    return count, cursor, last, largest


class _Retry(Exception):
    """A transient failure: retry after ``delay`` (None = use the backoff)."""

    def __init__(self, kind: str, message: str, delay: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.delay = delay
        self.status = status


def _basic(username: str, password: str) -> str:
    """user:password as a Basic Authorization header carries it."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def read_token_file(path: str | Path, setting: str) -> str:
    """The token in a file (surrounding whitespace dropped); ValueError naming the
    file and the setting when it cannot be used."""
    try:
        token = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ValueError(f"{setting} {path}: cannot read the token ({why})") from None
    if not token:
        raise ValueError(f"{setting} {path}: the file is empty; write the token in it")
    return token


def _display_url(url: httpx.URL) -> str:
    """The URL without credentials or query: safe for messages and logs."""
    return str(url.copy_with(username=None, password=None, query=None, fragment=None))


def _retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        secs = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        secs = when.timestamp() - time.time()
    return min(cap, max(0.0, secs))


class SourceClient:
    """API v1 client. Not thread-safe: use one per thread (the poller uses one per poll).

    ``cancel`` interrupts backoff waits and stops iteration between requests.
    ``requests_made`` counts HTTP requests sent (tests use it to prove there is no
    retry storm).
    """

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
        deadline: Deadline | None = None,
    ) -> None:
        base = url or settings.url
        if not base:
            raise ValueError("no switch URL configured")
        self.settings = settings
        self.base_url = httpx.URL(base.rstrip("/"))
        if self.base_url.scheme not in ("http", "https") or not self.base_url.host:
            raise ValueError(f"bad switch URL {_display_url(self.base_url)!r}: "
                             "write it like http://host:port or https://host")
        path = self.base_url.path.rstrip("/")
        # Accept the server root or the API base itself.
        self._prefix = "" if path.endswith(API_PREFIX) else API_PREFIX
        self.retries = settings.retries
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.retry_after_cap_s = retry_after_cap_s
        self.cancel = cancel or threading.Event()
        self.deadline = deadline  # the poll's, if any
        self.requests_made = 0
        self._rng = random.Random()
        self._clock = RequestClock()
        self._cap = int(settings.max_page_mb * 1_000_000)

        secret = token or (settings.token.get_secret_value() if settings.token else None)
        if not secret and settings.token_file:
            secret = read_token_file(settings.token_file, "source.token_file")
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip",
                   "User-Agent": "noc-tui"}
        auth: httpx.Auth | None = None
        self._secrets: list[str] = []
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
            self._secrets.append(secret)
        elif settings.username and settings.password:
            password = settings.password.get_secret_value()
            auth = httpx.BasicAuth(settings.username, password)
            self._secrets += [password, _basic(settings.username, password)]
        if self.base_url.password:
            # httpx sends a URL's user:password as basic auth.
            self._secrets += [self.base_url.password,
                              _basic(self.base_url.username, self.base_url.password)]

        verify: ssl.SSLContext | bool = settings.verify_tls
        if settings.verify_tls and settings.ca_bundle:
            verify = ssl.create_default_context(cafile=str(settings.ca_bundle))
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            auth=auth,
            verify=verify,
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            transport=transport,
            follow_redirects=False,  # a redirect could carry the token elsewhere
        )
        bound_by(self._http, self._clock)

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def display_url(self) -> str:
        return _display_url(self.base_url)

    # -- listings --------------------------------------------------------------------

    def carriers(self) -> Iterator[Page]:
        return self.pages("carriers", {})

    def contacts(self) -> Iterator[Page]:
        return self.pages("contacts", {})

    def rates(self, limit: int | None = None) -> Iterator[Page]:
        return self.pages("rates", {"limit": limit or self.settings.page_limit})

    def attempts(self, since_ms: int, until_ms: int, limit: int | None = None) -> Iterator[Page]:
        """Attempts with since <= started_at < until, in (started_at, call_id, seq) order."""
        return self.pages("attempts", {"since": ms_to_iso(since_ms), "until": ms_to_iso(until_ms),
                                       "limit": limit or self.settings.page_limit})

    # The inbound listings (issue 15); an older switch answers 404 for them.

    def trunk_groups(self, limit: int | None = None) -> Iterator[Page]:
        return self.pages("trunk_groups", {"limit": limit or self.settings.page_limit})

    def dids(self, limit: int | None = None) -> Iterator[Page]:
        return self.pages("dids", {"limit": limit or self.settings.page_limit})

    def registrations(self, since_ms: int, until_ms: int, limit: int | None = None
                      ) -> Iterator[Page]:
        """Registration events with since <= at < until."""
        return self.pages("registrations", self._window(since_ms, until_ms, limit))

    def deliveries(self, since_ms: int, until_ms: int, limit: int | None = None
                   ) -> Iterator[Page]:
        """The attempts of the deliveries whose first attempt started in [since, until)."""
        return self.pages("deliveries", self._window(since_ms, until_ms, limit))

    def _window(self, since_ms: int, until_ms: int, limit: int | None) -> dict[str, Any]:
        return {"since": ms_to_iso(since_ms), "until": ms_to_iso(until_ms),
                "limit": limit or self.settings.page_limit}

    def pages(self, kind: str, params: dict[str, Any]) -> Iterator[Page]:
        """Follow next_cursor until the listing ends; one request per page. No error
        leaves with a credential in its text."""
        try:
            yield from self._pages(kind, params)
        except SourceError as exc:
            raise SourceError(exc.kind, self._redact(exc.message), exc.status) from None

    def _pages(self, kind: str, params: dict[str, Any]) -> Iterator[Page]:
        cursor: str | None = None
        # Digests of the cursors given: a repeated one would loop forever. Digests, not
        # the cursors: a switch handing out long new cursors must not fill memory.
        seen: set[bytes] = set()
        number = empty = 0
        while True:
            if self.cancel.is_set():
                raise SourceError(CANCELLED, "cancelled")
            query = dict(params)
            if cursor is not None:
                query["cursor"] = cursor
            number += 1
            body, size, (count, cursor, last, largest) = self._get_page(kind, query, number)
            yield Page(kind, number, body, count, cursor, size, last, largest)
            if cursor is None:
                return
            digest = hashlib.blake2b(cursor.encode("utf-8", "surrogatepass"),
                                     digest_size=16).digest()
            if digest in seen:
                raise SourceError(BAD_DATA, f"{kind}: the switch repeated cursor {cursor[:40]!r}")
            seen.add(digest)
            empty = empty + 1 if count == 0 else 0
            if empty >= MAX_EMPTY_PAGES:
                raise SourceError(BAD_DATA, f"{kind}: the switch sent {empty} empty pages in "
                                            "a row, each with a new cursor; noc-tui stops "
                                            f"there (its limit is {MAX_EMPTY_PAGES})")

    # -- one request, with retries --------------------------------------------------

    def _get_page(self, kind: str, params: dict[str, Any], number: int
                  ) -> tuple[bytes, int, tuple[int, str | None, Any, int]]:
        attempt = 0
        while True:
            self._check_deadline(f"asking for {kind} page {number}")
            try:
                return self._once(kind, params, number)
            except _Retry as exc:
                if attempt >= self.retries:
                    raise SourceError(
                        exc.kind,
                        self._redact(f"{exc.message} (gave up after {attempt + 1} tries)"),
                        exc.status,
                    ) from None
                delay = exc.delay
                if delay is None:
                    # Exponential backoff, "equal jitter": never zero, never synchronised.
                    step = min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)
                    delay = step / 2 + self._rng.uniform(0, step / 2)
                attempt += 1
                if self.deadline is not None:
                    delay = min(delay, max(0.0, self.deadline.left()))
                # wait() returns early when cancelled: a cancelled poll stops promptly.
                if self.cancel.wait(delay):
                    raise SourceError(CANCELLED, "cancelled") from None

    def _check_deadline(self, doing: str) -> None:
        if self.deadline is not None and self.deadline.passed():
            raise self.deadline.error(doing)

    def _once(self, kind: str, params: dict[str, Any], number: int
              ) -> tuple[bytes, int, tuple[int, str | None, Any, int]]:
        path = f"{self._prefix}/{kind}"
        where = f"{self.display_url}{path}"
        what = f"{kind} page {number}"
        self.requests_made += 1
        # The request's own deadline, within the poll's.
        end = time.monotonic() + self.settings.request_deadline_s
        poll_ends_first = self.deadline is not None and self.deadline.at < end
        self._clock.end = min(end, self.deadline.at) if self.deadline is not None else end
        got = 0
        try:
            with self._http.stream("GET", path, params=params) as resp:
                status = resp.status_code
                if status != 200:
                    self._refused(resp, status, where)
                body = read_body(resp, self._cap, self._clock)
                got = len(body)
        except TooBig as exc:
            raise SourceError(BAD_DATA, f"{what} from {where} is over the "
                                        f"{self.settings.max_page_mb:g} MB limit once "
                                        f"decompressed ({exc.args[0]:,} bytes and more; "
                                        "source.max_page_mb): lower source.page_limit (now "
                                        f"{self.settings.page_limit:,}) so that pages are "
                                        "smaller, or raise source.max_page_mb") from None
        except Cut as exc:
            # A body cut short also lands here: worth another try.
            raise _Retry(BAD_DATA, f"{where} sent {what} that cannot be read: {exc}") from None
        except httpx.TimeoutException as exc:
            if self._clock.passed():
                if poll_ends_first:
                    raise self.deadline.error(f"reading {what}") from None  # type: ignore[union-attr]
                raise _Retry(TIMED_OUT, f"{what} from {where} took longer than "
                                        "source.request_deadline_s = "
                                        f"{self.settings.request_deadline_s:g} s") from None
            raise _Retry(UNREACHABLE, f"no answer from {where} in time "
                                      f"({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            # Refused, reset, or cut off mid-body (RemoteProtocolError): all transient.
            raise _Retry(UNREACHABLE, f"cannot read from {where}: "
                                      f"{self._redact(str(exc)) or type(exc).__name__}") from None
        finally:
            self._clock.end = math.inf
        paged = "limit" in params
        most = int(params["limit"]) if paged else MAX_UNPAGED_ITEMS
        if _too_many_items(body, most):
            raise _items_error(what, where, most, paged)
        try:
            shape = _shape(kind, body)
        except ValueError:  # msgspec.DecodeError or json's
            raise _Retry(BAD_DATA, f"{where} answered with something that is not JSON "
                                   f"({got} bytes)") from None
        if shape[0] > most:
            raise _items_error(what, where, most, paged)
        return body, got, shape

    def _refused(self, resp: httpx.Response, status: int, where: str) -> None:
        """Raise the error for an answer other than 200."""
        try:
            said = self._server_says(read_body(resp, ERROR_BODY_BYTES, self._clock, utf8=False))
        except (TooBig, Cut):
            said = ""
        if status in (401, 403):
            raise SourceError(UNAUTHORISED, f"the switch refused the credentials (HTTP {status}"
                                            f"{said}): check source.token, source.token_file "
                                            "or source.username/password", status)
        if status == 429 or status >= 500:
            kind = RATE_LIMITED if status == 429 else SERVER_ERROR
            delay = _retry_after(resp.headers.get("Retry-After"), self.retry_after_cap_s)
            raise _Retry(kind, f"HTTP {status} from {where}{said}", delay, status)
        raise SourceError(CLIENT_ERROR, f"HTTP {status} from {where}{said}"
                                        ": is source.url the switch's API v1 address?", status)

    def _server_says(self, body: bytes) -> str:
        """The server's own error text, short and with any secret removed."""
        try:
            err = json.loads(body).get("error")
        except Exception:
            return ""
        if not isinstance(err, str) or not err:
            return ""
        return f": {self._redact(err)[:200]}"

    def _redact(self, text: str) -> str:
        """The text without any credential: those this client sends, in clear or as the
        header carries them, and anything written like an Authorization value."""
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return _AUTH_VALUE.sub(r"\1\2***", text)
