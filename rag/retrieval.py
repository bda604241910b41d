"""Hybrid retrieval: dense (FAISS) and BM25 candidates fused by weighted reciprocal rank.

Every hit carries both channels' ranks and scores, so the UI can say why a
passage was chosen and the evaluation can compare the channels on the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunking import Chunk
from .settings import Settings
from .store import Index

MODES = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    rank: int
    score: float
    dense_rank: int | None
    dense_score: float
    bm25_rank: int | None
    bm25_score: float


@dataclass(frozen=True)
class Query:
    """A question prepared once for both channels: its text and its dense vector."""

    text: str
    vector: np.ndarray


def dense_candidates(index: Index, vector: np.ndarray, k: int) -> dict[int, tuple[int, float]]:
    """row → (1-based rank, cosine) for the ``k`` nearest chunks."""
    if not index.chunks or k <= 0:
        return {}
    scores, rows = index.faiss_index.search(vector.reshape(1, -1).astype(np.float32), min(k, len(index.chunks)))
    return {int(r): (rank, float(s)) for rank, (r, s) in enumerate(zip(rows[0], scores[0]), start=1) if r >= 0}


def bm25_candidates(index: Index, text: str, k: int) -> dict[int, tuple[int, float]]:
    results = index.lexical.search(text, k)
    return {int(r): (rank, float(s)) for rank, (r, s) in enumerate(zip(results.indices, results.scores), start=1)}


def fuse(
    dense: dict[int, tuple[int, float]], bm25: dict[int, tuple[int, float]], settings: Settings, mode: str
) -> list[tuple[int, float]]:
    """(row, fused score), best first: Σ weight / (rrf_k + rank) over the channels the mode uses."""
    dense_weight = 0.0 if mode == "bm25" else settings.dense_weight
    bm25_weight = 0.0 if mode == "dense" else settings.bm25_weight
    fused: dict[int, float] = {}
    for weight, channel in ((dense_weight, dense), (bm25_weight, bm25)):
        if weight <= 0:
            continue
        for row, (rank, _score) in channel.items():
            fused[row] = fused.get(row, 0.0) + weight / (settings.rrf_k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def search(index: Index, query: Query, settings: Settings, top_k: int | None = None, mode: str | None = None) -> list[Hit]:
    mode = mode or settings.retrieval_mode
    if mode not in MODES:
        raise ValueError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")
    top_k = top_k or settings.top_k
    depth = max(settings.candidates, top_k)
    dense = dense_candidates(index, query.vector, depth)
    bm25 = bm25_candidates(index, query.text, depth)
    hits = []
    for rank, (row, score) in enumerate(fuse(dense, bm25, settings, mode)[:top_k], start=1):
        dense_rank, dense_score = dense.get(row, (None, float(index.vectors[row] @ query.vector)))
        bm25_rank, bm25_score = bm25.get(row, (None, 0.0))
        hits.append(Hit(index.chunks[row], rank, score, dense_rank, dense_score, bm25_rank, bm25_score))
    return hits
