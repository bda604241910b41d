"""BM25-only, dense-only and hybrid side by side on CMRC 2018, DRCD and the seed QA set.

Writes the table into docs/benchmarks.md between the ``<!-- retrieval -->``
markers (scripts/benchdoc.py) and docs/evidence.json, the raw refusal evidence
that scripts/calibrate_refusal.py turns into a curve. Every figure comes from
this run; rerun it after any change to chunking, retrieval or answering:

    .venv/bin/python scripts/bench_retrieval.py            # all sets
    .venv/bin/python scripts/bench_retrieval.py --drcd-limit 500
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchdoc import add_write_options, publish  # noqa: E402  (scripts/ is on the path when a script runs)

from rag.eval.evaluation import load_dataset, run  # noqa: E402
from rag.settings import load_settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
MODES = ("bm25", "dense", "hybrid")
#: The external sets: name, file, and how many questions are sampled by default (None: all).
CMRC = ("CMRC 2018 trial", SHARED / "cmrc2018_trial.json", None)
DRCD = ("DRCD dev", SHARED / "DRCD_dev.json", 1000)


def cache_folder(cache: Path, name: str) -> Path:
    """Where the evaluation index of the set called ``name`` is kept between runs (scripts/fit_evidence.py reads it)."""
    return cache / re.sub(r"\W+", "_", name)


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} CPU cores ({cpu}), torch {torch.__version__}, {torch.get_num_threads()} threads"


def row(name: str, r: dict) -> str:
    d, c, ref = r["document"], r["chunk"], r["refusal"]
    return (
        f"| {name} | {r['mode']} | {r['questions']} | {d['recall@1']:.3f} | {d['recall@5']:.3f} | {d['mrr@10']:.3f} | "
        f"{c['recall@1']:.3f} | {c['recall@5']:.3f} | {r['answer_contains_gold']:.3f} | {ref['recall']:.2f} | "
        f"{ref['answerable_refused']:.2f} | {r['latency_ms']['p50']:.0f} / {r['latency_ms']['p95']:.0f} |"
    )


def table(results: list[tuple[str, dict]]) -> str:
    head = (
        "| set | mode | questions | doc R@1 | doc R@5 | doc MRR@10 | chunk R@1 | chunk R@5 | answer has gold | "
        "unanswerable refused | answerable refused | p50 / p95 ms |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    return "\n".join([head] + [row(name, r) for name, r in results])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmrc-limit", type=int, default=CMRC[2])
    parser.add_argument("--drcd-limit", type=int, default=DRCD[2], help="questions sampled from DRCD dev (3,524 in all)")
    parser.add_argument("--cache", default=str(ROOT / "index" / "eval-cache"), help="reused between runs (ingest is incremental)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated retrieval modes to measure (evidence.json needs hybrid)")
    add_write_options(parser, "retrieval")
    args = parser.parse_args()
    settings = load_settings()
    modes = tuple(m for m in args.modes.split(",") if m)
    if "hybrid" not in modes or not set(modes) <= set(MODES):
        parser.error(f"--modes: choose from {', '.join(MODES)}, hybrid included")
    sets = [("seed QA", ROOT / "eval" / "seed_qa.jsonl", None)]
    if SHARED.exists():
        sets += [(*CMRC[:2], args.cmrc_limit), (*DRCD[:2], args.drcd_limit)]
    else:
        print(f"note: {SHARED} not found; only the seed QA set is measured", file=sys.stderr)
    results, evidence = [], {}
    began = time.time()
    for name, path, limit in sets:
        dataset = load_dataset(path, settings)
        print(f"== {name}: {len(dataset.documents)} documents, {len(dataset.items)} questions", file=sys.stderr, flush=True)
        per_mode = run(dataset, settings, modes=modes, limit=limit, cache_dir=cache_folder(Path(args.cache), name))
        for mode in modes:
            results.append((name, per_mode[mode]))
            print(row(name, per_mode[mode]), flush=True)
        evidence[name] = per_mode["hybrid"]["evidence"]
        ingest = per_mode["hybrid"]["ingest_chunks_per_s"]
        if ingest:
            print(f"   ingest: {ingest} chunks/s", file=sys.stderr)
    stamp = datetime.date.today().isoformat()
    text = (
        f"Measured on {stamp} on {machine()} with `python scripts/bench_retrieval.py{'' if modes == MODES else ' --modes ' + ','.join(modes)}` "
        f"(embedding model `{settings.embed_model}`, {time.time() - began:.0f} s in all). "
        f"Refusal: questions whose article was removed from the index, beside the answerable questions of the articles kept; "
        f"threshold {settings.refusal_threshold}.\n\n{table(results)}\n"
    )
    print(text)
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "evidence.json").write_text(json.dumps(evidence), encoding="utf-8")
    publish(args, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
