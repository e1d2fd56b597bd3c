"""The demo switch: noc-tui switch API v1 over HTTP, served from the traffic simulator.

Standard library only (ThreadingHTTPServer): the API is eight GET endpoints. Attempts
come from the switch's store (store.py): simulated and formatted once, then served by
slicing pre-rendered JSON and pre-compressed segments.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hmac
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from noc_tui.demo_switch.faults import Faults
from noc_tui.demo_switch.inbound import INBOUND_SHARE, InboundSimulator
from noc_tui.demo_switch.simulator import DEFAULT_CALLS_PER_MIN, Simulator
from noc_tui.demo_switch.store import AttemptStore, Page
from noc_tui.records.timefmt import TimeFormatError, iso_to_ms, now_ms

log = logging.getLogger(__name__)

API_VERSION = "v1"
DEFAULT_LIMIT = 5000
MAX_LIMIT = 50_000
GZIP_MIN_BYTES = 1024  # below this, compressing costs more than it saves
PREFETCH_FRESH_MS = 1000
# Path -> DemoSwitch.page_<name>. The schema test checks these against the docs.
ROUTES: dict[str, str] = {
    "/api/v1/carriers": "carriers",
    "/api/v1/contacts": "contacts",
    "/api/v1/rates": "rates",
    "/api/v1/attempts": "attempts",
    "/api/v1/trunk_groups": "trunk_groups",
    "/api/v1/dids": "dids",
    "/api/v1/registrations": "registrations",
    "/api/v1/deliveries": "deliveries",
}


class Payload:
    """A response body, with its gzip form made at most once (static endpoints are
    compressed once; a prefetched page is compressed ahead of the request)."""

    __slots__ = ("_gz", "_raw")

    def __init__(self, raw: bytes | None) -> None:
        self._raw = raw
        self._gz: bytes | None = None

    @property
    def raw(self) -> bytes:
        assert self._raw is not None
        return self._raw

    def size(self) -> int:
        return len(self.raw)

    def encoded(self, gzip_ok: bool) -> tuple[bytes, bool]:
        """(body to send, whether it is gzipped): gzip when the client takes it and the
        body is big enough to gain from it."""
        if gzip_ok and self.size() >= GZIP_MIN_BYTES:
            return self.gzipped(), True
        return self.raw, False

    def gzipped(self) -> bytes:
        if self._gz is None:
            # Level 1: on loopback and LANs speed matters more than the last few bytes.
            self._gz = gzip.compress(self.raw, compresslevel=1, mtime=0)
        return self._gz


class _PagePayload(Payload):
    """An attempts page from the store: each form is made only when asked for, the gzip
    one from the store's compressed segments, the plain one by inflating them."""

    __slots__ = ("_cursor", "_page", "_size")

    def __init__(self, page: Page, cursor: bytes) -> None:
        super().__init__(None)
        self._page = page
        self._cursor = cursor
        self._size = page.size(cursor)

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = self._page.body(self._cursor)
        return self._raw

    def size(self) -> int:
        return self._size

    def gzipped(self) -> bytes:
        if self._gz is None:
            self._gz = self._page.gzip_body(self._cursor)
        return self._gz


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def encode_cursor(key: list[Any]) -> str:
    """Opaque cursor: the last returned sort key, so the next page resumes just after it
    whatever was published meanwhile."""
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


BAD_CURSOR = "bad parameter 'cursor': not a cursor this API returned"


def decode_cursor(text: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, BAD_CURSOR) from exc
    if not isinstance(key, list):
        raise ApiError(400, BAD_CURSOR)
    return key


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a poller reuses one connection
    server_version = "noc-tui-demo-switch/1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
    # would stall every small response by ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- plumbing ----------------------------------------------------------------------

    def _send(self, status: int, payload: Payload, headers: dict[str, str] | None = None,
              drop: bool = False) -> None:
        body, gzipped = payload.encoded(_accepts_gzip(self.headers.get("Accept-Encoding")))
        if gzipped:
            headers = {**(headers or {}), "Content-Encoding": "gzip"}
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if drop:
            # Headers promise the whole body; send part of it and hang up.
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client may have gone already
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def _error(self, err: ApiError) -> None:
        body = json.dumps({"error": err.message}).encode()
        self._send(err.status, Payload(body), err.headers)

    def do_GET(self) -> None:
        switch = self.server.switch
        parts = urlsplit(self.path)
        route = ROUTES.get(parts.path.rstrip("/") or "/")
        fault: str | None = None
        try:
            if route is None:
                raise ApiError(404, f"no such endpoint: {parts.path}")
            switch.check_auth(self.headers.get("Authorization"))
            faults = switch.faults
            if faults.latency_ms > 0:
                faults.injected["latency"] += 1
                time.sleep(faults.latency_ms / 1000)
            fault, detail = faults.decide()
            if fault == "rate_limit":
                raise ApiError(429, f"rate limited: retry after {detail} s",
                               {"Retry-After": str(detail)})
            if fault == "error":
                raise ApiError(detail, "injected fault: the switch failed this request")
            params = _params(parts.query)
            gz = _accepts_gzip(self.headers.get("Accept-Encoding"))
            body = getattr(switch, "page_" + route)(params, gz)
        except ApiError as err:
            self._error(err)
            return
        except Exception:  # a bug must still answer JSON, not hang the client
            log.exception("demo switch failed on %s", parts.path)
            self._error(ApiError(500, "internal error"))
            return
        self._send(200, body, drop=fault == "drop")

    def _not_allowed(self) -> None:
        self._error(ApiError(405, f"method {self.command} not allowed: use GET",
                             {"Allow": "GET"}))

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed


def _accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip()
            if not q.startswith("q="):
                return True
            try:
                return float(q[2:]) > 0
            except ValueError:  # a malformed weight: be lenient, as most servers are
                return True
    return False


def _params(query: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if len(values) > 1:
            raise ApiError(400, f"bad parameter '{name}': given more than once")
        out[name] = values[0]
    return out


def _limit(params: dict[str, str]) -> int:
    text = params.get("limit")
    if text is None or text == "":
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"bad parameter 'limit': must be an integer from 1 to {MAX_LIMIT}")
    return limit


def _time(params: dict[str, str], name: str) -> int:
    text = params.get(name)
    if not text:
        raise ApiError(400, f"missing parameter '{name}': an ISO 8601 UTC time")
    try:
        return iso_to_ms(text)
    except TimeFormatError as exc:
        raise ApiError(400, f"bad parameter '{name}': {exc}") from exc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    switch: DemoSwitch

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response (a cancelled poll, an injected drop) is
        # routine for a switch; anything else is still reported.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class DemoSwitch:
    """The embedded demo switch: a simulator behind an API v1 HTTP server.

    ``start()`` binds (port 0 = a free port) and serves in a background thread; ``url``
    is then ``http://127.0.0.1:PORT``; ``stop()`` (or leaving the ``with`` block) shuts
    the server and its threads down. ``clock`` returns now in epoch ms (tests pass a fake
    one); ``start_ms`` fixes the simulator's start (history is the 35 days before it).
    ``faults`` (``switch.faults``) can be changed at any time. The inbound listings
    (inbound.py) carry ``deliveries_per_min`` (default: a share of ``calls_per_min``).

    >>> with DemoSwitch(seed=1) as sw:  # doctest: +SKIP
    ...     httpx.get(sw.url + "/api/v1/carriers")
    """

    def __init__(
        self,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        start_ms: int | None = None,
        clock: Callable[[], int] | None = None,
        calls_per_min: float | None = None,
        faults: Faults | None = None,
        deliveries_per_min: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.clock = clock or now_ms
        self.simulator = Simulator(
            seed=seed, start_ms=start_ms, clock=self.clock,
            calls_per_min=calls_per_min or DEFAULT_CALLS_PER_MIN,
        )
        self.faults = faults if faults is not None else Faults(seed=seed)
        self.store = AttemptStore(self.simulator)
        # The inbound side: a tenth or so of the carrier side's volume by default.
        self.inbound = InboundSimulator(
            seed, self.simulator.history_start_ms,
            deliveries_per_min or self.simulator.calls_per_min * INBOUND_SHARE, self.clock)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        sim = self.simulator
        # Static endpoints are formatted once.
        self._carriers = Payload(_json({"items": sim.carriers()}))
        self._contacts = Payload(_json({"items": sim.contacts()}))
        # Speculative prefetch: while a client digests one attempts page, the next one
        # (its cursor is known) is built in the background, so a poller in another
        # process overlaps with the switch instead of waiting for it (most useful while
        # the store is still materialising the hours that page covers).
        self.prefetch = True
        self._executor: ThreadPoolExecutor | None = None
        self._prefetched: dict[tuple[Any, ...], tuple[int, Future[tuple[Payload, Any]]]] = {}
        self._prefetch_lock = threading.Lock()
        self._rates = sim.rates()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> DemoSwitch:
        """Bind and serve in a background thread; returns once the port is bound."""
        if self._httpd is not None:
            return self
        httpd = _Server((self.host, self.port), _Handler)
        httpd.switch = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-prefetch")
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"demo-switch:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        with self._prefetch_lock:
            self._prefetched.clear()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> DemoSwitch:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- API ---------------------------------------------------------------------------

    def materialise(self) -> int:
        """Store the whole history now (the 35 days before the start, up to the clock's
        now) instead of hour by hour on first request: the switch then serves its first
        poll from stored records, as a real one does. Returns the attempts stored
        (published or not)."""
        return self.store.materialise(self.simulator.history_start_ms, self.clock() + 1)

    def check_auth(self, header: str | None) -> None:
        if self.token is None:
            return
        expected = f"Bearer {self.token}".encode()
        if header is None or not hmac.compare_digest(header.strip().encode(), expected):
            # Never echo what was sent: it may be someone's real secret.
            raise ApiError(401, "unauthorised: missing or wrong bearer token",
                           {"WWW-Authenticate": 'Bearer realm="noc-tui"'})

    def page_carriers(self, params: dict[str, str], gz: bool = False) -> Payload:
        return self._carriers

    def page_contacts(self, params: dict[str, str], gz: bool = False) -> Payload:
        return self._contacts

    def page_rates(self, params: dict[str, str], gz: bool = False) -> Payload:
        limit = _limit(params)
        key = _cursor(params, (int,))
        offset = key[0] if key is not None else 0
        if offset < 0:
            raise ApiError(400, BAD_CURSOR)
        items = self._rates[offset: offset + limit]
        end = offset + len(items)
        cursor = encode_cursor([end]) if end < len(self._rates) else None
        return Payload(_json({"items": items, "next_cursor": cursor}))

    def page_attempts(self, params: dict[str, str], gz: bool = False) -> Payload:
        since, until, limit = _window(params)
        after = _cursor(params, (int, str, int))
        faults = self.faults
        late = (faults.late_fraction, faults.late_delay_ms)
        now = self.clock()
        key = (since, until, limit, after, late)
        with self._prefetch_lock:
            ready = self._prefetched.pop(key, None)
        # A prefetched page is a view as of the previous request; serve it only while
        # that is at most PREFETCH_FRESH_MS old (what a slow poll would see anyway).
        if ready is not None and 0 <= now - ready[0] <= PREFETCH_FRESH_MS:
            payload, next_after = ready[1].result()
        else:
            payload, next_after = self._build_page(since, until, limit, now, after, late, gz)
        if next_after is not None and self.prefetch and self._executor is not None:
            nxt = (since, until, limit, next_after, late)
            with self._prefetch_lock:
                if nxt not in self._prefetched:
                    while len(self._prefetched) >= 4:  # bounded: drop the oldest
                        self._prefetched.pop(next(iter(self._prefetched)))
                    try:
                        fut = self._executor.submit(
                            self._build_page, since, until, limit, now, next_after, late, gz)
                    except RuntimeError:  # shutting down
                        pass
                    else:
                        self._prefetched[nxt] = (now, fut)
        return payload

    # The inbound listings (issue 15): small, so built per request from the simulator.

    def page_trunk_groups(self, params: dict[str, str], gz: bool = False) -> Payload:
        return _keyed_page(self.inbound.trunk_groups(), "id", params)

    def page_dids(self, params: dict[str, str], gz: bool = False) -> Payload:
        return _keyed_page(self.inbound.dids(), "did", params)

    def page_registrations(self, params: dict[str, str], gz: bool = False) -> Payload:
        since, until, limit = _window(params)
        after = _cursor(params, (int, str, str, str))
        inbound = self.inbound
        events, more = inbound.registration_events(since, until, self.clock(), after, limit)
        cursor = encode_cursor(list(events[-1][:4])) if more else None
        return Payload(_json({"items": [inbound.event_record(e) for e in events],
                              "next_cursor": cursor}))

    def page_deliveries(self, params: dict[str, str], gz: bool = False) -> Payload:
        since, until, limit = _window(params)
        after = _cursor(params, (int, str, int))
        items, more = self.inbound.deliveries_page(since, until, self.clock(), after, limit)
        cursor = encode_cursor(list(items[-1][0])) if more else None
        return Payload(_json({"items": [a for _k, a in items], "next_cursor": cursor}))

    def _build_page(
        self, since: int, until: int, limit: int, now: int,
        after: tuple[int, str, int] | None, late: tuple[float, int], gz: bool,
    ) -> tuple[Payload, tuple[int, str, int] | None]:
        page = self.store.page(since, until, limit, now, after, late[0], late[1])
        next_after = page.next_after
        cursor = b"null"
        if next_after is not None:
            cursor = b'"' + encode_cursor(list(next_after)).encode() + b'"'
        payload = _PagePayload(page, cursor)
        payload.encoded(gz)  # made now, so a prefetched page is ready as the client takes it
        return payload, next_after


def _window(params: dict[str, str]) -> tuple[int, int, int]:
    """(since, until, limit) of a listing bounded in time, checked."""
    since = _time(params, "since")
    until = _time(params, "until")
    if until < since:
        raise ApiError(400, "bad parameter 'until': must not be before 'since'")
    return since, until, _limit(params)


def _cursor(params: dict[str, str], types: tuple[type, ...]) -> tuple[Any, ...] | None:
    """The request's cursor as the key it encodes, each part of its type in `types`
    (a bool is no int); None when the request gives none."""
    if not params.get("cursor"):
        return None
    key = decode_cursor(params["cursor"])
    if len(key) != len(types) or not all(
            isinstance(k, t) and not isinstance(k, bool) for k, t in zip(key, types, strict=True)):
        raise ApiError(400, BAD_CURSOR)
    return tuple(key)


def _keyed_page(items: list[dict[str, Any]], key: str, params: dict[str, str]) -> Payload:
    """A page of a listing ordered by a unique string field; the cursor is the last
    item's value of it, so a page resumes after it whatever changed meanwhile."""
    limit = _limit(params)
    got = _cursor(params, (str,))
    after: str | None = got[0] if got is not None else None
    rest = [i for i in items if after is None or i[key] > after]
    page = rest[:limit]
    cursor = encode_cursor([page[-1][key]]) if len(rest) > limit else None
    return Payload(_json({"items": page, "next_cursor": cursor}))


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8080,
    seed: int = 1,
    token: str | None = None,
    calls_per_min: float | None = None,
    announce: Callable[[str], None] = print,
) -> int:
    """Run the demo switch in the foreground until interrupted (``noc-tui demo-switch``).

    Returns the process exit status.
    """
    switch = DemoSwitch(seed=seed, host=host, port=port, token=token,
                        calls_per_min=calls_per_min)
    try:
        switch.start()
    except OSError as exc:
        announce(f"noc-tui demo-switch: cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 2
    announce(f"demo switch (seed {seed}) serving API v1 at {switch.url}/api/v1/ ; Ctrl-C stops")
    try:
        # A long-running switch stores its history up front (requests are served
        # meanwhile), so that a first poll does not wait for simulation.
        switch.materialise()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        switch.stop()
    return 0
