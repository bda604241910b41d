"""``rag documents`` as a user runs it: the real command in a subprocess over a real index."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from helpers import run_cli
from rag import Rag, Settings

ARTICLES = [
    {"id": f"news-{day:02d}", "text": f"2023-08-{day:02d} 10:00:00，正文：第{day}天的新闻。{'暴雨预警升级，多地学校停课。' if day % 2 else '股市收盘上涨。'}"}
    for day in range(1, 21)
]


def test_rag_documents_searches_filters_and_pages(tmp_path: Path, fake_settings: Callable[..., Settings]) -> None:
    archive = tmp_path / "news.jsonl"
    archive.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8")
    rag = Rag(fake_settings())
    rag.ingest([archive])
    done = run_cli("documents", "--query", "暴雨 預警", "--since", "2023-08-05", "--limit", "3", index_dir=rag.index_dir)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines[:-1]] == ["2023-08-19", "2023-08-17", "2023-08-15"], "newest first, odd days only"
    assert all(line.split("\t")[1] == "news.jsonl" for line in lines[:-1])
    assert "1–3 of 8 matching (20 indexed)" in lines[-1]
    done = run_cli("documents", "--offset", "18", "--json", index_dir=rag.index_dir)
    data = json.loads(done.stdout)
    assert data["total"] == 20 and [d["doc"] for d in data["documents"]] == ["news-02", "news-01"]
    done = run_cli("documents", "--until", "not-a-day", index_dir=rag.index_dir)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "2023-07-01" in done.stderr
