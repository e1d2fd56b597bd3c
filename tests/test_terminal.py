"""The dashboard and its terminal, in a real pty (issue 16, point 10).

Without a terminal noc-tui exits at once with a clear message. When its terminal goes
away (the pty's other side closed, as when an SSH connection drops or a tmux session is
killed: the kernel hangs the terminal up and sends SIGHUP) it exits within a second at
any moment, start-up included, and leaves no process behind. Reproduced before the fix
by closing the terminal 0.6-1 s after start: the dashboard stayed, for good.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

try:
    from tests.ui_fixtures import build_cache
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from ui_fixtures import build_cache

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="pty and /proc behaviour of Linux")
EXIT_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("tty") / "cache.db", calls=300)


def env_for(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOC_TUI_", "XDG_"))}
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp / var.lower())
    env["TERM"] = "xterm-256color"
    return env


class Terminal:
    """noc-tui on a fresh pty of its own (its controlling terminal, in its own session),
    the pty's output drained as a terminal would."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "noc_tui", *argv], stdin=slave, stdout=slave,
            stderr=slave, env=env, start_new_session=True, close_fds=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.master: int | None = master
        self.output = bytearray()
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        # Never blocked in read: a close() from another thread would wait for it to
        # return (the kernel releases the pty only then), delaying the hang-up.
        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        while not self._closing.is_set():
            if not poller.poll(20):
                continue
            try:
                chunk = os.read(self.master, 65536)  # type: ignore[arg-type]
            except OSError as exc:  # EIO: the other side is gone
                if exc.errno == errno.EIO:
                    return
                raise
            if not chunk:
                return
            self.output += chunk

    def hang_up(self) -> None:
        """Close the terminal: the kernel hangs it up and signals the session."""
        self._closing.set()
        self._reader.join(5)
        master, self.master = self.master, None
        if master is not None:
            os.close(master)

    def session(self) -> list[tuple[int, str]]:
        """(pid, state) of every process left in its session, zombies aside."""
        left = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == self.proc.pid and fields[0] != "Z":
                left.append((int(entry.name), fields[0]))
        return left

    def close(self) -> None:
        self.hang_up()
        for pid, _ in self.session():
            os.kill(pid, signal.SIGKILL)  # only what this test started
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


@pytest.mark.parametrize("after_s", [0.05, 0.3, 0.6, 0.8, 1.0, 3.0])
def test_a_hang_up_at_any_moment_ends_it_within_a_second(cache: Path, tmp_path: Path,
                                                          after_s: float):
    term = Terminal(["--cache", str(cache)], env_for(tmp_path))
    try:
        time.sleep(after_s)
        assert term.proc.poll() is None, term.output.decode(errors="replace")
        if after_s >= 3.0:  # the list is on screen: a hang-up in use, not at start
            assert b"Tier One Telecom" in term.output
        at = time.monotonic()
        term.hang_up()
        term.proc.wait(timeout=10)
        took = time.monotonic() - at
        deadline = time.monotonic() + 1.0
        while term.session() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert term.session() == [], "processes left behind"
        assert took <= EXIT_WITHIN_S, f"exited {took:.2f} s after the hang-up"
        assert term.proc.returncode in (129, -signal.SIGHUP)
    finally:
        term.close()


def test_sighup_with_the_terminal_still_there_restores_it(cache: Path, tmp_path: Path):
    term = Terminal(["--cache", str(cache)], env_for(tmp_path))
    try:
        deadline = time.monotonic() + 20
        while b"Tier One Telecom" not in term.output and time.monotonic() < deadline:
            time.sleep(0.05)
        at = time.monotonic()
        os.kill(term.proc.pid, signal.SIGHUP)  # `kill -HUP`: the terminal is fine
        term.proc.wait(timeout=10)
        assert time.monotonic() - at <= EXIT_WITHIN_S
        assert term.proc.returncode == 129
        time.sleep(0.2)
        assert b"\x1b[?1049l" in term.output  # left the alternate screen: restored
    finally:
        term.close()


def test_without_a_terminal_it_exits_at_once_saying_why(cache: Path, tmp_path: Path):
    at = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "noc_tui", "--cache", str(cache)],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         env=env_for(tmp_path), timeout=30, check=False)
    assert run.returncode == 2 and time.monotonic() - at < 5
    assert "needs a terminal" in run.stderr and "noc-tui export" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
