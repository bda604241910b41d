"""The JSON contract of ``rag search --json`` and ``rag ask --json`` (also used by the UI's feedback log).

Paragraph numbers are 1-based, as a reader counts them; ``doc`` is the
document's path relative to the folder it was ingested from. ``answer_spans``
locate the asked fact (the figure, date or name) twice: in the answer text and
in the cited document's stored text.
"""

from __future__ import annotations

from typing import Any

from ..search.retrieval import Hit
from .compose import Answer, AnswerSpan, Citation


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    return {
        "rank": hit.rank,
        "doc": hit.chunk.doc_id,
        "title": hit.chunk.title,
        "paragraph": hit.chunk.paragraph + 1,
        "text": hit.chunk.text,
        "score": round(hit.score, 6),
        "dense_rank": hit.dense_rank,
        "dense_score": round(hit.dense_score, 6),
        "bm25_rank": hit.bm25_rank,
        "bm25_score": round(hit.bm25_score, 6),
        "published": hit.published,
        "story": hit.story,
        "same_story": [{"doc": r.doc_id, "title": r.title, "published": r.published} for r in hit.same_story],
    }


def search_to_dict(question: str, hits: list[Hit]) -> dict[str, Any]:
    return {"question": question, "hits": [hit_to_dict(h) for h in hits]}


def citation_to_dict(citation: Citation) -> dict[str, Any]:
    return {
        "n": citation.n,
        "doc": citation.hit.chunk.doc_id,
        "title": citation.hit.chunk.title,
        "paragraph": citation.paragraph + 1,
        "text": citation.hit.chunk.text,
        "quote": citation.quote,
        "quotes": list(citation.quotes),
        "score": round(citation.hit.score, 6),
        "published": citation.hit.published,
        "same_story": [{"doc": r.doc_id, "title": r.title, "published": r.published} for r in citation.hit.same_story],
    }


def answer_span_to_dict(span: AnswerSpan, answer: Answer) -> dict[str, Any]:
    """The asked fact: ``answer[start:end]`` equals ``text``, and so does the cited document's text ``[doc_start:doc_end]``.

    Offsets count Unicode code points (Python string indices, not bytes or UTF-16 units).
    """
    citation = next(c for c in answer.citations if c.n == span.n)
    return {
        "text": answer.text[span.start : span.end],
        "start": span.start,
        "end": span.end,
        "n": span.n,
        "doc": citation.hit.chunk.doc_id,
        "doc_start": span.doc_start,
        "doc_end": span.doc_end,
        "need": span.need,
    }


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question or answer.question,
        "history_used": answer.history_used,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": [citation_to_dict(c) for c in answer.citations],
        "answer_spans": [answer_span_to_dict(s, answer) for s in answer.answer_spans],
        "related": [hit_to_dict(h) for h in answer.related] if answer.refused else [],
        "language": answer.language,
        "evidence": answer.evidence,
        "period": answer.period,
        "support": str(answer.support),
        "missing": list(answer.missing),
        "more": [citation_to_dict(c) for c in answer.more],
    }
