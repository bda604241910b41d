"""Follow-up questions read in their conversation (rag.conversation), and the answer recording what was searched."""

from __future__ import annotations

from rag import Rag
from rag.conversation import is_follow_up, resolve

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
