"""The cache holds dialled numbers and contacts: created for its owner's eyes only, and a
cache others can read is pointed out."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from noc_tui.cli import main
from noc_tui.config import Settings, SourceSettings
from noc_tui.sync.poller import Poller
from tests.hostile import empty_page, serving
from tests.sample_data import NOW, write_dataset


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that takes nothing off: the modes are noc-tui's own."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_an_import_creates_a_private_cache_in_private_folders(
        tmp_path: Path, isolated_config: None, loose_umask: None) -> None:
    db = tmp_path / "new" / "sub" / "c.db"
    assert main(["--cache", str(db), "import", str(write_dataset(tmp_path / "d"))]) == 0
    assert _mode(db) == 0o600
    assert _mode(tmp_path / "new") == _mode(tmp_path / "new" / "sub") == 0o700
    for side in db.parent.glob("c.db-*"):  # -wal, -shm: SQLite gives them the db's mode
        assert _mode(side) == 0o600, side


def test_a_poll_creates_a_private_cache_and_lock_folder(tmp_path: Path,
                                                        loose_umask: None) -> None:
    db = tmp_path / "polled" / "c.db"
    with serving(empty_page) as url:
        result = Poller(Settings(source=SourceSettings(url=url, retries=0)), db).poll_once()
    assert result.ok
    assert _mode(db) == 0o600 and _mode(db.parent) == 0o700


def test_an_existing_folder_is_left_as_it_is(tmp_path: Path, isolated_config: None,
                                             loose_umask: None) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    db = shared / "c.db"
    assert main(["--cache", str(db), "import", str(write_dataset(tmp_path / "d"))]) == 0
    assert _mode(shared) == 0o755 and _mode(db) == 0o600


def test_a_cache_others_can_read_gets_a_warning(
        tmp_path: Path, isolated_config: None, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(write_dataset(tmp_path / "d"))]) == 0
    assert "readable by other users" not in capsys.readouterr().err
    db.chmod(0o644)
    assert main(["--cache", str(db), "export", "carriers", "--now", NOW]) == 0
    err = capsys.readouterr().err
    assert f"warning: the cache {db} is readable by other users" in err
    assert f"chmod 600 {db}" in err
    assert _mode(db) == 0o644  # pointed out, not changed behind the operator's back


async def test_the_dashboard_warns_about_a_cache_others_can_read(tmp_path: Path) -> None:
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.render import settle

    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(write_dataset(tmp_path / "d"))]) == 0
    db.chmod(0o640)
    app = NocApp(Settings(), db, watch_interval_s=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        warned = [n.message for n in app._notifications if n.title == "Cache"]
    assert warned and f"chmod 600 {db}" in warned[0]
