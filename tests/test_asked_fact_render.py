"""The asked fact, emphasised in the app: in the chat bubble and inside the card's <mark>, everything escaped.

An answer built from a made-up article through the real chunker, rendered by
the app's own functions (no model, no browser).
"""

from __future__ import annotations

import re

from rag import Hit, Settings
from rag.answer.compose import compose
from rag.ingest.chunking import ChunkerConfig, chunk_document
from rag.ingest.documents import parse_bytes
from rag.search.question import prepare
from ui import cards, render
from ui.state import Turn

SETTINGS = Settings()
ARTICLE = "R&D报告\n\n在全国<同类>企业中，星河科技的R&D投入位居第三。星河科技的R&D团队有400人。"


def _answer():
    doc = parse_bytes(ARTICLE.encode(), "rd.txt")
    chunks = chunk_document(doc, ChunkerConfig.from_settings(SETTINGS))
    found = [Hit(c, r, 1.0 / r, r, 0.85, r, 1.0 / r) for r, c in enumerate(chunks, start=1)]
    return compose(prepare("星河科技的R&D投入排名第几？"), found, SETTINGS)


def test_the_chat_bubble_emphasises_the_asked_fact_and_escapes_the_rest() -> None:
    answer = _answer()
    html = render.turn_html(Turn("星河科技的R&D投入排名第几？", answer=answer), 0, "zh-hans")
    assert '<strong class="asked">第三</strong>' in html
    assert "&lt;同类&gt;" in html and "R&amp;D" in html and "<同类>" not in html
    assert html.count('class="asked"') == 1


def test_the_bubble_streams_the_emphasis_without_breaking_markup() -> None:
    answer = _answer()
    segments = render.answer_segments(answer)
    span = answer.answer_spans[0]
    partial = render._segments_html(segments, 0, span.start + 1, [(span.start, span.end)])
    assert partial.endswith('<strong class="asked">第</strong>')


def test_the_card_emphasises_the_fact_inside_the_marked_quote() -> None:
    answer = _answer()
    citation = answer.citations[0]
    html = cards.citation_card(0, citation, "zh-hans", "rd.txt", show_scores=False)
    mark = re.search(r"<mark>(.*?)</mark>", html)
    assert mark is not None and '<strong class="asked">第三</strong>' in mark.group(1)
    assert "R&amp;D" in mark.group(1) and "&lt;同类&gt;" in mark.group(1)
