"""``rag chat``: a conversation in the terminal, each question read with the ones before it.

The loop keeps the history as OpenAI-style messages (the assistant turns also
carry the documents they cited, the tie-breaker for the next follow-up), shows
what a follow-up was understood as, and leaves on end of input or Ctrl-C
without a traceback. ``/new`` starts over; ``/sources`` shows the last answer's
citations in full.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rag import QuestionError

#: answer(question, history) -> the answer's JSON contract (rag.answer_to_dict or rag.result_to_dict).
Answerer = Callable[[str, list[dict[str, Any]]], dict[str, Any]]

BANNER = "Ask a question; /new starts a new conversation, /sources shows the last citations, Ctrl-D leaves.\n请提问；/new 开始新对话，/sources 查看上一答案的出处，Ctrl-D 退出。"
PROMPT = "> "
UNDERSTOOD = {"en": "Understood as: ", "zh-hant": "理解為：", "zh-hans": "理解为："}
NEW = "New conversation / 新对话"
NO_SOURCES = "No citations yet / 还没有出处"
QUIT = frozenset({"/quit", "/exit", "/q"})


def sources_text(data: dict[str, Any]) -> str:
    """The cited passages of one answer, each with its quoted sentence."""
    lines = []
    for source in data.get("citations") or []:
        lines.append(f"[{source['n']}] {source['title']} — {source['doc']}, ¶{source['paragraph']}")
        lines.append(f"    {source.get('quote') or source['text'][:120]}")
    return "\n".join(lines) or NO_SOURCES


def turn_messages(question: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The user's question and the answer as history messages (the answer names the documents it cited)."""
    cited = list(dict.fromkeys(c["doc"] for c in data.get("citations") or []))
    return [{"role": "user", "content": question}, {"role": "assistant", "content": data["answer"], "citations": cited}]


def chat(answer: Answerer, fmt: Callable[[dict[str, Any]], str]) -> int:
    """Read questions from stdin until end of input; print each answer with what a follow-up was understood as."""
    history: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    print(BANNER, file=sys.stderr)
    while True:
        try:
            question = input(PROMPT).strip()
            if not question:
                continue
            if question in QUIT:
                return 0
            if question == "/new":
                history, last = [], {}
                print(NEW, flush=True)
                continue
            if question == "/sources":
                print(sources_text(last), flush=True)
                continue
            try:
                data = answer(question, history)
            except QuestionError as exc:
                print(f"error: {exc}", file=sys.stderr, flush=True)
                continue
            if data.get("history_used"):
                print(UNDERSTOOD.get(data.get("language", ""), UNDERSTOOD["zh-hans"]) + data["standalone_question"], flush=True)
            print(fmt(data) + "\n", flush=True)
            history += turn_messages(question, data)
            last = data
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
