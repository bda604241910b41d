"""Honest, concise answers: support rates, near misses caught, and how long and clean the answers are.

Asks every set of ours and the two public sets, each over its own corpus, and
writes one table into docs/benchmarks.md (``<!-- honesty:start -->``):

- near misses (eval/nearmiss_*.jsonl: one qualifier of an answerable question
  changed to one the corpus does not pair with the fact): the share answered
  ``partial`` naming the changed qualifier, or refused;
- answerable questions (our seed, news and paraphrased news sets, the originals
  of the near misses, CMRC 2018 trial, DRCD dev): the share held back (partial
  or refused), answer has gold, gold in the first quote, median answer length,
  answers holding page furniture.

Indexes are kept in ``--cache`` (one folder per corpus), so a rerun embeds
nothing. With the real model on two shared cores a first run takes about half
an hour, most of it embedding the news corpus.

    .venv/bin/python scripts/bench_honesty.py [--cache .cache/honesty] [--sets NAME,...] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchdoc import add_write_options, command, publish, today  # noqa: E402

from rag import Rag  # noqa: E402
from rag.eval.evaluation import Dataset, load_dataset, run  # noqa: E402
from rag.settings import Settings, load_settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
#: (name shown, question file, cache folder shared by sets over the same corpus, question limit)
SETS = (
    ("seed QA", ROOT / "eval" / "seed_qa.jsonl", "seeds", None),
    ("seed near misses", ROOT / "eval" / "nearmiss_seed.jsonl", "seeds", None),
    ("news QA", ROOT / "eval" / "news_qa.jsonl", "news", None),
    ("news, asked in other words", ROOT / "eval" / "news_paraphrase.jsonl", "news", None),
    ("news near misses", ROOT / "eval" / "nearmiss_news.jsonl", "news", None),
    ("CMRC 2018 trial", SHARED / "cmrc2018_trial.json", "cmrc", None),
    ("CMRC near misses", ROOT / "eval" / "nearmiss_cmrc.jsonl", "cmrc", None),
    ("DRCD dev", SHARED / "DRCD_dev.json", "drcd", 1000),
    ("DRCD near misses", ROOT / "eval" / "nearmiss_drcd.jsonl", "drcd", None),
)
HEAD = (
    "| set | answerable | held back | answer has gold | gold in first quote | median chars | with furniture | near misses | caught | partial, naming it | refused |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(name: str, report: dict[str, Any]) -> str:
    support, answers = report["support"], report["answers"]
    near = support.get("near_miss")
    caught = f"{near['questions']} | {near['caught']:.2f} | {near['partial_naming_it']:.2f} | {near['refused']:.2f}" if near else "– | – | – | –"
    return (
        f"| {name} | {report['questions']} | {support['answerable']['held_back']:.3f} | {report['answer_contains_gold']:.3f} | "
        f"{answers['gold_in_first_quote']:.3f} | {answers['median_chars']} | {answers['with_furniture']} | {caught} |"
    )


def prepare_corpora(settings: Settings, cache: Path, datasets: dict[str, Dataset]) -> None:
    """Index every set's articles into its corpus's folder, set by set in table order, before any set is asked.
    Sets over one corpus share an index: without this, a first run asks the news questions of the news
    articles alone while a rerun asks them of the paraphrased and near-miss sets' articles too, and the
    figures of a fresh cache and of a kept one differ. Set by set, a fresh cache is built as a kept one was."""
    for name, _path, corpus, _limit in SETS:
        if name in datasets:
            (cache / corpus).mkdir(parents=True, exist_ok=True)
            Rag(settings.replace(index_dir=str(cache / corpus))).ingest_documents(list(datasets[name].documents))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "honesty", help="index folders kept between runs")
    parser.add_argument("--sets", default="", help="comma-separated names of the sets to ask (default: all)")
    parser.add_argument("--json", action="store_true", help="print each whole report as JSON")
    add_write_options(parser, "honesty")
    args = parser.parse_args()
    settings = load_settings()
    wanted = {s.strip() for s in args.sets.split(",") if s.strip()}
    rows, began = [], time.perf_counter()
    corpora = {c for n, _p, c, _l in SETS if not wanted or n in wanted}
    datasets = {n: load_dataset(p, settings) for n, p, c, _l in SETS if c in corpora and p.exists()}
    prepare_corpora(settings, args.cache, datasets)
    for name, path, corpus, limit in SETS:
        if (wanted and name not in wanted) or not path.exists():
            if not path.exists():
                print(f"skipped {name}: no {path}", file=sys.stderr)
            continue
        report = run(datasets[name], settings, modes=(settings.retrieval_mode,), limit=limit, cache_dir=args.cache / corpus)[settings.retrieval_mode]
        report.pop("evidence", None)
        print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else f"{name}: {row(name, report)}", flush=True)
        rows.append(row(name, report))
    text = (
        f"Measured on {today()} with `{command()}` ({time.perf_counter() - began:.0f} s), `{settings.embed_model}`, "
        f"{settings.retrieval_mode} mode, refusal threshold {settings.refusal_threshold}. Held back: answerable questions answered "
        "`partial` or refused. Caught: near misses answered `partial` with the changed qualifier in `missing`, or refused.\n\n"
        f"{HEAD}\n" + "\n".join(rows) + "\n"
    )
    print("\n" + text)
    if not wanted:
        publish(args, text)


if __name__ == "__main__":
    main()
