"""The documents tab's list as HTML: a page of rows (date, source, paragraphs, copies, title) and its range line.

Why HTML and not a CheckboxGroup: a row has columns, a title that opens the
document (the viewer of ``ui.app.js``, served by ``handlers.full_document``)
and a checkbox whose value is the document's id; the delete button reads the
ticked boxes in the browser (``ui.app.DELETE_SELECTION``). Every text from a
document is escaped here.
"""

from __future__ import annotations

from html import escape

from rag import DocumentPage, DocumentRow

from .labels import label


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _row(row: DocumentRow, lang: str) -> str:
    date = escape(row.published) if row.published else f'<span class="doc-undated">{escape(label(lang, "doc_undated"))}</span>'
    copies = (
        f'<span class="doc-copies" title="{_attr(label(lang, "doc_copies_hint", n=row.copies))}">×{row.copies}</span>'
        if row.copies > 1
        else '<span class="doc-single">·</span>'
    )
    return (
        f'<tr data-doc="{_attr(row.id)}">'
        f'<td class="doc-pick-cell"><input type="checkbox" class="doc-pick" value="{_attr(row.id)}" aria-label="{_attr(row.title or row.id)}"></td>'
        f'<td class="doc-date">{date}</td>'
        f'<td class="doc-source" title="{_attr(row.source)}">{escape(row.source)}</td>'
        f'<td class="doc-paras">{row.paragraphs}</td>'
        f'<td class="doc-copies-cell">{copies}</td>'
        f'<td class="doc-title-cell"><button type="button" class="open-doc doc-open" data-doc="{_attr(row.id)}" data-para="-1" '
        f'data-lang="{_attr(lang)}" title="{_attr(label(lang, "doc_open_hint"))}">{escape(row.title or row.id)}</button>'
        f'<span class="doc-id">{escape(row.id)}</span></td>'
        "</tr>"
    )


def list_html(page: DocumentPage, lang: str) -> str:
    """The page's rows as a table (a line saying none match when the page is empty)."""
    if not page.rows:
        return f'<div class="doc-empty">{escape(label(lang, "doc_none"))}</div>'
    head = "".join(
        f'<th class="{cls}">{escape(label(lang, key))}</th>'
        for cls, key in (
            ("doc-date", "doc_col_date"),
            ("doc-source", "doc_col_source"),
            ("doc-paras", "doc_col_paras"),
            ("doc-copies-cell", "doc_col_copies"),
            ("doc-title-cell", "doc_col_title"),
        )
    )
    select_all = f'<th class="doc-pick-cell"><input type="checkbox" class="doc-all" aria-label="{_attr(label(lang, "doc_select_page"))}"></th>'
    rows = "".join(_row(row, lang) for row in page.rows)
    return f'<div class="doc-scroll"><table class="doc-table"><thead><tr>{select_all}{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def range_text(page: DocumentPage, lang: str) -> str:
    """第 x–y 条，共 N 条 (and the library's size when a filter narrows it)."""
    if not page.total:
        return ""
    first, last = page.offset + 1, page.offset + len(page.rows)
    text = label(lang, "doc_range", first=f"{first:,}", last=f"{last:,}", total=f"{page.total:,}")
    if page.total != page.documents:
        text += label(lang, "doc_range_of", docs=f"{page.documents:,}")
    return text


def range_html(page: DocumentPage, lang: str) -> str:
    return f'<div class="doc-range">{escape(range_text(page, lang))}</div>'


def source_choices(page: DocumentPage, lang: str) -> list[tuple[str, str]]:
    """The source filter's choices: every source with its documents, "all" first."""
    return [(f"{label(lang, 'doc_source_all')} ({page.documents:,})", "")] + [(f"{source} ({n:,})", source) for source, n in page.sources]


__all__ = ["list_html", "range_html", "range_text", "source_choices"]
