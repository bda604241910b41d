"""The manifest of one index generation, the ``CURRENT`` pointer, and the errors readers raise.

A generation is a folder holding only ``manifest.json``: which model and chunker
built the index, which immutable segments it consists of, and which segment
holds the live copy of each document. A chunk in a segment is live only when
the manifest says its document lives in that segment, so replacing or deleting
a document never rewrites an old segment: the manifest is the tombstone list.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from ..atomic import fsync_dir, fsync_tree, write_atomic
from ..errors import IndexCorrupt, IndexMissing
from ..ingest.documents import Document
from ..text.dates import is_partial

FORMAT_VERSION = 3
POINTER = "CURRENT"
GENERATION_PREFIX = "gen-"
SEGMENT_PREFIX = "seg-"
STAGING_PREFIX = ".staging-"
#: The lexical channel's terms are rag.text.lexical.tokenize's (the embedded store's always are).
PRODUCT_TERMS = "product"


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    chunker: Mapping[str, int]
    faiss_factory: str
    #: doc id → {"sha256", "source", "title", "segment", "chunks", "published", "partial", "story"}:
    #: ``published`` the date served (a yearless ``partial`` one completed with the collection's year),
    #: ``story`` the story id (rag.ingest.stories; the document's own id when no other tells it)
    documents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: segment folder names, in row order
    segments: Sequence[str] = ()
    version: int = FORMAT_VERSION
    created: float = field(default_factory=time.time)
    #: what the lexical channel's terms are: the product's own (rag.text.lexical.tokenize), or Milvus's jieba analyzer
    analyzer: str = PRODUCT_TERMS
    #: how many dated documents each year has, and which documents have a yearless date: kept by each
    #: write (rag.store.catalog) so that completing years never walks every entry; None: work them out
    years: Mapping[str, int] | None = None
    partials: Sequence[str] | None = None

    def mismatch(self, model: str, chunker: Mapping[str, int], analyzer: str = PRODUCT_TERMS) -> str:
        """Why an index built with this manifest cannot serve these settings ('' when it can)."""
        if self.version != FORMAT_VERSION:
            return f"index format {self.version} differs from {FORMAT_VERSION}"
        if self.analyzer != analyzer:
            return f"the lexical analyzer changed from {self.analyzer} to {analyzer}"
        if self.model != model:
            return f"embedding model changed from {self.model} to {model}"
        if dict(self.chunker) != dict(chunker):
            return f"chunker settings changed from {dict(self.chunker)} to {dict(chunker)}"
        return ""

    @property
    def chunk_count(self) -> int:
        return sum(int(entry.get("chunks", 0)) for entry in self.documents.values())

    def year_counts(self) -> Counter[int]:
        if self.years is not None:
            return Counter({int(year): int(count) for year, count in self.years.items()})
        return Counter(int(e["published"][:4]) for e in self.documents.values() if e.get("published") and not e.get("partial"))

    def partial_ids(self) -> list[str]:
        return list(self.partials) if self.partials is not None else [d for d, e in self.documents.items() if e.get("partial")]

    # What questions ask of every document, worked out once per generation from the entries alone.

    @cached_property
    def newest_published(self) -> str:
        days = (str(entry.get("published", "")) for entry in self.documents.values())
        return max((day for day in days if day and not is_partial(day)), default="")

    @cached_property
    def story_members(self) -> dict[str, list[str]]:
        members: dict[str, list[str]] = {}
        for doc_id, entry in self.documents.items():
            members.setdefault(str(entry.get("story") or doc_id), []).append(doc_id)
        return {story: docs for story, docs in members.items() if len(docs) > 1}

    def published(self, doc_id: str) -> str:
        return str(self.documents.get(doc_id, {}).get("published", ""))

    def story(self, doc_id: str) -> str:
        return str(self.documents.get(doc_id, {}).get("story") or doc_id)

    def title(self, doc_id: str) -> str:
        return str(self.documents.get(doc_id, {}).get("title", ""))

    def served(self, document: Document) -> Document:
        """``document`` as stored, with what the collection decided since: where it was found, its date, its story."""
        entry = self.documents.get(document.id, {})
        meta = {k: v for k, v in document.meta.items() if k != "story"}
        if entry.get("source"):
            meta["source"] = entry["source"]
        if entry.get("published"):
            meta["published"] = entry["published"]
            if entry.get("partial") and not is_partial(str(entry["published"])):
                meta["published_year"] = "collection"
        if self.story(document.id) in self.story_members:
            meta["story"] = self.story(document.id)
        return document if meta == dict(document.meta) else dataclasses.replace(document, meta=meta)


def new_name(prefix: str) -> str:
    return f"{prefix}{time.time_ns()}"


def current_generation(index_dir: Path) -> Path:
    pointer = index_dir / POINTER
    if not pointer.exists():
        raise IndexMissing(f"no index in {index_dir}: run `rag ingest` first / 尚未建立索引")
    folder = index_dir / pointer.read_text().strip()
    if not (folder / "manifest.json").exists():
        raise IndexCorrupt(f"{pointer} points at a missing generation {folder.name}; run `rag ingest` to rebuild")
    return folder


#: The manifest this process last read or wrote, per index folder. A generation never changes once
#: published, so it is parsed once: at 400,000 documents a parse takes seconds and hundreds of MB,
#: and a write followed by a reopen would otherwise parse the same file twice more.
_LAST: dict[str, tuple[tuple[str, int, int], Manifest]] = {}
_LAST_LOCK = threading.Lock()


def _stamp(folder: Path) -> tuple[str, int, int]:
    stat = (folder / "manifest.json").stat()
    return folder.name, stat.st_mtime_ns, stat.st_size


def read_manifest(index_dir: Path) -> Manifest:
    folder = current_generation(index_dir)
    try:
        stamp = _stamp(folder)
        with _LAST_LOCK:
            known = _LAST.get(str(index_dir.resolve()))
        if known is not None and known[0] == stamp:
            return known[1]
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        data["segments"] = tuple(data.get("segments", ()))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorrupt(f"cannot read the manifest in {folder}: {exc}; run `rag ingest` to rebuild") from exc
    _remember(index_dir, stamp, manifest)
    return manifest


def _remember(index_dir: Path, stamp: tuple[str, int, int], manifest: Manifest) -> None:
    with _LAST_LOCK:
        _LAST[str(index_dir.resolve())] = (stamp, manifest)


def publish(index_dir: Path, manifest: Manifest) -> str:
    """Write ``manifest`` as a new generation and make it current; then drop what no generation uses.

    Segments are already on disk (see rag.store.segment); the pointer flips
    last, so a crash before it leaves the previous generation in force.
    """
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=index_dir))
    try:
        # Shallow and unindented: asdict deep-copies every document entry and an indent makes json
        # fall back to its pure-Python encoder, together most of a write's cost at 400,000 documents.
        data = {f.name: getattr(manifest, f.name) for f in fields(manifest)}
        data["segments"] = list(manifest.segments)
        data["partials"] = None if manifest.partials is None else list(manifest.partials)
        (staging / "manifest.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        fsync_tree(staging)
        name = new_name(GENERATION_PREFIX)
        os.replace(staging, index_dir / name)
        fsync_dir(index_dir)
        write_atomic(index_dir / POINTER, name.encode())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remember(index_dir, _stamp(index_dir / name), manifest)
    remove_stale(index_dir, name, set(manifest.segments))
    return name


def remove_stale(index_dir: Path, generation: str, segments: set[str]) -> None:
    """Delete other generations, unreferenced segments and leftovers of interrupted writes.

    Readers in other processes keep what they opened (memory maps and open
    files outlive the unlink), and writers hold the index's file lock.
    """
    for path in index_dir.iterdir():
        old_generation = path.name.startswith(GENERATION_PREFIX) and path.name != generation
        unused_segment = path.name.startswith(SEGMENT_PREFIX) and path.name not in segments
        if path.is_dir() and (old_generation or unused_segment or path.name.startswith(STAGING_PREFIX)):
            shutil.rmtree(path, ignore_errors=True)
