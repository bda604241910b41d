"""What the web app remembers: each browser session's conversation, and what all sessions share.

``Turn`` is one question of a session's conversation (a list of turns lives in
that session's ``gr.State``). ``App`` holds what every session shares: the
library object, the uploads folder, the feedback file and the export folder,
with one lock for the files they write. Neither renders anything or catches
errors: ``ui.handlers`` does the one and ``ui.boundary`` the other.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag import (
    DEFAULT_COLLECTION,
    SUPPORTED_SUFFIXES,
    Answer,
    AnswerMode,
    LLMResult,
    Progress,
    Rag,
    Unsupported,
    answer_message,
    answer_to_dict,
    collection_names,
    result_to_dict,
)

from .access import Access, grant_of


@dataclass
class Turn:
    """One question of a conversation and what came of it."""

    question: str
    answer: Answer | None = None
    error: str = ""
    search_ms: float = 0.0
    compose_ms: float = 0.0
    files: dict[str, str] = field(default_factory=dict)  # doc id → file name, taken when answered
    top_k: int = 0
    mode: str = ""
    # the LLM answer mode: the draft streams while ``drafting``; ``llm`` is the verified outcome
    drafting: bool = False
    draft: str = ""
    passages: int = 0  # how many of the answer's hits the model reads
    llm: LLMResult | None = None
    unsupported: Unsupported = Unsupported.DROP  # how sentences the verifier rejects are shown

    @property
    def answer_mode(self) -> AnswerMode:
        """LLM once the model was asked for this turn (a refusal never asks it), else extractive."""
        return AnswerMode.LLM if self.llm is not None else AnswerMode.EXTRACTIVE

    @property
    def model_called(self) -> LLMResult | None:
        """The LLM outcome when the model was really asked (not for refusals or extractive turns)."""
        return self.llm if self.llm is not None and self.llm.called else None


@dataclass(frozen=True)
class Upload:
    """What became of one uploaded file; the app and the HTTP API word it each their own way."""

    name: str  # as it was sent
    status: str  # added, updated, unchanged; or the problem: too_large, unsupported, parse_failed
    saved: str = ""  # the name it was saved and indexed under (another when the name was taken)
    renamed: bool = False
    reason: str = ""  # why it could not be parsed
    size_mb: float = 0.0
    chunks: int = 0  # chunks in the index afterwards

    @property
    def ok(self) -> bool:
        return self.status in ("added", "updated", "unchanged")


def history(turns: list[Turn]) -> list[dict[str, Any]]:
    """The session's answered turns as the library's conversation history (OpenAI-style messages).

    Each assistant message also names the documents it cited: the tie-breaker for the next follow-up.
    Turns that failed are left out — they said nothing the next question could lean on.
    """
    messages: list[dict[str, Any]] = []
    for turn in turns:
        if turn.answer is None or turn.error:
            continue
        messages += [{"role": "user", "content": turn.question}, answer_message(turn.answer)]
    return messages


class App:
    """What the event handlers share: the library object and the files the app writes."""

    _shelf_lock = threading.Lock()  # making a collection's app once, whichever session asks first

    def __init__(self, rag: Rag, export_dir: Path | None = None, access: Access | None = None, twins: dict[str, App] | None = None) -> None:
        self.rag = rag
        #: this collection's name; every collection's app, shared by all of them (made on first use)
        self.collection = rag.collection or DEFAULT_COLLECTION
        self._twins = twins if twins is not None else {self.collection: self}
        self.settings = rag.settings
        #: who may use the served app: the API keys of the settings unless ``rag serve`` says more
        self.access = access if access is not None else Access.from_settings(rag.settings.api_keys)
        self.uploads = Path(rag.index_dir) / "uploads"
        self.feedback_path = Path(rag.index_dir) / "feedback.jsonl"
        if export_dir is None:
            export_dir = Path(tempfile.mkdtemp(prefix="rag-ui-export-"))
            atexit.register(shutil.rmtree, export_dir, ignore_errors=True)
        self.export_dir = export_dir
        self._file_lock = threading.Lock()

    def in_collection(self, name: str | None) -> App:
        """The app of collection ``name`` (this one's without a name): the same access, export folder and model.

        Asked every time whether the collection still exists, so one deleted elsewhere is not served from memory.
        """
        if not name or name == self.collection:
            return self
        if name not in collection_names(self.settings):
            self._twins.pop(name, None)
            self.rag.in_collection(name)  # raises CollectionMissing with the names there are
        with App._shelf_lock:
            if name not in self._twins:
                self._twins[name] = App(self.rag.in_collection(name), self.export_dir, self.access, self._twins)
            return self._twins[name]

    def collections(self) -> list[str]:
        return collection_names(self.settings)

    def file_name(self, doc_id: str) -> str:
        """The name a document was uploaded or ingested under (its id once it has left the index)."""
        try:
            return self.rag.document(doc_id).meta.get("file_name", doc_id)
        except KeyError:
            return doc_id

    def indexed(self, doc_id: str) -> bool:
        """Whether the index holds ``doc_id`` (one record read, not the whole library's)."""
        if not self.rag.has_index():
            return False
        try:
            self.rag.document(doc_id)
        except KeyError:
            return False
        return True

    def may_write(self, request: Any) -> bool:
        """Whether the caller behind a Gradio ``request`` may change the index.

        Anyone may on an open server; behind the gate only a write key or the login. A request
        without an identity on a locked server (which the gate never lets through) may not.
        """
        return self.may_use(request, write=True)

    def may_use(self, request: Any, write: bool = False, collection: str | None = None) -> bool:
        """Whether the caller behind a Gradio ``request`` may read (or change) this collection (or ``collection``)."""
        if not self.access.locked:
            return True
        grant = grant_of(getattr(request, "username", None))
        return grant is not None and grant.allows(collection or self.collection, write)

    # ------------------------------------------------------------------ uploads

    def add_upload(self, name: str, data: bytes, progress: Progress | None = None) -> Upload:
        """Check, save under uploads/ and index one uploaded file; a file that fails leaves the index as it was."""
        name = Path(name.replace("\\", "/")).name or "upload"
        size_mb = len(data) / 1024 / 1024
        if size_mb > self.settings.max_upload_mb:
            return Upload(name, "too_large", size_mb=size_mb)
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            return Upload(name, "unsupported", size_mb=size_mb)
        saved, renamed = self.save_upload(name, data)
        result = self.rag.ingest_bytes(saved.name, data, doc_id=saved.name, source=str(saved), progress=progress)
        if result.errors:
            if not (result.added or result.updated or result.unchanged):
                saved.unlink(missing_ok=True)  # nothing of it is indexed: do not keep the file
            return Upload(name, "parse_failed", saved.name, renamed, "; ".join(e.reason for e in result.errors), size_mb)
        status = "added" if result.added else "updated" if result.updated else "unchanged"
        return Upload(name, status, saved.name, renamed and saved.name in result.added, size_mb=size_mb, chunks=result.chunks)

    def save_upload(self, name: str, data: bytes) -> tuple[Path, bool]:
        """Save under uploads/ without overwriting: (path, renamed). Identical bytes reuse the file."""
        safe = re.sub(r'[\x00-\x1f/\\:*?"<>|]', "_", Path(name).name).strip(" .") or "upload.txt"
        stem, suffix = Path(safe).stem, Path(safe).suffix
        self.uploads.mkdir(parents=True, exist_ok=True)
        with self._file_lock:
            for i in range(1, 10_000):
                candidate = self.uploads / (safe if i == 1 else f"{stem}-{i}{suffix}")
                if candidate.exists():
                    if candidate.read_bytes() == data:
                        return candidate, i > 1
                    continue
                if self.indexed(candidate.name):  # a seed document already has this name
                    continue
                try:
                    with open(candidate, "xb") as handle:
                        handle.write(data)
                except FileExistsError:
                    continue
                return candidate, i > 1
        raise OSError(f"no free file name for {safe}")

    def delete(self, doc_ids: list[str]) -> list[str]:
        """Remove these documents from the index, and their files when they were uploaded here."""
        docs = {d: self.rag.document(d) for d in dict.fromkeys(doc_ids) if self.indexed(d)}  # the ids still indexed, once each
        present = list(docs)
        if present:
            self.rag.delete(present)
        for doc_id in present:
            source = Path(docs[doc_id].meta.get("source", ""))
            if source.parent == self.uploads and source.is_file():
                source.unlink(missing_ok=True)
        return present

    # ------------------------------------------------------------------ feedback and export

    def record_feedback(self, turn: Turn, verdict: str, comment: str) -> None:
        assert turn.answer is not None, "only answered turns are rated"
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "verdict": verdict,
            "comment": comment.strip(),
            # question, answer, citations, refused, related …; in the LLM mode also its text and verdicts
            **(result_to_dict(turn.llm) if turn.llm is not None else answer_to_dict(turn.answer)),
            "top_k": turn.top_k,
            "retrieval_mode": str(turn.mode),
            "answer_mode": str(turn.answer_mode),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
        with self._file_lock, open(self.feedback_path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def save_export(self, markdown: str, when: datetime) -> Path:
        """The conversation as a Markdown file in a folder of its own (the download keeps its name)."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self.export_dir))
        path = folder / f"conversation-{when:%Y%m%d-%H%M%S}.md"
        path.write_text(markdown, encoding="utf-8")
        return path
