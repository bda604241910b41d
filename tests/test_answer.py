"""Answer-sentence scoring and the refusal gate, on real chunks and hand-made ranks (no model needed).

The hits are built from a real document through the real chunker; only the
retrieval ranks and cosines are chosen by hand, so each test pins one rule of
``rag.answer``: the kind of fact asked for, the question's phrase, the key-term
coverage, how many sentences join, and when the answer is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import FAKE_MODEL
from rag import REFUSALS, Hit, Settings, load_settings
from rag.answer.compose import candidates, choose, compose, evidence, first_quote, need_bonus, phrase_overlap
from rag.answer.quoting import next_to
from rag.answer.scoring import Candidate, reranked
from rag.embed.embedding import Embedder, SentenceMemo
from rag.ingest.chunking import ChunkerConfig, chunk_document
from rag.ingest.documents import parse_bytes
from rag.search.question import prepare

SETTINGS = Settings()
ARTICLE = (
    "城市图书馆新馆开放\n\n"
    "城市图书馆新馆于今年五月正式向读者开放，位于滨江大道。"
    "新馆藏书约120万册，设有少儿阅览区和数字阅读区。"
    "图书馆负责人王明介绍，新馆每周一闭馆。\n\n"
    "开馆首月，新馆共接待读者8.6万人次。"
    "由于座位紧张，图书馆推出了线上预约服务。"
)


def hits(dense: float = 0.85, text: str = ARTICLE, name: str = "library.txt") -> list[Hit]:
    """The article's chunks as hits in document order, every one with the same cosine."""
    doc = parse_bytes(text.encode(), name)
    chunks = chunk_document(doc, ChunkerConfig.from_settings(SETTINGS))
    return [Hit(c, rank, 1.0 / rank, rank, dense, rank, 1.0 / rank) for rank, c in enumerate(chunks, start=1)]


def best_sentence(question: str) -> str:
    return candidates(prepare(question), hits(), SETTINGS)[0].sentence


def test_a_how_many_question_prefers_the_sentence_with_the_number() -> None:
    assert "120万册" in best_sentence("新馆藏书有多少？")
    assert "8.6万人次" in best_sentence("开馆首月接待了多少读者？")


def test_a_why_question_prefers_the_sentence_giving_a_reason() -> None:
    assert best_sentence("图书馆为什么推出线上预约服务？").startswith("由于座位紧张")


def test_need_bonus_only_for_the_kind_of_fact_asked() -> None:
    how_many = prepare("新馆藏书有多少？")
    assert need_bonus(how_many, "新馆藏书约120万册。") > 0
    assert need_bonus(how_many, "新馆每周一闭馆。") == 0
    assert need_bonus(prepare("新馆在哪里？"), "新馆藏书约120万册。") == 0


def test_phrase_overlap_rewards_the_questions_own_wording() -> None:
    asked = prepare("线上预约服务是什么时候推出的？")
    verbatim = phrase_overlap(asked, "图书馆推出了线上预约服务。")
    scattered = phrase_overlap(asked, "服务线上，预约推出。")
    assert verbatim > scattered and 0 < verbatim <= 1
    assert phrase_overlap(asked, "完全无关的句子") == 0


def test_candidates_come_only_from_the_first_answer_hits_and_are_sorted() -> None:
    ranked = candidates(prepare("新馆藏书有多少？"), hits(), SETTINGS.replace(answer_hits=1))
    assert {c.hit.rank for c in ranked} == {1}
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)


def test_choose_keeps_near_best_relevant_sentences_up_to_the_limit() -> None:
    ranked = candidates(prepare("新馆有什么服务？"), hits(), SETTINGS)
    assert len(choose(ranked, SETTINGS.replace(answer_max_sentences=1))) == 1
    lax = SETTINGS.replace(answer_keep_ratio=0.0, answer_min_relevance=0.0, answer_max_sentences=10)
    assert len(choose(ranked, lax)) == min(10, len({c.sentence for c in ranked}))
    only_best = choose(ranked, SETTINGS.replace(answer_keep_ratio=1.0))
    assert all(c.score >= ranked[0].score for c in only_best)
    strict = choose(ranked, SETTINGS.replace(answer_keep_ratio=0.0, answer_min_relevance=1.0, answer_max_sentences=10))
    for c in strict[1:]:
        beside = [x for x in strict if x is not c and next_to(c, x)]
        assert c.own >= 1.0 or beside, "a further sentence must be relevant on its own or continue a chosen one"


def test_a_sentence_continuing_the_lead_joins_and_a_distant_one_with_few_question_words_does_not() -> None:
    ranked = candidates(prepare("新馆有什么服务？"), hits(), SETTINGS)
    strict = SETTINGS.replace(answer_keep_ratio=0.0, answer_min_relevance=1.0, answer_max_sentences=10)
    chosen = choose(ranked, strict)
    lead = chosen[0]
    for c in ranked[1:]:
        if c.own < 1.0 and not any(next_to(c, x) for x in chosen):
            assert c not in chosen
    beside = [c for c in ranked if c is not lead and next_to(c, lead)]
    assert beside and all(c in chosen or not _adds_new(c, chosen) for c in beside)


def _adds_new(candidate: Candidate, chosen: list[Candidate]) -> bool:
    return all(candidate.sentence != c.sentence for c in chosen)


def test_the_answer_quotes_and_cites_its_sentences_verbatim() -> None:
    answer = compose(prepare("新馆藏书有多少？"), hits(), SETTINGS)
    assert not answer.refused and answer.text.startswith("新馆藏书约120万册")
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.text
        for quote, (start, end) in zip(citation.quotes, citation.spans, strict=True):
            assert quote in citation.hit.chunk.text and end - start == len(quote)


@pytest.mark.parametrize(
    ("question", "language"),
    [("火星上有几座火山？", "zh-hans"), ("火星上有幾座火山？", "zh-hant"), ("How many volcanoes are on Mars?", "en")],
)
def test_a_question_the_article_does_not_answer_is_refused_in_its_language(question: str, language: str) -> None:
    answer = compose(prepare(question), hits(dense=0.70), SETTINGS)
    assert answer.refused and answer.text == REFUSALS[language] and not answer.citations
    assert answer.related, "a refusal still lists the closest passages"


def test_no_hits_means_no_evidence() -> None:
    asked = prepare("新馆藏书有多少？")
    assert evidence(asked, [], None) == 0.0
    assert compose(asked, [], SETTINGS).refused


def test_evidence_rises_with_the_question_terms_found() -> None:
    found = prepare("新馆藏书有多少？")
    missing = prepare("新馆的年度财政预算有多少？")
    ranked_found = candidates(found, hits(), SETTINGS)
    ranked_missing = candidates(missing, hits(), SETTINGS)
    assert evidence(found, hits(), ranked_found[0]) > evidence(missing, hits(), ranked_missing[0])


def test_a_labelled_item_is_not_a_continuation_of_the_sentence_before_it() -> None:
    doc = parse_bytes("平台一览\n\n法人平台上线了7项云产品。它面向小微企业。云平台：提供17项标准化服务。".encode(), "platforms.txt")
    chunks = chunk_document(doc, ChunkerConfig.from_settings(SETTINGS))
    found = [Hit(c, rank, 1.0 / rank, rank, 0.85, rank, 1.0 / rank) for rank, c in enumerate(chunks, start=1)]
    by_text = {c.sentence: c for c in candidates(prepare("法人平台有什么特点？"), found, SETTINGS)}
    lead, pronoun, labelled = (by_text[s] for s in ("法人平台上线了7项云产品。", "它面向小微企业。", "云平台：提供17项标准化服务。"))
    assert next_to(lead, pronoun) and next_to(pronoun, lead)
    assert not next_to(pronoun, labelled) and not next_to(lead, labelled)


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_reranking_by_meaning_lifts_the_sentence_closest_to_the_question() -> None:
    """Two sentences the terms tie are told apart by their vectors; the closest keeps its score."""
    asked = prepare("新馆有什么服务？").with_vector(_unit(1, 0))
    ranked = candidates(asked, hits(), SETTINGS)
    first, second = ranked[0], ranked[1]
    meaning = {second.sentence: _unit(1, 0.05), first.sentence: _unit(0.2, 1)}

    def vectors(sentences: list[str]) -> np.ndarray:
        return np.stack([meaning.get(s, _unit(0, 1)) for s in sentences])

    moved = reranked(asked, ranked, vectors, weight=3.0, top=10)
    assert moved[0].sentence == second.sentence and moved[0].score == second.score
    assert next(c for c in moved if c.sentence == first.sentence).score < first.score
    assert [c.score for c in moved] == sorted((c.score for c in moved), reverse=True)
    assert {c.sentence for c in moved} == {c.sentence for c in ranked}


def test_reranking_leaves_the_order_alone_without_vectors_weight_or_a_question_vector() -> None:
    asked = prepare("新馆有什么服务？")
    ranked = candidates(asked, hits(), SETTINGS)

    def vectors(sentences: list[str]) -> np.ndarray:
        return np.stack([_unit(len(s), 1) for s in sentences])

    assert reranked(asked, ranked, vectors, weight=3.0, top=10) == ranked  # no question vector
    with_vector = asked.with_vector(_unit(1, 0))
    assert reranked(with_vector, ranked, None, weight=3.0, top=10) == ranked
    assert reranked(with_vector, ranked, vectors, weight=0.0, top=10) == ranked
    assert reranked(with_vector, ranked, vectors, weight=3.0, top=2)[2:] == ranked[2:]  # only the top N move


def test_sentence_memo_returns_the_embedders_passage_vectors_and_keeps_at_most_its_size(tmp_path: Path) -> None:
    embedder = Embedder(load_settings(index_dir=str(tmp_path), embed_model=FAKE_MODEL))
    memo = SentenceMemo(lambda: embedder, size=2)
    sentences = ["新馆藏书约120万册。", "新馆每周一闭馆。", "新馆藏书约120万册。", "开馆首月接待读者8.6万人次。"]
    got = memo(sentences)
    assert got.shape == (4, embedder.dimension)
    assert np.allclose(got, embedder.embed_passages(sentences))
    assert np.allclose(memo(sentences[:1]), got[:1])  # remembered or recomputed, the same vector
    assert len(memo._vectors) <= 2


def test_the_words_next_to_what_is_asked_are_the_questions_focus() -> None:
    asked = prepare("世嘉收购那家靠愤怒的小鸟出名的游戏公司，每股出价多少欧元？")
    assert set(asked.focus) == {"每股", "出价", "欧元"}  # the first clause only says which story is meant
    assert all(asked.focus[t] == asked.terms[t] for t in asked.focus)
    assert prepare("新馆何时开放？").focus.keys() == {"新馆", "开放"}
    assert not prepare("介绍一下新馆").focus  # nothing asks: no focus


def test_a_question_asked_in_other_words_opens_with_the_sentence_holding_its_focus() -> None:
    """The story's opening sentence shares more of the question's words; the one holding 每股 answers it."""
    text = "世嘉收购《愤怒的小鸟》开发商\n\n世嘉今年宣布收购芬兰游戏公司Rovio，交易额约7亿欧元。世嘉计划以每股9.25欧元的价格收购Rovio的全部股份。"
    found = hits(text=text, name="sega.txt")
    answer = compose(prepare("世嘉收购那家靠愤怒的小鸟出名的游戏公司，每股出价多少欧元？"), found, SETTINGS)
    assert first_quote(answer) == "世嘉计划以每股9.25欧元的价格收购Rovio的全部股份。"


def test_of_two_sentences_as_likely_the_one_holding_the_asked_fact_more_surely_leads() -> None:
    """The first shares more of the question's words; the second gives the figure the fall reaches."""
    text = "沪惠保2023版开售\n\n今年沪惠保的免赔额降低了，保费仍为129元。一是免赔额由原2万元降至1.6万元，二是特药种类增加到36种。"
    found = hits(text=text, name="hhb.txt")
    answer = compose(prepare("今年沪惠保的免赔额降到了多少？"), found, SETTINGS)
    assert first_quote(answer).startswith("一是免赔额由原2万元降至1.6万元")
    assert "今年沪惠保的免赔额降低了" in answer.text  # still quoted: the two are as likely
    assert answer.answer_spans and answer.text[answer.answer_spans[0].start : answer.answer_spans[0].end] == "1.6万元"


def test_a_lead_from_an_article_that_never_names_what_is_asked_gives_way_to_a_matching_one() -> None:
    """OLED asked: a sentence of another study scores a little higher than the one of the article the search
    ranked first. The matching one leads; a lead that is partial otherwise (another year quoted) stays, and so
    does one whose rival scores far lower or comes from a passage the search ranked lower."""
    from dataclasses import replace

    from rag.answer.compose import Fit, _matching_lead

    study, other = hits(text="韩国团队研发可水洗OLED\n\n相关研究刊发于《ACS Nano》杂志。", name="oled.txt")[0], hits(name="other.txt")[0]
    other = replace(other, rank=2)
    right = Candidate(study, 0, 10, "相关研究刊发于《ACS Nano》杂志。", 1.0, 0.5, 0.5, 1.0, ())
    astray = Candidate(other, 0, 10, "相关研究成果发表在《Patterns》期刊上。", 1.1, 0.6, 0.6, 1.0, ())
    fits = {right.sentence: Fit.MATCHES, astray.sentence: Fit.ASTRAY}
    assert _matching_lead([astray, right], lambda hit, sentence: fits[sentence], 0.85)[0] is right
    fits[astray.sentence] = Fit.PARTIAL
    assert _matching_lead([astray, right], lambda hit, sentence: fits[sentence], 0.85)[0] is astray
    fits[astray.sentence] = Fit.ASTRAY
    assert _matching_lead([astray, right], lambda hit, sentence: fits[sentence], 0.95)[0] is astray  # 1.0 < 0.95 × 1.1
    behind = replace(right, hit=replace(study, rank=3))
    assert _matching_lead([astray, behind], lambda hit, sentence: fits[sentence], 0.85)[0] is astray


FISH = "斯氏腔吻鳕\n\n斯氏腔吻鳕为辐鳍鱼纲鳕形目鼠尾鳕科的其中一种。生活在混浊的泥沙底质上，几乎是以多毛类为食。"


def test_the_question_beyond_its_passages_common_title_is_what_it_asks() -> None:
    from rag.answer.scoring import beyond_titles

    asked = prepare("斯氏腔吻鳕主要以什么为食？")
    assert beyond_titles(asked, ["斯氏腔吻鳕"]) == "主要以什么为食?"
    assert beyond_titles(asked, ["斯氏腔吻鳕", "腔吻鳕科鱼类"]) == "斯氏主要以什么为食?"  # only what every title holds
    assert beyond_titles(asked, ["蓝线裸顶鲷"]) is None  # the title holds none of it
    assert beyond_titles(prepare("什么是棱柱？"), ["棱柱"]) is None  # too little would remain to compare by
    assert beyond_titles(prepare("恒大汽车去年一整年亏了多少钱？"), ["恒大汽车去年一整年亏损"]) is None  # a headline holding most of it


def test_under_one_subject_the_sentence_closest_to_what_is_asked_beyond_it_leads() -> None:
    """The lead names the fish and is closest to the whole question; the diet sentence is closest to what is
    asked of the fish. By the whole question alone the lead wins; with the subject set aside too, the diet."""
    found = hits(text=FISH, name="fish.txt")
    asked = prepare("斯氏腔吻鳕主要以什么为食？").with_vector(_unit(1, 0, 0))
    ranked = candidates(asked, found, SETTINGS)
    lead = next(c.sentence for c in ranked if c.sentence.startswith("斯氏腔吻鳕为"))
    diet = next(c.sentence for c in ranked if "多毛类" in c.sentence)
    meaning = {lead: _unit(1, 0.1, 0), diet: _unit(0.85, 0, 0.5)}

    def vectors(sentences: list[str]) -> np.ndarray:
        return np.stack([meaning.get(s, _unit(0, 1, 0)) for s in sentences])

    asked_for: list[str] = []

    def ask(text: str) -> np.ndarray:
        asked_for.append(text)
        return _unit(0, 0, 1)

    assert reranked(asked, ranked, vectors, weight=3.0, top=10)[0].sentence == lead
    assert reranked(asked, ranked, vectors, weight=3.0, top=10, ask=ask)[0].sentence == diet
    assert asked_for == ["主要以什么为食?"]


def test_a_long_sentence_without_the_asked_kind_of_fact_is_quoted_from_what_it_says_of_the_asked_words() -> None:
    """The subject's name opens the sentence and the title holds it: the clause with 号召…拒绝…依赖 is where the
    answer stands, and the quote reads on from it rather than stopping short of it."""
    filler = "，".join(f"其第{i}项活动面向全体会员开放并由各地志愿者组织" for i in range(1, 6))
    text = f"星河骑行会\n\n星河骑行会（英文：Xinghe Riders，缩写：XR）是一个国际性的自行车组织，{filler}，并以此号召人们拒绝对汽油的依赖。"
    settings = SETTINGS.replace(quote_max_chars=120)
    answer = compose(prepare("星河骑行会号召人们拒绝对什么的依赖？"), hits(text=text, name="riders.txt"), settings)
    assert not answer.refused and "汽油" in first_quote(answer), answer.text
    assert len(first_quote(answer)) <= settings.quote_max_chars


def test_a_long_sentence_is_quoted_reading_on_from_the_asked_words_before_reading_back() -> None:
    """What the sentence says of 口号 stands four clauses after the clause naming it; the clauses before it
    only fill: the quote reads on first (taking clauses on both sides in turn, it would stop short)."""
    before = "，".join(f"手册第{i}章介绍骑行装备的挑选方法和保养要点" for i in range(1, 4))
    after = "，".join(f"附录第{i}节列出各地骑行路线和补给站点" for i in range(1, 3))
    between = "，".join(f"车身第{i}面用红色油漆写着大字并配有会徽图案" for i in range(1, 4))
    text = f"骑行手册\n\n{before}，星河骑行会的口号印在每辆车上，{between}，内容是拒绝对汽油的依赖，{after}。"
    answer = compose(prepare("星河骑行会的口号是什么？"), hits(text=text, name="handbook.txt"), SETTINGS.replace(quote_max_chars=120))
    assert not answer.refused and "拒绝对汽油的依赖" in first_quote(answer), answer.text


def test_a_term_the_reader_shortened_counts_at_half_its_weight() -> None:
    """最老 for 最古老, 南马 for 南昌马拉松: the characters in order, at most one other between each two."""
    from rag.answer.scoring import coverage

    assert coverage({"最老": 1.0}, "布达佩斯动物园是匈牙利最古老的动物园。") == 0.5
    assert coverage({"南马": 1.0}, "本届南昌马拉松起点设在八一广场。") == 0.5
    assert coverage({"最老": 1.0}, "匈牙利最老的动物园。") == 1.0  # found as written: whole
    assert coverage({"冲凉": 1.0}, "男子洗澡后身亡。") == 0.0  # another word altogether
    assert coverage({"南马": 1.0}, "南京的马拉松。") == 0.0  # two apart: no longer the same word
    assert coverage({"ab": 1.0}, "axb") == 0.0  # Latin words are matched as written
    assert coverage({"南马": 1.0}, "起点设在八一广场。", inherited="南昌马拉松开跑") == 0.5  # in the title too


def test_a_lead_naming_its_subject_by_a_pronoun_is_quoted_with_the_sentence_naming_it() -> None:
    """这张专辑 answers 哪一张专辑 only with the sentence before it, which names the album; both are quoted, as one."""
    text = "晨星乐团\n\n2000年7月7日，乐团推出第二张专辑《蓝色公路》，销量达到35万张。晨星乐团也以这张专辑获得第十二届金曲奖的最佳乐团奖。"
    answer = compose(prepare("晨星乐团的哪一张专辑得到了第十二届金曲奖的最佳乐团奖？"), hits(text=text, name="band.txt"), SETTINGS)
    assert first_quote(answer) == "2000年7月7日，乐团推出第二张专辑《蓝色公路》，销量达到35万张。晨星乐团也以这张专辑获得第十二届金曲奖的最佳乐团奖。"
    assert answer.text.count("[1]") == 1


def test_a_why_question_quotes_the_cause_before_a_lead_that_only_restates_it() -> None:
    text = "猴面包树\n\n猴面包树的果实钙含量比菠菜高50%以上，维生素C含量是橙子的三倍。因此它有时也被称为超级水果。"
    answer = compose(prepare("为什么称猴面包树为超级水果？"), hits(text=text, name="baobab.txt"), SETTINGS)
    assert "钙含量比菠菜高" in first_quote(answer) and first_quote(answer).endswith("超级水果。"), answer.text


def test_a_lead_carried_on_by_the_next_sentence_is_quoted_with_it() -> None:
    """这一阶段目的是… says what the stage the lead names was for."""
    text = "火车站改建\n\n1985年，火车站改建工程动工。1987年6月26日开始，工程进入最后的第三阶段。这一阶段目的是完成南北候车室的合龙。"
    answer = compose(prepare("第三阶段工程的目的是？"), hits(text=text, name="station.txt"), SETTINGS)
    assert "完成南北候车室的合龙" in first_quote(answer), answer.text


def test_a_lead_that_leans_on_nothing_is_quoted_alone() -> None:
    """新馆藏书约120万册 names its subject itself: the sentence before it is not quoted with it."""
    answer = compose(prepare("新馆藏书有多少？"), hits(), SETTINGS)
    assert first_quote(answer) == "新馆藏书约120万册，设有少儿阅览区和数字阅读区。"


def test_pronouns_and_consequences_lean_on_the_sentence_before_words_that_merely_start_alike_do_not() -> None:
    from rag.text.reference import carries_on, opens_with_pronoun, refers_back

    for leaning in (
        "五月天也以這張專輯獲得最佳樂團獎。",
        "此一贵族制在1947年取消。",
        "因此它被称为笨蛋水果。",
        "他是最具影响力的支持者。",
        "It was founded in 1998.",
    ):
        assert refers_back(leaning), leaning
    for alone in (
        "此外，新馆设有少儿阅览区。",
        "其中三人获奖。",
        "其他国家也有类似做法。",
        "吉他手王明加入乐队。",
        "故宫博物院今年开放。",
        "新馆藏书约120万册，其中一半是新书。",
    ):
        assert not refers_back(alone), alone
    assert opens_with_pronoun("他得宰相张居正辅政。") and not opens_with_pronoun("五月天也以這張專輯獲得最佳樂團獎。")
    assert carries_on("这一阶段目的是完成合龙。") and carries_on("但后来不了了之。") and carries_on("However, it failed.")
    assert not carries_on("新馆每周一闭馆。") and not carries_on("其中三人获奖。")


def test_quotes_standing_side_by_side_in_a_passage_are_one_quote_under_one_mark() -> None:
    """Two sentences a question asking for several things takes, the second right after the first: one quote."""
    text = "城市图书馆\n\n城市图书馆新馆一楼设有少儿阅览区和自习区。新馆二楼设有数字阅读区和报刊阅览区。馆长王明今年五十岁。"
    answer = compose(prepare("城市图书馆新馆设有哪些阅览区？"), hits(text=text, name="floors.txt"), SETTINGS)
    assert first_quote(answer) == "城市图书馆新馆一楼设有少儿阅览区和自习区。新馆二楼设有数字阅读区和报刊阅览区。", answer.text
    assert answer.text.count("[1]") == 1 and len(answer.citations[0].quotes) == 1


def test_a_pronoun_subject_stands_in_the_asked_slot_and_a_lead_holding_the_asked_figure_stands_alone() -> None:
    """他 is who is asked: the names the lead holds (张居正) are others, so the sentence naming him is quoted too.
    此系统 needs no antecedent for 多少连接点: the lead holds the figure and opens the answer alone."""
    text = "明朝\n\n万历皇帝十岁登基，年号万历。他得宰相张居正辅政，国势大盛，史称万历中兴。"
    answer = compose(prepare("宰相辅政、国势大盛、史称万历中兴的是哪一位皇帝？"), hits(text=text, name="ming.txt"), SETTINGS)
    assert "万历皇帝十岁登基" in first_quote(answer), answer.text
    text = "校园网络\n\n学校的无线网络覆盖全校园，面积达87万平方米。此系统于2005年面世，共有近三千个连接点。"
    answer = compose(prepare("学校的无线网络在2005年有多少连接点？"), hits(text=text, name="wifi.txt"), SETTINGS)
    assert first_quote(answer) == "此系统于2005年面世，共有近三千个连接点。", answer.text


def test_a_lead_cut_at_a_semicolon_is_quoted_to_the_end_of_its_sentence() -> None:
    """The quotable piece ends at ；: what the condition is goes on after it, in the same sentence."""
    text = "产科急症\n\n羊水栓塞是分娩时少见的产科急症；患者表现为呼吸困难、低血压和心脏骤停。医院设有产科重症监护室。"
    answer = compose(prepare("羊水栓塞是怎样的产科急症？"), hits(text=text, name="obstetrics.txt"), SETTINGS)
    assert first_quote(answer) == "羊水栓塞是分娩时少见的产科急症；患者表现为呼吸困难、低血压和心脏骤停。", answer.text
