"""The library's list (rag.store.listing): rows, newest first, search with folding, dates, source, pages.

Built on small real indexes (the fake embedder, real segments and manifest): an
archive of dated articles, a syndicated copy, an undated one, and a folder of files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import run_main
from rag import Document, InputError, Listing, Rag, Settings
from rag.text.headline import display_title

STORY = "中国人民银行决定下调金融机构存款准备金率0.25个百分点，此次降准共计释放长期资金约5000亿元，以支持实体经济发展和稳定市场预期。"
ARTICLES = [
    {"id": "a-old", "text": f"2023-07-01 08:00:00，正文：IT之家 7 月 1 日消息，{STORY}"},
    {"id": "a-copy", "text": f"2023-07-02 09:00:00，正文：{STORY}"},
    {"id": "b-taiwan", "text": "2023-08-17 09:00:00，正文：臺灣央行宣布維持利率不變。市場普遍預期下半年仍有升息空間。"},
    {"id": "c-api", "text": "2023-08-18 10:00:00，正文：某公司发布ＡＰＩ开放平台，开发者可以免费接入。平台首批支持十种语言。"},
    {"id": "d-late", "text": "2023-08-20 10:00:00，正文：暴雨预警升级，多地学校停课。气象部门提醒市民减少外出。"},
    {"id": "e-undated", "text": "没有日期的说明文字。这篇文章只讲茶园的历史与种植方法。"},
]
NOTE = "# 青岚茶园\n\n青岚茶园位于山间，种植古茶树4386株。茶园每年春季开园迎客。\n"


@pytest.fixture
def library(tmp_path: Path, fake_settings: Callable[..., Settings]) -> Rag:
    archive = tmp_path / "archive.jsonl"
    archive.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "tea.md").write_text(NOTE, encoding="utf-8")
    rag = Rag(fake_settings())
    report = rag.ingest([archive, folder])
    assert not report.errors and len(report.added) == len(ARTICLES) + 1
    return rag


def ids(rag: Rag, **listing: object) -> list[str]:
    return [row.id for row in rag.library(Listing(**listing)).rows]  # type: ignore[arg-type]


def test_rows_are_newest_first_with_date_source_paragraphs_and_copies(library: Rag) -> None:
    page = library.library()
    assert page.total == page.documents == 7 and page.offset == 0
    assert [r.id for r in page.rows][:5] == ["d-late", "c-api", "b-taiwan", "a-copy", "a-old"]
    assert {r.id for r in page.rows[5:]} == {"e-undated", "tea.md"} and all(r.published == "" for r in page.rows[5:]), "undated last"
    rows = {r.id: r for r in page.rows}
    assert rows["d-late"].published == "2023-08-20" and rows["d-late"].source == "archive.jsonl"
    assert rows["tea.md"].source == "notes" and rows["tea.md"].title == "青岚茶园"
    assert rows["a-old"].copies == rows["a-copy"].copies == 2 and rows["a-old"].story == rows["a-copy"].story
    assert rows["d-late"].copies == 1 and rows["b-taiwan"].paragraphs == 1
    assert rows["a-old"].title.startswith("中国人民银行决定下调"), "the wire's dateline is not the title"
    assert dict(page.sources) == {"archive.jsonl": 6, "notes": 1}


def test_pages_hold_limit_rows_from_offset_and_the_total_stays(library: Rag) -> None:
    everything = ids(library)
    first, second, last = (library.library(Listing(limit=3, offset=o)) for o in (0, 3, 6))
    assert [r.id for r in first.rows + second.rows + last.rows] == everything
    assert first.total == second.total == last.total == 7 and len(last.rows) == 1
    assert library.library(Listing(offset=50)).rows == () and library.library(Listing(offset=50)).total == 7


def test_search_folds_script_and_width_and_needs_every_word(library: Rag) -> None:
    assert ids(library, text="台湾") == ["b-taiwan"], "simplified finds traditional"
    assert ids(library, text="準備金") == ["a-copy", "a-old"], "traditional finds simplified"
    assert ids(library, text="api") == ids(library, text="ＡＰＩ") == ["c-api"], "width and case"
    assert ids(library, text="茶园 4386") == ["tea.md"] and ids(library, text="茶园 暴雨") == []
    assert ids(library, text="青岚") == ["tea.md"], "the title is searched too"


def test_dates_and_source_narrow_the_list(library: Rag) -> None:
    assert ids(library, since="2023-08-17", until="2023-08-18") == ["c-api", "b-taiwan"]
    assert ids(library, since="2023-08-19") == ["d-late"] and ids(library, until="2023-07-01") == ["a-old"]
    assert ids(library, source="notes") == ["tea.md"]
    page = library.library(Listing(text="银行", since="2023-07-02", source="archive.jsonl"))
    assert [r.id for r in page.rows] == ["a-copy"] and page.total == 1


def test_bad_listings_are_refused_with_a_message() -> None:
    for bad in ({"limit": 0}, {"offset": -1}, {"since": "2023-13-01"}, {"until": "yesterday-ish"}):
        with pytest.raises(InputError, match="/"):
            Listing(**bad)  # type: ignore[arg-type]


def test_the_list_follows_each_generation(library: Rag, tmp_path: Path) -> None:
    assert ids(library, text="暴雨") == ["d-late"]
    library.delete(["d-late"])
    assert ids(library, text="暴雨") == [] and library.library().total == 6
    extra = tmp_path / "more.jsonl"
    extra.write_text(
        json.dumps({"id": "storm", "text": "2023-09-01 07:00:00，正文：暴雨过后，道路恢复通行。交通部门连夜抢修。"}, ensure_ascii=False), encoding="utf-8"
    )
    library.ingest([extra])
    page = library.library(Listing(text="暴雨"))
    assert [r.id for r in page.rows] == ["storm"] and page.rows[0].published == "2023-09-01" and page.documents == 7
    assert ids(library)[0] == "storm" and page.rows[0].source == "more.jsonl"


def test_a_library_without_an_index_lists_nothing(tmp_path: Path, fake_settings: Callable[..., Settings]) -> None:
    page = Rag(fake_settings(index_dir=tmp_path / "none")).library()
    assert page.rows == () and page.total == page.documents == 0


def test_display_titles_drop_the_wire_dateline_and_keep_real_titles() -> None:
    assert display_title("IT之家 8 月 16 日消息，NEXON…", "IT之家 8 月 16 日消息，NEXON 发布了新视频。后文") == "NEXON 发布了新视频"
    assert display_title("中新网上海8月18日电 (高志苗)上市…", "中新网上海8月18日电 (高志苗)上市航运指数期货有助于企业。") == "上市航运指数期货有助于企业"
    assert display_title("", "北京时间 8 月 17 日晚间消息，投行分析师表示看好。") == "投行分析师表示看好"
    assert display_title("今年前7个月", "今年前7个月，南京8月1日消息称外贸增长。") == "今年前7个月", "a sentence that names a date keeps its title"
    assert display_title("", "记者8月5日消息，南京发布通知。") == ""
    assert display_title("央行降准", "新华社北京8月11日电 央行决定降准。") == "央行降准", "a title of its own stays"


def test_rag_documents_lists_a_page_as_text_and_json(library: Rag, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(library.index_dir)
    status, out, _ = run_main(capsys, "--index-dir", index, "documents", "--query", "準備金", "--limit", "1")
    lines = out.strip().splitlines()
    assert status == 0 and lines[0].split("\t")[:5] == ["2023-07-02", "archive.jsonl", "1", "×2", "a-copy"]
    assert "共 2 条" in lines[-1] and len(lines) == 2
    status, out, _ = run_main(capsys, "--index-dir", index, "documents", "--since", "2023-08-18", "--json")
    data = json.loads(out)
    assert data["total"] == 2 and data["library"] == 7 and [d["doc"] for d in data["documents"]] == ["d-late", "c-api"]
    assert set(data["documents"][0]) == {"doc", "title", "published", "source", "paragraphs", "copies", "story", "sha256"}
    status, _, err = run_main(capsys, "--index-dir", index, "documents", "--limit", "0")
    assert status == 1 and "limit" in err
    shutil.rmtree(library.index_dir)


def test_example_questions_read_only_the_documents_their_first_candidates_need() -> None:
    from rag.answer.examples import candidates
    from rag.ingest.documents import parse_bytes

    places = ("青岚茶园", "云栖书院", "南湖公园", "北山林场", "东港码头", "西城图书馆")
    texts = [f"# {place}简介\n\n{place}共有{120 + i}名工作人员，每年接待游客约{3 + i}万人次。\n" for i, place in enumerate(places)]
    documents = [parse_bytes(text.encode(), f"{i}.md") for i, text in enumerate(texts)]
    read: list[str] = []

    def counted() -> Iterator[Document]:
        for document in documents:
            read.append(document.id)
            yield document

    everything = candidates(documents)
    assert len(everything) >= 2
    for wanted in (1, 2, len(everything)):
        read.clear()
        assert candidates(counted(), wanted)[:wanted] == everything[:wanted], "the list begins as it would over all"
        if wanted == 1:
            assert len(read) < len(documents), "the rest of the library is not read"
