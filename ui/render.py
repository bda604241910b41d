"""HTML and Markdown for the interface: pure functions of library objects.

Everything taken from a document or a question is HTML-escaped here; the only
markup is ours. Offsets come from the library (``Citation.spans`` are document
offsets, ``Chunk.start`` is where the chunk starts in the document), so a
highlight is exactly the sentence the answer quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Iterable, Iterator, Sequence

from rag.answer import Answer, Citation
from rag.documents import HEADING, PARAGRAPH_SEPARATOR, Document
from rag.llm import NO_ANSWER_FOUND, NOTHING_VERIFIED, OFF_THE_QUESTION, LLMResult
from rag.retrieval import Hit

from .labels import label

Span = tuple[int, int]

#: How many related passages a refused answer shows.
RELATED_SHOWN = 3


@dataclass
class Turn:
    """One question of a conversation and what came of it."""

    question: str
    answer: Answer | None = None
    error: str = ""
    search_ms: float = 0.0
    compose_ms: float = 0.0
    files: dict[str, str] = field(default_factory=dict)  # doc id → file name, taken when answered
    top_k: int = 0
    mode: str = ""
    # the LLM answer mode: the draft streams while ``drafting``; ``llm`` is the verified outcome
    drafting: bool = False
    draft: str = ""
    passages: int = 0  # how many of the answer's hits the model reads
    llm: LLMResult | None = None
    unsupported: str = "drop"  # how sentences the verifier rejects are shown: drop or strike

    @property
    def answer_mode(self) -> str:
        """"llm" once the model was asked for this turn (a refusal never asks it), else "extractive"."""
        return "llm" if self.llm is not None else "extractive"

    @property
    def model_called(self) -> LLMResult | None:
        """The LLM outcome when the model was really asked (not for refusals or extractive turns)."""
        return self.llm if self.llm is not None and self.llm.called else None


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


# --------------------------------------------------------------------------- text with highlights


def marked(text: str, base: int, spans: Iterable[Span]) -> str:
    """``text`` (which starts at document offset ``base``) escaped, with ``spans`` wrapped in <mark>."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        start, end = max(start - base, 0), min(end - base, len(text))
        if end <= start or start < pos:
            continue
        out.append(escape(text[pos:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def paragraphs_of(text: str, start: int) -> Iterator[tuple[int, str]]:
    """(document offset, paragraph text) for each paragraph of a chunk's text."""
    pos = 0
    for piece in text.split(PARAGRAPH_SEPARATOR):
        yield start + pos, piece
        pos += len(piece) + len(PARAGRAPH_SEPARATOR)


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


def _segments_html(segments: Sequence[tuple[str, int | None]], turn: int, shown: int | None) -> str:
    """The first ``shown`` characters of the segments (a citation counts as one), all when None."""
    out: list[str] = []
    left = shown if shown is not None else 1 << 30
    for text, n in segments:
        if left <= 0:
            break
        if n is not None:
            out.append(cite_html(turn, n))
            left -= 1
        else:
            out.append(escape(text[:left]))
            left -= len(text)
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
        body = f'<div class="answer" data-turn="{index}">{_segments_html(answer_segments(answer), index, shown)}{cursor}</div>'
    if llm is not None and llm.fallback:  # why, then the quoted answer, then the model's text on demand
        body = fallback_html(turn, lang) + body + report_html(turn, lang)
    if streaming:
        return body
    if llm is not None:
        first = "–" if llm.first_token_s is None else f"{llm.first_token_s:.1f}"
        timing = label(lang, "timing_llm", search=f"{turn.search_ms:.0f}", first=first, total=f"{llm.total_s:.1f}")
    else:
        timing = label(lang, "timing", search=f"{turn.search_ms:.0f}", compose=f"{turn.compose_ms:.0f}")
    return body + f'<div class="timing">{escape(timing)}</div>'


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
        elif turn.unsupported == "strike":
            parts.append(_unsupported_html(s.text, lang))
    hidden = 0 if turn.unsupported == "strike" else sum(not s.verified for s in sentences)
    note = f'<div class="llm-hidden">{escape(label(lang, "llm_hidden", n=hidden))}</div>' if hidden else ""
    chip = f'<div class="llm-chip">{escape(label(lang, "llm_badge"))}</div>'
    return f'<div class="answer llm" data-turn="{index}">{chip}<div class="llm-text">{gap.join(parts)}</div>{note}</div>'


_FALLBACK_LABELS = {NO_ANSWER_FOUND: "fallback_no_answer", NOTHING_VERIFIED: "fallback_unverified", OFF_THE_QUESTION: "fallback_off_question"}


def fallback_note(reason: str, lang: str) -> str:
    key = _FALLBACK_LABELS.get(reason)
    return label(lang, key) if key else label(lang, "fallback_error", detail=reason)


def fallback_html(turn: Turn, lang: str) -> str:
    """Why the quoted answer stands in for the model's."""
    assert turn.llm is not None
    return f'<div class="llm-note">{escape(fallback_note(turn.llm.reason, lang))}</div>'


def report_html(turn: Turn, lang: str) -> str:
    """With ``strike``, the model's sentences and their verdicts, collapsed (nothing otherwise)."""
    assert turn.llm is not None
    sentences = turn.llm.verification.sentences
    if turn.unsupported != "strike" or not sentences or turn.llm.reason == NO_ANSWER_FOUND:
        return ""
    items = "".join(
        f'<li><span class="sent ok">{escape(s.text)}</span>{_tick_html(lang, s.quote)}</li>' if s.verified
        else f"<li>{_unsupported_html(s.text, lang)}</li>"
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


# --------------------------------------------------------------------------- source cards


def _why_html(hit: Hit, lang: str) -> str:
    def rank(value: int | None) -> str:
        return f"#{value}" if value else escape(label(lang, "not_ranked"))

    rows = (
        (label(lang, "retrieval_rank"), f"#{hit.rank}"),
        (label(lang, "fused"), f"{hit.score:.4f}"),
        (label(lang, "bm25_rank"), rank(hit.bm25_rank)),
        (label(lang, "bm25_score"), f"{hit.bm25_score:.2f}"),
        (label(lang, "dense_rank"), rank(hit.dense_rank)),
        (label(lang, "dense_score"), f"{hit.dense_score:.3f}"),
    )
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<details class="why"><summary>{escape(label(lang, "why"))}</summary><dl>{cells}</dl></details>'


def _card_html(
    turn: int,
    hit: Hit,
    lang: str,
    file_name: str,
    show_scores: bool,
    n: int | None = None,
    spans: Sequence[Span] = (),
    paragraph: int | None = None,
) -> str:
    chunk = hit.chunk
    paragraph = chunk.paragraph if paragraph is None else paragraph
    first = chunk.first_paragraph
    paras = []
    for i, (offset, text) in enumerate(paragraphs_of(chunk.text, chunk.start)):
        classes = "quoted" if first + i == paragraph and spans else ""
        paras.append(f'<p class="{classes}" data-para="{first + i}">{marked(text, offset, spans)}</p>')
    if n is not None:
        badge = f'<span class="card-n">[{n}]</span>'
        attrs = f'id="src-{turn}-{n}" data-n="{n}"'
        kind = "cited"
    else:
        badge = f'<span class="card-n related-badge">{escape(label(lang, "related"))}</span>'
        attrs = f'id="rel-{turn}-{hit.rank}" data-rank="{hit.rank}"'
        kind = "related"
    score = f'<span class="card-score">{escape(label(lang, "score"))} {hit.score:.4f}</span>' if show_scores else ""
    where = f"{escape(file_name)} · {escape(label(lang, 'paragraph', n=paragraph + 1))}"
    span_attr = ",".join(f"{s}-{e}" for s, e in spans)
    return (
        f'<article class="source-card {kind}" {attrs} data-turn="{turn}" data-doc="{_attr(chunk.doc_id)}" '
        f'data-para="{paragraph}" tabindex="-1">'
        f'<header class="card-head">{badge}<div class="card-meta">'
        f'<div class="card-title">{escape(chunk.title)}</div><div class="card-file">{where}</div></div>{score}</header>'
        f'<div class="card-text">{"".join(paras)}</div>'
        f'<footer class="card-foot">{_why_html(hit, lang)}'
        f'<button type="button" class="open-doc" data-doc="{_attr(chunk.doc_id)}" data-para="{paragraph}" '
        f'data-spans="{span_attr}" data-lang="{lang}">{escape(label(lang, "open_full"))}</button></footer>'
        f"</article>"
    )


def citation_card(turn: int, citation: Citation, lang: str, file_name: str, show_scores: bool) -> str:
    return _card_html(turn, citation.hit, lang, file_name, show_scores, citation.n, citation.spans, citation.paragraph)


def group_html(turn: Turn, index: int, lang: str, show_scores: bool, active: bool) -> str:
    answer = turn.answer
    if answer is None:
        return ""
    files = turn.files
    head = f'<div class="group-q">{escape(label(lang, "sources_for", question=turn.question))}</div>'
    llm = turn.model_called
    if turn.drafting:
        note = f'<div class="group-note llm">{escape(label(lang, "llm_reading"))}</div>'
        cards = "".join(
            _card_html(index, hit, lang, files.get(hit.chunk.doc_id, hit.chunk.doc_id), show_scores, n)
            for n, hit in enumerate(answer.related[: turn.passages], start=1)
        )
        body = note + cards
    elif answer.refused:
        note = f'<div class="group-note">{escape(label(lang, "related_note"))}</div>'
        cards = "".join(
            _card_html(index, hit, lang, files.get(hit.chunk.doc_id, hit.chunk.doc_id), show_scores)
            for hit in answer.related[:RELATED_SHOWN]
        )
        body = note + cards
    else:
        note = f'<div class="group-note llm">{escape(label(lang, "llm_sources_note"))}</div>' if llm and not llm.fallback else ""
        body = note + "".join(
            citation_card(index, c, lang, files.get(c.hit.chunk.doc_id, c.hit.chunk.doc_id), show_scores)
            for c in answer.citations
        )
    state = " active" if active else ""
    kind = "drafting" if turn.drafting else "refused" if answer.refused else "answered"
    return f'<section class="source-group {kind}{state}" data-turn="{index}">{head}{body}</section>'


def sources_html(turns: Sequence[Turn], lang: str, show_scores: bool) -> str:
    """Every answered turn's cards; the latest group is shown, the others wait for a click on their [n]."""
    answered = [i for i, t in enumerate(turns) if t.answer is not None]
    header = f'<div class="sources-head">{escape(label(lang, "sources"))}</div>'
    if not answered:
        return f'<div class="sources-panel">{header}<div class="sources-empty">{escape(label(lang, "sources_empty"))}</div></div>'
    groups = "".join(group_html(turns[i], i, lang, show_scores, i == answered[-1]) for i in answered)
    return f'<div class="sources-panel">{header}{groups}</div>'


# --------------------------------------------------------------------------- the full document


def document_html(doc: Document, paragraph: int, spans: Sequence[Span], lang: str) -> str:
    """The whole article, its paragraphs as blocks, ``paragraph`` highlighted and ``spans`` marked."""
    blocks = []
    for p in doc.paragraphs:
        text = doc.text[p.start : p.end]
        hl = p.index == paragraph
        inner = marked(text, p.start, spans if hl or any(p.start <= s < p.end for s, _ in spans) else ())
        tag = "h3" if p.kind == HEADING else "p"
        classes = ["doc-para", p.kind] + (["hl"] if hl else [])
        blocks.append(f'<{tag} class="{" ".join(classes)}" data-para="{p.index}">{inner}</{tag}>')
    file_name = doc.meta.get("file_name", doc.id)
    meta = f"{escape(file_name)} · {escape(label(lang, 'doc_paragraphs', n=len(doc.paragraphs)))}"
    return (
        f'<header class="doc-head"><div><h2 class="doc-title">{escape(doc.title)}</h2>'
        f'<div class="doc-file">{meta}</div></div>'
        f'<button type="button" class="doc-close" aria-label="{_attr(label(lang, "close"))}">{escape(label(lang, "close"))} ✕</button></header>'
        f'<div class="doc-body" data-doc="{_attr(doc.id)}">{"".join(blocks)}</div>'
    )


def missing_document_html(lang: str) -> str:
    return (
        f'<header class="doc-head"><div></div><button type="button" class="doc-close">{escape(label(lang, "close"))} ✕</button></header>'
        f'<div class="doc-body"><p class="doc-missing">{escape(label(lang, "doc_missing"))}</p></div>'
    )


def parse_spans(raw: object) -> list[Span]:
    spans = []
    for piece in str(raw or "").split(","):
        m = re.fullmatch(r"\s*(\d+)-(\d+)\s*", piece)
        if m and int(m.group(1)) < int(m.group(2)):
            spans.append((int(m.group(1)), int(m.group(2))))
    return spans


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
