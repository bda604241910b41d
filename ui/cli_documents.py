"""``rag documents``: the library's list, searched, filtered by date and source, a page at a time.

Why its own module: the list grew options (the archive-scale listing of rag.store.listing),
and the CLI's main module stays a table of commands. Lines are tab-separated so that
``cut`` and ``sort`` read them; ``--json`` prints the stable contract.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rag import PAGE_SIZE, DocumentPage, DocumentRow, Listing, Rag


def row_to_dict(row: DocumentRow) -> dict[str, Any]:
    return {
        "doc": row.id,
        "title": row.title,
        "published": row.published,
        "source": row.source,
        "paragraphs": row.paragraphs,
        "copies": row.copies,
        "story": row.story,
        "sha256": row.sha256,
    }


def page_to_dict(page: DocumentPage) -> dict[str, Any]:
    return {"total": page.total, "offset": page.offset, "limit": page.limit, "library": page.documents, "documents": [row_to_dict(r) for r in page.rows]}


def cmd_documents(rag: Rag, args: argparse.Namespace) -> int:
    limit = rag.settings.documents_page if args.limit is None else args.limit
    listing = Listing(args.query or "", args.since or "", args.until or "", args.source or "", limit, args.offset)
    page = rag.library(listing)
    if args.json:
        print(json.dumps(page_to_dict(page), ensure_ascii=False), flush=True)
        return 0
    for row in page.rows:
        copies = f"×{row.copies}" if row.copies > 1 else "-"
        print(f"{row.published or '----------'}\t{row.source}\t{row.paragraphs}\t{copies}\t{row.id}\t{row.title}")
    shown = f"{page.offset + 1}–{page.offset + len(page.rows)}" if page.rows else "none"
    print(f"{shown} of {page.total} matching ({page.documents} indexed) / 第 {shown} 条，共 {page.total} 条")
    return 0


def add_documents_command(sub: Any) -> None:
    """Register ``rag documents`` on the CLI's subcommands."""
    p = sub.add_parser("documents", help="list indexed documents, newest first (search, dates, source, pages)")
    p.add_argument("--query", "-q", default="", help="words every listed document has in its title or text (traditional or simplified)")
    p.add_argument("--since", metavar="YYYY-MM-DD", default=None, help="only documents published on or after this day")
    p.add_argument("--until", metavar="YYYY-MM-DD", default=None, help="only documents published on or before this day")
    p.add_argument("--source", default="", help="only documents from this source, as the list shows it")
    p.add_argument("--limit", type=int, default=None, help=f"documents to list (default {PAGE_SIZE}, env RAG_DOCUMENTS_PAGE)")
    p.add_argument("--offset", type=int, default=0, help="documents to skip first, for the next page")
    p.add_argument("--json", action="store_true", help="print the JSON contract")
    p.set_defaults(func=cmd_documents)


__all__ = ["add_documents_command", "cmd_documents", "page_to_dict", "row_to_dict"]
