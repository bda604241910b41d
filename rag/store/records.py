"""Chunk and document records of one segment, in a small SQLite file read on demand.

Only the chunks a question's hits point at are read, so chunk texts do not sit
in memory however large the index grows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..ingest.chunking import Chunk
from ..ingest.documents import Document, Paragraph

FILE = "records.sqlite"


def write_records(folder: Path, documents: Iterable[Document], chunks: Iterable[Chunk]) -> None:
    """Create the segment's record file (the segment is still in its staging folder)."""
    connection = sqlite3.connect(folder / FILE)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("CREATE TABLE chunks (row INTEGER PRIMARY KEY, record TEXT NOT NULL)")
        connection.execute("CREATE TABLE documents (id TEXT PRIMARY KEY, record TEXT NOT NULL)")
        connection.executemany("INSERT INTO chunks VALUES (?, ?)", ((row, _dump(asdict(c))) for row, c in enumerate(chunks)))
        connection.executemany("INSERT INTO documents VALUES (?, ?)", ((d.id, _dump(asdict(d))) for d in documents))
        connection.commit()
    finally:
        connection.close()


class Records:
    """Read access to one segment's records; safe to share between threads."""

    def __init__(self, folder: Path) -> None:
        path = folder / FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing")
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self.count = int(self._one("SELECT count(*) FROM chunks", ())[0])

    def _one(self, sql: str, args: Sequence[Any]) -> Any:
        with self._lock:
            return self._connection.execute(sql, args).fetchone()

    def chunk(self, row: int) -> Chunk:
        found = self._one("SELECT record FROM chunks WHERE row = ?", (row,))
        if found is None:
            raise KeyError(row)
        return chunk_from(json.loads(found[0]))

    def chunks(self, rows: Sequence[int] | None = None) -> Iterator[Chunk]:
        with self._lock:
            found = self._connection.execute("SELECT row, record FROM chunks ORDER BY row").fetchall()
        wanted = None if rows is None else set(rows)
        for row, record in found:
            if wanted is None or row in wanted:
                yield chunk_from(json.loads(record))

    def document(self, doc_id: str) -> Document:
        found = self._one("SELECT record FROM documents WHERE id = ?", (doc_id,))
        if found is None:
            raise KeyError(doc_id)
        return document_from(json.loads(found[0]))

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def _dump(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def chunk_from(record: dict[str, Any]) -> Chunk:
    record["quotable"] = tuple(tuple(span) for span in record["quotable"])
    return Chunk(**record)


def document_from(record: dict[str, Any]) -> Document:
    record["paragraphs"] = tuple(Paragraph(**p) for p in record["paragraphs"])
    return Document(**record)
