"""The web app's handlers without a browser: plain values in, name → update dicts out.

A real library over the seed articles indexed with the fake embedder
(``fake_rag``, ``fake_fresh_index``), so asking, uploading and deleting run for
real in milliseconds; failures are real too (a missing index, an index whose
pointer leads nowhere, a feedback file that is a folder), never a mock of our code.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from rag import Listing, Rag
from ui import collection_view, handlers, layout, library
from ui.app import bind, build_app
from ui.labels import label
from ui.language import TEXTS, Screen
from ui.llm_server import free_port
from ui.state import App, Turn, history

QUESTION = "重庆工行为多少名贫困大学生发放了资助金？"
ARTICLE = (
    "青岚茶园位于虚构的云栖山南麓，海拔约一千二百米。\n"
    "茶园共种植了4386株百年古茶树，是当地规模最大的古茶树园。\n"
    "每年清明前后，茶园采摘头春嫩芽，制成名为“云栖雪芽”的绿茶。\n"
)


def no_progress(*args: Any, **kwargs: Any) -> None:
    """Stands in for the gr.Progress that Gradio passes."""


def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Call a handler as Gradio would (all of a stream), checking it only names its declared outputs."""
    result = fn(*args, **kwargs)
    outs = list(result) if inspect.isgenerator(result) else [result]
    for out in outs:
        assert set(out) <= set(fn.outputs), f"{fn.__name__} returned {set(out) - set(fn.outputs)}"
    return outs


def ask(app: App, text: str, turns: list[Turn] | None = None, lang: str = "zh", style: str = "extractive") -> list[dict[str, Any]]:
    return run(handlers.ask, app, text, turns or [], lang, 5, "hybrid", False, style)


@pytest.fixture
def app(fake_rag: Rag, tmp_path: Path) -> App:
    return App(fake_rag, export_dir=tmp_path / "exports")


@pytest.fixture
def writable_app(fake_settings: Callable[..., Any], fake_fresh_index: Path, tmp_path: Path) -> App:
    return App(Rag(fake_settings(index_dir=fake_fresh_index)), export_dir=tmp_path / "exports")


# --------------------------------------------------------------------------- asking


def test_a_question_streams_into_a_turn_with_citations(app: App) -> None:
    outs = ask(app, QUESTION)
    first, last = outs[0], outs[-1]
    assert first["question"] == "" and 'class="answer pending"' in first["chatbot"][-1]["content"], "a pending turn shows at once"
    turn = last["conv"][-1]
    assert turn.question == QUESTION and turn.answer is not None and not turn.answer.refused
    assert turn.answer.citations and turn.top_k == 5 and turn.mode == "hybrid"
    assert all(turn.files[c.hit.chunk.doc_id].endswith(".txt") for c in turn.answer.citations)
    html = last["chatbot"][-1]["content"]
    assert 'class="cite"' in html and 'class="timing"' in html
    # the browser reveals the answer piece by piece (ui/app.js); the server sends it whole, holding no slot
    assert len(outs) == 2, "a pending turn, then the whole answer"
    panels = [out["sources"] for out in outs if "sources" in out]
    assert len(panels) == 1 and 'id="src-0-1"' in panels[0], "the cards are sent once, with the answer"


def test_an_empty_or_too_long_question_gets_the_library_message(app: App) -> None:
    (out,) = ask(app, "   ", lang="en")
    turn = out["conv"][-1]
    assert turn.answer is None and "请输入一个问题" in turn.error
    assert 'class="answer error"' in out["chatbot"][-1]["content"] and out["question"] == ""
    (out,) = ask(app, "工行" * 400 + "？", out["conv"])
    assert len(out["conv"]) == 2 and "问题太长" in out["conv"][-1].error
    assert len(out["conv"][-1].question) == app.settings.max_question_chars


def test_without_an_index_the_question_says_to_upload_documents(tmp_path: Path, fake_settings: Callable[..., Any]) -> None:
    app = App(Rag(fake_settings(index_dir=tmp_path / "never-built")), export_dir=tmp_path / "exports")
    outs = ask(app, QUESTION, lang="en")
    assert outs[-1]["conv"][-1].error == label("en", "error_no_index")
    assert len(outs[-1]["conv"]) == 1, "the pending turn is replaced, not kept beside the error"


def test_llm_mode_without_a_model_server_falls_back_and_says_why(fake_settings: Callable[..., Any], fake_seed_index_dir: Path, tmp_path: Path) -> None:
    port = free_port()  # nothing listens on it
    rag = Rag(fake_settings(index_dir=fake_seed_index_dir, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout_s=5))
    outs = ask(App(rag, export_dir=tmp_path), QUESTION, style="llm")
    assert any("draft" in out["chatbot"][-1]["content"] for out in outs[:-1]), "a draft shows while the model is asked"
    assert any("source-group drafting" in out.get("sources", "") for out in outs), "the passages being read are shown"
    turn = outs[-1]["conv"][-1]
    assert turn.llm is not None and turn.llm.fallback and not turn.drafting
    html = outs[-1]["chatbot"][-1]["content"]
    assert "暂时无法使用大模型" in html and 'class="cite"' in html and "首字" in html


def test_an_example_chip_fills_the_question_box(app: App) -> None:
    (out,) = run(handlers.pick_example, app, gr.EventData(None, {"question": QUESTION}))
    assert out == {"question": QUESTION}


# --------------------------------------------------------------------------- the language switch


def test_the_language_switch_rewords_every_component_that_has_words(app: App) -> None:
    def configs(lang: str) -> dict[str, dict]:
        with gr.Blocks():
            ui = layout.build(Screen(lang, app.settings, 3, ["问题？"]), app.rag.library())
        return {name: ui[name].get_config() for name in layout.Layout.names()}

    zh, en = configs("zh"), configs("en")
    worded = {name for name in zh if zh[name] != en[name]} - {"lang_radio"}
    listed = {"doc_list", "doc_range", "doc_source"}  # the documents' page: shown again in the new language by library.show_page
    assert worded - listed == set(TEXTS), "a component with words is missing from TEXTS (or TEXTS names one without)"
    assert listed <= worded and listed <= set(library.show_page.outputs)
    (shown,) = run(library.show_page, app, None, "en")
    assert label("en", "doc_col_title") in shown["doc_list"] and label("en", "doc_source_all") in shown["doc_source"]["choices"][0][0]
    for name in worded - listed:
        changed = {k for k in zh[name] if zh[name][k] != en[name].get(k)}
        assert changed <= set(TEXTS[name](Screen("en", app.settings))), f"{name}: {changed} is not reworded by TEXTS"

    conversation = ask(app, QUESTION)[-1]["conv"]
    out = handlers.switch_language(app, "en", conversation, True)
    assert list(out) == ["lang_state", *TEXTS], "one update per output, in order"
    assert set(handlers.switch_language.outputs) - set(out) == {"feedback_status"}, "which only shows failures"
    assert out["lang_state"] == "en" and out["send"]["value"] == "Ask" and out["tab_docs"]["label"] == "Documents"
    assert "Sources" in out["sources"]["value"] and 'class="card-score"' in out["sources"]["value"]
    assert QUESTION in out["chatbot"]["value"][0]["content"], "the conversation stays, reworded"
    values = bind(app, handlers.switch_language)("default", "en", conversation, False)  # the session's collection first
    assert len(values) == len(handlers.switch_language.outputs), "Gradio gets one value per output"


def test_the_app_wires_every_handler_to_components_that_exist(app: App) -> None:
    declared = [fn for module in (handlers, library) for fn in vars(module).values() if hasattr(fn, "outputs")]
    assert len(declared) >= 10
    for fn in declared:
        assert set(fn.outputs) <= set(layout.Layout.names()), fn.__name__
    demo = build_app(app.rag)
    wired = {getattr(dep.fn, "__name__", "") for dep in demo.fns.values()}
    # refresh fills the page on load and on a collection switch, inside collection_view's handlers
    assert {fn.__name__ for fn in declared} - {"refresh"} <= wired, "a handler is declared but never wired"
    assert {collection_view.opening.__name__, collection_view.switch.__name__} <= wired


def test_bind_keeps_what_gradio_reads_from_a_handler(app: App) -> None:
    ingest = bind(app, handlers.ingest)
    assert list(inspect.signature(ingest).parameters) == ["collection", "files", "lang", "request", "progress"], "the session's collection comes first"
    assert isinstance(inspect.signature(ingest).parameters["progress"].default, gr.Progress)
    assert typing.get_type_hints(ingest)["request"] == gr.Request | None, "Gradio hands the caller's request to the handlers that write"
    assert typing.get_type_hints(bind(app, handlers.pick_example))["evt"] is gr.EventData
    assert inspect.isgeneratorfunction(bind(app, handlers.ask)) and bind(app, handlers.full_document).__name__ == "full_document"
    viewer = bind(app, handlers.full_document, per_collection=False)
    assert list(inspect.signature(viewer).parameters) == ["asked", "request"], "a server function's collection travels in its payload"


# --------------------------------------------------------------------------- the error boundary


def test_an_unreadable_index_is_a_message_not_an_empty_list(
    fake_fresh_index: Path, fake_settings: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fake_fresh_index / "CURRENT").write_text("gen-that-is-gone")
    app = App(Rag(fake_settings(index_dir=fake_fresh_index)), export_dir=tmp_path)
    (out,) = run(handlers.refresh, app, "en")
    assert set(out) == {"ingest_status"}, "the document list is left alone, not emptied"
    assert label("en", "error_index_corrupt") in out["ingest_status"] and 'class="status warn"' in out["ingest_status"]
    screen, first, status = handlers.first_page(app, "zh")
    assert first is None and label("zh", "error_index_corrupt") in status
    turn = ask(app, QUESTION)[-1]["conv"][-1]
    assert turn.error == label("zh", "error_index_corrupt")
    logged = capsys.readouterr().err
    assert "Traceback" in logged and "IndexCorrupt" in logged, "the traceback goes to the log"
    assert "Traceback" not in out["ingest_status"] + turn.error


def test_a_failed_write_is_reported_in_the_interface_language(writable_app: App, capsys: pytest.CaptureFixture[str]) -> None:
    writable_app.feedback_path.mkdir(parents=True)  # a folder where the feedback file should be
    turns = ask(writable_app, QUESTION)[-1]["conv"]
    (out,) = run(handlers.like, writable_app, turns, "很好", "en")
    assert out == {"feedback_status": '<div class="status warn">' + label("en", "error_action") + "</div>"}
    assert "IsADirectoryError" in capsys.readouterr().err


def test_the_document_viewer_says_when_a_document_is_gone(app: App) -> None:
    doc = app.rag.documents()[0]
    html = handlers.full_document(app, {"doc": doc.id, "para": 2, "spans": "", "lang": "en"})
    assert re.search(r'class="doc-para \w+ hl" data-para="2"', html) and doc.title in html
    assert label("en", "doc_missing") in handlers.full_document(app, {"doc": "gone.txt", "lang": "en"})
    assert label("zh", "doc_missing") in handlers.full_document(app, "not a request")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- feedback, export, documents


def test_feedback_and_export(writable_app: App) -> None:
    (out,) = run(handlers.like, writable_app, [], "", "zh")
    assert label("zh", "feedback_none") in out["feedback_status"]
    turns = ask(writable_app, QUESTION)[-1]["conv"]
    (out,) = run(handlers.dislike, writable_app, turns, " 引用不对 ", "zh")
    assert out["comment"] == "" and label("zh", "feedback_thanks") in out["feedback_status"]
    record = writable_app.feedback_path.read_text(encoding="utf-8")
    assert '"verdict": "down"' in record and '"comment": "引用不对"' in record and '"answer_mode": "extractive"' in record
    (out,) = run(handlers.export_conversation, writable_app, turns, "zh")
    markdown = Path(out["export"]["value"]).read_text(encoding="utf-8")
    assert QUESTION in markdown and "[1]" in markdown
    (out,) = run(handlers.clear_chat, writable_app, "zh", False)
    assert out["conv"] == [] and out["chatbot"] == []


def test_an_uploaded_document_is_indexed_and_deleting_it_removes_its_file(writable_app: App, tmp_path: Path) -> None:
    upload = tmp_path / "gradio-temp" / "青岚茶园.txt"
    upload.parent.mkdir()
    upload.write_text(ARTICLE, encoding="utf-8")
    (out,) = run(handlers.ingest, writable_app, [str(upload)], "zh", progress=no_progress)
    assert label("zh", "added", name=upload.name) in out["ingest_status"] and out["upload"] is None
    saved = writable_app.uploads / upload.name
    assert saved.read_text(encoding="utf-8") == ARTICLE
    assert f'value="{upload.name}"' in out["doc_list"] and out["doc_query"] == "", "the whole list is shown again, the upload in it"
    assert "4386" in ask(writable_app, "青岚茶园种植了多少株古茶树？")[-1]["chatbot"][-1]["content"]

    (out,) = run(handlers.delete, writable_app, [upload.name], "zh")
    assert label("zh", "deleted", n=1, names=upload.name) in out["ingest_status"]
    assert not saved.exists(), "the uploaded file goes with its document"
    assert upload.name not in {d.id for d in writable_app.rag.documents()}
    (out,) = run(handlers.delete, writable_app, [], "zh")
    assert label("zh", "delete_none") in out["ingest_status"]


def test_the_documents_tab_searches_pages_and_deletes_the_ticked_rows(writable_app: App, tmp_path: Path) -> None:
    rag = writable_app.rag
    total = rag.library().documents
    (out,) = run(library.search_documents, writable_app, "", "", "", "", "zh")
    assert out["doc_list"].count('class="doc-pick"') == min(total, 50) and label("zh", "doc_range", first=1, last=total, total=total) in out["doc_range"]
    first = rag.library().rows[0]
    (out,) = run(library.search_documents, writable_app, first.title[:6], "", "", "", "zh")
    listing = out["doc_listing"]
    assert listing.text == first.title[:6] and f'value="{first.id}"' in out["doc_list"] and out["doc_prev"]["interactive"] is False
    (out,) = run(library.search_documents, writable_app, "", "2023-99-01", "", "", "en")
    assert set(out) == {"ingest_status"} and "2023-99-01" in out["ingest_status"], "a bad date is a message, the list stays"
    (out,) = run(library.search_documents, writable_app, "没有这样的文字", "", "", "", "en")
    assert label("en", "doc_none") in out["doc_list"] and out["doc_range"] == '<div class="doc-range"></div>'
    paged = dataclasses.replace(Listing(), limit=1)
    (out,) = run(library.next_page, writable_app, paged, "zh")
    assert out["doc_listing"].offset == 1 and out["doc_prev"]["interactive"] is True
    (out,) = run(handlers.delete, writable_app, json.dumps([first.id]), "zh", None, listing)
    assert label("zh", "deleted", n=1, names=first.id) in out["ingest_status"] and out["doc_listing"].text == listing.text, "the search stays"
    assert rag.library().documents == total - 1 and f'value="{first.id}"' not in out["doc_list"]
    (out,) = run(handlers.delete, writable_app, "[]", "zh", None, listing)
    assert label("zh", "delete_none") in out["ingest_status"]


def test_unreadable_uploads_are_reported_one_by_one(writable_app: App, tmp_path: Path) -> None:
    broken, good, odd = tmp_path / "broken.pdf", tmp_path / "good.txt", tmp_path / "notes.xyz"
    broken.write_bytes(b"%PDF-1.4 not really a PDF \x00\x01" * 20)
    good.write_text(ARTICLE, encoding="utf-8")
    odd.write_text("x", encoding="utf-8")
    (out,) = run(handlers.ingest, writable_app, [str(broken), str(odd), str(good)], "en", progress=no_progress)
    status = out["ingest_status"]
    assert status.count('class="status warn"') == 2 and status.count('class="status ok"') == 1
    assert not (writable_app.uploads / broken.name).exists(), "a file nothing of which was indexed is not kept"
    writable_app.delete([good.name])
    (out,) = run(handlers.ingest, writable_app, None, "en", progress=no_progress)
    assert label("en", "nothing_uploaded") in out["ingest_status"]


# --------------------------------------------------------------------------- conversations


def test_a_follow_up_is_read_in_the_conversation_and_shows_how(app: App) -> None:
    first = ask(app, QUESTION)[-1]
    follow_up = ask(app, "总金额是多少？", first["conv"])[-1]
    turn = follow_up["conv"][-1]
    assert turn.answer is not None and turn.answer.history_used and "资助金" in turn.answer.standalone_question
    shown = follow_up["chatbot"][-1]["content"]
    assert label("zh", "understood_as", question=turn.answer.standalone_question) in shown
    assert "理解为" not in first["chatbot"][-1]["content"]  # a first question is read as asked
    english = ask(app, "总金额是多少？", first["conv"], lang="en")[-1]["chatbot"][-1]["content"]
    assert "Understood as: " in english
    exported = run(handlers.export_conversation, app, follow_up["conv"], "zh")[-1]["export"]["value"]
    assert f"理解为：{turn.answer.standalone_question}" in Path(exported).read_text(encoding="utf-8")


def test_the_history_leaves_out_failed_turns_and_names_cited_documents(app: App) -> None:
    turns = ask(app, QUESTION)[-1]["conv"]
    turns = ask(app, "", turns)[-1]["conv"]  # an empty question fails; it is no part of the conversation
    messages = history(turns)
    assert [m["role"] for m in messages] == ["user", "assistant"] and messages[0]["content"] == QUESTION
    assert messages[1]["citations"] == [turns[0].answer.citations[0].hit.chunk.doc_id]


def test_new_conversation_clears_the_chat_the_sources_and_the_history(app: App) -> None:
    turns = ask(app, QUESTION)[-1]["conv"]
    cleared = run(handlers.clear_chat, app, "zh", False)[-1]
    assert cleared["chatbot"] == [] and cleared["conv"] == [] and "src-" not in cleared["sources"]
    after = ask(app, "总金额是多少？", cleared["conv"])[-1]["conv"][-1]
    assert turns and after.answer is not None and not after.answer.history_used
