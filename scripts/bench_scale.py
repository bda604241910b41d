"""The embedded store at scale: adding one article, query latency, memory and FAISS recall by index size.

A real index of news articles (``../shared/data/news_zh_20k.jsonl.xz``) is built
once with the product's embedding model and cached under index/bench-cache.
Larger indexes grow from it synthetically: its chunks repeated under new
document ids, each copy's vectors the real ones plus a little noise
(renormalised) so that copies are near but distinct, its BM25 postings
repeated (nothing re-tokenised), written as segments of at most
``--segment-rows`` chunks with the FAISS index ``RAG_FAISS_FACTORY`` chooses.
Each size is then measured in a fresh process:

* **add 1 article**: ``Rag.ingest_documents`` of one unseen article (chunking,
  embedding, tokenising and writing its segment), wall and CPU seconds, and the CPU
  seconds left once its embedding is taken out (the store's share); then the first search after it;
* **search p50 / p95**: hybrid retrieval of held-out article snippets (questions embedded
  beforehand), wall and CPU milliseconds of this process (CPU time depends less on a shared machine's load);
* **peak RSS** of that process (the embedding model included) and of its children (milvus-lite's server);
* the same on milvus-lite (``--stores embedded,milvus``, up to ``--milvus-max`` chunks);
* **recall@10**: the store's dense top 10 against exact search over every vector.

With ``--index DIR`` an existing index (say the whole news slice, built by
``rag ingest``) is measured instead, on a copy: opening it (an index of the
single-generation format is upgraded then, its vectors reused), search latency
for the questions of ``eval/news_qa.jsonl``, adding one article in this process
and with ``rag ingest`` in a fresh one, and recall@10 of HNSW graphs over its
real e5 vectors against exact search, by efSearch and M.

The synthetic sizes' table is written into docs/benchmarks.md between the
``<!-- scale -->`` markers (scripts/benchdoc.py); ``--index`` and
``--recall-vectors`` only print.

    .venv/bin/python scripts/bench_scale.py [--articles 400] [--sizes 10000,100000,1000000] [--queries 100] [--no-write]
    .venv/bin/python scripts/bench_scale.py --index /path/to/index [--queries 170]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import lzma
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import benchdoc  # noqa: E402  (scripts/ is on the path when a script runs)
from procmem import peak_gb  # noqa: E402

from rag import Question, Rag, load_settings  # noqa: E402
from rag.eval.evaluation import percentile  # noqa: E402
from rag.ingest.chunking import Chunk, chunk_document  # noqa: E402
from rag.ingest.documents import Document, parse_bytes  # noqa: E402
from rag.store import EmbeddedStore, Manifest, load_index  # noqa: E402
from rag.store import vectors as vector_index  # noqa: E402
from rag.store.manifest import publish  # noqa: E402
from rag.store.milvus import MilvusBackend  # noqa: E402
from rag.store.segment import write_segment  # noqa: E402
from rag.store.writer import StoreConfig, entry  # noqa: E402
from rag.text.lexical import merge_postings  # noqa: E402

NEWS = ROOT.parent / "shared" / "data" / "news_zh_20k.jsonl.xz"
CACHE = ROOT / "index" / "bench-cache"
NOISE = 0.05  # norm of the perturbation of a copied vector, before renormalising


def news(start: int, count: int) -> list[Document]:
    documents = []
    with lzma.open(NEWS, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= start + count:
                break
            if number >= start:
                item = json.loads(line)
                documents.append(parse_bytes(item["text"].encode(), f"{item['id']}.txt", doc_id=item["id"], source=f"news:{item['id']}"))
    return documents


def base_index(articles: int) -> Path:
    """The real index of the first ``articles`` news articles (built once, then reused)."""
    folder = CACHE / f"news-{articles}"
    settings = load_settings(index_dir=str(folder))
    rag = Rag(settings)
    if rag.has_index() and len(rag.index().documents) == articles:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    began = time.perf_counter()
    report = rag.ingest_documents(news(0, articles), progress=lambda _stage, done, total: print(f"\rembedding {done}/{total}", end="", file=sys.stderr))
    print(f"\nbase index: {articles} articles, {report.chunks} chunks in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return folder


def band_rows(base: EmbeddedStore) -> np.ndarray:
    """The base documents' story band keys, in ``base.documents`` order."""
    rows = {
        d: segment.bands[i]
        for segment in base.segments
        for i, d in enumerate(segment.doc_ids)
        if base.manifest.documents.get(d, {}).get("segment") == segment.name
    }
    return np.stack([rows[d] for d in base.documents])


def copies_of(base: EmbeddedStore, group: range) -> tuple[list[Document], list[Chunk], np.ndarray]:
    """Copies ``group`` of the base index: documents and chunks under new ids, vectors perturbed (copy 0 is real)."""
    documents = [base.documents[d] for d in base.documents]
    chunks, vectors = base.chunks(), base.vectors()
    blocks = []
    for c in group:
        noisy = vectors + np.random.default_rng(c).standard_normal(vectors.shape).astype(np.float32) * (NOISE / math.sqrt(vectors.shape[1]))
        blocks.append(vectors if c == 0 else noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return (
        [dataclasses.replace(d, id=f"{c}/{d.id}") for c in group for d in documents],
        [dataclasses.replace(ch, doc_id=f"{c}/{ch.doc_id}", id=f"{c}/{ch.id}") for c in group for ch in chunks],
        np.vstack(blocks).astype(np.float32),
    )


def grow_milvus(base: EmbeddedStore, target: int, uri: str) -> int:
    """The same growth written into milvus-lite at ``uri`` (Milvus computes the BM25 field itself)."""
    shutil.rmtree(Path(uri).parent, ignore_errors=True)
    backend = MilvusBackend(uri, "", "bench", StoreConfig.from_settings(load_settings()).stories)
    copies = max(1, math.ceil(target / base.size))
    identity = dataclasses.replace(base.manifest, documents={}, segments=())
    previous = None
    for first in range(0, copies, 20):
        documents, chunks, vectors = copies_of(base, range(first, min(copies, first + 20)))
        previous = backend.commit(identity, previous, documents, chunks, vectors)
    backend.client.close()
    return copies * base.size


def grow(base: EmbeddedStore, target: int, folder: Path, segment_rows: int) -> int:
    """Write an index of about ``target`` chunks made of copies of ``base`` (see the module docstring)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = StoreConfig.from_settings(load_settings())
    postings = merge_postings([(s.postings, live) for s, live in zip(base.segments, base.lives, strict=True)])
    per_copy = base.size
    copies = max(1, math.ceil(target / per_copy))
    per_segment = max(1, segment_rows // per_copy)
    entries: dict[str, dict] = {}
    segments = []
    for first in range(0, copies, per_segment):
        group = range(first, min(copies, first + per_segment))
        seg_docs, seg_chunks, seg_vectors = copies_of(base, group)
        seg_postings = merge_postings([(postings, np.ones(per_copy, dtype=bool))] * len(group))
        bands = np.vstack([band_rows(base)] * len(group))
        name = write_segment(folder, seg_docs, seg_chunks, seg_vectors, seg_postings, config.factory(len(seg_chunks)), bands)
        counts: dict[str, int] = {}
        for chunk in seg_chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        entries.update({d.id: entry(d, name, counts.get(d.id, 0)) for d in seg_docs})
        segments.append(name)
        print(f"  {folder.name}: {len(segments)} segment(s), {copies} copies", file=sys.stderr)
    manifest = dataclasses.replace(base.manifest, documents=entries, segments=tuple(segments), created=time.time())
    assert isinstance(manifest, Manifest)
    publish(folder, manifest)
    return copies * per_copy


def timed_searches(rag: Rag, questions: list[Question]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of one hybrid search per question, in this process."""
    timings, cpu = [], []
    for question in questions:
        began, began_cpu = time.perf_counter(), time.process_time()
        rag.search(question)
        timings.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return timings, cpu


def measure(folder: Path, queries: int, articles: int) -> dict[str, float]:
    """One size, in this (fresh) process: add one article, search latency, peak RSS, recall@10."""
    rag = Rag(load_settings(index_dir=str(folder)))  # RAG_STORE / RAG_MILVUS_URI from the parent say which store
    held_out = news(articles + 10, queries + 1)
    questions = [rag.prepare(doc.text[20:80]) for doc in held_out[1:]]  # embeds; the model is loaded here
    rag.search(questions[0])  # opens the index
    timings, cpu = timed_searches(rag, questions)
    article = held_out[0]
    embed_cpu = time.process_time()
    rag.embedder.embed_passages([c.search_text for c in chunk_document(article, rag.chunker)])
    embed_cpu = time.process_time() - embed_cpu
    began, began_cpu = time.perf_counter(), time.process_time()
    report = rag.ingest_documents([article])
    added, added_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    began = time.perf_counter()
    rag.search(questions[0])
    reopen = (time.perf_counter() - began) * 1000
    rss_gb = peak_gb() + children_peak_gb()
    store = rag.index()
    embedded = isinstance(store, EmbeddedStore)
    vectors = np.stack([q.vector for q in questions if q.vector is not None])
    graph = graph_recall(store, vectors, rag.settings.faiss_ef_search) if embedded else {}
    return {
        **graph,
        "chunks": store.size,
        "add_s": added,
        "add_cpu_s": added_cpu,
        "add_store_cpu_s": max(added_cpu - embed_cpu, 0.0),
        "add_embedded": report.embedded_chunks,
        "first_search_after_add_ms": reopen,
        "p50_ms": percentile(timings, 0.5),
        "p95_ms": percentile(timings, 0.95),
        "p50_cpu_ms": percentile(cpu, 0.5),
        "p95_cpu_ms": percentile(cpu, 0.95),
        "rss_gb": rss_gb,
        "recall10": recall_at_10(store, vectors) if embedded else float("nan"),
        "factories": ",".join(sorted({str(json.loads((folder / s / "segment.json").read_text())["faiss_factory"]) for s in store.manifest.segments}))
        if embedded
        else "milvus-lite FLAT",
    }


def children_peak_gb() -> float:
    """Peak RSS of this process's children (milvus-lite serves from a child process), from /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                total += peak_gb(stat.parent / "status")
        except (OSError, ValueError, KeyError):  # a process gone, or a zombie without memory
            continue
    return total


def news_questions(limit: int) -> list[str]:
    """The questions of the news question set (eval/news_qa.jsonl): real questions over the slice."""
    lines = (ROOT / "eval" / "news_qa.jsonl").read_text(encoding="utf-8").splitlines()
    return [q for q in (json.loads(line).get("question", "") for line in lines if line.strip()) if q][:limit]


def measure_index(source: Path, queries: int) -> None:
    """``--index``: the figures of an existing index, measured on a copy of it (see the module docstring)."""
    folder = CACHE / "measured-copy"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source, folder, symlinks=True, ignore=shutil.ignore_patterns(".embed-cache", ".write.lock"))
    rag = Rag(load_settings(index_dir=str(folder)))
    began, began_cpu = time.perf_counter(), time.process_time()
    store = rag.index()  # upgrades an index of the single-generation format, then opens it
    opened, opened_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    print(f"opened {source} (copy): {store.size:,} chunks, {len(store.documents):,} documents in {opened:.1f} s wall / {opened_cpu:.1f} CPU s", flush=True)
    questions = [rag.prepare(q) for q in news_questions(queries)]
    rag.search(questions[0])
    timings, cpu = timed_searches(rag, questions)
    print(
        f"search ({len(questions)} news questions, hybrid): p50 {percentile(timings, 0.5):.1f} / p95 {percentile(timings, 0.95):.1f} ms wall, "
        f"p50 {percentile(cpu, 0.5):.1f} / p95 {percentile(cpu, 0.95):.1f} CPU ms",
        flush=True,
    )
    seeds = sorted(Path(rag.settings.seeds_dir).glob("*.txt"))
    embed_cpu = time.process_time()
    rag.embedder.embed_passages([c.search_text for d in parse_seed(seeds[0]) for c in chunk_document(d, rag.chunker)])
    embed_cpu = time.process_time() - embed_cpu
    began, began_cpu = time.perf_counter(), time.process_time()
    report = rag.ingest([seeds[0]])
    added, added_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    print(
        f"add 1 article in this process ({report.embedded_chunks} chunks embedded, index now {report.chunks:,} chunks): "
        f"{added:.2f} s wall, {added_cpu:.2f} CPU s, {max(added_cpu - embed_cpu, 0.0):.2f} CPU s without its embedding",
        flush=True,
    )
    one = folder.parent / f"added-{time.time_ns()}.txt"  # a name the index cannot hold yet
    shutil.copyfile(seeds[1], one)
    began = time.perf_counter()
    child = subprocess.run([sys.executable, "-m", "ui.cli", "--index-dir", str(folder), "ingest", str(one)], capture_output=True, text=True, cwd=ROOT)
    print(f"`rag ingest {one.name}` in a fresh process (model load included): {time.perf_counter() - began:.2f} s wall; {child.stdout.strip()}", flush=True)
    one.unlink()
    vectors = np.stack([q.vector for q in questions if q.vector is not None])
    base = load_index(folder)
    for m in (32, 48):
        for ef, result in graph_sweep(base.vectors(), vectors, m, (16, 32, 64, 128, 256)).items():
            print(
                f"HNSW{m} efSearch {ef} over {base.size:,} real e5 vectors: recall@10 {result[0]:.3f} against exact search, {result[1]:.2f} CPU ms a query; "
                f"as served (best 10 of the top {load_settings().candidates}, rescored exactly): {result[2]:.3f}",
                flush=True,
            )
    shutil.rmtree(folder, ignore_errors=True)


def recall_of_cache(folder: Path, queries: int) -> None:
    """``--recall-vectors``: HNSW recall@10 over the real passage vectors an ingest has cached so far."""
    parts = sorted(folder.glob("**/part-*.npz"))
    blocks = []
    for part in parts:
        with np.load(part) as data:
            blocks.append(np.asarray(data["vectors"], dtype=np.float32))
    vectors = np.unique(np.vstack(blocks), axis=0)
    rag = Rag(load_settings(index_dir=str(CACHE / "unused")))
    asked = np.stack([rag.embedder.embed_query(q) for q in news_questions(queries)]).astype(np.float32)
    for m in (32, 48):
        for ef, result in graph_sweep(vectors, asked, m, (16, 32, 64, 128, 256)).items():
            print(
                f"HNSW{m} efSearch {ef} over {len(vectors):,} real e5 passage vectors ({len(parts)} cache files), {len(asked)} news questions: "
                f"recall@10 {result[0]:.3f} against exact search, {result[1]:.2f} CPU ms a query",
                flush=True,
            )


def parse_seed(path: Path) -> list[Document]:
    return [parse_bytes(path.read_bytes(), path.name, doc_id=path.name, source=str(path))]


def graph_sweep(vectors: np.ndarray, queries: np.ndarray, m: int, efs: tuple[int, ...]) -> dict[int, tuple[float, float, float]]:
    """efSearch → (recall@10 against exact search, CPU ms a query, recall@10 as the store serves it) of an
    HNSW``m`` graph over ``vectors``. The store asks for ``RAG_CANDIDATES`` and rescores them exactly, so
    its top 10 are the best 10 of those, which the last figure measures."""
    began = time.process_time()
    index = vector_index.build(vectors, f"HNSW{m}," + vector_index.GRAPH.split(",", 1)[1])
    print(f"  HNSW{m} built over {len(vectors):,} vectors in {time.process_time() - began:.0f} CPU s", file=sys.stderr, flush=True)
    truth = np.argsort(-(vectors @ queries.T), axis=0)[:10].T
    found_by: dict[int, tuple[float, float, float]] = {}
    candidates = load_settings().candidates
    for ef in efs:
        vector_index.tune(index, ef)
        began = time.process_time()
        _, found = index.search(queries.astype(np.float32), 10)
        per_query = (time.process_time() - began) * 1000 / len(queries)
        hits = sum(len(set(t.tolist()) & set(f.tolist())) for t, f in zip(truth, found, strict=True))
        _, pool = index.search(queries.astype(np.float32), candidates)
        served = [p[np.argsort(-(vectors[p] @ q))[:10]] for p, q in zip(pool, queries, strict=True)]
        served_hits = sum(len(set(t.tolist()) & set(f.tolist())) for t, f in zip(truth, served, strict=True))
        found_by[ef] = (hits / (10 * len(queries)), per_query, served_hits / (10 * len(queries)))
    return found_by


def graph_recall(store: EmbeddedStore, queries: np.ndarray, ef_search: int) -> dict[str, float]:
    """recall@10 and search time of the graph index ``auto`` switches to, built over every vector here."""
    vectors = store.vectors()
    began = time.process_time()
    index = vector_index.tune(vector_index.build(vectors, vector_index.GRAPH), ef_search)
    built = time.process_time() - began
    truth = np.argsort(-(vectors @ queries.T), axis=0)[:10].T
    began = time.process_time()
    _, found = index.search(queries.astype(np.float32), 10)
    per_query = (time.process_time() - began) * 1000 / len(queries)
    hits = sum(len(set(t.tolist()) & set(f.tolist())) for t, f in zip(truth, found, strict=True))
    return {"graph_recall10": hits / (10 * len(queries)), "graph_build_cpu_s": built, "graph_search_cpu_ms": per_query}


def recall_at_10(store: EmbeddedStore, queries: np.ndarray) -> float:
    """Share of the exact top 10 (inner product over every live vector) that the store's dense search returns."""
    exact_rows: list[list[tuple[float, int]]] = [[] for _ in queries]
    for part, segment in enumerate(store.segments):
        base = int(store.bases[part])
        for start in range(0, segment.size, 100_000):
            block = np.asarray(segment.vectors[start : start + 100_000], dtype=np.float32)
            scores = block @ queries.T
            scores[~store.lives[part][start : start + 100_000]] = -np.inf
            for q in range(len(queries)):
                top = np.argpartition(-scores[:, q], min(10, len(block) - 1))[:10]
                exact_rows[q].extend((float(scores[r, q]), base + start + int(r)) for r in top)
    found = 0
    for q, vector in enumerate(queries):
        truth = {row for _, row in sorted(exact_rows[q], reverse=True)[:10]}
        found += len(truth & {row for row, _ in store.dense(vector, 10)})
    return found / (10 * len(queries))


def _recall(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=400, help="real news articles embedded for the base index")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="index sizes in chunks, comma-separated")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--stores", default="embedded", help="embedded and/or milvus (milvus-lite, embedded from a local folder)")
    parser.add_argument("--milvus-max", type=int, default=100_000, help="largest size measured on milvus-lite")
    parser.add_argument("--segment-rows", type=int, default=250_000, help="largest segment the synthetic index is written in")
    parser.add_argument("--index", help="measure this existing index (on a copy) instead of synthetic sizes")
    parser.add_argument(
        "--recall-vectors", metavar="DIR", help="only HNSW recall@10, over the passage vectors of an ingest's .embed-cache folder (read, never written)"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: measure one built index in this process
    parser.add_argument("--grow-milvus", help=argparse.SUPPRESS)  # internal: write the growth into this milvus-lite URI
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    benchdoc.add_write_options(parser, "scale")
    args = parser.parse_args()
    if args.index:
        measure_index(Path(args.index), args.queries)
        return 0
    if args.recall_vectors:
        recall_of_cache(Path(args.recall_vectors), args.queries)
        return 0
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.queries, args.articles)))
        return 0
    if args.grow_milvus:
        print(grow_milvus(load_index(base_index(args.articles)), args.size, args.grow_milvus))
        return 0
    if not NEWS.exists():
        raise SystemExit(f"{NEWS} is missing")
    base = load_index(base_index(args.articles))
    rows = []
    for store in args.stores.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            if store == "milvus" and size > args.milvus_max:
                continue
            folder = CACHE / f"grown-{store}-{size}"
            began = time.perf_counter()
            env = dict(os.environ)
            if store == "milvus":
                env.update(RAG_STORE="milvus", RAG_MILVUS_URI=str(folder / "lite" / "milvus.db"), RAG_MILVUS_COLLECTION="bench")
                # in a child: milvus-lite admits one process per data folder, and lets go of it only on exit
                grower = [sys.executable, __file__, "--grow-milvus", env["RAG_MILVUS_URI"], "--size", str(size), "--articles", str(args.articles)]
                chunks = int(subprocess.run(grower, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
            else:
                chunks = grow(base, size, folder, args.segment_rows)
            built = time.perf_counter() - began
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(folder), "--queries", str(args.queries), "--articles", str(args.articles)],
                capture_output=True,
                text=True,
                env=env,
            )
            if child.returncode:
                raise SystemExit(f"measuring {folder} failed:\n{child.stderr[-3000:]}")
            result = json.loads(child.stdout.strip().splitlines()[-1])
            result.update(build_s=built, store=store)
            rows.append(result)
            print(f"  {chunks:,} chunks: {json.dumps(result)}", file=sys.stderr, flush=True)
            shutil.rmtree(folder, ignore_errors=True)
    graphs = [
        f"{vector_index.GRAPH} (efSearch {load_settings().faiss_ef_search}) over {int(r['chunks']):,} chunks: recall@10 {r['graph_recall10']:.3f} "
        f"against exact search, {r['graph_search_cpu_ms']:.2f} CPU ms a query, built in {r['graph_build_cpu_s']:.0f} CPU s"
        for r in rows
        if "graph_recall10" in r
    ]
    lines = [
        "| store | chunks | vector index | add 1 article: wall s / CPU s (store alone, CPU s) | first search after the add (ms) "
        "| search p50 / p95: wall ms | search p50 / p95: CPU ms | peak RSS (GB) | dense recall@10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {'milvus-lite' if r['store'] == 'milvus' else r['store']} | {int(r['chunks']):,} | {r['factories']} "
            f"| {r['add_s']:.2f} / {r['add_cpu_s']:.2f} ({r['add_store_cpu_s']:.2f}) "
            f"| {r['first_search_after_add_ms']:.0f} | {r['p50_ms']:.1f} / {r['p95_ms']:.1f} | {r['p50_cpu_ms']:.1f} / {r['p95_cpu_ms']:.1f} | {r['rss_gb']:.2f} | {_recall(r['recall10'])} |"
        )
    text = (
        f"Measured on {benchdoc.today()} with `{benchdoc.command()}` ({os.cpu_count()} cores; base: {args.articles} real news articles, "
        f"{base.size:,} chunks, e5 vectors; {args.queries} queries per size).\n\n" + "\n".join(lines) + "\n" + "".join(f"\n- {g}" for g in graphs)
    )
    print("\n" + text)
    benchdoc.publish(args, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
