"""The asked fact on the seed articles, real model: first in the answer, nothing unrelated, plain in `rag ask`, exact in JSON."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli
from rag import Rag
from rag.answer.scoring import facts
from rag.search.question import prepare

CLOUD = "工行的法人手机银行上线了多少项云产品？"
MORE_CUSTOMERS = "工行的个人客户比上年多了多少？"


def _first_sentence(text: str) -> str:
    return text[: text.index("[")]


def test_the_cloud_products_question_opens_with_the_figure_and_adds_nothing_unrelated(seed_rag: Rag) -> None:
    answer = seed_rag.ask(CLOUD)
    assert not answer.refused
    assert "上线7项云产品" in _first_sentence(answer.text)
    (span,) = answer.answer_spans
    assert answer.text[span.start : span.end] == "7项"
    asked = prepare(CLOUD)
    for citation in answer.citations:
        for quote in citation.quotes:
            assert facts(asked, quote), f"{quote!r} holds no figure: it does not answer {CLOUD}"


def test_an_increase_asked_in_other_words_finds_the_increase(seed_rag: Rag) -> None:
    answer = seed_rag.ask(MORE_CUSTOMERS)
    assert not answer.refused
    assert "增加1403万户" in _first_sentence(answer.text)
    (span,) = answer.answer_spans
    assert answer.text[span.start : span.end] == "1403万户" and span.need == "increase"


def test_rag_ask_prints_the_fact_plainly_and_its_offsets_exactly_in_json(seed_index_dir: Path, seed_rag: Rag) -> None:
    plain = run_cli("ask", CLOUD, index_dir=seed_index_dir)
    assert plain.returncode == 0, plain.stderr
    assert "所问: 7项" in plain.stdout and "<" not in plain.stdout.split("Sources")[0]
    done = run_cli("ask", CLOUD, "--json", index_dir=seed_index_dir)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (span,) = data["answer_spans"]
    assert span["text"] == "7项"
    assert data["answer"][span["start"] : span["end"]] == "7项"
    assert seed_rag.document(span["doc"]).text[span["doc_start"] : span["doc_end"]] == "7项"
    cited = next(c for c in data["citations"] if c["n"] == span["n"])
    assert cited["doc"] == span["doc"] and "7项" in cited["quote"]
