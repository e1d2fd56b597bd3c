"""Fixtures shared by test modules."""

from __future__ import annotations

import os
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
