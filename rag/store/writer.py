"""Writing the embedded store: a new segment per change, tombstones in the manifest, merges.

Adding or replacing documents writes one segment holding just them (their
chunks tokenised once, their vectors, a FAISS index over them) and a new
manifest; deleting writes only a manifest. Cost follows the documents
changed, not the index. When segments pile up past ``max_segments`` the
smallest are merged (their live rows copied, nothing re-embedded or
re-tokenised); ``rag compact`` merges them all. Every step publishes a complete
generation, so a kill at any moment leaves the last one serving.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..ingest.chunking import Chunk
from ..ingest.documents import Document
from ..ingest.stories import StoryParams
from ..settings import Settings
from ..text.dates import is_partial
from ..text.lexical import Postings, merge_postings, tokenize
from . import vectors as vector_index
from .catalog import annotate_write, move_sources, no_bands, stored_stories
from .manifest import Manifest, current_generation, publish, remove_stale
from .records import Records
from .segment import open_segment, write_segment


@dataclass(frozen=True)
class StoreConfig:
    """The ``faiss_*``, ``max_segments`` and ``story_*`` settings, as the writer reads them."""

    faiss_factory: str
    faiss_exact_max: int
    faiss_ef_search: int
    max_segments: int
    stories: StoryParams

    @classmethod
    def from_settings(cls, settings: Settings) -> StoreConfig:
        stories = StoryParams(settings.story_threshold, settings.story_shingle_chars, settings.story_num_perm)
        return cls(settings.faiss_factory, settings.faiss_exact_max, settings.faiss_ef_search, settings.max_segments, stories)

    def factory(self, rows: int) -> str:
        return vector_index.choose_factory(self.faiss_factory, rows, self.faiss_exact_max)


def entry(document: Document, segment: str, chunks: int) -> dict[str, Any]:
    """A document's manifest entry; ``published``, ``partial`` and ``story`` are filled in by rag.store.catalog."""
    published = str(document.meta.get("published", ""))
    return {
        "sha256": document.sha256,
        "source": document.meta.get("source", ""),
        "title": document.title,
        "segment": segment,
        "chunks": chunks,
        "published": published,
        "partial": published if is_partial(published) else "",
        "story": document.meta.get("story", document.id),
    }


#: Each segment's document ids and band keys, as this process last read them: segments never change.
_SEGMENT_BANDS: dict[tuple[str, str], tuple[list[str], np.ndarray]] = {}


def _segment_bands(index_dir: Path, name: str) -> tuple[list[str], np.ndarray]:
    key = (str(index_dir.resolve()), name)
    if key not in _SEGMENT_BANDS:
        folder = index_dir / name
        _SEGMENT_BANDS[key] = (json.loads((folder / "segment.json").read_text(encoding="utf-8"))["documents"], np.load(folder / "bands.npy"))
    return _SEGMENT_BANDS[key]


def _band_table(index_dir: Path, manifest: Manifest | None, params: StoryParams) -> tuple[list[str], np.ndarray]:
    """Every live document's band keys, read from its segment (small: a few integers a document)."""
    if manifest is None:
        return [], no_bands(params)
    here = str(index_dir.resolve())
    for key in [k for k in _SEGMENT_BANDS if k[0] == here and k[1] not in manifest.segments]:
        del _SEGMENT_BANDS[key]
    ids: list[str] = []
    blocks: list[np.ndarray] = []
    for name in manifest.segments:
        documents, bands = _segment_bands(index_dir, name)
        keep = [i for i, d in enumerate(documents) if manifest.documents.get(d, {}).get("segment") == name]
        ids.extend(documents[i] for i in keep)
        blocks.append(bands[keep])
    return ids, np.vstack(blocks) if blocks else no_bands(params)


class _StoredTexts:
    """Texts of stored documents, read from their segments' records only when a story comparison needs them."""

    def __init__(self, index_dir: Path, entries: Mapping[str, Mapping[str, Any]]) -> None:
        self.index_dir, self.entries = index_dir, entries  # the previous generation's: where each text was
        self.open: dict[str, Records] = {}

    def text(self, doc_id: str) -> str:
        name = str(self.entries[doc_id].get("segment", ""))
        if name not in self.open:
            self.open[name] = Records(self.index_dir / name)
        return self.open[name].document(doc_id).text

    def __enter__(self) -> _StoredTexts:
        return self

    def __exit__(self, *exc: object) -> None:
        for records in self.open.values():
            records.close()


def commit(
    index_dir: Path,
    config: StoreConfig,
    identity: Manifest,
    previous: Manifest | None,
    fresh: Sequence[Document],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    removed: Sequence[str] = (),
    sources: Mapping[str, str] | None = None,
) -> Manifest:
    """Publish ``previous`` plus ``fresh`` documents (new or replacing) minus ``removed``.

    ``identity`` carries the model, dimension, chunker and factory setting;
    ``previous`` None starts an empty index (a rebuild). ``sources`` updates
    where unchanged documents were found.
    """
    if previous is not None:
        remove_stale(index_dir, current_generation(index_dir).name, set(previous.segments))
    # shared with the previous generation: an entry that changes is replaced, never changed in place
    entries: dict[str, dict[str, Any]] = dict(previous.documents) if previous else {}  # type: ignore[arg-type]
    segments = list(previous.segments) if previous else []
    with _StoredTexts(index_dir, previous.documents if previous else {}) as texts:
        stored = stored_stories(entries, *_band_table(index_dir, previous, config.stories), texts.text)
        for doc_id in removed:
            entries.pop(doc_id, None)
        for document in fresh:
            entries[document.id] = entry(document, "", 0)
        bands, years = annotate_write(entries, stored, fresh, removed, config.stories, previous)
    move_sources(entries, sources)
    if fresh:
        ordered = sorted(fresh, key=lambda d: d.id)
        by_doc: dict[str, list[Chunk]] = {d.id: [] for d in ordered}
        rows: dict[str, list[int]] = {d.id: [] for d in ordered}
        for row, chunk in enumerate(chunks):
            by_doc[chunk.doc_id].append(chunk)
            rows[chunk.doc_id].append(row)
        grouped = [c for d in ordered for c in by_doc[d.id]]
        order = [r for d in ordered for r in rows[d.id]]
        postings = Postings.build([tokenize(c.search_text) for c in grouped])
        block = np.asarray(vectors, dtype=np.float32)[order] if order else np.zeros((0, identity.dimension), dtype=np.float32)
        table = np.stack([bands[d.id] for d in ordered])
        name = write_segment(index_dir, ordered, grouped, block, postings, config.factory(len(grouped)), table)
        for document in ordered:
            entries[document.id] = {**entries[document.id], "segment": name, "chunks": len(by_doc[document.id])}
        segments.append(name)
    manifest = replace(_manifest(identity, entries, segments), **years.as_manifest())
    publish(index_dir, manifest)
    if len(manifest.segments) > config.max_segments:
        manifest = merge(index_dir, config, manifest, _smallest(manifest, len(manifest.segments) - config.max_segments // 2))
    return manifest


def compact(index_dir: Path, config: StoreConfig, manifest: Manifest) -> Manifest:
    """Merge every segment into one: deleted rows dropped, FAISS index type chosen for the whole size."""
    return merge(index_dir, config, manifest, list(manifest.segments))


def merge(index_dir: Path, config: StoreConfig, manifest: Manifest, names: Sequence[str]) -> Manifest:
    """Replace segments ``names`` by one holding their live rows, and publish that generation."""
    if not names:
        return manifest
    opened = [open_segment(index_dir / name, config.faiss_ef_search) for name in names]
    documents: list[Document] = []
    chunks: list[Chunk] = []
    blocks: list[np.ndarray] = []
    bands: list[np.ndarray] = []
    parts: list[tuple[Postings, np.ndarray]] = []
    for segment in opened:
        live = segment.live(manifest.documents)
        here = [i for i, d in enumerate(segment.doc_ids) if manifest.documents.get(d, {}).get("segment") == segment.name]
        documents.extend(segment.records.document(segment.doc_ids[i]) for i in here)
        bands.append(segment.bands[here])
        chunks.extend(segment.records.chunks(np.flatnonzero(live).tolist()))
        blocks.append(np.asarray(segment.vectors[live], dtype=np.float32))
        parts.append((segment.postings, live))
    for segment in opened:
        segment.records.close()
    vectors = np.vstack(blocks) if blocks else np.zeros((0, manifest.dimension), dtype=np.float32)
    table = np.vstack(bands) if bands else no_bands(config.stories)
    name = write_segment(index_dir, documents, chunks, vectors, merge_postings(parts), config.factory(len(chunks)), table)
    entries: dict[str, dict[str, Any]] = dict(manifest.documents)  # type: ignore[arg-type]
    for document in documents:
        entries[document.id] = {**entries[document.id], "segment": name}
    first = manifest.segments.index(names[0])
    kept = [s for s in manifest.segments if s not in names]
    merged = _manifest(manifest, entries, kept[:first] + [name] + kept[first:])
    publish(index_dir, merged)
    return merged


def _smallest(manifest: Manifest, count: int) -> list[str]:
    sizes = dict.fromkeys(manifest.segments, 0)
    for item in manifest.documents.values():
        sizes[item["segment"]] = sizes.get(item["segment"], 0) + int(item["chunks"])
    chosen = set(sorted(manifest.segments, key=lambda s: (sizes[s], s))[: max(count, 2)])
    return [s for s in manifest.segments if s in chosen]


def _manifest(identity: Manifest, entries: dict[str, dict[str, Any]], segments: Sequence[str]) -> Manifest:
    used = {item["segment"] for item in entries.values()}
    return replace(identity, documents=entries, segments=tuple(s for s in segments if s in used), created=time.time())
