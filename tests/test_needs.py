"""The asked fact first, understood in other words: real chunks of a made-up article, no model.

The hits come from a real document through the real chunker and questions
through ``rag.search.question.prepare``; only retrieval ranks and cosines are set by
hand. Each question asks for a kind of fact in words the article does not use
(多了 ↔ 新增, 排名 ↔ 位居, 一共 ↔ 共计 …); the answer must open with the sentence
holding it, mark exactly the fact, and add no sentence that does not hold it.
"""

from __future__ import annotations

import pytest

from rag import Hit, Settings, answer_to_dict
from rag.answer.compose import compose
from rag.ingest.chunking import ChunkerConfig, chunk_document
from rag.ingest.documents import parse_bytes
from rag.search.question import prepare
from rag.text.needs import Need

SETTINGS = Settings()
ARTICLE = (
    "星河科技年度报告摘要\n\n"
    "星河科技成立于2008年3月，总部位于杭州市。"
    "公司创始人李文博曾任浙江大学教授。"
    "星河科技高度重视员工培养，员工满意度持续提高。\n\n"
    "截至年末，星河科技员工总数为3200人。"
    "与上年相比，星河科技员工新增450人，主要来自研发部门。"
    "三年来，星河科技累计投入研发资金共计21亿元。"
    "在全国同类企业中，星河科技的研发投入位居第三。\n\n"
    "由于海外订单增长，星河科技在新加坡设立了分公司。"
    "星河科技的产品覆盖30多个国家和地区。"
)


def hits() -> list[Hit]:
    doc = parse_bytes(ARTICLE.encode(), "xinghe.txt")
    chunks = chunk_document(doc, ChunkerConfig.from_settings(SETTINGS))
    return [Hit(c, rank, 1.0 / rank, rank, 0.85, rank, 1.0 / rank) for rank, c in enumerate(chunks, start=1)]


CASES = [
    # question, need read from it, the lead sentence starts with, the marked fact
    ("星河科技的员工比上年多了多少？", Need.INCREASE, "与上年相比", "450人"),
    ("星河科技的研发投入排名第几？", Need.RANK, "在全国同类企业中", "第三"),
    ("星河科技一共投入了多少研发资金？", Need.TOTAL, "三年来", "21亿元"),
    ("星河科技是什么时候成立的？", Need.DATE, "星河科技成立于", "2008年3月"),
    ("星河科技的创始人是谁？", Need.WHO, "公司创始人", "李文博"),
    ("星河科技的总部在哪里？", Need.PLACE, "星河科技成立于", "杭州市"),
    ("星河科技为什么在新加坡设立分公司？", Need.REASON, "由于海外订单增长", "由于海外订单增长"),
    ("星河科技的产品覆盖多少个国家？", Need.NUMBER, "星河科技的产品覆盖", "30多个"),
]


@pytest.mark.parametrize(("question", "need", "lead", "fact"), CASES)
def test_the_answer_opens_with_the_asked_fact_and_marks_it(question: str, need: Need, lead: str, fact: str) -> None:
    asked = prepare(question)
    assert asked.needs[0] is need
    answer = compose(asked, hits(), SETTINGS)
    assert not answer.refused and answer.text.startswith(lead)
    assert len(answer.answer_spans) == 1
    span = answer.answer_spans[0]
    assert answer.text[span.start : span.end] == fact
    cited = next(c for c in answer.citations if c.n == span.n)
    assert cited.hit.chunk.text[span.doc_start - cited.hit.chunk.start : span.doc_end - cited.hit.chunk.start] == fact
    assert cited.marks == ((span.doc_start, span.doc_end),)
    quote_start, quote_end = cited.spans[cited.quotes.index(answer.text[: answer.text.index("[")])]
    assert quote_start <= span.doc_start < span.doc_end <= quote_end, "the fact lies inside the quoted sentence"


@pytest.mark.parametrize(("question", "need", "lead", "fact"), CASES)
def test_no_sentence_without_the_asked_kind_of_fact_joins(question: str, need: Need, lead: str, fact: str) -> None:
    asked = prepare(question)
    answer = compose(asked, hits(), SETTINGS.replace(answer_keep_ratio=0.0, answer_max_sentences=10))
    from rag.answer.scoring import facts

    for citation in answer.citations:
        for quote in citation.quotes:
            assert facts(asked, quote), f"{quote!r} does not hold what {question!r} asks for"


def test_a_sentence_sharing_only_the_subject_does_not_fill_the_answer() -> None:
    """员工满意度 shares 星河科技 and 员工 with the question but holds no figure: it never joins."""
    answer = compose(prepare("星河科技的员工比上年多了多少？"), hits(), SETTINGS.replace(answer_keep_ratio=0.0))
    assert "满意度" not in answer.text
    assert "3200人" not in answer.text[: answer.text.index("[")], "the total is not the increase"


def test_a_question_without_a_typed_need_marks_nothing() -> None:
    answer = compose(prepare("星河科技如何培养员工？"), hits(), SETTINGS)
    assert not answer.refused and answer.answer_spans == ()


def test_answer_spans_in_json_are_exact_in_the_answer_and_in_the_document() -> None:
    doc = parse_bytes(ARTICLE.encode(), "xinghe.txt")
    data = answer_to_dict(compose(prepare("星河科技的员工比上年多了多少？"), hits(), SETTINGS))
    (span,) = data["answer_spans"]
    assert span["text"] == "450人" and span["need"] == "increase" and span["doc"] == doc.id
    assert data["answer"][span["start"] : span["end"]] == span["text"]
    assert doc.text[span["doc_start"] : span["doc_end"]] == span["text"]
    assert span["n"] in {c["n"] for c in data["citations"]}


def test_traditional_script_questions_and_text_find_the_same_fact() -> None:
    doc = parse_bytes("星河科技報告\n\n與上年相比，星河科技員工新增450人。星河科技員工總數為3200人。".encode(), "t.txt")
    chunks = chunk_document(doc, ChunkerConfig.from_settings(SETTINGS))
    found = [Hit(c, r, 1.0 / r, r, 0.85, r, 1.0 / r) for r, c in enumerate(chunks, start=1)]
    answer = compose(prepare("星河科技的員工比上年多了多少？"), found, SETTINGS)
    (span,) = answer.answer_spans
    assert answer.text[span.start : span.end] == "450人" and doc.text[span.doc_start : span.doc_end] == "450人"


def test_a_figure_the_question_itself_names_is_not_the_answer() -> None:
    """The question's own year (2008) is context, not the fact asked for."""
    asked = prepare("2008年成立的星河科技总部在哪里？")
    answer = compose(asked, hits(), SETTINGS)
    assert all(answer.text[s.start : s.end] != "2008年" for s in answer.answer_spans)


@pytest.mark.parametrize(
    "question",
    ["这种共振被称为什么？", "五月艾又称之为什么？", "盲點呈現為什麼樣的形狀？", "该奖项名为什么？", "过敏的反应表现为什么？", "如今的赛里木湖被誉为什么？"],
)
def test_as_what_is_not_a_why_question(question: str) -> None:
    assert Need.REASON not in prepare(question).needs


@pytest.mark.parametrize("question", ["新馆为什么推出线上预约？", "新馆每周一闭馆，这是为什么？", "为什么？", "为何新馆每周一闭馆"])
def test_why_asked_before_its_clause_or_after_是_is_a_why_question(question: str) -> None:
    assert Need.REASON in prepare(question).needs


@pytest.mark.parametrize(
    ("need", "sentence", "fact"),
    [
        (Need.REASON, "果实有瘤刺，因此得名“角瓜”。", "果实有瘤刺"),
        (Need.REASON, "因二二八事件造成重大伤亡，该党在当地遭到选民排斥。", "因二二八事件造成重大伤亡"),
        (Need.DATE, "《越南亡国史》由潘佩珠于二十世纪初期写成。", "二十世纪初期"),
        (Need.DATE, "乌尔巴克齿龙生存于上白垩纪早期的乌兹别克。", "上白垩纪早期"),
        (Need.WHO, "海梅·雷耶斯是DC漫画公司的一个虚拟人物。", "DC漫画公司"),
    ],
)
def test_a_fact_in_other_shapes_is_found(need: Need, sentence: str, fact: str) -> None:
    """A cause told before 因此, a century in words, a geological age, an organisation jieba cuts into nouns."""
    from rag.text.needs import spans_in

    assert fact in [sentence[s.start : s.end] for s in spans_in(sentence, (need,))]


@pytest.mark.parametrize(
    ("question", "sentence", "fact"),
    [
        ("食品大会在哪个镇开幕？", "第四届中国创新食品大会暨粤港澳大湾区食品博览会4日在广东东莞厚街镇开幕。", "厚街镇"),
        ("星河科技在哪个国家设立了分公司？", "由于海外订单增长，星河科技在新加坡设立了分公司。", "新加坡"),
    ],
)
def test_the_kind_of_name_asked_for_decides_between_names(question: str, sentence: str, fact: str) -> None:
    from rag.text.needs import best_span, spans_in

    asked = prepare(question)
    found = best_span(sentence, spans_in(sentence, asked.needs, asked.unit, asked.folded), tuple(asked.terms))
    assert found is not None and sentence[found.start : found.end].endswith(fact)


def test_a_bare_kind_word_is_no_name() -> None:
    from rag.text.needs import spans_in

    asked = prepare("第100万户市场经营主体是哪家公司？")
    sentence = "随着义乌市珒泰贸易有限公司总经理接过营业执照，第100万户市场经营主体就此诞生。"
    assert all(sentence[f.start : f.end] != "有限公司" for f in spans_in(sentence, asked.needs, asked.unit, asked.folded))


@pytest.mark.parametrize(
    ("question", "sentence", "fact"),
    [
        ("王源借哪首歌打了个圆场？", "王源开玩笑说，这次的意外就像等会要合唱的歌曲《不完美小孩》一样。", "《不完美小孩》"),
        ("惠誉把美国的信用等级降到了什么级别？", "惠誉将美国长期外币发行人违约评级从AAA下调至AA+。", "AA+"),
        ("这种鸟又被叫作什么？", "这种鸟又名白头翁，常见于公园。", "又名白头翁"),
    ],
)
def test_a_name_asked_for_is_found_in_title_or_quotation_marks_latin_letters_or_after_又名(question: str, sentence: str, fact: str) -> None:
    from rag.text.needs import spans_in

    asked = prepare(question)
    assert Need.NAME in asked.needs
    assert fact in [sentence[s.start : s.end] for s in spans_in(sentence, asked.needs, asked.unit, asked.folded)]


def test_a_rate_asked_how_high_is_a_ratio_a_score_no_increase_and_a_day_of_this_month_a_date() -> None:
    from rag.text.needs import spans_in

    rate = prepare("聊天机器人回答编程题的错误率有多高？")
    assert Need.RATIO in rate.needs and "米" not in rate.unit
    assert prepare("回族人口占总人口的百分之多少？").needs[0] is Need.RATIO, "百分之多少 asks a share, as 百分之几 does"
    assert Need.INCREASE not in prepare("海港迎战沧州雄狮，最后比分是多少？").needs
    assert Need.WHO in prepare("唯一还给美国3A评级的是哪一家？").needs
    sentence = "法院决定推迟至本月16日再度开会审议。"
    assert "本月16日" in [sentence[s.start : s.end] for s in spans_in(sentence, (Need.DATE,))]


def test_a_value_asked_after_a_change_is_the_figure_the_change_reaches() -> None:
    """降到了多少 asks the figure after 降至, not the one it fell from; 哪一朝代 asks a time."""
    from rag.text.needs import best_span, spans_in

    asked = prepare("今年沪惠保的免赔额降到了多少？")
    assert asked.needs[0] is Need.DECREASE
    sentence = "一是免赔额由原2万元降至1.6万元。"
    found = best_span(sentence, spans_in(sentence, asked.needs, asked.unit, asked.folded), tuple(asked.terms))
    assert found is not None and sentence[found.start : found.end] == "1.6万元"
    assert prepare("这家公司的营收涨到了多少？").needs[0] is Need.INCREASE
    assert Need.DATE in prepare("楚昭辅是哪一朝代的人？").needs


def test_a_score_asked_is_two_figures_and_days_asked_are_counted_in_日_too() -> None:
    """比分是多少 is answered by 3:0, not by the kick-off time's figures; 多少天 by 停业整顿60日, never by 8月9日."""
    from rag.text.needs import best_span, spans_in

    score = prepare("中超第18轮海港在家迎战沧州雄狮，最后比分是多少？")
    final, kickoff = "最终，上海海港3:0沧州雄狮。", "7月21日19点35分，2023赛季中超联赛第18轮，上海海港主场对阵沧州雄狮。"
    found = best_span(final, spans_in(final, score.needs, score.unit, score.folded), tuple(score.terms))
    assert found is not None and final[found.start : found.end] == "3:0" and found.strength == 1.0
    assert max((s.strength for s in spans_in(kickoff, score.needs, score.unit, score.folded)), default=0.0) < 1.0
    days = prepare("那家乱收停车费的商家要关门整改多少天？")
    penalty = "当地市场监管局对商家作出停业整顿60日的行政处罚。"
    found = best_span(penalty, spans_in(penalty, days.needs, days.unit, days.folded), tuple(days.terms))
    assert found is not None and penalty[found.start : found.end] == "60日"
    assert [s for s in spans_in("8月9日，当地通报了处罚。", days.needs, days.unit, days.folded) if s.strength > 0.6] == []
    people = prepare("有多少人参加了比赛？")
    assert max(s.strength for s in spans_in("共有23名运动员参加。", people.needs, people.unit, people.folded)) > 0.6


def test_a_name_made_of_the_questions_own_words_is_not_the_answer() -> None:
    """谁罚进了点球 in 中国队…对海地那场 asks for a scorer: 中国女足 and 海地队 are the question's own teams
    written a little otherwise, 王霜 is the answer; a name with more of its own (宣武帝) still counts."""
    from rag.text.needs import spans_in

    asked = prepare("今年女足世界杯，中国队小组赛对海地那场是谁罚进了点球？")
    preview, scored = "7月28日，中国女足将迎来小组赛第二个对手海地队。", "王霜主罚点球。"
    assert [preview[f.start : f.end] for f in spans_in(preview, asked.needs, asked.unit, asked.folded)] == []
    assert [scored[f.start : f.end] for f in spans_in(scored, asked.needs, asked.unit, asked.folded)] == ["王霜"]
    emperor = prepare("高英是哪位皇帝的皇后？")
    sentence = "高英，北魏宣武帝元恪的第二任皇后。"
    assert "高英" not in [sentence[f.start : f.end] for f in spans_in(sentence, emperor.needs, emperor.unit, emperor.folded)]
    assert spans_in(sentence, emperor.needs, emperor.unit, emperor.folded), "宣武帝元恪 is no word of the question"


def test_when_something_ends_is_the_date_it_runs_until() -> None:
    """开到哪天为止 marks 10月8日 in 7月11日开放，并延续至10月8日; 什么时候结束 and 最晚哪天 mark the closing day."""
    from rag.text.needs import best_span, spans_in

    for question, sentence, fact in (
        ("“江海共潮生”展览开到哪天为止？", "展览将于7月11日正式对公众开放，并延续至10月8日。", "10月8日"),
        ("展览什么时候结束？", "展览于7月11日开幕，8月30日闭幕。", "8月30日"),
        ("展览什么时候开幕？", "展览于7月11日开幕，8月30日闭幕。", "7月11日"),
        ("泰国宪法法院把这一案改到了哪天？", "法院在7月19日审议后决定推迟至本月16日再度开会审议。", "本月16日"),
        ("今年的惠民保最晚哪天可以投保？", "惠民保自5月9日开售，投保窗口将于7月31日24时正式关闭。", "7月31日"),
    ):
        asked = prepare(question)
        found = best_span(sentence, spans_in(sentence, asked.needs, asked.unit, asked.folded), tuple(asked.terms))
        assert found is not None and sentence[found.start : found.end] == fact, question
    assert prepare("截至2023年底，共有多少家企业？").unit == "家"


def test_a_hotline_asked_by_which_is_answered_by_its_digits() -> None:
    from rag.text.needs import spans_in

    asked = prepare("民警提醒游客遇到可疑情况打哪个反诈专线？")
    assert asked.needs == (Need.NUMBER,)
    assert Need.NUMBER in prepare("遇到诈骗应该拨打什么电话？").needs
    assert Need.NUMBER not in prepare("什么时候打电话给他？").needs  # when, not which number
    assert Need.NUMBER not in prepare("哪个部门负责接听热线？").needs  # which department
    sentence = "如遇可疑情况，必要时拨打反诈专线96110寻求帮助。"
    assert "96110" in [sentence[s.start : s.end] for s in spans_in(sentence, asked.needs)]
