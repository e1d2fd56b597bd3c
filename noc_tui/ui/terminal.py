"""The dashboard's terminal: it starts only with one, and ends when it goes away.

Without a terminal (cron, a pipe, `ssh host noc-tui` with no -t) the dashboard says so
and exits at once. When the terminal goes away (the SSH connection drops, the tmux
session is killed: SIGHUP, or the pty reads as hung up) the process ends within a
second, at any moment, start-up included, and takes its child processes with it.

Textual's own shutdown cannot be relied on once the terminal is gone: its writer thread
dies on the dead pty, and the next write blocks the event loop for good (a hang-up in
the first second of start-up left the dashboard running with no terminal). So the
hang-up is handled by a plain signal handler, installed before anything else starts,
which runs in the main thread even while the loop is blocked, and by a watcher thread
that polls the terminal: both end the process with os._exit after the registered
clean-ups (stopping child processes). SQLite keeps the cache consistent (a poll cut
short is rolled back) and the kernel drops the poll's file lock. A SIGHUP sent while
the terminal is still there (`kill -HUP`) lets the app exit as usual, so the terminal
is restored, within GRACE_S. No Textual import here: the command line arms this first.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

HANGUP_STATUS = 129  # 128 + SIGHUP, as a shell reports a process ended by it
GRACE_S = 0.8  # a graceful exit on a live terminal gets this long
WATCH_S = 0.25  # how often the watcher looks at the terminal
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL

_owner = 0  # the pid that armed it: a forked child just leaves
_cleanups: list[Callable[[], object]] = []
_graceful: Callable[[], object] | None = None
_watching = False


def missing_terminal() -> str | None:
    """Why the dashboard cannot run here, or None: it needs a terminal for its input
    and its output."""
    for name, stream in (("input", sys.stdin), ("output", sys.stdout)):
        try:
            ok = stream is not None and os.isatty(stream.fileno())
        except (AttributeError, ValueError, OSError):
            ok = False
        if not ok:
            return (f"the dashboard needs a terminal, and its standard {name} is not one; "
                    "run it in a terminal (ssh -t for a remote one), or use noc-tui export "
                    "or noc-tui poll without one")
    return None


def arm() -> None:
    """From now on a hang-up ends this process (main thread only, before any fork)."""
    global _owner
    _owner = os.getpid()
    signal.signal(signal.SIGHUP, _on_signal)


def armed() -> bool:
    return _owner == os.getpid()


def on_hangup(cleanup: Callable[[], object]) -> None:
    """Run `cleanup` (quick, never raising for long) before a hang-up ends the process."""
    if armed():
        _cleanups.append(cleanup)


def set_graceful(exit_app: Callable[[], object] | None) -> None:
    """How to end the app as usual when a SIGHUP comes while the terminal is there
    (thread-safe: it is called from the signal handler); None: hard exit always."""
    global _graceful
    _graceful = exit_app


def watch() -> None:
    """Start the thread that notices the terminal gone without a SIGHUP (once)."""
    global _watching
    if not armed() or _watching:
        return
    _watching = True
    threading.Thread(target=_watch, name="terminal-watch", daemon=True).start()


def terminal_gone(fd: int = 0) -> bool:
    """Whether the terminal on fd has hung up (or was never one)."""
    try:
        poller = select.poll()
        poller.register(fd, 0)  # no events asked: only hang-up and errors come back
        return any(ev & _GONE for _, ev in poller.poll(0)) or not os.isatty(fd)
    except (OSError, ValueError):
        return True


def _watch() -> None:
    poller = select.poll()
    poller.register(0, 0)
    while True:
        try:
            events = poller.poll(int(WATCH_S * 1000))
        except InterruptedError:
            continue
        except (OSError, ValueError):
            events = [(0, select.POLLNVAL)]
        if any(ev & _GONE for _, ev in events):
            _hard_exit()


def _on_signal(_signum: int, _frame: object) -> None:
    if os.getpid() != _owner:  # a forked child (the config check): just leave
        os._exit(HANGUP_STATUS)
    graceful = _graceful
    if graceful is not None and not terminal_gone(0):
        timer = threading.Timer(GRACE_S, _hard_exit)
        timer.daemon = True
        timer.start()
        graceful()
        return
    _hard_exit()


def _hard_exit() -> NoReturn:
    for cleanup in reversed(_cleanups):
        with contextlib.suppress(BaseException):  # leaving anyway: the next one still runs
            cleanup()
    os._exit(HANGUP_STATUS)
