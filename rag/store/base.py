"""The ``Store`` interface: what retrieval and the API need from an index, whatever holds it.

Rows are opaque integers a store hands out with its candidates and takes back
in ``chunk`` and ``similarity``; they stay valid until the store is reopened.
Each document's publication date and story come from the store's own records
(the manifest), so filtering and grouping never read whole documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..ingest.chunking import Chunk
from ..ingest.documents import Document
from ..text.dates import in_range
from .manifest import Manifest

#: (row, score) pairs, best first.
Ranked = list[tuple[int, float]]


@dataclass(frozen=True)
class DateRange:
    """Documents published in [since, until] (YYYY-MM-DD, either may be empty): the filter both channels apply."""

    since: str = ""
    until: str = ""

    def admits(self, published: str) -> bool:
        return in_range(published, self.since, self.until)


class ManifestFacts:
    """What every store answers from its manifest alone (dates, stories, titles): one copy for all stores."""

    _manifest: Manifest

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    @property
    def newest_published(self) -> str:
        return self._manifest.newest_published

    @property
    def story_members(self) -> Mapping[str, Sequence[str]]:
        return self._manifest.story_members

    def published(self, doc_id: str) -> str:
        return self._manifest.published(doc_id)

    def story(self, doc_id: str) -> str:
        return self._manifest.story(doc_id)

    def title(self, doc_id: str) -> str:
        return self._manifest.title(doc_id)


class Store(Protocol):
    @property
    def manifest(self) -> Manifest: ...

    @property
    def documents(self) -> Mapping[str, Document]: ...

    @property
    def size(self) -> int:
        """Live chunks."""
        ...

    @property
    def newest_published(self) -> str:
        """The newest publication date of its documents ("" when none is dated): what 最近 and 今年 count from."""
        ...

    @property
    def story_members(self) -> Mapping[str, Sequence[str]]:
        """Story id → its documents, for stories told by two or more."""
        ...

    def published(self, doc_id: str) -> str: ...

    def story(self, doc_id: str) -> str:
        """The story a document reports: its group's id, or its own id."""
        ...

    def title(self, doc_id: str) -> str: ...

    def dense(self, vector: np.ndarray, k: int, within: DateRange | None = None) -> Ranked:
        """The ``k`` chunks nearest to ``vector`` by inner product (of documents published ``within``)."""
        ...

    def lexical(self, tokens: Sequence[str], k: int, within: DateRange | None = None) -> Ranked:
        """The ``k`` best BM25 matches for ``tokens`` (positive scores only), statistics over live chunks."""
        ...

    def similarity(self, rows: Sequence[int], vector: np.ndarray) -> np.ndarray:
        """Inner products of these rows' vectors with ``vector``."""
        ...

    def chunk(self, row: int) -> Chunk: ...
