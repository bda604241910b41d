"""Planning an index update: what an ingest or delete changes, and the report it gives back.

Kept apart from ``rag.api`` so the planning rules (same bytes → keep the vectors,
changed bytes → re-embed, a rebuild → re-embed everything) can be read and
tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import IngestError
from .documents import Document


@dataclass(frozen=True)
class IngestReport:
    """What an ingest or delete did, document by document, and what it cost."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    errors: tuple[IngestError, ...] = ()
    rebuilt_because: str = ""
    chunks: int = 0
    embedded_chunks: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt_because)


@dataclass(frozen=True)
class CompactReport:
    """What ``rag compact`` merged."""

    segments_before: int
    segments_after: int
    chunks: int
    seconds: float


@dataclass
class Plan:
    """Which documents an update keeps, re-embeds, adds, updates and removes."""

    keep: dict[str, Document] = field(default_factory=dict)  # stays in the store (its source path may have moved)
    embed: dict[str, Document] = field(default_factory=dict)  # chunk and embed afresh
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def plan_update(existing: Mapping[str, Document | str], documents: list[Document], remove: list[str], rebuild: bool) -> Plan:
    """Compare the indexed documents with the incoming ones by content hash; ``rebuild`` re-embeds everything.

    ``existing`` maps indexed ids to their sha256, or (for a rebuild) to the documents themselves.
    """
    plan = Plan()
    incoming = {d.id: d for d in documents}
    for doc_id, before in existing.items():
        if doc_id in remove and doc_id not in incoming:
            plan.removed.append(doc_id)
        elif doc_id not in incoming and rebuild and isinstance(before, Document):
            plan.embed[doc_id] = before
    for doc_id, doc in incoming.items():
        known = existing.get(doc_id)
        sha = known.sha256 if isinstance(known, Document) else known
        if known is None:
            plan.added.append(doc_id)
            plan.embed[doc_id] = doc
        elif sha != doc.sha256 or rebuild:
            (plan.updated if sha != doc.sha256 else plan.unchanged).append(doc_id)
            plan.embed[doc_id] = doc
        else:
            plan.unchanged.append(doc_id)
            plan.keep[doc_id] = doc  # same bytes; the source path may have moved
    return plan
