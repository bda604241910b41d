"""News in the app without a browser: the date range in the settings, dates and duplicate stories on cards.

A real index of made-up scraped news (three outlets' copies of one report and
another story; see tests/test_news.py) built with the fake embedder; the
handlers are called as Gradio calls them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_news import story_docs

from rag import Rag
from ui import cards, handlers
from ui.state import App, Turn


@pytest.fixture
def news_app(fake_settings: Callable[..., Any], tmp_path: Path) -> App:
    rag = Rag(fake_settings(tmp_path / "news-index"))
    rag.ingest_documents(list(story_docs().values()))
    return App(rag, export_dir=tmp_path / "exports")


def ask(app: App, text: str, since: str = "", until: str = "", lang: str = "zh") -> list[dict[str, Any]]:
    result = handlers.ask(app, text, [], lang, 5, "hybrid", False, "extractive", since, until)
    return list(result) if inspect.isgenerator(result) else [result]


def test_cards_show_the_date_and_the_other_reports_of_the_story(news_app: App) -> None:
    last = ask(news_app, "7月份全国居民消费价格同比下降多少？")[-1]
    turn: Turn = last["conv"][-1]
    assert turn.answer is not None and not turn.answer.refused
    html = cards.sources_html([turn], "zh", False)
    assert '<time class="card-date" datetime="2023-08-10' in html and "发布于 2023-08-10" in html
    assert "另有 2 篇相同报道" in html and html.count('class="open-doc story-doc"') == 2
    assert "2 more reports of the same story" in cards.sources_html([turn], "en", False)


def test_the_date_range_keeps_the_sources_in_range(news_app: App) -> None:
    turn: Turn = ask(news_app, "7月份全国居民消费价格同比下降多少？", until="2023-07-31")[-1]["conv"][-1]
    assert turn.answer is not None
    shown = [c.hit for c in turn.answer.citations] or list(turn.answer.related)
    assert shown and all(h.published <= "2023-07-31T23:59" for h in shown)


def test_a_bad_date_is_a_message_in_the_interface_language(news_app: App) -> None:
    outs = ask(news_app, "华北地区强降雨", since="上周")
    assert "2023-07-01" in outs[-1]["chatbot"][-1]["content"] and outs[-1]["conv"][-1].answer is None


def test_the_period_the_question_names_is_said_above_its_sources(news_app: App) -> None:
    turn: Turn = ask(news_app, "最近应急管理部转移了多少群众？")[-1]["conv"][-1]
    assert turn.answer is not None and turn.answer.period
    if not turn.answer.refused:
        assert turn.answer.period in cards.sources_html([turn], "zh", False)


# --------------------------------------------------------------------------- the CLI


def test_cli_since_until_and_the_json_fields(news_app: App, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from helpers import FAKE_MODEL
    from ui.cli import main

    monkeypatch.setenv("RAG_EMBED_MODEL", FAKE_MODEL)
    index = str(news_app.rag.index_dir)
    assert main(["--index-dir", index, "search", "7月份全国居民消费价格同比下降多少？", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["published"].startswith("2023-08-10") and len(hits[0]["same_story"]) == 2
    assert len({h["story"] for h in hits}) == len({h["doc"] for h in hits})  # one document per story
    assert main(["--index-dir", index, "search", "7月份全国居民消费价格同比下降多少？", "--until", "2023-07-31", "--json"]) == 0
    assert {h["doc"] for h in json.loads(capsys.readouterr().out)["hits"]} == {"n4"}
    assert main(["--index-dir", index, "ask", "最近应急管理部转移了多少群众？", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["period"] == "2023-07-11—2023-08-10"
    assert main(["--index-dir", index, "search", "华北", "--since", "tomorrow"]) == 1
    assert "2023-07-01" in capsys.readouterr().err
    assert main(["--index-dir", index, "search", "7月份全国居民消费价格同比下降多少？"]) == 0
    assert "另有 2 篇相同报道" in capsys.readouterr().out
