"""Retrieval, answers and refusals on our own news questions (eval/news_qa.jsonl) over real news.

The corpus is what the question file's first line names: the articles its
questions were written from (every copy of a syndicated story among them) plus
a random sample of the news slice as background. The index is built once into
``--cache`` and reused by later runs (ingest is incremental). With the real
model on two shared CPU cores, embedding the ~2,700 chunks takes a quarter of
an hour; the questions then take a few minutes.

    .venv/bin/python scripts/bench_news.py [--cache .cache/news-index] [--background N] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.eval.evaluation import _qa_rows, format_report, load_dataset, run  # noqa: E402
from rag.settings import load_settings  # noqa: E402

QUESTIONS = ROOT / "eval" / "news_qa.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "news-index", help="index folder kept between runs")
    parser.add_argument("--limit", type=int, default=None, help="ask at most this many questions")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.add_argument("--background", type=int, default=None, help="background articles instead of the file's number (0: only the answer-bearing ones)")
    args = parser.parse_args()
    settings = load_settings()
    dataset = load_dataset(args.questions, settings, background=args.background)
    _spec, rows = _qa_rows(args.questions)
    kinds = Counter(str(r.get("kind", "")) for r in rows)
    print(f"{len(dataset.documents)} articles, {len(dataset.items)} questions: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()), flush=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    report = run(dataset, settings, modes=(settings.retrieval_mode,), limit=args.limit, cache_dir=args.cache)[settings.retrieval_mode]
    report.pop("evidence", None)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))


if __name__ == "__main__":
    main()
