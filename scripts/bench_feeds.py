"""How long `rag feeds update` takes when nothing is new: 10 feeds on the local test site (tests/websites.py).

The first update fetches every entry's page and embeds it; the ones timed after it find
nothing new — once answered 304 (conditional GET), once answered in full by a server
that ignores ETag / Last-Modified, so every entry is checked against the index instead.
Neither may embed or write anything (the index generation must not change). All feeds
share one host here, so the per-host pause is set to 0 (on ten real sites it never
waits: the pause is per host). Prints one line of numbers per update:

    .venv/bin/python scripts/bench_feeds.py [--feeds 10] [--entries 5] [--fake]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from websites import LANTERN, LocalSite, Route, news_page, quick_fetching, rss  # noqa: E402  (tests/ holds the test site)

from rag import Rag, add_feed, load_settings, update_feeds  # noqa: E402


def feed_routes(feeds: int, entries: int, validators: bool) -> Callable[[str], dict[str, Route]]:
    """``feeds`` RSS feeds of ``entries`` distinct short articles each, and the articles' pages."""

    def routes(base: str) -> dict[str, Route]:
        found: dict[str, Route] = {}
        for f in range(feeds):
            articles = []
            for e in range(entries):
                paragraphs = tuple(p.replace("青石镇", f"第{f}区{e}号镇").replace("三万", f"{f + e + 1}万") for p in LANTERN.paragraphs)
                article = dataclasses.replace(LANTERN, slug=f"f{f}-e{e}", title=f"第{f}区{e}号镇举办灯笼文化节", paragraphs=paragraphs)
                found[f"/news/{article.slug}.html"] = Route(body=news_page(article))
                articles.append(article)
            found[f"/feed-{f}.xml"] = Route(body=rss(base, f"feed {f}", articles), content_type="application/rss+xml", validators=validators)
        return found

    return routes


def timed_update(rag: Rag) -> tuple[float, int, int, int]:
    """(seconds, documents added, feeds answered 304, failures) of one update."""
    began = time.perf_counter()
    updates = update_feeds(rag)
    seconds = time.perf_counter() - began
    return seconds, sum(len(u.added) for u in updates), sum(u.not_modified for u in updates), sum(u.failed for u in updates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--entries", type=int, default=5)
    parser.add_argument("--fake", action="store_true", help="the tests' fake embedder instead of the real model (the timed updates embed nothing either way)")
    args = parser.parse_args()
    extra = {}
    if args.fake:
        from helpers import FAKE_MODEL, CharNgramEncoder
        from rag import register_encoder

        register_encoder(FAKE_MODEL, lambda settings: CharNgramEncoder())
        extra = {"embed_model": FAKE_MODEL}
    print(f"{args.feeds} feeds × {args.entries} entries on one local host (per-host pause 0)")
    for validators in (True, False):
        with tempfile.TemporaryDirectory() as folder, LocalSite(feed_routes(args.feeds, args.entries, validators)) as site:
            rag = Rag(load_settings(index_dir=folder, **quick_fetching(fetch_timeout_s=10.0), **extra))
            for f in range(args.feeds):
                add_feed(rag, f"{site.base}/feed-{f}.xml")
            seconds, added, _, failed = timed_update(rag)
            print(f"first update: {added} documents added in {seconds:.2f} s ({failed} feeds failed)")
            generation = rag.generation()
            for run in range(3):
                seconds, added, unchanged, failed = timed_update(rag)
                how = "304 Not Modified" if validators else "full answers, entries checked against the index"
                same = "unchanged" if rag.generation() == generation else "CHANGED"
                print(f"nothing new ({how}), run {run + 1}: {seconds:.3f} s; {added} added, {unchanged} feeds 304, {failed} failed; index {same}")


if __name__ == "__main__":
    main()
