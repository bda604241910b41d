"""Honest answers (quick tier): full, partial or no support, the missing qualifier named; one clean quote.

The support check holds each qualifier of a question (a time, an edition, a name,
a stated figure, a group or metric word) against the cited sentence, its passage
and its document; a near miss answers ``partial`` with what the documents do not
say, first, in the user's language.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import run_main
from rag import Rag
from rag.answer.compose import first_quote
from rag.answer.conversation import resolve
from rag.answer.support import Evidence, SupportLevel, check
from rag.llm.select import unclaimed
from rag.llm.verify import SentenceVerdict, Verification
from rag.text.aliases import alias_table, contrast_families, parse_groups
from rag.text.folding import fold
from rag.text.qualifiers import Kind, numeral, qualifiers

ALIASES = alias_table()
FAMILIES = contrast_families()

SENTENCE = "数据显示，截至6月末，工行个人客户总量达6.64亿户，今年上半年增加1403万户。"
DOCUMENT = "中国工商银行数字化转型成效显著\n" + SENTENCE + "重庆工行为超过8万名贫困大学生发放资助金共计10亿元。第四届数字金融论坛在重庆举行。"


def evidence(sentence: str = SENTENCE, published: str = "2020-08-20") -> Evidence:
    return Evidence(fold(sentence), fold(sentence), fold(DOCUMENT), published)


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("工行2020年上半年个人客户增加了多少户？", ()),
        ("今年上半年工行个人客户增加了多少户？", ()),  # 今年 read against the newest document: 2020
        ("工行2021年上半年个人客户增加了多少户？", ("2021年上半年",)),
        ("工行去年上半年个人客户增加了多少户？", ("去年上半年",)),
        ("工行下半年个人客户增加了多少户？", ("下半年",)),
        ("中国工商银行个人客户增加了多少户？", ()),  # an alias of 工行
        ("ICBC个人客户增加了多少户？", ()),
        ("建设银行个人客户增加了多少户？", ("建设银行",)),
        ("工行法人客户增加了多少户？", ("法人客户",)),  # 个人客户 quoted: a contrasting member in its place
        ("工行个人客户比去年同期增加了多少户？", ()),  # a comparison base is not a period asked about
    ],
)
def test_each_qualifier_of_the_question_is_held_against_the_evidence(question: str, missing: tuple[str, ...]) -> None:
    assert check(question, evidence(), 2020, ALIASES, FAMILIES) == missing


def test_editions_figures_and_places_are_checked_in_the_document() -> None:
    assert check("第四届数字金融论坛在哪里举行？", evidence(), 2020, ALIASES, FAMILIES) == ()
    assert check("第五届数字金融论坛在哪里举行？", evidence(), 2020, ALIASES, FAMILIES) == ("第五届",)
    grants = "重庆工行为超过8万名贫困大学生发放资助金共计10亿元。"
    assert check("为8万名贫困大学生发放了多少资助金？", evidence(grants), 2020, ALIASES, FAMILIES) == ()
    assert check("为9万名贫困大学生发放了多少资助金？", evidence(grants), 2020, ALIASES, FAMILIES) == ("9万",)
    player = fold("高登身高1.93米，场上位置得分后卫。")
    assert check("高登体重多少？", Evidence(player, player, player), None, ALIASES, FAMILIES) == ("体重",), "another measure in its place"
    assert check("渝工行为多少名贫困大学生发放了资助金？", evidence(), 2020, ALIASES, FAMILIES) == ()  # 渝 = 重庆
    assert check("成都工行为多少名贫困大学生发放了资助金？", evidence(grants), 2020, ALIASES, FAMILIES) == ("成都",), "another city in its place"
    assert check("重庆工行为多少名贫困中学生发放了资助金？", evidence(grants), 2020, ALIASES, FAMILIES) == ("中学生",)


def test_a_source_time_without_a_year_takes_its_publication_or_the_year_it_speaks_of() -> None:
    undated = Evidence(fold("截至6月末，客户增加1403万户。"), fold("2020年以来，截至6月末，客户增加1403万户。"), fold(DOCUMENT), "")
    assert check("2020年上半年客户增加了多少户？", undated, None, ALIASES, FAMILIES) == ()
    assert check("2019年上半年客户增加了多少户？", undated, None, ALIASES, FAMILIES) == ("2019年上半年",)
    months = Evidence(fold("前7个月，进口额增长5%。"), fold("1-7月，进口额增长5%。"), "", "2023-08-10")
    assert check("2023年7月进口额增长了多少？", months, 2023, ALIASES, FAMILIES) == ("2023年7月",), "the first seven months are another figure"


def test_a_period_the_quoted_sentence_names_dates_its_fact_over_the_other_times_of_its_passage() -> None:
    passage = "8月11日，央行发布数据。截至7月末，广义货币（M2）余额285.4万亿元。二季度数据此前已公布。今年前7个月，人民币贷款增加16.08万亿元。"
    m2 = Evidence(fold("截至7月末，广义货币（M2）余额285.4万亿元。"), fold(passage), fold(passage), "2023-08-11")
    assert check("截至7月末M2余额是多少？", m2, 2023, ALIASES, FAMILIES) == ()
    assert check("截至8月末M2余额是多少？", m2, 2023, ALIASES, FAMILIES) == ("8月末",)
    loans = Evidence(fold("今年前7个月，人民币贷款增加16.08万亿元。"), fold(passage), fold(passage), "2023-08-11")
    assert check("今年前7个月人民币贷款增加了多少？", loans, 2023, ALIASES, FAMILIES) == ()
    assert check("今年前8个月人民币贷款增加了多少？", loans, 2023, ALIASES, FAMILIES) == ("今年前8个月",)
    said_on = Evidence(fold("8月11日，央行称M2余额285.4万亿元。"), fold("截至7月末的数据。" + passage), fold(passage), "2023-08-11")
    assert check("截至7月末M2余额是多少？", said_on, 2023, ALIASES, FAMILIES) == (), "a day names when it was said, not the period"


def test_a_day_asked_is_held_to_days_and_a_second_time_asked_may_date_the_quote() -> None:
    passage = "8月1日，瑞幸咖啡公布了2023年第二季度财报。第二季度营业利润率为18.9%。7月末，人民币存款余额277.5万亿元。"
    margin = Evidence(fold("第二季度营业利润率为18.9%。"), fold(passage), fold(passage), "2023-08-01")
    assert check("8月1日瑞幸咖啡公布的第二季度营业利润率是多少？", margin, 2023, ALIASES, FAMILIES) == ()
    assert check("8月1日瑞幸咖啡公布的第一季度营业利润率是多少？", margin, 2023, ALIASES, FAMILIES) == ("第一季度",)
    deposits = Evidence(fold("7月末，人民币存款余额277.5万亿元。"), fold(passage), fold(passage), "2023-08-11")
    assert check("8月以来人民银行公布的7月末人民币存款余额是多少？", deposits, 2023, ALIASES, FAMILIES) == ()
    assert check("8月末人民币存款余额是多少？", deposits, 2023, ALIASES, FAMILIES) == ("8月末",)


def test_counts_in_chinese_numerals_and_thousands_separators_match_the_digits_asked() -> None:
    text = "馬斯湖節每年吸引遊客50,000人；伊納拉漢共有三十座教堂。"
    numbers = Evidence(fold(text), fold(text), fold(text), "")
    assert check("哪個地區共有30座教堂？", numbers, None, ALIASES, FAMILIES) == ()
    assert check("哪個活動每年吸引遊客50000人？", numbers, None, ALIASES, FAMILIES) == ()
    assert check("哪個地區共有40座教堂？", numbers, None, ALIASES, FAMILIES) == ("40",)


def test_a_figure_the_reader_worked_out_is_not_held_to_the_text() -> None:
    for question in ("韓國哪一地區的年平均降雨量比首爾的多100毫米？", "人口密度是伊納拉漢的約30倍的是哪裡？", "他在這一職務待了7年嗎？"):
        assert [q for q in qualifiers(question, ALIASES) if q.kind == Kind.NUMBER] == [], question
    assert [q.text for q in qualifiers("工行累计推出353款产品", ALIASES) if q.kind == Kind.NUMBER] == ["353"]


def test_a_measure_the_document_never_speaks_of_is_missing_a_common_noun_in_other_words_is_not() -> None:
    fish = "蓝线裸顶鲷，又称蓝线白鲷，为鲈形目龙占鱼科的其中一个种，体长可达60厘米。"
    about = Evidence(fold(fish), fold(fish), fold(fish), "")
    assert check("蓝线裸顶鲷的体重约是多少公斤？", about, None, ALIASES, FAMILIES) == ("体重",)
    assert check("蓝线裸顶鲷的体长可达多少？", about, None, ALIASES, FAMILIES) == ()
    weather = "諷刺的是，香港政府在二三十年代時並不鼓勵市民打電話到天文台詢問天氣。"
    citizens = Evidence(fold(weather), fold(weather), fold(weather), "")
    assert check("香港政府在二三十年代不鼓勵民眾打電話詢問天氣原因為何?", citizens, None, ALIASES, FAMILIES) == ()


def test_a_family_word_counts_where_a_word_starts_and_唯一_counts_nothing() -> None:
    """哪一个人 asks which person (一个 / 人): it holds no 个人 to contrast with 法人; 唯一一位 is one, not eleven."""
    text = "该党成员多为工商企业家，荣毅仁是唯一一位来自该党的国家副主席。"  # 企业, a family member beside 个人
    only = Evidence(fold(text), fold(text), fold(text), "")
    assert check("国家副主席中哪一个人是唯一一位来自该党的？", only, None, ALIASES, FAMILIES) == ()
    assert not [q for q in qualifiers("哪一个人是唯一一位来自该党的国家副主席？", ALIASES) if q.kind == Kind.NUMBER]
    assert check("工行个人客户增加了多少户？", evidence("工行法人客户增加了3万户。"), 2020, ALIASES, FAMILIES) == ("个人客户",)


def test_the_kind_of_thing_asked_for_and_words_jieba_glues_to_a_name_are_no_qualifiers() -> None:
    assert "东西" not in [q.folded for q in qualifiers("韓國的什麼東西有九成是進口而來的？", ALIASES)]
    assert "东西" not in [q.folded for q in qualifiers("為何從關島寄東西到美國不需要額外費用？", ALIASES)]
    assert "机构" not in [q.folded for q in qualifiers("哪一機構認為出售恆星名字的企業是不道德的？", ALIASES)]
    assert "浩汉" in [q.folded for q in qualifiers("宏碁和浩漢的公司都位於新北市的哪一地方？", ALIASES)]
    # jieba tags 水上漂 a person; a word taking 着 is a verb, never a name
    assert [q.folded for q in qualifiers("仰望U8能在水上漂着走，这属于它的哪项功能？", ALIASES) if q.kind == Kind.NAME] == ["u8"]
    assert "张三" in [q.folded for q in qualifiers("他看着张三了吗？", ALIASES)]


def test_a_title_in_book_marks_and_a_place_by_its_ending_are_names_to_hold() -> None:
    film = "电影《封神：第一部》的票房突破了20亿，官方公布了第二部的新概念图。"
    films = Evidence(fold(film), fold(film), fold(film), "2023-08-20")
    assert check("电影《封神第一部》票房突破了多少？", films, 2023, ALIASES, FAMILIES) == ()
    assert check("电影《封神第二部》票房突破了多少？", films, 2023, ALIASES, FAMILIES) == ("封神第二部",)
    trade = "今年上半年，商丘市外贸进出口总值32.1亿元。"
    shangqiu = Evidence(fold(trade), fold(trade), fold(trade), "2023-07-24")
    assert [q.kind for q in qualifiers("上半年周口市外贸进出口总值是多少？", ALIASES)][:2] == [Kind.TIME, Kind.NAME]
    assert check("上半年周口市外贸进出口总值是多少？", shangqiu, 2023, ALIASES, FAMILIES) == ("周口市",)
    assert check("上半年商丘市外贸进出口总值是多少？", shangqiu, 2023, ALIASES, FAMILIES) == ()


def test_an_english_question_of_chinese_text_is_checked_on_its_times_only() -> None:
    assert check("How many personal customers did ICBC add?", evidence(), 2020, ALIASES, FAMILIES) == ()


def test_qualifiers_read_times_editions_names_and_terms() -> None:
    found = {(q.kind, q.text) for q in qualifiers("苹果公司2023年第二季度在上海的营收是多少？", ALIASES)}
    assert {(Kind.NAME, "苹果公司"), (Kind.TIME, "2023年第二季度"), (Kind.NAME, "上海"), (Kind.METRIC, "营收")} <= found
    metrics = {q.text for q in qualifiers("山东女子学院图书馆的藏书量是多少？高登体重多少？有几条小巴路线？", ALIASES) if q.kind == Kind.METRIC}
    assert metrics == {"藏书量", "体重", "小巴路线"}
    assert not any(q.kind == Kind.NAME for q in qualifiers("法人手机银行上线了多少项云产品？", ALIASES)), "多少项云 is no name"
    assert [numeral(n) for n in ("十二", "二十三", "一百零五", "二〇二三", "7")] == [12, 23, 105, 2023, 7]


def test_users_extend_the_aliases_and_the_contrasting_families(tmp_path: Path) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text("# ours\n星河农场 = 星河 = Xinghe Farm\n青岚茶 | 白岚茶\n", encoding="utf-8")
    table, families = alias_table(str(path)), contrast_families(str(path))
    assert table["星河"] == {"星河农场", "星河", "xinghe farm"} and table["工行"] == ALIASES["工行"]
    assert ("青岚茶", "白岚茶") in families
    assert parse_groups("a = b\nc | d") == [("a", "b")]
    farm = Evidence(fold("星河农场去年种植了300亩青岚茶。"), fold("星河农场去年种植了300亩青岚茶。"), fold("星河农场去年种植了300亩青岚茶。"), "2023-05-01")
    assert check("Xinghe Farm种植了多少亩青岚茶？", farm, 2023, table, families) == ()
    (missing,) = check("Xinghe Farm种植了多少亩白岚茶？", farm, 2023, table, families)
    assert missing in "白岚茶" and "白岚" in missing


# --------------------------------------------------------------------------- through the library and the CLI


def test_the_seed_near_misses_answer_partial_naming_what_is_missing(fake_rag: Rag) -> None:
    for question, missing in (
        ("工行2021年上半年个人客户增加了多少户？", "2021年上半年"),
        ("建设银行的法人手机银行上线了多少项云产品？", "建设银行"),
        ("重庆工行为多少名贫困中学生发放了资助金？", "中学生"),
    ):
        answer = fake_rag.ask(question)
        assert answer.support == SupportLevel.PARTIAL and missing in answer.missing, (question, answer.support, answer.missing, answer.text)
        assert answer.text.startswith(f"资料中没有找到关于「{missing}」的这项信息；最接近的内容是：") and answer.notice
        span = answer.answer_spans[0] if answer.answer_spans else None
        assert span is None or answer.text[span.start : span.end] in first_quote(answer), "the asked fact's offsets moved with the text"
    for question in ("工行的法人手机银行上线了多少项云产品？", "重庆工行为多少名贫困大学生发放了资助金？"):
        answer = fake_rag.ask(question)
        assert answer.support == SupportLevel.FULL and not answer.missing and not answer.notice, (question, answer.missing)


def test_the_partial_notice_speaks_the_question_language(fake_rag: Rag) -> None:
    answer = fake_rag.ask("建設銀行的法人手機銀行上線了多少項雲產品？")
    assert answer.support == SupportLevel.PARTIAL and answer.text.startswith("資料中沒有找到關於「建設銀行」的這項資訊")


def test_rag_ask_json_carries_support_missing_and_more(fake_rag: Rag, capsys: pytest.CaptureFixture[str], fake_model_env: None) -> None:
    status, out, _err = run_main(capsys, "--index-dir", str(fake_rag.index_dir), "ask", "建设银行的法人手机银行上线了多少项云产品？", "--json")
    data = json.loads(out)
    assert status == 0 and data["support"] == "partial" and data["missing"] == ["建设银行"] and isinstance(data["more"], list)
    status, out, _err = run_main(capsys, "--index-dir", str(fake_rag.index_dir), "ask", "量子色动力学中的渐近自由是谁发现的？", "--json")
    assert json.loads(out)["support"] == "none"


def test_one_quote_unless_several_things_are_asked(fake_rag: Rag) -> None:
    answer = fake_rag.ask("工行推出了多少项普惠金融API开放服务？")
    assert answer.text.count("[") == 1 and "109" in answer.text, answer.text
    assert all(c.quote not in answer.text for c in answer.more), "the further quotes stay out of the answer"
    several = fake_rag.ask("工行在上海与哪些部门合作？")
    assert several.refused or several.text.count("[") >= 1


def test_a_long_sentence_is_quoted_by_its_clauses_around_the_fact(fake_settings, tmp_path: Path) -> None:
    run_on = "，".join(f"第{i}段说明文字没有实际内容只是为了把这句话拉得很长" for i in range(1, 9))
    article = tmp_path / "docs" / "长句.txt"
    article.parent.mkdir()
    article.write_text(f"星河农场年报\n\n{run_on}，星河农场今年共种植了4386株古茶树，{run_on}。\n", encoding="utf-8")
    rag = Rag(fake_settings(index_dir=tmp_path / "index"))
    rag.ingest([article.parent])
    answer = rag.ask("星河农场今年种植了多少株古茶树？")
    quote = answer.citations[0].quote
    assert "4386株" in quote and len(quote) <= rag.settings.quote_max_chars, quote
    start, end = answer.citations[0].spans[0]
    assert rag.document("长句.txt").text[start:end] == quote, "verbatim, at its exact offsets"


# --------------------------------------------------------------------------- conversations and the model


def test_an_ellipsis_replaces_the_slot_of_its_kind() -> None:
    history = [{"role": "user", "content": "工行个人客户增加了多少户？"}, {"role": "assistant", "content": "增加1403万户。"}]
    assert resolve("那法人客户呢？", history).standalone == "工行法人客户增加了多少户？"
    assert resolve("那建行呢？", history).standalone == "建行个人客户增加了多少户？"
    assert resolve("那2019年呢？", history).standalone == "2019年工行个人客户增加了多少户？"
    month = [{"role": "user", "content": "上海7月份进口额同比增长了多少？"}, {"role": "assistant", "content": "增长5%。"}]
    assert resolve("那8月份呢？", month).standalone == "上海8月份进口额同比增长了多少？"


def test_a_model_sentence_asserting_a_missing_qualifier_is_rejected() -> None:
    said = Verification(
        (
            SentenceVerdict("建设银行上线了7项云产品。", (1,), True, "上线7项云产品", "ok", 1),
            SentenceVerdict("资料没有提到建设银行的数据。", (1,), True, "上线7项云产品", "ok", 1),
        )
    )
    checked = unclaimed(said, ("建设银行",))
    assert [s.verified for s in checked.sentences] == [False, True]
    assert "建设银行" in checked.sentences[0].reason and unclaimed(said, ()) is said


# --------------------------------------------------------------------------- example questions


def test_example_questions_read_as_a_person_asks_and_are_fully_supported(fake_rag: Rag) -> None:
    from rag.answer.examples import _count_question

    assert _count_question("实现了优惠的金融服务，累计为重庆市超过8万名贫困大学生发放资助金共计10亿元。", "重庆工行") == ""  # two figures
    assert _count_question("全市共有15个乡镇、200个村、涉及群众7.63万人。", "临沧市") == ""
    assert _count_question("其中，工行为20余家一级分行提供支持。") == "工行为多少家一级分行提供支持？"
    assert _count_question("上线7项云产品。", "工行") == "工行上线多少项云产品？", "a clause without its subject takes the document's"
    examples = fake_rag.example_questions()
    assert examples, "the seeds give example questions"
    for question in examples:
        assert not question.startswith(("、", "，", "其中", "多少")), question
        assert fake_rag.ask(question).support == SupportLevel.FULL, question


def test_a_name_the_document_names_elsewhere_does_not_stand_for_a_passage_about_another() -> None:
    passage = "今年以来，青岛港已新开通15条外贸航线，直达多个“一带一路”和RCEP国家。"
    document = passage + "另据统计，宁波舟山港货物吞吐量继续位居全球第一。"
    ports = Evidence(fold(passage), fold(passage), fold(document), "2023-08-10")
    assert check("今年以来青岛港新开通了多少条外贸航线？", ports, 2023, ALIASES, FAMILIES) == ()
    assert "宁波" in check("今年以来宁波舟山港新开通了多少条外贸航线？", ports, 2023, ALIASES, FAMILIES)


def test_a_rival_in_the_slot_is_a_name_of_the_same_kind_a_country_only_for_a_country() -> None:
    island = "茂宜島是夏威夷州的知名觀光地，也是茂宜縣四個島嶼中最大的島嶼。"
    passage = "茂宜島，又作毛伊島，是美國夏威夷州的第二大島。" + island
    maui = Evidence(fold(island), fold(passage), fold(passage), "")
    assert check("美國夏威夷州茂宜縣中最大的島嶼為何?", maui, None, ALIASES, FAMILIES) == ()
    president = "1985年5月23日，隆納·雷根總統授予他總統自由勳章。"
    award = Evidence(fold(president), fold("截至1945年返回美國時，史都華已累計1800多小時。" + president), fold(president), "")
    assert check("1985年的時候，當時的美國總統是誰?", award, None, ALIASES, FAMILIES) == (), "a person is no rival to a country"
    area = "盧安達的國土面積為26,338平方公里，在世界各國中名列第149位。"
    rwanda = Evidence(fold(area), fold(area + "北鄰烏干達。"), fold(area + "北鄰烏干達。"), "")
    assert check("烏干達的國土面積於世界排名中位居第幾位?", rwanda, None, ALIASES, FAMILIES) == ("烏干達",)


def test_a_year_written_without_its_character_and_a_name_cut_too_wide_are_found() -> None:
    vote = "在1848的選舉中，一個名為自由土黨的派系反對奴隸制度的擴張。"
    election = Evidence(fold(vote), fold(vote), fold(vote), "")
    assert check("在1848年，反對奴隸制度的擴張的黨派為哪一個?", election, None, ALIASES, FAMILIES) == ()
    assert check("在1852年，反對奴隸制度的擴張的黨派為哪一個?", election, None, ALIASES, FAMILIES) == ("1852年",)
    text = "1971年，英國離開波斯灣，杜拜聯合阿布達比和其它五個酋長國成立了阿拉伯聯合大公國。1973年，杜拜開始使用迪拉姆。"
    dubai = Evidence(fold(text), fold(text), fold(text), "")
    assert check("杜拜曾於1973年開始使用哪一種貨幣?", dubai, None, ALIASES, FAMILIES) == ()


def test_the_time_a_span_starts_from_does_not_date_the_quoted_fact() -> None:
    span = "他指出，从2011年8月标准普尔第一次下调美国主权信用评级，到本周惠誉第二次下调评级，美国主权债务增加了18万亿美元。"
    debt = Evidence(fold(span), fold(span), fold(span), "2023-08-05")
    assert check("今年8月惠誉下调了美国的什么评级？", debt, 2023, ALIASES, FAMILIES) == ()
    dated = Evidence(fold("2011年8月，标准普尔下调美国主权信用评级。"), fold(span), fold(span), "2023-08-05")
    assert check("今年8月标准普尔下调了美国的什么评级？", dated, 2023, ALIASES, FAMILIES) == ("今年8月",)


def test_support_is_judged_on_the_lead_quote_when_its_passage_quotes_an_earlier_sentence_too(fake_settings, tmp_path: Path) -> None:
    """A citation lists its quotes in document order; the support check must read the one the answer opens with."""
    article = tmp_path / "docs" / "分公司.txt"
    article.parent.mkdir()
    article.write_text("星河科技的分公司\n\n2019年，星河科技在成都和西安设立了分公司。2021年，星河科技在重庆、贵阳和昆明设立了分公司。\n", encoding="utf-8")
    rag = Rag(fake_settings(index_dir=tmp_path / "index"))
    rag.ingest([article.parent])
    answer = rag.ask("2021年星河科技在哪些城市设立了分公司？")
    assert answer.text.startswith("2021年") and answer.citations[0].quotes[0].startswith("2019年")
    assert answer.support == SupportLevel.FULL, answer.missing


def test_a_rate_asked_of_a_passage_stating_no_rate_is_refused(fake_settings, tmp_path: Path) -> None:
    """年利率是多少 asked of an article giving the loan's limit and term but no rate: whatever figure it quotes
    measures something else, so the answer is a refusal, not a figure. A rate said as a share, as a bare
    figure after its word, or as 一半 answers; a proportion asked otherwise (男女比例) is not held to a percent."""
    from rag.text.needs import lacks_percentage

    article = tmp_path / "docs" / "星河贷.txt"
    article.parent.mkdir()
    article.write_text("星河贷上线\n\n星河银行推出面向农户的信用贷款产品星河贷，单户最高额度30万元，期限最长3年。\n", encoding="utf-8")
    rag = Rag(fake_settings(index_dir=tmp_path / "index"))
    rag.ingest([article.parent])
    assert not rag.ask("星河贷单户最高额度是多少？").refused
    rate = rag.ask("星河贷的年利率是多少？")
    assert rate.refused and rate.support == SupportLevel.NONE
    assert not lacks_percentage(fold("星河贷的年利率是多少？"), "星河贷年利率为4.35%。")
    assert not lacks_percentage(fold("《星河》首集收视率是多少？"), "《星河》首集收视率2.32，位居同时段第一。")
    assert not lacks_percentage(fold("研究发现错误率有多高？"), "研究发现，其回答的错误率超过一半。")
    assert not lacks_percentage(fold("全省男女比例是多少？"), "全省男性人口为105.2万人。")
    assert not lacks_percentage(fold("What percent of the staff work remotely?"), "About 12 percent of the staff work remotely.")
    assert lacks_percentage(fold("What percent of the staff work remotely?"), "The staff of 300 work in two offices.")


def about(text: str, published: str = "") -> Evidence:
    """A sentence that is its own passage and document."""
    return Evidence(fold(text), fold(text), fold(text), published)


def test_a_measure_stated_by_its_unit_is_supported_and_one_of_another_measure_is_not() -> None:
    roo = "尤金袋鼠很细小，约只有8公斤重，适合饲养。"
    assert check("尤金袋鼠的体重大约是多少？", about(roo), None, ALIASES, FAMILIES) == ()
    gorge = "帕特纳赫峡谷是一座长702米，深80米的峡谷。"
    assert check("帕特纳赫峡谷的宽度是多少？", about(gorge), None, ALIASES, FAMILIES) == ("宽度",)


def test_a_season_and_a_year_before_1000_with_its_month_are_times_and_words_of_families() -> None:
    flower = "龙胆秋季开蓝紫色花，聚伞花序顶生。"
    assert check("龙胆在春季开什么颜色的花？", about(flower), None, ALIASES, FAMILIES) == ("春季",)
    assert check("龙胆在秋季开什么颜色的花？", about(flower), None, ALIASES, FAMILIES) == ()
    war = "475年9月，长寿王趁机率领三万大军讨伐百济。"
    assert check("485年9月，长寿王讨伐了哪儿？", about(war), None, ALIASES, FAMILIES) == ("485年9月",)
    assert check("475年9月，长寿王讨伐了哪儿？", about(war), None, ALIASES, FAMILIES) == ()


def test_the_kind_of_name_asked_for_question_words_and_abbreviations_are_no_missing_names() -> None:
    bank = "西贡商业信用银行（Saigon Thuong Tin Bank，Sacombank）是越南的一家商业银行，成立于1991年。"
    assert check("西贡商业信用银行的英文名是什么？", about(bank), None, ALIASES, FAMILIES) == ()
    assert check("西贡商信银行成立的时间是什么时候？", about(bank), None, ALIASES, FAMILIES) == ()
    steel = "1996年，首钢总公司成为首钢集团的核心控股公司。"
    assert check("什么时候首钢总公司成为首钢集团的核心控股公司？", about(steel), None, ALIASES, FAMILIES) == ()
    court = "515年正月宣武帝驾崩，高英又欲杀胡充华，但未能成功。"
    assert "华为" not in check("高英杀胡充华为什么没有成功？", about(court), None, ALIASES, FAMILIES)
    icbc = "中国工商银行个人客户总量达6.64亿户。"
    assert check("中行个人客户总量是多少？", about(icbc), None, ALIASES, FAMILIES) == ("中行",)


def test_a_five_character_name_may_abbreviate_the_name_the_article_writes_out() -> None:
    court = "泰国宪法法院19日宣布，将审议披塔提名资格一案的日期推迟到8月16日。"
    assert check("泰国宪法院把审议披塔提名资格一案改到了哪天？", about(court), None, ALIASES, FAMILIES) == ()
    assert check("缅甸宪法院把审议披塔提名资格一案改到了哪天？", about(court), None, ALIASES, FAMILIES) != ()


def test_an_organisation_by_its_ending_starts_where_a_word_starts() -> None:
    """A name found by its last word (…公司) once began inside the word before it: 越南 lost its 越, and the
    answer said 「南游戏初创公司」 was missing where the documents speak of India."""
    names = [q.folded for q in qualifiers("Krafton计划向越南游戏初创公司投资多少？", ALIASES) if q.kind == Kind.NAME]
    assert "越南" in names and not any(n.startswith("南") for n in names)
    names = [q.folded for q in qualifiers("七家车企组建的充电合资公司计划在欧洲推出多少个充电装置？", ALIASES) if q.kind == Kind.NAME]
    assert names == ["欧洲"]
    assert "首钢总公司" in [q.folded for q in qualifiers("什么时候首钢总公司成立的？", ALIASES)]
    india = "《绝地求生》开发商Krafton承诺在未来两到三年内向印度游戏初创公司投资1.5亿美元。"
    krafton = Evidence(fold(india), fold(india), fold(india), "2023-08-10")
    assert check("Krafton计划向越南游戏初创公司投资多少？", krafton, 2023, ALIASES, FAMILIES) == ("越南",)
    assert check("Krafton计划向印度游戏初创公司投资多少？", krafton, 2023, ALIASES, FAMILIES) == ()


def test_a_work_is_replaced_only_by_another_work_and_tenths_are_percentages() -> None:
    """The cast before 主演 is no rival to the series asked about; 9成 is how Chinese says 90%."""
    cast = "于2004年12月15日开拍，由孙协志、王仁甫、刘品言、曾之乔主演。"
    series = Evidence(fold(cast), fold(cast), fold(f"《格斗天王》是台湾偶像剧。{cast}"), "")
    assert check("《格斗天王》的主演人员有哪些？", series, None, ALIASES, FAMILIES) == ()
    assert check("《终极一班》的主演人员有哪些？", series, None, ALIASES, FAMILIES) == ("终极一班",)
    rice = "米糠还含有人体必须营养素中90%以上的营养物质。"
    bran = Evidence(fold(rice), fold(rice), fold(rice), "")
    assert check("米的哪一部分持有9成以上的人体必要营养物质？", bran, None, ALIASES, FAMILIES) == ()
    assert check("米的哪一部分持有8成以上的人体必要营养物质？", bran, None, ALIASES, FAMILIES) == ("8成",)
    assert [q.folded for q in qualifiers("公司2019年成立了3个部门", ALIASES) if q.kind == Kind.NUMBER] == ["3"]


def test_a_figure_counting_another_thing_with_the_asked_measure_word_is_a_near_miss() -> None:
    """多少箱方便面 asked of 2000箱矿泉水: the figure counts another thing; a figure counting the asked thing
    in other words (66个地市 for 多少个地级市) or in part (225家企业) stands."""
    water = "申长远这次也捐出2000箱矿泉水，并送上祝福。"
    donation = Evidence(fold(water), fold(water), fold(water), "2023-08-05")
    assert check("盲人针灸师申长远为涿州捐了多少箱方便面？", donation, 2023, ALIASES, FAMILIES) == ("方便面",)
    assert check("盲人针灸师申长远为涿州捐了多少箱矿泉水？", donation, 2023, ALIASES, FAMILIES) == ()
    cities = "工行推动医保移动支付平台建设，与24个省区、66个地市医保局实现合作。"
    health = Evidence(fold(cities), fold(cities), fold(cities), "2023-08-05")
    assert check("工行和多少个地级市的医保部门建立了合作？", health, 2023, ALIASES, FAMILIES) == ()
    firms = "全省共有455家企业入围，其中有225家企业来自长沙。"
    listing = Evidence(fold(firms), fold(firms), fold(firms), "2023-08-16")
    assert check("名单里有多少家长沙企业？", listing, 2023, ALIASES, FAMILIES) == ()


def test_a_rival_after_于_is_in_the_slot_the_question_names() -> None:
    """集中於歐洲 asked, 集中於亞洲 quoted: 于 (於) joins the neighbour to the slot as 在 does."""
    asia = "大部分的機車集中於亞洲，佔世界機車數量的約58%。"
    passage = f"歐洲的機車多為大排量。{asia}"
    bikes = Evidence(fold(asia), fold(passage), fold(passage), "")
    assert check("世界上約有多少百分比的機車集中於歐洲?", bikes, None, ALIASES, FAMILIES) == ("歐洲",)
    assert check("世界上約有多少百分比的機車集中於亞洲?", bikes, None, ALIASES, FAMILIES) == ()


def test_times_compared_with_do_not_date_a_fact_当年_does_and_a_dimension_asked_must_be_given() -> None:
    """超过一季度 compares, it does not date the second quarter's revenue; 当年 is the year just named;
    长702米，深80米 gives no width."""
    revenue = "根据京东集团公布的数据，2023年第二季度，京东集团的总收入达到2879亿元人民币，同比增速超过一季度。"
    jd = Evidence(fold(revenue), fold(revenue), fold(revenue), "2023-08-16")
    assert check("京东集团2023年第一季度总收入是多少？", jd, 2023, ALIASES, FAMILIES) == ("2023年第一季度",)
    assert check("京东集团2023年第二季度总收入是多少？", jd, 2023, ALIASES, FAMILIES) == ()
    said = "當年，學校學生總數超過3000人，教師有800多人。"
    history = f"1964年，學校遷入新址。{said}1970年學校南遷合肥。"
    ustc = Evidence(fold(said), fold(history), fold(history), "")
    assert check("1970年時中國科學技術大學的學生總數約高達多少人?", ustc, None, ALIASES, FAMILIES) == ("1970年",)
    assert check("1964年時中國科學技術大學的學生總數約高達多少人?", ustc, None, ALIASES, FAMILIES) == ()
    gorge = "帕特纳赫峡谷是一座长702米，深80米的峡谷，位于德国巴伐利亚州。"
    canyon = Evidence(fold(gorge), fold(gorge), fold(gorge), "")
    assert check("帕特纳赫峡谷有多宽？", canyon, None, ALIASES, FAMILIES) == ("多宽",)
    assert check("帕特纳赫峡谷有多深？", canyon, None, ALIASES, FAMILIES) == ()
    assert check("这棵树有多高？", Evidence(fold("树高可达55米。"), "", "", ""), None, ALIASES, FAMILIES) == ()
    assert check("政府高度重视的这座峡谷长多少米？", canyon, None, ALIASES, FAMILIES) == ()


def test_an_era_year_is_a_year_and_a_foreign_name_may_be_transliterated_otherwise() -> None:
    """明治33年 is 1900, so a passage of 明治29年（1896年） does not answer it; 奈特雷布科 is the singer an
    article writes 涅特列布科 (jieba cuts the name in two), while 斯德哥尔摩 and 清真寺 stay two words."""
    ship = "明治29年（1896年）4月17日，台湾总督府补助大阪商船，命令其开设神户基隆间定期航路。"
    ships = about(ship)
    assert check("明治33年台湾总督府补助哪儿的商船？", ships, None, ALIASES, FAMILIES) == ("明治33年",)
    assert check("明治29年台湾总督府补助哪儿的商船？", ships, None, ALIASES, FAMILIES) == ()
    assert check("民國元年台湾总督府补助哪儿的商船？", ships, None, ALIASES, FAMILIES) == ("民國元年",)
    suit = "歌剧界巨星涅特列布科8月4日在美国向纽约州法院起诉大都会歌剧院，要求赔偿至少36万美元。"
    singer = about(suit, "2023-08-06")
    assert check("女高音奈特雷布科要求大都会歌剧院赔偿至少多少钱？", singer, 2023, ALIASES, FAMILIES) == ()
    assert check("授予奈特雷布科的奖项是什么？", Evidence(fold("普京授予涅特列布科国家奖。"), "", fold(suit), ""), 2023, ALIASES, FAMILIES) == ()
    assert check("女高音安娜卡列尼娜要求大都会歌剧院赔偿至少多少钱？", singer, 2023, ALIASES, FAMILIES) != ()
    burning = "一名伊拉克难民在斯德哥尔摩一座清真寺外焚烧《古兰经》。"
    mosque = about(burning, "2023-06-29")
    assert check("在斯德哥尔摩清真寺外焚烧《古兰经》的是谁？", mosque, 2023, ALIASES, FAMILIES) == ()


def test_a_rate_asked_is_not_answered_by_another_rate() -> None:
    """不良贷款率 asked, 资本充足率为12.77% quoted: the figure measures something else. A measure in other
    words that shares a character (交易额 for 成交额) or holds the asked one (城镇调查失业率) may be the same."""
    capital = "截至2023年二季度末，河北银行资本充足率为12.77%，一级资本充足率为12.52%。"
    bank = about(capital, "2023-08-20")
    assert check("截至2023年二季度末河北银行的不良贷款率是多少？", bank, 2023, ALIASES, FAMILIES) == ("不良贷款率",)
    assert check("截至2023年二季度末河北银行的资本充足率是多少？", bank, 2023, ALIASES, FAMILIES) == ()
    assert check("截至2023年二季度末河北银行的核心资本充足率是多少？", bank, 2023, ALIASES, FAMILIES) == ()
    trade = "本次拍卖会总交易额为1.2亿元。"
    auction = about(trade)
    assert check("本次拍卖会的总成交额是多少？", auction, None, ALIASES, FAMILIES) == ()


def test_a_document_names_nowhere_what_it_never_writes_under_any_alias_and_a_year_never_astrays() -> None:
    from rag.answer.support import named_nowhere

    assert named_nowhere(("OLED",), "“智脉”的相关研究成果以封面文章的形式在《Patterns》期刊上发表。", ALIASES)
    assert not named_nowhere(("OLED",), "韩国团队研发出可水洗的透明柔性oled。", ALIASES)
    assert not named_nowhere(("工行", "2021年"), "中国工商银行上半年个人客户增加1403万户。", ALIASES)
    assert not named_nowhere((), "", ALIASES)
    # A year the article never writes is the near miss to show, not a sign the article is about something else:
    # the answer keeps its lead rather than switch to a sentence elsewhere that merely holds 2015年.
    assert not named_nowhere(("2015年",), "全球人口约为70亿，其中亚洲占六成。", ALIASES)


def test_a_team_is_a_name_by_its_last_word() -> None:
    """中国跳水队 asked of a passage about the synchronised swimmers: another team, so a near miss; 这支球队
    and 国家队 name no team in particular."""
    swim = "参加2008年北京夏季奥林匹克运动会的中国花样游泳队一行共计15人，其中运动员9人，教练4人。"
    team = about(swim)
    assert check("中国跳水队有多少人参加2008年北京奥运会？", team, None, ALIASES, FAMILIES) == ("中国跳水队",)
    assert check("参加2008年北京奥运会的中国赛艇队一共有多少人？", team, None, ALIASES, FAMILIES) == ("中国赛艇队",)
    assert check("中国花样游泳队有多少人参加2008年北京奥运会？", team, None, ALIASES, FAMILIES) == ()
    assert [q.folded for q in qualifiers("男篮首场比赛葡萄牙队以什么比分输给中国队？", ALIASES) if q.kind == Kind.NAME] == ["葡萄牙队"]
    assert not [q for q in qualifiers("这支球队的主教练是谁？国家队呢？", ALIASES) if q.kind == Kind.NAME]
    assert not [q for q in qualifiers("撤离车队遇袭造成几名维和人员受伤？", ALIASES) if q.kind == Kind.NAME]
    nets = fold("布魯克林籃網，是一支位於美國紐約布魯克林的職業籃球隊。")
    assert check("現任布魯克林籃網球隊的老闆為哪一個人?", Evidence(nets, nets, nets, ""), None, ALIASES, FAMILIES) == ()


def test_a_word_for_everywhere_is_no_place_to_hold_a_passage_to() -> None:
    """游历四海 travels everywhere: an article that never writes 四海 still answers it; 四川 is a place."""
    li = about("李白二十五岁时离开家乡，开始了广泛漫游，南到洞庭湘江，东至吴、越。")
    assert check("李白几岁时离开家乡开始游历四海？", li, None, ALIASES, FAMILIES) == ()
    assert check("李白几岁时开始游历天下？", li, None, ALIASES, FAMILIES) == ()
    assert [q.folded for q in qualifiers("李白几岁时离开四川开始游历四海？", ALIASES) if q.kind == Kind.NAME] == ["李白", "四川"]


def test_one_ethnic_group_is_not_answered_by_anothers_share() -> None:
    """满族占多少 asked, a census sentence giving 汉族's share and naming 满 only in a list: another group's
    figure. The group the sentence gives a share for, asked, stands."""
    census = about("全区常住人口约2500万人，其中汉族约占92%，另有满、蒙、回等少数民族。")
    assert check("全区常住人口中满族占多大比例？", census, None, ALIASES, FAMILIES) == ("满族",)
    assert check("全区常住人口中汉族占多大比例？", census, None, ALIASES, FAMILIES) == ()
    tibet = about("藏族人口占全县总人口的八成以上。")
    assert check("全县藏族人口占总人口的多少？", tibet, None, ALIASES, FAMILIES) == ()


def test_one_industry_is_not_answered_by_anothers_share() -> None:
    """零售业占就业人口多少 asked, a sentence giving 制造业's and 建筑业's shares: other industries' figures."""
    jobs = about("全市就业人口中，以制造业和建筑业为主，分别占31.5%和9.2%。")
    assert check("全市批发及零售业占就业人口的百分之多少？", jobs, None, ALIASES, FAMILIES) == ("零售业",)
    assert check("全市制造业占就业人口的百分之多少？", jobs, None, ALIASES, FAMILIES) == ()


def test_a_company_founded_is_not_answered_by_another_company_of_the_same_ending() -> None:
    """谁创立了搜狐公司 asked, 网易公司…创立 quoted: the sentence founds another company. jieba knows 搜狐公司
    as one plain noun; its first word is a name, so it is a name too (not 保险公司 or 合资公司)."""
    assert [q.folded for q in qualifiers("1997年谁创立了搜狐公司？", ALIASES) if q.kind == Kind.NAME] == ["搜狐公司"]
    assert not [q for q in qualifiers("他成立了一家合资公司，哪家保险公司赔了钱？", ALIASES) if q.kind == Kind.NAME]
    founded = "网易公司于1997年由丁磊在广州创立，总部位于杭州。"
    passage = fold(founded + "与新浪、搜狐并称门户网站。")
    netease = Evidence(fold(founded), passage, passage, "")
    assert check("1997年谁创立了搜狐公司？", netease, None, ALIASES, FAMILIES) == ("搜狐公司",)
    assert check("1997年谁创立了网易公司？", netease, None, ALIASES, FAMILIES) == ()


def test_all_students_counted_do_not_answer_how_many_graduate_students() -> None:
    """研究生 asked, 学生总数 quoted from a passage that speaks of 研究生 elsewhere: the figure counts every
    student. 学生 is a word of the students' family; a sentence naming the group asked stands."""
    passage = fold("学校于1978年开始招收研究生。1985年，学校学生总数超过5000人，教师有900多人。")
    school = Evidence(fold("1985年，学校学生总数超过5000人，教师有900多人。"), passage, passage, "")
    assert check("1985年学校的研究生有多少人？", school, None, ALIASES, FAMILIES) == ("研究生",)
    assert check("1985年时学校的研究生总数约高达多少人？", school, None, ALIASES, FAMILIES) == ("研究生总数",)
    assert check("1985年学校的学生总数有多少人？", school, None, ALIASES, FAMILIES) == ()
    campus = about("全校共有大学生1.2万人。")
    assert check("全校有多少大学生？", campus, None, ALIASES, FAMILIES) == ()


def test_a_group_counted_is_not_answered_by_another_groups_figure() -> None:
    """新增就业的退役军人有多少 asked, 新增就业残疾人4.25万人 quoted: the figure counts another group. A figure
    for the group asked stands, and 几个部门 or 江苏有多少 name no measure before the asking word."""
    jobs = "“全省城乡新增就业残疾人4.25万人，近两年连续实现新增就业残疾人1万人的目标。”"
    gansu = about(jobs, "2023-08-10")
    assert check("甘肃全省城乡新增就业的退役军人有多少？", gansu, 2023, ALIASES, FAMILIES) == ("退役军人",)
    assert check("甘肃全省城乡新增就业的残疾人有多少？", gansu, 2023, ALIASES, FAMILIES) == ()
    towns = "目前，江苏已有18个全国双拥模范城，军民始终秉持着“一家人”的理念。"
    jiangsu = about(towns, "2023-08-01")
    assert check("江苏有多少个全国双拥模范城？", jiangsu, 2023, ALIASES, FAMILIES) == ()
