"""Client of the noc-tui switch API v1 (docs/switch-api.md).

One page is one HTTP request; pages are yielded one at a time so a caller never holds
more than a page of a window, and what a page may hold is bounded. The requests
themselves (the request's and the poll's deadlines, the body cap, failures classified
into kinds an operator can act on, retries with backoff and jitter, never for refused
credentials, secrets redacted from every message) are sources/http.py's.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from noc_tui.records.json_keys import top_level_repeat
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.sources.base import (
    BAD_DATA,
    CANCELLED,
    Deadline,
    Page,
    SourceError,
)
from noc_tui.sources.http import (
    Exchange,
    Redactor,
    Retry,
    basic_value,
    display_url,
    read_token_file,
)

if TYPE_CHECKING:
    from noc_tui.config import SourceSettings

API_PREFIX = "/api/v1"

# Limits on what a page may hold, so that reading it stays cheap whatever is sent.
MAX_CURSOR_CHARS = 4096
MAX_EMPTY_PAGES = 100  # empty pages in a row, each with a new cursor: a switch looping
# Items on one page of a listing the switch does not page (carriers, contacts).
MAX_UNPAGED_ITEMS = 50_000
# Below this many commas per item allowed, counting the items by decoding them is safe
# (a decoded item costs ~72 bytes, whatever it is); above, they are counted first.
COMMAS_PER_ITEM = 16
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
            raise ValueError(f"bad switch URL {display_url(self.base_url)!r}: "
                             "write it like http://host:port or https://host")
        path = self.base_url.path.rstrip("/")
        # Accept the server root or the API base itself.
        self._prefix = "" if path.endswith(API_PREFIX) else API_PREFIX

        secret = token or (settings.token.get_secret_value() if settings.token else None)
        if not secret and settings.token_file:
            secret = read_token_file(settings.token_file, "source.token_file")
        headers = {"Accept": "application/json"}
        auth: httpx.Auth | None = None
        redact = Redactor()
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
            redact.add(secret)
        elif settings.username and settings.password:
            password = settings.password.get_secret_value()
            auth = httpx.BasicAuth(settings.username, password)
            redact.add(password, basic_value(settings.username, password))
        if self.base_url.password:
            # httpx sends a URL's user:password as basic auth.
            redact.add(self.base_url.password,
                       basic_value(self.base_url.username, self.base_url.password))
        self.x = Exchange(settings, self.base_url, headers=headers, auth=auth, redact=redact,
                          backoff_base_s=backoff_base_s, backoff_cap_s=backoff_cap_s,
                          retry_after_cap_s=retry_after_cap_s, cancel=cancel,
                          transport=transport, deadline=deadline)
        self.cancel = self.x.cancel
        self.deadline = deadline  # the poll's, if any
        self._http = self.x.http  # the httpx client, for a look at the raw answers

    # -- lifecycle -------------------------------------------------------------------

    @property
    def requests_made(self) -> int:
        return self.x.requests_made

    def close(self) -> None:
        self.x.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def display_url(self) -> str:
        return display_url(self.base_url)

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
            raise SourceError(exc.kind, self.x.redact(exc.message), exc.status) from None

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
        return self.x.retrying(lambda: self._once(kind, params, number),
                               doing=f"asking for {kind} page {number}")

    def _once(self, kind: str, params: dict[str, Any], number: int
              ) -> tuple[bytes, int, tuple[int, str | None, Any, int]]:
        path = f"{self._prefix}/{kind}"
        what = f"{kind} page {number}"
        answer = self.x.send("GET", path, what, params=params, utf8=True, too_big=(
            f"lower source.page_limit (now {self.settings.page_limit:,}) so that pages are "
            "smaller, or raise source.max_page_mb"))
        where = answer.where
        if answer.status != 200:
            raise self.x.refused(answer, what, unauthorised_hint=(
                "check source.token, source.token_file or source.username/password"),
                client_hint=": is source.url the switch's API v1 address?")
        body = answer.body
        paged = "limit" in params
        most = int(params["limit"]) if paged else MAX_UNPAGED_ITEMS
        if _too_many_items(body, most):
            raise _items_error(what, where, most, paged)
        try:
            shape = _shape(kind, body)
        except ValueError:  # msgspec.DecodeError or json's
            # A truncated body also lands here: worth another try.
            raise Retry(BAD_DATA, f"{where} answered with something that is not JSON "
                                  f"({len(body)} bytes)") from None
        if shape[0] > most:
            raise _items_error(what, where, most, paged)
        return body, len(body), shape
