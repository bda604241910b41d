"""What ingestion keeps of real news: documents rejected, share of characters kept, dates found, stories.

Reads the whole news slice (``../shared/data/news_zh_20k.jsonl.xz``), parses
every article as a plain-text file and prints:

- documents rejected as unreadable, with their ids;
- the share of non-space characters kept, of the whole text and of the body
  (after the leading metadata line ``…，正文：``, which is read for its date);
- how many documents got a publication date, by where it was read;
- with ``--stories``, how many documents fall into stories of two or more copies.

    .venv/bin/python scripts/bench_cleaning.py [--limit N] [--stories]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.eval.evaluation import news_document, read_news  # noqa: E402
from rag.ingest.documents import IngestError  # noqa: E402
from rag.settings import load_settings  # noqa: E402

NEWS = ROOT.parent / "shared" / "data" / "news_zh_20k.jsonl.xz"
_SPACE = re.compile(r"\s+")
_RUN = re.compile(r"[ \t\u3000\u00a0]{2,}")
_HEADER = re.compile(r"^\s*[^\n]{0,200}?[，,]?\s*正文\s*[:：]")


def letters(text: str) -> int:
    return len(_SPACE.sub("", text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--news", type=Path, default=NEWS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--stories", action="store_true", help="also group near-duplicate stories (about a minute on 20k)")
    args = parser.parse_args()
    if not args.news.exists():
        sys.exit(f"no news slice at {args.news}")
    began = time.process_time()
    rejected: list[str] = []
    total_in = body_in = kept = 0
    sources: Counter[str] = Counter()
    spaced = 0
    documents = {}
    for n, (doc_id, text) in enumerate(read_news(args.news)):
        if args.limit is not None and n >= args.limit:
            break
        total_in += letters(text)
        body_in += letters(_HEADER.sub("", text, count=1))
        try:
            doc = news_document(doc_id, text)
        except IngestError:
            rejected.append(doc_id)
            continue
        kept += letters(doc.text)
        spaced += bool(_RUN.search(doc.text))
        sources[doc.meta.get("published_source", "none")] += 1
        documents[doc_id] = doc
    count = len(documents) + len(rejected)
    print(f"articles                 {count}")
    print(f"rejected as unreadable   {len(rejected)}  {' '.join(rejected[:20])}")
    print(f"characters kept          {kept / total_in:.2%} of all non-space characters, {kept / body_in:.2%} of the bodies")
    print(f"texts with a blank run    {spaced}")
    dated = sum(v for k, v in sources.items() if k != "none")
    print(f"publication date found   {dated} ({dated / max(count, 1):.1%}): " + ", ".join(f"{k} {v}" for k, v in sources.most_common()))
    print(f"parse CPU time           {time.process_time() - began:.1f} s")
    if args.stories:
        from rag.ingest.stories import annotate

        s = load_settings()
        began = time.process_time()
        annotated = annotate(documents, s.story_threshold, s.story_shingle_chars, s.story_num_perm)
        groups = Counter(d.meta["story"] for d in annotated.values() if "story" in d.meta)
        undated = sum(1 for d in annotated.values() if d.meta.get("published", "").startswith("--"))
        print(
            f"stories of 2+ copies     {len(groups)} stories holding {sum(groups.values())} documents "
            f"(largest {max(groups.values(), default=0)}); threshold {s.story_threshold}"
        )
        print(f"years from the collection {sum(1 for d in annotated.values() if d.meta.get('published_year'))}, still without a year {undated}")
        print(f"story CPU time           {time.process_time() - began:.1f} s")


if __name__ == "__main__":
    main()
