"""Shared fixtures: the real model and a real seed index, or a fake embedder and the same index built with it.

The seed index is built once per session and copied for tests that change it,
so no test depends on another's side effects or on run order.

Two tiers. Tests that need the real embedding model, a browser, a subprocess
CLI or the llama.cpp server are marked ``slow`` here, automatically, from the
fixtures they take (see ``SLOW_FIXTURES``) or because their module runs the CLI
in a subprocess; ``pytest -m "not slow"`` runs the rest in seconds. The quick
tier gets its vectors from ``CharNgramEncoder`` (tests/helpers.py), registered
below under ``FAKE_MODEL`` through ``rag.embed.embedding.register_encoder`` — the
same extension point a user would use — so the pipeline logic (ingest, FAISS,
BM25, fusion, answers, the manifest) runs for real, only the model is fake.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import helpers  # noqa: E402
from helpers import FAKE_MODEL, LLM_MODEL_PACKAGE, OTHER_FAKE_MODEL, ROOT, SEEDS, SHARED_DATA, CharNgramEncoder, missing_for_llm_server  # noqa: E402,F401
from rag import LLMError, Rag, Settings, load_settings  # noqa: E402
from rag.embed.embedding import register_encoder  # noqa: E402
from ui.llm_server import died, free_port, serve_local, wait_ready  # noqa: E402

#: Fixtures that load the real model, start a browser or app server, or need llama.cpp.
SLOW_FIXTURES = frozenset(
    {"seed_index_dir", "seed_rag", "fresh_index", "st_model", "built_model", "browser", "session", "server", "llm_app", "llm_server", "llm_process"}
)
#: Fixtures that need the real llama.cpp server; `scripts/test.sh` runs these last, after building it.
LLM_SERVER_FIXTURES = frozenset({"llm_server", "llm_app", "llm_process"})

#: Modules whose import means the real embedding model was loaded.
REAL_MODEL_MODULES = ("sentence_transformers",)

# Registered at import, before any test builds a Rag: the CLI tests run `main()`
# in this process with RAG_EMBED_MODEL=FAKE_MODEL and find it here.
register_encoder(FAKE_MODEL, lambda settings: CharNgramEncoder())
register_encoder(OTHER_FAKE_MODEL, lambda settings: CharNgramEncoder())

_QUICK = pytest.StashKey[bool]()
_LOADED = pytest.StashKey[list[str]]()


# --------------------------------------------------------------------------- markers


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: it must see the markers added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = getattr(item, "module", None)
        runs_cli = module is not None and getattr(module, "run_cli", None) is helpers.run_cli
        if fixtures & SLOW_FIXTURES or runs_cli:
            item.add_marker(pytest.mark.slow)
        if fixtures & LLM_SERVER_FIXTURES:
            item.add_marker(pytest.mark.llm_server)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Remember whether this run is quick-tier only, so the end of the session can check its promise."""
    session.config.stash[_QUICK] = bool(session.items) and not any(item.get_closest_marker("slow") for item in session.items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A quick-tier run that loaded the real model fails: some test needs a ``slow`` mark."""
    if not session.config.stash.get(_QUICK, False):
        return
    loaded = [name for name in REAL_MODEL_MODULES if name in sys.modules]
    if loaded:
        session.config.stash[_LOADED] = loaded
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """Say what the quick tier promised, so a reader of the log can trust its speed is not luck."""
    if not config.stash.get(_QUICK, False) or exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return
    loaded = config.stash.get(_LOADED, [])
    if loaded:
        terminalreporter.write_line(
            f"error: no selected test is marked slow, yet {', '.join(loaded)} was imported: mark the test that loads the real model slow",
            red=True,
            bold=True,
        )
    else:
        terminalreporter.write_line("quick tier: the real embedding model was not loaded (sentence_transformers not imported)")


# --------------------------------------------------------------------------- the real model


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


# --------------------------------------------------------------------------- the fake embedder


def fake_settings_for(index_dir: Path, **overrides: object) -> Settings:
    """Settings (``RAG_*`` honoured) with the fake embedder, for fixtures of any scope."""
    return load_settings(**{"index_dir": str(index_dir), "embed_model": FAKE_MODEL, **overrides})


@pytest.fixture
def fake_settings(tmp_path: Path) -> Callable[..., Settings]:
    """``fake_settings(index_dir=tmp_path / "index", **overrides)``: settings using the fake embedder."""

    def make(index_dir: Path | None = None, **overrides: object) -> Settings:
        return fake_settings_for(index_dir or tmp_path / "index", **overrides)

    return make


@pytest.fixture(scope="session")
def fake_seed_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed articles indexed with the fake embedder: built in well under a second."""
    index_dir = tmp_path_factory.mktemp("fake-seed-index")
    Rag(fake_settings_for(index_dir)).ingest([SEEDS])
    return index_dir


@pytest.fixture(scope="session")
def fake_rag(fake_seed_index_dir: Path) -> Rag:
    """A read-only Rag over the fake seed index; tests that write use ``fake_fresh_index``."""
    return Rag(fake_settings_for(fake_seed_index_dir))


@pytest.fixture
def fake_fresh_index(fake_seed_index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the fake seed index that a test may change."""
    target = tmp_path / "fake-index"
    shutil.copytree(fake_seed_index_dir, target)
    return target


# --------------------------------------------------------------------------- a local news site


@pytest.fixture
def local_site() -> Iterator[Any]:
    """The news site of tests/websites.py on a free loopback port, for one test (a ``websites.Site``)."""
    from websites import LocalSite

    with LocalSite() as site:
        yield site


# --------------------------------------------------------------------------- llama.cpp


@pytest.fixture(scope="session")
def llm_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen, Path, Settings]]:
    """A llama.cpp server with Gemma 270M on a free loopback port, 2 threads, short answers from 1 passage:
    (its process, its log file, the settings that use it)."""
    reason = missing_for_llm_server()
    if reason:
        pytest.skip(reason)
    log_path = tmp_path_factory.mktemp("llm") / "server.log"
    with log_path.open("w") as log:
        process, env = serve_local(LLM_MODEL_PACKAGE, port=free_port(), threads=2, n_ctx=4096, log=log)
        try:
            wait_ready(env["RAG_LLM_BASE_URL"], process, timeout_s=180, log_path=log_path)
        except LLMError as exc:
            process.kill()
            pytest.fail(f"{exc}\n{log_path.read_text()[-3000:]}")
        settings = load_settings(llm_base_url=env["RAG_LLM_BASE_URL"], llm_model=env["RAG_LLM_MODEL"], llm_timeout_s=120, llm_max_tokens=24, llm_passages=1)
        yield process, log_path, settings
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def llm_server(llm_process: tuple[subprocess.Popen, Path, Settings]) -> Settings:
    """The settings that use the session's llama.cpp server."""
    return llm_process[2]


@pytest.fixture(autouse=True)
def llm_server_alive(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that uses the llama.cpp server fails with how the server ended (its signal or status and
    the last lines of its log) when it dies, before or during the test, not with a later connection error."""
    if "llm_process" not in request.fixturenames:
        yield
        return
    process, log_path, _ = request.getfixturevalue("llm_process")
    gone = died(process, log_path.read_text(encoding="utf-8", errors="replace"))
    if gone:
        pytest.fail(f"before this test, {gone}", pytrace=False)
    yield
    gone = died(process, log_path.read_text(encoding="utf-8", errors="replace"))
    if gone:
        pytest.fail(f"during this test, {gone}", pytrace=False)


@pytest.fixture
def fake_model_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run in-process see the fake model, and print messages rather than tracebacks."""
    monkeypatch.setenv("RAG_EMBED_MODEL", FAKE_MODEL)
    monkeypatch.delenv("RAG_DEBUG", raising=False)
