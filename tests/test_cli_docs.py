"""Every CLI command and option is documented in README.md, and README's commands match .ci/run."""

from __future__ import annotations

import argparse

from helpers import ROOT
from ui.cli import build_parser

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "rag") -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((f"{prefix} {name}", sub))
                found.extend(_commands(sub, f"{prefix} {name}"))
    return found


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(build_parser())
    assert len(commands) >= 10
    leaves = [(name, sub) for name, sub in commands if not any(other.startswith(name + " ") for other, _ in commands)]
    missing = [name for name, _ in leaves if f"`{name}" not in README]
    assert not missing, f"undocumented commands: {missing}"


def test_every_option_is_in_the_readme() -> None:
    missing = []
    for name, sub in _commands(build_parser()):
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and option not in README:
                    missing.append(f"{name} {option}")
    assert not missing, f"undocumented options: {missing}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in README and "scripts/test.sh" in ci
    assert "bash scripts/app.sh" in README
