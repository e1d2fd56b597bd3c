"""What every HTTP source shares: one request bounded in time and size, its failure
classified into the kinds of sources.base, retries with backoff, and no secret in any
message.

Transient failures (no answer, a connection cut, 429, 5xx, a body cut short) are
retried with exponential backoff and "equal jitter", or after the server's Retry-After;
authorisation failures never are (retrying wrong credentials only hammers the switch
and can get the account locked). Every request has a wall-clock deadline over connect,
headers and body (source.request_deadline_s) and a cap on its decompressed body
(source.max_page_mb): see bounded_http. Safe to use from several threads at once.
"""

from __future__ import annotations

import base64
import email.utils
import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

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
    SourceError,
)
from noc_tui.sources.bounded_http import Cut, RequestClock, TooBig, bound_by, read_body

if TYPE_CHECKING:
    from noc_tui.config import SourceSettings

T = TypeVar("T")
ERROR_BODY_BYTES = 65_536  # of an error answer, read for its message
# Credentials as an Authorization header carries them, whatever the switch echoes back.
# At least 8 characters: "token or ..." in a message is not a credential.
_AUTH_VALUE = re.compile(r"\b(Basic|Bearer|Digest|Token)(\s+)[A-Za-z0-9._~+/=-]{8,}",
                         re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


class Retry(Exception):
    """A transient failure: retry after ``delay`` (None = use the backoff)."""

    def __init__(self, kind: str, message: str, delay: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.delay = delay
        self.status = status


def display_url(url: httpx.URL) -> str:
    """The URL without credentials or query: safe for messages and logs."""
    return str(url.copy_with(username=None, password=None, query=None, fragment=None))


def retry_after(value: str | None, cap: float) -> float | None:
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


def basic_value(username: str, password: str) -> str:
    """What an Authorization: Basic header carries for these credentials."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


class Redactor:
    """Removes the secrets a client sends from any text, in clear or as the header
    carries them, and anything written like an Authorization value."""

    def __init__(self) -> None:
        self._secrets: list[str] = []

    def add(self, *secrets: str | None) -> None:
        self._secrets += [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _AUTH_VALUE.sub(r"\1\2***", text)


def tls_verify(settings: SourceSettings) -> ssl.SSLContext | bool:
    if settings.verify_tls and settings.ca_bundle:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    return settings.verify_tls


class _ThreadClock(RequestClock):
    """A RequestClock per thread: requests in flight at once keep their own deadlines."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property  # type: ignore[override]
    def end(self) -> float:
        return getattr(self._local, "end", float("inf"))

    @end.setter
    def end(self, value: float) -> None:
        self._local.end = value


@dataclass(frozen=True)
class Answer:
    """A response read whole (within the caps)."""

    status: int
    headers: httpx.Headers
    body: bytes
    where: str  # the URL asked, for messages

    def server_says(self, redact: Callable[[str], str]) -> str:
        """The server's own error text, short, on one line, without secrets: a JSON
        {"error"|"message": ...}, an HTML page's title, or the start of plain text."""
        return server_says(self.body, redact)


def server_says(body: bytes, redact: Callable[[str], str]) -> str:
    text = ""
    try:
        import json

        doc = json.loads(body)
        if isinstance(doc, dict):
            for key in ("error", "message", "msg"):
                if isinstance(doc.get(key), str) and doc[key]:
                    text = doc[key]
                    break
    except ValueError:
        head = body[:4096]
        title = _TITLE.search(head)
        if title:
            text = title.group(1).decode("utf-8", "replace")
        elif b"<" not in head[:200]:
            text = head.decode("utf-8", "replace")
        else:
            text = _TAGS.sub(" ", head.decode("utf-8", "replace"))
    text = " ".join(text.split())
    return f": {redact(text)[:200]}" if text else ""


class Exchange:
    """An httpx client for one source, with the request deadline, the body cap, the
    redaction of its secrets and the retry policy; every request and wait also ends by
    the poll's `deadline`, when given. ``requests_made`` counts requests sent (tests
    prove there is no retry storm)."""

    def __init__(
        self,
        settings: SourceSettings,
        base_url: httpx.URL,
        *,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        redact: Redactor | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        retry_after_cap_s: float = 60.0,
        cancel: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.settings = settings
        self.deadline = deadline
        self.base_url = base_url
        self.redact = redact or Redactor()
        self.retries = settings.retries
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.retry_after_cap_s = retry_after_cap_s
        self.cancel = cancel or threading.Event()
        self.cap = int(settings.max_page_mb * 1_000_000)
        self._count_lock = threading.Lock()
        self._requests = 0
        self._rng = random.Random()
        self._clock = _ThreadClock()
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Accept-Encoding": "gzip", "User-Agent": "noc-tui", **(headers or {})},
            auth=auth,
            verify=tls_verify(settings),
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            transport=transport,
            follow_redirects=False,  # a redirect could carry the credentials elsewhere
        )
        bound_by(self.http, self._clock)

    @property
    def requests_made(self) -> int:
        return self._requests

    def close(self) -> None:
        self.http.close()

    def url_of(self, path: str) -> str:
        """The URL a path is asked at, as httpx merges it with the base (whose path ends
        with a slash): the base, then the path."""
        return display_url(self.http.base_url) + path.lstrip("/")

    # -- one request ---------------------------------------------------------------------

    def send(self, method: str, path: str, what: str, *, params: dict[str, Any] | None = None,
             json: Any = None, headers: dict[str, str] | None = None,
             auth: httpx.Auth | None = None, utf8: bool = False,
             too_big: str = "ask for less at a time, or raise source.max_page_mb") -> Answer:
        """One request, its body read whole (checked to be UTF-8 when `utf8`): any
        status is returned; Retry for what is worth another try (no answer, cut short,
        past the request's deadline), SourceError for a body over the cap (`too_big`
        says what to do) or past the poll's deadline."""
        where = self.url_of(path)
        with self._count_lock:
            self._requests += 1
        # The request's own deadline, within the poll's.
        end = time.monotonic() + self.settings.request_deadline_s
        poll_ends_first = self.deadline is not None and self.deadline.at < end
        self._clock.end = min(end, self.deadline.at) if self.deadline is not None else end
        extra: dict[str, Any] = {} if auth is None else {"auth": auth}
        try:
            with self.http.stream(method, path, params=params, json=json, headers=headers,
                                  **extra) as resp:
                ok = resp.status_code < 300
                try:
                    body = read_body(resp, self.cap if ok else ERROR_BODY_BYTES, self._clock,
                                     utf8=utf8 and ok)
                except TooBig as exc:
                    if not ok:
                        body = b""  # a huge error page: its status says enough
                    else:
                        raise SourceError(
                            BAD_DATA, f"{what} from {where} is over the "
                            f"{self.settings.max_page_mb:g} MB limit once decompressed "
                            f"({exc.args[0]:,} bytes and more; source.max_page_mb): "
                            f"{too_big}") from None
                return Answer(resp.status_code, resp.headers, body, where)
        except httpx.InvalidURL as exc:
            raise SourceError(CLIENT_ERROR, f"{what}: {path!r} cannot be asked ({exc})") from None
        except Cut as exc:
            raise Retry(BAD_DATA, f"{where} sent {what} that cannot be read: {exc}") from None
        except httpx.TimeoutException as exc:
            if self._clock.passed():
                if poll_ends_first:
                    raise self.deadline.error(f"reading {what}") from None  # type: ignore[union-attr]
                raise Retry(TIMED_OUT, f"{what} from {where} took longer than "
                                       "source.request_deadline_s = "
                                       f"{self.settings.request_deadline_s:g} s") from None
            raise Retry(UNREACHABLE, f"no answer from {where} in time "
                                     f"({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            # Refused, reset, TLS refused, or cut off mid-body: all transient.
            raise Retry(UNREACHABLE, f"cannot read from {where}: "
                                     f"{self.redact(str(exc)) or type(exc).__name__}") from None
        finally:
            self._clock.end = float("inf")

    def refused(self, answer: Answer, what: str, *, unauthorised_hint: str,
                client_hint: str = "") -> SourceError | Retry:
        """The error for an answer other than 2xx: 401/403 unauthorised (never retried),
        429 and 5xx retried (after Retry-After when given), another status a client
        error with the hint."""
        status = answer.status
        said = answer.server_says(self.redact)
        if status in (401, 403):
            return SourceError(UNAUTHORISED, f"{what}: the switch refused the credentials "
                                             f"(HTTP {status}{said}): {unauthorised_hint}",
                               status)
        if status == 429 or status >= 500:
            kind = RATE_LIMITED if status == 429 else SERVER_ERROR
            delay = retry_after(answer.headers.get("Retry-After"), self.retry_after_cap_s)
            return Retry(kind, f"HTTP {status} from {answer.where} for {what}{said}", delay,
                         status)
        return SourceError(CLIENT_ERROR, f"HTTP {status} from {answer.where} for {what}{said}"
                                         f"{client_hint}", status)

    # -- retries ---------------------------------------------------------------------------

    def retrying(self, once: Callable[[], T], doing: str = "waiting for the switch") -> T:
        """``once()`` until it returns, retrying what raises Retry up to source.retries
        times; the last failure as a SourceError; the poll's deadline ends it (`doing`
        says what was under way then). No message leaves with a secret."""
        attempt = 0
        while True:
            if self.cancel.is_set():
                raise SourceError(CANCELLED, "cancelled")
            if self.deadline is not None and self.deadline.passed():
                raise self.deadline.error(doing)
            try:
                return once()
            except SourceError as exc:
                raise SourceError(exc.kind, self.redact(exc.message), exc.status) from None
            except Retry as exc:
                if attempt >= self.retries:
                    raise SourceError(
                        exc.kind,
                        self.redact(f"{exc.message} (gave up after {attempt + 1} tries)"),
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
