"""How well a sentence answers a question, and how likely the passages answer it at all.

Sentence score: the question's key terms the sentence covers, its verbatim
phrases, whether it holds the kind of fact asked for (``rag.text.needs``: a figure
right after 增加 for 多了多少, a name for 谁 …), the retrieval rank and cosine.
Evidence: a logistic model over a few features of the passages, fitted by
scripts/fit_evidence.py; the refusal gate compares it with a threshold.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from ..search.question import CONTENT_NOISE, Question, idf_table
from ..search.retrieval import Hit
from ..settings import Settings
from ..text.folding import cross_lingual, fold
from ..text.needs import Fact, need_score, spans_in

#: Fitted by scripts/fit_evidence.py on CMRC 2018 trial and DRCD dev (held-out articles), the seed QA set,
#: the news QA set and half the paraphrased news questions: a reader's own wording covers fewer of the
#: sentence's words than a question written while reading the article.
_EVIDENCE_WEIGHTS = (3.09, 3.71, 4.38, -1.17, -2.22, -1.47)
_EVIDENCE_BIAS = -5.16
#: Cross-lingual questions: evidence is 0.5 at this dense cosine (e5-small, seed QA English questions).
_CROSS_LINGUAL_MIDPOINT = 0.745
_CROSS_LINGUAL_SLOPE = 40.0
_NEED_WEIGHT = 0.3
_INHERITED_SHARE = 1.0
#: A term found only loosely (its characters in order, one other between: 最老 in 最古老) counts at this share.
_LOOSE_SHARE = 0.5
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HAN_GAP = r"[\u4e00-\u9fff]?"
_PHRASE_WEIGHT = 0.3
_RANK_PRIOR = 0.1
_DENSE_WEIGHT = 0.3
_FOCUS_WEIGHT = 0.3
#: Hits whose sentences the evidence model reads for the asked kind of fact.
_NEED_HITS = 3
#: A question without its candidates' common subject is compared by meaning only when at least this many
#: content characters, and this share of them, remain.
_SUBJECT_FREE_MIN_CHARS = 4
_SUBJECT_FREE_MIN_SHARE = 0.5


def coverage(terms: dict[str, float], text: str, inherited: str = "") -> float:
    """Share of the question's term weight found in ``text`` (folded).

    Terms found only in ``inherited`` — the document title and section
    heading the sentence sits under — count at a discount: a sentence saying
    "its body length reaches 50 cm" is about the title's subject even when it
    says 它/本鱼 instead of repeating the name.
    """
    return _folded_coverage(terms, fold(text), fold(inherited) if inherited else "")


def _folded_coverage(terms: dict[str, float], folded: str, context: str) -> float:
    total = sum(terms.values())
    if not total:
        return 0.0
    found = sum(
        w if t in folded else _INHERITED_SHARE * w if t in context else _LOOSE_SHARE * w if _loosely_in(t, folded, context) else 0.0 for t, w in terms.items()
    )
    return found / total


def _loosely_in(term: str, *texts: str) -> bool:
    """Whether the term's characters stand in order in one of ``texts`` with at most one character between
    each two: a reader shortens the article's word (最老 for 最古老, 南马 for 南昌马拉松)."""
    pattern = _loose_pattern(term)
    return pattern is not None and any(pattern.search(t) for t in texts if t)


@lru_cache(maxsize=4096)
def _loose_pattern(term: str) -> re.Pattern[str] | None:
    if len(term) < 2 or not all(_HAN.fullmatch(ch) for ch in term):
        return None
    return re.compile(_HAN_GAP.join(re.escape(ch) for ch in term))


def phrase_overlap(question: Question, sentence: str) -> float:
    """Longest run of question characters found verbatim in the sentence, as a share of the question.

    Rewards a sentence that repeats a multi-word phrase of the question
    (个人手机银行客户) over one that merely shares scattered words with it.
    """
    q = question.content
    s = CONTENT_NOISE.sub("", fold(sentence))
    if not q or not s:
        return 0.0
    match = SequenceMatcher(None, q, s, autojunk=False).find_longest_match(0, len(q), 0, len(s))
    return match.size / len(q) if match.size >= 2 else 0.0


def facts(question: Question, sentence: str) -> list[Fact]:
    """The spans of ``sentence`` that would answer ``question`` (offsets into the sentence), strongest first."""
    return spans_in(sentence, question.needs, question.unit, question.folded)


def need_bonus(question: Question, sentence: str) -> float:
    """Score added to a sentence holding the kind of fact asked for (0 when it holds none or none is asked)."""
    return _NEED_WEIGHT * need_score(facts(question, sentence))


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int  # document offsets
    end: int
    sentence: str
    score: float
    coverage: float  # of the question's terms, the title and heading above it counting too
    own: float  # of the question's terms, in the sentence alone: its relevance of its own
    need: float | None  # how well it holds the asked kind of fact; None when the question asks no typed fact
    facts: tuple[Fact, ...]


def candidates(asked: Question, hits: list[Hit], settings: Settings) -> list[Candidate]:
    """Every quotable sentence of the first ``answer_hits`` hits, best first."""
    found = []
    for hit in hits[: settings.answer_hits]:
        inherited = fold(f"{hit.chunk.title}\n{hit.chunk.context}")
        for start, end, sentence in hit.chunk.quotable_sentences():
            folded = fold(sentence)
            cov = _folded_coverage(asked.terms, folded, inherited)
            spans = facts(asked, sentence)
            need = need_score(spans) if asked.needs else None
            score = (
                cov
                + _PHRASE_WEIGHT * phrase_overlap(asked, sentence)
                + _NEED_WEIGHT * (need or 0.0)
                + _RANK_PRIOR / hit.rank
                + _DENSE_WEIGHT * hit.dense_score
                + _FOCUS_WEIGHT * _folded_coverage(asked.focus, folded, inherited)
            )
            own = _folded_coverage(asked.terms, folded, "")
            found.append(Candidate(hit, hit.chunk.start + start, hit.chunk.start + end, sentence, score, cov, own, need, tuple(spans)))
    return sorted(found, key=lambda c: -c.score)


def evidence_features(question: Question, hits: list[Hit], best: Candidate, ranked: list[Candidate] | None = None) -> tuple[float, ...]:
    """(top dense cosine, best chunk coverage, best sentence coverage, heaviest missing term, heaviest missing noun,
    asked fact missing).

    The missing term and noun catch the near miss: a question about 净利润,
    董事长 or 美国的分行 whose other words (工行, 2023, 分行) all occur in the
    documents. A missing noun weighs more than a missing verb, which is usually
    just a paraphrase. The last is 1 when the question asks for a kind of fact
    (a figure, a date, a name) and no well-covering sentence of the top passages
    holds one, 0 when one does or no typed fact is asked.
    """
    terms = question.terms
    total = sum(terms.values()) or 1.0
    texts = [f"{h.chunk.title}\n{h.chunk.search_text}" for h in hits[:3]]
    chunk_coverage = max(coverage(terms, t) for t in texts)
    top, near = fold(texts[0]), fold("\n".join(texts))
    missing = max([w / total for t, w in terms.items() if t not in top] or [0.0])
    missing_noun = max([terms.get(n, idf_table()[1]) / total for n in question.nouns if n not in near] or [0.0])
    return (
        max(h.dense_score for h in hits),
        chunk_coverage,
        best.coverage,
        missing,
        missing_noun,
        _fact_missing(best, ranked or [best]),
    )


def _fact_missing(best: Candidate, ranked: list[Candidate]) -> float:
    if best.need is None:
        return 0.0
    near = [c for c in ranked if c.hit.rank <= _NEED_HITS and c.coverage >= 0.5 * best.coverage]
    return 1.0 - max((c.need or 0.0 for c in near), default=0.0)


def evidence(question: Question, hits: list[Hit], best: Candidate | None, ranked: list[Candidate] | None = None) -> float:
    """How likely the documents answer the question (0–1); the refusal gate compares it to a threshold.

    A logistic model over :func:`evidence_features`, fitted by
    scripts/fit_evidence.py. A question in another script than the passages
    (English asked of Chinese text) has no lexical overlap to judge by, so
    only the dense similarity speaks for it.
    """
    if not hits or best is None:
        return 0.0
    features = evidence_features(question, hits, best, ranked)
    if cross_lingual(question.text, hits[0].chunk.text):
        z = _CROSS_LINGUAL_SLOPE * (features[0] - _CROSS_LINGUAL_MIDPOINT)
    else:
        z = _EVIDENCE_BIAS + sum(w * x for w, x in zip(_EVIDENCE_WEIGHTS, features, strict=True))
    return round(1 / (1 + math.exp(-z)), 4)


#: text → unit vectors of the sentences, as the passages were embedded (``Embedder.embed_passages``).
SentenceVectors = Callable[[list[str]], np.ndarray]
#: a question's text → its unit vector, as questions are embedded (``Embedder.embed_query``).
QuestionVector = Callable[[str], np.ndarray]


def reranked(
    question: Question, ranked: list[Candidate], vectors: SentenceVectors | None, weight: float, top: int, ask: QuestionVector | None = None
) -> list[Candidate]:
    """The best ``top`` candidates re-scored by how close each sentence's meaning is to the question's.

    A question asked in other words than the article's (被罚了多少钱 for 处以罚款250元) shares few
    terms with the sentence that answers it and many with the article's lead; the cosine of the
    sentence's own vector to the question's tells them apart. Scores move by ``weight`` times the
    cosine's shortfall from the closest sentence's, so the best match keeps its score and the
    ratios later choices compare stay as they were.

    With ``ask``, the closeness is the mean of two cosines: to the whole question, and to the question
    without the subject every candidate's title names (:func:`beyond_titles`). Under the title 斯氏腔吻鳕
    every sentence is about the fish; the lead that names it (斯氏腔吻鳕为…的其中一种) is the closest to
    the whole question, 以多毛类为食 to 主要以什么为食.
    """
    if vectors is None or weight == 0 or question.vector is None or len(ranked) < 2:
        return ranked
    head = ranked[:top]
    sentences = vectors([c.sentence for c in head])
    cosines = sentences @ np.asarray(question.vector, dtype=np.float32)
    rest = beyond_titles(question, [c.hit.chunk.title for c in head]) if ask is not None else None
    if ask is not None and rest is not None:
        cosines = (cosines + sentences @ np.asarray(ask(rest), dtype=np.float32)) / 2
    closest = float(cosines.max())
    moved = [dataclasses.replace(c, score=c.score - weight * (closest - float(s))) for c, s in zip(head, cosines, strict=True)]
    return sorted(moved, key=lambda c: -c.score) + ranked[top:]


def beyond_titles(question: Question, titles: list[str]) -> str | None:
    """The question (folded) without the runs of two or more characters that every one of ``titles`` holds;
    None when that leaves it whole, or too little of it to mean anything (什么是棱柱 under the title 棱柱).

    A headline that holds most of the question (news: 恒大汽车2022年亏损476亿 for 恒大汽车去年亏了多少)
    leaves too little to compare by; a title that names the subject (an encyclopedia entry) leaves the
    question's own ask.
    """
    folded = question.folded
    masks = [_held_by(folded, fold(t)) for t in dict.fromkeys(titles)]
    if not masks:
        return None
    rest = "".join(ch for i, ch in enumerate(folded) if not all(m[i] for m in masks))
    kept = len(CONTENT_NOISE.sub("", rest))
    if rest == folded or kept < _SUBJECT_FREE_MIN_CHARS or kept < _SUBJECT_FREE_MIN_SHARE * len(question.content):
        return None
    return rest


def _held_by(folded: str, title: str) -> list[bool]:
    """For each character of ``folded``, whether it lies in a run of two or more characters ``title`` holds
    (greedy, longest run first from each position)."""
    held = [False] * len(folded)
    i = 0
    while i < len(folded):
        end = i + 2
        while end <= len(folded) and folded[i:end] in title:
            end += 1
        if end - 1 - i >= 2:
            held[i : end - 1] = [True] * (end - 1 - i)
            i = end - 1
        else:
            i += 1
    return held
