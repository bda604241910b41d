"""Files → ``Document``: decoding, main-text extraction, paragraphs classified (rag.cleaning).

A document's ``text`` is the cleaned article: its paragraphs joined by a blank
line. Every later offset (chunks, quotes, highlights) points into that text, so
the UI can show and highlight the exact source.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cleaning import SENTENCE_END, is_caption, looks_like_heading, split_runs, strip_furniture
from .dates import HTML_META, HTML_TIME, find_published

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
PARAGRAPH_SEPARATOR = "\n\n"
#: The most a Word file may unpack to: its parts are read whole, so a small file that unzips to
#: gigabytes (a decompression bomb) is refused by its declared sizes before anything is inflated.
MAX_DOCX_UNPACKED_BYTES = 128 * 1024 * 1024

BODY, HEADING, CAPTION = "body", "heading", "caption"


class IngestError(Exception):
    """A file that cannot become a document; the message names the file."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


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


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class _Block:
    text: str
    kind: str = BODY  # BODY, HEADING or CAPTION; BODY may still be reclassified


#: A scraped article's leading metadata (time, outlet, breadcrumbs) up to the 正文： that opens the body.
_LEADING_META = re.compile(r"^\s*(?P<head>[^\n]{0,200}?)[，,]?\s*正文\s*[:：]")


def split_header(text: str) -> tuple[str, str]:
    """(leading metadata, article): the metadata is read for a date and kept out of the text."""
    m = _LEADING_META.match(text)
    return (m.group("head"), text[m.end() :]) if m else ("", text)


def _plain_blocks(text: str) -> list[_Block]:
    """One paragraph per non-empty line (Chinese articles rarely wrap lines); scraped space runs split or collapse."""
    return [_Block(part) for line in text.splitlines() for part in split_runs(line)]


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_MD_LIST = re.compile(r"^\s*([-*+]|\d+[.)])\s+")
_MD_QUOTE = re.compile(r"^\s*>\s?")


def _markdown_blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or re.fullmatch(r"\s*([-*_=]\s*){3,}", line) or line.strip().startswith("```"):
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            blocks.append(_Block(_md_inline(heading.group(1)), HEADING))
            continue
        image = _MD_IMAGE.fullmatch(line.strip())
        if image:
            if image.group(1).strip():
                blocks.append(_Block(image.group(1).strip(), CAPTION))
            continue
        blocks.extend(_Block(part) for part in split_runs(_md_inline(_MD_QUOTE.sub("", _MD_LIST.sub("", line)))))
    return [b for b in blocks if b.text]


def _md_inline(text: str) -> str:
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    return _MD_EMPHASIS.sub("", text).strip()


_HTML_DROP = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "button")
_HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "figcaption", "blockquote", "pre", "td", "th", "dd", "dt")


#: <meta> names and properties that hold an article's publication date.
_HTML_DATE_META = frozenset({
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "publish_date", "date", "dc.date", "dc.date.issued", "dcterms.date", "parsely-pub-date", "sailthru.date",
})  # fmt: skip


def _html_dates(soup: Any) -> tuple[tuple[str, str], ...]:
    """Candidate publication dates of a page: article <meta> tags first, then the first <time>."""
    found: list[tuple[str, str]] = []
    for tag in soup.find_all("meta"):
        key = str(tag.get("property") or tag.get("name") or tag.get("itemprop") or "").lower()
        if key in _HTML_DATE_META and tag.get("content"):
            found.append((str(tag["content"]), HTML_META))
    for tag in soup.find_all("time"):
        found.append((str(tag.get("datetime") or tag.get_text(" ", strip=True)), HTML_TIME))
    return tuple(found)


def _html_blocks(text: str) -> tuple[list[_Block], str, tuple[tuple[str, str], ...]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    dates = _html_dates(soup)
    for tag in soup(list(_HTML_DROP)):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    blocks: list[_Block] = []
    for element in root.find_all(list(_HTML_BLOCKS)):
        if element.find(list(_HTML_BLOCKS)):
            continue  # a container: its inner blocks are visited on their own
        content = re.sub(r"\s+", " ", element.get_text(" ", strip=True)).strip()
        if not content:
            continue
        kind = HEADING if element.name in ("h1", "h2", "h3", "h4", "h5", "h6") else BODY
        if element.name == "figcaption":
            kind = CAPTION
        blocks.append(_Block(content, kind))
    if not blocks:
        blocks = _plain_blocks(root.get_text("\n"))
    return blocks, page_title, dates


def _pdf_blocks(data: bytes, name: str) -> list[_Block]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many types for damaged files
        raise IngestError(name, f"cannot read this PDF ({exc.__class__.__name__}) / 无法解析该 PDF 文件") from exc
    lines: list[str] = []
    for page in pages:
        lines.extend(_rejoin_pdf_lines(page.splitlines()))
    return [_Block(line) for line in lines if line.strip()]


def _rejoin_pdf_lines(lines: list[str]) -> list[str]:
    """PDF text breaks lines at the page edge; a line ends a paragraph only at closing punctuation."""
    paragraphs: list[str] = []
    current = ""
    for line in (raw.strip() for raw in lines):
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        joiner = " " if current and current[-1].isascii() and line[0].isascii() else ""
        current = current + joiner + line if current else line
        if line[-1] in SENTENCE_END or len(line) < 20:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _docx_blocks(data: bytes, name: str) -> list[_Block]:
    import zipfile

    import docx

    try:
        # zipfile never inflates a member past its declared size, so checking the declared sizes suffices
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(name, f"cannot read this Word file ({exc.__class__.__name__}) / 无法解析该 Word 文件") from exc
    if unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise IngestError(
            name,
            f"this Word file unpacks to {unpacked / 1024 / 1024:.0f} MB, over {MAX_DOCX_UNPACKED_BYTES // 1024 // 1024} MB "
            "/ 该 Word 文件解压后过大，已拒绝",
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zip/xml errors for damaged files
        raise IngestError(name, f"cannot read this Word file ({exc.__class__.__name__}) / 无法解析该 Word 文件") from exc
    blocks = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
        kind = HEADING if style.startswith(("heading", "title", "标题")) else BODY
        blocks.append(_Block(text, kind))
    return blocks


# --------------------------------------------------------------------------- assembly


def _classify(blocks: list[_Block]) -> list[_Block]:
    """Drop furniture sentence by sentence; mark headings (of plain text) and photo captions.

    When only headings or captions remain they are the content (a one-line note
    is still a document): a file is unreadable only when no sentence is left.
    """
    kept = [_Block(text, b.kind) for b in blocks if (text := strip_furniture(b.text))]
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


_TITLE_MAX_CHARS = 40
_LEAD_LABEL = re.compile(r"^(编者按|编者的话|导读|摘要|提要|按语|editor'?s note)\s*[:：]\s*", re.IGNORECASE)


def derive_title(blocks: list[_Block], explicit: str = "") -> str:
    """The first heading when the document opens with one, else its first sentence."""
    if explicit.strip():
        return explicit.strip()[:_TITLE_MAX_CHARS * 2]
    if not blocks:
        return ""
    first = blocks[0]
    if first.kind == HEADING:
        return first.text
    sentence = re.split(r"(?<=[。！？!?；;])", _LEAD_LABEL.sub("", first.text), maxsplit=1)[0]
    sentence = sentence.rstrip("。！？!?；;")
    return sentence if len(sentence) <= _TITLE_MAX_CHARS else sentence[:_TITLE_MAX_CHARS] + "…"


def build_document(doc_id: str, blocks: list[_Block], sha256: str, meta: Mapping[str, str], title: str = "") -> Document:
    classified = _classify(blocks)
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
    return build_document(doc_id or Path(name).name, blocks, hashlib.sha256(data).hexdigest(), meta, title)


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
    from .jsonl import is_jsonl  # jsonl builds on this module

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
    from .jsonl import is_jsonl, read_jsonl

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
