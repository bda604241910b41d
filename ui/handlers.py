"""What happens when the user does something: one function per event, callable without a browser.

Each handler takes the shared ``App`` first, then the plain values of its
inputs (text, the session's ``Turn`` list, the language …), and returns — or,
when it streams, yields — a dict from component name (a ``ui.layout.Layout``
field) to its new value or update; names left out stay as they are. The names
it may return are declared by ``@handler(outputs=…)``, with what to show when
it fails (``ui.boundary``, the one place errors are caught). ``ui.app`` only
wires these to the components; tests call them directly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

from rag import SUPPORTED_SUFFIXES, Answer, AnswerMode, DocumentPage, Listing, LLMDelta, LLMEvent, LLMResult, Rag, RetrievalMode

from . import cards, render
from .boundary import error_message, guarded, handler, lang_of, status_html, status_in
from .constants import DRAFT_INTERVAL
from .labels import label, language
from .language import TEXTS, Screen
from .library import LIST_OUTPUTS, page_view
from .library import day as _day
from .state import App, Turn, history

Out = dict[str, Any]


# --------------------------------------------------------------------------- what the page shows


def screen(app: App, lang: str, turns: list[Turn] | None = None, scores: bool = False) -> Screen:
    """The session's words: reads the document count and the example questions from the library."""
    count = app.rag.library(Listing(limit=1)).documents
    return Screen(language(lang), app.settings, count, app.rag.example_questions(), list(turns or []), bool(scores))


def library_view(app: App, lang: str, listing: Listing | None = None) -> Out:
    """What changes when the set of documents changes: the count, the example questions, the list's page."""
    now = screen(app, lang)
    return {"header": gr.update(**TEXTS["header"](now)), "examples": gr.update(**TEXTS["examples"](now)), **page_view(app, listing, now.lang)}


def _first_page_failed(exc: BaseException, arguments: dict[str, Any]) -> tuple[Screen, DocumentPage | None, str]:
    lang = lang_of(arguments)
    return Screen(lang, arguments["app"].settings), None, status_html(error_message(exc, lang, "error_documents"), "warn")


@guarded(_first_page_failed)
def first_page(app: App, lang: str) -> tuple[Screen, DocumentPage | None, str]:
    """(screen, the list's first page, status) for building the page; a failure shows in the status."""
    return screen(app, lang), app.rag.library(), ""


@guarded(lambda exc, args: None)
def warm_up(rag: Rag) -> None:
    """Ask once before serving, so the first user does not wait for the tokenizer dictionaries."""
    rag.ask("预热")


@handler(
    outputs=("header", "examples", *LIST_OUTPUTS, "ingest_status", "upload", "delete_button"),
    on_error=status_in("ingest_status", "error_documents"),
)
def refresh(app: App, lang: str, request: gr.Request | None = None) -> Out:
    """On page load: the documents as they are now (another session may have changed them), and
    whether this caller may change them (a read-only key sees the list without the upload box)."""
    lang = language(lang)
    writable = app.may_write(request)
    view = {**library_view(app, lang), "upload": gr.update(interactive=writable), "delete_button": gr.update(interactive=writable)}
    return view if writable else {**view, "ingest_status": status_html(label(lang, "read_only"), "warn")}


def _refused_write(app: App, lang: str) -> Out:
    return {"ingest_status": status_html(label(lang, "read_only"), "warn"), **library_view(app, lang)}


# --------------------------------------------------------------------------- asking


def _ask_failed(exc: BaseException, arguments: dict[str, Any]) -> Out:
    """The question stays in the chat, with the reason it got no answer in place of one."""
    app: App = arguments["app"]
    lang = lang_of(arguments)
    turns = list(arguments.get("turns") or [])
    question = (arguments.get("text") or "").strip()[: app.settings.max_question_chars]
    turns.append(Turn(question=question, error=error_message(exc, lang)))
    return {"chatbot": render.chat_messages(turns, lang), "conv": turns, "question": ""}


def answer_turn(app: App, question: str, answer: Answer, top_k: int, mode: RetrievalMode | None) -> Turn:
    """The turn of an extractive answer: the settings, the stage timings and the cited files' names."""
    turn = Turn(question=question, answer=answer, top_k=top_k, mode=str(mode or app.settings.retrieval_mode))
    turn.search_ms = answer.timings.get("retrieve_ms", 0.0)
    turn.compose_ms = answer.timings.get("answer_ms", 0.0)
    shown = [c.hit for c in answer.citations] or list(answer.related)
    turn.files = {h.chunk.doc_id: app.file_name(h.chunk.doc_id) for h in shown}
    return turn


@handler(outputs=("chatbot", "sources", "conv", "question"), on_error=_ask_failed)
def ask(
    app: App,
    text: str,
    turns: list[Turn],
    lang: str,
    top_k: float,
    mode: str,
    scores: bool,
    style: str,
    since: str = "",
    until: str = "",
) -> Iterator[Out]:
    """Answer a question: a pending turn at once, then the answer streaming in with its cards."""
    lang, scores = language(lang), bool(scores)
    turns = list(turns or [])
    question = app.rag.check_question(text or "")
    since, until = _day(since, lang), _day(until, lang)
    earlier = list(turns)
    turns.append(Turn(question=question))
    yield {"chatbot": render.chat_messages(turns, lang), "conv": turns, "question": ""}
    how = RetrievalMode(mode) if mode in list(RetrievalMode) else None
    answer_mode = AnswerMode(style) if style in list(AnswerMode) else None
    count = int(top_k or app.settings.top_k)
    # the library's one route: checked, read in the conversation, searched, composed; then the model's events
    events = app.rag.answer(question, history(earlier), count, how, since, until, answer_mode=answer_mode)
    extractive = next(events)
    assert isinstance(extractive, Answer), "the route begins with the extractive answer"
    turn = turns[-1] = answer_turn(app, question, extractive, count, how)
    if answer_mode == AnswerMode.LLM and not extractive.refused:
        yield from _draft(app, turn, turns, lang, scores, events)
        yield {"chatbot": render.chat_messages(turns, lang), "sources": cards.sources_html(turns, lang, scores), "conv": turns}
        return
    # sent whole, at once: the browser reveals it piece by piece (ui/app.js), so no server slot
    # is held for the animation
    yield {"chatbot": render.chat_messages(turns, lang), "sources": cards.sources_html(turns, lang, scores), "conv": turns}


def _draft(app: App, turn: Turn, turns: list[Turn], lang: str, scores: bool, events: Iterator[Answer | LLMEvent]) -> Iterator[Out]:
    """Stream the model's draft into the turn, then keep its verified result (or the library's fallback)."""
    assert turn.answer is not None
    turn.unsupported = app.settings.llm_unsupported
    turn.passages = app.rag.passages_read(turn.answer)  # the panel shows the passages the model reads
    turn.drafting = True
    try:
        yield {"chatbot": render.chat_messages(turns, lang), "sources": cards.sources_html(turns, lang, scores), "conv": turns}
        shown_at = time.monotonic()
        for event in events:
            if isinstance(event, LLMResult):
                turn.llm, turn.answer = event, event.answer
                continue
            if not isinstance(event, LLMDelta):
                continue
            turn.draft += event.text
            if time.monotonic() - shown_at >= DRAFT_INTERVAL:
                shown_at = time.monotonic()
                yield {"chatbot": render.chat_messages(turns, lang), "conv": turns}
    finally:
        turn.drafting = False


@handler(outputs=("question",), on_error=status_in("feedback_status"))
def pick_example(app: App, evt: gr.EventData) -> Out:
    """An example chip was clicked: its question goes into the box (and is then asked)."""
    return {"question": str(getattr(evt, "question", "") or "")}


@handler(outputs=("export", "feedback_status"), on_error=status_in("feedback_status"))
def export_conversation(app: App, turns: list[Turn], lang: str) -> Out:
    """After each question: the conversation so far as a Markdown download."""
    if not turns:
        return {}
    now = datetime.now()
    path = app.save_export(render.conversation_markdown(turns, language(lang), now), now)
    return {"export": gr.update(value=str(path), interactive=True)}


@handler(outputs=("sources", "feedback_status"), on_error=status_in("feedback_status"))
def rerender_sources(app: App, turns: list[Turn], lang: str, scores: bool) -> Out:
    return {"sources": cards.sources_html(turns or [], language(lang), bool(scores))}


@handler(outputs=("chatbot", "conv", "sources", "export", "feedback_status"), on_error=status_in("feedback_status"))
def clear_chat(app: App, lang: str, scores: bool) -> Out:
    """新对话 and the chatbot's trash button: the whole conversation goes — messages, sources and the
    history the next question would be read in."""
    return {
        "chatbot": [],
        "conv": [],
        "sources": cards.sources_html([], language(lang), bool(scores)),
        "export": gr.update(value=None, interactive=False),
        "feedback_status": "",
    }


def full_document(app: App, asked: dict, request: gr.Request | None = None) -> str:
    """Server function of the sources panel: the whole article, one paragraph highlighted, from the
    collection the page shows (``asked["collection"]``) when the caller may read it."""
    asked = asked if isinstance(asked, dict) else {}
    lang = language(asked.get("lang"))
    collection = str(asked.get("collection") or "") or None
    if not app.may_use(request, collection=collection):
        return cards.missing_document_html(lang)
    return _document(app, collection, str(asked.get("doc", "")), asked.get("para", -1), asked.get("spans"), lang)


@guarded(lambda exc, args: cards.missing_document_html(lang_of(args), error_message(exc, lang_of(args), "error_action")))
def _document(app: App, collection: str | None, doc_id: str, para: object, spans: object, lang: str) -> str:
    try:
        doc = app.in_collection(collection).rag.document(doc_id)
    except KeyError:  # deleted since the card was shown
        return cards.missing_document_html(lang)
    try:
        paragraph = int(para)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        paragraph = -1
    return cards.document_html(doc, paragraph, cards.parse_spans(spans), lang)


# --------------------------------------------------------------------------- feedback


def _feedback(app: App, turns: list[Turn], note: str, lang: str, verdict: str) -> Out:
    lang = language(lang)
    answered = [t for t in (turns or []) if t.answer is not None]
    if not answered:
        return {"feedback_status": status_html(label(lang, "feedback_none"), "warn")}
    app.record_feedback(answered[-1], verdict, note or "")
    return {"feedback_status": status_html(label(lang, "feedback_thanks"), "ok"), "comment": ""}


@handler(outputs=("feedback_status", "comment"), on_error=status_in("feedback_status"))
def like(app: App, turns: list[Turn], note: str, lang: str) -> Out:
    return _feedback(app, turns, note, lang, "up")


@handler(outputs=("feedback_status", "comment"), on_error=status_in("feedback_status"))
def dislike(app: App, turns: list[Turn], note: str, lang: str) -> Out:
    return _feedback(app, turns, note, lang, "down")


# --------------------------------------------------------------------------- documents


@guarded(lambda exc, args: ("warn", label(lang_of(args), "ingest_failed", name=Path(args["path"]).name)))
def ingest_file(app: App, path: Path, lang: str, progress: Any) -> tuple[str, str]:
    """Ingest one uploaded file; ("ok" or "warn", a line for the user). A failure leaves the others to go on."""
    name = path.name
    limit = app.settings.max_upload_mb
    if path.stat().st_size > limit * 1024 * 1024:  # refused before it is read
        return "warn", label(lang, "too_large", name=name, size=f"{path.stat().st_size / 1024 / 1024:.1f}", mb=f"{limit:g}")
    progress(0, desc=f"{label(lang, 'ingest_saving')} {name}")

    def report(stage: str, done: int, total: int) -> None:
        progress((done, total), desc=f"{label(lang, 'ingest_progress')} {name}", unit="chunks")

    upload = app.add_upload(name, path.read_bytes(), report)
    if upload.status == "too_large":
        return "warn", label(lang, "too_large", name=name, size=f"{upload.size_mb:.1f}", mb=f"{limit:g}")
    if upload.status == "unsupported":
        return "warn", label(lang, "unsupported", name=name, types=" ".join(SUPPORTED_SUFFIXES))
    if upload.status == "parse_failed":
        return "warn", label(lang, "parse_failed", name=name, reason=upload.reason)
    lines = [label(lang, "renamed", name=upload.saved)] if upload.renamed else []
    lines.append(label(lang, upload.status, name=upload.saved))
    return "ok", " ".join(lines)


@handler(
    outputs=("ingest_status", "header", "examples", *LIST_OUTPUTS, "doc_query", "doc_since", "doc_until", "upload"),
    on_error=status_in("ingest_status", upload=None),
)
def ingest(
    app: App,
    files: list | None,
    lang: str,
    request: gr.Request | None = None,
    progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio asks for a progress bar
) -> Out:
    """Files dropped on the upload box: each is saved under uploads/ and indexed, then the whole list is shown again."""
    lang = language(lang)
    if not app.may_write(request):
        return {**_refused_write(app, lang), "upload": None}
    lines = [ingest_file(app, Path(getattr(item, "name", item)), lang, progress) for item in files or []]
    if not lines:
        lines.append(("warn", label(lang, "nothing_uploaded")))
    status = "".join(status_html(text, kind) for kind, text in lines)
    return {"ingest_status": status, **library_view(app, lang), "doc_query": "", "doc_since": "", "doc_until": "", "upload": None}


def _ticked(selected: list[str] | str | None) -> list[str]:
    """The ids ticked on the page: the browser sends them as a JSON list (``ui.library.DELETE_SELECTION``)."""
    if isinstance(selected, str):
        try:
            selected = json.loads(selected) if selected.lstrip().startswith("[") else []
        except ValueError:
            return []
    return [str(d) for d in selected or [] if str(d)]


@handler(outputs=("ingest_status", "header", "examples", *LIST_OUTPUTS), on_error=status_in("ingest_status"))
def delete(app: App, selected: list[str] | str | None, lang: str, request: gr.Request | None = None, listing: Listing | None = None) -> Out:
    """Remove the ticked documents from the index (and uploaded ones from uploads/); the list stays on its search and page."""
    lang = language(lang)
    if not app.may_write(request):
        return {**_refused_write(app, lang), **page_view(app, listing, lang)}
    ticked = _ticked(selected)
    if not ticked:
        return {"ingest_status": status_html(label(lang, "delete_none"), "warn"), **library_view(app, lang, listing)}
    removed = app.delete(ticked)
    message = label(lang, "deleted", n=len(removed), names="、".join(removed))
    return {"ingest_status": status_html(message, "ok"), **library_view(app, lang, listing)}


# --------------------------------------------------------------------------- the interface language


@handler(outputs=("lang_state", *TEXTS, "feedback_status"), on_error=status_in("feedback_status"))
def switch_language(app: App, lang: str, turns: list[Turn], scores: bool) -> Out:
    """Reword every component in ``TEXTS`` (answers keep their own language: they follow the question)."""
    now = screen(app, lang, turns, scores)
    return {"lang_state": now.lang, **{name: gr.update(**word(now)) for name, word in TEXTS.items()}}
