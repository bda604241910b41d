"""Ingest speed, old default against new, side by side: chunks/s and chunks per CPU-second.

Why: ingest speed decides whether an archive of tens of thousands of articles
is indexed in minutes or in a day. This embeds the first N articles of the news
slice twice, each variant in its own process so that threads and memory do not
leak between them:

* ``torch-fp32-sequential`` -- the previous default: sentence-transformers fp32,
  every document chunked first, then all chunks embedded (``Embedder.embed_passages``);
* ``onnx-int8-pipeline`` -- the default now: the int8 ONNX encoder fed by the
  ingest pipeline (``rag.ingest.embed_documents``: chunking in a thread ahead of
  the encoder, windows sorted by length).

Chunks per CPU-second (user + system time of the process, all threads) does
not depend on what else the machine runs; chunks/s does. Model loading is
timed apart from embedding. The last column compares each vector with the
old default's (cosine, lowest over all chunks). The table is written into
docs/benchmarks.md between the ``<!-- ingest -->`` markers (scripts/benchdoc.py). Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_ingest.py [--articles 300] [--data PATH] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from benchdoc import add_write_options, command, publish  # noqa: E402  (scripts/ is on the path when a script runs)
from procmem import peak_gb  # noqa: E402

NEWS = Path(os.environ.get("RAG_SHARED_DATA", "/work/shared/data")) / "news_zh_20k.jsonl.xz"
VARIANTS = {
    "torch-fp32-sequential": "previous default: sentence-transformers fp32, chunk everything, then embed (length-sorted, batch 16)",
    "onnx-int8-pipeline": "default now: int8 ONNX encoder, chunking in a thread ahead of it, windows sorted by length",
}
#: How each variant is named in the table.
LABELS = {"torch-fp32-sequential": "torch fp32, sequential (previous default)", "onnx-int8-pipeline": "int8 ONNX, pipeline (default)"}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_variant(name: str, archive: Path, vectors_out: Path) -> dict[str, float]:
    """Load the model, then chunk and embed every article; timings exclude the model load."""
    from rag import load_settings
    from rag.embed.embedding import Embedder
    from rag.ingest.chunking import ChunkerConfig, chunk_document
    from rag.ingest.jsonl import read_jsonl
    from rag.ingest.pipeline import embed_documents

    settings = load_settings(embed_backend="torch" if name.startswith("torch") else "onnx")
    documents, _errors = read_jsonl(archive)
    embedder = Embedder(settings)
    began, cpu = time.perf_counter(), cpu_seconds()
    embedder.warm_up()
    _ = embedder.prompts
    load_s = time.perf_counter() - began
    began, cpu = time.perf_counter(), cpu_seconds()
    config = ChunkerConfig.from_settings(settings)
    if name == "torch-fp32-sequential":
        chunks = [c for d in documents for c in chunk_document(d, config)]
        vectors = embedder.embed_passages([c.search_text for c in chunks])
    else:
        result = embed_documents(documents, config, embedder)
        chunks, vectors = result.chunks, result.vectors
    wall, used = time.perf_counter() - began, cpu_seconds() - cpu
    np.save(vectors_out, vectors)
    return {"articles": len(documents), "chunks": len(chunks), "load_s": load_s, "wall_s": wall, "cpu_s": used, "peak_rss_mib": peak_gb() * 1024}


def first_articles(source: Path, n: int, out: Path) -> None:
    with (
        lzma.open(source, "rt", encoding="utf-8") if source.suffix == ".xz" else open(source, encoding="utf-8") as lines,
        open(out, "w", encoding="utf-8") as sink,
    ):
        for i, line in enumerate(lines):
            if i >= n:
                break
            sink.write(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="first N articles of the news slice")
    parser.add_argument("--data", type=Path, default=NEWS, help="a JSONL(.xz) archive of {id, text}")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)  # internal: one variant in this process
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    add_write_options(parser, "ingest")
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.work / "news.jsonl", args.work / f"{args.variant}.npy")))
        return
    if not args.data.is_file():
        sys.exit(f"no data at {args.data} (set RAG_SHARED_DATA or --data)")
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        first_articles(args.data, args.articles, work / "news.jsonl")
        rows: dict[str, dict[str, float]] = {}
        for name in VARIANTS:
            print(f"running {name} on {args.articles} articles…", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, __file__, "--variant", name, "--work", str(work)], capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                sys.exit(f"{name} failed:\n{done.stderr[-3000:]}")
            rows[name] = json.loads(done.stdout.strip().splitlines()[-1])
        reference = np.load(work / "torch-fp32-sequential.npy")
        cosines = {name: float(np.min(np.sum(np.load(work / f"{name}.npy") * reference, axis=1))) for name in VARIANTS}
    loads.append(os.getloadavg()[0])
    base = rows["torch-fp32-sequential"]
    lines = [
        "| runtime | chunks | chunks/s | chunks per CPU-second | × previous (per CPU-s) | model load s | peak RSS MiB | lowest cosine to previous |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        per_cpu = row["chunks"] / row["cpu_s"]
        lines.append(
            f"| {LABELS[name]} | {row['chunks']:.0f} | {row['chunks'] / row['wall_s']:.1f} | {per_cpu:.2f} | "
            f"{per_cpu / (base['chunks'] / base['cpu_s']):.2f}× | {row['load_s']:.1f} | {row['peak_rss_mib']:.0f} | {cosines[name]:.4f} |"
        )
    text = (
        f"Measured on {date.today()} with `{command()}`: one run on the first {args.articles} articles of `{args.data.name}`, "
        f"{os.cpu_count()} cores, 1-minute load average {loads[0]:.1f} before and {loads[1]:.1f} after (when it is high, only the "
        f"per-CPU-second column is comparable from run to run).\n\n" + "\n".join(lines) + "\n"
    )
    print("\n" + text)
    for name, description in VARIANTS.items():
        print(f"- {LABELS[name]}: {description}")
    publish(args, text)


if __name__ == "__main__":
    main()
