"""What ``rag ask --json`` and ``rag search --json`` answer for a question set: a snapshot to compare across a change.

A refactoring of the question's route must not change one answer, citation,
score or ranking. This asks a question set through the real CLI (``--batch``,
one process per command) over an existing index and writes one JSON line per
question with the timings removed, so two snapshots (before and after a change)
compare with ``diff`` or with ``--compare``:

    .venv/bin/python scripts/snapshot_routes.py --index-dir DIR --questions eval/seed_qa.jsonl --out before.jsonl
    .venv/bin/python scripts/snapshot_routes.py --compare before.jsonl after.jsonl

A QA set (``question`` per line) is asked as it is; a conversation set (``turns``)
is asked turn by turn, each with the conversation so far as its history (the
assistant's part being the turn's evidence sentence, so the history does not
depend on the code under test).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Fields that vary from run to run and are not part of an answer.
VOLATILE = ("timings",)


def batch_rows(path: Path) -> list[dict[str, Any]]:
    """The set's questions as ``rag --batch`` lines: {"question", "history"}."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else {}
        if "turns" in item:
            history: list[dict[str, str]] = []
            for turn in item["turns"]:
                rows.append({"question": turn["question"], "history": list(history)})
                history += [{"role": "user", "content": turn["question"]}, {"role": "assistant", "content": turn.get("evidence", "")}]
        elif "question" in item:
            rows.append({"question": item["question"], "history": []})
    return rows


def run_cli(command: str, index_dir: Path, batch: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_ANSWER_MODE": "extractive"}
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", "--index-dir", str(index_dir), command, "--batch", str(batch), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"rag {command} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return [strip(json.loads(line)) for line in done.stdout.splitlines() if line.startswith("{")]


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def snapshot(index_dir: Path, questions: Path, out: Path) -> None:
    rows = batch_rows(questions)
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "batch.jsonl"
        batch.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        asked = run_cli("ask", index_dir, batch)
        searched = run_cli("search", index_dir, batch)
    if not (len(asked) == len(searched) == len(rows)):
        raise SystemExit(f"{len(rows)} questions, but {len(asked)} answers and {len(searched)} searches came back")
    with out.open("w", encoding="utf-8") as handle:
        for row, answer, hits in zip(rows, asked, searched, strict=True):
            handle.write(
                json.dumps({"question": row["question"], "turn": len(row["history"]) // 2, "ask": answer, "search": hits}, ensure_ascii=False, sort_keys=True)
                + "\n"
            )
    print(f"{len(rows)} questions → {out}")


def compare(before: Path, after: Path) -> int:
    old = before.read_text(encoding="utf-8").splitlines()
    new = after.read_text(encoding="utf-8").splitlines()
    differ = [i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
    print(f"{len(old)} vs {len(new)} questions; {len(differ)} differ")
    for i in differ[:10]:
        a, b = json.loads(old[i]), json.loads(new[i])
        keys = sorted(k for part in ("ask", "search") for k in set(a[part]) | set(b[part]) if a[part].get(k) != b[part].get(k))
        print(f"  line {i + 1}: {a['question']} — {keys}")
    return 0 if not differ and len(old) == len(new) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        raise SystemExit(compare(*args.compare))
    if not (args.index_dir and args.questions and args.out):
        parser.error("give --index-dir, --questions and --out (or --compare BEFORE AFTER)")
    snapshot(args.index_dir, args.questions, args.out)


if __name__ == "__main__":
    main()
