"""Choosing what to show of a generated answer: only what the citation verifier confirms.

The extractive answer (``rag.answer``) is the product's default and its safety
net. In ``answer_mode = llm`` a language model rewrites the answer from the same
retrieved passages, and then:

* the refusal gate runs first: when the extractive answer refuses, the model
  is never called, so a fluent model cannot answer what the documents do not say;
* its text streams as deltas (a draft: nothing is verified yet), then every
  sentence is checked by ``rag.llm.verify``; unsupported sentences are dropped or
  struck through (``llm_unsupported``), and citations point at the verified quotes;
* when no sentence survives, or the model errs or times out, the extractive
  answer is shown instead and the result says why (``FallbackReason``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ..answer.compose import Answer, Citation, coverage, paragraph_of, with_support
from ..answer.serialize import answer_to_dict
from ..answer.support import Support
from ..errors import LLMError
from ..search.question import Question, prepare
from ..search.retrieval import Hit
from ..settings import Settings
from ..text.folding import fold
from .client import stream_chat
from .prompt import build_messages, is_no_answer
from .verify import Verification, apply, verify


class FallbackReason(StrEnum):
    """Why the extractive answer stands in for the model's."""

    NO_ANSWER_FOUND = "no_answer_found"
    NOTHING_VERIFIED = "nothing_verified"
    OFF_THE_QUESTION = "off_the_question"
    MODEL_ERROR = "model_error"  # the model could not be used at all; ``LLMResult.error`` says how

    @property
    def message(self) -> str:
        return _REASON_MESSAGES[self]


_REASON_MESSAGES = {
    FallbackReason.NO_ANSWER_FOUND: "the model found no answer in the passages",
    FallbackReason.NOTHING_VERIFIED: "no sentence of the model's answer could be verified",
    FallbackReason.OFF_THE_QUESTION: "the verified sentences do not address the question",
    FallbackReason.MODEL_ERROR: "the language model could not be used",
}


@dataclass(frozen=True)
class LLMDelta:
    """A piece of the model's draft, unverified: show it as a draft, then replace it with the result."""

    text: str


@dataclass(frozen=True)
class LLMResult:
    answer: Answer  # what to show: the verified answer, or the extractive one (fallback, refusal)
    verification: Verification  # verdicts on the model's text; empty when the model was not called
    raw: str  # the model's text as it streamed
    reason: FallbackReason | None  # why the extractive answer is shown instead; None when the model's stands
    called: bool  # whether the model was called at all (not for refusals)
    first_token_s: float | None
    total_s: float
    error: str = ""  # the model's failure, in words, when ``reason`` is MODEL_ERROR

    @property
    def fallback(self) -> bool:
        """True when ``answer`` is the extractive answer standing in for the model's."""
        return self.reason is not None

    @property
    def reason_text(self) -> str:
        """Why, in words: the model's own error message, or the reason's description ("" without a fallback)."""
        if self.reason is None:
            return ""
        return self.error or self.reason.message

    @classmethod
    def model_failed(cls, extractive: Answer, raw: str, error: str, first_token_s: float | None, total_s: float) -> LLMResult:
        """The model was called but could not finish: the extractive answer stands, with the error."""
        return cls(extractive, Verification(()), raw, FallbackReason.MODEL_ERROR, True, first_token_s, total_s, error)


LLMEvent = LLMDelta | LLMResult


def verified_citations(verification: Verification, hits: Sequence[Hit]) -> tuple[Citation, ...]:
    """One citation per supporting passage, numbered as the passage, quotes in document order."""
    quotes: dict[int, list[str]] = {}
    for s in verification.verified:
        if s.source is not None and s.quote is not None and s.quote not in quotes.setdefault(s.source, []):
            quotes[s.source].append(s.quote)
    citations = []
    for n in sorted(quotes):
        hit = hits[n - 1]
        located = sorted((hit.chunk.text.find(q), q) for q in quotes[n])
        spans = tuple((hit.chunk.start + i, hit.chunk.start + i + len(q)) for i, q in located)
        citations.append(Citation(n, hit, tuple(q for _, q in located), spans, paragraph_of(hit, spans[0][0])))
    return tuple(citations)


def relevance(question: Question, verification: Verification) -> float:
    """Share of the question's key-term weight found in the verified sentences and their quotes.

    The verifier proves a sentence is in the documents, not that it answers the
    question: a model that copies an unrelated passage sentence passes it. This
    catches that, with the extractive answer's own term weighting.
    """
    evidence = " ".join(f"{s.text} {s.quote}" for s in verification.verified)
    return coverage(question.terms, evidence)


def finish(
    question: Question | str, hits: Sequence[Hit], extractive: Answer, raw: str, settings: Settings
) -> tuple[Answer, Verification, FallbackReason | None]:
    """(answer to show, verdicts, fallback reason or None): verify the model's full text and decide."""
    asked = prepare(question) if isinstance(question, str) else question
    passages = {n: hit.chunk.text for n, hit in enumerate(hits, start=1)}
    verification = unclaimed(verify(raw, passages, settings.llm_min_coverage), extractive.missing)
    if is_no_answer(raw):
        return extractive, verification, FallbackReason.NO_ANSWER_FOUND
    if not verification.verified:
        return extractive, verification, FallbackReason.NOTHING_VERIFIED
    if relevance(asked, verification) < settings.llm_min_relevance:
        return extractive, verification, FallbackReason.OFF_THE_QUESTION
    text = apply(verification, settings.llm_unsupported, extractive.language)
    citations = verified_citations(verification, hits)
    answer = Answer(asked.text, text, False, citations, tuple(hits), extractive.evidence, extractive.language, asked=asked)
    return with_support(answer, Support(extractive.support, extractive.missing)), verification, None


#: A sentence that names a missing qualifier may only say the documents do not mention it.
_DENIES = re.compile(r"没有|沒有|未|并未|並未|不是|并非|並非|无|無|not|no\b|none", re.IGNORECASE)


def unclaimed(verification: Verification, missing: Sequence[str]) -> Verification:
    """The verdicts with every sentence that asserts a ``missing`` qualifier rejected: the documents
    do not support it, so a sentence may name it only to say they do not mention it."""
    if not missing:
        return verification
    wanted = [fold(m) for m in missing]
    sentences = []
    for s in verification.sentences:
        said = fold(s.text)
        claims = [m for m in wanted if m in said]
        if s.verified and claims and not _DENIES.search(s.text):
            s = replace(s, verified=False, quote=None, source=None, reason=f"asserts {claims[0]}, which the documents do not support")
        sentences.append(s)
    return Verification(tuple(sentences))


def passages_read(extractive: Answer, settings: Settings) -> int:
    """How many of the answer's hits the model reads (the UI shows exactly those while it writes)."""
    return min(settings.llm_passages, len(extractive.related))


def generate_answer(question: Question | str, extractive: Answer, settings: Settings) -> Iterator[LLMEvent]:
    """Deltas of the model's draft, then one ``LLMResult``; never raises for model failures (it falls back)."""
    asked = prepare(question) if isinstance(question, str) else question
    began = time.monotonic()
    hits = list(extractive.related)
    if extractive.refused or not hits:
        yield LLMResult(extractive, Verification(()), "", None, False, None, 0.0)
        return
    used = hits[: passages_read(extractive, settings)]
    parts: list[str] = []
    first: float | None = None
    try:
        for delta in stream_chat(build_messages(asked.text, used, extractive.missing), settings):
            first = first if first is not None else time.monotonic() - began
            parts.append(delta)
            yield LLMDelta(delta)
    except LLMError as exc:
        yield LLMResult.model_failed(extractive, "".join(parts), str(exc), first, time.monotonic() - began)
        return
    answer, verification, reason = finish(asked, used, extractive, "".join(parts), settings)
    yield LLMResult(answer, verification, "".join(parts), reason, True, first, time.monotonic() - began)


def llm_answer(question: Question | str, extractive: Answer, settings: Settings) -> LLMResult:
    """The final result of ``generate_answer`` without the deltas (batch use, JSON output)."""
    result = None
    for event in generate_answer(question, extractive, settings):
        if isinstance(event, LLMResult):
            result = event
    if result is None:  # generate_answer always ends with a result
        raise LLMError("the answer stream ended without a result")
    return result


def result_to_dict(result: LLMResult) -> dict[str, Any]:
    """``answer_to_dict`` of what is shown, plus the mode, the fallback and each sentence's verdict."""
    data = answer_to_dict(result.answer)
    data.update(
        mode="llm",
        fallback=result.fallback,
        fallback_reason=result.reason_text,
        fallback_code=str(result.reason) if result.reason is not None else None,
        llm_called=result.called,
        llm_text=result.raw,
        sentences=[
            {"text": s.text, "cited": list(s.cited), "verified": s.verified, "quote": s.quote, "source": s.source, "reason": s.reason}
            for s in result.verification.sentences
        ],
        timing={"first_token_s": _round(result.first_token_s), "total_s": _round(result.total_s)},
    )
    return data


def reply_to_dict(reply: Answer | LLMResult) -> dict[str, Any]:
    """The JSON of what ``Rag.reply`` returns: ``answer_to_dict``, or ``result_to_dict`` in the llm answer mode."""
    return result_to_dict(reply) if isinstance(reply, LLMResult) else answer_to_dict(reply)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
