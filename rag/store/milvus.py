"""The Milvus store (``RAG_STORE=milvus``): one collection per index, for more than one machine.

``RAG_MILVUS_URI`` is a local path (milvus-lite, embedded: for trying it and for
tests) or ``http(s)://host:19530`` (a Milvus server or cluster; Zilliz Cloud with
``RAG_MILVUS_TOKEN``). Three collections share the prefix ``RAG_MILVUS_COLLECTION``:

* ``<prefix>_chunks``: chunk id, document id, the text Milvus computes a BM25
  sparse field from, the chunk record, the vector. With ``RAG_MILVUS_ANALYZER=product``
  (the default) that text is the product's own terms (rag.text.lexical.tokenize), each
  spelled as a short hash that Milvus's standard tokenizer keeps whole, so Milvus's
  BM25 ranks exactly as the embedded store's within a Milvus segment; with ``jieba``
  it is the folded search text under Milvus's jieba analyzer;
* ``<prefix>_docs``: each document's record (split into parts: a VARCHAR holds
  at most 64 KB) and its sha256, source, title, chunk count, publication date,
  story and LSH band keys (rag.store.catalog);
* ``<prefix>_meta``: the manifest (model, dimension, chunker) and a generation
  stamp that changes with every write, so readers know to reload.

Writes upsert the new chunks first, then the documents, delete the replaced
chunks, and stamp the generation last. Milvus has no multi-collection
transactions: a writer killed mid-way can leave a document's new chunks beside
its old record until the next write of it; the model and chunker recorded in the
manifest are checked on every open as in the embedded store, and so is the
analyzer. BM25 scores are Milvus's own, divided by (k1 + 1) to read on the
embedded store's scale; its IDF is per Milvus segment, so rankings over a large
collection can differ slightly from the embedded store's. A date range filters
both channels by document id.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import IndexMissing
from ..ingest.chunking import Chunk
from ..ingest.documents import Document
from ..ingest.stories import StoryParams
from ..settings import MilvusAnalyzer
from ..text.folding import fold
from ..text.lexical import K1, tokenize
from .base import DateRange, ManifestFacts, Ranked
from .catalog import annotate_write, move_sources, no_bands, stored_stories
from .manifest import FORMAT_VERSION, Manifest
from .milvus_schema import BATCH, DUMMY, ENTRY_FIELDS, PART_CHARS, TEXT_MAX, analyzed, bands_from, bands_text, connect, create_collections
from .records import chunk_from, document_from
from .writer import entry


class MilvusBackend:
    """Reading and writing one index held in Milvus; see the module docstring."""

    def __init__(self, uri: str, token: str, prefix: str, stories: StoryParams, analyzer: MilvusAnalyzer = MilvusAnalyzer.PRODUCT) -> None:
        self.client = connect(uri, token)
        self.stories, self.analyzer = stories, analyzer
        self.chunks_name, self.docs_name, self.meta_name = f"{prefix}_chunks", f"{prefix}_docs", f"{prefix}_meta"
        self._lock = threading.Lock()
        self._loaded = False
        #: (generation, its manifest, every document's band keys): this process's last read or write
        self._known: tuple[str, Manifest, dict[str, np.ndarray]] | None = None

    # ------------------------------------------------------------------ manifest

    def _load(self) -> None:
        """Bring released collections into memory: a copied or restored data folder, or a server whose
        operator released them, answers queries only after ``load_collection``."""
        for name in (self.meta_name, self.docs_name, self.chunks_name):
            if self.client.has_collection(name) and "NotLoad" in str(self.client.get_load_state(name).get("state")):
                self.client.load_collection(name)
        self._loaded = True

    def _meta(self) -> dict[str, Any] | None:
        if not self.client.has_collection(self.meta_name):
            return None
        if not self._loaded:
            self._load()
        found = self.client.query(self.meta_name, filter='id == "manifest"', output_fields=["data"])
        return json.loads(found[0]["data"]) if found else None

    def generation(self) -> str:
        meta = self._meta()
        return str(meta["generation"]) if meta else ""

    def manifest(self) -> Manifest:
        """The manifest of the current generation: read once per generation, then served from memory."""
        meta = self._meta()
        if meta is None:
            raise IndexMissing(f"no index in Milvus collection {self.chunks_name}: run `rag ingest` first / 尚未建立索引")
        if self._known is not None and self._known[0] == meta["generation"]:
            return self._known[1]
        documents: dict[str, dict[str, Any]] = {}
        bands: dict[str, np.ndarray] = {}
        for row in self._all(self.docs_name, "part == 0", ["doc_id", "bands", *ENTRY_FIELDS]):
            documents[row["doc_id"]] = {k: row[k] for k in ENTRY_FIELDS}
            bands[row["doc_id"]] = bands_from(row["bands"])
        return self._remember(meta, documents, bands)

    def _remember(self, meta: Mapping[str, Any], documents: dict[str, dict[str, Any]], bands: dict[str, np.ndarray]) -> Manifest:
        identity = {k: meta[k] for k in ("model", "dimension", "chunker", "faiss_factory", "version", "created")}
        # collections written before the analyzer was recorded used Milvus's jieba analyzer
        manifest = Manifest(**identity, documents=documents, segments=(), analyzer=meta.get("analyzer", MilvusAnalyzer.JIEBA.value))
        self._known = (str(meta["generation"]), manifest, bands)
        return manifest

    def needs_upgrade(self) -> bool:
        return False

    def upgrade(self) -> Manifest:
        return self.manifest()

    def _bands(self, manifest: Manifest | None) -> dict[str, np.ndarray]:
        """Every stored document's band keys (read with the manifest; read again only for another generation's)."""
        if manifest is None or not manifest.documents:
            return {}
        if self._known is None or self._known[1] is not manifest:
            return {row["doc_id"]: bands_from(row["bands"]) for row in self._all(self.docs_name, "part == 0", ["doc_id", "bands"])}
        return self._known[2]

    def _all(self, collection: str, condition: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        iterator = self.client.query_iterator(collection, batch_size=1000, filter=condition, output_fields=fields)
        while batch := iterator.next():
            yield from batch
        iterator.close()

    # ------------------------------------------------------------------ writing

    def _create(self, dimension: int) -> None:
        create_collections(self.client, (self.chunks_name, self.docs_name, self.meta_name), dimension, self.analyzer)

    def drop(self) -> None:
        for name in (self.chunks_name, self.docs_name, self.meta_name):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

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
        """Same contract as rag.store.writer.commit; ``previous`` None empties the collections first."""
        if previous is None:
            self.drop()
        self._create(identity.dimension)
        # shared with the previous generation: an entry that changes is replaced, never changed in place
        before: Mapping[str, Mapping[str, Any]] = previous.documents if previous is not None else {}
        entries: dict[str, dict[str, Any]] = dict(before)  # type: ignore[arg-type]
        known_bands = self._bands(previous)
        table = np.stack(list(known_bands.values())) if known_bands else no_bands(self.stories)
        stored = stored_stories(entries, list(known_bands), table, lambda doc_id: self.document(doc_id).text)
        for doc_id in removed:
            entries.pop(doc_id, None)
        for document in fresh:
            entries[document.id] = entry(document, "", 0)
        bands, _years = annotate_write(entries, stored, fresh, removed, self.stories, previous)
        move_sources(entries, sources)
        by_doc: dict[str, list[int]] = {d.id: [] for d in fresh}
        for row, chunk in enumerate(chunks):
            by_doc[chunk.doc_id].append(row)
        rows = [
            {
                "id": c.id,
                "doc_id": c.doc_id,
                "text": self._text(c),
                "record": json.dumps(dataclasses.asdict(c), ensure_ascii=False),
                "vector": np.asarray(vectors[i], dtype=np.float32).tolist(),
            }
            for i, c in enumerate(chunks)
        ]
        for start in range(0, len(rows), BATCH):
            self.client.upsert(self.chunks_name, rows[start : start + BATCH])
        records: list[dict[str, Any]] = []
        for document in fresh:
            records.extend(self._document_rows(document, len(by_doc[document.id]), entries[document.id], bands[document.id]))
            if document.id in before:  # a replacement: drop its old chunks and record parts beyond the new ones
                keep = [chunks[i].id for i in by_doc[document.id]]
                self.client.delete(
                    self.chunks_name,
                    filter=f"doc_id == {json.dumps(document.id, ensure_ascii=False)}"
                    + (f" and id not in {json.dumps(keep, ensure_ascii=False)}" if keep else ""),
                )
                parts = sum(1 for r in records if r["doc_id"] == document.id)
                self.client.delete(self.docs_name, filter=f"doc_id == {json.dumps(document.id, ensure_ascii=False)} and part >= {parts}")
        for start in range(0, len(records), BATCH):
            self.client.upsert(self.docs_name, records[start : start + BATCH])
        for doc_id in removed:
            self.client.delete(self.chunks_name, filter=f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}")
            self.client.delete(self.docs_name, filter=f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}")
        fresh_ids = {d.id for d in fresh}
        changed = {
            doc_id: {k: item[k] for k in ("published", "story", "source") if before.get(doc_id, {}).get(k) != item[k]}
            for doc_id, item in entries.items()
            if doc_id not in fresh_ids
        }
        for doc_id, fields in changed.items():  # stories regrouped, years completed, files moved
            if not fields:
                continue
            found = self.client.query(self.docs_name, filter=f"doc_id == {json.dumps(doc_id, ensure_ascii=False)} and part == 0", output_fields=["*"])
            if found and any(found[0][k] != v for k, v in fields.items()):
                self.client.upsert(self.docs_name, [{**found[0], **fields}])
        meta = {
            "model": identity.model,
            "dimension": identity.dimension,
            "chunker": dict(identity.chunker),
            "faiss_factory": "milvus",
            "version": FORMAT_VERSION,
            "created": time.time(),
            "generation": f"milvus-{time.time_ns()}",
            "analyzer": self.analyzer.value,
        }
        self.client.upsert(self.meta_name, [{"id": "manifest", "data": json.dumps(meta, ensure_ascii=False), "dummy": DUMMY}])
        for name in (self.chunks_name, self.docs_name, self.meta_name):
            self.client.flush(name)
        # the manifest just written, as a read of it would give, without reading every document back
        documents = {
            doc_id: {k: item[k] for k in ENTRY_FIELDS} | ({"chunks": len(by_doc[doc_id])} if doc_id in by_doc else {}) for doc_id, item in entries.items()
        }
        known_bands = {d: b for d, b in known_bands.items() if d in documents}
        known_bands.update(bands)
        return self._remember(meta, documents, known_bands)

    def _text(self, chunk: Chunk) -> str:
        if self.analyzer == MilvusAnalyzer.PRODUCT:
            return analyzed(tokenize(chunk.search_text), self.analyzer)[:TEXT_MAX]
        return fold(chunk.search_text)[: TEXT_MAX // 4]

    def _document_rows(self, document: Document, chunks: int, item: Mapping[str, Any], bands: np.ndarray) -> list[dict[str, Any]]:
        data = json.dumps(dataclasses.asdict(document), ensure_ascii=False)
        parts = [data[i : i + PART_CHARS] for i in range(0, len(data), PART_CHARS)] or [""]
        return [
            {
                "id": f"{document.id}\u0000{n}",
                "doc_id": document.id,
                "part": n,
                "sha256": document.sha256,
                "source": str(document.meta.get("source", "")),
                "title": document.title,
                "chunks": chunks,
                "data": part,
                "dummy": DUMMY,
                "published": str(item["published"]),
                "partial": str(item["partial"]),
                "story": str(item["story"]),
                "bands": bands_text(bands),
            }
            for n, part in enumerate(parts)
        ]

    def open(self, previous: object = None) -> MilvusStore:
        return MilvusStore(self, self.manifest())

    def documents(self, manifest: Manifest) -> dict[str, Document]:
        return {doc_id: self.document(doc_id) for doc_id in manifest.documents}

    def compact(self, manifest: Manifest) -> Manifest:
        """Milvus merges its segments itself; this asks it to now."""
        self.client.compact(self.chunks_name)
        return manifest

    def document(self, doc_id: str) -> Document:
        found = self.client.query(self.docs_name, filter=f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}", output_fields=["part", "data", "source"])
        if not found:
            raise KeyError(doc_id)
        return document_from(json.loads("".join(r["data"] for r in sorted(found, key=lambda r: r["part"]))))


class _Documents(Mapping[str, Document]):
    def __init__(self, backend: MilvusBackend, manifest: Manifest) -> None:
        self._backend, self._manifest, self._ids = backend, manifest, manifest.documents

    def __getitem__(self, doc_id: str) -> Document:
        if doc_id not in self._ids:
            raise KeyError(doc_id)
        return self._manifest.served(self._backend.document(doc_id))

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class MilvusStore(ManifestFacts):
    """rag.store.base.Store over Milvus: rows are handed out per chunk id as candidates arrive."""

    def __init__(self, backend: MilvusBackend, manifest: Manifest) -> None:
        self.backend = backend
        self._manifest = manifest
        self._documents = _Documents(backend, manifest)
        self._rows: dict[str, int] = {}
        self._chunks: list[Chunk] = []
        self._lock = threading.Lock()

    @property
    def documents(self) -> Mapping[str, Document]:
        return self._documents

    @property
    def size(self) -> int:
        return self._manifest.chunk_count

    def _filter(self, within: DateRange | None) -> str | None:
        """A Milvus filter keeping the documents published ``within`` ("" when none is; None without a range)."""
        if within is None:
            return None
        allowed = [doc_id for doc_id in self._manifest.documents if within.admits(self._manifest.published(doc_id))]
        return f"doc_id in {json.dumps(allowed, ensure_ascii=False)}" if allowed else ""

    def _row(self, hit: dict[str, Any]) -> int:
        with self._lock:
            row = self._rows.get(hit["id"])
            if row is None:
                row = self._rows[hit["id"]] = len(self._chunks)
                self._chunks.append(chunk_from(json.loads(hit["entity"]["record"])))
            return row

    def dense(self, vector: np.ndarray, k: int, within: DateRange | None = None) -> Ranked:
        where = self._filter(within)
        if k <= 0 or not self.size or where == "":
            return []
        found = self.backend.client.search(
            self.backend.chunks_name,
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="vector",
            limit=min(k, 16_384),
            output_fields=["record"],
            search_params={"metric_type": "IP"},
            filter=where or "",
        )[0]
        return sorted(((self._row(h), float(h["distance"])) for h in found), key=lambda item: (-item[1], item[0]))

    def lexical(self, tokens: Sequence[str], k: int, within: DateRange | None = None) -> Ranked:
        """Milvus's BM25 (see the module docstring); milvus-lite reports it negated, so magnitudes are taken."""
        where = self._filter(within)
        if k <= 0 or not tokens or not self.size or where == "":
            return []
        found = self.backend.client.search(
            self.backend.chunks_name,
            data=[analyzed(tokens, self.backend.analyzer)],
            anns_field="sparse",
            limit=min(k, 16_384),
            output_fields=["record"],
            search_params={"metric_type": "BM25"},
            filter=where or "",
        )[0]
        scored = [(self._row(h), abs(float(h["distance"])) / (K1 + 1)) for h in found]
        return sorted(((r, s) for r, s in scored if s > 0), key=lambda item: (-item[1], item[0]))

    def similarity(self, rows: Sequence[int], vector: np.ndarray) -> np.ndarray:
        ids = [self._chunks[r].id for r in rows]
        found = {r["id"]: r["vector"] for r in self.backend.client.query(self.backend.chunks_name, ids=ids, output_fields=["vector"])}
        return np.array([np.asarray(found[i], dtype=np.float32) @ vector for i in ids], dtype=np.float32)

    def chunk(self, row: int) -> Chunk:
        return self._chunks[row]
