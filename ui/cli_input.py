"""What ``rag`` reads besides its arguments: conversation histories and batch files, checked."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class CliError(Exception):
    """A message for the user; the command exits with status 1."""


def _history(value: Any, where: str) -> list[dict[str, str]]:
    """A conversation as OpenAI-style messages, checked: a list of {"role": "user"|"assistant", "content": str}."""
    if not isinstance(value, list) or not all(
        isinstance(m, dict) and m.get("role") in ("user", "assistant", "system") and isinstance(m.get("content"), str) for m in value
    ):
        raise CliError(f'{where}: the history must be a JSON list of {{"role": "user"|"assistant", "content": "..."}} / 对话历史格式不对')
    return [dict(m) for m in value if m["role"] != "system"]


def history_file(path: str | None) -> list[dict[str, str]]:
    if not path:
        return []
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise CliError(f"{path}: cannot read it ({exc.strerror or exc}) / 无法读取对话历史") from exc
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not JSON ({exc}) / 对话历史不是 JSON") from exc
    return _history(value, path)


def questions(batch: str) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """(question, history) per line: plain questions, or JSONL objects with ``question`` and an optional ``history``; ``-`` reads stdin."""
    try:
        handle = sys.stdin if batch == "-" else open(batch, encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"{batch}: cannot read it ({exc.strerror or exc}) / 无法读取问题文件") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    yield line, []
                    continue
                yield str(row.get("question", "")), _history(row.get("history") or [], f"{batch}:{number}")
                continue
            yield line, []
