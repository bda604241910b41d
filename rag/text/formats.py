"""File formats → text blocks: plain text, Markdown, HTML, PDF and Word.

Each reader returns the article's blocks (body text, headings, captions) in
reading order; ``rag.ingest.documents`` classifies them and assembles the ``Document``.
A file that cannot be read raises ``IngestError`` naming it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ..errors import IngestError
from .cleaning import SENTENCE_END, split_runs
from .dates import HTML_META, HTML_TIME

BODY, HEADING, CAPTION = "body", "heading", "caption"
#: The most a Word file may unpack to: its parts are read whole, so a small file that unzips to
#: gigabytes (a decompression bomb) is refused by its declared sizes before anything is inflated.
MAX_DOCX_UNPACKED_BYTES = 128 * 1024 * 1024


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
_HTML_DATE_META = frozenset(
    {
        "article:published_time",
        "og:article:published_time",
        "og:published_time",
        "datepublished",
        "pubdate",
        "publishdate",
        "publish-date",
        "publish_date",
        "date",
        "dc.date",
        "dc.date.issued",
        "dcterms.date",
        "parsely-pub-date",
        "sailthru.date",
    }
)


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
            f"this Word file unpacks to {unpacked / 1024 / 1024:.0f} MB, over {MAX_DOCX_UNPACKED_BYTES // 1024 // 1024} MB / 该 Word 文件解压后过大，已拒绝",
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
