"""The page: every component of the web app, built once and returned by name.

``build`` must run inside a ``gr.Blocks`` context; it creates the components
(chat on the left, the sources on the right, documents on their own tab) and
returns them in a ``Layout``, whose field names are the names the handlers use
for their inputs and outputs. Every translated word comes from
``ui.language.TEXTS``, so the language switch relabels exactly what is built
here. The elem_ids are what ``style.css``, ``app.js`` and the browser tests
select on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import gradio as gr

from rag import SUPPORTED_SUFFIXES, DocumentPage, Listing

from . import doclist
from .constants import LANGUAGE_CHOICES, TOP_K_MAX
from .labels import label
from .language import Screen, words

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


@dataclass
class Layout:
    """The page's components by name (states first, then in page order)."""

    lang_state: gr.State
    conv: gr.State
    collection: gr.State  # the session's collection: every event's app is that collection's
    convs: gr.State  # the conversations left in other collections, by name, to come back to
    doc_listing: gr.State
    header: gr.HTML
    collection_picker: gr.Dropdown
    lang_radio: gr.Radio
    tab_chat: gr.Tab
    chatbot: gr.Chatbot
    question: gr.Textbox
    send: gr.Button
    answer_mode: gr.Radio
    examples: gr.HTML
    new_chat: gr.Button
    like: gr.Button
    dislike: gr.Button
    comment: gr.Textbox
    export: gr.DownloadButton
    feedback_status: gr.HTML
    settings_box: gr.Accordion
    top_k: gr.Slider
    mode: gr.Radio
    since: gr.Textbox
    until: gr.Textbox
    show_scores: gr.Checkbox
    llm_info: gr.Markdown
    sources: gr.HTML
    tab_docs: gr.Tab
    upload: gr.File
    upload_hint: gr.Markdown
    ingest_status: gr.HTML
    doc_query: gr.Textbox
    doc_since: gr.Textbox
    doc_until: gr.Textbox
    doc_source: gr.Dropdown
    doc_search: gr.Button
    doc_list: gr.HTML
    delete_button: gr.Button
    doc_range: gr.HTML
    doc_prev: gr.Button
    doc_next: gr.Button
    feeds: gr.HTML

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def build(
    screen: Screen,
    first: DocumentPage | None,
    ingest_status: str = "",
    server_functions: Sequence[Callable[..., Any]] = (),
    sign_out: bool = False,
    collection: str = "default",
) -> Layout:
    """The components for a new page on ``screen``, the documents tab showing ``first`` (the list's first page,
    None when it could not be read); ``server_functions`` serve the document viewer;
    ``sign_out`` adds the way out of a locked server's session (``ui.access``)."""
    settings = screen.settings
    made: dict[str, Any] = {
        "lang_state": gr.State(screen.lang),
        "conv": gr.State([]),
        "collection": gr.State(collection),
        "convs": gr.State({}),
        "doc_listing": gr.State(Listing(limit=settings.documents_page)),
    }
    page = first or DocumentPage((), 0, 0, settings.documents_page, 0)

    def w(name: str) -> dict[str, Any]:
        return words(name, screen)

    with gr.Row(elem_id="topbar", equal_height=True):
        made["header"] = gr.HTML(**w("header"), elem_id="header", js_on_load=None)
        made["collection_picker"] = gr.Dropdown(
            [collection], value=collection, **w("collection_picker"), visible=False, container=False, elem_id="collection", scale=0, min_width=170
        )
        made["lang_radio"] = gr.Radio(
            LANGUAGE_CHOICES,
            value=screen.lang,
            show_label=False,
            container=False,
            elem_id="lang",
            scale=0,
            min_width=150,
        )
        if sign_out:  # both languages: the link is the same for every session and never reworded
            gr.HTML(
                f'<a id="sign-out" href="/logout">{label("zh", "sign_out")} · {label("en", "sign_out")}</a>', elem_id="sign-out-box", scale=0, min_width=150
            )

    with gr.Tabs(elem_id="tabs"):
        with gr.Tab(**w("tab_chat"), id="chat", elem_id="tab-chat") as made["tab_chat"]:
            with gr.Row(elem_id="main", equal_height=False):
                with gr.Column(scale=3, min_width=340, elem_id="chat-col"):
                    made["chatbot"] = gr.Chatbot(
                        **w("chatbot"),
                        elem_id="chat",
                        show_label=False,
                        height="calc(100vh - 380px)",
                        min_height=280,
                        layout="bubble",
                        latex_delimiters=[],
                        feedback_options=None,
                        line_breaks=False,
                        buttons=[],
                        autoscroll=True,
                        # every message is built by ui.render, which escapes all text it did not write
                        sanitize_html=False,
                    )
                    with gr.Row(elem_id="ask-row", equal_height=True):
                        made["question"] = gr.Textbox(
                            **w("question"),
                            show_label=False,
                            container=False,
                            scale=8,
                            max_lines=4,
                            elem_id="question",
                            submit_btn=False,
                        )
                        made["send"] = gr.Button(**w("send"), variant="primary", scale=1, min_width=84, elem_id="send")
                    with gr.Row(elem_id="answer-row", equal_height=True):
                        made["answer_mode"] = gr.Radio(
                            **w("answer_mode"),
                            value=settings.answer_mode.value,
                            show_label=False,
                            container=False,
                            elem_id="answer-mode",
                            scale=0,
                            min_width=0,
                        )
                    made["examples"] = gr.HTML(**w("examples"), elem_id="examples", js_on_load=EXAMPLES_ON_LOAD)
                    with gr.Row(elem_id="actions", equal_height=True):
                        made["new_chat"] = gr.Button(**w("new_chat"), size="sm", elem_id="new-chat", min_width=60, scale=0)
                        made["like"] = gr.Button(**w("like"), size="sm", elem_id="like", min_width=60, scale=0)
                        made["dislike"] = gr.Button(**w("dislike"), size="sm", elem_id="dislike", min_width=60, scale=0)
                        made["comment"] = gr.Textbox(
                            **w("comment"),
                            show_label=False,
                            container=False,
                            scale=3,
                            min_width=120,
                            elem_id="comment",
                            max_lines=1,
                        )
                        made["export"] = gr.DownloadButton(
                            **w("export"),
                            value=None,
                            size="sm",
                            elem_id="export",
                            interactive=False,
                            min_width=110,
                            scale=0,
                        )
                    made["feedback_status"] = gr.HTML("", elem_id="feedback-status", js_on_load=None)
                    with gr.Accordion(**w("settings_box"), open=False, elem_id="settings") as made["settings_box"]:
                        with gr.Row():
                            made["top_k"] = gr.Slider(
                                1,
                                TOP_K_MAX,
                                **w("top_k"),
                                value=settings.top_k,
                                step=1,
                                elem_id="top-k",
                            )
                            made["mode"] = gr.Radio(**w("mode"), value=settings.retrieval_mode.value, elem_id="mode")
                        with gr.Row(elem_id="date-range"):
                            made["since"] = gr.Textbox(
                                **w("since"),
                                value=settings.since,
                                placeholder="2023-07-01",
                                max_lines=1,
                                elem_id="since",
                            )
                            made["until"] = gr.Textbox(
                                **w("until"),
                                value=settings.until,
                                placeholder="2023-08-31",
                                max_lines=1,
                                elem_id="until",
                            )
                        made["show_scores"] = gr.Checkbox(value=screen.scores, **w("show_scores"), elem_id="show-scores")
                        made["llm_info"] = gr.Markdown(**w("llm_info"), elem_id="llm-info")
                with gr.Column(scale=2, min_width=320, elem_id="sources-col"):
                    made["sources"] = gr.HTML(
                        **w("sources"),
                        elem_id="sources",
                        js_on_load=SOURCES_ON_LOAD,
                        server_functions=list(server_functions),
                    )

        with gr.Tab(**w("tab_docs"), id="docs", elem_id="tab-docs") as made["tab_docs"]:
            with gr.Column(elem_id="docs-panel"):
                made["upload"] = gr.File(
                    **w("upload"),
                    file_count="multiple",
                    file_types=list(SUPPORTED_SUFFIXES),
                    elem_id="upload",
                    height=140,
                )
                made["upload_hint"] = gr.Markdown(**w("upload_hint"), elem_id="upload-hint")
                made["ingest_status"] = gr.HTML(ingest_status, elem_id="ingest-status", js_on_load=None)
                with gr.Row(elem_id="doc-filters", equal_height=True):
                    made["doc_query"] = gr.Textbox(
                        **w("doc_query"), show_label=False, container=False, max_lines=1, scale=4, min_width=220, elem_id="doc-query"
                    )
                    made["doc_since"] = gr.Textbox(
                        **w("doc_since"), show_label=False, container=False, max_lines=1, scale=1, min_width=150, elem_id="doc-since"
                    )
                    made["doc_until"] = gr.Textbox(
                        **w("doc_until"), show_label=False, container=False, max_lines=1, scale=1, min_width=150, elem_id="doc-until"
                    )
                    made["doc_source"] = gr.Dropdown(
                        doclist.source_choices(page, screen.lang), value="", show_label=False, container=False, scale=2, min_width=170, elem_id="doc-source"
                    )
                    made["doc_search"] = gr.Button(**w("doc_search"), variant="primary", scale=0, min_width=80, elem_id="doc-search")
                made["doc_list"] = gr.HTML(doclist.list_html(page, screen.lang), elem_id="doc-list", js_on_load=None)
                with gr.Row(elem_id="doc-footer", equal_height=True):
                    made["delete_button"] = gr.Button(**w("delete_button"), variant="stop", size="sm", elem_id="delete", scale=0, min_width=120)
                    made["doc_range"] = gr.HTML(doclist.range_html(page, screen.lang), elem_id="doc-range", js_on_load=None)
                    made["doc_prev"] = gr.Button(**w("doc_prev"), size="sm", scale=0, min_width=90, elem_id="doc-prev", interactive=False)
                    made["doc_next"] = gr.Button(**w("doc_next"), size="sm", scale=0, min_width=90, elem_id="doc-next", interactive=len(page.rows) < page.total)
                made["feeds"] = gr.HTML("", elem_id="feeds", js_on_load=None)

    return Layout(**made)
