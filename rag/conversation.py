"""Follow-up questions understood from the chat, offline and deterministically.

Each question used to be searched alone, so 「总金额是多少？」 after a question
about 重庆工行's grants for poor students found nothing. ``resolve`` decides
whether a question leans on the conversation (a pronoun or demonstrative, an
elliptical 「那X呢？」, or no subject of its own) and, if so, writes the
standalone question that is actually searched: the earlier topic's key terms
the follow-up lacks, then the follow-up. A question with its own topic is
searched unchanged. The result says what was searched, so the user can see it.

History is OpenAI-style messages (``{"role": "user"|"assistant", "content": str}``);
earlier user questions are resolved in turn, so a chain of follow-ups keeps its topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jieba.posseg

from .folding import fold
from .question import key_terms

#: One chat message as OpenAI clients send it.
Message = Mapping[str, str]

#: Words that point back at something said before.
_ANAPHORA = re.compile(r"它们|他们|她们|它|其|该|这些|那些|此|上述|这个|那个|这家|那家|这项|这笔|这次|前者|后者|\b(it|they|them|its|their|this|that|these|those)\b", re.I)
#: Elliptical questions: 那X呢？ / 和X呢？ / X呢？ / what about X?
_ELLIPSIS = re.compile(r"^(那|那么|和|还有|以及|至于)?.{0,12}呢[？?]?$|^(and|what about|how about)\b", re.I)
#: Parts of speech that give a question a topic of its own: names of people, places, organisations, other proper nouns.
_TOPIC_TAGS = ("nr", "ns", "nt", "nz", "eng")
#: A question this short without a name of its own rarely stands alone (「总金额是多少？」).
SHORT_QUESTION_CHARS = 12


@dataclass(frozen=True)
class Resolution:
    """What is searched for a question asked in a conversation, and why."""

    question: str  # as the user asked it
    standalone: str  # what is searched: the question itself, or the question with the earlier topic carried in
    used_history: bool  # True when the conversation changed what is searched


def user_questions(history: Sequence[Message]) -> list[str]:
    """The user's earlier questions, oldest first (assistant turns and blank messages are skipped)."""
    return [str(m.get("content", "")).strip() for m in history if m.get("role") == "user" and str(m.get("content", "")).strip()]


def has_own_topic(question: str) -> bool:
    """True when the question names something of its own (a person, place, organisation or Latin name)."""
    return any(flag.startswith(_TOPIC_TAGS) for _word, flag in jieba.posseg.cut(fold(question)))


def is_follow_up(question: str) -> bool:
    """A question that leans on what was said before."""
    text = question.strip()
    if _ANAPHORA.search(text) or _ELLIPSIS.search(text):
        return True
    return len(text) <= SHORT_QUESTION_CHARS and not has_own_topic(text)


def carry_topic(question: str, previous: str) -> str:
    """``question`` with the key terms of ``previous`` it does not already contain put in front."""
    folded = fold(question)
    carried = [term for term in key_terms(fold(previous)) if term not in folded]
    return f"{''.join(carried)} {question}".strip() if carried else question


def resolve(question: str, history: Sequence[Message] = ()) -> Resolution:
    """The standalone question for ``question`` asked after ``history``."""
    previous = ""
    for earlier in user_questions(history):
        previous = carry_topic(earlier, previous) if previous and is_follow_up(earlier) else earlier
    if not previous or not is_follow_up(question):
        return Resolution(question, question, False)
    standalone = carry_topic(question, previous)
    return Resolution(question, standalone, standalone != question)
