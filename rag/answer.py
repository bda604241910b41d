"""``Hit`` → ``Answer``: verbatim sentences with [n] citations, or an honest refusal.

The extractive answer invents nothing: each answer sentence is a quotable
sentence of the chunk it cites, chosen by how much of the question's key terms
it covers and whether it has the kind of fact the question asks for (a number
for 多少, a date for 何时, a reason for 为什么 …). When the best evidence is weak
the answer says, in the question's language, that the documents do not say,
and lists the closest passages as related reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .documents import PARAGRAPH_SEPARATOR
from .folding import fold, has_cjk
from .question import CONTENT_NOISE, Question, idf_table
from .retrieval import Hit
from .settings import Settings

Span = tuple[int, int]


@dataclass(frozen=True)
class Citation:
    n: int
    hit: Hit
    quotes: tuple[str, ...]
    spans: tuple[Span, ...]  # offsets of the quotes in the document text
    paragraph: int  # 0-based index of the paragraph holding the first quote

    @property
    def quote(self) -> str:
        return self.quotes[0]


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...]
    related: tuple[Hit, ...]
    evidence: float
    language: str
    timings: Mapping[str, float] = field(default_factory=dict)  # stage → milliseconds, filled by Rag.ask
    #: What was searched when the question was read in its conversation ("" when it was searched as asked).
    standalone_question: str = ""
    history_used: bool = False  # whether earlier turns changed what was searched
    #: The publication period the question was read as naming (2023年7月, 最近 → its dates); "" when none.
    period: str = ""


REFUSALS = {
    "zh-hans": "资料中没有找到这个问题的答案。以下是最相关的段落，仅供参考。",
    "zh-hant": "資料中沒有找到這個問題的答案。以下是最相關的段落，僅供參考。",
    "en": "The documents do not contain the answer to this question. The closest passages are listed below as related reading.",
}
EMPTY_QUESTION = {
    "zh-hans": "请输入一个问题。",
    "zh-hant": "請輸入一個問題。",
    "en": "Please type a question.",
}

# --------------------------------------------------------------------------- sentence scoring

#: Fitted by scripts/fit_evidence.py on CMRC 2018 trial (held-out articles) and the seed QA set.
_EVIDENCE_WEIGHTS = (-0.35, -0.80, 5.92, -6.67, -7.11)
_EVIDENCE_BIAS = 0.74
#: Cross-lingual questions: evidence is 0.5 at this dense cosine (e5-small, seed QA English questions).
_CROSS_LINGUAL_MIDPOINT = 0.745
_CROSS_LINGUAL_SLOPE = 40.0
_CUE_BONUS = 0.15
_INHERITED_SHARE = 1.0
_PHRASE_WEIGHT = 0.3
_RANK_PRIOR = 0.1
_DENSE_WEIGHT = 0.3


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
    found = sum(w if t in folded else _INHERITED_SHARE * w if t in context else 0.0 for t, w in terms.items())
    return found / total


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


def cue_bonus(question: Question, sentence: str) -> float:
    return sum(_CUE_BONUS for answer in question.cues if answer.search(sentence))


# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    start: int  # document offsets
    end: int
    sentence: str
    score: float
    coverage: float


def candidates(asked: Question, hits: list[Hit], settings: Settings) -> list[_Candidate]:
    """Every quotable sentence of the first ``answer_hits`` hits, best first."""
    found = []
    for hit in hits[: settings.answer_hits]:
        inherited = fold(f"{hit.chunk.title}\n{hit.chunk.context}")
        for start, end, sentence in hit.chunk.quotable_sentences():
            cov = _folded_coverage(asked.terms, fold(sentence), inherited)
            score = (
                cov
                + _PHRASE_WEIGHT * phrase_overlap(asked, sentence)
                + cue_bonus(asked, sentence)
                + _RANK_PRIOR / hit.rank
                + _DENSE_WEIGHT * hit.dense_score
            )
            found.append(_Candidate(hit, hit.chunk.start + start, hit.chunk.start + end, sentence, score, cov))
    return sorted(found, key=lambda c: -c.score)


def evidence_features(question: Question, hits: list[Hit], best: _Candidate) -> tuple[float, ...]:
    """(top dense cosine, best chunk coverage, best sentence coverage, heaviest missing term, heaviest missing noun).

    The last two catch the near miss: a question about 净利润, 董事长 or 美国的分行
    whose other words (工行, 2023, 分行) all occur in the documents. A missing
    noun weighs more than a missing verb, which is usually just a paraphrase.
    """
    terms = question.terms
    total = sum(terms.values()) or 1.0
    texts = [f"{h.chunk.title}\n{h.chunk.search_text}" for h in hits[:3]]
    chunk_coverage = max(coverage(terms, t) for t in texts)
    top, near = fold(texts[0]), fold("\n".join(texts))
    missing = max([w / total for t, w in terms.items() if t not in top] or [0.0])
    missing_noun = max([terms.get(n, idf_table()[1]) / total for n in question.nouns if n not in near] or [0.0])
    return max(h.dense_score for h in hits), chunk_coverage, best.coverage, missing, missing_noun


def evidence(question: Question, hits: list[Hit], best: _Candidate | None) -> float:
    """How likely the documents answer the question (0–1); the refusal gate compares it to a threshold.

    A logistic model over :func:`evidence_features`, fitted by
    scripts/fit_evidence.py. A question in another script than the passages
    (English asked of Chinese text) has no lexical overlap to judge by, so
    only the dense similarity speaks for it.
    """
    if not hits or best is None:
        return 0.0
    features = evidence_features(question, hits, best)
    if not has_cjk(question.text) and has_cjk(hits[0].chunk.text):
        z = _CROSS_LINGUAL_SLOPE * (features[0] - _CROSS_LINGUAL_MIDPOINT)
    else:
        z = _EVIDENCE_BIAS + sum(w * x for w, x in zip(_EVIDENCE_WEIGHTS, features, strict=True))
    return round(1 / (1 + math.exp(-z)), 4)


def choose(ranked: list[_Candidate], settings: Settings) -> list[_Candidate]:
    """The best sentence, plus near-best ones that bring something new, at most ``answer_max_sentences``."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    for candidate in ranked[1:]:
        if len(chosen) >= settings.answer_max_sentences:
            break
        if candidate.score >= settings.answer_keep_ratio * ranked[0].score and all(
            candidate.sentence != c.sentence for c in chosen
        ):
            chosen.append(candidate)
    return chosen


def compose(question: Question, hits: list[Hit], settings: Settings) -> Answer:
    """The extractive answer to a prepared question, or a refusal with the hits as related reading."""
    language = question.language
    ranked = candidates(question, hits, settings)
    best = ranked[0] if ranked else None
    strength = evidence(question, hits, best)
    if best is None or strength < settings.refusal_threshold:
        return Answer(question.text, REFUSALS[language], True, (), tuple(hits), strength, language)
    chosen = choose(ranked, settings)
    citations = _cite(chosen)
    order = {id(c.hit): c.n for c in citations}
    parts = sorted(chosen, key=lambda c: (order[id(c.hit)], c.start))
    text = "".join(f"{c.sentence}[{order[id(c.hit)]}]" for c in parts)
    return Answer(question.text, text, False, citations, tuple(hits), strength, language)


def _cite(chosen: list[_Candidate]) -> tuple[Citation, ...]:
    """One citation per cited chunk, numbered in retrieval order."""
    by_hit: dict[int, list[_Candidate]] = {}
    for c in chosen:
        by_hit.setdefault(c.hit.rank, []).append(c)
    citations = []
    for n, rank in enumerate(sorted(by_hit), start=1):
        group = sorted(by_hit[rank], key=lambda c: c.start)
        hit = group[0].hit
        citations.append(
            Citation(
                n=n,
                hit=hit,
                quotes=tuple(c.sentence for c in group),
                spans=tuple((c.start, c.end) for c in group),
                paragraph=paragraph_of(hit, group[0].start),
            )
        )
    return tuple(citations)


def paragraph_of(hit: Hit, offset: int) -> int:
    """The paragraph index of a document offset, counted from the chunk's paragraph breaks."""
    inside = hit.chunk.text[: max(0, offset - hit.chunk.start)]
    return hit.chunk.first_paragraph + inside.count(PARAGRAPH_SEPARATOR)
