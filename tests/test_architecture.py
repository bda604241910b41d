"""The layout is the architecture: these tests read the source, so a shortcut fails the build.

* front ends (``ui/``: the CLI, the web app, the model launcher) import only the
  top-level ``rag`` package, never a module behind it;
* the library imports no front end and no front-end toolkit;
* the library is built in layers (``LAYERS``): every import, at module level or
  inside a function, points to the module's own layer or one below, and no
  modules import each other in a circle;
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

#: "No module over about 400 lines" (docs/architecture.md); the test allows no slack beyond it.
MAX_LINES = 400
FRONT_END_PACKAGES = ("ui",)
FRONT_END_TOOLKITS = ("gradio", "argparse", "fastapi", "uvicorn", "starlette")
#: The library's layers, lowest first (docs/architecture.md): a module imports from its own layer and those below.
LAYERS = (
    ("rag.atomic", "rag.ondisk", "rag.errors"),  # files written whole, arrays read by position, the error family
    ("rag.text",),  # folding, dates, needs, terms, cleaning, formats
    ("rag.settings",),
    ("rag.embed",),  # the embedder and the offline model
    ("rag.ingest", "rag.web"),  # documents, archives, chunks, stories, the pipeline and the update plan
    ("rag.store",),  # the embedded (FAISS + BM25) and Milvus stores
    ("rag.search",),  # the analysed question, hybrid retrieval
    ("rag.answer",),  # sentence scoring, the extractive answer, conversations, serialisation
    ("rag.llm",),  # phrasing by a model, and the verifier
    ("rag.route", "rag.writes", "rag.collections"),  # a question's route, a write's pieces and the collections, without ``Rag``'s state
    ("rag.api",),  # ``Rag``: the route of a question and of a write
    ("rag.eval", "rag.feeds"),  # measuring the product through ``Rag``; feeds kept up to date through it
    ("rag",),  # the front door: re-exports only
)


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
    wrong = [f"{path.name}:{line} imports {name}" for line, name in imported_modules(path) if name.split(".")[0] in forbidden]
    assert not wrong, "; ".join(wrong)


def test_the_import_check_sees_what_it_should(tmp_path: Path) -> None:
    """The checker itself: a deep import and a toolkit import are found, a relative one is not."""
    sample = tmp_path / "sample.py"
    sample.write_text("import argparse\nfrom rag.store import POINTER\nfrom rag import Rag\nfrom . import labels\n")
    assert imported_modules(sample) == [(1, "argparse"), (2, "rag.store"), (3, "rag")]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of the library's own modules in ``path``, relative ones resolved,
    function-level and TYPE_CHECKING ones included; ``from package import submodule`` names the submodule."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "rag"]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target.split(".")[0] != "rag":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                is_module = (ROOT / Path(*sub.split("."))).with_suffix(".py").exists() or (ROOT / Path(*sub.split("."))).is_dir()
                found.append((node.lineno, sub if is_module else target))
    return found


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of the longest prefix that names ``module``'s layer."""
    best, level = -1, -1
    for index, members in enumerate(LAYERS):
        for member in members:
            if (module == member or module.startswith(member + ".")) and len(member) > best:
                best, level = len(member), index
    assert level >= 0, f"{module} is in no layer: add it to LAYERS"
    return level


@pytest.mark.parametrize("path", modules("rag"), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_points_down_the_layers(path: Path) -> None:
    here = layer_of(module_name(path))
    upward = [f"{path.name}:{line} imports {target}" for line, target in library_imports(path) if layer_of(target) > here]
    assert not upward, f"{module_name(path)} (layer {LAYERS[here][0]}) imports from a layer above it: " + "; ".join(upward)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = {module_name(p): {t for _line, t in library_imports(p)} - {module_name(p)} for p in modules("rag")}
    graph = {m: {t for t in targets if t in graph} for m, targets in graph.items()}
    assert not import_cycles(graph), f"import circles: {import_cycles(graph)}"


def test_the_layer_and_circle_checks_see_what_they_should(tmp_path: Path) -> None:
    """The checkers themselves: a relative import inside a function is resolved, a circle is found."""
    assert (ROOT / "rag/api.py").exists()
    imports = dict((t, line) for line, t in library_imports(ROOT / "rag" / "api.py"))
    assert "rag.llm.rewrite" in imports, "the function-level import of the LLM rewrite is seen"
    assert layer_of("rag.store.segment") == layer_of("rag.store") > layer_of("rag.ingest.documents")
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("path", modules("rag") + modules("ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_too_long_to_read(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by job"


def test_every_setting_is_in_the_readme_table() -> None:
    table = (ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(RAG_[A-Z0-9_]+)`", table))
    missing = [env_name(f.name) for f in fields(Settings) if env_name(f.name) not in documented]
    assert not missing, f"settings missing from README's Configuration table: {', '.join(missing)}"
