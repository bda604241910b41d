"""The pieces of a write that hold no lock and no state: which indexed documents are gone, whether the
index can be extended, what is already indexed, and the chunks and vectors to add. ``rag.api.Rag`` runs a
write under its locks and calls these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .embed.embedding import Embedder
from .errors import IndexCorrupt, IngestError
from .ingest.chunking import Chunk, ChunkerConfig
from .ingest.documents import Document
from .ingest.pipeline import VectorCache, embed_documents
from .ingest.plan import Plan
from .settings import Settings
from .store import Backend, Manifest

#: progress(stage, done, total); stage is "embed" while vectors are computed.
Progress = Callable[[str, int, int], None]


def gone(indexed: Mapping[str, Mapping[str, Any]], documents: list[Document], errors: list[IngestError]) -> list[str]:
    """Indexed documents not among this run's files (a file that failed to parse keeps its old version)."""
    present = {d.id for d in documents} | {Path(e.path).name for e in errors}
    failed_sources = {str(Path(e.path).resolve()) for e in errors}
    return [doc_id for doc_id, e in indexed.items() if doc_id not in present and e.get("source", "") not in failed_sources]


def compatible(backend: Backend, fingerprint: str, chunker: ChunkerConfig) -> tuple[Manifest | None, str]:
    """The current manifest if the index can be extended, else (manifest or None, why it must be rebuilt)."""
    try:
        old = backend.manifest()
    except Exception as exc:  # a damaged index is rebuilt, never served
        return None, f"the existing index could not be read ({exc})"
    return old, old.mismatch(fingerprint, chunker.as_dict(), backend.analyzer)


def existing(backend: Backend, old: Manifest | None, reason: str) -> dict[str, Document | str]:
    """Indexed documents by id: their sha256, or the whole document when all must be re-embedded."""
    if old is None:
        return {}
    if reason:
        try:
            return dict(backend.documents(old))
        except (IndexCorrupt, OSError, KeyError, ValueError):  # unreadable: rebuilt from what this ingest brings
            return {}
    return {doc_id: str(item["sha256"]) for doc_id, item in old.documents.items()}


def dimension(old: Manifest | None, plan: Plan, embedder: Embedder) -> int:
    """The vector size, without loading the model when nothing is embedded (a delete)."""
    if old is not None and not plan.embed:
        return old.dimension
    return embedder.dimension


def assemble(
    plan: Plan, progress: Progress | None, old: Manifest | None, chunker: ChunkerConfig, embedder: Embedder, cache: Callable[[], VectorCache]
) -> tuple[list[Chunk], np.ndarray, int]:
    """Chunks and vectors of the documents to (re-)embed, and how many were embedded now; kept documents stay where they are."""
    if not plan.embed:
        return [], np.zeros((0, dimension(old, plan, embedder)), dtype=np.float32), 0
    report = (lambda done, total: progress("embed", done, total)) if progress else None
    fresh = embed_documents([plan.embed[d] for d in sorted(plan.embed)], chunker, embedder, cache=cache(), progress=report)
    return fresh.chunks, np.asarray(fresh.vectors, dtype=np.float32), fresh.embedded


def identity(fingerprint: str, dimension: int, chunker: ChunkerConfig, settings: Settings) -> Manifest:
    """What the index is built with; the store fills in its documents and segments."""
    return Manifest(model=fingerprint, dimension=dimension, chunker=chunker.as_dict(), faiss_factory=settings.faiss_factory)
