"""RSS and Atom feeds read from bytes already fetched: the feed's title and its entries' links, titles and dates.

feedparser is only ever given a byte stream, never a URL or a string it might
take for one, so it fetches nothing: every request goes through rag.web.fetch.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from ..errors import FetchError
from .fetch import Fetched

#: Content types that say "a feed"; a body that opens like one counts too.
_FEED_TYPES = ("rss", "atom", "xml")
_FEED_OPENINGS = (b"<?xml", b"<rss", b"<feed", b"<rdf")
_ISO = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Entry:
    url: str
    title: str = ""
    published: str = ""  # ISO 8601, "" when the entry has no date


@dataclass(frozen=True)
class Feed:
    url: str
    title: str
    entries: tuple[Entry, ...]


def looks_like_feed(page: Fetched) -> bool:
    """A response served as RSS/Atom/XML, or whose body opens like a feed (an HTML page does not)."""
    kind = page.content_type.split(";")[0].strip().lower()
    if any(word in kind for word in _FEED_TYPES):
        return True
    return page.body.lstrip()[:64].lower().startswith(_FEED_OPENINGS) and b"<html" not in page.body[:1024].lower()


def _when(item: Any) -> str:
    """The entry's date as its feed wrote it, in the feed's own time zone (feedparser's parsed dates are UTC,
    which moves a Chinese report of 7 a.m. to the day before); feedparser's reading when the text is unusual."""
    for key in ("published", "updated"):
        raw = str(item.get(key) or "").strip()
        if not raw:
            continue
        try:
            return parsedate_to_datetime(raw).strftime(_ISO)
        except (TypeError, ValueError, IndexError):
            pass
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).strftime(_ISO)
        except ValueError:
            parsed = item.get(f"{key}_parsed")
            if parsed:
                return time.strftime(_ISO, parsed)
    return ""


def parse_feed(page: Fetched) -> Feed:
    """The feed in ``page``; a body that is not RSS or Atom is a FetchError naming the URL."""
    import feedparser

    headers = {"content-location": page.url, **({"content-type": page.content_type} if page.content_type else {})}
    parsed = feedparser.parse(io.BytesIO(page.body), response_headers=headers, resolve_relative_uris=True, sanitize_html=True)
    if not parsed.get("version") or (parsed.get("bozo") and not any(e.get("link") for e in parsed.entries)):
        why = parsed.get("bozo_exception")
        raise FetchError(page.url, f"not an RSS or Atom feed ({why or 'no entries'}) / 不是有效的 RSS 或 Atom 订阅源")
    entries = []
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            continue
        entries.append(Entry(urljoin(page.url, link), str(item.get("title") or "").strip(), _when(item)))
    return Feed(page.url, str(parsed.feed.get("title") or "").strip(), tuple(entries))


__all__ = ["Entry", "Feed", "looks_like_feed", "parse_feed"]
