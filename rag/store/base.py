"""The ``Store`` interface: what retrieval and the API need from an index, whatever holds it.

Rows are opaque integers a store hands out with its candidates and takes back
in ``chunk`` and ``similarity``; they stay valid until the store is reopened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from ..chunking import Chunk
from ..documents import Document
from .manifest import Manifest

#: (row, score) pairs, best first.
Ranked = list[tuple[int, float]]


class Store(Protocol):
    @property
    def manifest(self) -> Manifest: ...

    @property
    def documents(self) -> Mapping[str, Document]: ...

    @property
    def size(self) -> int:
        """Live chunks."""
        ...

    def dense(self, vector: np.ndarray, k: int) -> Ranked:
        """The ``k`` chunks nearest to ``vector`` by inner product."""
        ...

    def lexical(self, tokens: Sequence[str], k: int) -> Ranked:
        """The ``k`` best BM25 matches for ``tokens`` (positive scores only), statistics over live chunks."""
        ...

    def similarity(self, rows: Sequence[int], vector: np.ndarray) -> np.ndarray:
        """Inner products of these rows' vectors with ``vector``."""
        ...

    def chunk(self, row: int) -> Chunk: ...
