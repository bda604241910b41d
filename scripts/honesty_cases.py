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
from rag.eval.evaluation import _ask, _sample, load_dataset  # noqa: E402
from rag.eval.metrics import _named, contains_answer  # noqa: E402
from rag.settings import Settings, load_settings  # noqa: E402


def ask_set(name: str, settings: Settings, cache: Path, shown: str) -> str:
    """Print the set's misses (every question with ``shown`` "all", none with "none"); return its figures."""
    _name, path, corpus, limit = next(s for s in SETS if s[0] == name)
    dataset = load_dataset(path, settings)
    rag = Rag(settings.replace(index_dir=str(cache / corpus)))
    rag.ingest_documents(list(dataset.documents))  # as the benchmark does: the sets over one corpus add to one index
    items = _sample(dataset.items, limit)
    counts = dict.fromkeys(("answerable", "gold", "first", "held", "near", "caught"), 0)
    lengths = []
    for item in items:
        outcome = _ask(rag, item, None)  # the benchmark's own question route and counting
        answered = outcome.answered
        if item.answerable:
            gold = outcome.answered_correctly
            held = answered.refused or answered.support != "full"
            bad = held or not gold
            first = bool(answered.first_quote) and contains_answer(answered.first_quote, item)
            tag = f"{'GOLD first' if first else 'GOLD later' if gold else 'nogold'} rank={outcome.doc_rank}"
            counts["answerable"] += 1
            counts["gold"] += gold
            counts["first"] += first
            counts["held"] += held
            if not answered.refused:
                lengths.append(len(answered.text))
        else:
            bad = not answered.refused and not (answered.support == "partial" and _named(item.missing, answered.missing))
            tag = f"changed={'/'.join(item.missing)}"
            counts["near"] += bool(item.missing)
            counts["caught"] += bool(item.missing) and not bad
        if shown == "all" or (bad and shown == "misses"):
            start = answered.text.split("[", 1)[0][:70].replace("\n", " ")
            print(f"{'MISS' if bad else 'ok  '} {answered.support:7} missing={list(answered.missing)} {tag} | {item.question} | {start}")
    n, near = counts["answerable"] or 1, counts["near"] or 1
    return (
        f"{name}: answerable {counts['answerable']}, held back {counts['held'] / n:.3f}, has gold {counts['gold'] / n:.3f}, "
        f"first gold {counts['first'] / n:.3f}, median chars {sorted(lengths)[len(lengths) // 2] if lengths else 0}"
        + (f"; near misses {counts['near']}, caught {counts['caught'] / near:.3f}" if counts["near"] else "")
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
