"""The embedded store: the current generation's segments, opened and searched as one index.

Reopening after a write reuses the segments already open, so a process that
answers questions pays only for the segments that are new.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import IndexCorrupt
from ..ingest.chunking import Chunk
from ..ingest.documents import Document
from ..text.lexical import Results, bm25_scores, top
from . import vectors as vector_index
from .base import DateRange, ManifestFacts, Ranked
from .manifest import Manifest, current_generation, read_manifest
from .records import document_from
from .segment import Segment, open_segment
from .upgrade import as_read

#: Date ranges whose row masks a store keeps (the app's and the CLI's ranges repeat).
_RANGES_KEPT = 16


class _Documents(Mapping[str, Document]):
    """The live documents, read from their segments on demand."""

    def __init__(self, manifest: Manifest, segments: Mapping[str, Segment]) -> None:
        self._manifest, self._entries = manifest, manifest.documents
        self._segments = segments

    def __getitem__(self, doc_id: str) -> Document:
        entry = self._entries[doc_id]
        return self._manifest.served(self._segments[entry["segment"]].records.document(doc_id))

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class EmbeddedStore(ManifestFacts):
    """FAISS + BM25 postings per segment, chunk records in SQLite; see rag.store.base.Store."""

    def __init__(self, manifest: Manifest, segments: list[Segment]) -> None:
        self._manifest = manifest
        self.segments = segments
        self.lives = [s.live(manifest.documents) for s in segments]
        self.dead = [int(s.size - live.sum()) for s, live in zip(segments, self.lives, strict=True)]
        self.bases = np.cumsum([0] + [s.size for s in segments])
        self._documents = _Documents(manifest, {s.name: s for s in segments})
        self._masks: dict[DateRange, list[np.ndarray]] = {}
        self._masks_lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: Path, ef_search: int, previous: EmbeddedStore | None = None, check_format: bool = True) -> EmbeddedStore:
        manifest = read_manifest(index_dir)
        if check_format and manifest.mismatch(manifest.model, manifest.chunker):  # another format: nothing here can be read
            raise IndexCorrupt(f"the index in {index_dir} is in an older format; run `rag ingest` to rebuild it")
        reuse = {s.name: s for s in previous.segments} if previous else {}
        try:
            segments = [reuse.get(name) or open_segment(index_dir / name, ef_search) for name in manifest.segments]
        except (OSError, ValueError, TypeError, KeyError, RuntimeError, sqlite3.Error) as exc:
            if read_manifest(index_dir).created != manifest.created:  # a writer replaced it while we read: read the new one
                return cls.open(index_dir, ef_search, previous, check_format)
            folder = current_generation(index_dir)
            raise IndexCorrupt(f"cannot read the index in {folder}: {exc}; run `rag ingest` to rebuild") from exc
        return cls(manifest, segments)

    @property
    def documents(self) -> Mapping[str, Document]:
        return self._documents

    @property
    def size(self) -> int:
        return int(sum(int(live.sum()) for live in self.lives))

    def _admitted(self, part: int, within: DateRange | None) -> np.ndarray:
        """Live rows of segment ``part`` whose document was published ``within`` (worked out once per range)."""
        if within is None:
            return self.lives[part]
        with self._masks_lock:
            if within not in self._masks:
                if len(self._masks) >= _RANGES_KEPT:
                    self._masks.clear()
                self._masks[within] = [self._in_range(i, within) for i in range(len(self.segments))]
            return self._masks[within][part]

    def _in_range(self, part: int, within: DateRange) -> np.ndarray:
        segment, live = self.segments[part], self.lives[part]
        allowed = np.array([within.admits(self._manifest.published(d)) for d in segment.doc_ids] + [False])
        return live & allowed[segment.row_docs] if segment.size else live

    def _locate(self, row: int) -> tuple[Segment, int]:
        part = int(np.searchsorted(self.bases, row, side="right")) - 1
        return self.segments[part], row - int(self.bases[part])

    def dense(self, vector: np.ndarray, k: int, within: DateRange | None = None) -> Ranked:
        """FAISS per segment (candidates rescored from the stored vectors); with a date range, exact inner products over the rows in range."""
        found: Ranked = []
        for part, segment in enumerate(self.segments):
            base = int(self.bases[part])
            if within is None:
                hits = vector_index.search(segment.faiss_index, vector, k, self.lives[part], self.dead[part])
                if hits and not vector_index.scores_exact(segment.faiss_index):  # 16-bit vectors in the graph: serve exact scores
                    exact = np.asarray(segment.vectors[[row for row, _ in hits]], dtype=np.float32) @ vector
                    hits = [(row, float(score)) for (row, _), score in zip(hits, exact, strict=True)]
            else:
                rows = np.flatnonzero(self._admitted(part, within))
                scores = np.asarray(segment.vectors[rows], dtype=np.float32) @ vector if rows.shape[0] else np.zeros(0, dtype=np.float32)
                best = np.argsort(-scores, kind="stable")[:k]
                hits = [(int(rows[i]), float(scores[i])) for i in best]
            found.extend((base + row, score) for row, score in hits)
        return sorted(found, key=lambda item: (-item[1], item[0]))[:k]

    def lexical(self, tokens: Sequence[str], k: int, within: DateRange | None = None) -> Ranked:
        """BM25 with the statistics of every live chunk; a date range only narrows which rows compete."""
        parts = [(s.postings, live) for s, live in zip(self.segments, self.lives, strict=True)]
        found = bm25_scores(parts, tokens)
        if within is not None:
            masks = [self._admitted(part, within) for part in range(len(self.segments))]
            found = [Results(f.indices[masks[part][f.indices]], f.scores[masks[part][f.indices]]) for part, f in enumerate(found)]
        rows = np.concatenate([f.indices + int(self.bases[part]) for part, f in enumerate(found)]) if found else np.zeros(0, dtype=np.int64)
        scores = np.concatenate([f.scores for f in found]) if found else np.zeros(0, dtype=np.float32)
        best = top(Results(rows, scores), k)
        return [(int(r), float(s)) for r, s in zip(best.indices, best.scores, strict=True)]

    def similarity(self, rows: Sequence[int], vector: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), dtype=np.float32)
        positions = np.arange(len(rows))
        parts = np.searchsorted(self.bases, np.asarray(rows, dtype=np.int64), side="right") - 1
        for part in np.unique(parts):
            mine = positions[parts == part]
            local = [int(rows[i]) - int(self.bases[part]) for i in mine]
            out[mine] = np.asarray(self.segments[part].vectors[local], dtype=np.float32) @ vector
        return out

    def chunk(self, row: int) -> Chunk:
        segment, local = self._locate(row)
        return segment.records.chunk(local)

    def chunks(self) -> list[Chunk]:
        """Every live chunk in row order (for checks and tools; questions read only their hits)."""
        return [c for s, live in zip(self.segments, self.lives, strict=True) for c in s.records.chunks(np.flatnonzero(live).tolist())]

    def vectors(self) -> np.ndarray:
        """Every live vector in row order (a copy)."""
        parts = [np.asarray(s.vectors[live]) for s, live in zip(self.segments, self.lives, strict=True)]
        return np.vstack(parts) if parts else np.zeros((0, self._manifest.dimension), dtype=np.float32)


def stored_documents(index_dir: Path, manifest: Manifest, ef_search: int) -> dict[str, Document]:
    """Every document an index holds, to re-embed them when the model or chunker changed.

    Reads indexes of the previous on-disk format too (one folder with ``documents.json``).
    """
    legacy = current_generation(index_dir) / "documents.json"
    if not manifest.segments and legacy.exists():
        return {d.id: as_read(d) for d in map(document_from, json.loads(legacy.read_text(encoding="utf-8")))}
    store = EmbeddedStore.open(index_dir, ef_search, check_format=False)
    return {doc_id: store.documents[doc_id] for doc_id in store.documents}
