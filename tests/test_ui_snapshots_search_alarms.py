"""Snapshots of the search and alarm screens at 80x24, 120x40 and 200x50 (issue 16).

Deterministic as tests/test_ui_snapshots.py: its fixture cache, frozen clock, fixed
config and its `steps`. Update with `--snapshot-update`, after looking at the report.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

try:
    from tests.test_ui_snapshots import make_app, steps
    from tests.ui_fixtures import build_cache
except ImportError:  # tests/ itself on sys.path (rootdir import mode)
    from test_ui_snapshots import make_app, steps
    from ui_fixtures import build_cache

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(tmp_path_factory.mktemp("ui") / "cache.db")


@pytest.fixture
def cache_path(built: Path, tmp_path: Path) -> Path:
    """A copy per test: acknowledging an alarm writes to it."""
    path = tmp_path / "cache.db"
    shutil.copy(built, path)
    return path


VIEWS = {
    "search_number": ("ctrl+f", "4 4 0 0 0 1 0 5", "enter"),
    "search_none": ("ctrl+f", "9 9 9 9", "enter"),
    "alarms": ("exclamation_mark",),
    "alarms_acknowledged": ("exclamation_mark", "a"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", list(VIEWS))
def test_screen(snap_compare, cache_path: Path, tmp_path: Path, view: str,
                size: tuple[int, int]) -> None:
    app = make_app(cache_path, tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=steps(*VIEWS[view]))
