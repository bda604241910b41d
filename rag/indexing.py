"""Planning an index update: what an ingest or delete changes, and the report it gives back.

Kept apart from ``rag.api`` so the planning rules (same bytes → keep the vectors,
changed bytes → re-embed, a rebuild → re-embed everything) can be read and
tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .documents import Document, IngestError
from .store import Index


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


@dataclass
class Plan:
    """Which documents an update keeps, re-embeds, adds, updates and removes."""

    keep: dict[str, Document] = field(default_factory=dict)  # reuse chunks and vectors
    embed: dict[str, Document] = field(default_factory=dict)  # chunk and embed afresh
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)



def plan_update(old: Index | None, documents: list[Document], remove: list[str], rebuild: bool) -> Plan:
    """Compare the index's documents with the incoming ones by content hash; ``rebuild`` re-embeds everything."""
    plan = Plan()
    existing = dict(old.documents) if old else {}
    incoming = {d.id: d for d in documents}
    for doc_id, doc in existing.items():
        if doc_id in remove and doc_id not in incoming:
            plan.removed.append(doc_id)
        elif doc_id not in incoming:
            (plan.embed if rebuild else plan.keep)[doc_id] = doc
    for doc_id, doc in incoming.items():
        before = existing.get(doc_id)
        if before is None:
            plan.added.append(doc_id)
            plan.embed[doc_id] = doc
        elif before.sha256 != doc.sha256 or rebuild:
            (plan.updated if before.sha256 != doc.sha256 else plan.unchanged).append(doc_id)
            plan.embed[doc_id] = doc
        else:
            plan.unchanged.append(doc_id)
            plan.keep[doc_id] = doc  # same bytes; the source path may have moved
    return plan
