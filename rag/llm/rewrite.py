"""The LLM's standalone question for a follow-up, accepted only when it invents nothing.

With ``answer_mode = llm`` a model may read the conversation and write the
follow-up out in full; models do this fluently but sometimes slip in a name or
a number the user never said (a year, another city), and the search would then
look for something nobody asked about. So the rewrite is checked the way answer
sentences are (rag.llm.verify): every number, quoted name and proper name in it must
occur in the conversation or the question. Otherwise — or when the model fails —
the offline rewrite (rag.answer.conversation) stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..answer.conversation import Message
from ..errors import LLMError
from ..settings import Settings
from .client import stream_chat
from .verify import facts, has_fact, names, normalize

SYSTEM = (
    "You rewrite the user's last question so that it can be understood without the conversation. "
    "Replace pronouns and fill in what the question leaves out, using only words from the conversation. "
    "Do not answer it. Reply with the rewritten question only, in the language of the question.\n"
    "把用户的最后一个问题改写成不看对话也能看懂的完整问题：把代词和省略的部分用对话中的原词补全。不要回答问题，只输出改写后的问题。"
)
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def conversation_text(question: str, history: Sequence[Message]) -> str:
    return "\n".join([*(str(m.get("content", "")) for m in history), question])


def invented(rewrite: str, question: str, history: Sequence[Message]) -> list[str]:
    """Names and numbers of ``rewrite`` found neither in the conversation nor in the question."""
    said = normalize(conversation_text(question, history))
    claimed = [*facts(rewrite), *names(rewrite)]
    missing = [c for c in claimed if not has_fact(said, c)]
    missing += [d for d in _DIGITS.findall(normalize(rewrite)) if not re.search(rf"(?<![\d.]){re.escape(d)}(?![\d])", said)]
    return list(dict.fromkeys(missing))


def llm_rewrite(question: str, history: Sequence[Message], settings: Settings) -> str:
    """The model's standalone question, or "" when it failed or invented a name or number."""
    lines = [f"{m.get('role')}: {m.get('content', '')}" for m in history if m.get("role") in ("user", "assistant")]
    prompt = "Conversation / 对话:\n" + "\n".join(lines) + f"\n\nLast question / 最后的问题: {question}\n\nRewritten / 改写:"
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
    try:
        text = "".join(stream_chat(messages, settings))
    except LLMError:
        return ""
    rewrite = next((line.strip() for line in text.strip().splitlines() if line.strip()), "")
    rewrite = re.sub(r"^(rewritten|改写)\s*[:：]\s*", "", rewrite, flags=re.I).strip('"“”「」 ')
    if not rewrite or len(rewrite) > settings.max_question_chars or invented(rewrite, question, history):
        return ""
    return rewrite
