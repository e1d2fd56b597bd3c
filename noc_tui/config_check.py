"""The dashboard's configuration check, in a forked child while its process starts.

Importing pydantic and pydantic-settings costs about a quarter of a second, as much as a
third of Textual's own start. So ``ConfigCheck`` forks a child that validates the
configuration with pydantic (:mod:`noc_tui.config`) while this process imports Textual,
and gets the result back as tagged plain data (``config.to_plain``), rebuilt into views
(:mod:`noc_tui.settings_view`) that answer the same reads and methods as the models.
Every start still validates exactly as before, but in parallel with the rest of it.

Where fork is unavailable or unsafe (other threads running), the check runs in this
process and returns the pydantic models themselves (``check_in_process``, which the
headless commands use).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from noc_tui.settings_view import ConfigError, from_plain

# Few imports here: the sooner the child is forked, the sooner its answer is ready
# (pickle, threading and dataclasses cost ~20 ms before the fork and are not needed;
# pydantic is the child's).

if TYPE_CHECKING:
    from noc_tui.config import Settings


class Checked(NamedTuple):
    settings: Settings  # or a SettingsView that reads the same
    path: Path
    warnings: list[str]


def check_in_process(config: str | Path | None) -> Checked:
    from noc_tui.config import load_settings

    warnings: list[str] = []
    settings, path = load_settings(config, warn=warnings)
    return Checked(settings, path, warnings)


class ConfigCheck:
    """The configuration validated in a forked child, started now, collected later.

    ``result()`` returns what ``check_in_process`` would, with views for the models, or
    raises the same ConfigError. With valid settings the child then runs
    ``then(settings, path)``: work that needs them and can be done ahead, such as the
    first screen's data. Its result (picklable; None if it raised) comes separately,
    from ``then_result()``, so the caller need not wait for it to start. Without a child
    ``then`` does not run. The child is reaped by ``then_result`` or ``close``.
    """

    def __init__(self, config: str | Path | None,
                 then: Callable[[Settings, Path], Any] | None = None) -> None:
        self.config = config
        self.then = then
        self.pid = 0
        self._fd = -1
        # Forking a process with other threads could copy a lock one of them holds.
        threading = sys.modules.get("threading")  # not imported: no other threads
        if hasattr(os, "fork") and (threading is None or threading.active_count() == 1):
            self._start()

    def _start(self) -> None:
        rfd, wfd = os.pipe()
        _widen_pipe(wfd)
        pid = os.fork()
        if pid == 0:  # the child: two answers down the pipe, then leave at once
            status = 0
            try:
                os.close(rfd)
                answer, checked = _child_answer(self.config)
                _write_frame(wfd, answer)
                if checked is not None and self.then is not None:
                    try:
                        done = self.then(checked.settings, checked.path)
                    except Exception:
                        done = None  # the parent does that work itself, and reports
                    _write_frame(wfd, done)
            except BaseException:
                status = 1  # no answer: the parent checks in its own process instead
            finally:
                os._exit(status)  # no atexit handlers, no flushing the parent's buffers
        os.close(wfd)
        self.pid, self._fd = pid, rfd

    def result(self) -> Checked:
        answer = self._read_frame() if self.pid else None
        if answer is None:  # no fork here, or the child failed: check here
            self.close()
            return check_in_process(self.config)
        if "error" in answer:
            self.close()
            raise ConfigError(answer["error"])
        if self.then is None:
            self.close()
        return Checked(from_plain(answer["settings"]), Path(answer["path"]),
                       answer["warnings"])

    def then_result(self) -> Any:
        """What `then` returned (blocks until the child has it), or None; once."""
        try:
            return self._read_frame() if self.pid else None
        finally:
            self.close()

    __call__ = then_result  # a ConfigCheck can be handed on as what waits for `then`

    def _read_frame(self) -> Any:
        import pickle

        header = self._read_exactly(8)
        if header is None:
            return None
        data = self._read_exactly(int.from_bytes(header, "big"))
        try:  # pickled by our own forked child, not read from anywhere else
            return pickle.loads(data) if data is not None else None
        except Exception:
            return None

    def _read_exactly(self, n: int) -> bytes | None:
        chunks, left = [], n
        while left:
            chunk = os.read(self._fd, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Stop and reap the child if it is still there (safe to call twice)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self.pid:
            pid, self.pid = self.pid, 0
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass


# The carrier list read ahead is ~0.5 MB pickled (2,000 carriers). Through Linux's
# default 64 KiB pipe the parent's reader thread took it in a dozen reads, each waiting
# for the GIL while the UI thread painted: 20-25 ms between the list being ready and it
# being read. A pipe that holds it whole is read at once.
PIPE_BYTES = 1 << 20  # Linux's default /proc/sys/fs/pipe-max-size


def _widen_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or over the user's limit: the default pipe works, slower


def _write_frame(fd: int, value: Any) -> None:
    import pickle

    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(fd, view):]


def _child_answer(config: str | Path | None) -> tuple[dict[str, Any], Checked | None]:
    from noc_tui.config import to_plain

    try:
        checked = check_in_process(config)
    except ConfigError as exc:
        return {"error": str(exc)}, None
    return {"settings": to_plain(checked.settings), "path": str(checked.path),
            "warnings": checked.warnings}, checked
