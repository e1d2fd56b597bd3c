"""Theme data files: shipped ones in themes/, the user's in <config dir>/themes.

A theme file is TOML (see themes/noc-dark.toml). It is validated when loaded: unknown
keys, missing health colours and colours Textual cannot parse are errors that name
the file and the key. The four health colours become the theme variables
health-down / health-degraded / health-suspect / health-fine.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

from noc_tui.settings_view import config_dir

DEFAULT_THEME = "noc-dark"
HEALTH = ("down", "degraded", "suspect", "fine")
# Used by themes without health colours (Textual's built-ins such as textual-ansi).
HEALTH_DEFAULTS = {
    "health-down": "#E0455A", "health-degraded": "#E8A317",
    "health-suspect": "#B07CE8", "health-fine": "#5FB98A",
}
# With NO_COLOR the health states are told by weight and inversion, never by a colour
# (the terminal's greys would show an alarm dimmer than a healthy row).
NO_COLOR_HEALTH = {"down": "reverse", "suspect": "reverse", "degraded": "underline",
                   "fine": ""}
_COLOURS = ("primary", "secondary", "accent", "foreground", "background", "surface",
            "panel", "boost", "success", "warning", "error")
_ALLOWED = {"name", "dark", "variables", "health", "luminosity_spread", "text_alpha",
            *_COLOURS}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ThemeError(Exception):
    """A theme file that cannot be used; the message names the file and the key."""


def shipped_dirs() -> list[Path]:
    """Where the shipped themes live: a source checkout, then an installed data dir."""
    here = Path(__file__).resolve()
    cands = [here.parents[2] / "themes",  # repository checkout / editable install
             Path(sys.prefix) / "share" / "noc-tui" / "themes"]  # wheel data-files
    env = os.environ.get("NOC_TUI_THEMES_DIR")
    if env:
        cands.insert(0, Path(env))
    return [p for p in cands if p.is_dir()]


def user_dir() -> Path:
    return config_dir() / "themes"


def _colour(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path}: {key}: a colour is a string such as \"#4FA3E0\"")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path}: {key}: {value!r} is not a colour") from None
    return value


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: cannot read theme file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ThemeError(f"{path}: {unknown[0]}: unknown key")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(f"{path}: name: required, lower-case letters, digits and '-'")
    if "primary" not in data:
        raise ThemeError(f"{path}: primary: required")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"{path}: dark: true or false")
    colours = {k: _colour(path, k, data[k]) for k in _COLOURS if k in data}
    health = data.get("health")
    if not isinstance(health, dict):
        raise ThemeError(f"{path}: health: required table with {', '.join(HEALTH)}")
    extra = sorted(set(health) - set(HEALTH))
    if extra:
        raise ThemeError(f"{path}: health.{extra[0]}: unknown key")
    variables: dict[str, str] = {}
    for state in HEALTH:
        if state not in health:
            raise ThemeError(f"{path}: health.{state}: required")
        variables[f"health-{state}"] = _colour(path, f"health.{state}", health[state])
    raw_vars = data.get("variables", {})
    if not isinstance(raw_vars, dict):
        raise ThemeError(f"{path}: variables: must be a table")
    for k, v in raw_vars.items():
        if not isinstance(v, str):
            raise ThemeError(f"{path}: variables.{k}: must be a string")
        variables[k] = v
    extras: dict[str, float] = {}
    for k in ("luminosity_spread", "text_alpha"):
        if k in data:
            if not isinstance(data[k], int | float):
                raise ThemeError(f"{path}: {k}: must be a number")
            extras[k] = float(data[k])
    try:
        theme = Theme(name=name, dark=dark, variables=variables, **colours, **extras)
        theme.to_color_system()  # validates the combination, as Textual will on use
    except Exception as exc:
        raise ThemeError(f"{path}: {exc}") from None
    return theme


def load_themes(dirs: list[Path] | None = None) -> tuple[dict[str, Theme], list[str]]:
    """Every theme found (shipped first, the user's may override), and the errors."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for d in dirs if dirs is not None else [*shipped_dirs(), user_dir()]:
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return themes, errors
