"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"

#: The name conftest registers ``CharNgramEncoder`` under; ``RAG_EMBED_MODEL`` set to it never loads torch.
FAKE_MODEL = "fake/char-ngrams"
#: A second name for the same encoder: an index built under FAKE_MODEL must be rebuilt when switching to it.
OTHER_FAKE_MODEL = "fake/char-ngrams-v2"


def run_cli(*args: str, index_dir: Path | None = None, stdin: str | None = None, timeout: int = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real `rag` command in a subprocess."""
    command = [sys.executable, "-m", "ui.cli"]
    if index_dir is not None:
        command += ["--index-dir", str(index_dir)]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=full_env)


class CharNgramEncoder:
    """A deterministic stand-in for the embedding model: hashed character unigrams and bigrams.

    Why this shape: pipeline tests need vectors where texts sharing wording
    are near and unrelated texts are far (so retrieval and the refusal gate
    behave plausibly), computed in microseconds and identical in every
    process. Each n-gram lands in one of ``dimension`` buckets chosen by CRC-32
    (Python's ``hash`` is salted per process) with a sign from another bit of
    the same hash, so unrelated texts' collisions cancel out instead of
    piling up a positive cosine. Whitespace is skipped; nothing is folded —
    ``Embedder`` folds before encoding, as it does for the real model.
    """

    prompts: dict[str, str] = {}

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.calls = 0  # texts encoded so far, for tests about what gets (re-)embedded

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def encode(self, sentences: list[str] | str, **_options: Any) -> np.ndarray:
        """Unit rows (or one unit vector for a single string); the options ST takes are accepted and ignored."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            chars = [c for c in text if not c.isspace()]
            grams = chars + [a + b for a, b in zip(chars, chars[1:], strict=False)]
            for gram in grams:
                code = zlib.crc32(gram.encode("utf-8"))
                out[row, code % self.dimension] += 1.0 if (code >> 16) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out[0] if single else out
