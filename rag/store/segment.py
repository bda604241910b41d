"""One immutable segment: the vectors, FAISS index, BM25 postings and records of some documents.

A segment is written once into a staging folder, fsynced and renamed into
place; nothing ever changes it afterwards. Which of its chunks are live is the
manifest's business (rag.store.manifest).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..atomic import fsync_dir, fsync_tree
from ..ingest.chunking import Chunk
from ..ingest.documents import Document
from ..ondisk import StoredArray
from ..text.lexical import Postings
from . import vectors as vector_index
from .manifest import SEGMENT_PREFIX, STAGING_PREFIX, new_name
from .records import Records, write_records

_SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass
class Segment:
    name: str
    size: int
    vectors: StoredArray  # read by position, rows in chunk order
    faiss_index: Any
    postings: Postings
    doc_ids: list[str]  # the segment's documents; row_docs indexes into it
    row_docs: np.ndarray
    records: Records
    bands: np.ndarray  # LSH band keys of each document's MinHash, rows as doc_ids (rag.ingest.stories)

    def live(self, documents: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
        """Rows whose document's live copy is in this segment."""
        here = np.array([documents.get(d, {}).get("segment") == self.name for d in self.doc_ids] + [False])
        return here[self.row_docs] if self.size else np.zeros(0, dtype=bool)


def write_segment(
    index_dir: Path,
    documents: Sequence[Document],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    postings: Postings,
    factory: str,
    bands: np.ndarray,
) -> str:
    """Write a complete segment and return its folder name; chunks must be grouped by their documents."""
    if len(chunks) != vectors.shape[0] or len(chunks) != postings.size or len(documents) != bands.shape[0]:
        raise ValueError(f"{len(chunks)} chunks, {vectors.shape[0]} vectors, {postings.size} postings rows, {bands.shape[0]} band rows")
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=index_dir))
    try:
        ordinal = {d.id: i for i, d in enumerate(documents)}
        np.save(staging / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        np.save(staging / "row_docs.npy", np.array([ordinal[c.doc_id] for c in chunks], dtype=np.int32))
        np.save(staging / "bands.npy", np.ascontiguousarray(bands, dtype=np.uint64))
        faiss.write_index(vector_index.build(np.asarray(vectors, dtype=np.float32), factory), str(staging / "vectors.faiss"))
        postings.save(staging / "bm25")
        write_records(staging, documents, chunks)
        info = {"rows": len(chunks), "documents": [d.id for d in documents], "faiss_factory": factory}
        (staging / "segment.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        fsync_tree(staging)
        name = new_name(SEGMENT_PREFIX)
        os.replace(staging, index_dir / name)
        fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return name


def check_segment(folder: Path) -> int:
    """Cheap proof that a segment is whole (headers and sizes agree); its row count."""
    info = json.loads((folder / "segment.json").read_text(encoding="utf-8"))
    rows = int(info["rows"])
    shape = np.load(folder / "vectors.npy", mmap_mode="r").shape
    if shape[0] != rows or np.load(folder / "row_docs.npy", mmap_mode="r").shape[0] != rows:
        raise ValueError(f"segment {folder.name} has {shape[0]} vectors for {rows} rows")
    for path in (folder / "vectors.faiss", folder / "records.sqlite", *Postings.saved_files(folder / "bm25")):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing")
    with open(folder / "records.sqlite", "rb") as handle:
        if handle.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise ValueError(f"{folder / 'records.sqlite'} is not a record file")
    return rows


def open_segment(folder: Path, ef_search: int) -> Segment:
    rows = check_segment(folder)
    info = json.loads((folder / "segment.json").read_text(encoding="utf-8"))
    vectors = StoredArray(folder / "vectors.npy")
    # memory-mapped, not read: a segment never changes, and the pages a question touches stay the OS's to reclaim
    faiss_index = vector_index.tune(faiss.read_index(str(folder / "vectors.faiss"), faiss.IO_FLAG_MMAP_IFC), ef_search)
    postings = Postings.load(folder / "bm25")
    records = Records(folder)
    if faiss_index.ntotal != rows or postings.size != rows or records.count != rows:
        raise ValueError(f"segment {folder.name}: {faiss_index.ntotal} vectors, {postings.size} BM25 rows, {records.count} records for {rows} rows")
    row_docs = np.load(folder / "row_docs.npy")
    # a segment of the previous format has no band keys: read only to re-embed its documents
    bands = np.load(folder / "bands.npy") if (folder / "bands.npy").exists() else np.zeros((len(info["documents"]), 0), dtype=np.uint64)
    if bands.shape[0] != len(info["documents"]):
        raise ValueError(f"segment {folder.name}: {bands.shape[0]} band rows for {len(info['documents'])} documents")
    return Segment(folder.name, rows, vectors, faiss_index, postings, list(info["documents"]), row_docs, records, bands)
