"""How long a fresh `rag ask` takes on the seed index: a new process each time, as a user types it.

Everything a first question pays is inside: Python imports, jieba's dictionaries,
the encoder, the index, the answer. Prints wall and CPU seconds (user + system)
per run, their medians, and the load average, since wall time on a shared
machine says more about the neighbours than about the product:

    .venv/bin/python scripts/bench_fresh_ask.py [--runs 5] [--question "..."]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "工行推出了多少项普惠金融API开放服务？"


def cli(*args: str, env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall s, CPU s, the finished process) for one `rag` command in a new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-fresh-") as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_INDEX_DIR": tmp, "PYTHONPATH": str(ROOT)}
        _, _, built = cli("ingest", str(ROOT / "seeds"), env=env)
        if built.returncode:
            print(built.stderr, file=sys.stderr)
            return 1
        cli("ask", args.question, env=env)  # once unmeasured: the OS file cache and jieba's own cache warm
        walls, cpus = [], []
        for run in range(1, args.runs + 1):
            wall, cpu, done = cli("ask", args.question, env=env)
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return 1
            walls.append(wall)
            cpus.append(cpu)
            print(f"run {run}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"fresh `rag ask` on the seed index: median {statistics.median(walls):.2f} s wall, "
        f"{statistics.median(cpus):.2f} s CPU over {args.runs} runs ({os.cpu_count()} cores, load average {load})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
