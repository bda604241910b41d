"""The documents view at archive scale: listing, filtering and paging 20,000 news articles.

The index of the news slice (``../shared/data/news_zh_20k.jsonl.xz``) is built the way
``rag ingest`` loads an archive (``Rag.ingest`` of the .jsonl.xz) into ``--cache`` once and
reused. Embedding 20,000 articles with the real model takes hours on two cores, and this
view never reads a vector, so the index is built with a cheap deterministic encoder
registered through ``rag.register_encoder`` (hashed characters): its vectors are NOT the
real model's, and nothing here measures retrieval. Everything else (chunks, BM25 postings,
stories, dates, the manifest) is the product's own.

Timed, through the functions the app and the CLI call (``Rag.library`` and the app's
page handler), each in a fresh ``Rag`` first (the per-generation cache is built then) and
again warm: the first page, a text query, a date range, a source, and a deep page
(offset 19,950).

    .venv/bin/python scripts/bench_documents.py [--cache .cache/docs-bench] [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from rag import DocumentPage, Listing, Rag, load_settings, register_encoder  # noqa: E402

NEWS = ROOT.parent / "shared" / "data" / "news_zh_20k.jsonl.xz"
ENCODER = "bench-hashed-chars"
DIMENSION = 64


class HashedChars:
    """Unit vectors of hashed character counts: deterministic, microseconds a text, meaningless for retrieval."""

    prompts: dict[str, str] = {}

    def get_embedding_dimension(self) -> int:
        return DIMENSION

    def encode(self, sentences: list[str] | str, **_options: Any) -> np.ndarray:
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) if text else np.zeros(1, dtype=np.uint32)
            out[row] = np.bincount((codes * 2654435761 + zlib.crc32(b"rag")) % DIMENSION, minlength=DIMENSION)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out[0] if single else out


def build(cache: Path) -> Rag:
    register_encoder(ENCODER, lambda _settings: HashedChars())
    rag = Rag(load_settings(index_dir=str(cache / "news-20k"), embed_model=ENCODER))
    began = time.perf_counter()
    report = rag.ingest([NEWS])
    if report.added or report.updated:
        print(f"built the index: {len(report.added)} articles, {report.chunks} chunks in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return rag


def timed(action: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """The median wall time of ``action`` in milliseconds, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), result


def report(what: str, ms: float, page: DocumentPage | None = None) -> None:
    found = f"{page.total:>6} match, {len(page.rows)} shown" if page is not None else ""
    print(f"{what:<58} {ms:>9.1f} ms   {found}")


def measure(rag: Rag, repeat: int) -> None:
    """Cold (a fresh Rag: index opened, the generation's table built, texts read and folded) and warm."""
    ms, page = timed(lambda: rag.library())
    report("first page, fresh Rag (opens the index, builds the table)", ms, page)
    ms, page = timed(lambda: rag.library(Listing(text="华为")))
    report("first search, fresh Rag (reads and folds every text once)", ms, page)
    deep = max(0, page.documents - 50)
    for what, listing in (
        ("first page", Listing()),
        ("search 华为", Listing(text="华为")),
        ("search 華為 手機 (traditional, two words)", Listing(text="華為 手機")),
        ("dates 2023-08-01..2023-08-05", Listing(since="2023-08-01", until="2023-08-05")),
        ("source filter", Listing(source=page.sources[0][0] if page.sources else "")),
        (f"deep page (offset {deep:,})", Listing(offset=deep)),
    ):
        ms, _ = timed(lambda listing=listing: (rag._library._matches.clear(), rag.library(listing))[1], repeat)
        report(f"{what}: filter + page", ms, rag.library(listing))
        ms, result = timed(lambda listing=listing: rag.library(listing), repeat)
        report(f"{what}: page again (matches kept)", ms, result)


def measure_app(rag: Rag, repeat: int) -> None:
    """The app's handlers, HTML included: what a click on 搜索 or 下一页 costs on the server."""
    from ui import library
    from ui.state import App

    app = App(rag)

    def fresh(action: Callable[[], Any]) -> Callable[[], Any]:  # the filter's matches worked out again each time
        return lambda: (rag._library._matches.clear(), action())[1]

    ms, out = timed(fresh(lambda: library.search_documents(app, "华为", "", "", "", "zh")), repeat)
    report("app: 搜索 华为 (handler, HTML rendered)", ms)
    ms, out = timed(fresh(lambda: library.search_documents(app, "", "2023-08-01", "2023-08-05", "", "zh")), repeat)
    report("app: dates 2023-08-01..05 (handler, HTML rendered)", ms)
    listing = dataclasses.replace(out["doc_listing"], offset=0, since="", until="")
    ms, out = timed(fresh(lambda: library.next_page(app, listing, "zh")), repeat)
    report("app: 下一页 from the first page (handler, HTML rendered)", ms)
    deep = dataclasses.replace(listing, offset=19_900)
    ms, out = timed(fresh(lambda: library.next_page(app, deep, "zh")), repeat)
    report("app: 下一页 to offset 19,950 (handler, HTML rendered)", ms)
    print(f"  (a page's HTML: {len(out['doc_list']):,} characters)")


def measure_generation(rag: Rag) -> None:
    """A write makes a new generation: only the changed document is read again (``rag`` has listed before)."""
    from rag.ingest.documents import parse_bytes

    article = parse_bytes("2023-08-21 08:00:00\n\n新增的一篇测试文章：华为发布新款手机。".encode(), "bench-extra.txt", doc_id="bench-extra")
    rag.ingest_documents([article])
    try:
        ms, page = timed(lambda: rag.library())
        report("after adding one article: first page (new generation)", ms, page)
        ms, page = timed(lambda: rag.library(Listing(text="华为")))
        report("after adding one article: first search", ms, page)
    finally:
        rag.delete(["bench-extra"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "docs-bench")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    built = build(args.cache)
    print(f"index: {built.library().documents:,} documents of {NEWS.name}, loaded by Rag.ingest as `rag ingest` does")
    print(f"vectors: {ENCODER}, NOT the real model's (only the listing is measured, which reads no vector)")
    print(f"machine: {os.cpu_count()} CPUs; medians of {args.repeat} runs where repeated\n")
    settings = built.settings
    rag = Rag(settings)
    measure(rag, args.repeat)
    measure_app(rag, args.repeat)
    measure_generation(rag)


if __name__ == "__main__":
    main()
