"""Fixtures shared by test modules."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@pytest.fixture
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config, cache or NOC_TUI_* variable of the machine's user reaches the test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for var in list(os.environ):
        if var.startswith("NOC_TUI_"):
            monkeypatch.delenv(var)


# A scripted switch's answer to one request: (status, headers, body).
Script = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


@pytest.fixture
def scripted() -> Iterator[Callable[[Script], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(script: Script) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                status, headers, body = script(self)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def json_switch(scripted: Callable[[Script], str]) -> Callable[[dict[str, bytes]], str]:
    """A switch on loopback that answers each path (query ignored) with a fixed JSON
    body, 404 otherwise: for pages the demo switch never serves. Gives its URL."""

    def start(bodies: dict[str, bytes]) -> str:
        def script(h: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            body = bodies.get(h.path.split("?", 1)[0])
            if body is None:
                return 404, {"Content-Type": "application/json"}, b'{"error": "unknown path"}'
            return 200, {"Content-Type": "application/json"}, body

        return scripted(script)

    return start


@pytest.fixture(autouse=True, scope="session")
def _no_saved_state_of_the_user(tmp_path_factory: pytest.TempPathFactory):
    """The dashboard's saved state (theme, window, sorts) of the machine's user never
    reaches a test, and no test writes one there."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("xdg-state"))
    yield
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old
