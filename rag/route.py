"""The pieces of a question's one route that need no loaded model or index: checking it, weighing a
follow-up's carried topic, and what a search hands back (``Found``). ``rag.api.Rag.find`` runs the route.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from .answer.compose import EMPTY_QUESTION, Answer, Fit, Judge, first_quote, with_support
from .answer.conversation import Resolution
from .answer.support import Support, SupportLevel, document_text, named_nowhere, support_of
from .errors import QuestionError
from .search.question import Question
from .search.retrieval import Hit, newest_published
from .settings import Settings
from .store import Store
from .text.aliases import alias_table, contrast_families
from .text.dates import Period
from .text.folding import fold, language_of
from .text.periods import year_of


@dataclass(frozen=True)
class Found:
    """What a search found, and the question as it was searched: checked, read in its conversation,
    analysed and embedded once; every later stage (composing, the model, the front ends) reads this."""

    question: Question  # the standalone question, analysed and embedded
    resolution: Resolution  # how it was read in its conversation (standalone == question without one)
    hits: list[Hit]
    period: Period | None  # the publication period it names, which the search preferred
    retrieve_ms: float

    @property
    def standalone(self) -> str:
        return self.resolution.standalone


def check_question(question: str, limit: int) -> str:
    """The question stripped, or a ``QuestionError`` in its own language (empty, longer than ``limit``)."""
    question = (question or "").strip()
    language = language_of(question) if question else "zh-hans"
    if not question:
        raise QuestionError(EMPTY_QUESTION["en"], EMPTY_QUESTION["zh-hant" if language == "zh-hant" else "zh-hans"], language)
    if len(question) > limit:
        raise QuestionError(
            f"Your question is {len(question)} characters long; please keep it under {limit}.",
            f"问题太长（{len(question)} 字），请缩短到 {limit} 字以内。",
            language,
        )
    return question


def weigh_topic(asked: Question, resolution: Resolution, share: float) -> Question:
    """The standalone question with the topic it carries weighing ``share`` of the follow-up's own words.

    The carried topic finds the passage; what the user asked now must decide the sentence and
    whether to answer at all — else a follow-up about something the documents never say is
    answered from the earlier topic's paragraph.
    """
    own = fold(resolution.question)
    if not resolution.used_history or own.rstrip("?？ ") not in asked.folded:  # a substituted question is all its own
        return asked
    return dataclasses.replace(asked, terms={t: w if t in own else w * share for t, w in asked.terms.items()})


SupportOf = Callable[[Hit, str], Support]


def _passage(hit: Hit) -> str:
    """The passage a quote of the hit is held against: its chunk with the title and heading above it."""
    return f"{hit.chunk.title}\n{hit.chunk.context}\n{hit.chunk.text}"


def support_judge(asked: Question, index: Store, settings: Settings) -> SupportOf:
    """The support of a sentence of a hit quoted first: whether its passage and document hold every qualifier
    asked. Each sentence is judged once: composing asks of the lead, and ``with_lead_support`` again."""
    newest, aliases, families = year_of(newest_published(index)), alias_table(settings.aliases), contrast_families(settings.aliases)
    judged: dict[tuple[str, int, str], Support] = {}

    def judge(hit: Hit, sentence: str) -> Support:
        key = (hit.chunk.doc_id, hit.chunk.start, sentence)
        if key not in judged:
            judged[key] = support_of(asked.text, sentence, _passage(hit), index.documents.get(hit.chunk.doc_id), hit.published, newest, aliases, families)
        return judged[key]

    return judge


def fit_judge(support: SupportOf, index: Store, settings: Settings) -> Judge:
    """How a sentence fits as the lead (``rag.answer.compose.Fit``): matching, partial, or from an article
    that never names what it leaves out."""
    aliases = alias_table(settings.aliases)

    def fit(hit: Hit, sentence: str) -> Fit:
        found = support(hit, sentence)
        if found.level == SupportLevel.FULL:
            return Fit.MATCHES
        whole = document_text(index.documents.get(hit.chunk.doc_id), _passage(hit))
        return Fit.ASTRAY if named_nowhere(found.missing, whole, aliases) else Fit.PARTIAL

    return fit


def with_lead_support(answer: Answer, judge: SupportOf) -> Answer:
    """The answer with its support: whether the lead quote's document holds every qualifier asked."""
    if answer.refused or not answer.citations:
        return answer  # a refusal's support is none already
    lead = answer.citations[0]
    opening = first_quote(answer)  # a citation's quotes stand in document order: the lead may not be its first
    return with_support(answer, judge(lead.hit, next((quote for quote in lead.quotes if quote == opening), lead.quote)))
