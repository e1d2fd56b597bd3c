"""sources/http.py, what the HTTP sources share, through both of them against scripted
servers on loopback: a request's deadline however slowly the bytes come, the body cap,
the server's error text from JSON or an HTML page, and redaction."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from noc_tui.config import SourceSettings
from noc_tui.sources.apiv1 import SourceClient
from noc_tui.sources.base import BAD_DATA, TIMED_OUT, SourceError
from noc_tui.sources.connexcs import ConnexCSSource
from noc_tui.sources.http import Redactor, server_says

Reply = Callable[[socket.socket], None]


@pytest.fixture
def raw_server() -> Iterator[Callable[[Reply], str]]:
    """A server that runs `reply` on each connection (after reading the request)."""
    socks: list[socket.socket] = []
    stop = threading.Event()

    def start(reply: Reply) -> str:
        srv = socket.create_server(("127.0.0.1", 0))
        srv.settimeout(0.1)
        socks.append(srv)

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except OSError:
                    continue
                with conn:
                    conn.recv(65536)
                    with contextlib.suppress(OSError):
                        reply(conn)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{srv.getsockname()[1]}"

    yield start
    stop.set()
    for s in socks:
        s.close()


def _trickle(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(40):  # a byte every 0.1 s: no read ever waits long
        conn.sendall(b" ")
        time.sleep(0.1)


def _big(conn: socket.socket) -> None:
    body = b"[" + b'{"a": 1},' * 200_000 + b'{"a": 1}]'
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


@pytest.mark.parametrize("kind", ["apiv1", "connexcs"])
def test_a_trickling_answer_ends_at_the_deadline(raw_server: Callable[[Reply], str],
                                                 kind: str) -> None:
    url = raw_server(_trickle)
    settings = SourceSettings(kind=kind, url=url, username="u", password="p-secret-1",  # type: ignore[arg-type]
                              retries=0, request_deadline_s=0.5, read_timeout_s=5)
    t = time.monotonic()
    src = SourceClient(settings) if kind == "apiv1" else ConnexCSSource(settings)
    with src, pytest.raises(SourceError) as info:
        list(src.carriers())
    assert info.value.kind == TIMED_OUT and "request_deadline_s" in info.value.message
    assert time.monotonic() - t < 3


@pytest.mark.parametrize("kind", ["apiv1", "connexcs"])
def test_a_body_over_the_cap_is_refused(raw_server: Callable[[Reply], str], kind: str) -> None:
    url = raw_server(_big)
    settings = SourceSettings(kind=kind, url=url, username="u", password="p-secret-1",  # type: ignore[arg-type]
                              retries=0, max_page_mb=0.5)
    src = SourceClient(settings) if kind == "apiv1" else ConnexCSSource(settings)
    with src, pytest.raises(SourceError) as info:
        list(src.carriers())
    assert info.value.kind == BAD_DATA and "source.max_page_mb" in info.value.message


def test_what_the_server_says() -> None:
    redact = Redactor()
    redact.add("hunter22")
    assert server_says(b'{"error": "bad\\n  thing hunter22"}', redact) == ": bad thing ***"
    assert server_says(b'{"message": "slow"}', redact) == ": slow"
    page = b"<!DOCTYPE html><html><head><title>502 Bad\nGateway</title></head></html>"
    assert server_says(page, redact) == ": 502 Bad Gateway"
    assert server_says(b"<html><body><p>Oops</p></body></html>", redact) == ": Oops"
    assert server_says(b"plain words", redact) == ": plain words"
    assert server_says(b"", redact) == ""


def test_redaction_of_echoed_credentials() -> None:
    redact = Redactor()
    assert redact("header was Bearer abcdefgh12345678") == "header was Bearer ***"
    assert redact("Authorization: Basic dXNlcjpwYXNzd29yZA==") == "Authorization: Basic ***"
    # Words after "token" are not credentials.
    assert redact("check source.token or source.username") == \
        "check source.token or source.username"
