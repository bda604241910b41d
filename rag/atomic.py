"""Crash-safe file writing shared by the index store and the model builder.

Both publish a folder or file only once it is complete and on disk: write to
a temporary name, fsync the data and the directory entries, then rename.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Any


def fsync_file(handle: IO[Any]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def fsync_dir(folder: Path) -> None:
    """fsync a directory so that renames and new entries in it survive a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """fsync every file and every directory under ``folder``, the folder itself last."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        fsync_dir(directory)
    fsync_dir(folder)


def write_atomic(path: Path, data: bytes) -> None:
    """Write temp, fsync, rename: ``path`` holds either the old or the new bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            fsync_file(handle)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
