"""The questions behind the honesty table's misses, one line each, to read rather than to count.

Over the indexes ``scripts/bench_honesty.py`` keeps in its cache, asks sets of
it and prints each question the table counts against the product: a near miss
answered ``full`` (or ``partial`` naming something else), an answerable question
held back (``partial`` or refused) or answered without its gold. Each line shows
the support, what the answer says is missing, and the start of the answer; each
set ends with its figures, as the benchmark counts them (a near miss asked of
the whole index; the benchmark also asks the questions of held-out articles).

    .venv/bin/python scripts/honesty_cases.py "news near misses" ["DRCD dev" ...] [--cache .cache/honesty] [--all | --quiet]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_honesty import SETS  # noqa: E402

from rag import Rag  # noqa: E402
from rag.answer.compose import first_quote  # noqa: E402
from rag.eval.evaluation import _sample, load_dataset  # noqa: E402
from rag.eval.metrics import contains_answer, doc_ranks  # noqa: E402
from rag.settings import Settings, load_settings  # noqa: E402
from rag.text.folding import fold  # noqa: E402


def ask_set(name: str, settings: Settings, cache: Path, shown: str) -> str:
    """Print the set's misses (every question with ``shown`` "all", none with "none"); return its figures."""
    _name, path, corpus, limit = next(s for s in SETS if s[0] == name)
    dataset = load_dataset(path, settings)
    rag = Rag(settings.replace(index_dir=str(cache / corpus)))
    rag.ingest_documents(list(dataset.documents))  # as the benchmark does: the sets over one corpus add to one index
    items = _sample(dataset.items, limit)
    counts = dict.fromkeys(("answerable", "gold", "first", "held", "near", "caught"), 0)
    for item in items:
        asked = rag.prepare(item.question)
        hits = rag.search(asked, top_k=10)
        answer = rag.compose(asked, hits[: settings.top_k])
        if item.answerable:
            gold = not answer.refused and contains_answer(answer.text, item)
            held = answer.refused or str(answer.support) != "full"
            bad = held or not gold
            tag = f"{'GOLD' if gold else 'nogold'} rank={doc_ranks(hits, item)}"
            counts["answerable"] += 1
            counts["gold"] += gold
            counts["first"] += bool(first_quote(answer)) and contains_answer(first_quote(answer), item)
            counts["held"] += held
        else:
            named = any(fold(e) in fold(s) or fold(s) in fold(e) for e in item.missing for s in answer.missing)
            bad = not answer.refused and not (str(answer.support) == "partial" and named)
            tag = f"changed={'/'.join(item.missing)}"
            counts["near"] += bool(item.missing)
            counts["caught"] += bool(item.missing) and not bad
        if shown == "all" or (bad and shown == "misses"):
            start = answer.text.split("[", 1)[0][:70].replace("\n", " ")
            print(f"{'MISS' if bad else 'ok  '} {answer.support!s:7} missing={list(answer.missing)} {tag} | {item.question} | {start}")
    n, near = counts["answerable"] or 1, counts["near"] or 1
    return (
        f"{name}: answerable {counts['answerable']}, held back {counts['held'] / n:.3f}, has gold {counts['gold'] / n:.3f}, "
        f"first gold {counts['first'] / n:.3f}" + (f"; near misses {counts['near']}, caught {counts['caught'] / near:.3f}" if counts["near"] else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", choices=[name for name, *_ in SETS])
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "honesty")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--all", action="store_true", help="print every question, not only the misses")
    shown.add_argument("--quiet", action="store_true", help="print only each set's figures")
    args = parser.parse_args()
    settings = load_settings()
    figures = [ask_set(name, settings, args.cache, "all" if args.all else "none" if args.quiet else "misses") for name in args.sets]
    print("\n" + "\n".join(figures))


if __name__ == "__main__":
    main()
