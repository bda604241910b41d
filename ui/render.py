"""The chat column's HTML: questions, answers streaming in, the LLM mode's draft and verdicts, the export.

Pure functions of a session's ``Turn`` list and the interface language. Everything
taken from a document or a question is HTML-escaped here; the only markup is
ours. A citation marker ``[n]`` links to card ``n`` of its turn in the sources
panel (``ui.cards``); ``ui/app.js`` does the scrolling and highlighting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from html import escape

from rag import PARAGRAPH_SEPARATOR, Answer, FallbackReason, LLMResult, Unsupported

from .cards import emphasised
from .constants import RELATED_SHOWN
from .labels import label
from .state import Turn


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


# --------------------------------------------------------------------------- chat messages


def question_html(question: str) -> str:
    body = "<br>".join(escape(line) for line in question.splitlines() or [""])
    return f'<div class="q">{body}</div>'


def answer_segments(answer: Answer) -> list[tuple[str, int | None]]:
    """The answer text as (text, None) and ("", n) citation markers, in order."""
    numbers = {c.n for c in answer.citations}
    parts = re.split(r"\[(\d+)\]", answer.text)
    segments: list[tuple[str, int | None]] = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            if part:
                segments.append((part, None))
        elif int(part) in numbers:
            segments.append(("", int(part)))
        else:
            segments.append((f"[{part}]", None))
    return segments


def cite_html(turn: int, n: int) -> str:
    return f'<a class="cite" href="#src-{turn}-{n}" data-turn="{turn}" data-n="{n}" title="[{n}]">[{n}]</a>'


def _segments_html(segments: Sequence[tuple[str, int | None]], turn: int, shown: int | None, spans: Sequence[tuple[int, int]] = ()) -> str:
    """The first ``shown`` characters of the segments (a citation counts as one), all when None.

    ``spans`` are offsets into the answer text (``Answer.answer_spans``): the asked fact, emphasised.
    """
    out: list[str] = []
    left = shown if shown is not None else 1 << 30
    offset = 0  # where the segment starts in the answer text
    for text, n in segments:
        if left <= 0:
            break
        if n is not None:
            out.append(cite_html(turn, n))
            left -= 1
            offset += len(f"[{n}]")
        else:
            out.append(emphasised(text[:left], offset, spans))
            left -= len(text)
            offset += len(text)
    return "".join(out)


def segment_length(segments: Sequence[tuple[str, int | None]]) -> int:
    return sum(1 if n is not None else len(text) for text, n in segments)


def turn_html(turn: Turn, index: int, lang: str, shown: int | None = None) -> str:
    """The assistant message of a turn; ``shown`` characters while streaming, all when None."""
    if turn.error:
        return f'<div class="answer error" data-turn="{index}">{escape(turn.error)}</div>'
    if turn.drafting:
        return draft_html(turn, index, lang)
    if turn.answer is None:
        return f'<div class="answer pending" data-turn="{index}"><span class="dots">{escape(label(lang, "thinking"))}</span></div>'
    answer = turn.answer
    streaming = shown is not None
    cursor = '<span class="cursor"></span>' if streaming else ""
    llm = turn.model_called
    if llm is not None and not llm.fallback:
        body = verified_html(turn, index, lang)
    elif answer.refused:
        text = answer.text[:shown] if streaming else answer.text
        body = f'<div class="answer refused" data-turn="{index}">{escape(text)}{cursor}</div>'
    else:
        body = _answer_html(answer, index, shown, cursor)
    if llm is not None and llm.fallback:  # why, then the quoted answer, then the model's text on demand
        body = fallback_html(turn, lang) + body + report_html(turn, lang)
    if answer.history_used:  # what a follow-up was read as, so a wrong reading can be seen and rephrased
        body += f'<div class="understood">{escape(label(lang, "understood_as", question=answer.standalone_question))}</div>'
    if streaming:
        return body
    if llm is not None:
        first = "–" if llm.first_token_s is None else f"{llm.first_token_s:.1f}"
        timing = label(lang, "timing_llm", search=f"{turn.search_ms:.0f}", first=first, total=f"{llm.total_s:.1f}")
    else:
        timing = label(lang, "timing", search=f"{turn.search_ms:.0f}", compose=f"{turn.compose_ms:.0f}")
    return body + f'<div class="timing">{escape(timing)}</div>'


def _answer_html(answer: Answer, index: int, shown: int | None, cursor: str) -> str:
    """The quoted answer; a partial one opens with what the documents do not say, set apart, and its
    quote reads as the nearest the documents come, not as the answer."""
    notice = answer.notice
    quoted = replace(answer, text=answer.text[len(notice) :]) if notice else answer
    asked = [(a.start - len(notice), a.end - len(notice)) for a in answer.answer_spans]
    kind = "answer partial" if notice else "answer"
    note = f'<div class="near-note">{escape(notice)}</div>' if notice else ""
    left = None if shown is None else max(0, shown - len(notice))
    return f'<div class="{kind}" data-turn="{index}">{note}{_segments_html(answer_segments(quoted), index, left, asked)}{cursor}</div>'


# --------------------------------------------------------------------------- the LLM answer mode


def draft_html(turn: Turn, index: int, lang: str) -> str:
    """The model's text as it streams: plainly a draft, markers left as typed, nothing linked."""
    chip = f'<div class="llm-chip draft-chip">{escape(label(lang, "llm_draft"))}</div>'
    text = f'<div class="draft-text">{escape(turn.draft)}<span class="cursor"></span></div>'
    return f'<div class="answer draft" data-turn="{index}">{chip}{text}</div>'


def _tick_html(lang: str, quote: str | None) -> str:
    title = label(lang, "verified_title", quote=quote or "")
    return f'<span class="tick" role="img" aria-label="{_attr(label(lang, "verified"))}" title="{_attr(title)}"></span>'


def _unsupported_html(text: str, lang: str) -> str:
    return f'<span class="sent unsupported"><s>{escape(text)}</s></span><span class="badge-unsupported">{escape(label(lang, "unverified"))}</span>'


def verified_html(turn: Turn, index: int, lang: str) -> str:
    """The model's answer sentence by sentence: verified ones linked to their passage and ticked;
    rejected ones struck through and labelled (``strike``) or left out and counted (``drop``)."""
    assert turn.llm is not None
    sentences = turn.llm.verification.sentences
    gap = " " if turn.llm.answer.language == "en" else ""
    parts = []
    for s in sentences:
        if s.verified and s.source is not None:
            parts.append(f'<span class="sent ok">{escape(s.text)}</span>{cite_html(index, s.source)}{_tick_html(lang, s.quote)}')
        elif turn.unsupported == Unsupported.STRIKE:
            parts.append(_unsupported_html(s.text, lang))
    hidden = 0 if turn.unsupported == Unsupported.STRIKE else sum(not s.verified for s in sentences)
    note = f'<div class="llm-hidden">{escape(label(lang, "llm_hidden", n=hidden))}</div>' if hidden else ""
    chip = f'<div class="llm-chip">{escape(label(lang, "llm_badge"))}</div>'
    return f'<div class="answer llm" data-turn="{index}">{chip}<div class="llm-text">{gap.join(parts)}</div>{note}</div>'


_FALLBACK_LABELS = {
    FallbackReason.NO_ANSWER_FOUND: "fallback_no_answer",
    FallbackReason.NOTHING_VERIFIED: "fallback_unverified",
    FallbackReason.OFF_THE_QUESTION: "fallback_off_question",
    FallbackReason.MODEL_ERROR: "fallback_error",
}


def fallback_note(result: LLMResult, lang: str) -> str:
    """Why the quoted answer stands in for the model's, in ``lang`` (a model error quotes the server)."""
    assert result.reason is not None
    return label(lang, _FALLBACK_LABELS[result.reason], detail=result.reason_text)


def fallback_html(turn: Turn, lang: str) -> str:
    """Why the quoted answer stands in for the model's."""
    assert turn.llm is not None
    return f'<div class="llm-note">{escape(fallback_note(turn.llm, lang))}</div>'


def report_html(turn: Turn, lang: str) -> str:
    """With ``strike``, the model's sentences and their verdicts, collapsed (nothing otherwise)."""
    assert turn.llm is not None
    sentences = turn.llm.verification.sentences
    if turn.unsupported != Unsupported.STRIKE or not sentences or turn.llm.reason is FallbackReason.NO_ANSWER_FOUND:
        return ""
    items = "".join(
        f'<li><span class="sent ok">{escape(s.text)}</span>{_tick_html(lang, s.quote)}</li>' if s.verified else f"<li>{_unsupported_html(s.text, lang)}</li>"
        for s in sentences
    )
    return f'<details class="llm-report"><summary>{escape(label(lang, "llm_report"))}</summary><ol>{items}</ol></details>'


def chat_messages(turns: Sequence[Turn], lang: str, streaming: int | None = None, shown: int | None = None) -> list[dict]:
    """Chatbot messages for the conversation; turn ``streaming`` shows only ``shown`` characters."""
    messages: list[dict] = []
    for i, turn in enumerate(turns):
        if turn.question:
            messages.append({"role": "user", "content": question_html(turn.question)})
        messages.append({"role": "assistant", "content": turn_html(turn, i, lang, shown if i == streaming else None)})
    return messages


def stream_steps(answer: Answer, pieces: int = 14) -> list[int]:
    """Character counts to reveal, one per streamed update, ending with the whole answer."""
    total = len(answer.text) if answer.refused else segment_length(answer_segments(answer))
    step = max(4, -(-total // pieces))
    return list(range(step, total, step)) + [total]


# --------------------------------------------------------------------------- header, examples


def header_html(lang: str, documents: int) -> str:
    return (
        f'<div class="app-header"><div class="brand"><span class="logo" aria-hidden="true">据</span>'
        f'<div><h1>{escape(label(lang, "title"))}</h1><p class="subtitle">{escape(label(lang, "subtitle"))}</p></div></div>'
        f'<div class="doc-count">{escape(label(lang, "doc_count", docs=documents))}</div></div>'
    )


def examples_html(questions: Sequence[str], lang: str) -> str:
    if not questions:
        return f'<div class="examples empty">{escape(label(lang, "no_examples"))}</div>'
    chips = "".join(f'<button type="button" class="example" data-q="{_attr(q)}" title="{_attr(q)}">{escape(q)}</button>' for q in questions)
    return f'<div class="examples"><span class="examples-label">{escape(label(lang, "examples"))}</span>{chips}</div>'


# --------------------------------------------------------------------------- export


def conversation_markdown(turns: Sequence[Turn], lang: str, when: datetime | None = None) -> str:
    when = when or datetime.now()
    lines = [f"# {label(lang, 'export_title')}", "", f"_{when:%Y-%m-%d %H:%M}_", ""]
    number = 0
    for turn in turns:
        if not turn.question:
            continue
        number += 1
        lines += [f"## {number}. {label(lang, 'export_question')}: {turn.question}", ""]
        answer = turn.answer
        if answer is None:
            lines += [turn.error, ""]
            continue
        if answer.history_used:
            lines += [f"_{label(lang, 'understood_as', question=answer.standalone_question)}_", ""]
        llm = turn.model_called
        if llm is not None:
            lines += [f"_{label(lang, 'export_fallback' if llm.fallback else 'export_llm')}_", ""]
        lines += [answer.text, ""]
        if answer.refused:
            lines += [f"**{label(lang, 'export_related')}**", ""]
            for i, hit in enumerate(answer.related[:RELATED_SHOWN], start=1):
                where = _where(hit.chunk.title, turn.files.get(hit.chunk.doc_id, hit.chunk.doc_id), hit.chunk.paragraph, lang)
                excerpt = hit.chunk.text.replace(PARAGRAPH_SEPARATOR, " ")
                lines += [f"{i}. {where}", "", f"   > {excerpt}", ""]
        else:
            lines += [f"**{label(lang, 'export_sources')}**", ""]
            for c in answer.citations:
                where = _where(c.hit.chunk.title, turn.files.get(c.hit.chunk.doc_id, c.hit.chunk.doc_id), c.paragraph, lang)
                lines += [f"[{c.n}] {where}", ""]
                lines += [f"> {q}" for q in c.quotes] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _where(title: str, file_name: str, paragraph: int, lang: str) -> str:
    return f"《{title}》 — {file_name}, {label(lang, 'paragraph', n=paragraph + 1)}"
