"""News: publication dates in every form, periods in questions, duplicate stories, the date filter.

Made-up articles in the shape of scraped news (a metadata line before 正文：,
datelines, syndicated copies with different headers) go through the real
parser, the real index on disk and retrieval with the fake embedder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import SHARED_DATA
from rag import Document, Rag, Settings, answer_to_dict, search_to_dict
from rag.ingest.documents import parse_bytes
from rag.ingest.stories import annotate, group_stories
from rag.text.dates import DATELINE, FILE_NAME, HEADER, HTML_META, HTML_TIME, in_range, parse_date, question_period

SettingsFactory = Callable[..., Settings]


def news(doc_id: str, text: str) -> Document:
    """A scraped article as the news slice holds it: its id names a plain-text file."""
    return parse_bytes(text.encode(), f"{doc_id}.txt", doc_id=doc_id)


# --------------------------------------------------------------------------- dates of documents


@pytest.mark.parametrize(
    ("text", "published"),
    [
        ("2023-08-11 15:10，正文：暴雨过后，城区积水已经全部排除。", "2023-08-11T15:10"),
        ("2023-08-16 17:34:48，正文：暴雨过后，城区积水已经全部排除。", "2023-08-16T17:34:48"),
        ("[2023/07/20  16:52]，正文：暴雨过后，城区积水已经全部排除。", "2023-07-20T16:52"),
        ("2023年07月20日 21:07:00 来自北京市，正文：暴雨过后，城区积水已经全部排除。", "2023-07-20T21:07:00"),
        ("23-07-26 05:23，正文：暴雨过后，城区积水已经全部排除。", "2023-07-26T05:23"),
        ("202307/1915:55:52，正文：暴雨过后，城区积水已经全部排除。", "2023-07-19T15:55:52"),
        ("时间：2023-07-28 07:58:00，正文：暴雨过后，城区积水已经全部排除。", "2023-07-28T07:58:00"),
    ],
)
def test_a_leading_timestamp_is_the_publication_date_and_leaves_the_text(text: str, published: str) -> None:
    doc = news("a", text)
    assert doc.meta["published"] == published and doc.meta["published_source"] == HEADER
    assert doc.text == "暴雨过后，城区积水已经全部排除。"


def test_a_timestamp_without_a_year_takes_the_collections_year() -> None:
    alone = news("b", "08/16  13:50，正文：参考消息网报道，夏威夷州州长说，大火致死人数可能增至上百人。")
    assert alone.meta["published"] == "--08-16T13:50"  # no year in the document itself
    dated = news("a", "2023-08-11 15:10，正文：暴雨过后，城区积水已经全部排除，交通恢复正常。")
    done = annotate({"a": dated, "b": alone}, 0.5, 5, 64)
    assert done["b"].meta["published"] == "2023-08-16T13:50" and done["b"].meta["published_year"] == "collection"
    assert done["a"] is dated  # nothing to change: the same object


def test_a_dateline_dates_an_article_without_a_metadata_line() -> None:
    doc = news("c", "，正文：新华社北京2023年8月10日电（记者王明）国家统计局10日发布数据，7月份居民消费价格同比持平。")
    assert (doc.meta["published"], doc.meta["published_source"]) == ("2023-08-10", DATELINE)
    partial = news("d", "中新社多伦多7月20日电 (记者 余瑞冬)加西海岸港口工人宣布重新启动大罢工。")
    assert partial.meta["published"] == "--07-20"


def test_a_date_reported_inside_the_body_is_not_a_dateline() -> None:
    doc = news("e", "据俄罗斯《生意人报》网站8月16日报道，白俄罗斯出现了一家新公司。2003年它曾经注册过。")
    assert "published" not in doc.meta


def test_html_meta_and_time_tags_date_a_page() -> None:
    page = (
        '<html><head><meta property="article:published_time" content="2023-07-05T08:30:00+08:00"></head><body><p>正文第一段，讲述了新政策。</p></body></html>'
    )
    doc = parse_bytes(page.encode(), "page.html")
    assert (doc.meta["published"], doc.meta["published_source"]) == ("2023-07-05T08:30:00", HTML_META)
    timed = '<html><body><article><time datetime="2023-07-06">7月6日</time><p>正文第一段，讲述了新政策。</p></article></body></html>'
    doc = parse_bytes(timed.encode(), "timed.html")
    assert (doc.meta["published"], doc.meta["published_source"]) == ("2023-07-06", HTML_TIME)


def test_a_date_in_the_file_name() -> None:
    doc = parse_bytes("国家统计局发布数据，7月份居民消费价格同比持平。".encode(), "cpi_2023-08-09.txt")
    assert (doc.meta["published"], doc.meta["published_source"]) == ("2023-08-09", FILE_NAME)
    assert "published" not in parse_bytes("国家统计局发布了数据。".encode(), "cpi.txt").meta


def test_parse_date_rejects_impossible_days() -> None:
    assert parse_date("2023-02-30") is None
    assert parse_date("--", 2023) is None


# --------------------------------------------------------------------------- periods in questions


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("2023年7月长江流域发生了什么？", "2023-07-01", "2023-07-31"),
        ("上半年全国新增了多少装机？", "2023-01-01", "2023-06-30"),
        ("2022年下半年的出口怎样？", "2022-07-01", "2022-12-31"),
        ("二季度GDP增长多少？", "2023-04-01", "2023-06-30"),
        ("8月以来有哪些台风？", "2023-08-01", "2023-08-18"),
        ("7月20日国家移民管理局通报了什么？", "2023-07-20", "2023-07-20"),
        ("最近有哪些地方发生暴雨？", "2023-07-19", "2023-08-18"),
        ("今年的暑期档票房是多少？", "2023-01-01", "2023-08-18"),
        ("上个月的居民消费价格怎样？", "2023-07-01", "2023-07-31"),
    ],
)
def test_periods_read_against_the_newest_document(question: str, start: str, end: str) -> None:
    period = question_period(question, "2023-08-18T10:00", recent_days=30)
    assert period is not None and (period.start, period.end) == (start, end)


def test_a_question_without_a_period_and_relative_words_without_an_index() -> None:
    assert question_period("工行推出了多少项开放服务？", "2023-08-18") is None
    assert question_period("最近有什么新闻？", "") is None  # never the clock
    assert in_range("2023-07-31T23:59", "2023-07-01", "2023-07-31") and not in_range("2023-08-01", "", "2023-07-31")
    assert not in_range("", "2023-07-01") and not in_range("--07-20", "2023-07-01")


# --------------------------------------------------------------------------- stories

STORY = (
    "国家统计局10日发布数据，7月份全国居民消费价格同比下降0.3%，环比上涨0.2%。其中，城市下降0.2%，农村下降0.5%；"
    "食品价格下降1.7%，非食品价格上涨0.1%；消费品价格下降1.3%，服务价格上涨1.2%。1—7月平均，全国居民消费价格比去年同期上涨0.5%。"
    "国家统计局城市司首席统计师董莉娟解读说，7月份，国内消费市场持续恢复，供求关系继续改善。"
)
OTHER_STORY = (
    "受台风影响，华北地区出现极端强降雨，北京门头沟、房山等地遭遇洪涝灾害。应急管理部启动防汛二级应急响应，"
    "调派消防救援力量3000余人赶赴灾区，转移群众5.2万人。气象部门预计未来三天降雨仍将持续，提醒公众减少外出。"
)


def story_docs() -> dict[str, Document]:
    return {
        "n1": news("n1", "2023-08-10 09:31，正文：" + STORY),
        "n2": news("n2", "08/10  10:02，正文：中新网北京8月10日电 " + STORY + "（完）"),
        "n3": news("n3", "[2023/08/10  11:15]，正文：本报讯 " + STORY.replace("解读说", "表示") + "编辑：王明"),
        "n4": news("n4", "2023-07-31 18:00，正文：" + OTHER_STORY),
    }


def test_copies_with_different_headers_are_one_story_and_other_stories_are_not() -> None:
    docs = story_docs()
    stories = group_stories({k: d.text for k, d in docs.items()}, 0.5, 5, 128)
    assert stories == {"n1": "n1", "n2": "n1", "n3": "n1"}


def test_templated_reports_with_different_figures_are_different_stories() -> None:
    template = "原标题：股票行情快报：{name}（{code}）8月18日主力资金净卖出{a}万元截至2023年8月18日收盘，{name}({code})报收于{p}元，下跌{d}%，换手率{t}%，成交量{v}万手，成交额{m}亿元。"
    texts = {
        "s1": template.format(name="龙腾光电", code="688055", a="12.34", p="4.51", d="1.2", t="0.8", v="3.1", m="0.14"),
        "s2": template.format(name="南京熊猫", code="600775", a="153.43", p="11.20", d="2.6", t="1.9", v="12.5", m="1.38"),
    }
    assert group_stories(texts, 0.5, 5, 128) == {}


@pytest.fixture
def news_rag(fake_settings: SettingsFactory, tmp_path: Path) -> Rag:
    rag = Rag(fake_settings(tmp_path / "news-index"))
    report = rag.ingest_documents(list(story_docs().values()))
    assert not report.errors
    return rag


def test_stories_are_stored_with_the_documents_and_in_the_manifest(news_rag: Rag) -> None:
    index = news_rag.index()
    assert [index.documents[d].meta.get("story") for d in ("n1", "n2", "n3", "n4")] == ["n1", "n1", "n1", None]
    assert index.manifest.documents["n2"]["story"] == "n1" and index.manifest.documents["n4"]["published"] == "2023-07-31T18:00"
    assert index.documents["n2"].meta["published"] == "2023-08-10T10:02"  # the year came from the collection
    reloaded = Rag(news_rag.settings).index()
    assert reloaded.documents["n3"].meta["story"] == "n1"


def test_search_shows_one_document_per_story_and_lists_the_others(news_rag: Rag) -> None:
    hits = news_rag.search("7月份全国居民消费价格同比下降多少？", top_k=5)
    stories = {}
    for hit in hits:
        assert stories.setdefault(hit.story, hit.chunk.doc_id) == hit.chunk.doc_id  # one document per story
    first = hits[0]
    assert first.story == "n1" and first.chunk.doc_id in {"n1", "n2", "n3"}
    assert sorted(r.doc_id for r in first.same_story) == sorted({"n1", "n2", "n3"} - {first.chunk.doc_id})
    assert "n4" in {h.chunk.doc_id for h in hits}  # the second story is not crowded out
    data = search_to_dict("q", hits)["hits"][0]
    assert data["published"].startswith("2023-08-10") and len(data["same_story"]) == 2


def test_since_and_until_filter_inside_retrieval(news_rag: Rag) -> None:
    hits = news_rag.search("7月份全国居民消费价格同比下降多少？", top_k=5, until="2023-07-31")
    assert hits and {h.chunk.doc_id for h in hits} == {"n4"}
    hits = news_rag.search("华北地区强降雨", top_k=5, since="2023-08-01")
    assert hits and all(h.published >= "2023-08-01" for h in hits)
    assert news_rag.search("华北地区强降雨", since="2024-01-01") == []
    with pytest.raises(ValueError, match="2023-07-01"):
        news_rag.search("华北地区强降雨", since="last week")


def test_a_period_in_the_question_prefers_its_sources_and_the_answer_names_it(news_rag: Rag) -> None:
    plain = news_rag.search("国家统计局和应急管理部发布了什么？", top_k=5)
    in_july = news_rag.search("2023年7月国家统计局和应急管理部发布了什么？", top_k=5)
    assert in_july[0].chunk.doc_id == "n4"
    assert [h.chunk.doc_id for h in plain] != [h.chunk.doc_id for h in in_july] or plain[0].chunk.doc_id == "n4"
    answer = news_rag.ask("最近应急管理部转移了多少群众？")
    assert answer.period == "2023-07-11—2023-08-10"  # counted from the newest document, not today
    assert answer_to_dict(answer)["period"] == answer.period


def test_settings_check_the_date_range() -> None:
    assert Settings(since="2023/7/1").since == "2023-07-01"
    with pytest.raises(ValueError, match="since"):
        Settings(since="2023-08-01", until="2023-07-01")
    with pytest.raises(ValueError):
        Settings(until="yesterday")
    with pytest.raises(ValueError):
        Settings(since="07-01")  # a day needs its year


# --------------------------------------------------------------------------- the real slice, when present


@pytest.mark.skipif(not (SHARED_DATA / "news_zh_20k.jsonl.xz").exists(), reason="the news slice is not in ../shared")
def test_the_first_articles_of_the_slice_all_parse_with_dates() -> None:
    from rag.eval.evaluation import news_document, read_news

    dated = total = 0
    for doc_id, text in read_news(SHARED_DATA / "news_zh_20k.jsonl.xz"):
        doc = news_document(doc_id, text)  # never rejected while it has content
        assert "  " not in doc.text
        total += 1
        dated += "published" in doc.meta
        if total == 500:
            break
    assert dated / total > 0.75


def test_news_question_file_names_its_corpus(tmp_path: Path) -> None:
    from rag.eval.evaluation import load_dataset

    slice_path = tmp_path / "slice.jsonl"
    rows = [{"id": "n1", "text": "2023-08-10 09:31，正文：" + STORY}, {"id": "n4", "text": "2023-07-31 18:00，正文：" + OTHER_STORY}]
    slice_path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"corpus": {"news": "slice.jsonl", "background": 5}})
        + "\n"
        + json.dumps({"question": "7月份居民消费价格同比变化？", "evidence": "同比下降0.3%", "answer": ["0.3%"], "docs": ["n1"]}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    dataset = load_dataset(qa, Settings())
    assert {d.id for d in dataset.documents} == {"n1", "n4"} and dataset.items[0].gold_docs == frozenset({"n1"})


# --------------------------------------------------------------------------- the real model


def test_real_model_answers_from_one_copy_and_names_the_others(seed_rag: Rag, tmp_path: Path) -> None:
    rag = Rag(seed_rag.settings.replace(index_dir=str(tmp_path / "news-real")))
    rag.embedder = seed_rag.embedder  # the model already loaded
    rag.ingest_documents(list(story_docs().values()))
    answer = rag.ask("7月份全国居民消费价格同比下降了多少？")
    assert not answer.refused and "0.3%" in answer.text
    cited = answer.citations[0].hit
    assert cited.chunk.doc_id in {"n1", "n2", "n3"} and len(cited.same_story) == 2
    assert len({c.hit.story for c in answer.citations}) == len({c.hit.chunk.doc_id for c in answer.citations})
    july = rag.ask("2023年7月底应急管理部转移了多少群众？")
    assert july.period == "2023年7月" and not july.refused and "5.2万" in july.text
