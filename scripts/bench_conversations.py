"""Follow-up questions asked in their conversation, alone, and written out in full: the figures of
`rag eval eval/conversations.jsonl`, written into docs/benchmarks.md.

The conversation set (eval/conversations.jsonl, made by scripts/make_conversations.py)
and its corpus are described in rag/eval/conversation.py. This script runs the same
evaluation as ``rag eval`` and writes its table between the ``<!-- conversations -->``
markers of docs/benchmarks.md (scripts/benchdoc.py):

    .venv/bin/python scripts/bench_conversations.py [--limit N] [--cache DIR] [--json] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchdoc import add_write_options, command, publish, today  # noqa: E402  (scripts/ is on the path when a script runs)

from rag.eval import conversation  # noqa: E402
from rag.settings import load_settings  # noqa: E402

CONVERSATIONS = ROOT / "eval" / "conversations.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=Path, default=CONVERSATIONS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--cache", type=Path, default=None, help="index folder kept between runs (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    add_write_options(parser, "conversations")
    args = parser.parse_args()
    settings = load_settings()
    report = conversation.run(args.conversations, settings, limit=args.limit, cache_dir=args.cache)
    summary, first, *table = conversation.format_report(report).split("\n")
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else "\n".join([summary, first, *table]))
    text = (
        f"Measured on {today()} with `{command()}` (the figures of `rag eval eval/conversations.jsonl`; `{settings.embed_model}`, "
        f"{settings.retrieval_mode} mode, refusal threshold {settings.refusal_threshold}; no timings reported): {summary}; {first}.\n\n"
        + "\n".join(table)
        + "\n"
    )
    publish(args, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
