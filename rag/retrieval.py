"""``Question`` → ``Hit``: dense (FAISS) and BM25 candidates, fused into one ranking.

Every hit carries both channels' ranks and scores, so the UI can say why a
passage was chosen and the evaluation can compare the channels on the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunking import Chunk
from .question import Question
from .settings import Fusion, RetrievalMode, Settings
from .store import Store

#: row → (1-based rank in the channel, score). A rank is None for a row the channel scored
#: but did not rank itself (a BM25 candidate whose cosine was computed afterwards).
Channel = dict[int, tuple[int | None, float]]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    rank: int
    score: float
    dense_rank: int | None
    dense_score: float
    bm25_rank: int | None
    bm25_score: float


def dense_candidates(index: Store, vector: np.ndarray, k: int) -> Channel:
    """row → (1-based rank, cosine) for the ``k`` nearest chunks."""
    if k <= 0:
        return {}
    return {row: (rank, score) for rank, (row, score) in enumerate(index.dense(vector, k), start=1)}


def bm25_candidates(index: Store, tokens: tuple[str, ...], k: int) -> Channel:
    return {row: (rank, score) for rank, (row, score) in enumerate(index.lexical(tokens, k), start=1)}


def fuse(
    dense: Channel, bm25: Channel, settings: Settings, mode: RetrievalMode | str
) -> list[tuple[int, float]]:
    """(row, fused score), best first, over the candidates of the channels the mode uses.

    ``score`` fusion (the default) rescales each channel over the candidates —
    cosines min-max, BM25 by its maximum (zero is its natural floor) — and
    mixes them by ``bm25_share``: unlike rank fusion it keeps
    how far ahead a channel's best candidate is, so a confident BM25 match on
    traditional-script text is not outvoted by a weak dense ranking. ``rrf`` is
    weighted reciprocal-rank fusion; a row a channel did not rank itself gets
    nothing from that channel.
    """
    if mode != RetrievalMode.HYBRID:
        channel = dense if mode == RetrievalMode.DENSE else bm25
        return sorted(((row, score) for row, (_rank, score) in channel.items()), key=lambda item: (-item[1], item[0]))
    if settings.fusion == Fusion.RRF:
        fused: dict[int, float] = {}
        for weight, channel in ((settings.dense_weight, dense), (settings.bm25_weight, bm25)):
            for row, (rank, _score) in channel.items():
                fused[row] = fused.get(row, 0.0) + (weight / (settings.rrf_k + rank) if rank is not None else 0.0)
    else:
        dense_norm, bm25_norm = _minmax(dense), _by_max(bm25)
        share = settings.bm25_share
        fused = {row: (1 - share) * dense_norm.get(row, 0.0) + share * bm25_norm.get(row, 0.0) for row in dense_norm.keys() | bm25_norm.keys()}
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _by_max(channel: Channel) -> dict[int, float]:
    high = max((score for _rank, score in channel.values()), default=0.0) or 1.0
    return {row: score / high for row, (_rank, score) in channel.items()}


def _minmax(channel: Channel) -> dict[int, float]:
    if not channel:
        return {}
    scores = [score for _rank, score in channel.values()]
    low, high = min(scores), max(scores)
    span = (high - low) or 1.0
    return {row: (score - low) / span for row, (_rank, score) in channel.items()}


def _complete(index: Store, vector: np.ndarray, dense: Channel, bm25: Channel) -> Channel:
    """Dense scores for BM25 candidates FAISS did not return (rank stays unknown: None)."""
    missing = [row for row in bm25 if row not in dense]
    if not missing:
        return dense
    scores = index.similarity(missing, vector)
    return {**dense, **{row: (None, float(score)) for row, score in zip(missing, scores, strict=True)}}


def search(index: Store, question: Question, settings: Settings, top_k: int | None = None, mode: RetrievalMode | None = None) -> list[Hit]:
    """The ``top_k`` best chunks for a prepared question (its ``vector`` must be set)."""
    if question.vector is None:
        raise ValueError("the question has no vector: prepare it with Rag.prepare, which embeds it")
    vector = question.vector
    mode = mode or settings.retrieval_mode
    top_k = top_k or settings.top_k
    depth = max(settings.candidates, top_k)
    dense = dense_candidates(index, vector, depth)
    bm25 = bm25_candidates(index, question.tokens, depth)
    dense = _complete(index, vector, dense, bm25)
    hits = []
    for rank, (row, score) in enumerate(fuse(dense, bm25, settings, mode)[:top_k], start=1):
        dense_rank, dense_score = dense[row] if row in dense else (None, float(index.similarity([row], vector)[0]))
        bm25_rank, bm25_score = bm25.get(row, (None, 0.0))
        hits.append(Hit(index.chunk(row), rank, score, dense_rank, dense_score, bm25_rank, bm25_score))
    return hits
