"""Indexes written in the single-generation format (one folder: FAISS, ``chunks.jsonl``,
``documents.json``, bm25s, manifest) become segments, their vectors reused.

The vectors were computed by the model the old manifest names, so they are kept
as they are; only the BM25 postings are rebuilt (tokenising is cheap next to
embedding), and stories and completed years are worked out afresh by the
segment store's rules. The new generation is published like any other write:
until its pointer flips, the old one keeps serving.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorrupt
from ..ingest.documents import Document
from ..text.dates import is_partial
from .manifest import Manifest, current_generation
from .records import chunk_from, document_from
from .writer import StoreConfig, commit

LEGACY_MARKER = "chunks.jsonl"
LEGACY_VERSION = 1


def is_legacy(index_dir: Path) -> bool:
    """Whether the current generation is in the single-generation format."""
    try:
        folder = current_generation(index_dir)
    except (OSError, RuntimeError):
        return False
    return (folder / LEGACY_MARKER).is_file()


def as_read(document: Document) -> Document:
    """The document as parsing gave it: the old store's story and completed year taken off again."""
    meta = {k: v for k, v in document.meta.items() if k not in ("story", "published_year")}
    published = str(meta.get("published", ""))
    if document.meta.get("published_year") == "collection" and published and not is_partial(published):
        meta["published"] = "-" + published[4:]  # "2023-08-16T13:50" read as "--08-16T13:50"
    return dataclasses.replace(document, meta=meta)


def upgrade(index_dir: Path, config: StoreConfig, say: Callable[[str], None] | None = None) -> Manifest:
    """Convert the current single-generation index into one segment, without embedding anything."""
    folder = current_generation(index_dir)
    try:
        return _upgrade(index_dir, folder, config, say or _stderr)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"cannot upgrade the index in {folder}: {exc}; run `rag ingest` to rebuild it") from exc


def _upgrade(index_dir: Path, folder: Path, config: StoreConfig, say: Callable[[str], None]) -> Manifest:
    old: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    documents = [as_read(document_from(d)) for d in json.loads((folder / "documents.json").read_text(encoding="utf-8"))]
    say(
        f"Upgrading the index in {index_dir} to segments: {len(documents)} documents, their vectors reused (nothing is embedded again) "
        "/ 正在把索引升级为分段格式，复用已有向量"
    )
    with open(folder / LEGACY_MARKER, encoding="utf-8") as handle:
        chunks = [chunk_from(json.loads(line)) for line in handle]
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    if vectors.shape[0] != len(chunks):
        raise ValueError(f"{folder} has {vectors.shape[0]} vectors for {len(chunks)} chunks")
    identity = Manifest(model=old["model"], dimension=int(old["dimension"]), chunker=old["chunker"], faiss_factory=config.faiss_factory)
    return commit(index_dir, config, identity, None, documents, chunks, np.asarray(vectors, dtype=np.float32))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


__all__ = ["as_read", "is_legacy", "upgrade"]
