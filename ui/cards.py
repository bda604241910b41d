"""The sources panel and the document viewer: HTML of the passages an answer stands on.

Each answered turn gets a group of cards: the cited passages with the quoted
sentences marked, or, for a refusal, the related passages unmarked. The viewer
shows a whole article with one paragraph highlighted. Everything taken from a
document or a question is HTML-escaped; the offsets come from the library
(``Citation.spans`` are document offsets, ``Chunk.start`` is where a chunk
starts), so a highlight is exactly the sentence the answer quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from html import escape

from rag import HEADING, PARAGRAPH_SEPARATOR, Answer, Citation, Document, Hit

from .constants import RELATED_SHOWN
from .labels import label
from .state import Turn

Span = tuple[int, int]


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


# --------------------------------------------------------------------------- text with highlights


def marked(text: str, base: int, spans: Iterable[Span], asked: Sequence[Span] = ()) -> str:
    """``text`` (which starts at document offset ``base``) escaped, with ``spans`` wrapped in <mark>.

    Inside a mark, the ``asked`` spans (the asked fact, ``Citation.marks``) are
    wrapped in <strong class="asked">.
    """
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        start, end = max(start - base, 0), min(end - base, len(text))
        if end <= start or start < pos:
            continue
        out.append(escape(text[pos:start]))
        out.append(f"<mark>{emphasised(text[start:end], base + start, asked)}</mark>")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def emphasised(text: str, base: int, asked: Sequence[Span]) -> str:
    """``text`` (at offset ``base`` of its whole) escaped, the parts inside ``asked`` in <strong class="asked">."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(asked):
        start, end = max(start - base, pos), min(end - base, len(text))
        if end <= start:
            continue
        out.append(escape(text[pos:start]))
        out.append(f'<strong class="asked">{escape(text[start:end])}</strong>')
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def paragraphs_of(text: str, start: int) -> Iterator[tuple[int, str]]:
    """(document offset, paragraph text) for each paragraph of a chunk's text."""
    pos = 0
    for piece in text.split(PARAGRAPH_SEPARATOR):
        yield start + pos, piece
        pos += len(piece) + len(PARAGRAPH_SEPARATOR)


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


def _day(iso: str) -> str:
    """The calendar day of an ISO date (``--08-16`` when the year is unknown stays as it is)."""
    return iso[:10] if not iso.startswith("--") else iso[2:7]


def _same_story_html(hit: Hit, lang: str) -> str:
    """另有 N 篇相同报道, expanding to the other reports; each opens its own document."""
    if not hit.same_story:
        return ""
    items = "".join(
        f'<li><button type="button" class="open-doc story-doc" data-doc="{_attr(r.doc_id)}" data-para="0" data-spans="" '
        f'data-lang="{lang}">{escape(r.title or r.doc_id)}</button>'
        + (f' <span class="story-date">{escape(_day(r.published))}</span>' if r.published else "")
        + "</li>"
        for r in hit.same_story
    )
    summary = escape(label(lang, "same_story", n=len(hit.same_story)))
    return f'<details class="same-story"><summary>{summary}</summary><ul>{items}</ul></details>'


def _card_html(
    turn: int,
    hit: Hit,
    lang: str,
    file_name: str,
    show_scores: bool,
    n: int | None = None,
    spans: Sequence[Span] = (),
    paragraph: int | None = None,
    asked: Sequence[Span] = (),
) -> str:
    chunk = hit.chunk
    paragraph = chunk.paragraph if paragraph is None else paragraph
    first = chunk.first_paragraph
    paras = []
    for i, (offset, text) in enumerate(paragraphs_of(chunk.text, chunk.start)):
        classes = "quoted" if first + i == paragraph and spans else ""
        paras.append(f'<p class="{classes}" data-para="{first + i}">{marked(text, offset, spans, asked)}</p>')
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
    if hit.published:
        where += f' · <time class="card-date" datetime="{_attr(hit.published)}">{escape(label(lang, "published", date=_day(hit.published)))}</time>'

    span_attr = ",".join(f"{s}-{e}" for s, e in spans)
    return (
        f'<article class="source-card {kind}" {attrs} data-turn="{turn}" data-doc="{_attr(chunk.doc_id)}" '
        f'data-para="{paragraph}" tabindex="-1">'
        f'<header class="card-head">{badge}<div class="card-meta">'
        f'<div class="card-title">{escape(chunk.title)}</div><div class="card-file">{where}</div></div>{score}</header>'
        f'<div class="card-text">{"".join(paras)}</div>{_same_story_html(hit, lang)}'
        f'<footer class="card-foot">{_why_html(hit, lang)}'
        f'<button type="button" class="open-doc" data-doc="{_attr(chunk.doc_id)}" data-para="{paragraph}" '
        f'data-spans="{span_attr}" data-lang="{lang}">{escape(label(lang, "open_full"))}</button></footer>'
        f"</article>"
    )


def citation_card(turn: int, citation: Citation, lang: str, file_name: str, show_scores: bool) -> str:
    return _card_html(turn, citation.hit, lang, file_name, show_scores, citation.n, citation.spans, citation.paragraph, citation.marks)


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
        cards = "".join(_card_html(index, hit, lang, files.get(hit.chunk.doc_id, hit.chunk.doc_id), show_scores) for hit in answer.related[:RELATED_SHOWN])
        body = note + cards
    else:
        note = f'<div class="group-note llm">{escape(label(lang, "llm_sources_note"))}</div>' if llm and not llm.fallback else ""
        if answer.period:
            note += f'<div class="group-note period">{escape(label(lang, "period_note", period=answer.period))}</div>'
        if answer.missing:
            note += f'<div class="group-note near">{escape(label(lang, "near_note", missing="、".join(answer.missing)))}</div>'
        body = note + "".join(citation_card(index, c, lang, files.get(c.hit.chunk.doc_id, c.hit.chunk.doc_id), show_scores) for c in answer.citations)
        if answer.more:
            body += more_html(answer, index, lang, files, show_scores)
    state = " active" if active else ""
    kind = "drafting" if turn.drafting else "refused" if answer.refused else "near" if answer.missing else "answered"
    return f'<section class="source-group {kind}{state}" data-turn="{index}">{head}{body}</section>'


def more_html(answer: Answer, index: int, lang: str, files: dict[str, str], show_scores: bool) -> str:
    """更多原文 / "More from the sources": the further supporting quotes, folded away. A quote from a
    passage already shown as a card is listed as its words only; another passage gets its own card."""
    shown = {c.hit.chunk.id for c in answer.citations}
    items = []
    for c in answer.more:
        if c.hit.chunk.id in shown:
            items.append(f'<blockquote class="more-quote" data-turn="{index}" data-n="{c.n}">{escape(" ".join(c.quotes))}</blockquote>')
        else:
            items.append(citation_card(index, c, lang, files.get(c.hit.chunk.doc_id, c.hit.chunk.doc_id), show_scores))
    summary = escape(label(lang, "more_sources", n=len(answer.more)))
    return f'<details class="more-sources"><summary>{summary}</summary>{"".join(items)}</details>'


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
    if doc.meta.get("published"):
        meta += f" · {escape(label(lang, 'published', date=_day(doc.meta['published'])))}"
    return (
        f'<header class="doc-head"><div><h2 class="doc-title">{escape(doc.title)}</h2>'
        f'<div class="doc-file">{meta}</div></div>'
        f'<button type="button" class="doc-close" aria-label="{_attr(label(lang, "close"))}">{escape(label(lang, "close"))} ✕</button></header>'
        f'<div class="doc-body" data-doc="{_attr(doc.id)}">{"".join(blocks)}</div>'
    )


def missing_document_html(lang: str, message: str | None = None) -> str:
    """The viewer when the document cannot be shown: it left the index, or ``message`` says why."""
    text = message if message is not None else label(lang, "doc_missing")
    return (
        f'<header class="doc-head"><div></div><button type="button" class="doc-close">{escape(label(lang, "close"))} ✕</button></header>'
        f'<div class="doc-body"><p class="doc-missing">{escape(text)}</p></div>'
    )


def parse_spans(raw: object) -> list[Span]:
    spans = []
    for piece in str(raw or "").split(","):
        m = re.fullmatch(r"\s*(\d+)-(\d+)\s*", piece)
        if m and int(m.group(1)) < int(m.group(2)):
            spans.append((int(m.group(1)), int(m.group(2))))
    return spans
