"""The CLI's contract, run in this process: ``main(argv)`` with the fake embedder, output read by capsys.

The subprocess tests in test_pipeline.py check the real command end to end
with the real model; these check the same JSON shapes, exit statuses and
messages in milliseconds. ``RAG_EMBED_MODEL`` picks the encoder that
conftest.py registered, exactly as a user's environment would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import SEEDS, run_main

API_QUESTION = "工行推出了多少项普惠金融API开放服务？"
GOV_ARTICLE = "004_70d2e4c279f60003.txt"


pytestmark = pytest.mark.usefixtures("fake_model_env")


def test_ask_json_follows_the_contract(fake_seed_index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "ask", API_QUESTION, "--json")
    assert status == 0, err
    data = json.loads(out)
    assert set(data) >= {"question", "answer", "refused", "citations", "related", "language"}
    assert data["question"] == API_QUESTION
    assert data["refused"] is False and "109" in data["answer"] and "[1]" in data["answer"]
    first = data["citations"][0]
    assert set(first) >= {"n", "doc", "title", "paragraph", "text", "quote", "score"}
    assert first["n"] == 1 and first["doc"] == GOV_ARTICLE and first["paragraph"] >= 1
    assert first["quote"] in first["text"] and first["quote"] in data["answer"]


def test_search_json_follows_the_contract(fake_seed_index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "search", API_QUESTION, "--json", "--top-k", "3")
    assert status == 0, err
    data = json.loads(out)
    assert data["question"] == API_QUESTION and len(data["hits"]) == 3
    assert [hit["rank"] for hit in data["hits"]] == [1, 2, 3]
    for key in ("rank", "doc", "title", "paragraph", "text", "score", "dense_rank", "bm25_rank"):
        assert key in data["hits"][0]
    assert data["hits"][0]["doc"] == GOV_ARTICLE


def test_batch_prints_one_json_object_per_question(fake_seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "questions.jsonl"
    batch.write_text(f'{{"question": "{API_QUESTION}"}}\n\n   \n问{"问" * 600}\n', encoding="utf-8")
    status, out, _err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), "ask", "--batch", str(batch))
    assert status == 1  # one question was too long
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    assert "109" in lines[0]["answer"]
    assert "error" in lines[1]


def test_bad_input_gives_messages_not_tracebacks(fake_seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["ask", ""], ["ask", "问" * 10_000], ["search", "   "]):
        status, _out, err = run_main(capsys, "--index-dir", str(fake_seed_index_dir), *args)
        assert status == 1 and err.startswith("error:") and "Traceback" not in err
    status, _out, err = run_main(capsys, "--index-dir", str(tmp_path / "no-index"), "ask", API_QUESTION)
    assert status == 1 and "rag ingest" in err


def test_ingest_documents_and_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index_dir = str(tmp_path / "index")
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    status, out, err = run_main(capsys, "--index-dir", index_dir, "ingest", str(corpus))
    assert status == 0, err
    assert out.startswith("2 added, 0 updated, 0 unchanged, 0 removed;")

    status, out, _err = run_main(capsys, "--index-dir", index_dir, "documents", "--json")
    assert status == 0
    assert {d["doc"] for d in json.loads(out)["documents"]} == {GOV_ARTICLE, "000_a14ba3e1848048d8.txt"}

    status, out, _err = run_main(capsys, "--index-dir", index_dir, "delete", GOV_ARTICLE)
    assert status == 0 and "1 removed" in out
    status, _out, err = run_main(capsys, "--index-dir", index_dir, "delete", GOV_ARTICLE)
    assert status == 1 and "not in the index" in err


def test_changed_chunker_settings_rebuild_and_say_why(fake_fresh_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_CHUNK_MAX_CHARS", "300")
    status, out, err = run_main(capsys, "--index-dir", str(fake_fresh_index), "ingest", str(SEEDS))
    assert status == 0, err
    assert "rebuilt the whole index" in err and "chunker settings changed" in err
    assert "0 added, 0 updated, 2 unchanged" in out


def test_missing_paths_are_skipped_with_a_message(fake_fresh_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run_main(capsys, "--index-dir", str(fake_fresh_index), "ingest", str(tmp_path / "absent"))
    assert status == 1 and "no such file" in err and "nothing to ingest" in err
