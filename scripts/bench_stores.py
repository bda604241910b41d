"""The same evaluation through each store: the embedded segments and Milvus (milvus-lite).

The rest of the product must not be able to tell which store is underneath, so
`rag eval`'s figures on CMRC 2018 trial, DRCD dev and the seed set are measured
through both, side by side, with the difference in points. Milvus scores BM25
itself (over ``RAG_MILVUS_ANALYZER``'s terms, IDF per Milvus segment), so small
differences are possible; docs/benchmarks.md states the bound. Writes the table into
docs/benchmarks.md between the ``<!-- stores -->`` markers (scripts/benchdoc.py):

    .venv/bin/python scripts/bench_stores.py
    .venv/bin/python scripts/bench_stores.py --drcd-limit 300 --no-write
"""

from __future__ import annotations

import argparse
import datetime
import os
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
STORES = ("embedded", "milvus")
#: (label, how to read it from a report) for each figure compared.
FIGURES = (
    ("doc R@5", lambda r: r["document"]["recall@5"]),
    ("chunk R@5", lambda r: r["chunk"]["recall@5"]),
    ("answer has gold", lambda r: r["answer_contains_gold"]),
    ("unanswerable refused", lambda r: r["refusal"]["recall"]),
    ("answerable refused", lambda r: r["refusal"]["answerable_refused"]),
)


def table(results: dict[str, dict[str, dict]]) -> str:
    lines = [
        "| set | figure | embedded | milvus-lite | difference (points) |",
        "|---|---|---|---|---|",
    ]
    for name, per_store in results.items():
        for label, read in FIGURES:
            a, b = read(per_store["embedded"]), read(per_store["milvus"])
            lines.append(f"| {name} | {label} | {a:.3f} | {b:.3f} | {100 * (b - a):+.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmrc-limit", type=int, default=None)
    parser.add_argument("--drcd-limit", type=int, default=1000, help="questions sampled from DRCD dev (3,524 in all)")
    parser.add_argument("--cache", default=str(ROOT / "index" / "store-eval-cache"), help="one index per store and set, reused between runs")
    add_write_options(parser, "stores")
    args = parser.parse_args()
    settings = load_settings()
    sets = [("seed QA", ROOT / "eval" / "seed_qa.jsonl", None)]
    if SHARED.exists():
        sets += [("CMRC 2018 trial", SHARED / "cmrc2018_trial.json", args.cmrc_limit), ("DRCD dev", SHARED / "DRCD_dev.json", args.drcd_limit)]
    else:
        print(f"note: {SHARED} not found; only the seed QA set is measured", file=sys.stderr)
    began = time.time()
    results: dict[str, dict[str, dict]] = {}
    for name, path, limit in sets:
        dataset = load_dataset(path, settings)
        for store in STORES:
            print(f"== {name} through {store}: {len(dataset.documents)} documents", file=sys.stderr, flush=True)
            cache = Path(args.cache) / store / re.sub(r"\W+", "_", name)
            report = run(dataset, settings.replace(store=store, milvus_uri=""), limit=limit, cache_dir=cache)["hybrid"]
            results.setdefault(name, {})[store] = report
    text = (
        f"Measured on {datetime.date.today().isoformat()} with `python scripts/bench_stores.py` (hybrid retrieval, "
        f"`{settings.embed_model}`, refusal threshold {settings.refusal_threshold}, {time.time() - began:.0f} s in all; "
        f"milvus-lite embedded from a local path, analyzer `{settings.milvus_analyzer}`).\n\n{table(results)}\n"
    )
    print(text)
    publish(args, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
