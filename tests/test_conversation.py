"""Follow-up questions read in their conversation (rag.answer.conversation), and the answer recording what was searched."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from rag import Rag, Settings, answer_message
from rag.answer.conversation import is_follow_up, resolve
from rag.llm.rewrite import invented
from rag.search.retrieval import Filters, search

GRANTS = "重庆工行为多少名贫困大学生发放了资助金？"
HISTORY = [{"role": "user", "content": GRANTS}, {"role": "assistant", "content": "超过8万名贫困大学生。[1]"}]


def test_a_subjectless_follow_up_carries_the_earlier_topic() -> None:
    resolution = resolve("总金额是多少？", HISTORY)
    assert resolution.used_history and resolution.question == "总金额是多少？"
    assert "资助金" in resolution.standalone and "重庆" in resolution.standalone and resolution.standalone.endswith("总金额是多少？")


def test_a_question_with_its_own_topic_is_searched_unchanged() -> None:
    question = "工行推出了多少项普惠金融API开放服务？"
    assert not is_follow_up(question)
    assert resolve(question, HISTORY).standalone == question and not resolve(question, HISTORY).used_history


def test_without_history_nothing_changes() -> None:
    assert resolve("总金额是多少？", []).standalone == "总金额是多少？"


def test_a_chain_of_follow_ups_keeps_the_first_topic() -> None:
    history = [*HISTORY, {"role": "user", "content": "总金额是多少？"}, {"role": "assistant", "content": "共计10亿元。[1]"}]
    assert "资助金" in resolve("它们来自哪些区县？", history).standalone


def test_the_answer_records_the_standalone_question(fake_rag: Rag) -> None:
    answer = fake_rag.ask("总金额是多少？", history=HISTORY)
    assert answer.question == "总金额是多少？" and answer.history_used
    assert answer.standalone_question == resolve("总金额是多少？", HISTORY).standalone
    alone = fake_rag.ask("总金额是多少？")
    assert not alone.history_used and alone.standalone_question == ""


# --------------------------------------------------------------------------- follow-up or new topic


def test_pronouns_demonstratives_and_ellipsis_make_follow_ups() -> None:
    for question in (
        "它们来自哪些区县？",
        "该项目什么时候上线？",
        "这些贷款的利率是多少？",
        "其中有多少是女生？",
        "那上海呢？",
        "和北京分行呢？",
        "农业方面呢？",
    ):
        assert is_follow_up(question), question


def test_questions_with_their_own_subject_are_new_topics() -> None:
    for question in ("数字化转型给银行业带来了哪些变化？", "范廷颂是什么时候被任为主教的？", "What did ICBC launch in Chongqing?"):
        assert not is_follow_up(question), question


def test_a_predicate_without_subject_is_a_follow_up() -> None:
    assert is_follow_up("一共发放了多少钱？")
    assert "资助金" in resolve("一共发放了多少钱？", HISTORY).standalone


def test_ellipsis_puts_the_new_slot_in_place_of_the_old_one() -> None:
    resolution = resolve("那上海呢？", HISTORY)
    assert resolution.standalone == GRANTS.replace("重庆", "上海") and resolution.used_history


def test_ellipsis_without_a_slot_of_the_same_kind_replaces_the_same_head_word() -> None:
    history = [{"role": "user", "content": "工行的贷款余额是多少？"}]
    assert resolve("存款呢？", history).standalone == "工行的存款余额是多少？"


def test_traditional_questions_resolve_in_their_own_script() -> None:
    history = [{"role": "user", "content": "重慶工行為多少名貧困大學生發放了資助金？"}]
    carried = resolve("總金額是多少？", history).standalone
    assert "資助金" in carried and "重慶" in carried and carried.endswith("總金額是多少？")
    assert resolve("那上海呢？", history).standalone == "上海工行為多少名貧困大學生發放了資助金？"


def test_english_follow_ups() -> None:
    history = [{"role": "user", "content": "How many students did ICBC Chongqing fund in 2022?"}]
    assert resolve("What about 2023?", history).standalone == "How many students did ICBC Chongqing fund in 2023?"
    assert resolve("What about Shanghai?", history).standalone == "How many students did ICBC Shanghai fund in 2022?"
    carried = resolve("How much money in total?", history).standalone
    assert "ICBC Chongqing" in carried and carried.startswith("How much money in total")
    assert not resolve("What did Alibaba report in 2023?", history).used_history


def test_the_carried_topic_drops_the_earlier_question_words() -> None:
    """「多少名」 would make the follow-up look for a count of people; the topic keeps only what it is about."""
    standalone = resolve("总金额是多少？", HISTORY).standalone
    assert "多少名" not in standalone and standalone.count("多少") == 1


def test_a_follow_up_after_a_substitution_keeps_the_new_topic() -> None:
    history = [*HISTORY, {"role": "user", "content": "那上海呢？"}, {"role": "assistant", "content": "……"}]
    standalone = resolve("总金额是多少？", history).standalone
    assert "上海" in standalone and "重庆" not in standalone


# --------------------------------------------------------------------------- the earlier answer's documents


def test_cited_documents_travel_with_a_follow_up() -> None:
    history = [HISTORY[0], {**HISTORY[1], "citations": [{"doc": "a.txt", "n": 1}, "b.txt"]}]
    assert resolve("总金额是多少？", history).cited_docs == ("a.txt", "b.txt")
    assert resolve("数字化转型给银行业带来了哪些变化？", history).cited_docs == ()


def test_plain_history_finds_the_cited_documents_by_their_quoted_sentences(fake_rag: Rag) -> None:
    first = fake_rag.ask(GRANTS)
    assert first.citations
    plain = [{"role": "user", "content": GRANTS}, {"role": "assistant", "content": first.text}]
    assert fake_rag.resolve("总金额是多少？", plain).cited_docs == (first.citations[0].hit.chunk.doc_id,)
    assert answer_message(first)["citations"] == [c.hit.chunk.doc_id for c in first.citations]


def test_the_tie_breaker_prefers_the_cited_document_without_changing_scores(fake_rag: Rag) -> None:
    question = "数字化转型"
    plain = fake_rag.search(question, top_k=10)
    docs = {h.chunk.doc_id for h in plain}
    assert len(docs) == 2
    loser = plain[-1].chunk.doc_id
    big = Rag(fake_rag.settings.replace(follow_up_doc_bonus=1.0))
    preferred = search(big.index(), big.prepare(question), big.settings, 10, None, Filters(), frozenset([loser]))
    assert preferred[0].chunk.doc_id == loser
    before = {h.chunk.id: h.score for h in plain}
    assert all(h.score == before[h.chunk.id] for h in preferred if h.chunk.id in before)


# --------------------------------------------------------------------------- the LLM's rewrite


def test_a_rewrite_that_adds_a_name_or_number_is_refused() -> None:
    assert invented("重庆工行为贫困大学生发放的资助金总金额是多少？", "总金额是多少？", HISTORY) == []
    assert "上海" in invented("上海工行为贫困大学生发放的资助金总金额是多少？", "总金额是多少？", HISTORY)
    assert invented("重庆工行2021年发放的资助金总金额是多少？", "总金额是多少？", HISTORY)
    assert invented("How much did ICBC pay in total?", "How much in total?", [{"role": "user", "content": "How many students did ICBC fund?"}]) == []
    assert invented("How much did HSBC pay in 2019?", "How much in total?", [{"role": "user", "content": "How many students did ICBC fund?"}])


def test_with_the_llm_unreachable_the_offline_rewrite_stands(fake_settings: Callable[..., Settings], fake_seed_index_dir: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = fake_settings(fake_seed_index_dir, answer_mode="llm", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout_s=5)
    resolution = Rag(settings).resolve("总金额是多少？", HISTORY)
    assert resolution.standalone == resolve("总金额是多少？", HISTORY).standalone and not resolution.by_llm


def test_the_llm_rewrite_adds_nothing_the_conversation_did_not_say(
    llm_server: Settings, fake_settings: Callable[..., Settings], fake_seed_index_dir: Path
) -> None:
    """The real llama.cpp server: whatever the model writes, what is searched names nothing new."""
    settings = fake_settings(
        fake_seed_index_dir, answer_mode="llm", llm_base_url=llm_server.llm_base_url, llm_model=llm_server.llm_model, llm_timeout_s=120, llm_max_tokens=48
    )
    rag = Rag(settings)
    for question, history in (("总金额是多少？", HISTORY), ("那上海呢？", HISTORY), ("它们来自哪些区县？", HISTORY)):
        resolution = rag.resolve(question, history)
        assert resolution.used_history and resolution.standalone
        assert invented(resolution.standalone, question, history) == [] or not resolution.by_llm
        if not resolution.by_llm:
            assert resolution.standalone == resolve(question, history).standalone
