"""Collections: several archives side by side, each its own index.

Users keep separate archives per topic or team, and one question must never
cite another archive's documents; so each collection is a whole index of its
own (its own folder under the index root for the embedded store, its own
collection names in Milvus), never a filter over a shared one. The index root
itself is the collection ``default``, as it was before collections existed, so
an existing index keeps working unchanged. Every other collection lives in
``<root>/collections/<name>/`` and exists once that folder holds its marker
file: a named collection is created on purpose, so a mistyped name is an
error rather than a new, empty archive.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from .atomic import write_atomic
from .errors import CollectionError, CollectionMissing
from .settings import COLLECTION_NAME, DEFAULT_COLLECTION, Settings, StoreKind, check_collection_name
from .store import backend_for

#: The folder, under the index root, that holds every collection but the default one.
COLLECTIONS_DIR = "collections"
#: The file that makes a folder under COLLECTIONS_DIR a collection (its name and when it was made).
MARKER = "collection.json"
#: The lock every writer of an index holds (rag.api), held too while a collection is deleted.
WRITE_LOCK = ".write.lock"


@dataclass(frozen=True)
class Collection:
    """One archive: its name, where its index lives, and how many documents it holds."""

    name: str
    index_dir: Path
    documents: int
    created: float


def index_dir_of(settings: Settings, name: str | None = None) -> Path:
    """The index folder of collection ``name`` (by default the settings' own)."""
    name = check_collection_name(name or settings.collection)
    root = Path(settings.index_dir)
    return root if name == DEFAULT_COLLECTION else root / COLLECTIONS_DIR / name


def exists(settings: Settings, name: str) -> bool:
    """Whether collection ``name`` exists (a name no collection may have never does)."""
    if not COLLECTION_NAME.fullmatch(name):
        return False
    return name == DEFAULT_COLLECTION or (index_dir_of(settings, name) / MARKER).is_file()


def require(settings: Settings, name: str | None = None) -> str:
    """``name`` (by default the settings' collection) when it exists; else an error that says how to make it."""
    name = name or settings.collection
    if not exists(settings, name):
        raise CollectionMissing(
            f"no collection {name!r}: `rag collections create {name}` makes it (existing: {', '.join(names(settings))})",
            f"没有名为 {name} 的文档集：可用 `rag collections create {name}` 创建（现有：{'、'.join(names(settings))}）",
        )
    return name


def names(settings: Settings) -> list[str]:
    """Every collection, ``default`` first, then by name."""
    folder = Path(settings.index_dir) / COLLECTIONS_DIR
    found = sorted(p.parent.name for p in folder.glob(f"*/{MARKER}")) if folder.is_dir() else []
    return [DEFAULT_COLLECTION] + [n for n in found if n != DEFAULT_COLLECTION]


def describe(settings: Settings, name: str) -> Collection:
    """The collection with its document count, read from its manifest (no model, no vectors loaded)."""
    name = require(settings, name)
    folder = index_dir_of(settings, name)
    backend = backend_for(folder, settings.replace(collection=name))
    count = len(backend.manifest().documents) if backend.generation() else 0
    marker = folder / MARKER
    created = json.loads(marker.read_text(encoding="utf-8")).get("created", 0.0) if marker.is_file() else 0.0
    return Collection(name, folder, count, float(created))


def listing(settings: Settings) -> list[Collection]:
    return [describe(settings, name) for name in names(settings)]


def create(settings: Settings, name: str) -> Collection:
    """A new, empty collection; a name taken (or one that Milvus would confuse with a taken one) is refused."""
    name = check_collection_name(name)
    prefix = settings.replace(collection=name).milvus_prefix
    for other in names(settings):
        if other == name or settings.replace(collection=other).milvus_prefix == prefix:
            raise CollectionError(f"a collection named {other!r} already exists", f"已有名为 {other} 的文档集")
    folder = index_dir_of(settings, name)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / MARKER, json.dumps({"name": name, "created": time.time()}).encode("utf-8"))
    return describe(settings, name)


def delete(settings: Settings, name: str) -> Collection:
    """Remove a collection and everything in it (its index, uploads, feeds); ``default`` stays."""
    if name == DEFAULT_COLLECTION:
        raise CollectionError("the default collection cannot be deleted; delete its documents instead", "默认文档集不能删除，可以删除其中的文档")
    gone = describe(settings, name)
    with FileLock(str(gone.index_dir / WRITE_LOCK)):
        if settings.store == StoreKind.MILVUS:
            backend_for(gone.index_dir, settings.replace(collection=name)).drop()
        # the marker goes first: a deletion cut short leaves a folder that is no longer a collection
        (gone.index_dir / MARKER).unlink(missing_ok=True)
    shutil.rmtree(gone.index_dir, ignore_errors=True)
    return gone
