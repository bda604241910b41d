"""Saved arrays read by position: the rows a question needs, without mapping the file.

A segment's vectors and posting lists are far larger than what one question
reads: a few dozen vectors to rescore, the posting lists of its terms. Mapping
the files would serve those reads too, but the kernel maps whole page-cache
folios (up to megabytes) around each touched row, so a handful of questions
made gigabytes count against the process. A positional read copies just the bytes
asked for; the page cache still keeps hot parts fast, outside the process.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

#: Rows closer than this are read in one call (fewer system calls, a little more copied).
_GAP_ROWS = 8


class StoredArray:
    """A read-only ``.npy`` array (C order) indexed like numpy: int sequences, boolean masks, slices."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            major, _minor = np.lib.format.read_magic(handle)
            header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = header(handle)
            self._offset = handle.tell()
        if fortran:
            raise ValueError(f"{path} is in Fortran order")
        self.path, self.shape, self.dtype = path, tuple(shape), np.dtype(dtype)
        self._row_shape = self.shape[1:]
        self._row_bytes = int(np.prod(self._row_shape, dtype=np.int64)) * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.shape[0]

    def _read_into(self, view: memoryview, offset: int) -> int:
        """Fill the start of ``view`` from ``offset``; how many bytes were read (0 at the end of the file)."""
        if hasattr(os, "preadv"):
            return os.preadv(self._fd, [view], offset)
        with self._lock:  # no positional read (Windows): seek and read as one step
            os.lseek(self._fd, offset, os.SEEK_SET)
            data = os.read(self._fd, len(view))
        view[: len(data)] = data
        return len(data)

    def _read(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop), read straight into the array; one read may return less than asked (Linux stops at 2 GB)."""
        out = np.empty((stop - start, *self._row_shape), dtype=self.dtype)
        view = out.data.cast("B") if out.size else memoryview(b"")
        offset, done = self._offset + start * self._row_bytes, 0
        while done < len(view):
            got = self._read_into(view[done:], offset + done)
            if not got:
                raise OSError(f"{self.path}: the file ends before row {stop}")
            done += got
        return out

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(self.shape[0])
            return self._read(start, max(start, stop)) if step == 1 else self[np.arange(start, stop, step)]
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64).reshape(-1)
        if not rows.shape[0]:
            return np.zeros((0, *self._row_shape), dtype=self.dtype)
        if rows.min() < 0 or rows.max() >= self.shape[0]:
            raise IndexError(f"row out of range for {self.shape[0]} rows in {self.path}")
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        out = np.empty((rows.shape[0], *self._row_shape), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(wanted) > _GAP_ROWS) + 1
        for group in np.split(np.arange(wanted.shape[0]), breaks):
            first, last = int(wanted[group[0]]), int(wanted[group[-1]])
            block = self._read(first, last + 1)
            out[order[group]] = block[wanted[group] - first]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[:]
        return whole if dtype is None else whole.astype(dtype)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            self.close()
