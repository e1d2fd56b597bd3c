"""Hostile input for the tests: terminal escape sequences, and switches that misbehave
on purpose, each a real HTTP server on 127.0.0.1.

The switches answer every API path (carriers, contacts, rates, attempts) the same way
unless told otherwise, so a whole poll meets the misbehaviour on its first request.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What a hostile name, reason or error text can carry to a terminal: set the clipboard
# (OSC 52), clear the screen (CSI 2J), a forged link (OSC 8), the bell, the one-byte C1
# CSI and a right-to-left override that reverses what follows.
ESCAPES = ("osc52\x1b]52;c;ZXZpbA==\x07 csi\x1b[2J osc8\x1b]8;;https://evil.example/"
           "\x1b\\link\x1b]8;;\x1b\\ bel\x07 c1\x9b2J rlo\u202eesrever")
# How each shows once escaped.
ESCAPED = ("\\x1b]52;c;", "\\x1b[2J", "\\x1b]8;;", "\\x07", "\\x9b2J", "\\u202e")

# A control that must never reach a terminal: C0 but the line feed, DEL and C1, and the
# bidi embeddings, overrides and isolates.
_LIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def live_controls(text: str) -> list[str]:
    """The controls in `text` that a terminal would act on (empty: it is safe)."""
    return _LIVE.findall(text)


# -- switches -------------------------------------------------------------------------

Respond = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gives up mid-answer is what these servers are for


@contextmanager
def serving(respond: Respond) -> Iterator[str]:
    """A loopback HTTP server answering every GET with `respond`; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle and the
            # client's delayed ACK add 40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            respond(self)

    srv = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def send(h: BaseHTTPRequestHandler, status: int, body: bytes,
         headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def page(items: list[Any], cursor: str | None = None) -> bytes:
    return json.dumps({"items": items, "next_cursor": cursor}).encode()


def empty_page(h: BaseHTTPRequestHandler) -> None:
    send(h, 200, page([]))


def trickling(every_s: float = 0.05, for_at_most_s: float = 30.0) -> Respond:
    """Headers at once, then a valid-looking body one byte every `every_s`: each read
    gets something long before any read timeout, so only a total deadline ends it."""

    def respond(h: BaseHTTPRequestHandler) -> None:
        body = b'{"items": [' + b" " * 10_000_000
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body) + 2))
        h.end_headers()
        end = time.monotonic() + for_at_most_s
        for i in range(len(body)):
            if time.monotonic() > end:
                return
            try:
                h.wfile.write(body[i:i + 1])
                h.wfile.flush()
            except OSError:
                return  # the client hung up: what a deadline does
            time.sleep(every_s)

    return respond


def slow_headers(every_s: float = 0.05, for_at_most_s: float = 30.0) -> Respond:
    """The status line and headers one byte every `every_s`, never the body."""

    def respond(h: BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 200 OK\r\n" + b"".join(
            b"X-Filler-%d: %s\r\n" % (i, b"x" * 60) for i in range(1000))
        end = time.monotonic() + for_at_most_s
        for i in range(len(head)):
            if time.monotonic() > end:
                return
            try:
                h.wfile.write(head[i:i + 1])
                h.wfile.flush()
            except OSError:
                return
            time.sleep(every_s)

    return respond


def endless_cursors(kinds: tuple[str, ...] = ("attempts",), delay_s: float = 0.0) -> Respond:
    """Empty pages, each with a new cursor (after `delay_s`), for the listed kinds;
    others get one empty page."""
    count = iter(range(10**9))

    def respond(h: BaseHTTPRequestHandler) -> None:
        kind = h.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if kind in kinds:
            time.sleep(delay_s)
            send(h, 200, page([], f"c{next(count)}"))
        else:
            empty_page(h)

    return respond


def gzip_bomb(member_mb: int = 100, members: int = 1) -> Respond:
    """A page whose gzip body is ~1/1000 of what it expands to: spaces after the opening
    of a JSON object, so every prefix looks like the start of a page. `members` gzip
    members one after another (as gzip allows), each of `member_mb` MB."""

    def member(data: bytes, mb: int) -> bytes:
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b" " * (1 << 20)
        return comp.compress(data) + b"".join(comp.compress(block) for _ in range(mb)) \
            + comp.flush()

    spaces = member(b"", member_mb)
    bomb = b"".join([member(b'{"items": [', member_mb), *[spaces] * (members - 1),
                     gzip.compress(b"]}")])

    def respond(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, bomb, {"Content-Encoding": "gzip"})

    return respond


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=1, mtime=0)


def echoing_credentials(status: int = 500) -> Respond:
    """An error whose text quotes the Authorization header the client sent."""

    def respond(h: BaseHTTPRequestHandler) -> None:
        said = h.headers.get("Authorization")
        send(h, status, json.dumps({"error": f"bad request, header was {said}"}).encode())

    return respond
