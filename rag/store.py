"""The index on disk: FAISS vectors, chunk records, documents, BM25 and a manifest.

Each write produces a complete new *generation* folder (written to a temporary
name, fsynced, renamed) and then flips the one-line ``CURRENT`` pointer the same
way. A crash or Ctrl-C at any moment leaves the previous generation in force,
so readers never see half an index and never serve vectors from another model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .atomic import fsync_dir, fsync_tree, write_atomic
from .chunking import Chunk
from .documents import Document, Paragraph
from .lexical import LexicalIndex

FORMAT_VERSION = 1
POINTER = "CURRENT"
_GENERATION_PREFIX = "gen-"


class IndexMissing(FileNotFoundError):
    """No index has been built in this folder yet."""


class IndexCorrupt(RuntimeError):
    """The index folder exists but cannot be read; rebuilding it fixes this."""


class IndexMismatch(IndexCorrupt):
    """The index was built with another embedding model: its vectors cannot be searched with this one."""


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    chunker: Mapping[str, int]
    faiss_factory: str
    documents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    version: int = FORMAT_VERSION
    created: float = field(default_factory=time.time)

    def mismatch(self, model: str, chunker: Mapping[str, int]) -> str:
        """Why an index built with this manifest cannot serve these settings ('' when it can)."""
        if self.version != FORMAT_VERSION:
            return f"index format {self.version} differs from {FORMAT_VERSION}"
        if self.model != model:
            return f"embedding model changed from {self.model} to {model}"
        if dict(self.chunker) != dict(chunker):
            return f"chunker settings changed from {dict(self.chunker)} to {dict(chunker)}"
        return ""


@dataclass
class Index:
    """A loaded generation: everything retrieval and answering need, in row order."""

    manifest: Manifest
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss_index: Any
    lexical: LexicalIndex

    # What questions ask of every document, worked out once per loaded generation instead of per question.

    @cached_property
    def newest_published(self) -> str:
        """The newest publication date of its documents ("" when none is dated): what 最近 and 今年 count from."""
        days = (doc.meta.get("published", "") for doc in self.documents.values())
        return max((day for day in days if day and not day.startswith("--")), default="")

    @cached_property
    def story_members(self) -> dict[str, list[str]]:
        """Story id → the documents grouped into it at ingest (rag.stories); ungrouped documents are left out."""
        members: dict[str, list[str]] = {}
        for doc_id, doc in self.documents.items():
            if doc.meta.get("story"):
                members.setdefault(doc.meta["story"], []).append(doc_id)
        return members


def build_index(
    manifest: Manifest, documents: dict[str, Document], chunks: list[Chunk], vectors: np.ndarray
) -> Index:
    """Assemble in-memory search structures from chunk records and their vectors."""
    faiss_index = faiss.index_factory(manifest.dimension, manifest.faiss_factory, faiss.METRIC_INNER_PRODUCT)
    if vectors.shape[0]:
        if not faiss_index.is_trained:
            faiss_index.train(vectors)
        faiss_index.add(vectors)
    lexical = LexicalIndex.build([c.search_text for c in chunks])
    return Index(manifest, documents, chunks, vectors, faiss_index, lexical)


# --------------------------------------------------------------------------- writing


def save_index(index: Index, index_dir: Path) -> Path:
    """Write ``index`` as a new generation and make it current; older generations are removed."""
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=index_dir))
    try:
        _write_generation(index, staging)
        fsync_tree(staging)
        name = f"{_GENERATION_PREFIX}{time.time_ns()}"
        os.replace(staging, index_dir / name)
        fsync_dir(index_dir)
        write_atomic(index_dir / POINTER, name.encode())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_stale(index_dir, keep=name)
    return index_dir / name


def _write_generation(index: Index, folder: Path) -> None:
    faiss.write_index(index.faiss_index, str(folder / "vectors.faiss"))
    np.save(folder / "vectors.npy", index.vectors)
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as handle:
        for chunk in index.chunks:
            handle.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
    docs = [asdict(d) for d in index.documents.values()]
    (folder / "documents.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    index.lexical.save(folder / "bm25")
    (folder / "manifest.json").write_text(
        json.dumps(asdict(index.manifest), ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _remove_stale(index_dir: Path, keep: str) -> None:
    for path in index_dir.iterdir():
        stale_generation = path.name.startswith(_GENERATION_PREFIX) and path.name != keep
        if path.is_dir() and (stale_generation or path.name.startswith(".staging-")):
            shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- reading


def current_generation(index_dir: Path) -> Path:
    pointer = index_dir / POINTER
    if not pointer.exists():
        raise IndexMissing(f"no index in {index_dir}: run `rag ingest` first / 尚未建立索引")
    folder = index_dir / pointer.read_text().strip()
    if not (folder / "manifest.json").exists():
        raise IndexCorrupt(f"{pointer} points at a missing generation {folder.name}; run `rag ingest` to rebuild")
    return folder


def read_manifest(index_dir: Path) -> Manifest:
    data = json.loads((current_generation(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    return Manifest(**data)


def load_index(index_dir: Path) -> Index:
    folder = current_generation(index_dir)
    try:
        manifest = Manifest(**json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
        chunks = [Chunk(**_tuples(json.loads(line))) for line in (folder / "chunks.jsonl").open(encoding="utf-8")]
        documents = {d.id: d for d in map(_document, json.loads((folder / "documents.json").read_text(encoding="utf-8")))}
        vectors = np.load(folder / "vectors.npy")
        faiss_index = faiss.read_index(str(folder / "vectors.faiss"))
        lexical = LexicalIndex.load(folder / "bm25", len(chunks))
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexCorrupt(f"cannot read the index in {folder}: {exc}; run `rag ingest` to rebuild") from exc
    if faiss_index.ntotal != len(chunks) or vectors.shape[0] != len(chunks):
        raise IndexCorrupt(f"index in {folder} has {faiss_index.ntotal} vectors for {len(chunks)} chunks; rebuild it")
    return Index(manifest, documents, chunks, vectors, faiss_index, lexical)


def _tuples(record: dict[str, Any]) -> dict[str, Any]:
    record["quotable"] = tuple(tuple(span) for span in record["quotable"])
    return record


def _document(record: dict[str, Any]) -> Document:
    record["paragraphs"] = tuple(Paragraph(**p) for p in record["paragraphs"])
    return Document(**record)
