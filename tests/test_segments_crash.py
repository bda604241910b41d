"""kill -9 at any moment of a write — a segment being written, a merge, a compaction — loses nothing published.

A worker process adds, replaces, deletes and compacts in a loop and prints
each generation it has published; it is killed with SIGKILL at varied
moments. Each time the index must open at that generation or a later complete
one, consistent (every live document's chunks present, BM25 equal to a
from-scratch build) and extendable by the next writer.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_segments import article, assert_exact

from helpers import ROOT
from rag import Rag, Settings
from rag.store import POINTER, load_index, read_manifest

SettingsFactory = Callable[..., Settings]

WORKER = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
from helpers import FAKE_MODEL, CharNgramEncoder
from rag import Rag, load_settings
from rag.embed.embedding import register_encoder
from test_segments import article
register_encoder(FAKE_MODEL, lambda settings: CharNgramEncoder())
rag = Rag(load_settings(index_dir={index!r}, embed_model=FAKE_MODEL, max_segments=4))
step = 0
while True:
    step += 1
    if step % 5 == 0:
        print("compacting", flush=True)
        rag.compact()
    elif step % 3 == 0:
        rag.delete([d for d in list(rag.index().documents)[:1]])
    else:
        rag.ingest_documents([article(step % 12, version=step // 12), article((step * 7) % 12)])
    print("published", rag.generation(), flush=True)
"""


MIN_ROUNDS, MAX_ROUNDS, MIN_INTERRUPTED = 8, 40, 2


@pytest.mark.slow
def test_kill_9_during_writes_and_compactions_keeps_the_last_generation(fake_settings: SettingsFactory, tmp_path: Path) -> None:
    index = tmp_path / "index"
    Rag(fake_settings(index)).ingest_documents([article(i) for i in range(6)])
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(root=str(ROOT), tests=str(ROOT / "tests"), index=str(index)), encoding="utf-8")
    chance = random.Random(11)
    interrupted = 0
    round_ = 0
    # Kills land at random moments; a busy machine can make several in a row fall between writes,
    # so rounds go on (up to MAX_ROUNDS) until enough of them hit a write in the middle.
    while round_ < MIN_ROUNDS or (interrupted < MIN_INTERRUPTED and round_ < MAX_ROUNDS):
        round_ += 1
        process = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
        assert process.stdout is not None
        published: list[str] = []
        while len(published) < 2 + round_ % 3:
            line = process.stdout.readline()
            assert line, "the worker stopped before it was killed"
            if line.startswith("published"):
                published.append(line.split()[1])
            elif round_ % 2 and line.startswith("compacting"):
                break  # kill during a compaction
        time.sleep(chance.uniform(0.0, 0.12))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        leftovers = [p.name for p in index.iterdir() if p.name.startswith(".staging-")]
        listed = set(read_manifest(index).segments)
        orphans = [p.name for p in index.glob("seg-*") if p.name not in listed]
        interrupted += bool(leftovers or orphans)
        current = (index / POINTER).read_text().strip()
        assert not published or current >= published[-1], "a published generation was lost"
        store = load_index(index)
        assert set(store.documents) == {c.doc_id for c in store.chunks()} | {d for d in store.documents if not store.manifest.documents[d]["chunks"]}
        assert_exact(store)
        assert Rag(fake_settings(index)).ask("第3篇报道介绍了什么？").citations
    assert interrupted, "no kill landed in the middle of a write: the test proved nothing"
    Rag(fake_settings(index)).ingest_documents([article(20)])  # the next writer cleans up and extends the index
    assert not [p for p in index.iterdir() if p.name.startswith(".staging-")]
    assert "article-20.txt" in load_index(index).documents
