"""The segmented store: adds, replacements, deletes and merges keep search exact and cost what they change.

BM25 scores are compared with a bm25s index built from scratch over the live
chunks (the scores the product had before segments existed), dense results
with exact search over the live vectors; every step goes through the real
write path (``Rag`` with the fake embedder), a real FAISS index and SQLite on disk.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag import Rag, Settings, Shard
from rag.ingest.documents import Document, parse_bytes
from rag.store import EmbeddedStore, load_index, read_manifest
from rag.text.lexical import tokenize
from ui.cli import main

SettingsFactory = Callable[..., Settings]

TOPICS = ["普惠金融", "茶园管理", "數位轉型", "跨境支付", "绿色信贷", "乡村振兴", "API open banking", "養老金融"]
QUERIES = ["普惠金融服务覆盖了多少小微企业？", "茶园的年产量", "數位轉型的成效", "open banking API 接口", "绿色信贷 乡村振兴", "第3篇"]


def article(i: int, version: int = 0) -> Document:
    """A few paragraphs on two topics, in simplified, traditional or mixed script; ``version`` rewrites it."""
    first, second = TOPICS[i % len(TOPICS)], TOPICS[(i * 3 + 1) % len(TOPICS)]
    paragraphs = []
    for j in range(4):
        paragraphs += [
            f"第{i}篇报道（第{version}版）第{j}节介绍了{first}方面的新进展，涉及{i * 7 + j + version}家机构和{i + j + 3}个项目，各方对此评价积极。",
            f"据悉，{second}的试点已经覆盖{i * 11 + j * 5}个县，相关负责人表示将继续推进{first}与{second}的结合，并在年内完成第{j}阶段的评估工作。",
            f"{'修订后的内容强调风险管理。' if version else ''}業內人士認為，{first}的關鍵在於數據共享和流程再造，今年計劃新增{i * 13 + j}項服務。",
            f"Analysts said {second} and {first} would grow {i + j + version}% next year, according to the report.",
        ]
    body = "\n\n".join(paragraphs)
    return parse_bytes(f"报道{i}\n\n{body}\n".encode(), f"article-{i:02d}.txt", doc_id=f"article-{i:02d}.txt", source=f"/corpus/article-{i:02d}.txt")


@functools.cache
def _tokens(text: str) -> tuple[str, ...]:
    """Tokens of a chunk text, made once: the reference index is rebuilt for every check."""
    return tuple(tokenize(text))


def reference_bm25(store: EmbeddedStore, query: str) -> dict[str, float]:
    """chunk id → score from a bm25s index built from scratch over the live chunks (positive scores only)."""
    chunks = store.chunks()
    retriever = bm25s.BM25()
    retriever.index([list(_tokens(c.search_text)) or [""] for c in chunks], show_progress=False)
    ids = retriever.get_tokens_ids(tokenize(query))
    scores = np.asarray(retriever.get_scores_from_ids(ids), dtype=np.float32) if ids else np.zeros(len(chunks))
    return {c.id: float(s) for c, s in zip(chunks, scores, strict=True) if s > 0}


def assert_exact(store: EmbeddedStore) -> None:
    """BM25 equals a from-scratch build; dense equals exact search; nothing dead is served."""
    assert store.size == len(store.chunks()) == store.manifest.chunk_count
    live_ids = {c.id for c in store.chunks()}
    for query in QUERIES:
        found = {store.chunk(row).id: score for row, score in store.lexical(tokenize(query), store.size)}
        expected = reference_bm25(store, query)
        assert found.keys() == expected.keys(), query
        np.testing.assert_allclose([found[k] for k in expected], list(expected.values()), rtol=1e-6)
    vectors, chunks = store.vectors(), store.chunks()
    probe = vectors[len(vectors) // 2]
    exact = np.argsort(-(vectors @ probe), kind="stable")[:10]
    dense = store.dense(probe, 10)
    assert [store.chunk(row).id for row, _ in dense][:3] == [chunks[i].id for i in exact][:3]
    assert {store.chunk(row).id for row, _ in dense} <= live_ids
    np.testing.assert_allclose([s for _, s in dense], (vectors @ probe)[exact], rtol=1e-5)


def test_adds_replacements_and_deletes_keep_bm25_exact_then_compact(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    rag = Rag(fake_settings(tmp_path / "index", max_segments=50))
    rag.ingest_documents([article(i) for i in range(4)])
    rag.ingest_documents([article(4), article(5)])
    rag.ingest_documents([article(6)])
    assert len(read_manifest(rag.index_dir).segments) == 3
    assert_exact(load_index(rag.index_dir))

    report = rag.ingest_documents([article(2, version=1)])  # replaced: its old chunks stay on disk, dead
    assert report.updated == ("article-02.txt",) and report.embedded_chunks < report.chunks
    rag.delete(["article-05.txt"])
    store = load_index(rag.index_dir)
    assert sum(store.dead) > 0 and "article-05.txt" not in store.documents
    assert {c.doc_id for c in store.chunks()} == {f"article-{i:02d}.txt" for i in (0, 1, 2, 3, 4, 6)}
    assert "第1版" in store.documents["article-02.txt"].text
    assert all("第0版" not in c.text for c in store.chunks() if c.doc_id == "article-02.txt")
    assert_exact(store)

    summary = rag.compact()
    assert (summary.segments_before, summary.segments_after, summary.chunks) == (len(store.manifest.segments), 1, store.size)
    compacted = load_index(rag.index_dir)
    assert compacted.dead == [0] and [c.id for c in compacted.chunks()] == [c.id for c in store.chunks()]
    np.testing.assert_array_equal(compacted.vectors(), store.vectors())
    assert_exact(compacted)
    assert [p.name for p in rag.index_dir.iterdir() if p.name.startswith("seg-")] == list(compacted.manifest.segments)


def test_an_add_writes_one_segment_and_leaves_the_others_untouched(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    rag = Rag(fake_settings(tmp_path / "index"))
    rag.ingest_documents([article(i) for i in range(6)])
    before = read_manifest(rag.index_dir)
    stats = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in rag.index_dir.glob("seg-*/**/*") if p.is_file()}
    report = rag.ingest_documents([article(7)])
    after = read_manifest(rag.index_dir)
    assert after.segments[:-1] == before.segments and len(after.segments) == len(before.segments) + 1
    new = json.loads((rag.index_dir / after.segments[-1] / "segment.json").read_text())
    assert new["rows"] == report.embedded_chunks == after.documents["article-07.txt"]["chunks"]
    assert new["documents"] == ["article-07.txt"]
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in stats} == stats
    rag.delete(["article-01.txt"])
    assert read_manifest(rag.index_dir).segments == after.segments, "a delete writes only a manifest"
    assert rag.ask("第7篇报道介绍了什么？").citations


def test_too_many_segments_merge_the_smallest(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    rag = Rag(fake_settings(tmp_path / "index", max_segments=3))
    rag.ingest_documents([article(i) for i in range(5)])
    for i in range(5, 10):
        rag.ingest_documents([article(i)])
        assert len(read_manifest(rag.index_dir).segments) <= 3
    store = load_index(rag.index_dir)
    assert len(store.documents) == 10
    assert len(list(rag.index_dir.glob("seg-*"))) == len(store.manifest.segments), "merged segments are removed"
    assert_exact(store)


def test_the_faiss_index_is_chosen_by_segment_size(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    rag = Rag(fake_settings(tmp_path / "index", faiss_exact_max=8))
    rag.ingest_documents([article(i) for i in range(6)])  # more than 8 chunks: a graph index
    rag.ingest_documents([article(6)])  # a few chunks: exact
    factories = [json.loads((rag.index_dir / s / "segment.json").read_text())["faiss_factory"] for s in read_manifest(rag.index_dir).segments]
    assert factories == ["HNSW48,SQfp16", "Flat"]
    assert_exact(load_index(rag.index_dir))
    forced = Rag(fake_settings(tmp_path / "forced", faiss_factory="Flat", faiss_exact_max=1))
    forced.ingest_documents([article(i) for i in range(3)])
    segment = read_manifest(forced.index_dir).segments[0]
    assert json.loads((forced.index_dir / segment / "segment.json").read_text())["faiss_factory"] == "Flat"


def test_an_index_of_the_previous_format_is_rebuilt_from_its_documents(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    generation = index_dir / "gen-1"
    generation.mkdir(parents=True)
    documents = [article(1), article(2)]
    (generation / "documents.json").write_text(json.dumps([asdict(d) for d in documents], ensure_ascii=False), encoding="utf-8")
    manifest = {"model": "fake/char-ngrams", "dimension": 256, "chunker": {}, "faiss_factory": "Flat", "documents": {}, "version": 1}
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (index_dir / "CURRENT").write_text("gen-1")
    report = Rag(fake_settings(index_dir)).ingest_documents([article(3)])
    assert "index format 1" in report.rebuilt_because
    assert set(load_index(index_dir).documents) == {"article-01.txt", "article-02.txt", "article-03.txt"}


def test_compact_command(fake_settings: SettingsFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake/char-ngrams")
    rag = Rag(fake_settings(tmp_path / "index"))
    rag.ingest_documents([article(0)])
    rag.ingest_documents([article(1)])
    assert main(["--index-dir", str(tmp_path / "index"), "compact"]) == 0
    out, err = capsys.readouterr()
    assert "2 segments merged into 1" in out and "合并" in err
    assert len(read_manifest(tmp_path / "index").segments) == 1
    assert main(["--index-dir", str(tmp_path / "empty"), "compact"]) == 1
    assert "rag ingest" in capsys.readouterr().err


def test_shards_partition_the_inputs_exactly(
    fake_settings: SettingsFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", "fake/char-ngrams")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(12):
        (corpus / f"article-{i:02d}.txt").write_text(article(i).text, encoding="utf-8")
    shares = []
    for i in range(3):
        index_dir = tmp_path / f"shard-{i}"
        assert main(["--index-dir", str(index_dir), "ingest", str(corpus), "--shard", f"{i}/3"]) == 0
        shares.append(set(load_index(index_dir).documents) if (index_dir / "CURRENT").exists() else set())
        again = Rag(fake_settings(index_dir)).ingest([corpus], shard=Shard.parse(f"{i}/3"))
        assert not again.changed, "the same shard of the same inputs is the same share"
    assert sum(len(s) for s in shares) == 12 and set().union(*shares) == {f"article-{i:02d}.txt" for i in range(12)}
    assert all(len(s) >= 1 for s in shares), "12 ids should not all hash to one or two of 3 shards"
    capsys.readouterr()
    for bad in ("3/3", "x", "1/0"):
        assert main(["--index-dir", str(tmp_path / "bad"), "ingest", str(corpus), "--shard", bad]) == 1
        assert "i/n" in capsys.readouterr().err
