"""The conversation benchmark: follow-ups scored with and without the history and written out in full."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import FAKE_MODEL, ROOT
from rag import evaluate_path, format_report, load_settings
from rag.eval.conversation import is_conversation_file, load
from ui.cli import main

GRANTS = {
    "question": "重庆工行为多少名贫困大学生发放了资助金？",
    "standalone": "重庆工行为多少名贫困大学生发放了资助金？",
    "answer": ["8万"],
    "evidence": "超过8万名贫困大学生",
    "answerable": True,
}
TOTAL = {
    "question": "总金额是多少？",
    "standalone": "重庆工行发放的贫困大学生资助金总金额是多少？",
    "answer": ["10亿"],
    "evidence": "发放资助金共计10亿元",
    "answerable": True,
}
WAGES = {"question": "它们的年营业额是多少？", "standalone": "重庆工行社银合作网点的年营业额是多少？", "answer": [], "evidence": "", "answerable": False}


@pytest.fixture
def conversations(tmp_path: Path) -> Path:
    path = tmp_path / "talks.jsonl"
    rows = [{"id": "a", "source": "seeds", "turns": [GRANTS, TOTAL, WAGES]}, {"id": "b", "source": "seeds", "turns": [GRANTS, TOTAL]}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "talks_corpus.jsonl").write_text(
        json.dumps({"id": "extra.txt", "text": "青岚茶园位于云栖山南麓。"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def test_follow_ups_are_scored_four_ways_side_by_side(conversations: Path, tmp_path: Path) -> None:
    settings = load_settings(embed_model=FAKE_MODEL, index_dir=str(tmp_path / "unused"))
    report = evaluate_path(conversations, settings)
    ways = report["follow_ups"]
    assert set(ways) == {"with_history", "without_history", "full", "full_with_history"}
    assert report["conversations"] == 2 and ways["with_history"]["questions"] == 3 and ways["with_history"]["unanswerable"] == 1
    assert report["documents"] == 3  # the two seed articles and the corpus file's paragraph
    assert ways["with_history"]["rewritten"] >= 2 and ways["without_history"]["rewritten"] == 0
    assert ways["full"]["rewritten"] == 0
    assert ways["with_history"]["document"]["recall@1"] == 1.0
    table = format_report(report)
    assert "follow-up, with history" in table and "written out in full" in table and "| document R@1 |" in table


def test_the_cli_prints_the_table(conversations: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", FAKE_MODEL)
    assert main(["eval", str(conversations)]) == 0
    assert "| answer contains gold |" in capsys.readouterr().out


def test_the_shipped_conversation_set_is_big_enough_and_every_gold_is_in_its_corpus() -> None:
    path = ROOT / "eval" / "conversations.jsonl"
    assert is_conversation_file(path) and not is_conversation_file(ROOT / "eval" / "seed_qa.jsonl")
    _corpus, talks = load(path, load_settings(seeds_dir=str(ROOT / "seeds")))  # raises when a gold is in no document
    follow_ups = [t for c in talks for t in c.turns[1:]]
    assert len(talks) >= 40 and len(follow_ups) >= 80
    assert any(not t.item.answerable for t in follow_ups)
    assert {c.source for c in talks} >= {"seeds", "cmrc2018_trial", "DRCD_dev"}
    assert all(t.question != t.standalone for t in follow_ups)
