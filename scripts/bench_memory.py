"""Where the answering process's memory goes, stage by stage, over a large index.

Opens an index the way the app does and prints, after each stage (model loaded,
index opened, first search, N searches, adding one article, the search after),
the process's resident memory: its peak (VmHWM), anonymous memory (the heap,
loaded arrays) and file-backed pages (mapped files the OS can reclaim), then the
mapped files and anonymous memory holding the most. With ``--grow N`` the index
is a synthetic one of about N chunks grown as in scripts/bench_scale.py (built
once under index/bench-cache, reused after).

    .venv/bin/python scripts/bench_memory.py --grow 1000000 [--queries 30] [--article 300]
    .venv/bin/python scripts/bench_memory.py --index DIR
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import bench_scale  # noqa: E402
from procmem import status_gb  # noqa: E402

from rag import Rag, load_settings  # noqa: E402
from rag.store import load_index  # noqa: E402


def report(stage: str) -> None:
    """This process's peak, resident, anonymous and file-backed memory after ``stage``."""
    memory = status_gb(("VmHWM", "VmRSS", "RssAnon", "RssFile"))
    print(f"{stage:34s} " + "  ".join(f"{k} {v:.2f}" for k, v in memory.items()), flush=True)


def largest_mappings(count: int = 8) -> None:
    """Resident GB per mapped file name (anonymous memory as [anon]), largest first."""
    per: dict[str, int] = {}
    current = "[anon]"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            current = Path(parts[5]).name if len(parts) > 5 and parts[5].startswith("/") else (parts[5] if len(parts) > 5 else "[anon]")
        elif parts and parts[0] == "Rss:":
            per[current] = per.get(current, 0) + int(parts[1])
    for name, kb in sorted(per.items(), key=lambda item: -item[1])[:count]:
        print(f"    {name:40s} {kb / 2**20:.2f} GB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="an existing index folder (measured in place: the article is added to it)")
    parser.add_argument("--grow", type=int, help="grow a synthetic index of about this many chunks instead")
    parser.add_argument("--articles", type=int, default=120, help="real news articles in the synthetic base")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--article", type=int, default=300, help="line of the news slice added (pick an unseen one on reruns)")
    args = parser.parse_args()
    if bool(args.index) == bool(args.grow):
        parser.error("give --index or --grow")
    report("start (imports)")
    folder = Path(args.index) if args.index else bench_scale.CACHE / f"memory-{args.grow}"
    if args.grow and not (folder / "CURRENT").exists():
        bench_scale.grow(load_index(bench_scale.base_index(args.articles)), args.grow, folder, 250_000)
        print(f"grown {folder}; measure it in a fresh process: rerun the same command", flush=True)
        return 0
    rag = Rag(load_settings(index_dir=str(folder)))
    held = bench_scale.news(args.article, args.queries + 1)
    questions = [rag.prepare(d.text[20:80]) for d in held[1:]]
    report(f"model + {len(questions)} questions embedded")
    began = time.process_time()
    rag.index()
    report(f"index opened ({time.process_time() - began:.1f} CPU s)")
    rag.search(questions[0])
    report("first search")
    for question in questions:
        rag.search(question)
    report(f"{len(questions)} searches")
    began = time.process_time()
    rag.ingest_documents([held[0]])
    report(f"one article added ({time.process_time() - began:.1f} CPU s)")
    rag.search(questions[0])
    report("search after the add")
    largest_mappings()
    return 0


if __name__ == "__main__":
    sys.exit(main())
