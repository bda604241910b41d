"""JSON Lines archives → ``Document``: one object ``{"id", "text"}`` a line, plain or gz/xz-compressed.

Why: news archives and dataset slices come as one JSONL file of many articles,
not as a folder of files. Each object becomes one document named by its ``id``
whose text is read exactly like a ``.txt`` file: one paragraph per line, and a leading
timestamp (``2023-08-11 15:10，正文：…``) read as its publication date and kept out of the text. A line that
cannot become a document — broken JSON, a missing or empty field, an id seen
before, undecodable bytes, no readable text — is reported with its line number
and skipped; every other line is kept. The errors name the archive itself, so
``rag ingest --prune`` never drops documents of an archive with a bad line.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import lzma
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from ..errors import IngestError
from .documents import READER, Document, parse_bytes

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.xz")
#: How a line is read, part of each document's hash: an index built by an earlier reading (which
#: kept a leading "2023-08-16 17:34:48，正文：" in the text and read no date, or — before /3 — kept the
#: 原标题 label, inline ads, photo credits and page footers in it) re-reads its lines.
READING = "txt-with-header/3"


def is_jsonl(path: Path) -> bool:
    return path.name.lower().endswith(JSONL_SUFFIXES)


def _open(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    if name.endswith(".xz"):
        return lzma.open(path, "rb")
    return open(path, "rb")


def _lines(path: Path, errors: list[IngestError]) -> Iterator[tuple[int, bytes]]:
    """Numbered raw lines; a truncated or corrupt archive ends the file with an error, keeping what came before."""
    number = 0
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, 1):  # noqa: B007 — the number is reported after the loop
                yield number, line
    except (OSError, EOFError, lzma.LZMAError) as exc:
        errors.append(IngestError(path, f"line {number + 1}: the archive is damaged ({exc}); the lines before it were read / 压缩文件损坏"))


def _document(path: Path, number: int, raw: bytes, seen: set[str]) -> Document:
    """One line as a document, or an IngestError saying why not (in English and Chinese)."""
    where = f"line {number}"
    try:
        record = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
    except UnicodeDecodeError:
        raise IngestError(path, f"{where}: not UTF-8 text / 不是 UTF-8 文本") from None
    except json.JSONDecodeError as exc:
        raise IngestError(path, f"{where}: not valid JSON ({exc.msg}) / 不是有效的 JSON") from None
    if not isinstance(record, dict):
        raise IngestError(path, f'{where}: expected an object {{"id", "text"}} / 每行应为含 id 和 text 的对象')
    doc_id, text = record.get("id"), record.get("text")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise IngestError(path, f'{where}: "id" is missing or empty / 缺少 id')
    if not isinstance(text, str) or not text.strip():
        raise IngestError(path, f'{where} ({doc_id}): "text" is missing or empty / 缺少正文')
    if doc_id in seen:
        raise IngestError(path, f"{where}: id {doc_id!r} appeared on an earlier line / id 重复")
    try:
        document = parse_bytes(text.encode("utf-8"), f"{doc_id}.txt", doc_id=doc_id, source=str(path.resolve()))
    except IngestError as exc:
        raise IngestError(path, f"{where} ({doc_id}): {exc.reason}") from None
    seen.add(doc_id)
    meta = {**document.meta, "file_name": path.name, "format": "jsonl", "line": str(number)}
    return dataclasses.replace(document, meta=meta, sha256=hashlib.sha256(f"{READING}\n{READER}\n{text}".encode()).hexdigest())


def read_jsonl(path: Path) -> tuple[list[Document], list[IngestError]]:
    """Every good line's document, and one error per bad line (or for a damaged archive)."""
    documents: list[Document] = []
    errors: list[IngestError] = []
    seen: set[str] = set()
    for number, raw in _lines(path, errors):
        if not raw.strip():
            continue
        try:
            documents.append(_document(path, number, raw, seen))
        except IngestError as exc:
            errors.append(exc)
    return documents, errors


__all__ = ["JSONL_SUFFIXES", "is_jsonl", "read_jsonl"]
