"""The index: documents' chunks, vectors and BM25 postings behind one ``Store`` interface.

The embedded store keeps immutable segments listed by a manifest generation
(rag.store.manifest, rag.store.segment), writes a segment per change and
merges them (rag.store.writer), and searches them as one (rag.store.embedded).
Retrieval and the API see only rag.store.base.Store.
"""

from __future__ import annotations

from pathlib import Path

from ..settings import Settings
from .base import Ranked, Store
from .embedded import EmbeddedStore, stored_documents
from .manifest import POINTER, IndexCorrupt, IndexMismatch, IndexMissing, Manifest, current_generation, read_manifest
from .segment import check_segment
from .writer import StoreConfig, commit, compact


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
    "POINTER", "EmbeddedStore", "IndexCorrupt", "IndexMismatch", "IndexMissing", "Manifest", "Ranked", "Store",
    "StoreConfig", "check_index", "commit", "compact", "load_index", "open_store", "read_manifest", "stored_documents",
]  # fmt: skip
