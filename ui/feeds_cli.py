"""`rag ingest URL` and `rag feeds …`: web pages and RSS/Atom feeds from the command line (see docs/feeds.md).

Kept out of ui/cli.py, which registers these commands with one call each.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections.abc import Callable

from rag import FeedUpdate, IngestReport, Rag, ingest_urls, list_feeds, start_refresher, update_feeds
from rag import add_feed as add_registered_feed
from rag import remove_feed as remove_registered_feed

#: Anything written as a URL (file://, ftp:// too) goes to the fetcher, which says what it refuses and why.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def split_urls(paths: list[str]) -> tuple[list[str], list[str]]:
    """(URLs, everything else) of what `rag ingest` was given."""
    return [p for p in paths if _URL.match(p)], [p for p in paths if not _URL.match(p)]


def ingest_web(rag: Rag, urls: list[str], print_report: Callable[[IngestReport], None]) -> int:
    """Each URL's article, or each new entry of a feed, into the index: 1 when any of them failed."""
    if not urls:
        return 0
    report = ingest_urls(rag, urls)
    print_report(report)
    return 1 if report.errors else 0


def _print_update(update: FeedUpdate) -> None:
    if update.error:
        print(f"error: {update.url or 'feeds'}: {update.error}", file=sys.stderr)
        return
    for error in update.errors:
        print(f"skipped: {error}", file=sys.stderr)
    state = "not modified / 无更新" if update.not_modified else f"{len(update.added)} added, {update.skipped} already indexed"
    print(f"{update.url}: {state}" + (f", {len(update.errors)} failed" if update.errors else ""))


def cmd_feeds_add(rag: Rag, args: argparse.Namespace) -> int:
    state = add_registered_feed(rag, args.url)
    print(f"added {state.url} ({state.title or 'untitled'}); `rag feeds update` brings in its entries / 已添加订阅源")
    return 0


def cmd_feeds_remove(rag: Rag, args: argparse.Namespace) -> int:
    remove_registered_feed(rag, args.url)
    print(f"removed {args.url}; its documents stay in the index / 已移除订阅源")
    return 0


def cmd_feeds_list(rag: Rag, args: argparse.Namespace) -> int:
    feeds = list_feeds(rag)
    if args.json:
        rows = [{"url": f.url, "title": f.title, "updated": f.updated, "error": f.error, "entries": len(f.seen)} for f in feeds]
        print(json.dumps({"feeds": rows}, ensure_ascii=False))
        return 0
    for f in feeds:
        print(f"{f.url}\t{f.title}\tupdated {f.updated or 'never / 从未'}" + (f"\terror: {f.error}" if f.error else ""))
    if not feeds:
        print("no feeds registered: `rag feeds add URL` / 尚未添加订阅源", file=sys.stderr)
    return 0


def cmd_feeds_update(rag: Rag, args: argparse.Namespace) -> int:
    updates = update_feeds(rag)
    for update in updates:
        _print_update(update)
    if not updates:
        print("no feeds registered: `rag feeds add URL` / 尚未添加订阅源", file=sys.stderr)
    return 1 if any(u.failed for u in updates) else 0


def refresh_in_background(rag: Rag) -> threading.Event | None:
    """`rag serve`: the feeds updated every RAG_FEEDS_EVERY seconds, each result a line in the log."""

    def report(updates: list[FeedUpdate]) -> None:
        for update in updates:
            _print_update(update)

    return start_refresher(rag, report)


def add_feeds_parser(sub: argparse._SubParsersAction) -> None:
    feeds = sub.add_parser("feeds", help="RSS/Atom feeds registered on the index").add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    p = feeds.add_parser("add", help="register a feed (checked by fetching it); `rag feeds update` brings in its entries")
    p.add_argument("url")
    p.set_defaults(func=cmd_feeds_add)
    p = feeds.add_parser("list", help="the registered feeds with their last update and error")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feeds_list)
    p = feeds.add_parser("remove", help="forget a feed (its documents stay)")
    p.add_argument("url")
    p.set_defaults(func=cmd_feeds_remove)
    p = feeds.add_parser("update", help="fetch every feed (conditionally) and ingest the new entries; exit 1 if any failed")
    p.set_defaults(func=cmd_feeds_update)
