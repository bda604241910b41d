"""Measure retrieval, answers and refusals on SQuAD-format sets and on our own QA JSONL.

SQuAD-format (CMRC 2018, DRCD): every paragraph becomes a document in a
temporary index and every question is asked. Refusal is measured by deleting a
held-out share of the articles from that index and asking their questions,
which the remaining documents cannot answer, beside an equal number of
answerable ones.

QA JSONL (one object per line): ``question``, ``evidence`` (a substring of the
passage that answers it), ``answer`` (keywords the answer must contain) and
``answerable``; the corpus is the seed folder unless told otherwise. A first
line ``{"corpus": {"news": PATH, "background": N}}`` makes it news articles
instead: every article a question names in ``docs`` (ids of the JSONL[.xz] at
PATH, relative to the question file) plus N others drawn from it.
"""

from __future__ import annotations

import json
import lzma
import random
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..answer.compose import first_quote
from ..api import Rag
from ..errors import IngestError, InputError, MissingFile
from ..ingest.documents import Document, parse_bytes
from ..ingest.loading import load_documents
from ..settings import Settings
from . import conversation as conversation_eval
from .metrics import RANKS, Answered, Item, answer_metrics, contains_answer, doc_ranks, first_rank, percentile, recall_mrr

HOLDOUT_SHARE = 0.2
HOLDOUT_SEED = 13


@dataclass(frozen=True)
class Dataset:
    name: str
    documents: tuple[Document, ...]
    items: tuple[Item, ...]
    articles: tuple[tuple[str, ...], ...] = ()  # document ids grouped by article, for held-out refusal


# --------------------------------------------------------------------------- loading


def load_squad(path: Path) -> Dataset:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    documents, items, articles = [], [], []
    for article in data:
        ids = []
        for paragraph in article["paragraphs"]:
            doc_id = f"{paragraph['id']}.txt"
            documents.append(parse_bytes(paragraph["context"].encode("utf-8"), doc_id, doc_id=doc_id))
            ids.append(doc_id)
            for qa in paragraph["qas"]:
                if not qa["question"].strip():
                    continue
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                items.append(Item(qa["question"], frozenset([doc_id]), answers, answers))
        articles.append(tuple(ids))
    return Dataset(path.stem, tuple(documents), tuple(items), tuple(articles))


def read_news(path: Path) -> Iterator[tuple[str, str]]:
    """(id, text) of each article of a news JSONL file (``.xz`` compressed or not)."""
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                yield str(row["id"]), str(row["text"])


def news_document(doc_id: str, text: str) -> Document:
    """One news article as a document, parsed as a plain-text file named after its id."""
    return parse_bytes(text.encode("utf-8"), f"{doc_id}.txt", doc_id=doc_id)


def news_corpus(path: Path, wanted: set[str], background: int, seed: int = HOLDOUT_SEED) -> list[Document]:
    """The ``wanted`` articles plus ``background`` others drawn at random; unreadable ones are left out."""
    ids = [doc_id for doc_id, _ in read_news(path)]
    others = [i for i in ids if i not in wanted]
    chosen = wanted | set(random.Random(seed).sample(others, min(background, len(others))))
    documents = []
    for doc_id, text in read_news(path):
        if doc_id in chosen:
            try:
                documents.append(news_document(doc_id, text))
            except IngestError:
                continue
    return documents


def _qa_rows(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the corpus line or None, the question rows)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if rows and "corpus" in rows[0] and "question" not in rows[0]:
        return rows[0]["corpus"], rows[1:]
    return None, rows


def load_qa_jsonl(path: Path, corpus: Sequence[Document]) -> Dataset:
    items = []
    for row in _qa_rows(path)[1]:
        evidence = tuple(row.get("evidence") or ())
        if isinstance(row.get("evidence"), str):
            evidence = (row["evidence"],)
        answers = tuple(row.get("answer") or ())
        if isinstance(row.get("answer"), str):
            answers = (row["answer"],)
        answerable = bool(row.get("answerable", True))
        gold = frozenset(d.id for d in corpus for e in evidence if e in d.text) if answerable else frozenset()
        if answerable and not gold:
            raise InputError(f"{path}: evidence of {row['question']!r} is in no document / 证据不在任何文档中")
        items.append(Item(row["question"], gold, evidence, answers, answerable, require_all=True, missing=tuple(row.get("missing") or ())))
    return Dataset(path.stem, tuple(corpus), tuple(items))


# --------------------------------------------------------------------------- metrics


# --------------------------------------------------------------------------- running


@dataclass
class _Outcome:
    item: Item
    doc_rank: int | None
    chunk_rank: int | None
    answered_correctly: bool
    refused: bool
    evidence: float
    seconds: float
    answered: Answered


def _ask(rag: Rag, item: Item, mode: str | None) -> _Outcome:
    began = time.perf_counter()
    asked = rag.prepare(item.question)
    hits = rag.search(asked, top_k=max(RANKS), mode=mode)
    answer = rag.compose(asked, hits[: rag.settings.top_k])
    seconds = time.perf_counter() - began
    return _Outcome(
        item,
        doc_ranks(hits, item),
        first_rank(hits, item, chunk_level=True),
        not answer.refused and contains_answer(answer.text, item),
        answer.refused,
        answer.evidence,
        seconds,
        Answered(str(answer.support), answer.missing, answer.text, first_quote(answer), answer.refused),
    )


def _ask_all(rag: Rag, items: list[Item], mode: str) -> list[_Outcome]:
    """Each mode is timed from a cold question cache, so every latency includes embedding the question."""
    rag.embedder.forget()
    return [_ask(rag, item, mode) for item in items]


def _summary(answerable: list[_Outcome], unanswerable: list[_Outcome]) -> dict[str, Any]:
    refused_bad = sum(o.refused for o in unanswerable)
    refused_good = sum(o.refused for o in answerable)
    refused = refused_bad + refused_good
    seconds = [o.seconds * 1000 for o in answerable + unanswerable]
    return {
        "questions": len(answerable),
        "document": recall_mrr([o.doc_rank for o in answerable]),
        "chunk": recall_mrr([o.chunk_rank for o in answerable]),
        "answer_contains_gold": round(sum(o.answered_correctly for o in answerable) / (len(answerable) or 1), 4),
        "refusal": {
            "unanswerable": len(unanswerable),
            "recall": round(refused_bad / (len(unanswerable) or 1), 4),
            "precision": round(refused_bad / refused, 4) if refused else None,
            "answerable_refused": round(refused_good / (len(answerable) or 1), 4),
        },
        "latency_ms": {"p50": round(percentile(seconds, 0.5), 1), "p95": round(percentile(seconds, 0.95), 1)},
        **answer_metrics([(o.item, o.answered) for o in answerable], [(o.item, o.answered) for o in unanswerable]),
    }


def run(
    dataset: Dataset,
    settings: Settings,
    modes: Sequence[str] = ("hybrid",),
    limit: int | None = None,
    cache_dir: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Index the dataset's documents and ask every question in each mode.

    All modes share one index, so a side-by-side comparison embeds only once;
    with ``cache_dir`` the index persists, and a rerun embeds nothing (ingest
    is incremental). Refusal is asked of a copy with the held-out articles deleted.
    """
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        full_dir = cache_dir or Path(tmp) / "full"
        rag = Rag(settings.replace(index_dir=str(full_dir)))
        report = rag.ingest_documents(list(dataset.documents))
        items = _sample(dataset.items, limit)
        rag.search("warm-up")  # load the model before anything is timed
        answerable = {m: _ask_all(rag, [i for i in items if i.answerable], m) for m in modes}
        unanswerable = {m: _ask_all(rag, [i for i in items if not i.answerable], m) for m in modes}
        held_out = set(_hold_out(dataset))
        orphaned = [i for i in items if i.answerable and i.gold_docs <= held_out]
        if orphaned:
            reduced = Rag(settings.replace(index_dir=str(Path(tmp) / "reduced")))
            reduced.embedder = rag.embedder  # the model already loaded
            shutil.copytree(full_dir, reduced.index_dir, dirs_exist_ok=True)
            reduced.delete(sorted(held_out))
            for m in modes:
                unanswerable[m] += [_ask(reduced, Item(i.question, frozenset(), (), (), False), m) for i in orphaned]
        return {m: _mode_report(dataset, report, answerable[m], unanswerable[m], held_out, m) for m in modes}


def _mode_report(dataset: Dataset, report: Any, answerable: list[_Outcome], unanswerable: list[_Outcome], held_out: set[str], mode: str) -> dict[str, Any]:
    """Retrieval and answers over all answerable questions; refusal over a balanced pool."""
    summary = _summary(answerable, unanswerable)
    pool = [o for o in answerable if not o.item.gold_docs <= held_out]
    summary["refusal"] = _summary(pool, unanswerable)["refusal"]
    summary.update(
        dataset=dataset.name,
        mode=mode,
        documents=len(dataset.documents),
        chunks=report.chunks,
        ingest_chunks_per_s=round(report.embedded_chunks / report.seconds, 2) if report.embedded_chunks else None,
        evidence=_evidence_table(pool, unanswerable),
    )
    return summary


def _sample(items: Iterable[Item], limit: int | None) -> list[Item]:
    items = list(items)
    if limit is None or limit >= len(items):
        return items
    return random.Random(HOLDOUT_SEED).sample(items, limit)


def _hold_out(dataset: Dataset) -> list[str]:
    if len(dataset.articles) < 5:
        return []
    articles = list(dataset.articles)
    random.Random(HOLDOUT_SEED).shuffle(articles)
    count = max(1, int(len(articles) * HOLDOUT_SHARE))
    return [doc_id for article in articles[:count] for doc_id in article]


def _evidence_table(answerable: list[_Outcome], unanswerable: list[_Outcome]) -> dict[str, list[float]]:
    """Raw evidence scores, so the refusal threshold can be chosen on a curve (scripts/calibrate_refusal.py)."""
    return {"answerable": [o.evidence for o in answerable], "unanswerable": [o.evidence for o in unanswerable]}


def load_dataset(path: Path, settings: Settings, background: int | None = None) -> Dataset:
    """A SQuAD-format set or a QA JSONL with its corpus; ``background`` overrides a news corpus's sample size."""
    if path.suffix == ".jsonl":
        spec, rows = _qa_rows(path)
        if spec and spec.get("news"):
            news = (path.parent / spec["news"]).resolve()
            if not news.exists():
                raise MissingFile(f"{path}: the news articles it needs are not at {news} / 找不到所需的新闻数据")
            wanted = {str(d) for row in rows for d in row.get("docs", ())}
            size = int(spec.get("background", 0)) if background is None else background
            return load_qa_jsonl(path, news_corpus(news, wanted, size))
        if spec and spec.get("squad"):  # every paragraph of a SQuAD-format file is the corpus
            squad = (path.parent / spec["squad"]).resolve()
            if not squad.exists():
                raise MissingFile(f"{path}: the dataset it needs is not at {squad} / 找不到所需的数据集")
            return load_qa_jsonl(path, load_squad(squad).documents)
        corpus, _errors = load_documents([Path(settings.seeds_dir)])
        return load_qa_jsonl(path, corpus)
    return load_squad(path)


def evaluate_path(path: Path, settings: Settings, limit: int | None = None, mode: str | None = None) -> dict[str, Any]:
    if not path.exists():
        raise MissingFile(f"no such dataset: {path} / 评测数据集不存在")
    mode = mode or settings.retrieval_mode
    if conversation_eval.is_conversation_file(path):
        return conversation_eval.run(path, settings.replace(retrieval_mode=mode), limit=limit)
    return run(load_dataset(path, settings), settings, modes=(mode,), limit=limit)[mode]


def format_report(report: dict[str, Any]) -> str:
    if "follow_ups" in report:  # a conversation set
        return conversation_eval.format_report(report)
    d, c, r = report["document"], report["chunk"], report["refusal"]
    lines = [
        f"dataset {report['dataset']} · mode {report['mode']} · {report['questions']} questions · {report['documents']} documents · {report['chunks']} chunks",
        f"document  R@1 {d['recall@1']:.3f}  R@5 {d['recall@5']:.3f}  R@10 {d['recall@10']:.3f}  MRR@10 {d['mrr@10']:.3f}",
        f"chunk     R@1 {c['recall@1']:.3f}  R@5 {c['recall@5']:.3f}  R@10 {c['recall@10']:.3f}  MRR@10 {c['mrr@10']:.3f}",
        f"answer contains gold {report['answer_contains_gold']:.3f}",
        f"refusal   recall {r['recall']:.3f}  precision {r['precision'] if r['precision'] is not None else '-'}  "
        f"answerable refused {r['answerable_refused']:.3f}  ({r['unanswerable']} unanswerable)",
        f"latency   p50 {report['latency_ms']['p50']} ms  p95 {report['latency_ms']['p95']} ms  · ingest {report['ingest_chunks_per_s']} chunks/s",
    ]
    support, answers = report["support"], report["answers"]
    mine, theirs = support["answerable"], support["unanswerable"]
    lines.append(
        f"support   answerable full {mine['full']:.3f} partial {mine['partial']:.3f} none {mine['none']:.3f} (held back {mine['held_back']:.3f})  "
        f"· unanswerable full {theirs['full']:.3f} partial {theirs['partial']:.3f} none {theirs['none']:.3f}"
    )
    if "near_miss" in support:
        near = support["near_miss"]
        lines.append(
            f"near miss {near['questions']} questions: caught {near['caught']:.3f} (partial naming the changed qualifier {near['partial_naming_it']:.3f}, refused {near['refused']:.3f})"
        )
    lines.append(
        f"answers   median {answers['median_chars']} characters · gold in the first quote {answers['gold_in_first_quote']:.3f} · with page furniture {answers['with_furniture']}"
    )
    return "\n".join(lines)
