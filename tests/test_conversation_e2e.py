"""A two-turn conversation end to end with the real model over the seed articles: the library and `rag chat`.

总金额是多少？ alone is refused; after 重庆工行为多少名贫困大学生发放了资助金？ it is
answered from the same paragraph (10亿元, cited as [1]).
"""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli
from rag import Rag, answer_message

GRANTS = "重庆工行为多少名贫困大学生发放了资助金？"
TOTAL = "总金额是多少？"


def test_the_library_answers_a_follow_up_from_the_history(seed_rag: Rag) -> None:
    first = seed_rag.ask(GRANTS)
    assert not first.refused and first.citations
    follow_up = seed_rag.ask(TOTAL, history=[{"role": "user", "content": GRANTS}, answer_message(first)])
    assert follow_up.history_used and "10亿元" in follow_up.text and "[1]" in follow_up.text
    assert follow_up.citations[0].hit.chunk.doc_id == first.citations[0].hit.chunk.doc_id
    plain = [{"role": "user", "content": GRANTS}, {"role": "assistant", "content": first.text}]  # OpenAI's plain messages
    assert "10亿元" in seed_rag.ask(TOTAL, history=plain).text
    assert seed_rag.ask(TOTAL).refused or "10亿元" not in seed_rag.ask(TOTAL).text


def test_rag_chat_answers_a_follow_up_from_the_conversation(seed_index_dir: Path) -> None:
    """The done-when check in the terminal: the real command, the real model, questions on stdin."""
    result = run_cli("chat", index_dir=seed_index_dir, stdin=f"{GRANTS}\n{TOTAL}\n/sources\n", env={"RAG_EMBED_MODEL": ""})
    assert result.returncode == 0, result.stderr
    follow_up = result.stdout.split("理解为：")[1]
    answer = follow_up.split("Sources / 出处:")[0]  # the answer's text, before its sources
    assert "资助金" in follow_up.splitlines()[0] and "10亿元" in answer and "[1]" in answer
    assert "Traceback" not in result.stderr
