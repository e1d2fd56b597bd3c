"""The cache file is private: it holds dialled numbers, callers and contacts.

A new cache is created readable by its owner only (0600), in folders only the owner
can enter (0700) when noc-tui makes them; SQLite gives its -wal and -shm files the
database's mode. An existing cache others can read is left as it is, with a warning.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> None:
    """Create `folder` and the folders above it that do not exist yet, each 0700;
    existing ones are not touched."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for each in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            each.mkdir(mode=FOLDER_MODE)
            os.chmod(each, FOLDER_MODE)  # the umask may have taken more bits off


def make_private(path: Path) -> None:
    """Create the folders up to `path` (0700) and `path` itself, empty (0600), where
    they do not exist yet; existing ones are not touched. OSError if a folder cannot be
    made; a file that cannot be is left for SQLite to say why."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except OSError:  # there already, or a folder not writable: SQLite words that
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def exposed(path: Path) -> str | None:
    """A warning when an existing cache file can be read by others; else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return (f"the cache {path} is readable by other users and holds dialled numbers "
                f"and contacts: run chmod 600 {path}")
    return None
