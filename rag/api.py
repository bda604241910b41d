"""The Python API: one object with ``ingest``, ``search`` and ``ask`` — what the CLI and UI call.

It holds the loaded model and index, reloads the index when another process
has written a newer generation, and serialises writers (a file lock across
processes, a thread lock inside one) so that concurrent uploads and questions
never see half an index.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

from .answer import EMPTY_QUESTION, Answer, compose
from .chunking import Chunk, ChunkerConfig, chunk_document
from .conversation import Message, Resolution, resolve
from .documents import Document, IngestError, load_documents, parse_bytes
from .embedding import Embedder
from .examples import ExampleCache
from .folding import language_of
from .question import Question, prepare
from .retrieval import Hit, search
from .settings import DEFAULT_MODEL_ID, RetrievalMode, Settings, load_settings, parse_enum
from .sharding import Shard
from .store import Backend, IndexMismatch, IndexMissing, Manifest, Store, backend_for

if TYPE_CHECKING:
    from .llm import LLMEvent

#: progress(stage, done, total); stage is "embed" while vectors are computed.
Progress = Callable[[str, int, int], None]


class QuestionError(ValueError):
    """A question that cannot be asked (empty, too long); the message is in the question's language."""


@dataclass(frozen=True)
class IngestReport:
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
    segments_before: int
    segments_after: int
    chunks: int
    seconds: float


@dataclass
class _Plan:
    keep: dict[str, Document] = field(default_factory=dict)  # stays in the store (its source path may have moved)
    embed: dict[str, Document] = field(default_factory=dict)  # chunk and embed afresh
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class Rag:
    """The product as a library object; construct cheaply, the model loads on first use."""

    def __init__(self, settings: Settings | None = None, index_dir: str | Path | None = None) -> None:
        self.settings = settings or load_settings()
        self.index_dir = Path(index_dir or self.settings.index_dir)
        self.chunker = ChunkerConfig.from_settings(self.settings)
        self.embedder = Embedder(self.settings)
        self._index: Store | None = None
        self._generation = ""
        self._lock = threading.RLock()  # guards the loaded index reference; held only briefly
        self._write_lock = threading.Lock()  # one writer at a time in this process; readers never wait on it
        self._examples = ExampleCache(self.generation, self.documents, lambda q: not self.ask(q).refused)

    # ------------------------------------------------------------------ state

    def warm_up(self) -> None:
        self.embedder.warm_up()

    @cached_property
    def model_fingerprint(self) -> str:
        """The model id recorded in the manifest; the default model includes its source file's hash (hashed once)."""
        if self.settings.embed_model != DEFAULT_MODEL_ID:
            return self.settings.embed_model
        from .offline_model import model_info

        return f"{DEFAULT_MODEL_ID}@{model_info(self.settings)['source_sha256'][:12]}"

    @cached_property
    def backend(self) -> Backend:
        """Where the index lives (``RAG_STORE``); connected on first use."""
        return backend_for(self.index_dir, self.settings)

    def has_index(self) -> bool:
        return bool(self.generation())

    def generation(self) -> str:
        """The name of the index generation now ("" without an index): changes with every write."""
        return str(self.backend.generation())

    def example_questions(self) -> list[str]:
        """Questions the indexed documents answer, made from them and checked by asking (cached per generation)."""
        return self._examples.get()

    def index(self) -> Store:
        """The current generation, reopened (reusing unchanged segments) when a writer has replaced it."""
        with self._lock:
            generation = self.generation()
            if self._index is None or generation != self._generation:
                if not generation:
                    raise IndexMissing(f"no index in {self.index_dir}: run `rag ingest` first / 尚未建立索引，请先导入文档")
                self._index = self.backend.open(self._index)
                self._generation = generation
            return self._index

    def documents(self) -> list[Document]:
        if not self.has_index():
            return []
        return sorted(self.index().documents.values(), key=lambda d: d.id)

    def document(self, doc_id: str) -> Document:
        return self.index().documents[doc_id]

    # ------------------------------------------------------------------ writing

    def ingest(
        self, paths: Iterable[str | Path] | None = None, prune: bool = False, progress: Progress | None = None, shard: Shard | None = None,
    ) -> IngestReport:  # fmt: skip
        """Add new and changed files, keep unchanged ones; with ``prune`` the index mirrors exactly these files.

        With ``shard`` only that share of the documents is considered (and pruned), see rag.sharding.
        """
        roots = [Path(p) for p in (paths or [self.settings.seeds_dir])]
        documents, errors = load_documents(roots)
        if shard is not None:
            documents = [d for d in documents if shard.takes(d.id)]
            errors = [e for e in errors if shard.takes(Path(e.path).name)]
        gone = [d for d in self._gone(documents, errors) if shard is None or shard.takes(d)] if prune else []
        return self._update(documents, errors, gone, progress)

    def ingest_documents(self, documents: list[Document], progress: Progress | None = None) -> IngestReport:
        """Add already-parsed documents (evaluation builds them from datasets, not files)."""
        return self._update(documents, [], [], progress)

    def ingest_bytes(self, name: str, data: bytes, doc_id: str, source: str, progress: Progress | None = None) -> IngestReport:
        """Ingest one uploaded file; a parse failure is reported and the index stays as it was."""
        try:
            document = parse_bytes(data, name, doc_id=doc_id, source=source)
        except IngestError as exc:
            return IngestReport(errors=(exc,))
        return self._update([document], [], [], progress)

    def delete(self, doc_ids: Iterable[str]) -> IngestReport:
        return self._update([], [], list(doc_ids), None)

    def _gone(self, documents: list[Document], errors: list[IngestError]) -> list[str]:
        """Indexed documents not among this run's files (a file that failed to parse keeps its old version)."""
        if not self.has_index():
            return []
        present = {d.id for d in documents} | {Path(e.path).name for e in errors}
        failed_sources = {str(Path(e.path).resolve()) for e in errors}
        return [
            d.id
            for d in self.index().documents.values()
            if d.id not in present and d.meta.get("source", "") not in failed_sources
        ]

    def _update(self, documents: list[Document], errors: list[IngestError], remove: list[str], progress: Progress | None) -> IngestReport:
        began = time.perf_counter()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._write_lock, FileLock(str(self.index_dir / ".write.lock")):
            old, reason = self._compatible_index()
            existing = self._existing(old, reason)
            plan = _plan(existing, documents, remove, bool(reason))
            if not (plan.added or plan.updated or plan.removed or reason):
                return IngestReport(unchanged=tuple(plan.unchanged), errors=tuple(errors), chunks=old.chunk_count if old else 0, seconds=time.perf_counter() - began)
            chunks, vectors = self._assemble(plan, progress, old)
            identity = self._manifest(self._dimension(old, plan))
            sources = {doc_id: doc.meta.get("source", "") for doc_id, doc in plan.keep.items()}
            fresh = list(plan.embed.values())
            written = self.backend.commit(identity, None if reason else old, fresh, chunks, vectors, plan.removed, sources)
        return IngestReport(
            tuple(plan.added), tuple(plan.updated), tuple(plan.unchanged), tuple(plan.removed), tuple(errors),
            reason, written.chunk_count, len(chunks), time.perf_counter() - began,
        )

    def compact(self) -> CompactReport:
        """Merge the index's segments into one, dropping deleted rows (``rag compact``)."""
        began = time.perf_counter()
        with self._write_lock, FileLock(str(self.index_dir / ".write.lock")):
            if not self.has_index():
                raise IndexMissing(f"no index in {self.index_dir}: run `rag ingest` first / 尚未建立索引，请先导入文档")
            before = self.backend.manifest()
            after = self.backend.compact(before)
        return CompactReport(len(before.segments), len(after.segments), after.chunk_count, time.perf_counter() - began)

    def _compatible_index(self) -> tuple[Manifest | None, str]:
        """The current manifest if the index can be extended, else (manifest or None, why it must be rebuilt)."""
        if not self.has_index():
            return None, ""
        try:
            old = self.backend.manifest()
        except Exception as exc:  # a damaged index is rebuilt, never served
            return None, f"the existing index could not be read ({exc})"
        return old, old.mismatch(self.model_fingerprint, self.chunker.as_dict())

    def _existing(self, old: Manifest | None, reason: str) -> dict[str, Document | str]:
        """Indexed documents by id: their sha256, or the whole document when all must be re-embedded."""
        if old is None:
            return {}
        if reason:
            return dict(self.backend.documents(old))
        return {doc_id: str(item["sha256"]) for doc_id, item in old.documents.items()}

    def _assemble(self, plan: _Plan, progress: Progress | None, old: Manifest | None) -> tuple[list[Chunk], np.ndarray]:
        """Chunks and vectors of the documents to (re-)embed; kept documents stay in their segments."""
        fresh = [c for doc_id in sorted(plan.embed) for c in chunk_document(plan.embed[doc_id], self.chunker)]
        report = (lambda done, total: progress("embed", done, total)) if progress else None
        if not fresh:
            return fresh, np.zeros((0, self._dimension(old, plan)), dtype=np.float32)
        return fresh, np.asarray(self.embedder.embed_passages([c.search_text for c in fresh], report), dtype=np.float32)

    def _dimension(self, old: Manifest | None, plan: _Plan) -> int:
        """The vector size, without loading the model when nothing is embedded (a delete)."""
        if old is not None and not plan.embed:
            return old.dimension
        return self.embedder.dimension

    def _manifest(self, dimension: int) -> Manifest:
        """What the index is built with; the store fills in its documents and segments."""
        return Manifest(model=self.model_fingerprint, dimension=dimension, chunker=self.chunker.as_dict(), faiss_factory=self.settings.faiss_factory)

    # ------------------------------------------------------------------ reading

    def check_question(self, question: str) -> str:
        question = (question or "").strip()
        language = language_of(question) if question else "zh-hans"
        if not question:
            raise QuestionError(EMPTY_QUESTION[language])
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"Your question is {len(question)} characters long; please keep it under {limit}."
                if language == "en"
                else f"问题太长（{len(question)} 字），请缩短到 {limit} 字以内。"
            )
        return question

    def prepare(self, question: str | Question) -> Question:
        """The question checked, analysed once and embedded: what every later stage reads."""
        if isinstance(question, Question) and question.vector is not None:
            return question
        text = self.check_question(question.text if isinstance(question, Question) else question)
        return prepare(text, self.embedder.embed_query(text))

    def resolve(self, question: str, history: Sequence[Message] | None = None) -> Resolution:
        """What is searched for ``question`` asked after ``history`` (OpenAI-style messages); see rag.conversation."""
        text = self.check_question(question)
        return resolve(text, history or ())

    def search(
        self, question: str | Question, top_k: int | None = None, mode: RetrievalMode | str | None = None,
        history: Sequence[Message] | None = None,
    ) -> list[Hit]:  # fmt: skip
        """The ranked passages; with ``history`` a follow-up is searched as its standalone question."""
        if history and isinstance(question, str):
            question = self.resolve(question, history).standalone
        how = parse_enum(RetrievalMode, mode, "retrieval mode") if mode else None
        index = self.index()
        if index.manifest.model != self.model_fingerprint:  # never compare vectors of two different models
            raise IndexMismatch(
                f"the index in {self.index_dir} was built with {index.manifest.model}, not {self.model_fingerprint}: "
                "run `rag ingest` to rebuild it / 索引由其他模型建立，请重新导入文档"
            )
        return search(index, self.prepare(question), self.settings, top_k, how)

    def ask(
        self, question: str | Question, top_k: int | None = None, mode: RetrievalMode | str | None = None,
        history: Sequence[Message] | None = None,
    ) -> Answer:  # fmt: skip
        """The answer, with how long retrieval and answer composition took (``Answer.timings``, ms).

        With ``history`` (earlier turns, OpenAI-style messages) a follow-up question is searched
        and answered as its standalone form; the answer records it (``standalone_question``).
        """
        began = time.perf_counter()
        resolution = self.resolve(question, history) if isinstance(question, str) else None
        asked = self.prepare(resolution.standalone if resolution else question)
        hits = self.search(asked, top_k, mode)
        retrieved = time.perf_counter()
        answer = compose(asked, hits, self.settings)
        done = time.perf_counter()
        timings = {"retrieve_ms": round((retrieved - began) * 1000, 1), "answer_ms": round((done - retrieved) * 1000, 1)}
        if resolution is not None and resolution.used_history:
            answer = dataclasses.replace(answer, question=resolution.question, standalone_question=resolution.standalone, history_used=True)
        return dataclasses.replace(answer, timings=timings)

    def compose(self, question: str | Question, hits: list[Hit]) -> Answer:
        """The extractive answer from hits already at hand (evaluation retrieves deeper than it answers)."""
        return compose(self.prepare(question), hits, self.settings)

    def generate(
        self, question: str | Question, top_k: int | None = None, mode: RetrievalMode | str | None = None,
        history: Sequence[Message] | None = None,
    ) -> Iterator[LLMEvent]:  # fmt: skip
        """The LLM-phrased answer (``answer_mode = llm``): streamed drafts, then the verified result.

        The extractive answer is computed first: it is the refusal gate (a
        refused question never reaches the LLM) and the fallback when no
        generated sentence survives verification.
        """
        extractive = self.ask(question, top_k, mode, history)
        return self.rephrase(extractive, self.prepare(extractive.standalone_question or extractive.question))

    def rephrase(self, extractive: Answer, question: Question | None = None) -> Iterator[LLMEvent]:
        """``generate`` for an extractive answer already at hand (the UI shows its timings first)."""
        from .llm import generate_answer

        return generate_answer(question or extractive.question, extractive, self.settings)

    def passages_read(self, extractive: Answer) -> int:
        """How many of the answer's hits the model reads in ``rephrase``: the UI shows those while it writes."""
        from .llm import passages_read

        return passages_read(extractive, self.settings)


def _plan(existing: dict[str, Document | str], documents: list[Document], remove: list[str], rebuild: bool) -> _Plan:
    """What changes: ``existing`` maps indexed ids to their sha256 (or, for a rebuild, to the documents)."""
    plan = _Plan()
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


__all__ = ["Rag", "IngestReport", "CompactReport", "QuestionError", "Progress"]
