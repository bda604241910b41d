"""How the app shows the LLM answer mode: real hits from the seed index, real verifier verdicts.

The model's text here is written by the test (the real server's output is
covered by test_llm_server and the browser test), so each display rule can be
checked exactly: a verified sentence is linked and ticked, a rejected one is
struck through and labelled or hidden and counted, the cards mark the quotes
that support the sentences, and a fallback says why.
"""

from __future__ import annotations

import re
from html import escape

import pytest

from rag import FallbackReason, LLMResult, Rag
from rag.llm import finish
from ui import cards, render
from ui.labels import label
from ui.state import Turn

QUESTION = "工行推出了多少项普惠金融API开放服务？"
HALLUCINATION = "工行2023年净利润是1478.5亿元。"


def llm_turn(rag: Rag, raw_for: str, unsupported: str) -> tuple[Turn, int]:
    """A finished LLM turn for ``raw_for`` (with ``{n}`` = the passage holding the 109 sentence)."""
    extractive = rag.ask(QUESTION)
    hits = list(extractive.related)
    n = next(i for i, h in enumerate(hits, start=1) if "109项普惠金融API" in h.chunk.text)
    raw = raw_for.format(n=n)
    answer, verification, reason = finish(QUESTION, hits, extractive, raw, rag.settings.replace(llm_unsupported=unsupported))
    result = LLMResult(answer, verification, raw, reason, True, 0.4, 3.2)
    turn = Turn(question=QUESTION, answer=answer, llm=result, unsupported=unsupported, search_ms=12.0)
    turn.files = {h.chunk.doc_id: h.chunk.doc_id for h in hits}
    return turn, n


SUPPORTED = "工行创新研发推出了5大类、共109项普惠金融API开放服务。[{n}]" + HALLUCINATION + "[{n}]"


def test_verified_sentences_are_linked_and_ticked_and_rejected_ones_struck(seed_rag: Rag) -> None:
    turn, n = llm_turn(seed_rag, SUPPORTED, "strike")
    html = render.turn_html(turn, 0, "zh")
    assert label("zh", "llm_badge") in html
    ok = re.search(r'<span class="sent ok">([^<]*)</span><a class="cite"[^>]*data-n="(\d+)"[^>]*>.*?</a><span class="tick"[^>]*title="([^"]*)"', html)
    assert ok and "109项普惠金融API" in ok.group(1) and int(ok.group(2)) == n
    assert "109项普惠金融API" in ok.group(3), "the tick's tooltip shows the supporting quote"
    struck = re.search(r'<span class="sent unsupported"><s>([^<]*)</s></span><span class="badge-unsupported">([^<]*)</span>', html)
    assert struck and "1478.5亿元" in struck.group(1) and struck.group(2) == label("zh", "unverified")
    assert html.count('class="cite"') == 1, "an unsupported sentence never carries a citation"
    assert "首字 0.4 s" in html and "生成并核验 3.2 s" in html


def test_drop_mode_hides_rejected_sentences_and_says_how_many(seed_rag: Rag) -> None:
    turn, _ = llm_turn(seed_rag, SUPPORTED, "drop")
    html = render.turn_html(turn, 0, "zh")
    assert "1478.5" not in html and "109项普惠金融API" in html
    assert label("zh", "llm_hidden", n=1) in html


def test_cards_highlight_the_quotes_that_support_the_sentences(seed_rag: Rag) -> None:
    turn, n = llm_turn(seed_rag, SUPPORTED, "strike")
    panel = cards.sources_html([turn], "zh", False)
    assert label("zh", "llm_sources_note") in panel
    card = re.search(rf'<article class="source-card cited" id="src-0-{n}".*?</article>', panel, re.S)
    assert card, "the verified sentence's passage has a card under its own number"
    marks = re.findall(r"<mark>(.*?)</mark>", card.group(0))
    assert marks and any("109项普惠金融API" in m for m in marks)
    assert panel.count('class="source-card cited"') == 1


def test_a_failed_check_shows_the_quoted_answer_with_the_reason_and_the_verdicts(seed_rag: Rag) -> None:
    turn, _ = llm_turn(seed_rag, HALLUCINATION + "[{n}]", "strike")
    assert turn.llm is not None and turn.llm.fallback and turn.llm.reason is FallbackReason.NOTHING_VERIFIED
    (question, message) = render.chat_messages([turn], "zh")
    assert question["role"] == "user" and message["role"] == "assistant"
    html = message["content"]
    assert html == render.turn_html(turn, 0, "zh")
    assert label("zh", "fallback_unverified") in html
    assert '<details class="llm-report">' in html and "<s>" + HALLUCINATION in html
    note, answer, report = (html.index(x) for x in ('class="llm-note"', 'class="answer"', 'class="llm-report"'))
    assert note < answer < report, "why, then the quoted answer, then the model's text on demand"
    extractive_quote = turn.answer.citations[0].quote
    plain = re.sub(r'<strong class="asked">(.*?)</strong>', r"\1", html)
    assert extractive_quote in plain and 'class="cite"' in html, "the quoted answer is shown whole, its asked fact emphasised"
    assert html.count('<strong class="asked">') == len(turn.answer.answer_spans)
    english = render.turn_html(turn, 0, "en")
    assert escape(label("en", "fallback_unverified")) in english


def test_a_model_error_is_explained_in_the_interface_language(seed_rag: Rag) -> None:
    turn, _ = llm_turn(seed_rag, SUPPORTED, "drop")
    error = "the language model at http://127.0.0.1:9/v1 failed: Connection error."
    turn.llm = LLMResult.model_failed(seed_rag.ask(QUESTION), "", error, None, 3.2)
    turn.answer = turn.llm.answer
    assert turn.llm.fallback and turn.llm.reason is FallbackReason.MODEL_ERROR
    html = render.turn_html(turn, 0, "zh")
    assert "暂时无法使用大模型" in html and "Connection error." in html and "首字 – s" in html
    assert "Connection error." in render.turn_html(turn, 0, "en") and "not available" in render.turn_html(turn, 0, "en")


def test_the_draft_is_escaped_and_the_passages_being_read_are_numbered(seed_rag: Rag) -> None:
    extractive = seed_rag.ask(QUESTION)
    turn = Turn(question=QUESTION, answer=extractive, drafting=True, passages=2, draft="<b>工行</b>推出了[1]")
    turn.files = {h.chunk.doc_id: h.chunk.doc_id for h in extractive.related}
    html = render.turn_html(turn, 0, "zh")
    assert "&lt;b&gt;工行&lt;/b&gt;推出了[1]" in html and label("zh", "llm_draft") in html
    assert 'class="cite"' not in html, "nothing in a draft is linked before it is checked"
    panel = cards.sources_html([turn], "zh", False)
    assert label("zh", "llm_reading") in panel
    assert [int(x) for x in re.findall(r'id="src-0-(\d+)"', panel)] == [1, 2]
    assert "<mark>" not in panel


@pytest.mark.parametrize("unsupported", ["drop", "strike"])
def test_the_export_says_the_model_phrased_it(seed_rag: Rag, unsupported: str) -> None:
    turn, _ = llm_turn(seed_rag, SUPPORTED, unsupported)
    markdown = render.conversation_markdown([turn], "zh")
    assert label("zh", "export_llm") in markdown and "109项普惠金融API" in markdown
    assert ("1478.5" in markdown) == (unsupported == "strike")
