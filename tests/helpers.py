"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"


def run_cli(*args: str, index_dir: Path | None = None, stdin: str | None = None, timeout: int = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real `rag` command in a subprocess."""
    command = [sys.executable, "-m", "rag.cli"]
    if index_dir is not None:
        command += ["--index-dir", str(index_dir)]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=full_env)
