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
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

from .answer import EMPTY_QUESTION, Answer, compose
from .chunking import Chunk, ChunkerConfig
from .conversation import Message, Resolution, last_answer, quoted_docs, resolve
from .dates import Period, check_day, question_period
from .documents import Document, IngestError, load_documents, parse_bytes
from .embedding import Embedder
from .examples import ExampleCache
from .folding import fold, language_of
from .indexing import IngestReport, Plan, plan_update
from .ingest import VectorCache, embed_documents
from .question import Question, prepare
from .retrieval import Filters, Hit, newest_published, search
from .settings import AnswerMode, RetrievalMode, Settings, load_settings, parse_enum
from .store import POINTER, Index, IndexMismatch, IndexMissing, Manifest, build_index, load_index, save_index
from .stories import annotate

if TYPE_CHECKING:
    from .llm import LLMEvent

#: progress(stage, done, total); stage is "embed" while vectors are computed.
Progress = Callable[[str, int, int], None]


class QuestionError(ValueError):
    """A question that cannot be asked (empty, too long); the message is in the question's language."""


class Rag:
    """The product as a library object; construct cheaply, the model loads on first use."""

    def __init__(self, settings: Settings | None = None, index_dir: str | Path | None = None) -> None:
        self.settings = settings or load_settings()
        self.index_dir = Path(index_dir or self.settings.index_dir)
        self.chunker = ChunkerConfig.from_settings(self.settings)
        self.embedder = Embedder(self.settings)
        self._index: Index | None = None
        self._generation = ""
        self._lock = threading.RLock()  # guards the loaded index reference; held only briefly
        self._write_lock = threading.Lock()  # one writer at a time in this process; readers never wait on it
        self._examples = ExampleCache(self.generation, self.documents, lambda q: not self.ask(q).refused)

    # ------------------------------------------------------------------ state

    def warm_up(self) -> None:
        self.embedder.warm_up()

    @cached_property
    def model_fingerprint(self) -> str:
        """The model recorded in the manifest (see ``Embedder.fingerprint``: the int8 and fp32 runtimes differ)."""
        return self.embedder.fingerprint

    def has_index(self) -> bool:
        return (self.index_dir / POINTER).exists()

    def generation(self) -> str:
        """The name of the index generation on disk now ("" without an index): changes with every write."""
        try:
            return (self.index_dir / POINTER).read_text().strip()
        except OSError:
            return ""

    def example_questions(self) -> list[str]:
        """Questions the indexed documents answer, made from them and checked by asking (cached per generation)."""
        return self._examples.get()

    def index(self) -> Index:
        """The current generation, reloaded when another writer has replaced it."""
        pointer = self.index_dir / POINTER
        with self._lock:
            generation = pointer.read_text().strip() if pointer.exists() else ""
            if self._index is None or generation != self._generation:
                if not generation:
                    raise IndexMissing(f"no index in {self.index_dir}: run `rag ingest` first / 尚未建立索引，请先导入文档")
                self._index = load_index(self.index_dir)
                self._generation = generation
            return self._index

    def documents(self) -> list[Document]:
        if not self.has_index():
            return []
        return sorted(self.index().documents.values(), key=lambda d: d.id)

    def document(self, doc_id: str) -> Document:
        return self.index().documents[doc_id]

    # ------------------------------------------------------------------ writing

    def ingest(self, paths: Iterable[str | Path] | None = None, prune: bool = False, progress: Progress | None = None) -> IngestReport:
        """Add new and changed files, keep unchanged ones; with ``prune`` the index mirrors exactly these files."""
        roots = [Path(p) for p in (paths or [self.settings.seeds_dir])]
        documents, errors = load_documents(roots)
        gone = self._gone(documents, errors) if prune else []
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
            plan = plan_update(old, documents, remove, bool(reason))
            if not (plan.added or plan.updated or plan.removed or reason):
                return IngestReport(unchanged=tuple(plan.unchanged), errors=tuple(errors), chunks=len(old.chunks) if old else 0, seconds=time.perf_counter() - began)
            chunks, vectors, embedded = self._assemble(old, plan, progress)
            s = self.settings  # stories and years are the collection's: re-read over every document at each write
            annotated = annotate({**plan.keep, **plan.embed}, s.story_threshold, s.story_shingle_chars, s.story_num_perm)
            new = build_index(self._manifest(annotated, self._dimension(old, plan)), annotated, chunks, vectors)
            save_index(new, self.index_dir)
            if plan.embed:
                self._vector_cache().clear()  # the saved generation holds these vectors now
            with self._lock:
                self._index, self._generation = new, (self.index_dir / POINTER).read_text().strip()
        return IngestReport(
            tuple(plan.added), tuple(plan.updated), tuple(plan.unchanged), tuple(plan.removed), tuple(errors),
            reason, len(chunks), embedded, time.perf_counter() - began,
        )

    def _compatible_index(self) -> tuple[Index | None, str]:
        """The current index if it can be extended, else (old index or None, why it must be rebuilt)."""
        if not self.has_index():
            return None, ""
        try:
            old = load_index(self.index_dir)
        except Exception as exc:  # a damaged index is rebuilt, never served
            return None, f"the existing index could not be read ({exc})"
        why = old.manifest.mismatch(self.model_fingerprint, self.chunker.as_dict())
        return old, why

    def _assemble(self, old: Index | None, plan: Plan, progress: Progress | None) -> tuple[list[Chunk], np.ndarray, int]:
        chunks: list[Chunk] = []
        parts: list[np.ndarray] = []
        rows_by_doc: dict[str, list[int]] = {}
        for row, chunk in enumerate(old.chunks if old else []):
            rows_by_doc.setdefault(chunk.doc_id, []).append(row)
        for doc_id in sorted(plan.keep):
            if old is None:  # nothing is kept without an old index
                break
            rows = rows_by_doc.get(doc_id, [])
            chunks.extend(old.chunks[r] for r in rows)
            parts.append(old.vectors[rows])
        embedded = 0
        if plan.embed:
            report = (lambda done, total: progress("embed", done, total)) if progress else None
            fresh = embed_documents([plan.embed[d] for d in sorted(plan.embed)], self.chunker, self.embedder, cache=self._vector_cache(), progress=report)
            parts.append(fresh.vectors)
            chunks.extend(fresh.chunks)
            embedded = fresh.embedded
        vectors = np.vstack(parts) if parts else np.zeros((0, self._dimension(old, plan)), dtype=np.float32)
        return chunks, vectors.astype(np.float32), embedded

    def _vector_cache(self) -> VectorCache:
        """Vectors of an ingest that was interrupted: reused, so no chunk is embedded twice."""
        return VectorCache(self.index_dir, self.embedder)

    def _dimension(self, old: Index | None, plan: Plan) -> int:
        """The vector size, without loading the model when nothing is embedded (a delete)."""
        if old is not None and not plan.embed:
            return old.manifest.dimension
        return self.embedder.dimension

    def _manifest(self, documents: dict[str, Document], dimension: int) -> Manifest:
        return Manifest(
            model=self.model_fingerprint,
            dimension=dimension,
            chunker=self.chunker.as_dict(),
            faiss_factory=self.settings.faiss_factory,
            documents={
                d.id: {
                    "sha256": d.sha256, "source": d.meta.get("source", ""), "title": d.title,
                    "published": d.meta.get("published", ""), "story": d.meta.get("story", d.id),
                }
                for d in documents.values()
            },
        )

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

    def prepare_resolved(self, resolution: Resolution) -> Question:
        """The standalone question prepared, the topic it carries weighing less than the follow-up's own words.

        The carried topic finds the passage; what the user asked now must decide the sentence and
        whether to answer at all — else a follow-up about something the documents never say is
        answered from the earlier topic's paragraph.
        """
        asked = self.prepare(resolution.standalone)
        own = fold(resolution.question)
        if not resolution.used_history or own.rstrip("?？ ") not in asked.folded:  # a substituted question is all its own
            return asked
        share = self.settings.follow_up_topic_weight
        return dataclasses.replace(asked, terms={t: w if t in own else w * share for t, w in asked.terms.items()})

    def resolve(self, question: str, history: Sequence[Message] | None = None, llm: bool | None = None) -> Resolution:
        """What is searched for ``question`` asked after ``history`` (OpenAI-style messages); see rag.conversation.

        A follow-up's ``cited_docs`` come from the last assistant message's ``citations`` when it
        has them, else from the passages that hold its quoted sentences. With ``llm`` (default: the
        ``llm`` answer mode) the model may write a follow-up out instead; its rewrite is kept only
        when it adds no name or number the conversation did not contain (rag.llm.rewrite).
        """
        text = self.check_question(question)
        resolution = resolve(text, history or ())
        if resolution.used_history and (self.settings.answer_mode == AnswerMode.LLM if llm is None else llm):
            from .llm.rewrite import llm_rewrite

            rewrite = llm_rewrite(text, history or (), self.settings)
            if rewrite and rewrite != text:
                resolution = dataclasses.replace(resolution, standalone=rewrite, by_llm=True)
        if resolution.used_history and not resolution.cited_docs and history and self.has_index():
            docs = quoted_docs(last_answer(history), self.index().chunks)
            resolution = dataclasses.replace(resolution, cited_docs=docs)
        return resolution

    def period(self, question: str | Question) -> Period | None:
        """The period a question names; relative words (最近, 今年) count from the newest indexed document."""
        text = question.text if isinstance(question, Question) else question
        return question_period(text, newest_published(self.index()), self.settings.recent_days)

    def search(
        self, question: str | Question, top_k: int | None = None, mode: RetrievalMode | str | None = None,
        history: Sequence[Message] | None = None, since: str | None = None, until: str | None = None,
    ) -> list[Hit]:  # fmt: skip
        """The ranked passages; with ``history`` a follow-up is searched as its standalone question.

        ``since``/``until`` (YYYY-MM-DD) keep documents published in that range (default: the settings').
        """
        prefer: tuple[str, ...] = ()
        if history and isinstance(question, str):
            resolution = self.resolve(question, history)
            question, prefer = resolution.standalone, resolution.cited_docs
        return self._search(question, top_k, mode, prefer, since, until)

    def _search(
        self, question: str | Question, top_k: int | None, mode: RetrievalMode | str | None,
        prefer: Iterable[str] = (), since: str | None = None, until: str | None = None,
    ) -> list[Hit]:  # fmt: skip
        how = parse_enum(RetrievalMode, mode, "retrieval mode") if mode else None
        index = self.index()
        if index.manifest.model != self.model_fingerprint:  # never compare vectors of two different models
            raise IndexMismatch(
                f"the index in {self.index_dir} was built with {index.manifest.model}, not {self.model_fingerprint}: "
                "run `rag ingest` to rebuild it / 索引由其他模型建立，请重新导入文档"
            )
        start = self.settings.since if since is None else check_day(since, "since")
        end = self.settings.until if until is None else check_day(until, "until")
        asked = self.prepare(question)
        return search(index, asked, self.settings, top_k, how, Filters(start, end, self.period(asked)), frozenset(prefer))

    def ask(
        self, question: str | Question, top_k: int | None = None, mode: RetrievalMode | str | None = None,
        history: Sequence[Message] | None = None, since: str | None = None, until: str | None = None,
        llm_rewrite: bool | None = None,
    ) -> Answer:  # fmt: skip
        """The answer, with how long retrieval and answer composition took (``Answer.timings``, ms).

        With ``history`` (earlier turns, OpenAI-style messages) a follow-up question is searched
        and answered as its standalone form; the answer records it (``standalone_question``).
        """
        began = time.perf_counter()
        resolution = self.resolve(question, history, llm_rewrite) if isinstance(question, str) else None
        asked = self.prepare_resolved(resolution) if resolution else self.prepare(question)
        hits = self._search(asked, top_k, mode, resolution.cited_docs if resolution else (), since, until)
        retrieved = time.perf_counter()
        period = self.period(asked)
        answer = dataclasses.replace(compose(asked, hits, self.settings), period=period.label if period else "")
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
        extractive = self.ask(question, top_k, mode, history, llm_rewrite=True)
        return self.rephrase(extractive, self.prepare(extractive.standalone_question or extractive.question))

    def rephrase(self, extractive: Answer, question: Question | None = None) -> Iterator[LLMEvent]:
        """``generate`` for an extractive answer already at hand (the UI shows its timings first)."""
        from .llm import generate_answer

        return generate_answer(question or extractive.standalone_question or extractive.question, extractive, self.settings)

    def passages_read(self, extractive: Answer) -> int:
        """How many of the answer's hits the model reads in ``rephrase``: the UI shows those while it writes."""
        from .llm import passages_read

        return passages_read(extractive, self.settings)


__all__ = ["Rag", "IngestReport", "QuestionError", "Progress"]
