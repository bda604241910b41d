"""What every evaluation counts: a question's gold, where it ranks, whether an answer holds it.

Shared by the single-question sets (``rag.eval.evaluation``) and the conversation set
(``rag.eval.conversation``), which otherwise know nothing of each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..search.retrieval import Hit
from ..text.folding import fold

RANKS = (1, 5, 10)


@dataclass(frozen=True)
class Item:
    """One question with what counts as finding and answering it."""

    question: str
    gold_docs: frozenset[str]  # documents that hold the evidence (empty when unanswerable)
    evidence: tuple[str, ...]  # any of these substrings marks a chunk as the right one
    answers: tuple[str, ...]  # the answer text must contain one of these
    answerable: bool = True
    require_all: bool = False  # own QA set: every keyword must appear


def first_rank(hits: Sequence[Hit], item: Item, chunk_level: bool) -> int | None:
    """1-based rank of the first hit from a gold document (holding the evidence, at chunk level)."""
    for hit in hits:
        if hit.chunk.doc_id not in item.gold_docs:
            continue
        if not chunk_level or any(fold(e) in fold(hit.chunk.text) for e in item.evidence):
            return hit.rank
    return None


def doc_ranks(hits: Sequence[Hit], item: Item) -> int | None:
    """Rank of the gold document when hits are collapsed to distinct documents."""
    seen: list[str] = []
    for hit in hits:
        if hit.chunk.doc_id not in seen:
            seen.append(hit.chunk.doc_id)
            if hit.chunk.doc_id in item.gold_docs:
                return len(seen)
    return None


def contains_answer(text: str, item: Item) -> bool:
    folded = fold(text).replace(" ", "")
    found = [fold(a).replace(" ", "") in folded for a in item.answers]
    return all(found) if item.require_all else any(found)


def recall_mrr(ranks: list[int | None]) -> dict[str, float]:
    total = len(ranks) or 1
    out = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / total for k in RANKS}
    out["mrr@10"] = sum(1 / r for r in ranks if r is not None and r <= 10) / total
    return {k: round(v, 4) for k, v in out.items()}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]
