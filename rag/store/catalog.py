"""What the collection decides about its documents at each write: stories and completed years.

Both stores keep, per document, its served publication date, the yearless date
it was read with (if any) and its story id in their manifest entries, and the
LSH band keys of its MinHash beside its records. A write regroups only what it
touches (rag.ingest.stories.regroup) and completes yearless dates from the dated
entries, so adding one article never re-reads the collection's texts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ingest.documents import Document
from ..ingest.stories import StoredStories, StoryParams, likeliest_year, lsh_shape, regroup
from ..text.dates import is_partial, with_year
from .manifest import Manifest


def stored_stories(entries: Mapping[str, Mapping[str, Any]], ids: Sequence[str], bands: np.ndarray, text: Callable[[str], str]) -> StoredStories:
    return StoredStories({doc_id: str(e.get("story") or doc_id) for doc_id, e in entries.items()}, ids, bands, text)


def no_bands(params: StoryParams, rows: int = 0) -> np.ndarray:
    return np.zeros((rows, lsh_shape(params.threshold, params.num_perm)[0]), dtype=np.uint64)


def annotate_write(
    entries: MutableMapping[str, dict[str, Any]],
    stored: StoredStories,
    fresh: Sequence[Document],
    removed: Sequence[str],
    params: StoryParams,
    before: Manifest | None = None,
) -> tuple[dict[str, np.ndarray], Years]:
    """Update ``entries`` (fresh documents already in it, removed ones gone) with stories and dates.

    Returns the fresh band keys and the collection's year counts and yearless documents after the
    write, worked out from ``before``'s (the previous generation) and the documents written, so a
    write never walks every entry. An entry that changes is replaced, never changed in place:
    ``entries`` may share the previous generation's entries, which a store may still be serving.
    """
    stories, bands = regroup(stored, {d.id: d.text for d in fresh}, removed, params)
    gone = {d: before.documents[d] for d in (*removed, *(d.id for d in fresh)) if d in before.documents} if before else {}
    years = Years.of(before).without(gone)
    for document in fresh:
        raw = str(document.meta.get("published", ""))
        entries[document.id] = {**entries[document.id], "published": raw, "partial": raw if is_partial(raw) else ""}
        years = years.with_entry(document.id, entries[document.id])
    for doc_id, told in stories.items():
        if doc_id in entries and entries[doc_id].get("story") != told:
            entries[doc_id] = {**entries[doc_id], "story": told}
    complete_years(entries, years)
    return bands, years


def move_sources(entries: MutableMapping[str, dict[str, Any]], sources: Mapping[str, str] | None) -> None:
    """Record where documents were found this time (doc id → source); replaced entries, as in annotate_write."""
    for doc_id, source in (sources or {}).items():
        if doc_id in entries and entries[doc_id].get("source") != source:
            entries[doc_id] = {**entries[doc_id], "source": source}


@dataclass(frozen=True)
class Years:
    """Dated documents per year and the documents dated without a year (rag.store.manifest keeps both)."""

    counts: Counter[int]
    partials: frozenset[str]

    @classmethod
    def of(cls, manifest: Manifest | None) -> Years:
        return cls(manifest.year_counts(), frozenset(manifest.partial_ids())) if manifest else cls(Counter(), frozenset())

    def without(self, gone: Mapping[str, Mapping[str, Any]]) -> Years:
        """Less the documents ``gone`` (doc id → their entry as it was)."""
        counts, partials = Counter(self.counts), set(self.partials)
        for doc_id, entry in gone.items():
            if entry.get("partial"):
                partials.discard(doc_id)
            elif entry.get("published"):
                counts[int(str(entry["published"])[:4])] -= 1
        return Years(+counts, frozenset(partials))

    def with_entry(self, doc_id: str, entry: Mapping[str, Any]) -> Years:
        if entry.get("partial"):
            return Years(self.counts, self.partials | {doc_id})
        if not entry.get("published"):
            return self
        return Years(self.counts + Counter({int(str(entry["published"])[:4]): 1}), self.partials)

    @property
    def year(self) -> int | None:
        """The year most dated documents carry, as rag.ingest.stories.year_of picks it."""
        return likeliest_year(self.counts)

    def as_manifest(self) -> dict[str, Any]:
        return {"years": {str(y): n for y, n in sorted(self.counts.items())}, "partials": tuple(sorted(self.partials))}


def complete_years(entries: MutableMapping[str, dict[str, Any]], years: Years) -> None:
    """Yearless dates take the year most dated documents carry, as the collection stands now (``years``).

    Only the yearless documents are visited. Entries are replaced when their date changes, as in annotate_write.
    """
    year = years.year
    for doc_id in sorted(years.partials):
        entry = entries[doc_id]
        told = with_year(entry["partial"], year) if year is not None else entry["partial"]
        if entry.get("published") != told:
            entries[doc_id] = {**entry, "published": told}


__all__ = ["Years", "annotate_write", "complete_years", "move_sources", "no_bands", "stored_stories"]
