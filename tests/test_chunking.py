"""Chunking on Chinese edge cases: sentence ends, quotes, numbers, headings, interviews, offsets."""

from __future__ import annotations

from rag.ingest.chunking import ChunkerConfig, chunk_document, split_sentences
from rag.ingest.documents import parse_bytes

CONFIG = ChunkerConfig(min_chars=150, max_chars=400, overlap_sentences=1)


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentence_ends_in_all_their_forms() -> None:
    text = "第一句。第二句！第三句？第四句；第五句……第六句!第七句?第八句;Ninth one. Tenth"
    assert _sentences(text) == ["第一句。", "第二句！", "第三句？", "第四句；", "第五句……", "第六句!", "第七句?", "第八句;", "Ninth one.", "Tenth"]


def test_quotes_are_not_broken_and_closing_marks_stay_with_the_sentence() -> None:
    text = "他说：“今天很好。明天也会好！”然后离开了。她回答「好的。我知道了。」大家都笑了。"
    assert _sentences(text) == ["他说：“今天很好。明天也会好！”", "然后离开了。", "她回答「好的。我知道了。」", "大家都笑了。"]


def test_numbers_with_points_and_commas_stay_whole() -> None:
    text = "客户达3.85亿户，接口1,400余个。增长了2.5%. 另有0.5倍。"
    assert _sentences(text) == ["客户达3.85亿户，接口1,400余个。", "增长了2.5%.", "另有0.5倍。"]


def test_a_semicolon_inside_brackets_and_a_period_after_an_initial_end_no_sentence() -> None:
    text = "纽西兰鸡毛松（学名：Dacrycarpus；毛利语：Kahikatea）是一种树。又名-{zh-hans:猢狲树;zh-tw:猴面包树}-。收入增长；利润下降。"
    assert _sentences(text) == [
        "纽西兰鸡毛松（学名：Dacrycarpus；毛利语：Kahikatea）是一种树。",
        "又名-{zh-hans:猢狲树;zh-tw:猴面包树}-。",
        "收入增长；",
        "利润下降。",
    ]
    english = "由Andrew W. Mellon Foundation主持。He met Mr. Smith. Then left."
    assert _sentences(english) == ["由Andrew W. Mellon Foundation主持。", "He met Mr. Smith.", "Then left."]


def test_an_unclosed_bracket_does_not_hold_back_later_semicolons() -> None:
    text = "（注" + "这一趋势仍在继续；" * 30
    assert len(_sentences(text)) > 10


def test_a_stray_opening_quote_does_not_swallow_the_paragraph() -> None:
    text = "他提到“数字化" + "这一趋势仍在继续。" * 40
    assert len(_sentences(text)) > 10


def _article(paragraphs: list[str]) -> str:
    return "\n".join(paragraphs)


def test_chunks_respect_size_sentences_offsets_and_overlap() -> None:
    body = "".join(f"第{i}号句子讲述了一个关于数字化转型的事实，数字为{i * 7}。" for i in range(1, 60))
    doc = parse_bytes(_article(["测试文章标题", body]).encode(), "long.txt")
    chunks = chunk_document(doc, CONFIG)
    assert len(chunks) > 3
    sentences = {doc.text[p.start + s : p.start + e] for p in doc.paragraphs for s, e in split_sentences(doc.paragraph_text(p.index))}
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= CONFIG.max_chars
        assert chunk.text.split("。")[0] + "。" in sentences  # starts at a sentence start
    for previous, current in zip(chunks, chunks[1:], strict=False):
        last_sentence = previous.text[previous.text.rstrip("。").rfind("。") + 1 :]
        assert current.text.startswith(last_sentence)  # one sentence of overlap


def test_small_paragraphs_merge_up_to_the_minimum() -> None:
    paragraphs = ["短文标题"] + [f"这是第{i}个很短的段落，内容简单。" for i in range(12)]
    doc = parse_bytes(_article(paragraphs).encode(), "short.txt")
    chunks = chunk_document(doc, CONFIG)
    assert all(len(c.text) >= CONFIG.min_chars for c in chunks[:-1])


def test_headings_become_context_not_text() -> None:
    paragraphs = [
        "报告标题：总体情况",
        "第一部分介绍了公司的基本情况，包括成立时间、主营业务以及员工人数等信息。",
        "市场表现 稳中有进",
        "本年度公司的市场份额继续扩大，在华东地区的销售额同比增长了百分之二十。",
    ]
    doc = parse_bytes(_article(paragraphs).encode(), "h.txt")
    chunks = chunk_document(doc, CONFIG)
    last = chunks[-1]
    assert last.context == "市场表现 稳中有进"
    assert "市场表现" not in last.text
    assert "市场表现 稳中有进" in last.search_text


def test_interview_question_travels_with_its_answer() -> None:
    answer = "李华：" + "我们在过去一年里做了很多工作，重点推进了农村金融服务的数字化。" * 4
    paragraphs = [
        "访谈标题",
        "开场介绍了本次访谈的背景和受访者的基本情况，受访者是一家农场的负责人。" * 3,
        "记者：请问农场今年在数字化方面做了哪些工作？",
        answer,
    ]
    doc = parse_bytes(_article(paragraphs).encode(), "interview.txt")
    chunks = chunk_document(doc, CONFIG)
    holder = next(c for c in chunks if "请问农场今年" in c.text)
    assert "我们在过去一年里" in holder.text
    quotable = [holder.text[s - holder.start : e - holder.start] for s, e in holder.quotable]
    assert not any("请问" in q for q in quotable)  # a question is never quoted as an answer


def test_captions_are_searchable_but_not_quotable() -> None:
    paragraphs = ["标题行", "茶园今年的产量达到了一百二十吨，创下历史新高，带动了周边村民增收。", "采茶工人正在劳作(张三摄)"]
    doc = parse_bytes(_article(paragraphs).encode(), "cap.txt")
    chunk = chunk_document(doc, CONFIG)[0]
    assert "采茶工人正在劳作" in chunk.text
    assert not any("采茶工人" in s for _, _, s in chunk.quotable_sentences())
