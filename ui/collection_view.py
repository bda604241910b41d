"""The collection picker in the app's header: which archive this session asks, reads and uploads to.

The session's collection lives in a ``gr.State``; ``ui.app`` hands every event
the ``App`` of that collection, so the chat, the sources, the documents and the
uploads follow the picker without any handler knowing of it. A conversation
stays in its collection: switching away keeps it, switching back restores it,
and a follow-up is never read against another archive's answers.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from . import cards, feeds_view, handlers, render
from .boundary import handler, status_html, status_in
from .labels import label, language
from .state import App, Turn

Out = dict[str, Any]


@handler(outputs=("collection", "collection_picker", "feeds", *handlers.refresh.outputs), on_error=status_in("ingest_status", "error_documents"))  # type: ignore[attr-defined]
def opening(app: App, lang: str, request: gr.Request | None = None) -> Out:
    """On page load: the collections this caller may read (the picker shows when there is a choice), and
    the page filled from the session's collection, or from the first it may read when that is not one."""
    names = [name for name in app.collections() if app.may_use(request, collection=name)]
    if not names:
        return {"collection_picker": gr.update(choices=[], visible=False), "ingest_status": status_html(label(language(lang), "collection_forbidden"), "warn")}
    target = app if app.collection in names else app.in_collection(names[0])
    picker = gr.update(choices=names, value=target.collection, visible=len(names) > 1)
    feeds = feeds_view.show_feeds(target, lang)
    return {"collection": target.collection, "collection_picker": picker, **feeds, **handlers.refresh(target, lang, request)}


opening.chooses_collection = True  # type: ignore[attr-defined]


@handler(
    outputs=("collection", "conv", "convs", "chatbot", "sources", "export", "collection_picker", "feeds", *handlers.refresh.outputs),  # type: ignore[attr-defined]
    on_error=status_in("ingest_status", "error_documents"),
)
def switch(app: App, chosen: str, turns: list[Turn], kept: dict[str, list[Turn]], lang: str, scores: bool, request: gr.Request | None = None) -> Out:
    """The picker changed: this session now works in ``chosen`` (``app`` is the collection it leaves)."""
    lang = language(lang)
    if not chosen or chosen == app.collection:
        return {}
    if not app.may_use(request, collection=chosen):
        return {"collection_picker": gr.update(value=app.collection), "ingest_status": status_html(label(lang, "collection_forbidden"), "warn")}
    target = app.in_collection(chosen)
    kept = {**(kept or {}), app.collection: list(turns or [])}
    now = list(kept.pop(chosen, []))
    return {
        "collection": chosen,
        "conv": now,
        "convs": kept,
        "chatbot": render.chat_messages(now, lang),
        "sources": cards.sources_html(now, lang, bool(scores)),
        "export": gr.update(value=None, interactive=False),
        **feeds_view.show_feeds(target, lang),
        **handlers.refresh(target, lang, request),
    }


switch.chooses_collection = True  # type: ignore[attr-defined]
