"""Query latency (retrieval + answer) at seed size and at ~10,000 chunks.

The large index reuses the real vectors and texts of the CMRC 2018 and DRCD
evaluation indexes (built by scripts/bench_retrieval.py under index/eval-cache),
repeated under new document ids until it holds the target number of chunks, so
FAISS and BM25 work at full size without spending half an hour embedding.
Prints p50/p95 per stage and writes the table into docs/benchmarks.md between
the ``<!-- latency -->`` markers (scripts/benchdoc.py):

    .venv/bin/python scripts/bench_latency.py [--chunks 10000] [--questions 200] [--no-write]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchdoc import add_write_options, command, publish, today  # noqa: E402  (scripts/ is on the path when a script runs)

from rag import Rag, load_settings  # noqa: E402
from rag.eval.evaluation import load_dataset, percentile  # noqa: E402
from rag.store import StoreConfig, commit, load_index  # noqa: E402

CACHE = ROOT / "index" / "eval-cache"
SHARED = ROOT.parent / "shared" / "data"


def scaled_index(target: int, folder: Path) -> int:
    """Write an index of about ``target`` chunks made from the cached evaluation indexes."""
    sources = [load_index(CACHE / name) for name in ("CMRC_2018_trial", "DRCD_dev") if (CACHE / name / "CURRENT").exists()]
    if not sources:
        raise SystemExit(f"no cached evaluation index under {CACHE}: run scripts/bench_retrieval.py first")
    documents, chunks, vectors = {}, [], []
    copy = 0
    while len(chunks) < target:
        for source in sources:
            for doc in source.documents.values():
                documents[f"{copy}/{doc.id}"] = dataclasses.replace(doc, id=f"{copy}/{doc.id}")
            chunks.extend(dataclasses.replace(c, doc_id=f"{copy}/{c.doc_id}", id=f"{copy}/{c.id}") for c in source.chunks())
            vectors.append(source.vectors())
        copy += 1
    identity = dataclasses.replace(sources[0].manifest, documents={}, segments=())
    folder.mkdir(parents=True, exist_ok=True)
    commit(folder, StoreConfig.from_settings(load_settings()), identity, None, list(documents.values()), chunks, np.vstack(vectors))
    return len(chunks)


def measure(rag: Rag, questions: list[str]) -> dict[str, tuple[float, float]]:
    rag.ask(questions[0])  # warm-up: model and index loaded
    rag.embedder.forget()
    stages: dict[str, list[float]] = {"retrieve_ms": [], "answer_ms": [], "total_ms": []}
    for question in questions:
        began = time.perf_counter()
        answer = rag.ask(question)
        stages["total_ms"].append((time.perf_counter() - began) * 1000)
        for key in ("retrieve_ms", "answer_ms"):
            stages[key].append(answer.timings[key])
    return {k: (percentile(v, 0.5), percentile(v, 0.95)) for k, v in stages.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=200)
    add_write_options(parser, "latency")
    args = parser.parse_args()
    settings = load_settings()
    cmrc = load_dataset(SHARED / "cmrc2018_trial.json", settings)
    questions = [item.question for item in cmrc.items[: args.questions]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        seed = Rag(settings.replace(index_dir=str(Path(tmp) / "seed")))
        seed.ingest([ROOT / "seeds"])
        rows.append(("seed articles", seed.index().size, measure(seed, questions)))
        size = scaled_index(args.chunks, Path(tmp) / "large")
        large = Rag(settings.replace(index_dir=str(Path(tmp) / "large")))
        large.embedder = seed.embedder
        rows.append((f"{size:,} chunks", size, measure(large, questions)))
    lines = ["| index | chunks | retrieve p50 / p95 ms | answer p50 / p95 ms | total p50 / p95 ms |", "|---|---|---|---|---|"]
    for name, size, m in rows:
        cells = " | ".join(f"{m[k][0]:.1f} / {m[k][1]:.1f}" for k in ("retrieve_ms", "answer_ms", "total_ms"))
        lines.append(f"| {name} | {size:,} | {cells} |")
    text = (
        f"Measured on {today()} with `{command()}` ({os.cpu_count()} cores, warm; {len(questions)} CMRC questions per index, "
        f"FAISS {settings.faiss_factory}; the large index repeats the real CMRC and DRCD chunks and vectors).\n\n" + "\n".join(lines) + "\n"
    )
    print(text)
    publish(args, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
