"""The validated configuration as plain read-only objects, with no pydantic import.

Importing pydantic and pydantic-settings costs about a quarter of a second, as much as a
third of Textual's own start. The dashboard validates its configuration in a forked
child (pydantic, :mod:`noc_tui.config`) while this process imports Textual, and gets
the result back as tagged plain data (see ``config.to_plain``), rebuilt here into views
that answer the same attribute reads and methods the dashboard uses on the models. So
every start still validates exactly as before, but in parallel with the rest of it.

Where fork is unavailable or unsafe (other threads running), the check runs in this
process and returns the pydantic models themselves.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

# Few imports here: the sooner the child is forked, the sooner its answer is ready
# (pickle, threading and dataclasses cost ~20 ms before the fork and are not needed).

if TYPE_CHECKING:
    from noc_tui.config import Settings

APP = "noc-tui"

CodeSpec = int | str  # 404, or a range written "300-399" / "3xx"


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the file and the key."""


# -- locations and code sets, shared with the pydantic models ---------------------------


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var)
    return Path(base) if base else Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / APP


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def default_cache_path() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / APP / "cache.db"


def expand_codes(specs: list[CodeSpec] | tuple[CodeSpec, ...]) -> frozenset[int]:
    """[ "200-299", 480 ] -> {200, ..., 299, 480}."""
    return _expand(tuple(specs))


@lru_cache(maxsize=64)
def _expand(specs: tuple[CodeSpec, ...]) -> frozenset[int]:
    out: set[int] = set()
    for spec in specs:
        if isinstance(spec, int):
            out.add(spec)
            continue
        text = spec.strip().lower()
        if len(text) == 3 and text.endswith("xx") and text[0].isdigit():
            lo = int(text[0]) * 100
            out.update(range(lo, lo + 100))
        elif "-" in text:
            lo_s, hi_s = text.split("-", 1)
            out.update(range(int(lo_s), int(hi_s) + 1))
        else:
            out.add(int(text))
    return frozenset(out)


# -- the views --------------------------------------------------------------------------


class Secret:
    """A secret value that does not show itself (as pydantic's SecretStr)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SectionView:
    """One validated section: its fields as read-only attributes."""

    def __init__(self, fields: dict[str, Any]) -> None:
        object.__setattr__(self, "_fields", fields)
        self.__dict__.update(fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._fields == self._fields  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


class MetricSettingsView(SectionView):
    def ner_set(self) -> frozenset[int]:
        return expand_codes(self.ner_codes)

    def halt_set(self) -> frozenset[int]:
        return expand_codes(self.halt_codes)


class SettingsView(SectionView):
    def cache_path(self) -> Path:
        return self.cache.path or default_cache_path()


# The model classes of noc_tui.config whose views have methods of their own.
VIEWS: dict[str, type[SectionView]] = {
    "MetricSettings": MetricSettingsView,
    "Settings": SettingsView,
}


def from_plain(value: Any) -> Any:
    """Rebuild what ``config.to_plain`` wrote: every dict there is tagged, as a model
    ($model, fields), a path, a secret or a plain mapping ($dict)."""
    if isinstance(value, dict):
        if "$model" in value:
            fields = {k: from_plain(v) for k, v in value["fields"].items()}
            return VIEWS.get(value["$model"], SectionView)(fields)
        if "$path" in value:
            return Path(value["$path"])
        if "$secret" in value:
            return Secret(value["$secret"])
        return {k: from_plain(v) for k, v in value["$dict"].items()}
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    return value


# -- the check ---------------------------------------------------------------------------


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
