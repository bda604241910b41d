"""``rag collections``: list, create and delete the archives one installation holds.

Every other command works in one collection, chosen with ``--collection NAME``
(env ``RAG_COLLECTION``, default ``default``); this one looks at all of them.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from rag import Collection, Rag, create_collection, delete_collection, list_collections

from .cli_input import CliError


def _as_dict(collection: Collection) -> dict[str, Any]:
    return {"name": collection.name, "documents": collection.documents, "index_dir": str(collection.index_dir), "created": collection.created}


def cmd_collections(rag: Rag, args: argparse.Namespace) -> int:
    action = args.collections_command
    if action == "create":
        made = create_collection(rag.settings, args.name)
        print(f"created {made.name} in {made.index_dir}; add documents with `rag --collection {made.name} ingest PATH` / 已创建文档集 {made.name}")
        return 0
    if action == "delete":
        if not args.yes:
            raise CliError(f"deleting {args.name} removes its index and every document in it: add --yes / 删除文档集将移除其全部文档，请加 --yes 确认")
        gone = delete_collection(rag.settings, args.name)
        print(f"deleted {gone.name} ({gone.documents} documents) / 已删除文档集 {gone.name}")
        return 0
    shelf = list_collections(rag.settings)
    if args.json:
        print(json.dumps({"collections": [_as_dict(c) for c in shelf]}, ensure_ascii=False))
        return 0
    for c in shelf:
        day = datetime.fromtimestamp(c.created).strftime("%Y-%m-%d") if c.created else "-"
        print(f"{c.name}\t{c.documents} documents\tcreated {day}\t{c.index_dir}")
    return 0


def add_parser(sub: Any) -> None:
    """``rag collections list|create|delete`` on the CLI's subcommands."""
    parser = sub.add_parser("collections", help="list, create or delete collections (separate archives, each its own index)")
    actions = parser.add_subparsers(dest="collections_command", metavar="ACTION")
    listed = actions.add_parser("list", help="every collection with its document count (the default when no action is given)")
    listed.add_argument("--json", action="store_true")
    made = actions.add_parser("create", help="a new, empty collection")
    made.add_argument("name", help="1-48 lowercase letters, digits, - and _")
    gone = actions.add_parser("delete", help="remove a collection and all its documents")
    gone.add_argument("name")
    gone.add_argument("--yes", action="store_true", help="confirm: the collection's index and files are removed")
    parser.set_defaults(func=cmd_collections, json=False)


def add_collection_options(sub: Any, skip: tuple[str, ...]) -> None:
    """``--collection`` after every command too: `rag ingest --collection news …` reads as well as `rag --collection news ingest …`."""
    for name, command in sub.choices.items():
        if name not in skip:
            _collection_option(command)


def _collection_option(command: argparse.ArgumentParser) -> None:
    """``--collection`` on a command, or on each of its actions when it has some (``rag feeds add … --collection X``)."""
    actions = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
    for action in actions:
        for child in action.choices.values():
            _collection_option(child)
    if not actions:
        command.add_argument("--collection", metavar="NAME", default=argparse.SUPPRESS, help="the collection to work in (env RAG_COLLECTION)")
