"""The validated configuration as plain read-only objects, with no pydantic import.

Importing pydantic and pydantic-settings costs about a quarter of a second, as much as a
third of Textual's own start. The dashboard validates its configuration in a forked
child (:mod:`noc_tui.config_check`) while its own process imports Textual, and gets the
result back as tagged plain data (``config.to_plain``), rebuilt here into views.

One definition of each setting: the keys, their types and checks are the pydantic
models' alone (:mod:`noc_tui.config`); a view takes whatever fields the model sent. What
a model answers beyond its fields (``cache_path()``, ``halt_set()``) is written once,
here, in a plain class that the model and its view both inherit. This module imports no
other of noc_tui's, so the models can build on it.
"""

from __future__ import annotations

import os
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# Few imports here: imported before the check is forked, and the sooner the child is
# forked, the sooner its answer is ready.

APP = "noc-tui"

CodeSpec = int | str  # 404, or a range written "300-399" / "3xx"


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the file and the key."""


# -- locations and code sets, shared with the pydantic models ---------------------------


def source_missing(source: Any) -> str | None:
    """The setting the poller still needs to read this source (a SourceSettings or its
    view), or None."""
    if source.kind == "apiv1":
        return None if source.url else "source.url"
    if source.kind == "connexcs":
        mode = source.connexcs.auth
        has_token = source.token is not None or source.token_file is not None
        if mode == "token" or (mode == "auto" and not (source.username and source.password)):
            return None if has_token else "source.token (or source.username/password)"
        return None if source.username and source.password else \
            "source.username/password"
    k = source.kamailio
    if k.accounting == "db" and not k.db_url:
        return "source.kamailio.db_url"
    if k.accounting == "mqueue" and not k.jsonrpc_url:
        return "source.kamailio.jsonrpc_url"
    return None


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


# -- what a model answers beyond its fields, written once for the model and its view -----


class ModelMethods:
    """Base of the classes that hold what a settings model answers beyond its fields.

    A model inherits one (``class Settings(BaseSettings, SettingsMethods)``); its view is
    built on the same one (``from_plain``). So a method is written once, in a subclass
    of this, and both have it.
    """


class SettingsMethods(ModelMethods):
    """Of :class:`noc_tui.config.Settings`."""

    def cache_path(self) -> Path:
        return self.cache.path or default_cache_path()  # type: ignore[attr-defined]


class MetricMethods(ModelMethods):
    """Of :class:`noc_tui.config.MetricSettings` (the code sets are cached by
    ``expand_codes``)."""

    def ner_set(self) -> frozenset[int]:
        return expand_codes(self.ner_codes)  # type: ignore[attr-defined]

    def halt_set(self) -> frozenset[int]:
        return expand_codes(self.halt_codes)  # type: ignore[attr-defined]


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


def methods_of(model: type) -> list[str]:
    """The names of the ModelMethods classes a model class inherits (what its view is
    built on)."""
    return [c.__name__ for c in model.__mro__ if ModelMethods in c.__bases__]


@cache
def view_class(model: str, methods: tuple[str, ...]) -> type[SectionView]:
    """The view of the model class named `model`: SectionView with its methods."""
    known = {c.__name__: c for c in ModelMethods.__subclasses__()}
    return type(f"{model}View", (SectionView, *(known[m] for m in methods)), {})


def from_plain(value: Any) -> Any:
    """Rebuild what ``config.to_plain`` wrote: every dict there is tagged, as a model
    ($model, its methods, fields), a path, a secret or a plain mapping ($dict)."""
    if isinstance(value, dict):
        if "$model" in value:
            fields = {k: from_plain(v) for k, v in value["fields"].items()}
            return view_class(value["$model"], tuple(value["methods"]))(fields)
        if "$path" in value:
            return Path(value["$path"])
        if "$secret" in value:
            return Secret(value["$secret"])
        return {k: from_plain(v) for k, v in value["$dict"].items()}
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    return value
