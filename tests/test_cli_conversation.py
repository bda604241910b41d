"""Conversations on the command line: ``ask --history``, history in ``--batch`` lines, and ``rag chat``.

In process with the fake embedder (quick tier); test_conversation_e2e.py runs the
real command with the real model.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from helpers import run_main

GRANTS = "重庆工行为多少名贫困大学生发放了资助金？"
TOTAL = "总金额是多少？"
HISTORY = [{"role": "user", "content": GRANTS}, {"role": "assistant", "content": "累计为重庆市超过8万名贫困大学生发放资助金共计10亿元。[1]"}]


pytestmark = pytest.mark.usefixtures("fake_model_env")


def test_ask_with_a_history_file_records_the_standalone_question(fake_seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps(HISTORY, ensure_ascii=False), encoding="utf-8")
    status, out, _err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "ask", TOTAL, "--history", str(history), "--json")
    data = json.loads(out)
    assert status == 0 and data["history_used"] and data["question"] == TOTAL
    assert "资助金" in data["standalone_question"] and data["standalone_question"] != TOTAL
    status, out, _err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "ask", TOTAL, "--json")
    assert not json.loads(out)["history_used"]


def test_search_with_history_searches_the_standalone_question(fake_seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps(HISTORY, ensure_ascii=False), encoding="utf-8")
    _status, out, _err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "search", TOTAL, "--history", str(history), "--json")
    data = json.loads(out)
    assert "资助金" in data["standalone_question"] and "资助金" in data["hits"][0]["text"]


def test_batch_lines_may_carry_their_history(fake_seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "q.jsonl"
    lines = [{"question": TOTAL, "history": HISTORY}, {"question": TOTAL}]
    batch.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    status, out, _err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "ask", "--batch", str(batch))
    first, second = (json.loads(line) for line in out.splitlines())
    assert status == 0 and first["history_used"] and not second["history_used"]


@pytest.mark.parametrize("content", ['{"role": "user"}', "[1, 2]", '[{"role": "robot", "content": "x"}]', "not json"])
def test_a_bad_history_is_a_message(fake_seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    history = tmp_path / "history.json"
    history.write_text(content, encoding="utf-8")
    status, out, err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "ask", TOTAL, "--history", str(history))
    assert status == 1 and not out and ("history" in err.lower() or "历史" in err)
    assert "Traceback" not in err


def test_chat_keeps_the_history_and_starts_over(fake_seed_index_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{GRANTS}\n{TOTAL}\n/sources\n/new\n{TOTAL}\n"))
    status, out, _err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "chat")
    assert status == 0
    before_new, after_new = out.split("新对话")
    assert before_new.count("理解为：") == 1 and "资助金" in before_new.split("理解为：")[1].splitlines()[0]
    assert "¶" in before_new.split("理解为：")[1]  # /sources printed the citations
    assert "理解为" not in after_new


def test_chat_ends_cleanly_on_ctrl_c(fake_seed_index_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(_prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupted)
    status, _out, err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "chat")
    assert status == 0 and "Traceback" not in err
