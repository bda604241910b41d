"""Documents → chunks + vectors at the speed of the hardware, resumable after a kill.

Why this shape: embedding costs hundreds of times more than chunking, so the
encoder must never wait and never redo work. A producer thread chunks documents
into *windows* of about ``ingest_window`` chunks while the encoder embeds the
previous ones (the int8 graph and the tokenizer release the GIL, so both run
at once); the queue between them holds at most ``ingest_queue`` windows, so
memory stays bounded whatever the corpus size. Inside a window chunks are
sorted by length before batching, so a batch carries little padding. Each
window's vectors are written atomically to a cache in the index folder keyed
by the passage text and the model fingerprint: an ingest that is killed
resumes where it stopped, and the cache is removed once the index is saved.

The windows depend only on the documents and the settings, never on timing,
so the pipelined and the sequential path (``parallel=False``) embed the same
batches and give identical vectors.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..embed.embedding import Embedder
from .chunking import Chunk, ChunkerConfig, chunk_document
from .documents import Document

#: progress(done, total): chunks embedded or found in the cache so far, and the expected total.
ChunkProgress = Callable[[int, int], None]

CACHE_DIR = ".embed-cache"
_KEY_BYTES = 16
_DONE = object()
_POLL_S = 0.1  # how often a blocked producer checks whether the consumer has gone


@dataclass(frozen=True)
class Embedded:
    """The chunks of some documents in document order, their vectors row for row, and what it cost."""

    chunks: list[Chunk]
    vectors: np.ndarray
    embedded: int  # vectors computed now
    cached: int  # vectors found in the cache (an earlier, interrupted ingest computed them)


class VectorCache:
    """Passage vectors already computed, on disk beside the index, one atomic file per window.

    The folder name hashes the model fingerprint, the passage prompt and the
    sequence length, so a cache never hands out another model's vectors.
    """

    def __init__(self, index_dir: Path, embedder: Embedder) -> None:
        identity = f"{embedder.fingerprint}\x00{embedder.prompts[1]}\x00{embedder.settings.max_seq_length}"
        self.root = Path(index_dir) / CACHE_DIR
        self.folder = self.root / hashlib.sha256(identity.encode()).hexdigest()[:16]
        self._vectors: dict[bytes, np.ndarray] = {}
        self._loaded = False

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8")).digest()[:_KEY_BYTES]

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for part in sorted(self.folder.glob("part-*.npz")) if self.folder.is_dir() else []:
            try:
                with np.load(part) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except (OSError, ValueError, KeyError):  # unreadable: its chunks are embedded again
                continue
            self._vectors.update(zip((bytes(k) for k in keys), vectors, strict=True))

    def get(self, key: bytes) -> np.ndarray | None:
        self._load()
        return self._vectors.get(key)

    def __len__(self) -> int:
        self._load()
        return len(self._vectors)

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Remember one window's new vectors: a whole file or nothing, whenever the process dies."""
        if not keys:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(keys, dtype=f"S{_KEY_BYTES}"), vectors=vectors.astype(np.float32))
        write_atomic(self.folder / f"part-{time.time_ns()}-{os.getpid()}.npz", buffer.getvalue())
        self._vectors.update(zip(keys, vectors, strict=True))

    def clear(self) -> None:
        """Forget everything: the saved index now holds these vectors."""
        shutil.rmtree(self.root, ignore_errors=True)
        self._vectors.clear()


def windows(documents: Iterable[Document], config: ChunkerConfig, size: int) -> Iterator[list[Chunk]]:
    """Chunks of consecutive documents, closed at a document boundary once they hold ``size`` chunks."""
    pending: list[Chunk] = []
    for document in documents:
        pending.extend(chunk_document(document, config))
        if len(pending) >= size:
            yield pending
            pending = []
    if pending:
        yield pending


def ahead(source: Iterator[list[Chunk]], depth: int) -> Iterator[list[Chunk]]:
    """``source`` produced by a thread at most ``depth`` windows ahead of the consumer; its errors re-raised here."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Put ``item`` once there is room; False when the consumer has gone (then nothing blocks forever)."""
        while not stop.is_set():
            try:
                slots.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for window in source:
                if not offer(window):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            offer(exc)

    worker = threading.Thread(target=produce, name="rag-chunker", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=1.0)


def embed_window(window: list[Chunk], embedder: Embedder, cache: VectorCache | None, batch: int) -> tuple[np.ndarray, int]:
    """Vectors for one window (cached ones reused, the rest embedded longest first) and how many were computed."""
    texts = [c.search_text for c in window]
    keys = [VectorCache.key(t) for t in texts]
    out = np.zeros((len(window), embedder.dimension), dtype=np.float32)
    missing: list[int] = []
    for row, key in enumerate(keys):
        hit = cache.get(key) if cache is not None else None
        if hit is None:
            missing.append(row)
        else:
            out[row] = hit
    missing.sort(key=lambda r: -len(texts[r]))
    for begin in range(0, len(missing), batch):
        rows = missing[begin : begin + batch]
        out[rows] = embedder.embed_passage_batch([texts[r] for r in rows])
    if cache is not None:
        cache.put([keys[r] for r in missing], out[missing])
    return out, len(missing)


def embed_documents(
    documents: Sequence[Document],
    config: ChunkerConfig,
    embedder: Embedder,
    *,
    cache: VectorCache | None = None,
    progress: ChunkProgress | None = None,
    parallel: bool = True,
) -> Embedded:
    """Chunk and embed ``documents`` (in this order); chunking runs ahead in a thread unless ``parallel`` is off."""
    settings = embedder.settings
    size = {d.id: len(d.text) for d in documents}
    chars_total = sum(size.values()) or 1
    source = windows(documents, config, settings.ingest_window)
    stream = ahead(source, settings.ingest_queue) if parallel else source
    chunks: list[Chunk] = []
    parts: list[np.ndarray] = []
    embedded = 0
    chars_done = 0
    if progress:  # started: the first estimate assumes full chunks, later ones the ratio seen so far
        progress(0, max(1, round(chars_total / config.max_chars)))
    for window in stream:
        vectors, fresh = embed_window(window, embedder, cache, settings.embed_batch_size)
        chunks.extend(window)
        parts.append(vectors)
        embedded += fresh
        if progress:
            chars_done += sum(size.get(doc_id, 0) for doc_id in dict.fromkeys(c.doc_id for c in window))
            # the total is estimated from the characters chunked so far
            if chars_done < chars_total:  # the exact total is reported after the loop
                progress(len(chunks), max(len(chunks) + 1, round(len(chunks) * chars_total / max(chars_done, 1))))
    if progress:
        progress(len(chunks), len(chunks))
    dimension = parts[0].shape[1] if parts else embedder.dimension
    vectors = np.vstack(parts) if parts else np.zeros((0, dimension), dtype=np.float32)
    return Embedded(chunks, vectors, embedded, len(chunks) - embedded)


__all__ = ["CACHE_DIR", "ChunkProgress", "Embedded", "VectorCache", "ahead", "embed_documents", "embed_window", "windows"]
