"""``Question`` → ``Hit``: dense (FAISS) and BM25 candidates, fused into one ranking.

Every hit carries both channels' ranks and scores, so the UI can say why a
passage was chosen and the evaluation can compare the channels on the same run.

Dates and stories shape the candidates before the top ``k`` are cut: a
``since``/``until`` range keeps only documents published in it (inside both
channels, so every hit is in range); a period the question names lifts the
documents published in it; and only one document per story competes, so a
syndicated report does not crowd out the second relevant story — its other
copies travel with the hit as ``same_story``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ingest.chunking import Chunk
from ..settings import Fusion, RetrievalMode, Settings
from ..store import DateRange, Store
from ..text.dates import Period, in_range
from .question import Question

#: row → (1-based rank in the channel, score). A rank is None for a row the channel scored
#: but did not rank itself (a BM25 candidate whose cosine was computed afterwards).
Channel = dict[int, tuple[int | None, float]]


@dataclass(frozen=True)
class Report:
    """Another document that tells a hit's story (another outlet's copy)."""

    doc_id: str
    title: str
    published: str


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    rank: int
    score: float
    dense_rank: int | None
    dense_score: float
    bm25_rank: int | None
    bm25_score: float
    published: str = ""  # the document's publication date (ISO), "" when unknown
    story: str = ""  # the story id its document belongs to (its own id when alone)
    same_story: tuple[Report, ...] = ()  # the story's other documents, newest first


@dataclass(frozen=True)
class Filters:
    """What narrows or steers the candidates: a publication range, and the period a question names."""

    since: str = ""
    until: str = ""
    period: Period | None = None


def dense_candidates(index: Store, vector: np.ndarray, k: int, within: DateRange | None = None) -> Channel:
    """row → (1-based rank, cosine) for the ``k`` nearest chunks (of documents published ``within``, when given)."""
    if k <= 0:
        return {}
    return {row: (rank, score) for rank, (row, score) in enumerate(index.dense(vector, k, within), start=1)}


def bm25_candidates(index: Store, tokens: tuple[str, ...], k: int, within: DateRange | None = None) -> Channel:
    return {row: (rank, score) for rank, (row, score) in enumerate(index.lexical(tokens, k, within), start=1)}


def fuse(dense: Channel, bm25: Channel, settings: Settings, mode: RetrievalMode | str) -> list[tuple[int, float]]:
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


def newest_published(index: Store) -> str:
    """The newest publication date in the index ("" when none is dated): what 最近 and 今年 count from."""
    return index.newest_published


def _doc_of(index: Store, row: int) -> str:
    return index.chunk(row).doc_id


def _prefer_period(index: Store, ranked: list[tuple[int, float]], period: Period | None, boost: float) -> list[tuple[int, float]]:
    """Scores of documents published in the question's period lifted by ``boost`` (a share of the score)."""
    if period is None or boost == 0:
        return ranked
    lifted = []
    for row, score in ranked:
        when = index.published(_doc_of(index, row))
        lifted.append((row, score * (1 + boost) if when and in_range(when, period.start, period.end) else score))
    return sorted(lifted, key=lambda item: (-item[1], item[0]))


def _one_document_per_story(index: Store, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Rows of the best-ranked document of each story; other copies of a story give way."""
    chosen: dict[str, str] = {}
    kept = []
    for row, score in ranked:
        doc_id = _doc_of(index, row)
        if chosen.setdefault(index.story(doc_id), doc_id) == doc_id:
            kept.append((row, score))
    return kept


def _reports(index: Store, stories: set[str]) -> dict[str, list[Report]]:
    """story → its documents as reports, newest first."""
    found: dict[str, list[Report]] = {}
    for told in stories:
        for doc_id in index.story_members.get(told, ()):
            found.setdefault(told, []).append(Report(doc_id, index.title(doc_id), index.published(doc_id)))
    for reports in found.values():
        reports.sort(key=lambda r: (r.published, r.doc_id), reverse=True)
    return found


def prefer(fused: list[tuple[int, float]], index: Store, docs: frozenset[str], bonus: float) -> list[tuple[int, float]]:
    """``fused`` with passages of ``docs`` raised by ``bonus``: a follow-up breaks near-ties towards what was just cited."""
    if not docs or not bonus:
        return fused
    raised = [(row, score + bonus if _doc_of(index, row) in docs else score) for row, score in fused]
    return sorted(raised, key=lambda item: (-item[1], item[0]))


def search(
    index: Store,
    question: Question,
    settings: Settings,
    top_k: int | None = None,
    mode: RetrievalMode | None = None,
    filters: Filters | None = None,
    prefer_docs: frozenset[str] = frozenset(),
) -> list[Hit]:
    """The ``top_k`` best chunks for a prepared question (its ``vector`` must be set).

    ``filters`` limit the publication dates searched and name the question's period;
    ``prefer_docs`` are the documents the previous answer of a conversation cited (see rag.answer.conversation).
    """
    if question.vector is None:
        raise ValueError("the question has no vector: prepare it with Rag.prepare, which embeds it")
    filters = filters or Filters(settings.since, settings.until)
    vector = question.vector
    mode = mode or settings.retrieval_mode
    top_k = top_k or settings.top_k
    depth = max(settings.candidates, top_k)
    within = DateRange(filters.since, filters.until) if filters.since or filters.until else None
    dense = dense_candidates(index, vector, depth, within)
    bm25 = bm25_candidates(index, question.tokens, depth, within)
    dense = _complete(index, vector, dense, bm25)
    lifted = _prefer_period(index, fuse(dense, bm25, settings, mode), filters.period, settings.period_boost)
    scores = dict(lifted)  # a hit keeps this score: the follow-up bonus only orders
    ranked = _one_document_per_story(index, prefer(lifted, index, prefer_docs, settings.follow_up_doc_bonus))[:top_k]
    stories = {index.story(_doc_of(index, row)) for row, _ in ranked}
    reports = _reports(index, stories)
    hits = []
    for rank, (row, _ordered) in enumerate(ranked, start=1):
        score = scores[row]
        chunk = index.chunk(row)
        told = index.story(chunk.doc_id)
        dense_rank, dense_score = dense[row] if row in dense else (None, float(index.similarity([row], vector)[0]))
        bm25_rank, bm25_score = bm25.get(row, (None, 0.0))
        others = tuple(r for r in reports.get(told, []) if r.doc_id != chunk.doc_id)
        hits.append(Hit(chunk, rank, score, dense_rank, dense_score, bm25_rank, bm25_score, index.published(chunk.doc_id), told, others))
    return hits
