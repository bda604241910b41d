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
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast

from filelock import FileLock

from . import collections, writes
from .answer.compose import Answer, compose
from .answer.conversation import Message, Resolution, last_answer, quoted_docs, resolve
from .answer.examples import ExampleCache
from .answer.support import SupportLevel
from .embed.embedding import Embedder, SentenceMemo
from .errors import IndexCorrupt, IndexMismatch, IndexMissing, IngestError
from .ingest.chunking import ChunkerConfig
from .ingest.documents import Document, parse_bytes
from .ingest.loading import load_documents
from .ingest.pipeline import VectorCache
from .ingest.plan import CompactReport, IngestReport, plan_update
from .ingest.sharding import Shard
from .route import Found, check_question, fit_judge, support_judge, weigh_topic, with_lead_support
from .search.question import Question, prepare
from .search.retrieval import Filters, Hit, newest_published, search
from .settings import AnswerMode, RetrievalMode, Settings, load_settings, parse_enum
from .store import Backend, Store, backend_for
from .store.listing import DocumentPage, Library, Listing
from .text.dates import Period, check_day, question_period
from .text.lexical import tokenize
from .writes import Progress

if TYPE_CHECKING:
    from .llm import LLMEvent, LLMResult


class Rag:
    """The product as a library object; construct cheaply, the model loads on first use."""

    def __init__(self, settings: Settings | None = None, index_dir: str | Path | None = None, embedder: Embedder | None = None) -> None:
        """``index_dir`` names the index folder itself; without it the settings' collection's folder is used."""
        self.settings = settings or load_settings()
        self.collection = self.settings.collection if index_dir is None else ""
        self.index_dir = Path(index_dir) if index_dir is not None else collections.index_dir_of(self.settings)
        self.chunker = ChunkerConfig.from_settings(self.settings)
        self.embedder = embedder or Embedder(self.settings)
        self._index: Store | None = None
        self._generation = ""
        self._lock = threading.RLock()  # guards the loaded index reference; held only briefly
        self._write_lock = threading.Lock()  # one writer at a time in this process; readers never wait on it
        self._sentence_vectors = SentenceMemo(lambda: self.embedder)  # choosing quotes by meaning
        self._library = Library()  # the documents' list, cached per generation (rag.store.listing)
        self._examples = ExampleCache(self.generation, self.documents, lambda q: self.ask(q).support == SupportLevel.FULL)

    # ------------------------------------------------------------------ state

    def warm_up(self) -> None:
        self.embedder.warm_up()

    @cached_property
    def model_fingerprint(self) -> str:
        """The model recorded in the manifest (see ``Embedder.fingerprint``: the int8 and fp32 runtimes differ)."""
        return self.embedder.fingerprint

    def in_collection(self, name: str) -> Rag:
        """The product over another collection (which must exist), sharing this one's loaded model."""
        if name == self.collection:
            return self
        collections.require(self.settings, name)
        return Rag(self.settings.replace(collection=name), embedder=self.embedder)

    @cached_property
    def backend(self) -> Backend:
        """Where the index lives (``RAG_STORE``); connected on first use, once the collection is known to exist."""
        if self.collection:
            collections.require(self.settings)
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
                if self.backend.needs_upgrade():
                    with self._write_lock, FileLock(str(self.index_dir / ".write.lock")):
                        self._upgrade()
                    generation = self.generation()
                self._index = self.backend.open(self._index)
                self._generation = generation
            return self._index

    def documents(self) -> list[Document]:
        if not self.has_index():
            return []
        return sorted(self.index().documents.values(), key=lambda d: d.id)

    def library(self, listing: Listing | None = None) -> DocumentPage:
        """A page of the documents, newest first: searched, filtered by date and source (``Listing``)."""
        return self._library.page(self.index() if self.has_index() else None, listing or Listing(limit=self.settings.documents_page))

    def document(self, doc_id: str) -> Document:
        return self.index().documents[doc_id]

    # ------------------------------------------------------------------ writing

    def ingest(
        self,
        paths: Iterable[str | Path] | None = None,
        prune: bool = False,
        progress: Progress | None = None,
        shard: Shard | None = None,
    ) -> IngestReport:
        """Add new and changed files, keep unchanged ones; with ``prune`` the index mirrors exactly these files.

        With ``shard`` only that share of the documents is considered (and pruned), see rag.ingest.sharding.
        """
        roots = [Path(p) for p in (paths or [self.settings.seeds_dir])]
        documents, errors = load_documents(roots)
        if shard is not None:
            documents = [d for d in documents if shard.takes(d.id)]
            errors = [e for e in errors if shard.takes(Path(e.path).name)]
        indexed = self.index().manifest.documents if prune and self.has_index() else {}
        gone = [d for d in writes.gone(indexed, documents, errors) if shard is None or shard.takes(d)]
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

    def _update(self, documents: list[Document], errors: list[IngestError], remove: list[str], progress: Progress | None) -> IngestReport:
        began = time.perf_counter()
        _ = self.backend  # a named collection must exist before its folder is written to
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._write_lock, FileLock(str(self.index_dir / ".write.lock")):
            self._upgrade(strict=False)
            old, reason = writes.compatible(self.backend, self.model_fingerprint, self.chunker) if self.has_index() else (None, "")
            plan = plan_update(writes.existing(self.backend, old, reason), documents, remove, bool(reason))
            if not (plan.added or plan.updated or plan.removed or reason):
                return IngestReport(
                    unchanged=tuple(plan.unchanged), errors=tuple(errors), chunks=old.chunk_count if old else 0, seconds=time.perf_counter() - began
                )
            chunks, vectors, embedded = writes.assemble(plan, progress, old, self.chunker, self.embedder, self._vector_cache)
            identity = writes.identity(self.model_fingerprint, writes.dimension(old, plan, self.embedder), self.chunker, self.settings)
            sources = {doc_id: doc.meta.get("source", "") for doc_id, doc in plan.keep.items()}
            fresh = [plan.embed[d] for d in sorted(plan.embed)]
            written = self.backend.commit(identity, None if reason else old, fresh, chunks, vectors, plan.removed, sources)
            if plan.embed:
                self._vector_cache().clear()  # the saved generation holds these vectors now
        return IngestReport(
            tuple(plan.added),
            tuple(plan.updated),
            tuple(plan.unchanged),
            tuple(plan.removed),
            tuple(errors),
            reason,
            written.chunk_count,
            embedded,
            time.perf_counter() - began,
        )

    def _upgrade(self, strict: bool = True) -> None:
        """An index written in the single-generation format becomes segments, its vectors reused (caller holds the write lock).

        When that fails a writer (``strict`` False) goes on: the old format then reads as a mismatch and is rebuilt.
        """
        if self.backend.needs_upgrade():
            try:
                self.backend.upgrade()
            except IndexCorrupt:
                if strict:
                    raise

    def _vector_cache(self) -> VectorCache:
        """Vectors of an ingest that was interrupted: reused, so no chunk is embedded twice (opened only to embed)."""
        return VectorCache(self.index_dir, self.embedder)

    def compact(self) -> CompactReport:
        """Merge the index's segments into one, dropping deleted rows (``rag compact``)."""
        began = time.perf_counter()
        with self._write_lock, FileLock(str(self.index_dir / ".write.lock")):
            if not self.has_index():
                raise IndexMissing(f"no index in {self.index_dir}: run `rag ingest` first / 尚未建立索引，请先导入文档")
            self._upgrade()
            before = self.backend.manifest()
            after = self.backend.compact(before)
        return CompactReport(len(before.segments), len(after.segments), after.chunk_count, time.perf_counter() - began)

    # ------------------------------------------------------------------ reading: the one route of a question

    def check_question(self, question: str) -> str:
        return check_question(question, self.settings.max_question_chars)

    def prepare(self, question: str | Question) -> Question:
        """The question checked, analysed once and embedded: what every later stage reads."""
        if isinstance(question, Question) and question.vector is not None:
            return question
        return self._analysed(self.check_question(question.text if isinstance(question, Question) else question))

    def _analysed(self, text: str) -> Question:
        self.embedder.warm_up_in_background()  # a fresh process: the model loads while jieba reads the question
        return prepare(text).with_vector(self.embedder.embed_query(text))

    def resolve(self, question: str, history: Sequence[Message] | None = None, llm: bool | None = None) -> Resolution:
        """What is searched for ``question`` asked after ``history`` (OpenAI-style messages); see rag.answer.conversation.

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
            earlier = last_answer(history)
            index = self.index()  # the passages that could hold its sentences: BM25's best matches for it
            near = [index.chunk(row) for row, _score in index.lexical(tokenize(earlier), self.settings.candidates)]
            docs = quoted_docs(earlier, near)
            resolution = dataclasses.replace(resolution, cited_docs=docs)
        return resolution

    def period(self, question: str | Question) -> Period | None:
        """The period a question names; relative words (最近, 今年) count from the newest indexed document."""
        text = question.text if isinstance(question, Question) else question
        return question_period(text, newest_published(self.index()), self.settings.recent_days)

    def find(
        self,
        question: str | Question,
        history: Sequence[Message] | None = None,
        top_k: int | None = None,
        mode: RetrievalMode | str | None = None,
        since: str | None = None,
        until: str | None = None,
        *,
        llm_rewrite: bool | None = None,
        for_answer: bool = False,
    ) -> Found:
        """The route every question takes, whichever front end asks: checked, read in its conversation,
        analysed and embedded once, searched. ``since``/``until`` (YYYY-MM-DD) keep documents published
        in that range (default: the settings'). With ``for_answer`` a follow-up's carried topic weighs
        less than its own words (``weigh_topic``): it finds the passage, the asked words choose the sentence.
        """
        began = time.perf_counter()
        how = parse_enum(RetrievalMode, mode, "retrieval mode") if mode else None
        start = self.settings.since if since is None else check_day(since, "since")
        end = self.settings.until if until is None else check_day(until, "until")
        if isinstance(question, Question):  # analysed already (evaluation asks the same question twice)
            resolution, asked = Resolution(question.text, question.text, False), self.prepare(question)
        else:
            resolution = self.resolve(question, history, llm_rewrite)
            asked = self._analysed(resolution.standalone.strip())
            if for_answer:
                asked = weigh_topic(asked, resolution, self.settings.follow_up_topic_weight)
        index = self.index()
        if index.manifest.model != self.model_fingerprint:  # never compare vectors of two different models
            raise IndexMismatch(
                f"the index in {self.index_dir} was built with {index.manifest.model}, not {self.model_fingerprint}: "
                "run `rag ingest` to rebuild it / 索引由其他模型建立，请重新导入文档"
            )
        period = self.period(asked)
        hits = search(index, asked, self.settings, top_k, how, Filters(start, end, period), frozenset(resolution.cited_docs))
        return Found(asked, resolution, hits, period, round((time.perf_counter() - began) * 1000, 1))

    def search(
        self,
        question: str | Question,
        top_k: int | None = None,
        mode: RetrievalMode | str | None = None,
        history: Sequence[Message] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Hit]:
        """The ranked passages (``find`` without the question it searched)."""
        return self.find(question, history, top_k, mode, since, until).hits

    def ask(
        self,
        question: str | Question,
        top_k: int | None = None,
        mode: RetrievalMode | str | None = None,
        history: Sequence[Message] | None = None,
        since: str | None = None,
        until: str | None = None,
        llm_rewrite: bool | None = None,
    ) -> Answer:
        """The extractive answer, carrying the question it was made from (``Answer.asked``) and how long
        retrieval and composition took (``Answer.timings``, ms). With ``history`` (earlier turns,
        OpenAI-style messages) a follow-up is searched and answered as its standalone form."""
        found = self.find(question, history, top_k, mode, since, until, llm_rewrite=llm_rewrite, for_answer=True)
        began = time.perf_counter()
        answer = dataclasses.replace(self._answered(found.question, found.hits), period=found.period.label if found.period else "")
        timings = {"retrieve_ms": found.retrieve_ms, "answer_ms": round((time.perf_counter() - began) * 1000, 1)}
        resolution = found.resolution
        if resolution.used_history:
            answer = dataclasses.replace(answer, question=resolution.question, standalone_question=resolution.standalone, history_used=True)
        return dataclasses.replace(answer, timings=timings)

    def answer(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        top_k: int | None = None,
        mode: RetrievalMode | str | None = None,
        since: str | None = None,
        until: str | None = None,
        answer_mode: AnswerMode | str | None = None,
    ) -> Iterator[Answer | LLMEvent]:
        """The answer as every front end shows it: first the extractive ``Answer``; in the llm answer mode
        (``answer_mode``, default the settings') then the model's draft (``LLMDelta``) and the verified
        ``LLMResult``. The extractive answer is the refusal gate (a refused question never reaches the
        model) and the fallback; a follow-up is written out by the model too in that mode."""
        llm = parse_enum(AnswerMode, answer_mode or self.settings.answer_mode, "answer mode") == AnswerMode.LLM
        extractive = self.ask(question, top_k, mode, history, since, until, llm_rewrite=llm)
        yield extractive
        if llm:
            from .llm import generate_answer

            yield from generate_answer(extractive.asked or extractive.standalone_question or extractive.question, extractive, self.settings)

    def reply(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        top_k: int | None = None,
        mode: RetrievalMode | str | None = None,
        since: str | None = None,
        until: str | None = None,
        answer_mode: AnswerMode | str | None = None,
    ) -> Answer | LLMResult:
        """What ``answer`` ends with: the extractive answer, or in the llm mode the verified result."""
        *_, last = self.answer(question, history, top_k, mode, since, until, answer_mode)
        return cast("Answer | LLMResult", last)  # the route ends with an answer or a result, never a draft piece

    def compose(self, question: str | Question, hits: list[Hit]) -> Answer:
        """The extractive answer from hits already at hand (evaluation retrieves deeper than it answers)."""
        return self._answered(self.prepare(question), hits)

    def _answered(self, asked: Question, hits: list[Hit]) -> Answer:
        """The extractive answer with its support: whether the cited document holds every qualifier asked."""
        support = support_judge(asked, self.index(), self.settings)
        judge = fit_judge(support, self.index(), self.settings)
        answer = compose(asked, hits, self.settings, self._sentence_vectors, judge, lambda text: self.embedder.embed_query(text))
        return with_lead_support(answer, support)

    def passages_read(self, extractive: Answer) -> int:
        """How many of the answer's hits the model reads in the llm mode: the UI shows those while it writes."""
        from .llm import passages_read

        return passages_read(extractive, self.settings)


__all__ = ["Rag", "IngestReport", "CompactReport", "Progress"]
