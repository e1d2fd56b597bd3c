"""A user's or the environment's problem ends a command with one line naming the file or
setting and what to do, exit status 2, and no traceback (issue 11, section 2).

The commands run as a user runs them, in a child process, on real files. Permission
problems need a user that file permissions apply to: as root the child runs without
root's power to override them (setpriv), else as the user running the tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from noc_tui.demo_switch import DemoSwitch
from noc_tui.store.cache import DAMAGED_SUFFIX
from tests.sample_data import ATTEMPTS, attempt, write_dataset, write_jsonl

ROOT = Path(__file__).resolve().parent.parent
DROP_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _as_user() -> list[str]:
    """The prefix that runs a command with file permissions applying to it."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None or subprocess.run(
            [*DROP_OVERRIDE, "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root, and setpriv cannot drop the permission override")
    return DROP_OVERRIDE


def _run(*argv: str, prefix: list[str] | None = None) -> tuple[int, str, str]:
    # A short backfill: polls here are about the cache, not about volume.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NOC_TUI_POLL__BACKFILL": "2h"}
    env.pop("NOC_TUI_CACHE", None)
    run = subprocess.run([*(prefix or []), sys.executable, "-m", "noc_tui", *argv],
                         capture_output=True, text=True, timeout=120, env=env,
                         stdin=subprocess.DEVNULL, check=False)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, run.stdout, run.stderr


def _one_line(err: str) -> str:
    """The error line: there is exactly one, from noc-tui."""
    lines = [ln for ln in err.splitlines() if ln.startswith("noc-tui")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "data")


@pytest.fixture
def restore_modes(tmp_path: Path) -> Iterator[None]:
    """Make everything under tmp_path writable again, for its removal."""
    yield
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)


def _rows(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def test_an_unreadable_folder(tmp_path: Path, data: Path, restore_modes: None) -> None:
    prefix = _as_user()
    data.chmod(0)
    rc, _, err = _run("--cache", str(tmp_path / "c.db"), "import", str(data), prefix=prefix)
    assert rc == 2
    assert f"{data}: cannot be read (Permission denied)" in _one_line(err)


def test_a_read_only_cache(tmp_path: Path, data: Path, restore_modes: None) -> None:
    prefix = _as_user()
    db = tmp_path / "c.db"
    assert _run("--cache", str(db), "import", str(data))[0] == 0
    db.chmod(0o444)
    rc, _, err = _run("--cache", str(db), "import", str(data), prefix=prefix)
    assert rc == 2
    line = _one_line(err)
    assert f"{db}: the cache cannot be written" in line and "writable" in line
    assert "imported 0 records" in err  # the summary, with what was stored
    rc, _, err = _run("--cache", str(db), "poll", "--url", "http://127.0.0.1:9",
                      prefix=prefix)
    assert rc == 2 and f"{db}: the cache cannot be written" in _one_line(err)
    # Reading it is fine.
    rc, out, _ = _run("--cache", str(db), "export", "carriers", "--now", "2026-11-01T12:00:00Z",
                      prefix=prefix)
    assert rc == 0 and len(json.loads(out)["carriers"]) == 2


def test_a_cache_folder_that_is_not_writable(tmp_path: Path, data: Path,
                                             restore_modes: None) -> None:
    prefix = _as_user()
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    rc, _, err = _run("--cache", str(folder / "c.db"), "import", str(data), prefix=prefix)
    assert rc == 2
    line = _one_line(err)
    assert f"{folder / 'c.db'}: the cache cannot be written" in line
    assert f"its folder {folder} writable" in line
    rc, _, err = _run("--cache", str(folder / "sub" / "c.db"), "import", str(data),
                      prefix=prefix)
    assert rc == 2 and "cannot make the cache's folder (Permission denied)" in _one_line(err)
    # The poll's lock file beside it cannot be made either.
    rc, _, err = _run("--cache", str(folder / "c.db"), "poll", "--url", "http://127.0.0.1:9",
                      prefix=prefix)
    assert rc == 2 and "cannot make the poll's lock file" in _one_line(err)


def test_a_lock_file_that_cannot_be_made(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    (tmp_path / "c.db.poll-lock").mkdir()  # something else holds its name
    sw = DemoSwitch(seed=3).start()
    try:
        rc, _, err = _run("--cache", str(db), "poll", "--url", sw.url)
    finally:
        sw.stop()
    assert rc == 2
    line = _one_line(err)
    assert f"{db}.poll-lock: cannot make the poll's lock file" in line
    assert "give another cache with --cache" in line


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MiB file system (tmpfs), as root; skipped where mounting is not allowed."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)],
            capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_full_disk_keeps_what_was_stored_and_says_so(tmp_path: Path, small_disk: Path) -> None:
    from noc_tui.records.timefmt import iso_to_ms, ms_to_iso

    t0 = iso_to_ms("2026-11-01T00:00:00Z")
    f = write_jsonl(tmp_path / "attempts.jsonl", [
        attempt(f"f{i:06d}", 1, "A", ms_to_iso(t0 + i * 1000), 200, 5, dst=f"44{i}")
        for i in range(60_000)])
    db = small_disk / "c.db"
    rc, _, err = _run("--cache", str(db), "import", str(f))
    assert rc == 2
    line = _one_line(err)
    assert f"{db}: the disk is full" in line and "what was stored before stays" in line
    stored = _rows(db, "attempts")
    assert 0 < stored < 60_000  # whole batches, committed before the disk filled
    assert f"{f}: {stored} taken" in err and f"imported {stored} records" in err


def _digest(db: Path) -> str:
    return hashlib.sha256(b"".join(
        Path(f"{db}{s}").read_bytes() for s in ("", "-wal") if Path(f"{db}{s}").exists()
    )).hexdigest()


def test_a_damaged_cache_is_said_so_and_never_written_again(tmp_path: Path,
                                                            data: Path) -> None:
    db = tmp_path / "c.db"
    assert _run("--cache", str(db), "import", str(data))[0] == 0
    con = sqlite3.connect(db)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'attempts'").fetchone()
    page = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with db.open("r+b") as fh:  # the attempts table's root page, overwritten
        fh.seek((root[0] - 1) * page)
        fh.write(bytes(range(256)) * (page // 256))
    (tmp_path / "more").mkdir()
    more = write_jsonl(tmp_path / "more" / "attempts.jsonl",
                       [attempt("n1", 1, "A", "2026-11-01T11:00:00Z", 200, 9)])
    rc, _, err = _run("--cache", str(db), "import", str(more))
    assert rc == 2
    line = _one_line(err)
    assert f"{db}: the cache is damaged (database disk image is malformed)" in line
    assert "nothing more is written to it" in line and "run noc-tui poll" in line
    assert Path(f"{db}{DAMAGED_SUFFIX}").exists()
    before = _digest(db)
    sw = DemoSwitch(seed=3).start()
    try:
        for argv in (["import", str(more)], ["poll", "--url", sw.url]):
            rc, _, err = _run("--cache", str(db), *argv)
            assert rc == 2 and "the cache is damaged" in _one_line(err)
        assert _digest(db) == before  # refused before writing anything
        # Moved away, a poll builds a new cache in its place.
        for s in ("", "-wal", "-shm"):
            if Path(f"{db}{s}").exists():
                Path(f"{db}{s}").rename(tmp_path / f"broken{s}")
        rc, _, err = _run("--cache", str(db), "poll", "--url", sw.url)
    finally:
        sw.stop()
    assert rc == 0, err
    assert _rows(db, "carriers") > 0 and not Path(f"{db}{DAMAGED_SUFFIX}").exists()


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                  "0001-01-01T00:00:00+05:00"])
def test_now_out_of_range(tmp_path: Path, data: Path, when: str) -> None:
    db = tmp_path / "c.db"
    for argv in (["import", str(data), "--now", when],
                 ["export", "summary", "--carrier", "A", "--period", "monthly", "--now", when]):
        rc, _, err = _run("--cache", str(db), *argv)
        assert rc == 2
        assert f"--now {when!r} is out of range: give a time from 1970" in _one_line(err)
    rc, _, err = _run("--cache", str(db), "poll", "--url", "http://127.0.0.1:9",
                      "--since", when)
    assert rc == 2 and f"--since {when!r} is out of range" in _one_line(err)


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_outside_0_to_65535(port: str) -> None:
    rc, _, err = _run("demo-switch", "--port", port)
    assert rc == 2
    assert f"argument --port: {port!r} is not a port: give 0-65535" in err


def test_export_to_a_folder_that_cannot_be_written(tmp_path: Path, data: Path,
                                                   restore_modes: None) -> None:
    prefix = _as_user()
    db = tmp_path / "c.db"
    assert _run("--cache", str(db), "import", str(data))[0] == 0
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    rc, _, err = _run("--cache", str(db), "export", "carriers", "-o", str(folder / "x.json"),
                      prefix=prefix)
    assert rc == 2 and f"{folder / 'x.json'}: Permission denied" in _one_line(err)
    rc, _, err = _run("--cache", str(db), "import", str(data), "--rejects",
                      str(folder / "rej.jsonl"), prefix=prefix)
    assert rc == 2 and "cannot write the rejected records" in _one_line(err)
    assert len(ATTEMPTS) == _rows(db, "attempts")
