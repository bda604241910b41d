"""The feeds registered on an index and what is known of each: ``feeds.json`` in the index folder.

Why a file of its own: a feed's state — its ETag and Last-Modified for the next
conditional request, when it was last updated, its last error, the entry URLs already
taken — belongs to the index it feeds, yet it is not part of any index generation. It is
written whole (rag.atomic), so a crash leaves the old list or the new one, never half.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_atomic
from ..errors import IndexCorrupt

FEEDS_FILE = "feeds.json"
FEEDS_VERSION = 1


@dataclass(frozen=True)
class FeedState:
    url: str
    title: str = ""
    etag: str = ""
    last_modified: str = ""
    updated: str = ""  # when the last update ended (ISO 8601, UTC), "" before the first
    error: str = ""  # why the last update failed, or which of its entries did; "" when all went well
    seen: tuple[str, ...] = ()  # entry URLs already in the index

    def to_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "seen": list(self.seen)}


def feeds_path(index_dir: Path) -> Path:
    return Path(index_dir) / FEEDS_FILE


def load_feeds(index_dir: Path) -> list[FeedState]:
    """The registered feeds, in the order they were added ([] when none)."""
    path = feeds_path(index_dir)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [FeedState(**{**item, "seen": tuple(item.get("seen", ()))}) for item in data["feeds"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"{path} cannot be read ({exc}): remove it and add the feeds again / 订阅列表文件已损坏") from None


def save_feeds(index_dir: Path, feeds: Iterable[FeedState]) -> None:
    data = {"version": FEEDS_VERSION, "feeds": [f.to_dict() for f in feeds]}
    write_atomic(feeds_path(index_dir), json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


__all__ = ["FEEDS_FILE", "FeedState", "feeds_path", "load_feeds", "save_feeds"]
