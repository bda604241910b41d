"""Measure follow-up questions: asked in their conversation, alone, and written out in full.

A conversation file (``eval/conversations.jsonl``, made by scripts/make_conversations.py)
holds one conversation a line: ``{"id", "source", "turns": [{"question", "standalone",
"answer", "evidence", "answerable"}, …]}``; the first turn stands alone, later turns
are follow-ups as a person writes them, each with its full standalone form. The corpus
is the seed folder plus ``<file stem>_corpus.jsonl`` beside it (``{"id", "text"}`` a line).

Each follow-up is asked four ways: as written with the conversation so far (what the
product does), as written without it (what it did before), and in its full form
without and with the conversation (the target, and a check that a question which
stands alone is searched unchanged). The history is the product's own earlier answers.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..answer.conversation import Message, answer_message
from ..api import Rag
from ..errors import InputError
from ..ingest.documents import Document, parse_bytes
from ..ingest.loading import load_documents
from ..settings import Settings
from ..text.folding import fold
from .metrics import RANKS, Item, contains_answer, doc_ranks, recall_mrr

#: The ways each follow-up is asked: (key, question field, with the conversation).
WAYS = (("with_history", "question", True), ("without_history", "question", False), ("full", "standalone", False), ("full_with_history", "standalone", True))
LABELS = {
    "with_history": "follow-up, with history",
    "without_history": "follow-up, alone",
    "full": "written out in full",
    "full_with_history": "written out, with history",
}


@dataclass(frozen=True)
class Turn:
    question: str
    standalone: str
    item: Item  # gold documents and answers (of the standalone question)


@dataclass(frozen=True)
class Conversation:
    id: str
    source: str
    turns: tuple[Turn, ...]


def is_conversation_file(path: Path) -> bool:
    """True for a JSONL file whose objects carry ``turns``."""
    if path.suffix != ".jsonl" or not path.exists():
        return False
    with open(path, encoding="utf-8") as handle:
        first = next((line for line in handle if line.strip()), "")
    return bool(first) and "turns" in json.loads(first)


def load(path: Path, settings: Settings) -> tuple[list[Document], list[Conversation]]:
    corpus, _errors = load_documents([Path(settings.seeds_dir)])
    extra = path.with_name(path.stem + "_corpus.jsonl")
    if extra.exists():
        for line in extra.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                corpus.append(parse_bytes(row["text"].encode("utf-8"), row["id"], doc_id=row["id"]))
    folded = {d.id: fold(d.text) for d in corpus}
    conversations = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        turns = []
        for turn in row["turns"]:
            answerable = bool(turn.get("answerable", True))
            evidence = (turn["evidence"],) if turn.get("evidence") else ()
            gold = frozenset(doc for doc, text in folded.items() for e in evidence if fold(e) in text) if answerable else frozenset()
            if answerable and not gold:
                raise InputError(f"{path}: evidence of {turn['standalone']!r} is in no document / 证据不在任何文档中")
            item = Item(turn["standalone"], gold, evidence, tuple(turn.get("answer") or ()), answerable)
            turns.append(Turn(turn["question"], turn["standalone"], item))
        conversations.append(Conversation(row["id"], row.get("source", ""), tuple(turns)))
    return corpus, conversations


def _ask(rag: Rag, question: str, history: Sequence[Message], item: Item) -> dict[str, Any]:
    found = rag.find(question, history, max(RANKS), for_answer=True)  # deeper than answered: ranks to 10
    hits = found.hits
    answer = rag.compose(found.question, hits[: rag.settings.top_k])
    return {
        "doc_rank": doc_ranks(hits, item) if item.answerable else None,
        "correct": item.answerable and not answer.refused and contains_answer(answer.text, item),
        "refused": answer.refused,
        "rewritten": found.resolution.used_history,
        "answer": answer,
    }


def _summary(outcomes: list[dict[str, Any]], items: list[Item]) -> dict[str, Any]:
    answerable = [o for o, i in zip(outcomes, items, strict=True) if i.answerable]
    unanswerable = [o for o, i in zip(outcomes, items, strict=True) if not i.answerable]
    return {
        "questions": len(outcomes),
        "document": recall_mrr([o["doc_rank"] for o in answerable]),
        "answer_contains_gold": round(sum(o["correct"] for o in answerable) / (len(answerable) or 1), 4),
        "unanswerable_refused": round(sum(o["refused"] for o in unanswerable) / (len(unanswerable) or 1), 4),
        "unanswerable": len(unanswerable),
        "answerable_refused": round(sum(o["refused"] for o in answerable) / (len(answerable) or 1), 4),
        "rewritten": sum(o["rewritten"] for o in outcomes),
    }


def run(path: Path, settings: Settings, limit: int | None = None, cache_dir: Path | None = None) -> dict[str, Any]:
    """Ask every conversation (the first ``limit``) and score follow-ups each way, side by side."""
    corpus, conversations = load(path, settings)
    conversations = conversations[:limit] if limit else conversations
    with tempfile.TemporaryDirectory(prefix="rag-conv-eval-") as tmp:
        rag = Rag(settings.replace(index_dir=str(cache_dir or Path(tmp) / "index")))
        report = rag.ingest_documents(corpus)
        first: list[dict[str, Any]] = []
        ways: dict[str, list[dict[str, Any]]] = {key: [] for key, _field, _history in WAYS}
        items: list[Item] = []
        for conversation in conversations:
            history: list[dict[str, Any]] = []
            for number, turn in enumerate(conversation.turns):
                if number == 0:
                    outcome = _ask(rag, turn.question, [], turn.item)
                    first.append(outcome)
                else:
                    for key, field, with_history in WAYS:
                        ways[key].append(_ask(rag, getattr(turn, field), history if with_history else [], turn.item))
                    outcome = ways["with_history"][-1]
                    items.append(turn.item)
                history += [{"role": "user", "content": turn.question}, answer_message(outcome["answer"])]
        firsts = [c.turns[0].item for c in conversations]
        for outcomes in (first, *ways.values()):
            for outcome in outcomes:
                outcome.pop("answer")
        return {
            "dataset": path.stem,
            "conversations": len(conversations),
            "documents": len(corpus),
            "chunks": report.chunks,
            "first_questions": _summary(first, firsts),
            "follow_ups": {key: _summary(outcomes, items) for key, outcomes in ways.items()},
        }


def format_report(report: dict[str, Any]) -> str:
    """The follow-up figures as a table, one column per way of asking."""
    ways = report["follow_ups"]
    keys = list(ways)
    rows = [
        ("document R@1", lambda s: f"{s['document']['recall@1']:.3f}"),
        ("document R@5", lambda s: f"{s['document']['recall@5']:.3f}"),
        ("answer contains gold", lambda s: f"{s['answer_contains_gold']:.3f}"),
        ("unanswerable refused", lambda s: f"{s['unanswerable_refused']:.3f} of {s['unanswerable']}"),
        ("answerable refused", lambda s: f"{s['answerable_refused']:.3f}"),
        ("rewritten from the history", lambda s: str(s["rewritten"])),
    ]
    first = report["first_questions"]
    lines = [
        f"dataset {report['dataset']} · {report['conversations']} conversations · {ways[keys[0]]['questions']} follow-ups · "
        f"{report['documents']} documents · {report['chunks']} chunks",
        f"first questions: document R@1 {first['document']['recall@1']:.3f} · answer contains gold {first['answer_contains_gold']:.3f}",
        "| | " + " | ".join(LABELS[k] for k in keys) + " |",
        "|---|" + "---|" * len(keys),
    ]
    lines += [f"| {name} | " + " | ".join(cell(ways[k]) for k in keys) + " |" for name, cell in rows]
    return "\n".join(lines)
