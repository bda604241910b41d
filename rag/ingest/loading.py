"""Reading what a user points at: folders walked, files parsed, archives read line by line.

The dispatch between one file (``rag.ingest.documents.parse_bytes``) and a JSONL archive
(``rag.ingest.jsonl``) lives here, above both, so neither has to import the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import IngestError
from .documents import SUPPORTED_SUFFIXES, Document, parse_bytes
from .jsonl import is_jsonl, read_jsonl


def load_document(path: Path, root: Path | None = None) -> Document:
    """Read one file; the document id is its path relative to ``root``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(path, f"cannot read the file ({exc.strerror}) / 无法读取文件") from exc
    doc_id = path.relative_to(root).as_posix() if root is not None else path.name
    return parse_bytes(data, path.name, doc_id=doc_id, source=str(path.resolve()))


def discover(paths: Iterable[Path]) -> Iterator[tuple[Path, Path | None]]:
    """(file, root) pairs: folders are walked for supported files, files are taken as given."""
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                readable = file.suffix.lower() in SUPPORTED_SUFFIXES or is_jsonl(file)
                if file.is_file() and readable and not _skipped(file, path):
                    yield file, path
        else:
            yield path, None


def _skipped(file: Path, root: Path) -> bool:
    """Hidden files, and a folder's README, which describes the folder rather than being an article."""
    hidden = any(part.startswith(".") for part in file.relative_to(root).parts)
    return hidden or file.stem.upper() == "README"


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[IngestError]]:
    """Every readable document, and one error per file (or JSONL line) that could not be read."""
    documents: list[Document] = []
    errors: list[IngestError] = []
    for file, root in discover(paths):
        if not file.exists():
            errors.append(IngestError(file, "no such file or folder / 文件不存在"))
            continue
        if is_jsonl(file):
            found, failed = read_jsonl(file)
            documents.extend(found)
            errors.extend(failed)
            continue
        try:
            documents.append(load_document(file, root))
        except IngestError as exc:
            errors.append(exc)
    return documents, errors


__all__ = ["discover", "load_document", "load_documents"]
