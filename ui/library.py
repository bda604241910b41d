"""The documents tab's list: searched, filtered by date and source, a page at a time.

The library does the work (``Rag.library``: rag.store.listing, cached per index
generation); these handlers read the boxes, keep the listing shown in the session
(``doc_listing``, so paging and the language switch reuse it, whatever was typed
since) and render it with ``ui.doclist``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gradio as gr

from rag import InputError, Listing, QuestionError, check_day

from . import doclist
from .boundary import handler, status_in
from .labels import label, language
from .state import App

Out = dict[str, Any]

#: What a new page of the list updates.
LIST_OUTPUTS = ("doc_list", "doc_range", "doc_prev", "doc_next", "doc_source", "doc_listing")


def day(value: str | None, lang: str) -> str:
    """A date box's day as YYYY-MM-DD ("" for none); a bad one is a message in the interface's language."""
    try:
        return check_day(value or "", "date")
    except InputError:
        raise QuestionError(label(lang, "bad_date", value=value)) from None


def page_view(app: App, listing: Listing | None, lang: str) -> Out:
    """The list's components for ``listing`` (the first page of everything when None); a page left
    empty by a deletion shows the last page that still has rows."""
    listing = listing if isinstance(listing, Listing) else Listing(limit=app.settings.documents_page)
    page = app.rag.library(listing)
    if not page.rows and page.total:
        listing = dataclasses.replace(listing, offset=(page.total - 1) // listing.limit * listing.limit)
        page = app.rag.library(listing)
    sources = {source for source, _ in page.sources}
    return {
        "doc_list": doclist.list_html(page, lang),
        "doc_range": doclist.range_html(page, lang),
        "doc_prev": gr.update(interactive=page.offset > 0),
        "doc_next": gr.update(interactive=page.offset + len(page.rows) < page.total),
        "doc_source": gr.update(choices=doclist.source_choices(page, lang), value=listing.source if listing.source in sources else ""),
        "doc_listing": listing,
    }


@handler(outputs=(*LIST_OUTPUTS, "ingest_status"), on_error=status_in("ingest_status"))
def search_documents(app: App, query: str, since: str, until: str, source: str, lang: str) -> Out:
    """搜索, Enter in a box, or another source: the first page of what matches."""
    lang = language(lang)
    listing = Listing((query or "").strip(), day(since, lang), day(until, lang), source or "", app.settings.documents_page, 0)
    return page_view(app, listing, lang)


def _turn(app: App, listing: Listing | None, lang: str, pages: int) -> Out:
    listing = listing if isinstance(listing, Listing) else Listing(limit=app.settings.documents_page)
    return page_view(app, dataclasses.replace(listing, offset=max(0, listing.offset + pages * listing.limit)), language(lang))


@handler(outputs=(*LIST_OUTPUTS, "ingest_status"), on_error=status_in("ingest_status"))
def next_page(app: App, listing: Listing | None, lang: str) -> Out:
    return _turn(app, listing, lang, 1)


@handler(outputs=(*LIST_OUTPUTS, "ingest_status"), on_error=status_in("ingest_status"))
def previous_page(app: App, listing: Listing | None, lang: str) -> Out:
    return _turn(app, listing, lang, -1)


@handler(outputs=(*LIST_OUTPUTS, "ingest_status"), on_error=status_in("ingest_status"))
def show_page(app: App, listing: Listing | None, lang: str) -> Out:
    """The page shown again (in another language)."""
    return _turn(app, listing, lang, 0)


#: The delete button sends the ids ticked on the page (the list is HTML, its boxes the browser's) as its second
#: input: every event's first is the session's collection (ui.binding).
DELETE_SELECTION = (
    "(...args) => { args[1] = JSON.stringify(Array.from(document.querySelectorAll('#doc-list input.doc-pick:checked'), (b) => b.value)); return args; }"
)

__all__ = ["DELETE_SELECTION", "LIST_OUTPUTS", "day", "next_page", "page_view", "previous_page", "search_documents", "show_page"]
