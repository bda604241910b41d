"""Every component whose words depend on the interface language, and how to word it.

``TEXTS`` maps a component's name (a field of ``ui.layout.Layout``) to a function
of the ``Screen`` — the language and what the words show (document count,
example questions, the conversation) — that returns the component's keyword
arguments. ``ui.layout`` builds each component with them, and the language
switch (``ui.handlers.switch_language``) sends them back as updates, one per
name: the two cannot disagree, and the switch's outputs are ``TEXTS``'s keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag import SUPPORTED_SUFFIXES, AnswerMode, RetrievalMode, Settings

from . import cards, render
from .labels import label
from .state import Turn


@dataclass(frozen=True)
class Screen:
    """What the interface's words are made of for one session at one moment."""

    lang: str
    settings: Settings
    documents: int = 0
    examples: Sequence[str] = ()
    turns: Sequence[Turn] = field(default_factory=list)
    scores: bool = False


def mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(label(lang, f"mode_{m.value}"), m.value) for m in RetrievalMode]


def answer_mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(label(lang, f"answer_mode_{m.value}"), m.value) for m in AnswerMode]


def upload_hint(lang: str, settings: Settings) -> str:
    return label(lang, "upload_hint", types=" ".join(SUPPORTED_SUFFIXES), mb=f"{settings.max_upload_mb:g}")


def llm_info(lang: str, settings: Settings) -> str:
    return label(lang, "answer_mode_info", url=settings.llm_base_url, model=settings.llm_model)


def _word(key: str, prop: str) -> Callable[[Screen], dict[str, Any]]:
    """A component whose only translated word is one label: its ``prop`` is ``label(lang, key)``."""
    return lambda s: {prop: label(s.lang, key)}


#: component name → (Screen → the keyword arguments that word it), in page order.
TEXTS: dict[str, Callable[[Screen], dict[str, Any]]] = {
    "header": lambda s: {"value": render.header_html(s.lang, s.documents)},
    "collection_picker": lambda s: {"label": label(s.lang, "collection"), "show_label": False},
    "tab_chat": _word("tab_chat", "label"),
    "tab_docs": _word("tab_docs", "label"),
    "chatbot": lambda s: {
        "value": render.chat_messages(s.turns, s.lang),
        "placeholder": label(s.lang, "chat_placeholder"),
    },
    "question": _word("question_placeholder", "placeholder"),
    "send": _word("send", "value"),
    "answer_mode": lambda s: {"choices": answer_mode_choices(s.lang), "label": label(s.lang, "answer_mode")},
    "examples": lambda s: {"value": render.examples_html(s.examples, s.lang)},
    "new_chat": _word("new_chat", "value"),
    "like": _word("like", "value"),
    "dislike": _word("dislike", "value"),
    "comment": _word("feedback_comment_placeholder", "placeholder"),
    "export": _word("export", "label"),
    "settings_box": _word("settings", "label"),
    "top_k": _word("top_k", "label"),
    "mode": lambda s: {"choices": mode_choices(s.lang), "label": label(s.lang, "mode")},
    "since": lambda s: {"label": label(s.lang, "date_since"), "info": label(s.lang, "date_range_info")},
    "until": _word("date_until", "label"),
    "show_scores": _word("show_scores", "label"),
    "llm_info": lambda s: {"value": llm_info(s.lang, s.settings)},
    "sources": lambda s: {"value": cards.sources_html(s.turns, s.lang, s.scores)},
    "upload": _word("upload_label", "label"),
    "upload_hint": lambda s: {"value": upload_hint(s.lang, s.settings)},
    "doc_query": _word("doc_query", "placeholder"),
    "doc_since": _word("doc_since", "placeholder"),
    "doc_until": _word("doc_until", "placeholder"),
    "doc_search": _word("doc_search", "value"),
    "delete_button": _word("delete", "value"),
    "doc_prev": _word("doc_prev", "value"),
    "doc_next": _word("doc_next", "value"),
}


def words(name: str, screen: Screen) -> dict[str, Any]:
    """The keyword arguments that word component ``name`` on ``screen``."""
    return TEXTS[name](screen)
