"""The collection's feeds on the Documents tab: each with its last update and its error, if any.

Feeds are added and updated by ``rag feeds`` (and by ``rag serve`` itself every
``RAG_FEEDS_EVERY``); the app shows where each stands, so a reader sees a feed
that stopped working without reading the server's log.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from rag import FeedState, list_feeds

from .boundary import handler, status_in
from .labels import label, language
from .state import App


def _when(stamp: str) -> str:
    """An ISO time as the reader's local day and minute (the server's clock)."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def feed_html(feed: FeedState, lang: str) -> str:
    updated = label(lang, "feeds_updated").format(when=_when(feed.updated)) if feed.updated else label(lang, "feeds_never")
    entries = label(lang, "feeds_entries").format(n=len(feed.seen))
    error = f'<div class="feed-error">{escape(feed.error)}</div>' if feed.error else ""
    title = escape(feed.title or feed.url)
    return (
        f'<li class="feed{" failing" if feed.error else ""}"><a class="feed-title" href="{escape(feed.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        f'<span class="feed-meta">{updated} · {entries}</span>{error}</li>'
    )


def feeds_html(feeds: list[FeedState], lang: str) -> str:
    lang = language(lang)
    head = f'<div class="feeds-head">{escape(label(lang, "feeds_title"))}</div>'
    if not feeds:
        return f'<div class="feeds">{head}<div class="feeds-none">{escape(label(lang, "feeds_none"))}</div></div>'
    return f'<div class="feeds">{head}<ul>{"".join(feed_html(f, lang) for f in feeds)}</ul></div>'


@handler(outputs=("feeds",), on_error=status_in("ingest_status", "error_documents"))
def show_feeds(app: App, lang: str) -> dict[str, Any]:
    """The session's collection's feeds, on load and after a switch of collection."""
    return {"feeds": feeds_html(list_feeds(app.rag), lang)}
