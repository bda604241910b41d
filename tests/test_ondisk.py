"""Arrays read by position (rag.ondisk) index exactly as numpy does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.ondisk import StoredArray


@pytest.mark.parametrize("shape", [(1000,), (300, 7)])
def test_reads_equal_numpy_indexing(tmp_path: Path, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    array = rng.standard_normal(shape).astype(np.float32)
    np.save(tmp_path / "a.npy", array)
    stored = StoredArray(tmp_path / "a.npy")
    assert stored.shape == array.shape and len(stored) == shape[0] and stored.dtype == array.dtype
    rows = rng.integers(0, shape[0], 40)
    for key in ([5, 3, 3, 250, 0], rows, rows.tolist(), rng.random(shape[0]) > 0.7, np.zeros(shape[0], dtype=bool), []):
        np.testing.assert_array_equal(stored[key], array[np.asarray(key, dtype=bool if isinstance(key, np.ndarray) and key.dtype == bool else np.int64)])
    for key in (slice(10, 20), slice(None), slice(290, 400), slice(5, 5), slice(0, 50, 7)):
        np.testing.assert_array_equal(stored[key], array[key])
    np.testing.assert_array_equal(np.asarray(stored), array)
    with pytest.raises(IndexError):
        stored[[shape[0]]]
    stored.close()


def test_a_removed_file_stays_readable_while_open(tmp_path: Path) -> None:
    """Writers delete segments no generation uses; a reader that has one open keeps reading it."""
    np.save(tmp_path / "a.npy", np.arange(100, dtype=np.int32))
    stored = StoredArray(tmp_path / "a.npy")
    (tmp_path / "a.npy").unlink()
    np.testing.assert_array_equal(stored[[99, 1]], [99, 1])


def test_a_read_returning_less_than_asked_is_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One read may return less than asked (Linux stops at 2 GB): a large block is read in several."""
    import os

    array = np.arange(5000, dtype=np.float32).reshape(1000, 5)
    np.save(tmp_path / "a.npy", array)
    stored = StoredArray(tmp_path / "a.npy")
    real = os.preadv
    monkeypatch.setattr(os, "preadv", lambda fd, views, offset: real(fd, [views[0][:1000]], offset))
    np.testing.assert_array_equal(stored[:], array)
    np.testing.assert_array_equal(stored[[999, 0, 500]], array[[999, 0, 500]])
