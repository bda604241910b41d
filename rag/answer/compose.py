"""``Hit`` → ``Answer``: verbatim sentences with [n] citations, or an honest refusal.

The extractive answer invents nothing: each answer sentence is a quotable
sentence of the chunk it cites. It opens with the sentence that holds what the
question asks for (a figure for 多少, the increase for 多了多少, a date for 何时,
a name for 谁 …; scored in ``rag.answer.scoring``, the needs read by ``rag.text.needs``),
the asked fact itself marked; a further sentence joins only on its own merit.
When the best evidence is weak the answer says, in the question's language,
that the documents do not say, and lists the closest passages as related reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from enum import Enum

from ..ingest.documents import PARAGRAPH_SEPARATOR
from ..search.question import Question
from ..search.retrieval import Hit
from ..settings import Settings
from ..text.folding import cross_lingual
from ..text.needs import Need, lacks_percentage
from .quoting import in_context, joined, lead_fact, next_to, overlaps, telling, trimmed
from .scoring import Candidate, QuestionVector, SentenceVectors, candidates, coverage, evidence, evidence_features, need_bonus, phrase_overlap, reranked
from .support import Support, SupportLevel

Span = tuple[int, int]
__all__ = [
    "Answer",
    "AnswerSpan",
    "Citation",
    "Fit",
    "Judge",
    "candidates",
    "choose",
    "compose",
    "coverage",
    "evidence",
    "evidence_features",
    "need_bonus",
    "paragraph_of",
    "phrase_overlap",
]


@dataclass(frozen=True)
class Citation:
    n: int
    hit: Hit
    quotes: tuple[str, ...]
    spans: tuple[Span, ...]  # offsets of the quotes in the document text
    paragraph: int  # 0-based index of the paragraph holding the first quote
    #: Document offsets of the asked fact (the figure, date or name) inside the quotes, to emphasise.
    marks: tuple[Span, ...] = ()

    @property
    def quote(self) -> str:
        return self.quotes[0]


@dataclass(frozen=True)
class AnswerSpan:
    """The asked fact in the answer: ``answer.text[start:end]`` is ``document.text[doc_start:doc_end]``.

    ``start``/``end`` index the answer text, ``doc_start``/``doc_end`` the text
    of document ``citation.hit.chunk.doc_id`` as stored in the index (the
    offsets ``Citation.spans`` use); ``n`` is the citation whose quote holds it.
    """

    start: int
    end: int
    n: int
    doc_start: int
    doc_end: int
    need: str  # the kind of fact: "number", "increase", "date", "who" … (rag.text.needs.Need)


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
    #: The asked fact, to emphasise: offsets into ``text`` and into the cited document.
    answer_spans: tuple[AnswerSpan, ...] = ()
    #: The publication period the question was read as naming (2023年7月, 最近 → its dates); "" when none.
    period: str = ""
    #: The question as it was analysed and searched (the standalone form, embedded): the model's prompt,
    #: the verifier and the front ends read it instead of analysing the text again.
    asked: Question | None = field(default=None, compare=False, repr=False)
    #: Further sentences that support the answer, shown behind 更多原文 / "more from the sources", not in ``text``.
    more: tuple[Citation, ...] = ()
    #: Whether the cited evidence holds every qualifier of the question (``rag.answer.support``).
    support: SupportLevel = SupportLevel.FULL
    #: The question's phrases the evidence does not support, as the user wrote them (``support`` partial).
    missing: tuple[str, ...] = ()
    #: What a partial answer says first, at the start of ``text`` (资料中没有找到关于「…」的这项信息；…).
    notice: str = ""


REFUSALS = {
    "zh-hans": "资料中没有找到这个问题的答案。以下是最相关的段落，仅供参考。",
    "zh-hant": "資料中沒有找到這個問題的答案。以下是最相關的段落，僅供參考。",
    "en": "The documents do not contain the answer to this question. The closest passages are listed below as related reading.",
}
#: What a partial answer says first: which of the question's phrases the documents do not support.
PARTIAL_NOTICE = {
    "zh-hans": ("资料中没有找到关于「{}」的这项信息；最接近的内容是：", "」「"),
    "zh-hant": ("資料中沒有找到關於「{}」的這項資訊；最接近的內容是：", "」「"),
    "en": ("The documents say nothing about “{}” for this; the closest they say is: ", "”, “"),
}
EMPTY_QUESTION = {
    "zh-hans": "请输入一个问题。",
    "zh-hant": "請輸入一個問題。",
    "en": "Please type a question.",
}

# --------------------------------------------------------------------------- selection

#: Two sentences this alike say the same thing (a syndicated copy, an overlapping chunk).
_DUPLICATE_RATIO = 0.8


def _adds(candidate: Candidate, chosen: list[Candidate]) -> bool:
    """Whether ``candidate`` says something the chosen sentences do not already say."""
    return all(
        candidate.sentence != c.sentence and SequenceMatcher(None, candidate.sentence, c.sentence, autojunk=False).ratio() < _DUPLICATE_RATIO for c in chosen
    )


def choose(ranked: list[Candidate], settings: Settings, lexical: bool = True) -> list[Candidate]:
    """The lead sentence — the best, holding the asked fact when there is one — then further ones that earn a place.

    A further sentence must score near the lead (``answer_keep_ratio``), hold
    the asked kind of fact when the question asks for one, say something new,
    and be about the question: cover its terms on its own
    (``answer_min_relevance``: a sentence that only shares the title's words
    is not), or continue a chosen sentence right beside it — 它的目标是… after
    the sentence naming 它 speaks of the question's subject without naming it.
    No sentence joins just to fill ``answer_max_sentences``. A question in
    another script than the passages (``lexical`` False: English asked of
    Chinese text) shares no words with them, so only its score speaks for a
    sentence. The lead opens the answer; the others follow in the order the
    passages give them — what follows the lead in its passage first — so a
    passage read on reads in its own order.
    """
    if not ranked:
        return []
    lead = ranked[0]
    chosen = [lead]
    for candidate in ranked[1:]:
        if len(chosen) >= settings.answer_max_sentences or candidate.score < settings.answer_keep_ratio * lead.score:
            break
        if candidate.need == 0.0:
            continue
        relevant = not lexical or candidate.own >= settings.answer_min_relevance or any(next_to(candidate, c) for c in chosen)
        if relevant and _adds(candidate, chosen):
            chosen.append(candidate)
    first_cited: dict[int, int] = {}
    for c in chosen:
        first_cited.setdefault(c.hit.rank, len(first_cited))
    return [lead] + sorted(chosen[1:], key=lambda c: (first_cited[c.hit.rank], c.hit is lead.hit and c.start < lead.start, c.start))


class Fit(Enum):
    """How a sentence of a hit, quoted first, fits the question's qualifiers (``rag.answer.support``)."""

    MATCHES = "matches"  # its document supports every qualifier asked
    PARTIAL = "partial"  # it leaves out a qualifier its document speaks of otherwise (another year, a rival in its slot)
    ASTRAY = "astray"  # its document never names what it leaves out: an article about something else


Judge = Callable[[Hit, str], Fit]


def compose(
    question: Question,
    hits: list[Hit],
    settings: Settings,
    vectors: SentenceVectors | None = None,
    judge: Judge | None = None,
    ask: QuestionVector | None = None,
) -> Answer:
    """The extractive answer to a prepared question, or a refusal with the hits as related reading.

    The answer opens with the lead sentence; its asked fact is marked
    (``Answer.answer_spans``, ``Citation.marks``). Citations are numbered in
    the order the answer cites them. With ``vectors`` the sentences are also
    chosen by meaning (``reranked``); the refusal gate reads the terms alone,
    as it was fitted; with ``ask`` too by meaning beyond the subject the passages' titles already name
    (``reranked``). With ``judge`` a lead from an article that never names
    something asked gives way to a nearly as good sentence that matches (``_matching_lead``). A question
    asking a percentage or a rate whose lead states none is refused: the lead's figures measure something
    else (``rag.text.needs.lacks_percentage``).
    """
    language = question.language
    ranked = candidates(question, hits, settings)
    best = ranked[0] if ranked else None
    strength = evidence(question, hits, best, ranked)
    if best is None or strength < settings.refusal_threshold:
        return _refusal(question, hits, strength)
    ranked = reranked(question, ranked, vectors, settings.sentence_dense_weight, settings.sentence_dense_top, ask)
    if judge is not None:
        ranked = _matching_lead(ranked, judge, settings.answer_support_ratio)
    chosen = _fact_first(choose(ranked, settings, lexical=not cross_lingual(question.text, best.sentence)), settings.answer_close_ratio)
    if lacks_percentage(question.folded, chosen[0].sentence):
        return _refusal(question, hits, strength)
    fact = lead_fact(question, chosen[0])
    shown = _quoted_count(question, chosen, settings.answer_close_ratio)
    quoted = [trimmed(c, fact, settings.quote_max_chars, telling(question.terms, c)) for c in chosen[:shown]]
    quoted = joined([in_context(question, quoted[0], chosen[0], ranked, settings.quote_max_chars), *quoted[1:]])
    citations = _cite(quoted, fact)
    order = {c.hit.rank: c.n for c in citations}
    parts, spans, offset = [], [], 0
    for c in quoted:
        n = order[c.hit.rank]
        if fact is not None and c is quoted[0]:
            spans.append(AnswerSpan(offset + fact[0] - c.start, offset + fact[1] - c.start, n, fact[0], fact[1], fact[2]))
        part = f"{c.sentence}[{n}]"
        parts.append(part)
        offset += len(part)
    more = _cite([c for c in chosen[shown:] if not any(overlaps(c, q) for q in quoted)], None, first=len(citations) + 1)
    return Answer(question.text, "".join(parts), False, citations, tuple(hits), strength, language, answer_spans=tuple(spans), asked=question, more=more)


def _refusal(question: Question, hits: list[Hit], strength: float) -> Answer:
    """The documents do not answer: the refusal in the question's language, the hits as related reading."""
    return Answer(question.text, REFUSALS[question.language], True, (), tuple(hits), strength, question.language, asked=question, support=SupportLevel.NONE)


#: A question that asks for several things at once: they may stand in several sentences, all of them the answer.
_SEVERAL = re.compile(r"哪些|哪几|有几[个种项类方]|分别|都有什么|都是什么|包括什么|包括哪|几个方面|几方面|列举|which (?:ones|are)|what are")


def _matching_lead(ranked: list[Candidate], judge: Judge, ratio: float) -> list[Candidate]:
    """The ranking with a sentence that supports every qualifier first, when the best one comes from an article
    that never names something asked (OLED asked, a sentence about another study quoted) and a sentence of a
    passage the search ranked higher scores within ``ratio`` of it and matches. A lead that is partial for
    another reason (2022 quoted for 2023, a rival in the asked name's slot) stays: that is a near miss to show,
    and a sentence that merely escapes the check (no year in it) is no better answer."""
    lead = ranked[0]
    if judge(lead.hit, lead.sentence) != Fit.ASTRAY:
        return ranked
    for at, candidate in enumerate(ranked[1:], start=1):
        if candidate.score < ratio * lead.score:
            break
        if candidate.hit.rank < lead.hit.rank and judge(candidate.hit, candidate.sentence) == Fit.MATCHES:
            return [candidate, *ranked[:at], *ranked[at + 1 :]]
    return ranked


def asks_for_several(folded: str) -> bool:
    return bool(_SEVERAL.search(folded))


def _quoted_count(question: Question, chosen: list[Candidate], close: float) -> int:
    """How many chosen sentences the answer quotes; the others go behind 更多原文 (``Answer.more``).

    One, the sentence that holds the asked fact — unless the question asks for several things, or
    asks no single fact (a description, a reason: what 是什么/为什么 ask often takes the next
    sentence too), or the lead holds no fact of the asked kind while the next one does, or the next
    scores within ``close`` of the lead (the two are as likely to hold it: both are quoted).
    """
    if asks_for_several(question.folded):
        return len(chosen)
    if len(chosen) < 2:
        return 1
    lead, second = chosen[0], chosen[1]
    described = not question.needs or question.needs[0] == Need.REASON
    return 2 if described or (lead.need == 0.0 and bool(second.need)) or second.score >= close * lead.score else 1


def _fact_first(chosen: list[Candidate], close: float) -> list[Candidate]:
    """The two sentences an answer quotes when they score within ``close`` of each other, the one holding
    the asked kind of fact more surely first: the answer opens with the fact (降至1.6万元 for 降到了多少),
    not with the sentence that merely shares more of the question's words."""
    if len(chosen) < 2:
        return chosen
    lead, second = chosen[0], chosen[1]
    if second.score >= close * lead.score and (second.need or 0.0) > (lead.need or 0.0):
        return [second, lead, *chosen[2:]]
    return chosen


def _cite(chosen: list[Candidate], fact: tuple[int, int, str] | None, first: int = 1) -> tuple[Citation, ...]:
    """One citation per cited chunk, numbered from ``first`` in the order the answer cites them."""
    by_hit: dict[int, list[Candidate]] = {}
    for c in chosen:
        by_hit.setdefault(c.hit.rank, []).append(c)
    citations = []
    for n, rank in enumerate(by_hit, start=first):
        group = sorted(by_hit[rank], key=lambda c: c.start)
        hit = group[0].hit
        citations.append(
            Citation(
                n=n,
                hit=hit,
                quotes=tuple(c.sentence for c in group),
                spans=tuple((c.start, c.end) for c in group),
                paragraph=paragraph_of(hit, group[0].start),
                marks=((fact[0], fact[1]),) if fact is not None and rank == chosen[0].hit.rank else (),
            )
        )
    return tuple(citations)


def paragraph_of(hit: Hit, offset: int) -> int:
    """The paragraph index of a document offset, counted from the chunk's paragraph breaks."""
    inside = hit.chunk.text[: max(0, offset - hit.chunk.start)]
    return hit.chunk.first_paragraph + inside.count(PARAGRAPH_SEPARATOR)


def first_quote(answer: Answer) -> str:
    """The answer's first quote, as it reads: after any partial notice, up to its first citation marker ("" when refused)."""
    if answer.refused:
        return ""
    return re.split(r"\[\d+\]", answer.text[len(answer.notice) :], maxsplit=1)[0]


def with_support(answer: Answer, support: Support) -> Answer:
    """The answer with its support; a partial one says first, in the question's language, what the
    documents do not say (the asked fact's offsets move with the text)."""
    if support.level != SupportLevel.PARTIAL:
        return replace(answer, support=support.level, missing=support.missing)
    template, joiner = PARTIAL_NOTICE.get(answer.language, PARTIAL_NOTICE["zh-hans"])
    notice = template.format(joiner.join(support.missing))
    spans = tuple(replace(s, start=s.start + len(notice), end=s.end + len(notice)) for s in answer.answer_spans)
    return replace(answer, text=notice + answer.text, answer_spans=spans, support=support.level, missing=support.missing, notice=notice)
