"""Ingest → search → ask over the seed articles, through the Python API and the real CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import SEEDS, run_cli
from rag import QuestionError, Rag, load_settings
from rag.store import load_index

API_QUESTION = "工行推出了多少项普惠金融API开放服务？"
GOV_ARTICLE = "004_70d2e4c279f60003.txt"
INTERVIEW = "000_a14ba3e1848048d8.txt"


def _assert_answer_is_grounded(answer) -> None:
    assert not answer.refused
    for citation in answer.citations:
        for quote, _span in zip(citation.quotes, citation.spans, strict=True):
            assert quote in citation.hit.chunk.text
            assert quote in answer.text
            assert f"{quote}[{citation.n}]" in answer.text


@pytest.mark.parametrize(
    "question,doc,fact",
    [
        (API_QUESTION, GOV_ARTICLE, "109"),
        ("工行的个人手机银行客户有多少户？", GOV_ARTICLE, "3.85亿"),
        ("重庆工行累计为多少贫困大学生发放了资助金？", INTERVIEW, "8万"),
        ("工行个人客户总量达到了多少户？", GOV_ARTICLE, "6.64亿"),
    ],
)
def test_api_answers_with_the_fact_and_cites_the_right_article(seed_rag: Rag, question: str, doc: str, fact: str) -> None:
    answer = seed_rag.ask(question)
    _assert_answer_is_grounded(answer)
    assert answer.citations[0].hit.chunk.doc_id == doc
    assert fact in answer.text
    assert "[1]" in answer.text


def test_search_ranks_the_right_article_first_and_reports_both_channels(seed_rag: Rag) -> None:
    hits = seed_rag.search(API_QUESTION, top_k=5)
    assert hits[0].chunk.doc_id == GOV_ARTICLE
    assert "109" in hits[0].chunk.text
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert hits[0].bm25_rank is not None and hits[0].dense_rank is not None
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))


def test_traditional_script_question_finds_simplified_text(seed_rag: Rag) -> None:
    hits = seed_rag.search("工行推出了多少項普惠金融API開放服務？", top_k=3)
    assert "109" in hits[0].chunk.text


def test_off_topic_question_is_refused_with_related_reading(seed_rag: Rag) -> None:
    answer = seed_rag.ask("量子色动力学中的渐近自由是谁发现的？")
    assert answer.refused
    assert "没有找到" in answer.text
    assert answer.citations == () and answer.related


def test_english_refusal_is_in_english(seed_rag: Rag) -> None:
    answer = seed_rag.ask("Who won the football world cup in 1998?")
    assert answer.refused
    assert answer.text.startswith("The documents do not contain")


@pytest.mark.parametrize("question", ["", "   ", "问" * 10_000])
def test_bad_questions_give_a_message(seed_rag: Rag, question: str) -> None:
    with pytest.raises(QuestionError) as raised:
        seed_rag.ask(question)
    assert str(raised.value)


# --------------------------------------------------------------------------- CLI


def test_cli_ask_json_follows_the_contract(seed_index_dir: Path) -> None:
    result = run_cli("ask", API_QUESTION, "--json", index_dir=seed_index_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "refused", "citations"}
    assert data["refused"] is False and "109" in data["answer"] and "[1]" in data["answer"]
    first = data["citations"][0]
    assert set(first) >= {"n", "doc", "title", "paragraph", "text", "quote", "score"}
    assert first["n"] == 1 and first["doc"] == GOV_ARTICLE
    assert first["quote"] in first["text"] and "109" in first["quote"]


def test_cli_search_json_follows_the_contract(seed_index_dir: Path) -> None:
    result = run_cli("search", API_QUESTION, "--json", "--top-k", "3", index_dir=seed_index_dir)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == API_QUESTION and len(data["hits"]) == 3
    for key in ("rank", "doc", "title", "paragraph", "text", "score", "dense_rank", "bm25_rank"):
        assert key in data["hits"][0]
    assert data["hits"][0]["doc"] == GOV_ARTICLE


def test_cli_batch_answers_each_line_as_json(seed_index_dir: Path, tmp_path: Path) -> None:
    batch = tmp_path / "questions.jsonl"
    batch.write_text(f'{{"question": "{API_QUESTION}"}}\n今天天气好吗？\n\n', encoding="utf-8")
    result = run_cli("ask", "--batch", str(batch), index_dir=seed_index_dir)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [API_QUESTION, "今天天气好吗？"]
    assert "109" in lines[0]["answer"]


def test_cli_bad_input_gives_messages_not_tracebacks(seed_index_dir: Path, tmp_path: Path) -> None:
    for args in (["ask", ""], ["ask", "问" * 10_000], ["search", "   "]):
        result = run_cli(*args, index_dir=seed_index_dir)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr and result.stderr.startswith("error:")
    missing = run_cli("ask", API_QUESTION, index_dir=tmp_path / "no-index")
    assert missing.returncode == 1 and "rag ingest" in missing.stderr and "Traceback" not in missing.stderr


def test_cli_ingest_reports_bad_files_and_keeps_the_index(fresh_index: Path, tmp_path: Path) -> None:
    before = load_index(fresh_index)
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "notes.xyz").write_text("不支持", encoding="utf-8")
    (folder / "legacy.txt").write_bytes("老系统导出的文件\n\n本文件使用GBK编码保存，记录了星河茶园的年产量为一百二十吨。".encode("gbk"))
    result = run_cli("ingest", str(folder), str(folder / "notes.xyz"), index_dir=fresh_index)
    assert result.returncode == 1  # some files were skipped
    assert "Traceback" not in result.stderr
    assert "empty.txt" in result.stderr and "binary.txt" in result.stderr and "notes.xyz" in result.stderr
    after = load_index(fresh_index)
    assert set(after.documents) == set(before.documents) | {"legacy.txt"}
    assert "一百二十吨" in after.documents["legacy.txt"].text


def test_incremental_ingest_re_embeds_only_the_changed_file(fresh_index: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    rag = Rag(load_settings(index_dir=str(fresh_index)))
    first = rag.ingest([corpus])  # same ids and bytes as the seed index: nothing to embed
    assert first.embedded_chunks == 0 and len(first.unchanged) == 2
    changed = corpus / GOV_ARTICLE
    changed.write_text(changed.read_text(encoding="utf-8") + "\n星河茶园今年新增了三百亩有机茶园。\n", encoding="utf-8")
    report = rag.ingest([corpus])
    assert report.updated == (GOV_ARTICLE,) and report.unchanged == (INTERVIEW,)
    doc_chunks = [c for c in load_index(fresh_index).chunks() if c.doc_id == GOV_ARTICLE]
    assert 0 < report.embedded_chunks == len(doc_chunks)
    assert "三百亩" in rag.ask("星河茶园今年新增了多少亩有机茶园？").text


def test_prune_drops_removed_files_only_when_asked(fresh_index: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / INTERVIEW).unlink()
    rag = Rag(load_settings(index_dir=str(fresh_index)))
    assert rag.ingest([corpus]).removed == ()
    assert {d.id for d in rag.documents()} == {GOV_ARTICLE, INTERVIEW}
    assert rag.ingest([corpus], prune=True).removed == (INTERVIEW,)
    assert {d.id for d in rag.documents()} == {GOV_ARTICLE}


def test_changed_chunker_settings_rebuild_with_a_reason(fresh_index: Path) -> None:
    result = run_cli("ingest", str(SEEDS), index_dir=fresh_index, env={"RAG_CHUNK_MAX_CHARS": "300"})
    assert result.returncode == 0, result.stderr
    assert "rebuilt the whole index" in result.stderr and "chunker settings changed" in result.stderr
    assert load_index(fresh_index).manifest.chunker["max_chars"] == 300
