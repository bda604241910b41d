"""Hybrid retrieval: dense (FAISS) and BM25 candidates fused by weighted reciprocal rank.

Every hit carries both channels' ranks and scores, so the UI can say why a
passage was chosen and the evaluation can compare the channels on the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunking import Chunk
from .settings import RETRIEVAL_MODES as MODES, Settings
from .store import Index


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
    """(row, fused score), best first, over the candidates of the channels the mode uses.

    ``score`` fusion (the default) rescales each channel over the candidates —
    cosines min-max, BM25 by its maximum (zero is its natural floor) — and
    mixes them by ``bm25_share``: unlike rank fusion it keeps
    how far ahead a channel's best candidate is, so a confident BM25 match on
    traditional-script text is not outvoted by a weak dense ranking. ``rrf`` is
    weighted reciprocal-rank fusion.
    """
    if mode != "hybrid":
        channel = dense if mode == "dense" else bm25
        return sorted(((row, score) for row, (_rank, score) in channel.items()), key=lambda item: (-item[1], item[0]))
    if settings.fusion == "rrf":
        fused: dict[int, float] = {}
        for weight, channel in ((settings.dense_weight, dense), (settings.bm25_weight, bm25)):
            for row, (rank, _score) in channel.items():
                fused[row] = fused.get(row, 0.0) + weight / (settings.rrf_k + rank)
    else:
        dense_norm, bm25_norm = _minmax(dense), _by_max(bm25)
        share = settings.bm25_share
        fused = {row: (1 - share) * dense_norm.get(row, 0.0) + share * bm25_norm.get(row, 0.0) for row in dense_norm.keys() | bm25_norm.keys()}
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _by_max(channel: dict[int, tuple[int, float]]) -> dict[int, float]:
    high = max((score for _rank, score in channel.values()), default=0.0) or 1.0
    return {row: score / high for row, (_rank, score) in channel.items()}


def _minmax(channel: dict[int, tuple[int, float]]) -> dict[int, float]:
    if not channel:
        return {}
    scores = [score for _rank, score in channel.values()]
    low, high = min(scores), max(scores)
    span = (high - low) or 1.0
    return {row: (score - low) / span for row, (_rank, score) in channel.items()}


def _complete(index: Index, query: Query, dense: dict[int, tuple[int, float]], bm25: dict[int, tuple[int, float]]) -> dict[int, tuple[int, float]]:
    """Dense scores for BM25 candidates FAISS did not return (rank stays unknown: None)."""
    missing = [row for row in bm25 if row not in dense]
    if not missing:
        return dense
    scores = index.vectors[missing] @ query.vector
    return {**dense, **{row: (None, float(score)) for row, score in zip(missing, scores)}}  # type: ignore[dict-item]


def search(index: Index, query: Query, settings: Settings, top_k: int | None = None, mode: str | None = None) -> list[Hit]:
    mode = mode or settings.retrieval_mode
    if mode not in MODES:
        raise ValueError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")
    top_k = top_k or settings.top_k
    depth = max(settings.candidates, top_k)
    dense = dense_candidates(index, query.vector, depth)
    bm25 = bm25_candidates(index, query.text, depth)
    dense = _complete(index, query, dense, bm25)
    hits = []
    for rank, (row, score) in enumerate(fuse(dense, bm25, settings, mode)[:top_k], start=1):
        dense_rank, dense_score = dense[row] if row in dense else (None, float(index.vectors[row] @ query.vector))
        bm25_rank, bm25_score = bm25.get(row, (None, 0.0))
        hits.append(Hit(index.chunks[row], rank, score, dense_rank, dense_score, bm25_rank, bm25_score))
    return hits
