"""The ingest pipeline on the fake embedder: JSONL archives, the pipelined vs sequential path, resume after a kill.

The fake model makes vectors a pure function of the text, so "the pipeline
gives the same vectors as the sequential path" and "a rerun embeds only what
was missing" can be checked exactly and in seconds. The kill test runs a real
ingest in a subprocess (the fake encoder registered there, slowed down so
that it can be killed half way) and kills it with SIGKILL.
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from helpers import FAKE_MODEL, ROOT, SEEDS, CharNgramEncoder
from rag import DEFAULT_MODEL_ID, EmbedBackend, Rag, Settings, load_settings
from rag.embed.embedding import ONNX_INT8_TAG, Embedder, register_encoder, unregister_encoder
from rag.ingest.chunking import Chunk, ChunkerConfig, chunk_document
from rag.ingest.jsonl import read_jsonl
from rag.ingest.loading import load_documents
from rag.ingest.pipeline import CACHE_DIR, VectorCache, ahead, embed_documents
from rag.store import load_index

SettingsFactory = Callable[..., Settings]

ARTICLES = [
    {"id": "news-a", "text": "2023-08-16 17:34:48，正文：中国人民银行决定下调金融机构存款准备金率0.25个百分点。此次降准共计释放长期资金约5000亿元。"},
    {"id": "news-b", "text": "2023-08-17 09:00:00，正文：臺灣央行宣布維持利率不變。市場普遍預期下半年仍有升息空間。\n第二段：Apple 將在深圳設立新的研發中心。"},
    {"id": 42, "text": "2023-08-18 10:00:00，正文：The central bank raised rates by 25 basis points. 工商银行随后调整了贷款报价。"},
]


def _write(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.endswith(".xz"):
        data = lzma.compress(data)
    path.write_bytes(data)
    return path


def _archive_lines() -> list[str]:
    good = [json.dumps(a, ensure_ascii=False) for a in ARTICLES]
    return [good[0], '{"id": "broken", "text": "没有结束的', good[1], "", '{"id": "news-a", "text": "重复的编号。"}', '{"text": "没有编号。"}', good[2]]


@pytest.mark.parametrize("name", ["news.jsonl", "news.jsonl.gz", "news.jsonl.xz"])
def test_jsonl_archives_keep_every_good_line_and_report_each_bad_one(tmp_path: Path, name: str) -> None:
    archive = _write(tmp_path / name, _archive_lines())
    documents, errors = read_jsonl(archive)
    assert [d.id for d in documents] == ["news-a", "news-b", "42"]
    assert documents[1].text.count("\n\n") == 1  # one paragraph per line of the text
    assert documents[0].meta["source"] == str(archive.resolve()) and documents[0].meta["line"] == "1"
    reasons = sorted(e.reason.split(":")[0] for e in errors)
    assert reasons == ["line 2", "line 5", "line 6"]
    assert all(e.path == str(archive) for e in errors)  # --prune keeps this archive's documents
    assert "JSON" in next(e.reason for e in errors if e.reason.startswith("line 2"))


def test_rag_ingest_reads_an_archive_beside_a_folder(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    archive = _write(tmp_path / "news.jsonl.xz", _archive_lines())
    rag = Rag(fake_settings())
    report = rag.ingest([archive, SEEDS])
    assert {"news-a", "news-b", "42"} <= set(report.added) and len(report.errors) == 3
    assert rag.search("存款准备金率下调释放多少长期资金", top_k=1)[0].chunk.doc_id == "news-a"
    again = rag.ingest([archive, SEEDS], prune=True)  # the bad lines remove nothing
    assert not again.removed and not again.changed


def test_the_cli_ingests_an_archive_with_a_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from ui.cli import main

    monkeypatch.setenv("RAG_EMBED_MODEL", FAKE_MODEL)
    archive = _write(tmp_path / "news.jsonl.gz", _archive_lines())
    status = main(["--index-dir", str(tmp_path / "index"), "ingest", str(archive)])
    out, err = capsys.readouterr()
    assert status == 1  # some lines were skipped, and the exit status says so
    assert "3 added" in out and err.count(f"skipped: {archive}: line ") == 3
    assert "chunk/s" in err and "100%" in err  # the bar's rate, and it reached its exact total
    status = main(["--index-dir", str(tmp_path / "index"), "documents", "--json"])
    assert {d["doc"] for d in json.loads(capsys.readouterr().out)["documents"]} == {"news-a", "news-b", "42"}


def test_a_truncated_archive_keeps_the_lines_before_the_damage(tmp_path: Path) -> None:
    whole = lzma.compress(("\n".join(json.dumps(a, ensure_ascii=False) for a in ARTICLES) + "\n").encode())
    (tmp_path / "cut.jsonl.xz").write_bytes(whole[: len(whole) - 12])
    documents, errors = read_jsonl(tmp_path / "cut.jsonl.xz")
    assert len(errors) == 1 and "damaged" in errors[0].reason
    assert len(documents) <= len(ARTICLES)


def test_the_pipeline_gives_the_sequential_chunks_and_vectors(fake_settings: SettingsFactory) -> None:
    settings = fake_settings(ingest_window=7, ingest_queue=1, embed_batch_size=3)
    documents, _ = load_documents([SEEDS])
    config = ChunkerConfig.from_settings(settings)
    embedder = Embedder(settings)
    piped = embed_documents(documents, config, embedder, parallel=True)
    inline = embed_documents(documents, config, embedder, parallel=False)
    expected = [c for d in documents for c in chunk_document(d, config)]
    assert piped.chunks == inline.chunks == expected
    np.testing.assert_array_equal(piped.vectors, inline.vectors)
    np.testing.assert_array_equal(piped.vectors, embedder.embed_passages([c.search_text for c in expected]))
    assert piped.embedded == len(expected) and piped.cached == 0


def test_progress_ends_at_the_exact_chunk_count(fake_settings: SettingsFactory) -> None:
    settings = fake_settings(ingest_window=5)
    documents, _ = load_documents([SEEDS])
    calls: list[tuple[int, int]] = []
    result = embed_documents(documents, ChunkerConfig.from_settings(settings), Embedder(settings), progress=lambda d, t: calls.append((d, t)))
    assert calls[0][0] == 0 and calls[-1] == (len(result.chunks), len(result.chunks))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_chunker_error_reaches_the_caller() -> None:
    def failing() -> Iterator[list[Chunk]]:
        yield []
        raise ValueError("a document the chunker cannot read")

    stream = ahead(failing(), depth=1)
    assert next(stream) == []
    with pytest.raises(ValueError, match="cannot read"):
        next(stream)


def test_cached_vectors_are_not_embedded_again(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    counter = CharNgramEncoder()
    register_encoder("fake/counting", lambda _settings: counter)
    try:
        settings = fake_settings(embed_model="fake/counting", ingest_window=4)
        embedder = Embedder(settings)
        documents, _ = load_documents([SEEDS])
        config = ChunkerConfig.from_settings(settings)
        first = embed_documents(documents[:1], config, embedder, cache=VectorCache(tmp_path, embedder))
        before = counter.calls
        both = embed_documents(documents, config, embedder, cache=VectorCache(tmp_path, embedder))
        assert both.cached == len(first.chunks) and counter.calls - before == both.embedded == len(both.chunks) - len(first.chunks)
        np.testing.assert_allclose(both.vectors[: len(first.chunks)], first.vectors)
    finally:
        unregister_encoder("fake/counting")


def test_another_model_never_reads_the_cache(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    embedder = Embedder(fake_settings())
    VectorCache(tmp_path, embedder).put([VectorCache.key("一段文字")], np.ones((1, embedder.dimension), dtype=np.float32))
    other = Embedder(fake_settings(embed_model="fake/char-ngrams-v2"))
    assert len(VectorCache(tmp_path, other)) == 0 and len(VectorCache(tmp_path, embedder)) == 1


def test_a_finished_ingest_removes_its_cache(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    rag = Rag(fake_settings(ingest_window=4))
    rag.ingest([SEEDS])
    assert not (rag.index_dir / CACHE_DIR).exists()


_KILLABLE = """
import sys, time
sys.path.insert(0, {tests!r})
from helpers import CharNgramEncoder
from rag import Rag, load_settings
from rag.embed.embedding import register_encoder

class Slow(CharNgramEncoder):
    def encode(self, sentences, **options):
        time.sleep(0.05 * len(sentences))
        return super().encode(sentences, **options)

register_encoder("fake/slow", lambda settings: Slow())
Rag(load_settings(index_dir={index!r}, embed_model="fake/slow", ingest_window=4, embed_batch_size=2)).ingest([{seeds!r}])
"""


def test_an_ingest_killed_half_way_resumes_without_embedding_twice(tmp_path: Path) -> None:
    index = tmp_path / "index"
    script = _KILLABLE.format(tests=str(ROOT / "tests"), index=str(index), seeds=str(SEEDS))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    parts: list[Path] = []
    while time.monotonic() < deadline and len(parts) < 2 and process.poll() is None:
        time.sleep(0.02)
        parts = list((index / CACHE_DIR).glob("*/part-*.npz"))
    assert process.poll() is None, f"the ingest ended before it could be killed: {process.stderr.read().decode() if process.stderr else ''}"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (index / "CURRENT").exists()  # killed before any index was saved

    counter = CharNgramEncoder()
    register_encoder("fake/slow", lambda _settings: counter)
    try:
        rag = Rag(load_settings(index_dir=str(index), embed_model="fake/slow", ingest_window=4, embed_batch_size=2))
        cached = len(VectorCache(index, rag.embedder))
        report = rag.ingest([SEEDS])
    finally:
        unregister_encoder("fake/slow")
    assert cached >= 4 and report.embedded_chunks == report.chunks - cached == counter.calls
    reference = Rag(load_settings(index_dir=str(tmp_path / "reference"), embed_model=FAKE_MODEL))
    reference.ingest([SEEDS])
    assert [c.text for c in load_index(index).chunks()] == [c.text for c in load_index(reference.index_dir).chunks()]
    np.testing.assert_allclose(load_index(index).vectors(), load_index(reference.index_dir).vectors(), atol=1e-6)


# --------------------------------------------------------------------------- the encoder's fingerprint and settings


def test_the_int8_and_fp32_runtimes_have_different_fingerprints() -> None:
    onnx = Embedder(load_settings(embed_model=DEFAULT_MODEL_ID, embed_backend="auto", device="cpu"))
    torch = Embedder(load_settings(embed_model=DEFAULT_MODEL_ID, embed_backend="torch"))
    gpu = Embedder(load_settings(embed_model=DEFAULT_MODEL_ID, device="cuda"))
    assert onnx.backend == EmbedBackend.ONNX and torch.backend == gpu.backend == EmbedBackend.TORCH
    assert onnx.fingerprint == torch.fingerprint + ONNX_INT8_TAG and gpu.fingerprint == torch.fingerprint
    assert Embedder(load_settings(embed_model="BAAI/bge-small-zh-v1.5", embed_backend="onnx")).backend == EmbedBackend.TORCH
    assert Embedder(load_settings(embed_model=FAKE_MODEL)).fingerprint == FAKE_MODEL


def test_new_settings_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBED_BACKEND", "torch")
    monkeypatch.setenv("RAG_DEVICE", "cuda:1")
    monkeypatch.setenv("RAG_EMBED_THREADS", "3")
    monkeypatch.setenv("RAG_INGEST_WINDOW", "64")
    monkeypatch.setenv("RAG_INGEST_QUEUE", "2")
    settings = load_settings()
    assert (settings.embed_backend, settings.device, settings.embed_threads, settings.ingest_window, settings.ingest_queue) == (
        EmbedBackend.TORCH,
        "cuda:1",
        3,
        64,
        2,
    )
    assert Embedder(settings).threads == 3
    monkeypatch.setenv("RAG_EMBED_BACKEND", "tensorrt")
    with pytest.raises(ValueError, match="auto, onnx, torch"):
        load_settings()
    monkeypatch.delenv("RAG_EMBED_BACKEND")
    for name, bad in (("RAG_INGEST_WINDOW", "0"), ("RAG_EMBED_THREADS", "-1"), ("RAG_INGEST_QUEUE", "0"), ("RAG_DEVICE", " ")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValueError):
            load_settings()
        monkeypatch.delenv(name)


def test_an_archive_line_is_read_like_a_text_file_its_leading_time_a_date(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "dated", "text": "2023-08-16 17:34:48，正文：央行宣布下调存款准备金率0.25个百分点，释放长期资金约5000亿元。"}, ensure_ascii=False),
        json.dumps({"id": "short", "text": "08/16  13:50，正文：新华社北京8月16日电，国家统计局发布7月份国民经济运行数据。"}, ensure_ascii=False),
    ]
    archive = _write(tmp_path / "dated.jsonl", lines)
    documents, errors = read_jsonl(archive)
    assert not errors
    dated, short = documents
    assert dated.meta["published"].startswith("2023-08-16") and dated.text.startswith("央行宣布")
    assert "正文" not in short.text and "08-16" in short.meta.get("published", "")  # the year comes from the collection
    text_file = tmp_path / "dated.txt"
    text_file.write_text(json.loads(lines[0])["text"], encoding="utf-8")
    as_file = load_documents([text_file])[0][0]
    assert (as_file.text, as_file.meta["published"]) == (dated.text, dated.meta["published"])
    assert dated.meta["format"] == "jsonl" and dated.meta["line"] == "1"
