"""The web app: chat on the left, the quoted sources on the right, documents on their own tab.

``serve(rag, host, port)`` is what ``rag serve`` calls. The UI holds no
retrieval logic: it calls ``Rag.ask`` (which reports its stage timings),
renders what comes back, and keeps each browser session's conversation
in its own ``gr.State``.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag.api import QuestionError, Rag  # noqa: E402
from rag.documents import SUPPORTED_SUFFIXES  # noqa: E402
from rag.llm import LLMDelta, LLMResult, llm_config, result_to_dict  # noqa: E402
from rag.verify import Verification  # noqa: E402
from rag.retrieval import MODES  # noqa: E402
from rag.serialize import answer_to_dict  # noqa: E402
from rag.settings import ANSWER_MODES  # noqa: E402
from rag.store import POINTER, IndexMissing  # noqa: E402

from . import render  # noqa: E402
from .examples import ExampleCache  # noqa: E402
from .labels import LABELS, label  # noqa: E402
from .render import Turn  # noqa: E402

UI_DIR = Path(__file__).resolve().parent
CSS = (UI_DIR / "style.css").read_text(encoding="utf-8")
JS = (UI_DIR / "app.js").read_text(encoding="utf-8")
# Gradio scopes the selectors of css= inside @media rules under its .contain element; the few
# phone rules for the page frame and the document viewer (outside .contain) go into <head> as they are.
PAGE_CSS = (UI_DIR / "page.css").read_text(encoding="utf-8")
HEAD = f"<style>\n{PAGE_CSS}\n</style>\n<script>\n{JS}\n</script>"

#: Seconds between streamed pieces of an answer (the answer itself is computed at once).
STREAM_DELAY = 0.025
#: Least seconds between two updates of a model's streaming draft (each update re-sends the chat).
DRAFT_INTERVAL = 0.15
#: Questions answered at the same time; more wait in the queue.
CONCURRENCY = 2
FONT_STACK = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Hiragino Sans GB", "sans-serif"]

# JavaScript run by gr.HTML components when they mount.
SOURCES_ON_LOAD = """
window.__ragServer = server;
watch('value', () => {
  const box = element.closest('#sources');
  if (box) box.scrollTop = 0;
});
"""
EXAMPLES_ON_LOAD = """
element.addEventListener('click', (event) => {
  const chip = event.target.closest('button.example');
  if (chip) trigger('click', {question: chip.dataset.q});
});
"""


def _log(message: str) -> None:
    print(f"[ui] {message}", file=sys.stderr, flush=True)


class App:
    """What the event handlers share: the library object, the examples, the upload folder."""

    def __init__(self, rag: Rag) -> None:
        self.rag = rag
        self.settings = rag.settings
        self.uploads = Path(rag.index_dir) / "uploads"
        self.feedback_path = Path(rag.index_dir) / "feedback.jsonl"
        self.export_dir = Path(tempfile.mkdtemp(prefix="rag-ui-export-"))
        atexit.register(shutil.rmtree, self.export_dir, ignore_errors=True)
        self._file_lock = threading.Lock()
        self.examples = ExampleCache(self.generation, self.documents, self._answers)
        self.llm = llm_config(rag.settings)

    # ------------------------------------------------------------------ index views

    def generation(self) -> str:
        pointer = Path(self.rag.index_dir) / POINTER
        try:
            return pointer.read_text().strip()
        except OSError:
            return ""

    def documents(self) -> list:
        try:
            return self.rag.documents()
        except Exception:  # a missing or half-written index lists nothing
            _log("listing documents failed:\n" + traceback.format_exc())
            return []

    def _answers(self, question: str) -> bool:
        return not self.rag.ask(question).refused

    def example_questions(self) -> list[str]:
        try:
            return self.examples.get()
        except Exception:
            _log("example questions failed:\n" + traceback.format_exc())
            return []

    def file_name(self, doc_id: str) -> str:
        try:
            return self.rag.document(doc_id).meta.get("file_name", doc_id)
        except Exception:
            return doc_id

    def doc_choices(self) -> list[tuple[str, str]]:
        return [(f"{d.title} · {d.meta.get('file_name', d.id)}", d.id) for d in self.documents()]

    # ------------------------------------------------------------------ answering

    def answer(self, question: str, top_k: int, mode: str) -> Turn:
        turn = Turn(question=question, top_k=top_k, mode=mode)
        answer = self.rag.ask(question, top_k, mode)
        turn.answer = answer
        turn.search_ms = answer.timings.get("retrieve_ms", 0.0)
        turn.compose_ms = answer.timings.get("answer_ms", 0.0)
        shown = [c.hit for c in answer.citations] or list(answer.related)
        turn.files = {h.chunk.doc_id: self.file_name(h.chunk.doc_id) for h in shown}
        return turn

    def rephrase(self, turn: Turn) -> Iterator[LLMDelta | LLMResult]:
        """The model's draft for an answered turn, then its verified result (``Rag.rephrase``)."""
        assert turn.answer is not None
        turn.unsupported = self.llm.unsupported
        turn.passages = min(self.llm.passages, len(turn.answer.related))
        return self.rag.rephrase(turn.answer)

    # ------------------------------------------------------------------ uploads

    def save_upload(self, name: str, data: bytes) -> tuple[Path, bool]:
        """Save under uploads/ without overwriting: (path, renamed). Identical bytes reuse the file."""
        safe = re.sub(r'[\x00-\x1f/\\:*?"<>|]', "_", Path(name).name).strip(" .") or "upload.txt"
        stem, suffix = Path(safe).stem, Path(safe).suffix
        self.uploads.mkdir(parents=True, exist_ok=True)
        indexed = {d.id for d in self.documents()}
        with self._file_lock:
            for i in range(1, 10_000):
                candidate = self.uploads / (safe if i == 1 else f"{stem}-{i}{suffix}")
                if candidate.exists():
                    if candidate.read_bytes() == data:
                        return candidate, i > 1
                    continue
                if candidate.name in indexed:  # a seed document already has this name
                    continue
                try:
                    with open(candidate, "xb") as handle:
                        handle.write(data)
                except FileExistsError:
                    continue
                return candidate, i > 1
        raise OSError(f"no free file name for {safe}")

    def ingest_upload(self, path: Path, lang: str, progress: Any) -> tuple[str, str]:
        """Ingest one uploaded file; returns ("ok" or "warn", a line for the user)."""
        name = Path(path).name
        size = Path(path).stat().st_size
        limit = self.settings.max_upload_mb
        if size > limit * 1024 * 1024:
            return "warn", label(lang, "too_large", name=name, size=f"{size / 1024 / 1024:.1f}", mb=f"{limit:g}")
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            return "warn", label(lang, "unsupported", name=name, types=" ".join(SUPPORTED_SUFFIXES))
        data = Path(path).read_bytes()
        progress(0, desc=f"{label(lang, 'ingest_saving')} {name}")
        saved, renamed = self.save_upload(name, data)

        def report(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=f"{label(lang, 'ingest_progress')} {saved.name}", unit="chunks")

        result = self.rag.ingest_bytes(saved.name, data, doc_id=saved.name, source=str(saved), progress=report)
        if result.errors:
            if not (result.added or result.updated or result.unchanged):
                saved.unlink(missing_ok=True)  # nothing of it is indexed: do not keep the file
            reason = "; ".join(e.reason for e in result.errors)
            return "warn", label(lang, "parse_failed", name=name, reason=reason)
        lines = []
        if renamed and saved.name in result.added:
            lines.append(label(lang, "renamed", name=saved.name))
        key = "added" if result.added else "updated" if result.updated else "unchanged"
        lines.append(label(lang, key, name=saved.name))
        return "ok", " ".join(lines)

    def delete(self, doc_ids: list[str]) -> list[str]:
        docs = {d.id: d for d in self.documents()}
        present = [d for d in doc_ids if d in docs]
        if present:
            self.rag.delete(present)
        for doc_id in present:
            source = Path(docs[doc_id].meta.get("source", ""))
            if source.parent == self.uploads and source.is_file():
                source.unlink(missing_ok=True)
        return present

    # ------------------------------------------------------------------ feedback and export

    def record_feedback(self, turn: Turn, verdict: str, comment: str) -> None:
        record: dict[str, Any] = {
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "verdict": verdict,
            "comment": comment.strip(),
            # question, answer, citations, refused, related …; in the LLM mode also its text and verdicts
            **(result_to_dict(turn.llm) if turn.llm is not None else answer_to_dict(turn.answer)),
            "top_k": turn.top_k,
            "retrieval_mode": turn.mode,
            "answer_mode": turn.answer_mode,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
        with self._file_lock, open(self.feedback_path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def export(self, turns: list[Turn], lang: str) -> str:
        now = datetime.now()
        folder = Path(tempfile.mkdtemp(dir=self.export_dir))
        path = folder / f"conversation-{now:%Y%m%d-%H%M%S}.md"
        path.write_text(render.conversation_markdown(turns, lang, now), encoding="utf-8")
        return str(path)


# --------------------------------------------------------------------------- the Blocks


def _lang(value: str | None) -> str:
    return value if value in LABELS else "zh"


def _mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(label(lang, f"mode_{m}"), m) for m in MODES]


def _answer_mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(label(lang, f"answer_mode_{m}"), m) for m in ANSWER_MODES]


def build_app(rag: Rag) -> gr.Blocks:
    app = App(rag)
    settings = rag.settings
    zh = "zh"

    def full_document(request: dict) -> str:
        """Server function for the sources panel: the whole article, one paragraph highlighted."""
        request = request if isinstance(request, dict) else {}
        lang = _lang(request.get("lang"))
        try:
            doc = rag.document(str(request.get("doc", "")))
        except Exception:
            return render.missing_document_html(lang)
        try:
            paragraph = int(request.get("para", -1))
        except (TypeError, ValueError):
            paragraph = -1
        return render.document_html(doc, paragraph, render.parse_spans(request.get("spans")), lang)

    with gr.Blocks(title=label(zh, "page_title"), analytics_enabled=False, fill_width=True) as demo:
        lang_state = gr.State(zh)
        conv = gr.State([])

        with gr.Row(elem_id="topbar", equal_height=True):
            header = gr.HTML(render.header_html(zh, len(app.documents())), elem_id="header", js_on_load=None)
            lang_radio = gr.Radio(
                [("中文", "zh"), ("English", "en")], value=zh, show_label=False, container=False,
                elem_id="lang", scale=0, min_width=150,
            )

        with gr.Tabs(elem_id="tabs"):
            with gr.Tab(label(zh, "tab_chat"), id="chat", elem_id="tab-chat") as tab_chat:
                with gr.Row(elem_id="main", equal_height=False):
                    with gr.Column(scale=3, min_width=340, elem_id="chat-col"):
                        chatbot = gr.Chatbot(
                            [], elem_id="chat", show_label=False, height="calc(100vh - 380px)", min_height=280,
                            layout="bubble", latex_delimiters=[], feedback_options=None, line_breaks=False,
                            placeholder=label(zh, "chat_placeholder"), buttons=[], autoscroll=True,
                            # every message is built by ui.render, which escapes all text it did not write
                            sanitize_html=False,
                        )
                        with gr.Row(elem_id="ask-row", equal_height=True):
                            question = gr.Textbox(
                                show_label=False, placeholder=label(zh, "question_placeholder"), container=False,
                                scale=8, max_lines=4, elem_id="question", submit_btn=False,
                            )
                            send = gr.Button(label(zh, "send"), variant="primary", scale=1, min_width=84, elem_id="send")
                        with gr.Row(elem_id="answer-row", equal_height=True):
                            answer_mode = gr.Radio(
                                _answer_mode_choices(zh), value=settings.answer_mode, label=label(zh, "answer_mode"),
                                show_label=False, container=False, elem_id="answer-mode", scale=0, min_width=0,
                            )
                        examples = gr.HTML(
                            render.examples_html(app.example_questions(), zh), elem_id="examples",
                            js_on_load=EXAMPLES_ON_LOAD,
                        )
                        with gr.Row(elem_id="actions", equal_height=True):
                            like = gr.Button(label(zh, "like"), size="sm", elem_id="like", min_width=60, scale=0)
                            dislike = gr.Button(label(zh, "dislike"), size="sm", elem_id="dislike", min_width=60, scale=0)
                            comment = gr.Textbox(
                                show_label=False, placeholder=label(zh, "feedback_comment_placeholder"),
                                container=False, scale=3, min_width=120, elem_id="comment", max_lines=1,
                            )
                            export = gr.DownloadButton(
                                label(zh, "export"), value=None, size="sm", elem_id="export", interactive=False,
                                min_width=110, scale=0,
                            )
                        feedback_status = gr.HTML("", elem_id="feedback-status", js_on_load=None)
                        with gr.Accordion(label(zh, "settings"), open=False, elem_id="settings") as settings_box:
                            with gr.Row():
                                top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label=label(zh, "top_k"), elem_id="top-k")
                                mode = gr.Radio(_mode_choices(zh), value=settings.retrieval_mode, label=label(zh, "mode"), elem_id="mode")
                            show_scores = gr.Checkbox(False, label=label(zh, "show_scores"), elem_id="show-scores")
                            llm_info = gr.Markdown(_llm_info(zh, app), elem_id="llm-info")
                    with gr.Column(scale=2, min_width=320, elem_id="sources-col"):
                        sources = gr.HTML(
                            render.sources_html([], zh, False), elem_id="sources", js_on_load=SOURCES_ON_LOAD,
                            server_functions=[full_document],
                        )

            with gr.Tab(label(zh, "tab_docs"), id="docs", elem_id="tab-docs") as tab_docs:
                with gr.Column(elem_id="docs-panel"):
                    upload = gr.File(
                        label=label(zh, "upload_label"), file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                        elem_id="upload", height=140,
                    )
                    upload_hint = gr.Markdown(_upload_hint(zh, settings.max_upload_mb), elem_id="upload-hint")
                    ingest_status = gr.HTML("", elem_id="ingest-status", js_on_load=None)
                    doc_list = gr.CheckboxGroup(
                        app.doc_choices(), value=[], label=label(zh, "docs_label"), elem_id="doc-list",
                    )
                    delete_button = gr.Button(label(zh, "delete"), variant="stop", size="sm", elem_id="delete", scale=0)

        # ------------------------------------------------------------------ handlers

        def ask(text: str, turns: list[Turn], lang: str, k: float, how: str, scores: bool, style: str) -> Iterator[tuple]:
            lang = _lang(lang)
            turns = list(turns or [])
            raw = text or ""
            try:
                question = rag.check_question(raw)
            except QuestionError as exc:
                turns.append(Turn(question=raw.strip()[:300], error=str(exc)))
                yield render.chat_messages(turns, lang), gr.skip(), turns, "", gr.skip()
                return
            turns.append(Turn(question=question))
            index = len(turns) - 1
            yield render.chat_messages(turns, lang), gr.skip(), turns, "", gr.skip()
            try:
                turn = app.answer(question, int(k or settings.top_k), how if how in MODES else settings.retrieval_mode)
            except IndexMissing:
                turns[index] = Turn(question=question, error=label(lang, "error_no_index"))
                yield render.chat_messages(turns, lang), gr.skip(), turns, "", gr.skip()
                return
            except Exception:
                _log(f"answering {question!r} failed:\n{traceback.format_exc()}")
                turns[index] = Turn(question=question, error=label(lang, "error_generic"))
                yield render.chat_messages(turns, lang), gr.skip(), turns, "", gr.skip()
                return
            turns[index] = turn
            if style == "llm" and turn.answer is not None and not turn.answer.refused:
                yield from draft(turn, turns, lang, bool(scores))
                panel: Any = render.sources_html(turns, lang, bool(scores))
            else:
                # the cards appear with the first piece of the answer, which then streams in
                panel = render.sources_html(turns, lang, bool(scores))
                for shown in render.stream_steps(turn.answer)[:-1]:
                    yield render.chat_messages(turns, lang, index, shown), panel, turns, "", gr.skip()
                    panel = gr.skip()  # sent once; re-sending would undo a click on a [n] made meanwhile
                    time.sleep(STREAM_DELAY)
            try:
                download = gr.DownloadButton(value=app.export(turns, lang), interactive=True)
            except Exception:
                _log("export failed:\n" + traceback.format_exc())
                download = gr.skip()
            yield render.chat_messages(turns, lang), panel, turns, "", download

        def draft(turn: Turn, turns: list[Turn], lang: str, scores: bool) -> Iterator[tuple]:
            """Stream the model's draft into the turn, then keep its verified result (or the fallback)."""
            events = app.rephrase(turn)  # sets how many passages the model reads: the panel shows them
            turn.drafting = True
            yield render.chat_messages(turns, lang), render.sources_html(turns, lang, scores), turns, "", gr.skip()
            began = shown_at = time.monotonic()
            try:
                for event in events:
                    if isinstance(event, LLMResult):
                        turn.llm, turn.answer = event, event.answer
                        continue
                    turn.draft += event.text
                    if time.monotonic() - shown_at >= DRAFT_INTERVAL:
                        shown_at = time.monotonic()
                        yield render.chat_messages(turns, lang), gr.skip(), turns, "", gr.skip()
            except Exception as exc:  # the extractive answer is already there: show it, never a traceback
                _log(f"the LLM answer to {turn.question!r} failed:\n{traceback.format_exc()}")
                assert turn.answer is not None
                reason = type(exc).__name__
                turn.llm = LLMResult(turn.answer, Verification(()), turn.draft, True, reason, True, None, time.monotonic() - began)
            finally:
                turn.drafting = False

        ask_inputs = [question, conv, lang_state, top_k, mode, show_scores, answer_mode]
        ask_outputs = [chatbot, sources, conv, question, export]
        # one concurrency group for every way of asking: at most CONCURRENCY answers at a time
        question.submit(ask, ask_inputs, ask_outputs, show_progress="hidden", concurrency_id="answer")
        send.click(ask, ask_inputs, ask_outputs, show_progress="hidden", concurrency_id="answer")

        def pick_example(evt: gr.EventData) -> str:
            return str(getattr(evt, "question", "") or "")

        examples.click(pick_example, None, question, queue=False, show_progress="hidden").then(
            ask, ask_inputs, ask_outputs, show_progress="hidden", concurrency_id="answer"
        )

        def rerender_sources(turns: list[Turn], lang: str, scores: bool) -> str:
            return render.sources_html(turns or [], _lang(lang), bool(scores))

        show_scores.change(rerender_sources, [conv, lang_state, show_scores], sources, show_progress="hidden")

        def give_feedback(verdict: str):
            def handler(turns: list[Turn], note: str, lang: str) -> tuple:
                lang = _lang(lang)
                answered = [t for t in (turns or []) if t.answer is not None]
                if not answered:
                    return _status(label(lang, "feedback_none"), "warn"), gr.skip()
                try:
                    app.record_feedback(answered[-1], verdict, note or "")
                except Exception:
                    _log("writing feedback failed:\n" + traceback.format_exc())
                    return _status(label(lang, "error_generic"), "warn"), gr.skip()
                return _status(label(lang, "feedback_thanks"), "ok"), ""

            return handler

        like.click(give_feedback("up"), [conv, comment, lang_state], [feedback_status, comment], show_progress="hidden")
        dislike.click(give_feedback("down"), [conv, comment, lang_state], [feedback_status, comment], show_progress="hidden")

        def clear_chat(lang: str, scores: bool) -> tuple:
            empty = render.sources_html([], _lang(lang), bool(scores))
            return [], [], empty, gr.DownloadButton(value=None, interactive=False), ""

        # the chatbot's own trash button clears the whole conversation, not just the messages shown
        chatbot.clear(clear_chat, [lang_state, show_scores], [chatbot, conv, sources, export, feedback_status], show_progress="hidden")

        def refresh(lang: str) -> tuple:
            lang = _lang(lang)
            return (
                render.header_html(lang, len(app.documents())),
                render.examples_html(app.example_questions(), lang),
                gr.CheckboxGroup(choices=app.doc_choices(), value=[]),
            )

        def ingest(files: list | None, lang: str, progress: gr.Progress = gr.Progress()) -> tuple:
            lang = _lang(lang)
            lines = []
            for item in files or []:
                path = Path(getattr(item, "name", item))
                try:
                    lines.append(app.ingest_upload(path, lang, progress))
                except Exception:
                    _log(f"ingesting {path.name} failed:\n{traceback.format_exc()}")
                    lines.append(("warn", label(lang, "ingest_failed", name=path.name)))
            if not lines:
                lines.append(("warn", label(lang, "nothing_uploaded")))
            status = "".join(_status(text, kind) for kind, text in lines)
            return (status, *refresh(lang), None)

        upload.upload(
            ingest, [upload, lang_state], [ingest_status, header, examples, doc_list, upload],
            show_progress="full", concurrency_limit=1, concurrency_id="write",
        )

        def delete(selected: list[str] | None, lang: str) -> tuple:
            lang = _lang(lang)
            if not selected:
                return (_status(label(lang, "delete_none"), "warn"), *refresh(lang))
            try:
                removed = app.delete(list(selected))
            except Exception:
                _log("deleting failed:\n" + traceback.format_exc())
                return (_status(label(lang, "error_generic"), "warn"), *refresh(lang))
            message = label(lang, "deleted", n=len(removed), names="、".join(removed))
            return (_status(message, "ok"), *refresh(lang))

        delete_button.click(
            delete, [doc_list, lang_state], [ingest_status, header, examples, doc_list],
            concurrency_limit=1, concurrency_id="write",
        )

        def switch_language(lang: str, turns: list[Turn], scores: bool) -> tuple:
            lang = _lang(lang)
            turns = turns or []
            return (
                lang,
                render.header_html(lang, len(app.documents())),
                gr.Tab(label=label(lang, "tab_chat")),
                gr.Tab(label=label(lang, "tab_docs")),
                gr.Chatbot(value=render.chat_messages(turns, lang), placeholder=label(lang, "chat_placeholder")),
                gr.Textbox(placeholder=label(lang, "question_placeholder")),
                gr.Button(value=label(lang, "send")),
                render.examples_html(app.example_questions(), lang),
                gr.Button(value=label(lang, "like")),
                gr.Button(value=label(lang, "dislike")),
                gr.Textbox(placeholder=label(lang, "feedback_comment_placeholder")),
                gr.DownloadButton(label=label(lang, "export")),
                gr.Accordion(label=label(lang, "settings")),
                gr.Slider(label=label(lang, "top_k")),
                gr.Radio(choices=_mode_choices(lang), label=label(lang, "mode")),
                gr.Checkbox(label=label(lang, "show_scores")),
                gr.Radio(choices=_answer_mode_choices(lang), label=label(lang, "answer_mode")),
                _llm_info(lang, app),
                render.sources_html(turns, lang, bool(scores)),
                gr.File(label=label(lang, "upload_label")),
                _upload_hint(lang, settings.max_upload_mb),
                gr.CheckboxGroup(label=label(lang, "docs_label")),
                gr.Button(value=label(lang, "delete")),
            )

        lang_radio.change(
            switch_language,
            [lang_radio, conv, show_scores],
            [
                lang_state, header, tab_chat, tab_docs, chatbot, question, send, examples, like, dislike, comment,
                export, settings_box, top_k, mode, show_scores, answer_mode, llm_info, sources, upload, upload_hint, doc_list,
                delete_button,
            ],
            show_progress="hidden",
        )
        demo.load(refresh, [lang_state], [header, examples, doc_list], show_progress="hidden")

    return demo


def _status(text: str, kind: str) -> str:
    from html import escape

    return f'<div class="status {kind}">{escape(text)}</div>'


def _llm_info(lang: str, app: App) -> str:
    return label(lang, "answer_mode_info", url=app.llm.base_url, model=app.llm.model)


def _upload_hint(lang: str, mb: float) -> str:
    return label(lang, "upload_hint", types=" ".join(s for s in SUPPORTED_SUFFIXES), mb=f"{mb:g}")


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue=gr.themes.colors.teal,
        secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.slate,
        font=FONT_STACK,
        font_mono=["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "monospace"],
        radius_size=gr.themes.sizes.radius_md,
    )


def launch_options() -> dict[str, Any]:
    """The launch() keywords besides host and port: styling, privacy, limits."""
    return {
        "share": False,
        "show_error": False,
        "css": CSS,
        "head": HEAD,
        "theme": theme(),
        "footer_links": [],
        "ssr_mode": False,
        "mcp_server": False,
        "pwa": False,
        "enable_monitoring": False,
    }


def _print_progress(stage: str, done: int, total: int) -> None:
    print(f"\r  向量化 / embedding: {done}/{total} chunks", end="\n" if done >= total else "", file=sys.stderr, flush=True)


def serve(rag: Rag, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build the index on first start, load the model, and run the app until interrupted."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if not rag.has_index():
        seeds = Path(rag.settings.seeds_dir)
        print(f"No index in {rag.index_dir}; building it from {seeds} … / 首次启动，正在从 {seeds} 建立索引…", flush=True)
        if seeds.exists():
            report = rag.ingest([seeds], progress=_print_progress)
            for error in report.errors:
                print(f"  skipped / 跳过: {error}", file=sys.stderr, flush=True)
            print(f"Indexed {len(report.added)} documents, {report.chunks} chunks in {report.seconds:.1f} s / 索引已建立", flush=True)
        else:
            print(f"  {seeds} does not exist; upload documents in the app / 种子文件夹不存在，请在界面中上传文档", flush=True)
    print("Loading the embedding model … / 正在加载模型…", flush=True)
    rag.warm_up()
    if rag.has_index():
        try:  # the first question would otherwise pay for the tokenizer dictionaries
            rag.ask("预热")
        except Exception:
            _log("warm-up question failed:\n" + traceback.format_exc())
    demo = build_app(rag)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    print(f"Open http://{shown_host}:{port} in a browser / 在浏览器中打开 http://{shown_host}:{port}", flush=True)
    demo.launch(
        server_name=host,
        server_port=port,
        max_file_size=f"{max(1, int(rag.settings.max_upload_mb * 4))}mb",
        **launch_options(),
    )
