"""A fetched article page → ``Document``: the article's paragraphs, its title, date and URL.

Why trafilatura: a news page is mostly not the article — navigation, related links, ads,
comments, the footer — and trafilatura finds the article's own paragraphs among them. It
is handed the HTML fetched by rag.web.fetch, never a URL, so it makes no request itself.
The paragraphs then pass the product's own cleaning (rag.ingest.documents), as a file's do.

The URL is the document's source (``meta["source"]`` and ``meta["url"]``); its id is made
from the URL but safe anywhere an id goes (a path segment of the HTTP API, a file name):
host and path with other characters replaced, and a short hash of the whole URL, so two
URLs never share an id.
"""

from __future__ import annotations

import functools
import hashlib
import re
from configparser import ConfigParser
from typing import Any
from urllib.parse import urlsplit

from ..errors import IngestError
from ..ingest.documents import BODY, Document, build_document, content_hash
from ..text.dates import find_published
from ..text.formats import _Block
from .charset import decode_page
from .fetch import Fetched

#: How a page is read, part of its document's hash: a change in reading re-reads the page.
WEB_READER = "web/1"
_ID_MAX_CHARS = 80
#: The least text, in characters, trafilatura's main extractor keeps as an article (a short Chinese report).
_MIN_ARTICLE_CHARS = 50
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def url_doc_id(url: str) -> str:
    """A readable, unique id for ``url`` made only of letters, digits and ``._-``."""
    parts = urlsplit(url)
    slug = _UNSAFE.sub("_", f"{parts.hostname or ''}{parts.path}").strip("_.")[:_ID_MAX_CHARS]
    return f"{slug}-{hashlib.sha1(url.encode('utf-8')).hexdigest()[:10]}"


@functools.cache
def _config() -> ConfigParser:
    """trafilatura's settings for Chinese news: its default least article size (250 characters) is a
    long English paragraph but a whole short Chinese report, which it would then read by a cruder fallback."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(_MIN_ARTICLE_CHARS))
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", str(_MIN_ARTICLE_CHARS // 5))
    return config


def _extract(html: str, url: str) -> tuple[list[str], str, str]:
    """(paragraphs, title, date) of the article in ``html``; markup dates only (no guessing from the text)."""
    import trafilatura

    found = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_images=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
        config=_config(),
    )
    if found is None:
        return [], "", ""
    values: dict[str, Any] = found if isinstance(found, dict) else found.as_dict()
    lines = [line.strip() for line in str(values.get("text") or "").split("\n") if line.strip()]
    return lines, str(values.get("title") or "").strip(), str(values.get("date") or "").strip()


def page_document(page: Fetched, title: str = "", published: str = "") -> Document:
    """The article on ``page``; ``title`` and ``published`` (a feed entry's) are used when the page has none."""
    html = decode_page(page.body, page.charset)
    lines, found_title, found_date = _extract(html, page.url)
    if not lines:
        raise IngestError(page.url, "no article text found on the page / 网页中没有找到正文")
    title = found_title or title
    while lines and title and lines[0] == title:
        lines = lines[1:]  # the headline is the title, not a paragraph
    if not lines:
        raise IngestError(page.url, "no article text found on the page / 网页中没有找到正文")
    meta = {"source": page.url, "url": page.url, "format": "html", "file_name": url_doc_id(page.url)}
    dated = find_published("", "", "", tuple((d, source) for d, source in ((found_date, "page"), (published, "feed")) if d))
    if dated is None:
        dated = find_published("", "\n".join(lines[:3]), "")
    if dated is not None:
        meta |= {"published": dated.iso, "published_source": dated.source}
    text = "\n".join(lines)
    digest = content_hash(f"{WEB_READER}\n{title}\n{meta.get('published', '')}\n{text}".encode())
    return build_document(url_doc_id(page.url), [_Block(line, BODY) for line in lines], digest, meta, title)


__all__ = ["WEB_READER", "page_document", "url_doc_id"]
