"""Shared fixtures: the real model, a real index of the seed articles on disk.

The seed index is built once per session and copied for tests that change it,
so no test depends on another's side effects or on run order.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from helpers import ROOT, SEEDS, SHARED_DATA  # noqa: E402,F401

from rag import Rag, load_settings  # noqa: E402


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
