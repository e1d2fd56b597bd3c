"""An HTTP exchange bounded in time and in size, whatever the other end does.

httpx's timeouts bound each wait for bytes, not a request: a server that sends one byte
every few seconds never trips them. A RequestClock holds the instant the request under
way must be over; every socket operation of the client's connections (connect, TLS,
the status line, headers, body) waits at most until then, and fails once it has
passed. The body is read raw and decompressed here, in steps that never produce more
than the cap allows: a gzip bomb costs the cap, not what it would expand to.
"""

from __future__ import annotations

import codecs
import io
import math
import ssl
import time
import zlib
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

CHUNK = 1 << 16  # what one decompression step may produce beyond the cap, at most


class RequestClock:
    """When the request under way must be over (time.monotonic(); inf: no request)."""

    def __init__(self) -> None:
        self.end = math.inf

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def cap(self, timeout: float | None) -> float:
        """A socket operation's timeout, cut to what is left of the request's time."""
        left = self.left()
        if left <= 0:
            raise httpcore.ReadTimeout("the request's deadline has passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, clock: RequestClock) -> None:
        self._stream = stream
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._clock.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._clock.cap(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname,
                                              self._clock.cap(timeout)), self._clock)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend, clock: RequestClock) -> None:
        self._backend = backend
        self._clock = clock

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _Stream(self._backend.connect_tcp(host, port, self._clock.cap(timeout),
                                                 local_address, socket_options), self._clock)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        return _Stream(self._backend.connect_unix_socket(path, self._clock.cap(timeout),
                                                         socket_options), self._clock)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bound_by(client: httpx.Client, clock: RequestClock) -> bool:
    """Make every connection `client` opens (directly or through a proxy from the
    environment) wait no longer than `clock` allows. httpx offers no public way to give
    its connection pool a network backend, so this reaches for it; False if it is not
    where it was (the body is then still bounded by read_body's own checks)."""
    transports = [getattr(client, "_transport", None),
                  *getattr(client, "_mounts", {}).values()]
    done = False
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _Backend(backend, clock)  # type: ignore[union-attr]
            done = True
    return done


class TooBig(Exception):
    """The body is bigger than the cap (once decompressed)."""


class Cut(Exception):
    """The body cannot be read as sent: cut short, or not what its encoding says."""


class _Identity:
    eof = True

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        return data


def _decoder(encoding: str) -> Any:
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise Cut(f"a Content-Encoding noc-tui did not ask for ({encoding[:40]!r})")


def read_body(resp: httpx.Response, cap: int, clock: RequestClock,
              utf8: bool = True) -> bytes:
    """The body of a streamed response, decompressed, at most `cap` bytes. TooBig past
    the cap; Cut for a body cut short or not decodable (not UTF-8 when `utf8`);
    httpx.TimeoutException once the clock has run out."""
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    dec = _decoder(encoding)
    check = codecs.getincrementaldecoder("utf-8")() if utf8 else None
    # BytesIO grows in place and hands its buffer over as bytes, with no copy at the end
    # (a page can be tens of MB).
    body = io.BytesIO()
    size = 0

    def take(out: bytes) -> None:
        nonlocal size
        if size + len(out) > cap:
            raise TooBig(size + len(out))
        if check is not None:
            check.decode(out)  # UTF-8 checked as it comes; the text is not kept
        body.write(out)
        size += len(out)

    def step(raw: bytes) -> bytes:
        """Decompress some of `raw` (never more than CHUNK out); what is left of it."""
        take(dec.decompress(raw, min(CHUNK, cap + 1 - size)))
        return bytes(dec.unconsumed_tail or dec.unused_data)

    try:
        for raw in resp.iter_raw():
            if clock.passed():
                raise httpx.ReadTimeout("the request's deadline has passed")
            if isinstance(dec, _Identity):
                take(raw)
                continue
            while raw:
                if dec.eof:  # gzip allows members one after another
                    dec = _decoder(encoding)
                raw = step(raw)
                if clock.passed():
                    raise httpx.ReadTimeout("the request's deadline has passed")
        while not dec.eof:  # output zlib still holds back, if any
            before = size
            step(b"")
            if size == before:
                raise Cut("the compressed body ends before its end")
        if check is not None:
            check.decode(b"", final=True)
    except zlib.error as exc:
        raise Cut(f"the body is not valid {encoding} ({exc})") from None
    except UnicodeDecodeError:
        raise Cut("the body is not UTF-8") from None
    return body.getvalue()
