"""Web pages and feeds into an index through ``Rag``: ``rag ingest URL`` and the registered feeds' updates.

Why here, above ``Rag``: fetching and reading (rag.web) know nothing of an index; this
module decides what is new and hands it to ``Rag.ingest_documents``, so the index is
written by the one route every write takes. An update of the registered feeds:

* asks each feed conditionally (its stored ETag / Last-Modified): 304 is "nothing new",
  and nothing is fetched or embedded;
* skips entries whose URL is already in the index or already taken from this feed
  (copies of one story under other URLs are grouped by rag.ingest.stories);
* fetches each new entry's page and extracts its article, the entry's title and date
  standing in when the page has none; an entry whose page fails is reported, and tried
  again next time, while the others go on;
* never lets one feed stop the others: each feed's error is kept in its state.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from filelock import FileLock

from .api import Rag
from .collections import names as collection_names
from .errors import IngestError, InputError, RagError
from .ingest.documents import Document
from .ingest.plan import IngestReport
from .web.article import page_document
from .web.feed import Entry, looks_like_feed, parse_feed
from .web.fetch import fetch, is_web_url
from .web.registry import FeedState, load_feeds, save_feeds

#: What a feed request asks for: feeds first, anything XML next.
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class FeedUpdate:
    """What one feed's update did: the documents it added, the entries it skipped, and what failed."""

    url: str
    title: str = ""
    not_modified: bool = False
    added: tuple[str, ...] = ()
    skipped: int = 0
    errors: tuple[IngestError, ...] = ()  # entries whose page could not be fetched or read
    error: str = ""  # the feed itself could not be fetched, read or ingested

    @property
    def failed(self) -> bool:
        return bool(self.error or self.errors)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _lock(rag: Rag) -> FileLock:
    _ = rag.backend  # a named collection must exist before its feeds are written
    rag.index_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(rag.index_dir / ".feeds.lock"))


def indexed_urls(rag: Rag) -> set[str]:
    """The sources of every indexed document: a URL among them is in the index already."""
    if not rag.has_index():
        return set()
    return {str(entry.get("source", "")) for entry in rag.index().manifest.documents.values()}


def entry_documents(entries: Iterable[Entry], rag: Rag) -> tuple[dict[str, Document], list[IngestError]]:
    """Each entry's page fetched and read, by entry URL; a failing page is an error, the others go on."""
    documents: dict[str, Document] = {}
    errors: list[IngestError] = []
    for entry in entries:
        try:
            documents[entry.url] = page_document(fetch(entry.url, rag.settings), entry.title, entry.published)
        except IngestError as exc:
            errors.append(exc)
    return documents, errors


def ingest_urls(rag: Rag, urls: Iterable[str]) -> IngestReport:
    """``rag ingest URL …``: each page's article, or each new entry of a feed; failures are in the report's errors."""
    documents: list[Document] = []
    errors: list[IngestError] = []
    known = indexed_urls(rag)
    for url in urls:
        try:
            page = fetch(url, rag.settings, accept=FEED_ACCEPT.replace("*/*;q=0.5", "text/html, */*;q=0.8"))
            if looks_like_feed(page):
                fresh = [e for e in parse_feed(page).entries if e.url not in known]
                found, failed = entry_documents(fresh, rag)
                documents += found.values()
                errors += failed
            else:
                documents.append(page_document(page))
        except IngestError as exc:
            errors.append(exc)
    report = rag.ingest_documents(documents) if documents else IngestReport()
    return dataclasses.replace(report, errors=tuple(errors) + tuple(report.errors))


# --------------------------------------------------------------------------- the registered feeds


def list_feeds(rag: Rag) -> list[FeedState]:
    return load_feeds(rag.index_dir)


def add_feed(rag: Rag, url: str) -> FeedState:
    """Register ``url`` after checking that it is a feed; its entries come in with the next update."""
    if not is_web_url(url):
        raise InputError(f"{url}: a feed is an http(s) URL / 订阅源须为 http(s) 网址")
    feed = parse_feed(fetch(url, rag.settings, accept=FEED_ACCEPT))
    with _lock(rag):
        feeds = load_feeds(rag.index_dir)
        if any(f.url == url for f in feeds):
            raise InputError(f"{url} is registered already / 该订阅源已添加")
        state = FeedState(url, feed.title)
        save_feeds(rag.index_dir, [*feeds, state])
    return state


def remove_feed(rag: Rag, url: str) -> None:
    """Forget ``url``; the documents it brought stay in the index (``rag delete`` removes them)."""
    with _lock(rag):
        feeds = load_feeds(rag.index_dir)
        if not any(f.url == url for f in feeds):
            raise InputError(f"{url} is not a registered feed / 没有这个订阅源")
        save_feeds(rag.index_dir, [f for f in feeds if f.url != url])


def _update_one(rag: Rag, state: FeedState, known: set[str]) -> tuple[FeedState, FeedUpdate]:
    """One feed's update and its new state; its own failure is kept in both, never raised."""
    try:
        page = fetch(state.url, rag.settings, state.etag, state.last_modified, accept=FEED_ACCEPT)
        if page.not_modified:
            return dataclasses.replace(state, updated=_now(), error=""), FeedUpdate(state.url, state.title, not_modified=True)
        feed = parse_feed(page)
        fresh = [e for e in feed.entries if e.url not in known and e.url not in state.seen]
        documents, errors = entry_documents(fresh, rag)
        report = rag.ingest_documents(list(documents.values())) if documents else IngestReport()
    except RagError as exc:
        return dataclasses.replace(state, updated=_now(), error=str(exc)), FeedUpdate(state.url, state.title, error=str(exc))
    retried = {e.url for e in fresh} - set(documents)  # entries whose page failed: asked for again next time
    taken = [e.url for e in feed.entries if e.url not in retried]  # the feed's entries now, all in the index
    new_state = FeedState(state.url, feed.title or state.title, page.etag, page.last_modified, _now(), "; ".join(str(e) for e in errors), tuple(taken))
    added = tuple(report.added) + tuple(report.updated)
    return new_state, FeedUpdate(state.url, new_state.title, False, added, len(feed.entries) - len(fresh), tuple(errors))


def update_feeds(rag: Rag, urls: Iterable[str] = ()) -> list[FeedUpdate]:
    """Update every registered feed (or only ``urls``), one after another; each one's state is saved as it ends."""
    wanted = set(urls)
    results = []
    with _lock(rag):
        feeds = load_feeds(rag.index_dir)
        for i, state in enumerate(feeds):
            if wanted and state.url not in wanted:
                continue
            feeds[i], result = _update_one(rag, state, indexed_urls(rag))
            save_feeds(rag.index_dir, feeds)
            results.append(result)
    return results


def start_refresher(rag: Rag, report: Callable[[list[FeedUpdate]], None], every: float | None = None) -> threading.Event | None:
    """Update the feeds every ``every`` seconds (default ``feeds_every``; 0 = never) in a daemon thread; set the event to stop."""
    interval = rag.settings.feeds_every if every is None else every
    if interval <= 0:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            for name in collection_names(rag.settings):  # every collection's feeds, each in its own index
                try:
                    report(update_feeds(rag.in_collection(name)))
                except Exception as exc:  # a background refresh never ends the server; it says why and tries again later
                    report([FeedUpdate("", error=f"{name}: {exc.__class__.__name__}: {exc}")])

    threading.Thread(target=loop, name="feeds-refresher", daemon=True).start()
    return stop


__all__ = ["FEED_ACCEPT", "FeedUpdate", "add_feed", "indexed_urls", "ingest_urls", "list_feeds", "remove_feed", "start_refresher", "update_feeds"]
