"""The library as a list: one row per document, filtered, newest first, a page at a time.

Why: an archive of 20,000 articles cannot be shown as one list of raw titles. A row is
what a reader scans by — the date, where it came from, how long it is, how many copies
of the story the library holds, and a title worth reading — and the list is searched,
narrowed by dates and source, and paged.

Why it is fast: the date, source and story of each document come from the store's
manifest; its title, paragraph count and folded text (what the search box matches) are
read from its record once per document version (the manifest's sha256) and kept, so a
new generation re-reads only the documents it changed and no query reads text from
disk. Sorting happens once per generation; a filter's matches are kept for paging.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError
from ..ingest.documents import HEADING, Document
from ..ingest.jsonl import JSONL_SUFFIXES
from ..settings import Settings
from ..text.dates import check_day, in_range, is_partial
from ..text.folding import fold_chars
from ..text.headline import display_title
from .base import Store

#: Rows a page holds unless asked otherwise (``RAG_DOCUMENTS_PAGE`` sets the app's and the CLI's).
PAGE_SIZE: int = Settings.documents_page
#: The most rows one page may hold: a page is for reading, an export is another tool.
MAX_PAGE = 1000
#: Filters whose matches are kept per generation, so that paging through one never filters again.
_FILTERS_KEPT = 16


@dataclass(frozen=True)
class DocumentRow:
    """One document as the library lists it."""

    id: str
    title: str  # a headline worth reading (rag.text.headline.display_title), not always the raw title
    published: str  # YYYY-MM-DD, "" when undated (or dated without a year)
    source: str  # where it came from: an archive's file name, a web site, the folder of a file
    paragraphs: int
    copies: int  # documents telling the same story (rag.ingest.stories), itself included
    story: str = ""  # the story's id (its own id when no other document tells it)
    sha256: str = ""  # the version indexed


@dataclass(frozen=True)
class Listing:
    """Which documents to list: ``text`` (every word, in title or text, folded), published in
    [``since``, ``until``] (YYYY-MM-DD, either open), from ``source``; ``limit`` rows from ``offset``."""

    text: str = ""
    since: str = ""
    until: str = ""
    source: str = ""
    limit: int = PAGE_SIZE
    offset: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", check_day(self.since, "since"))
        object.__setattr__(self, "until", check_day(self.until, "until"))
        if not 1 <= self.limit <= MAX_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_PAGE}, not {self.limit} / 每页条数应在 1 到 {MAX_PAGE} 之间")
        if self.offset < 0:
            raise InputError(f"offset must not be negative, not {self.offset} / 起始位置不能为负数")

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(fold_chars(self.text).split())

    @property
    def key(self) -> tuple[Any, ...]:
        """What decides the matches (not the page)."""
        return (self.terms, self.since, self.until, self.source.strip())


@dataclass(frozen=True)
class DocumentPage:
    """One page of the list, and what the whole list holds."""

    rows: tuple[DocumentRow, ...]
    total: int  # documents matching the listing
    offset: int
    limit: int
    documents: int  # documents in the library
    sources: tuple[tuple[str, int], ...] = ()  # every source and its documents, most first: the filter's choices


@dataclass(frozen=True)
class _Facts:
    """What a page shows that only the document's record holds: read once per version, for the rows shown."""

    title: str
    paragraphs: int


def facts_of(document: Document) -> _Facts:
    lead = document.text[document.paragraphs[0].start : document.paragraphs[0].end] if document.paragraphs else document.text
    opens_with_heading = bool(document.paragraphs) and document.paragraphs[0].kind == HEADING
    return _Facts(document.title if opens_with_heading else display_title(document.title, lead), len(document.paragraphs))


def searchable(document: Document) -> str:
    """What the search box matches: title and text, folded character by character (rag.text.folding.fold_chars)."""
    return fold_chars(f"{document.title}\n{document.text}")


def origin(source: str) -> str:
    """Where a document came from, shortly: a web page's site, an archive's file name, a file's folder."""
    if "://" in source:
        return urlsplit(source).netloc or source
    path = Path(source)
    return (path.name if path.name.lower().endswith(JSONL_SUFFIXES) else path.parent.name) or source


def day(published: str) -> str:
    return "" if not published or is_partial(published) else published[:10]


@dataclass(frozen=True)
class _Table:
    """One generation's documents newest first, with what filters read: all from the manifest."""

    store: Store | None
    ids: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()  # sha256, rows as ids
    days: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    copies: tuple[int, ...] = ()
    stories: tuple[str, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, store: Store) -> _Table:
        entries: Mapping[str, Mapping[str, Any]] = store.manifest.documents
        members = store.story_members
        published = {d: str(e.get("published", "")) for d, e in entries.items()}
        ids = sorted(entries)
        ids.sort(key=lambda d: "" if is_partial(published[d]) else published[d], reverse=True)  # stable: ties by id; undated last
        sources = tuple(origin(str(entries[d].get("source", ""))) for d in ids)
        return cls(
            store,
            tuple(ids),
            tuple(str(entries[d].get("sha256", "")) for d in ids),
            tuple(day(published[d]) for d in ids),
            sources,
            tuple(len(members.get(store.story(d), ())) or 1 for d in ids),
            tuple(store.story(d) for d in ids),
            tuple(sorted(Counter(sources).items(), key=lambda c: (-c[1], c[0]))),
        )


class Library:
    """The listing's cache: the table per generation, matches per filter, and per document version its
    row facts (read for the rows shown) and searchable text (read for all, once, in the background)."""

    def __init__(self) -> None:
        self._table = _Table(None)
        self._matches: dict[tuple[Any, ...], list[int]] = {}
        self._facts: dict[tuple[str, str], _Facts] = {}
        self._texts: dict[tuple[str, str], str] = {}
        self._texts_of: tuple[_Table, list[str]] | None = None  # the last table's texts, rows as its
        self._lock = threading.Lock()  # the table, matches and facts
        self._texts_lock = threading.Lock()  # the searchable texts: folding them all takes a while

    def page(self, store: Store | None, listing: Listing) -> DocumentPage:
        """``listing``'s page of ``store``'s documents (an empty page without a store)."""
        if store is None:
            return DocumentPage((), 0, listing.offset, listing.limit, 0)
        with self._lock:
            table, fresh = self._table_of(store)
        if fresh:  # the first search need not wait for every text to be read and folded
            threading.Thread(target=self._warm, args=(table,), name="library-texts", daemon=True).start()
        key = listing.key
        with self._lock:
            known = key in self._matches
        texts = self._searchable(table) if listing.terms and not known else ()
        with self._lock:
            if key not in self._matches:
                if len(self._matches) >= _FILTERS_KEPT:
                    self._matches.clear()
                self._matches[key] = _match(table, listing, texts)
            shown = self._matches[key][listing.offset : listing.offset + listing.limit]
            rows = tuple(self._row(table, i) for i in shown)
            total = len(self._matches[key])
        return DocumentPage(rows, total, listing.offset, listing.limit, len(table.ids), table.counts)

    def _table_of(self, store: Store) -> tuple[_Table, bool]:
        if store is self._table.store:
            return self._table, False
        self._table, self._matches = _Table.of(store), {}
        live = set(zip(self._table.ids, self._table.versions, strict=True))
        self._facts = {k: v for k, v in self._facts.items() if k in live}  # versions no longer in the index are let go
        return self._table, True

    def _row(self, table: _Table, i: int) -> DocumentRow:
        key = (table.ids[i], table.versions[i])
        if key not in self._facts:
            assert table.store is not None
            self._facts[key] = facts_of(table.store.documents[key[0]])
        fact = self._facts[key]
        return DocumentRow(key[0], fact.title, table.days[i], table.sources[i], fact.paragraphs, table.copies[i], table.stories[i], key[1])

    def _searchable(self, table: _Table) -> list[str]:
        """Every document's searchable text, rows as the table's; only versions not seen before are read."""
        assert table.store is not None
        with self._texts_lock:
            if self._texts_of is not None and self._texts_of[0] is table:
                return self._texts_of[1]
            keys = list(zip(table.ids, table.versions, strict=True))
            texts = {k: self._texts.get(k) or searchable(table.store.documents[k[0]]) for k in keys}
            self._texts, self._texts_of = texts, (table, [texts[k] for k in keys])
            return self._texts_of[1]

    def _warm(self, table: _Table) -> None:
        try:
            self._searchable(table)
        except Exception:  # noqa: BLE001 — a head start only: the search that needs the texts reads them and reports
            return


def _match(table: _Table, listing: Listing, texts: Sequence[str]) -> list[int]:
    terms, source = listing.terms, listing.source.strip()
    dated = bool(listing.since or listing.until)
    found = []
    for i in range(len(table.ids)):
        if source and table.sources[i] != source:
            continue
        if dated and not in_range(table.days[i], listing.since, listing.until):
            continue
        if terms and not all(term in texts[i] for term in terms):
            continue
        found.append(i)
    return found


__all__ = ["MAX_PAGE", "PAGE_SIZE", "DocumentPage", "DocumentRow", "Library", "Listing", "facts_of", "origin", "searchable"]
