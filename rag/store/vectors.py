"""Which FAISS index a segment gets, building it, and searching it past deleted rows.

Below ``faiss_exact_max`` vectors a segment is searched exactly (``Flat``);
above it, a graph index (``HNSW48,SQfp16``: 48 links a node, its vectors kept as
16-bit floats, half the memory of 32-bit ones) keeps queries fast, searched
with ``faiss_ef_search`` candidates (recall@10 against exact search is printed by
scripts/bench_scale.py). ``RAG_FAISS_FACTORY`` names any FAISS factory string
to override the choice.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

AUTO = "auto"
EXACT = "Flat"
GRAPH = "HNSW48,SQfp16"


def choose_factory(setting: str, rows: int, exact_max: int) -> str:
    if setting != AUTO:
        return setting
    return EXACT if rows <= exact_max else GRAPH


def build(vectors: np.ndarray, factory: str) -> Any:
    index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    if vectors.shape[0]:
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
    return index


def tune(index: Any, ef_search: int) -> Any:
    """Search-time depth for graph indexes (no effect on exact ones)."""
    if hasattr(faiss, "downcast_index"):
        inner = faiss.downcast_index(index)
        if hasattr(inner, "hnsw"):
            inner.hnsw.efSearch = max(ef_search, 1)
    return index


def scores_exact(index: Any) -> bool:
    """Whether the index's scores are the exact inner products (a flat index) or approximations to rescore."""
    return isinstance(faiss.downcast_index(index), faiss.IndexFlat)


def search(index: Any, vector: np.ndarray, k: int, live: np.ndarray, dead: int) -> list[tuple[int, float]]:
    """(row, inner product) of the ``k`` nearest live rows; asks for ``dead`` more to step over deleted ones."""
    total = int(index.ntotal)
    if not total or k <= 0:
        return []
    scores, rows = index.search(vector.reshape(1, -1).astype(np.float32), min(k + dead, total))
    found = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0 and live[r]]
    return found[:k]
