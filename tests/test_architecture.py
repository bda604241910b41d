"""The layout is the architecture: these tests read the source, so a shortcut fails the build.

* front ends (``ui/``: the CLI, the web app, the model launcher) import only the
  top-level ``rag`` package, never a module behind it;
* the library imports no front end and no front-end toolkit;
* no module grows past the size one reader can hold in mind;
* every setting is documented in the README's configuration table.
"""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

import pytest

from helpers import ROOT
from rag import Settings, env_name

#: "No module over about 400 lines" (DEVELOPERS.md); the test allows no slack beyond it.
MAX_LINES = 400
FRONT_END_PACKAGES = ("ui",)
FRONT_END_TOOLKITS = ("gradio", "argparse", "fastapi", "uvicorn", "starlette")


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file; relative imports are left out."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("path", modules("ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_front_ends_enter_the_library_only_by_its_front_door(path: Path) -> None:
    behind = [f"{path.name}:{line} imports {name}" for line, name in imported_modules(path) if name.startswith("rag.")]
    assert not behind, "front ends import only `rag` (add what is missing to rag/__init__.py): " + "; ".join(behind)


@pytest.mark.parametrize("path", modules("rag"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_knows_no_screen(path: Path) -> None:
    forbidden = FRONT_END_PACKAGES + FRONT_END_TOOLKITS
    wrong = [
        f"{path.name}:{line} imports {name}"
        for line, name in imported_modules(path)
        if name.split(".")[0] in forbidden
    ]
    assert not wrong, "; ".join(wrong)


def test_the_import_check_sees_what_it_should(tmp_path: Path) -> None:
    """The checker itself: a deep import and a toolkit import are found, a relative one is not."""
    sample = tmp_path / "sample.py"
    sample.write_text("import argparse\nfrom rag.store import POINTER\nfrom rag import Rag\nfrom . import labels\n")
    assert imported_modules(sample) == [(1, "argparse"), (2, "rag.store"), (3, "rag")]


@pytest.mark.parametrize("path", modules("rag") + modules("ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_too_long_to_read(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by job"


def test_every_setting_is_in_the_readme_table() -> None:
    table = (ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(RAG_[A-Z0-9_]+)`", table))
    missing = [env_name(f.name) for f in fields(Settings) if env_name(f.name) not in documented]
    assert not missing, f"settings missing from README's Configuration table: {', '.join(missing)}"
