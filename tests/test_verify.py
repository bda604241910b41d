"""The citation verifier: what a generated sentence must share with the passage it cites.

Passages are short excerpts in the style of the seed articles (工行 digital
finance); the answers are the kinds of sentences a model writes: faithful
paraphrases, invented figures, right facts with the wrong marker, no marker.
"""

from __future__ import annotations

import pytest

from rag.llm.verify import Verification, apply, facts, split_answer, verify
from rag.settings import Settings

PASSAGES = {
    1: "工行已累计推出353款数字金融产品。截至目前，工行线上融资规模突破8000亿元，服务客户超过1,400万户。",
    2: "在2020世界人工智能大会上，工行作为唯一商业银行入选首批公共数据开放应用试点单位，与上海市政府11家部门合作签约。",
    3: "陈四清在《中国金融》杂志撰文指出，要实现金融服务“无处不在”。",
}


def only(answer: str, passages: dict[int, str] = PASSAGES) -> object:
    verification = verify(answer, passages)
    assert len(verification.sentences) == 1, verification
    return verification.sentences[0]


def test_supported_paraphrase_is_kept_with_its_verbatim_quote() -> None:
    verdict = only("工行线上融资的规模已经突破了8000亿元。[1]")
    assert verdict.verified, verdict.reason
    assert verdict.text == "工行线上融资的规模已经突破了8000亿元。"
    assert verdict.cited == (1,) and verdict.source == 1
    assert verdict.quote == "截至目前，工行线上融资规模突破8000亿元，服务客户超过1,400万户。"


def test_a_figure_in_no_passage_is_rejected() -> None:
    verdict = only("工行2023年净利润是1478.5亿元。[1]")
    assert not verdict.verified
    assert verdict.quote is None
    assert "1478.5亿" in verdict.reason


def test_a_changed_number_or_unit_is_rejected() -> None:
    assert not only("工行已累计推出355款数字金融产品。[1]").verified
    assert not only("工行线上融资规模突破8000万元。[1]").verified
    assert not only("工行服务客户超过1,400户。[1]").verified  # the passage says 1,400万户
    assert not only("工行服务客户超过1400亿户。[1]").verified
    assert only("工行推出了353款产品。[1]").verified


def test_citation_to_the_wrong_passage_is_rejected() -> None:
    verdict = only("工行已累计推出353款数字金融产品。[2]")
    assert not verdict.verified
    assert verdict.reason.startswith("[2]:")


def test_sentence_without_marker_is_rejected() -> None:
    verdict = only("工行已累计推出353款数字金融产品。")
    assert not verdict.verified and verdict.cited == ()
    assert verdict.reason == "no citation marker"


def test_marker_to_an_unknown_passage_is_rejected() -> None:
    verdict = only("工行已累计推出353款数字金融产品。[7]")
    assert not verdict.verified
    assert "no such passage" in verdict.reason


def test_traditional_script_sentence_matches_simplified_passage() -> None:
    verdict = only("工行線上融資規模突破8000億元。[1]")
    assert verdict.verified, verdict.reason
    assert verdict.quote is not None and "8000亿元" in verdict.quote


def test_thousands_separators_do_not_matter() -> None:
    assert only("工行服务客户超过1400万户。[1]").verified
    written_with_comma = {1: PASSAGES[1].replace("1,400万", "1400万")}
    assert only("工行服务客户超过1,400万户。[1]", written_with_comma).verified


def test_full_width_digits_and_markers_are_folded() -> None:
    assert only("工行已累计推出３５３款数字金融产品。［1］").verified


def test_quoted_name_must_occur_in_the_passage() -> None:
    assert only("陈四清在《中国金融》杂志撰文。[3]").verified
    verdict = only("陈四清在《金融时报》杂志撰文。[3]")
    assert not verdict.verified and "金融时报" in verdict.reason


def test_too_few_content_words_in_one_passage_sentence_is_rejected() -> None:
    verdict = only("工行凭借人工智能大模型大幅降低了小微企业贷款不良率。[1]")
    assert not verdict.verified
    assert "content words" in verdict.reason


def test_coverage_threshold_is_a_parameter() -> None:
    answer = "工行推出数字金融产品，深受年轻客户欢迎。[1]"
    assert not verify(answer, PASSAGES, min_coverage=0.9).sentences[0].verified
    assert verify(answer, PASSAGES, min_coverage=0.4).sentences[0].verified


def test_one_supporting_passage_among_several_cited_is_enough() -> None:
    verdict = only("工行作为唯一商业银行入选首批公共数据开放应用试点单位。[1][2]")
    assert verdict.verified and verdict.cited == (1, 2) and verdict.source == 2


def test_a_swapped_name_is_rejected_even_when_most_words_match() -> None:
    verdict = only("建设银行作为唯一商业银行入选首批公共数据开放应用试点单位。[2]")
    assert not verdict.verified and "建设银行" in verdict.reason
    assert only("工行作为唯一商业银行入选首批公共数据开放应用试点单位。[2]").verified
    assert not only("工行与北京市政府11家部门合作签约。[2]").verified
    english = {1: "ICBC signed agreements with 11 departments of the Shanghai government."}
    assert only("ICBC signed with 11 departments of the Shanghai government. [1]", english).verified
    verdict = only("ICBC signed with 11 departments of the Beijing government. [1]", english)
    assert not verdict.verified and "beijing" in verdict.reason


def test_markers_before_or_after_the_full_stop_stay_with_their_sentence() -> None:
    pieces = split_answer("工行推出353款产品[1]。融资规模突破8000亿元。[1] [3]工行入选试点单位。[2]")
    assert pieces == [("工行推出353款产品。", (1,)), ("融资规模突破8000亿元。", (1, 3)), ("工行入选试点单位。", (2,))]
    assert split_answer("ICBC joined the pilot.[2] It signed with 11 departments [2, 3].") == [
        ("ICBC joined the pilot.", (2,)),
        ("It signed with 11 departments.", (2, 3)),
    ]


def test_markers_behind_a_bare_source_label_go_to_the_sentence_before() -> None:
    assert split_answer("工行推出353款产品。支持资料[1][2]") == [("工行推出353款产品。", (1, 2))]
    assert split_answer("工行推出353款产品。来源：[3]") == [("工行推出353款产品。", (3,))]
    assert split_answer("ICBC launched 353 products. Source: [2]") == [("ICBC launched 353 products.", (2,))]
    # a sentence that only starts with a label word says something of its own
    assert split_answer("资料[1]显示工行推出353款产品。") == [("资料显示工行推出353款产品。", (1,))]


def test_a_line_break_ends_a_sentence() -> None:
    pieces = split_answer("[1] 《中国金融》\n陈四清撰文指出要实现金融服务“无处不在”。[3]\n[2]")
    assert pieces == [("《中国金融》", (1,)), ("陈四清撰文指出要实现金融服务“无处不在”。", (3, 2))]


def test_facts_keep_units_and_drop_thousands_separators() -> None:
    assert facts("规模达8,000 亿元，占比12.5%，2020年5月签约《中国金融》") == ["8000亿", "12.5%", "2020年", "5月", "中国金融"]


def test_verification_is_deterministic() -> None:
    answer = "工行已累计推出353款数字金融产品。[1]工行2023年净利润是1478.5亿元。[1]"
    assert verify(answer, PASSAGES) == verify(answer, PASSAGES)


def mixed() -> Verification:
    return verify("工行已累计推出353款数字金融产品。[1]工行2023年净利润是1478.5亿元。[1]", PASSAGES)


def test_apply_drop_keeps_only_verified_sentences() -> None:
    assert apply(mixed(), "drop") == "工行已累计推出353款数字金融产品。[1]"


def test_apply_strike_marks_unsupported_sentences_without_markers() -> None:
    text = apply(mixed(), "strike")
    assert text == "工行已累计推出353款数字金融产品。[1]~~工行2023年净利润是1478.5亿元。~~ 「未经资料证实」"
    english = verify("ICBC has launched 353 digital finance products.", {1: "ICBC has launched 353 digital finance products."})
    assert apply(english, "strike") == "~~ICBC has launched 353 digital finance products.~~ (not supported by the documents)"
    with pytest.raises(ValueError, match="drop, strike"):
        Settings(llm_unsupported="hide")  # type: ignore[arg-type]  # checked once, where settings are made


def test_english_answer_against_english_passage() -> None:
    passages = {1: "The bank served 1,400 thousand clients in 2020. It launched 353 products."}
    assert only("In 2020 the bank served 1400 thousand clients.[1]", passages).verified
    assert not only("In 2021 the bank served 1400 thousand clients.[1]", passages).verified
