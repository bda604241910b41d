"""What the collection decides about its documents at each write: stories and completed years.

Both stores keep, per document, its served publication date, the yearless date
it was read with (if any) and its story id in their manifest entries, and the
LSH band keys of its MinHash beside its records. A write regroups only what it
touches (rag.stories.regroup) and completes yearless dates from the dated
entries, so adding one article never re-reads the collection's texts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np

from ..dates import is_partial, with_year
from ..documents import Document
from ..stories import StoredStories, StoryParams, lsh_shape, regroup, year_of


def stored_stories(entries: Mapping[str, Mapping[str, Any]], ids: Sequence[str], bands: np.ndarray, text: Callable[[str], str]) -> StoredStories:
    return StoredStories({doc_id: str(e.get("story") or doc_id) for doc_id, e in entries.items()}, ids, bands, text)


def no_bands(params: StoryParams, rows: int = 0) -> np.ndarray:
    return np.zeros((rows, lsh_shape(params.threshold, params.num_perm)[0]), dtype=np.uint64)


def annotate_write(
    entries: MutableMapping[str, dict[str, Any]], stored: StoredStories, fresh: Sequence[Document], removed: Sequence[str], params: StoryParams,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Update ``entries`` (fresh documents already in it, removed ones gone) with stories and dates; the fresh band keys.

    An entry that changes is replaced, never changed in place: ``entries`` may
    share the previous generation's entries, which a store may still be serving.
    """
    stories, bands = regroup(stored, {d.id: d.text for d in fresh}, removed, params)
    for document in fresh:
        raw = str(document.meta.get("published", ""))
        entries[document.id] = {**entries[document.id], "published": raw, "partial": raw if is_partial(raw) else ""}
    for doc_id, told in stories.items():
        if doc_id in entries and entries[doc_id].get("story") != told:
            entries[doc_id] = {**entries[doc_id], "story": told}
    complete_years(entries)
    return bands


def complete_years(entries: MutableMapping[str, dict[str, Any]]) -> None:
    """Yearless dates take the year most dated documents carry (rag.stories.year_of), as the collection stands now.

    Entries are replaced when their date changes, as in annotate_write.
    """
    year = year_of(str(e.get("published", "")) for e in entries.values() if not e.get("partial"))
    for doc_id, entry in entries.items():
        if entry.get("partial"):
            told = with_year(entry["partial"], year) if year is not None else entry["partial"]
            if entry.get("published") != told:
                entries[doc_id] = {**entry, "published": told}


__all__ = ["annotate_write", "complete_years", "no_bands", "stored_stories"]
