"""Retrieval, answers and refusals on our own news questions (eval/news_qa.jsonl) over real news.

The corpus is what the question file's first line names: the articles its
questions were written from (every copy of a syndicated story among them) plus
a random sample of the news slice as background. The index is built once into
``--cache`` and reused by later runs (ingest is incremental). With the real
model on two shared CPU cores, embedding the ~2,700 chunks takes a quarter of
an hour; the questions then take a few minutes.

Writes its table into docs/benchmarks.md between the ``<!-- news -->`` markers
(``<!-- news-background-N -->`` with ``--background N``; scripts/benchdoc.py):

    .venv/bin/python scripts/bench_news.py [--cache .cache/news-index] [--background N] [--limit N] [--json] [--no-write]
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

from benchdoc import add_write_options, command, publish, today  # noqa: E402  (scripts/ is on the path when a script runs)

from rag.eval.evaluation import _qa_rows, format_report, load_dataset, run  # noqa: E402
from rag.settings import load_settings  # noqa: E402

QUESTIONS = ROOT / "eval" / "news_qa.jsonl"
HEAD = (
    "| set | questions | doc R@1 | doc R@5 | doc MRR@10 | chunk R@1 | chunk R@5 | answer has gold | "
    "unanswerable refused | answerable refused | p50 / p95 ms |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(name: str, r: dict) -> str:
    """One table row; questions are answerable + unanswerable (the refusal pool)."""
    d, c, ref = r["document"], r["chunk"], r["refusal"]
    return (
        f"| {name} | {r['questions']} + {ref['unanswerable']} | {d['recall@1']:.3f} | {d['recall@5']:.3f} | {d['mrr@10']:.3f} | "
        f"{c['recall@1']:.3f} | {c['recall@5']:.3f} | {r['answer_contains_gold']:.3f} | {ref['recall']:.2f} | "
        f"{ref['answerable_refused']:.2f} | {r['latency_ms']['p50']:.0f} / {r['latency_ms']['p95']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "news-index", help="index folder kept between runs")
    parser.add_argument("--limit", type=int, default=None, help="ask at most this many questions")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.add_argument("--background", type=int, default=None, help="background articles instead of the file's number (0: only the answer-bearing ones)")
    add_write_options(parser, None, "news, or news-background-N with --background N")
    args = parser.parse_args()
    if args.section is None:
        args.section = "news" if args.background is None else f"news-background-{args.background}"
    settings = load_settings()
    dataset = load_dataset(args.questions, settings, background=args.background)
    _spec, rows = _qa_rows(args.questions)
    kinds = Counter(str(r.get("kind", "")) for r in rows)
    print(f"{len(dataset.documents)} articles, {len(dataset.items)} questions: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()), flush=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    report = run(dataset, settings, modes=(settings.retrieval_mode,), limit=args.limit, cache_dir=args.cache)[settings.retrieval_mode]
    report.pop("evidence", None)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    speed = report["ingest_chunks_per_s"]
    built = f"embedded at {speed} chunks/s" if speed else "the index in the cache reused, nothing embedded"
    text = (
        f"Measured on {today()} with `{command()}`: {len(dataset.documents):,} articles, {report['chunks']:,} chunks "
        f"({built}); `{settings.embed_model}`, {settings.retrieval_mode} mode, refusal threshold {settings.refusal_threshold}.\n\n"
        f"{HEAD}\n{row(f'news QA ({len(dataset.documents):,} articles)', report)}\n"
    )
    print("\n" + text)
    publish(args, text)


if __name__ == "__main__":
    main()
