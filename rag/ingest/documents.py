"""Files → ``Document``: decoding, paragraphs classified (rag.text.cleaning), publication date, assembly.

The format readers live in rag.text.formats; their names used elsewhere are re-exported here.

A document's ``text`` is the cleaned article: its paragraphs joined by a blank
line. Every later offset (chunks, quotes, highlights) points into that text, so
the UI can show and highlight the exact source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..text.cleaning import SENTENCE_END, is_caption, looks_like_heading, split_furniture
from ..text.dates import find_published
from ..text.formats import (
    BODY,
    CAPTION,
    HEADING,
    MAX_DOCX_UNPACKED_BYTES,
    IngestError,
    _Block,
    _docx_blocks,
    _html_blocks,
    _markdown_blocks,
    _pdf_blocks,
    _plain_blocks,
    split_header,
)
from ..text.headline import split_original_title, take_trailing_original_title

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Paragraph:
    index: int
    start: int
    end: int
    kind: str = BODY


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str
    paragraphs: tuple[Paragraph, ...]
    sha256: str
    meta: Mapping[str, str] = field(default_factory=dict)

    def paragraph_text(self, index: int) -> str:
        p = self.paragraphs[index]
        return self.text[p.start : p.end]

    def paragraph_at(self, offset: int) -> int:
        """Index of the paragraph that contains character ``offset``."""
        for p in self.paragraphs:
            if offset < p.end:
                return p.index
        return self.paragraphs[-1].index if self.paragraphs else 0


# --------------------------------------------------------------------------- decoding


def decode_bytes(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), then GB18030 (a superset of GBK/GB2312)."""
    if not data.strip():
        raise IngestError(name, "the file is empty / 文件为空")
    if b"\x00" in data[:4096]:
        raise IngestError(name, "this looks like a binary file, not text / 这不是文本文件")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise IngestError(name, "cannot decode as UTF-8 or GB18030/GBK / 无法识别文件编码")


def _looks_like_text(text: str) -> bool:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls <= len(text) * 0.01


# --------------------------------------------------------------------------- assembly


def _classify(blocks: list[_Block]) -> list[_Block]:
    """Drop furniture sentence by sentence and inline; mark headings (of plain text) and photo captions.

    When only headings or captions remain they are the content (a one-line note
    is still a document): a file is unreadable only when no sentence is left.
    """
    kept = [_Block(piece.text, CAPTION if piece.caption else b.kind) for b in blocks for piece in split_furniture(b.text)]
    result = []
    for i, block in enumerate(kept):
        kind = block.kind
        if kind == BODY and is_caption(block.text):
            kind = CAPTION
        elif kind == BODY:
            following = kept[i + 1].text if i + 1 < len(kept) else None
            if looks_like_heading(block.text, following):
                kind = HEADING
        result.append(_Block(block.text, kind))
    if result and all(b.kind != BODY for b in result):
        result = [_Block(b.text) for b in result]
    return result


#: An original headline (原标题：X) opens the article: one of its first few paragraphs, after nothing but short lines.
_HEADLINE_BLOCKS = 3
_PRELUDE_MAX_CHARS = 30


def take_original_title(blocks: list[_Block]) -> tuple[str, list[_Block]]:
    """The original headline (原标题：X) out of the text: (a title placed after the article, the blocks).

    One opening the article becomes its heading — the title, and searchable context for
    the chunks under it, never quoted — and the text glued after it stays a paragraph;
    one placed after a sentence (（原标题：X）) only leaves the text, its X returned.
    """
    trailing = ""
    result: list[_Block] = []
    opened = False
    for i, block in enumerate(blocks):
        text = block.text
        if i < _HEADLINE_BLOCKS and not opened and all(_is_prelude(b.text) for b in blocks[:i]):
            headline = split_original_title(text)
            if headline is not None:
                opened, text = True, headline.rest
                if headline.title:
                    result.append(_Block(headline.title, HEADING))
        title, rest = take_trailing_original_title(text) if text else ("", [])
        trailing = trailing or title
        result += [_Block(part, block.kind) for part in rest]
    return trailing, result


def _is_prelude(text: str) -> bool:
    """A short line with no sentence in it (a section's name, a date) may come before the original headline."""
    text = text.strip()
    return len(text) <= _PRELUDE_MAX_CHARS and not (text and text[-1] in SENTENCE_END)


def _foreign(title: str, blocks: list[_Block]) -> bool:
    """An English original headline of a Chinese article (本文译自…社论原标题：It is US that…) does not title its card."""
    return title.isascii() and bool(blocks) and not blocks[0].text.isascii()


_TITLE_MAX_CHARS = 40
_LEAD_LABEL = re.compile(r"^(编者按|编者的话|导读|摘要|提要|按语|editor'?s note)\s*[:：]\s*", re.IGNORECASE)


def derive_title(blocks: list[_Block], explicit: str = "") -> str:
    """The first heading when the document opens with one, else its first sentence."""
    if explicit.strip():
        return explicit.strip()[: _TITLE_MAX_CHARS * 2]
    if not blocks:
        return ""
    first = blocks[0]
    if first.kind == HEADING:
        return first.text
    sentence = re.split(r"(?<=[。！？!?；;])", _LEAD_LABEL.sub("", first.text), maxsplit=1)[0]
    sentence = sentence.rstrip("。！？!?；;")
    return sentence if len(sentence) <= _TITLE_MAX_CHARS else sentence[:_TITLE_MAX_CHARS] + "…"


def build_document(doc_id: str, blocks: list[_Block], sha256: str, meta: Mapping[str, str], title: str = "") -> Document:
    trailing, blocks = take_original_title(blocks)
    classified = _classify(blocks)
    if not title and trailing and not (classified and classified[0].kind == HEADING) and not _foreign(trailing, classified):
        title = trailing
    if not any(b.kind == BODY for b in classified):
        raise IngestError(meta.get("source", doc_id), "no readable text found / 没有可读取的正文")
    paragraphs: list[Paragraph] = []
    parts: list[str] = []
    offset = 0
    for i, block in enumerate(classified):
        if parts:
            offset += len(PARAGRAPH_SEPARATOR)
        paragraphs.append(Paragraph(i, offset, offset + len(block.text), block.kind))
        parts.append(block.text)
        offset += len(block.text)
    return Document(
        id=doc_id,
        title=derive_title(classified, title),
        text=PARAGRAPH_SEPARATOR.join(parts),
        paragraphs=tuple(paragraphs),
        sha256=sha256,
        meta=dict(meta),
    )


def parse_bytes(data: bytes, name: str, doc_id: str | None = None, source: str = "") -> Document:
    """Turn one file's bytes into a Document; ``name`` decides the format."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(name, f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)} / 不支持的文件类型")
    if not data.strip():
        raise IngestError(name, "the file is empty / 文件为空")
    title, header = "", ""
    html_dates: tuple[tuple[str, str], ...] = ()
    if suffix == ".pdf":
        blocks = _pdf_blocks(data, name)
    elif suffix == ".docx":
        blocks = _docx_blocks(data, name)
    else:
        text = decode_bytes(data, name)
        if suffix in (".html", ".htm"):
            blocks, title, html_dates = _html_blocks(text)
            title = next((b.text for b in blocks if b.kind == HEADING), title)
        else:
            header, text = split_header(text)
            blocks = _markdown_blocks(text) if suffix in (".md", ".markdown") else _plain_blocks(text)
    meta = {"source": source or name, "file_name": Path(name).name, "format": suffix.lstrip(".")}
    published = find_published(header, "\n".join(b.text for b in blocks[:3]), Path(name).name, html_dates)
    if published:
        meta |= {"published": published.iso, "published_source": published.source}
    return build_document(doc_id or Path(name).name, blocks, content_hash(data), meta, title)


#: How files are read and cleaned, part of every document's hash: when the rules that find titles and
#: page furniture change, an index re-reads its files on the next ingest instead of serving the old reading.
READER = "clean/3"


def content_hash(data: bytes) -> str:
    """A document's identity in the index: its bytes as this version of the reader reads them."""
    return hashlib.sha256(READER.encode() + b"\n" + data).hexdigest()


__all__ = [
    "READER",
    "content_hash",
    "BODY",
    "CAPTION",
    "HEADING",
    "MAX_DOCX_UNPACKED_BYTES",
    "PARAGRAPH_SEPARATOR",
    "SUPPORTED_SUFFIXES",
    "Document",
    "IngestError",
    "Paragraph",
    "build_document",
    "decode_bytes",
    "derive_title",
    "parse_bytes",
    "split_header",
]
