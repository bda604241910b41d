"""What every evaluation counts: a question's gold, where it ranks, whether an answer holds it.

Shared by the single-question sets (``rag.eval.evaluation``) and the conversation set
(``rag.eval.conversation``), which otherwise know nothing of each other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    #: A near miss: the qualifiers changed from an answerable question, which the answer must name as missing.
    missing: tuple[str, ...] = ()


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


#: Page furniture that must never reach an answer: a glued original headline, an ad, its close button,
#: a photo marker or credit, a live-stream prompt, a site's 如若转载，请注明来源 footer.
FURNITURE = re.compile(
    r"原标题|原標題|广告|廣告|×|资料图|資料圖|进入直播间|進入直播間|(?:记者|記者)\s*\S{2,4}\s*摄|图片来源|圖片來源|(?:转载|轉載)[，,]?\s*(?:请|請)(?:注明|註明)"
)


@dataclass(frozen=True)
class Answered:
    """What one answer is judged on beyond retrieval: its support, its length, where the gold stands."""

    support: str
    missing: tuple[str, ...]
    text: str
    first_quote: str
    refused: bool


def _named(expected: Sequence[str], said: Sequence[str]) -> bool:
    """Whether the answer names one of the changed qualifiers as missing (either may hold the other)."""
    return any(fold(e) in fold(s) or fold(s) in fold(e) for e in expected for s in said)


def _shares(values: Sequence[str], keys: Sequence[str]) -> dict[str, float]:
    total = len(values) or 1
    return {k: round(sum(v == k for v in values) / total, 4) for k in keys}


def answer_metrics(answerable: Sequence[tuple[Item, Answered]], unanswerable: Sequence[tuple[Item, Answered]]) -> dict[str, Any]:
    """Support rates, near misses caught, and how concise and clean the answers are."""
    levels = ("full", "partial", "none")
    mine = [a.support for _i, a in answerable]
    report: dict[str, Any] = {
        "support": {
            "answerable": {**_shares(mine, levels), "held_back": round(sum(s != "full" for s in mine) / (len(mine) or 1), 4)},
            "unanswerable": _shares([a.support for _i, a in unanswerable], levels),
        }
    }
    near = [(i, a) for i, a in unanswerable if i.missing]
    if near:
        named = sum(a.support == "partial" and _named(i.missing, a.missing) for i, a in near)
        refused = sum(a.refused for _i, a in near)
        report["support"]["near_miss"] = {
            "questions": len(near),
            "caught": round((named + refused) / len(near), 4),
            "partial_naming_it": round(named / len(near), 4),
            "refused": round(refused / len(near), 4),
        }
    shown = sorted(len(a.text) for _i, a in answerable if not a.refused)
    report["answers"] = {
        "median_chars": shown[len(shown) // 2] if shown else 0,
        "gold_in_first_quote": round(sum(bool(a.first_quote) and contains_answer(a.first_quote, i) for i, a in answerable) / (len(answerable) or 1), 4),
        "with_furniture": sum(bool(FURNITURE.search(a.text)) for _i, a in [*answerable, *unanswerable] if not a.refused),
    }
    return report
