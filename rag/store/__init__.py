"""The index: documents' chunks, vectors and BM25 postings behind one ``Store`` interface.

The embedded store keeps immutable segments listed by a manifest generation
(rag.store.manifest, rag.store.segment), writes a segment per change and
merges them (rag.store.writer), and searches them as one (rag.store.embedded);
stories and dates are decided per write (rag.store.catalog); an index of the
single-generation format is converted on first use (rag.store.upgrade).
Retrieval and the API see only rag.store.base.Store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorrupt, IndexMismatch, IndexMissing
from ..ingest.chunking import Chunk
from ..ingest.documents import Document
from ..settings import Settings, StoreKind
from .base import DateRange, Ranked, Store
from .embedded import EmbeddedStore, stored_documents
from .manifest import POINTER, PRODUCT_TERMS, Manifest, current_generation, read_manifest
from .segment import check_segment
from .upgrade import is_legacy, upgrade
from .writer import StoreConfig, commit, compact


class EmbeddedBackend:
    """The embedded store's reads and writes for one index folder (the Milvus backend has the same methods)."""

    analyzer = PRODUCT_TERMS

    def __init__(self, index_dir: Path, settings: Settings) -> None:
        self.index_dir, self.settings = index_dir, settings

    def generation(self) -> str:
        try:
            return (self.index_dir / POINTER).read_text().strip()
        except OSError:
            return ""

    def manifest(self) -> Manifest:
        return check_index(self.index_dir)

    def open(self, previous: Store | None) -> Store:
        return open_store(self.index_dir, self.settings, previous)

    def documents(self, manifest: Manifest) -> dict[str, Document]:
        return stored_documents(self.index_dir, manifest, self.settings.faiss_ef_search)

    def commit(
        self,
        identity: Manifest,
        previous: Manifest | None,
        fresh: Sequence[Document],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        removed: Sequence[str] = (),
        sources: Mapping[str, str] | None = None,
    ) -> Manifest:
        config = StoreConfig.from_settings(self.settings)
        return commit(self.index_dir, config, identity, previous, fresh, chunks, vectors, removed, sources)

    def compact(self, manifest: Manifest) -> Manifest:
        return compact(self.index_dir, StoreConfig.from_settings(self.settings), manifest)

    def needs_upgrade(self) -> bool:
        return is_legacy(self.index_dir)

    def upgrade(self) -> Manifest:
        return upgrade(self.index_dir, StoreConfig.from_settings(self.settings))


Backend = Any  # EmbeddedBackend or MilvusBackend: the same methods


def backend_for(index_dir: Path, settings: Settings) -> Backend:
    """The backend ``RAG_STORE`` names: the embedded store in ``index_dir``, or Milvus at ``RAG_MILVUS_URI``."""
    if settings.store == StoreKind.MILVUS:
        from .milvus import MilvusBackend

        stories = StoreConfig.from_settings(settings).stories
        return MilvusBackend(
            settings.milvus_uri or str(index_dir / "milvus.db"), settings.milvus_token, settings.milvus_prefix, stories, settings.milvus_analyzer
        )
    return EmbeddedBackend(index_dir, settings)


def open_store(index_dir: Path, settings: Settings, previous: Store | None = None) -> Store:
    """The current generation, reusing what ``previous`` (an older generation of this index) has open."""
    return EmbeddedStore.open(index_dir, settings.faiss_ef_search, previous if isinstance(previous, EmbeddedStore) else None)


def load_index(index_dir: Path, settings: Settings | None = None) -> EmbeddedStore:
    """The embedded store of ``index_dir`` (tools and tests that look inside it)."""
    return EmbeddedStore.open(index_dir, (settings or Settings()).faiss_ef_search)


def check_index(index_dir: Path) -> Manifest:
    """The current manifest, after a cheap check that every segment it lists is whole."""
    manifest = read_manifest(index_dir)
    try:
        for name in manifest.segments:
            check_segment(index_dir / name)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorrupt(f"cannot read the index in {current_generation(index_dir)}: {exc}") from exc
    return manifest


__all__ = [
    "POINTER",
    "Backend",
    "DateRange",
    "EmbeddedBackend",
    "EmbeddedStore",
    "backend_for",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexMissing",
    "Manifest",
    "Ranked",
    "Store",
    "StoreConfig",
    "check_index",
    "commit",
    "compact",
    "load_index",
    "open_store",
    "read_manifest",
    "stored_documents",
]
