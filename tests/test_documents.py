"""Ingestion: decoding, formats, titles, and page-furniture rules on made-up articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.documents import (
    CAPTION,
    HEADING,
    IngestError,
    parse_bytes,
)
from rag.ingest.loading import load_documents
from rag.text.cleaning import is_caption, is_furniture, split_runs, strip_furniture

ARTICLE = """星河农场推出智慧灌溉系统

记者 王小明 报道

星河农场位于云南普洱，今年引入了智慧灌溉系统，节水约35%。

农场负责人李华：“我们用传感器监测土壤湿度。”

技术升级 产量提升

系统上线后，茶叶产量增加了1,200公斤，合计增收3.5万元。

工人在茶园中检查传感器(张三摄)

版权声明：本文版权归星河日报所有，未经授权不得转载。转载请联系 copyright@example.com。
下载星河日报客户端，获取更多资讯。
长按二维码关注我们
责任编辑：赵六
"""


@pytest.mark.parametrize(
    "line",
    [
        "版权声明：本网站所有内容版权归某某传媒所有，未经许可不得转载。",
        "Copyright © 2024 Example News. All rights reserved.",
        "下载某某新闻客户端，随时随地看新闻。",
        "扫描下方二维码，关注我们的公众号",
        "长按二维码",
        "责任编辑：张三",
        "记者：李四、王五（实习生）",
        "Editor: Jane Doe",
        "欢迎提供新闻线索，24小时报料热线123-4567。版权所有，转载请注明出处。",
    ],
)
def test_page_furniture_is_recognised(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "该银行的手机银行客户端用户已超过3亿户，月活跃用户持续增长。",
        "编辑部门负责人表示，新系统将于明年上线。",
        "记者从会上获悉，本次展会共吸引了200余家企业参展，成交额达到5亿元。",
        "The company said its app had 3 million downloads in May.",
    ],
)
def test_content_mentioning_apps_or_reporters_is_kept(line: str) -> None:
    assert not is_furniture(line)


def test_captions_are_recognised() -> None:
    assert is_caption("工人在茶园中检查传感器(张三摄)")
    assert is_caption("图为新落成的大桥。")
    assert not is_caption("农场位于云南普洱，今年引入了智慧灌溉系统。")


def test_plain_text_article_is_cleaned() -> None:
    doc = parse_bytes(ARTICLE.encode("utf-8"), "farm.txt")
    assert doc.title == "星河农场推出智慧灌溉系统"
    assert "版权" not in doc.text and "二维码" not in doc.text and "客户端" not in doc.text
    assert "王小明" not in doc.text and "赵六" not in doc.text
    kinds = {doc.paragraph_text(p.index): p.kind for p in doc.paragraphs}
    assert kinds["技术升级 产量提升"] == HEADING
    assert kinds["工人在茶园中检查传感器"] == CAPTION  # the photographer's credit goes, the caption stays one
    assert "张三" not in doc.text
    for p in doc.paragraphs:
        assert doc.text[p.start : p.end] == doc.paragraph_text(p.index)


def test_utf8_bom_and_gbk_decode_to_the_same_text() -> None:
    text = "标题\n\n工商银行的数字化转型取得了显著成效，客户总量达6.64亿户。"
    bom = parse_bytes("\ufeff".encode() + text.encode("utf-8"), "a.txt")
    gbk = parse_bytes(text.encode("gbk"), "a.txt")
    assert bom.text == gbk.text
    assert not bom.text.startswith("\ufeff")


@pytest.mark.parametrize(
    "name,data,fragment",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("notes.xyz", "内容".encode(), "unsupported"),
        ("broken.pdf", b"%PDF-1.4 not really a pdf", "PDF"),
        ("broken.docx", b"PK not a zip", "Word"),
    ],
)
def test_bad_files_fail_with_a_message_naming_the_file(name: str, data: bytes, fragment: str) -> None:
    with pytest.raises(IngestError) as raised:
        parse_bytes(data, name)
    assert name in str(raised.value)
    assert fragment.lower() in str(raised.value).lower()


def test_one_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "README.md").write_text("# about this folder", encoding="utf-8")
    docs, errors = load_documents([tmp_path])
    assert [d.id for d in docs] == ["good.txt"]
    assert len(errors) == 1 and "bad.txt" in str(errors[0])


def test_html_keeps_main_text_only() -> None:
    html = """<html><head><title>页面标题</title><script>var x = "不要";</script></head>
    <body><nav>首页 | 新闻 | 关于</nav><article><h1>茶园迎来丰收</h1>
    <p>今年春茶产量达到<b>120吨</b>，比去年增长15%。</p><figure><img src="a.jpg"><figcaption>采茶工人在劳作（李四摄）</figcaption></figure>
    <p>版权所有，未经授权不得转载。</p></article><footer>联系我们</footer></body></html>"""
    doc = parse_bytes(html.encode("utf-8"), "tea.html")
    assert doc.title == "茶园迎来丰收"
    assert "今年春茶产量达到 120吨 ，比去年增长15%。" in doc.text or "今年春茶产量达到120吨" in doc.text.replace(" ", "")
    assert "首页" not in doc.text and "var x" not in doc.text and "联系我们" not in doc.text and "版权" not in doc.text
    assert [p.kind for p in doc.paragraphs].count(CAPTION) == 1


def test_markdown_headings_and_links() -> None:
    md = "# 茶园简介\n\n茶园位于[云南](https://example.com)，面积**300亩**。\n\n## 历史\n\n始建于1998年，已有二十多年历史。\n"
    doc = parse_bytes(md.encode("utf-8"), "tea.md")
    assert doc.title == "茶园简介"
    assert "茶园位于云南，面积300亩。" in doc.text
    assert [p.kind for p in doc.paragraphs][:1] == [HEADING]


def test_docx_is_read(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("年度报告", level=1)
    document.add_paragraph("本年度营业收入为12.5亿元，同比增长8%。")
    path = tmp_path / "report.docx"
    document.save(str(path))
    doc = parse_bytes(path.read_bytes(), "report.docx")
    assert doc.title == "年度报告"
    assert "12.5亿元" in doc.text


# --------------------------------------------------------------------------- scraped news: runs of space, furniture inside content


def test_furniture_sentence_inside_a_content_paragraph_keeps_the_content() -> None:
    text = "2023-08-11 15:10，正文：星河农场今年引入智慧灌溉系统，节水约35%。扫描下方二维码，关注我们的公众号。茶叶产量增加了1200公斤。"
    doc = parse_bytes(text.encode(), "news.txt")
    assert "节水约35%" in doc.text and "茶叶产量增加了1200公斤" in doc.text
    assert "二维码" not in doc.text and "公众号" not in doc.text


def test_a_document_of_furniture_only_is_still_rejected() -> None:
    with pytest.raises(IngestError, match="没有可读取的正文"):
        parse_bytes("扫描下方二维码，关注我们的公众号。\n版权所有，未经授权不得转载。".encode(), "ad.txt")


def test_a_long_run_on_sentence_that_mentions_a_qr_code_is_content() -> None:
    text = "近日张女士收到一个包裹里面是一个赠送的玻璃杯和一张奖券她马上扫描二维码兑奖在客服的指导下下载了一款聊天软件进入群聊模式群里特别热闹许多人都说收到了免费的水果张女士也不能错过赶紧把收件地址发给了客服一个小时后一份同城配送的水果就送到了家"
    doc = parse_bytes(text.encode(), "scam.txt")
    assert doc.text == text


def test_strip_furniture_keeps_every_other_sentence_verbatim() -> None:
    assert strip_furniture("工行上线7项云产品。长按二维码关注我们。客户增加1403万户。") == "工行上线7项云产品。客户增加1403万户。"
    assert strip_furniture("编辑：王明") == ""
    assert strip_furniture("工行上线7项云产品。") == "工行上线7项云产品。"


def test_space_runs_collapse_or_break_paragraphs() -> None:
    assert split_runs("IT之家 8 月 16 日消息，英特尔   将在\u3000\u3000月底开启活动。") == ["IT之家 8 月 16 日消息，英特尔 将在 月底开启活动。"]
    assert split_runs("第一段结束。  \t   \t第二段开始。") == ["第一段结束。", "第二段开始。"]
    assert split_runs("  \t ") == []


def test_scraped_article_has_no_blank_stretches_and_offsets_hold() -> None:
    body = "8-3 21:41，正文：" + " " * 80 + "暴雨过后，城区积水已经全部排除。" + " " * 30 + "\t交通恢复正常，公交线路全部恢复运营。"
    doc = parse_bytes(body.encode(), "rain.txt")
    assert "  " not in doc.text and "\t" not in doc.text
    assert not doc.text.startswith("8-3")  # the metadata line is read for its date, not kept as text
    assert [doc.paragraph_text(i) for i in range(len(doc.paragraphs))] == ["暴雨过后，城区积水已经全部排除。", "交通恢复正常，公交线路全部恢复运营。"]
    for p in doc.paragraphs:
        assert doc.text[p.start : p.end].strip() == doc.text[p.start : p.end]
    from rag.ingest.chunking import ChunkerConfig, chunk_document

    for chunk in chunk_document(doc, ChunkerConfig(10, 40, 0)):
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.count(" ") * 4 < len(chunk.text)


def test_a_lone_heading_like_line_is_content() -> None:
    doc = parse_bytes("  会议通知  ".encode(), "note.txt")
    assert doc.text == "会议通知"
