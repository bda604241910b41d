"""OpenAI's chat protocol over the library: messages in, a ``chat.completion`` (or its chunks) out.

Pure mapping, no I/O: ``split_messages`` takes the question and its history
from the messages; ``completion`` and ``chunks`` wrap an answer dict (the
``rag ask --json`` contract) in OpenAI's shapes. The message content is the
answer with its ``[n]`` markers; the evidence travels beside it, top-level
(``citations``, ``standalone_question``, ``refused``, ``support`` and ``missing``), in the final chunk when
streaming — clients that know only OpenAI's fields ignore it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from .api_models import ChatMessage
from .api_support import ApiError
from .constants import STREAM_CHUNK_CHARS

#: Roles whose messages are the conversation; system and tool messages are not questions or answers.
CONVERSATION_ROLES = ("user", "assistant")
#: The evidence keys copied beside the message, besides ``citations``.
EVIDENCE_KEYS = ("standalone_question", "history_used", "refused", "language", "support", "missing", "more")
#: The llm answer mode's keys that say what was shown and why.
LLM_KEYS = ("mode", "fallback", "fallback_reason", "fallback_code", "llm_called")


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """(the question, the history before it): the last message must be the user's."""
    last = messages[-1]
    if last.role != "user":
        raise ApiError(400, f"The last message must come from the user, not {last.role!r}. / 最后一条消息须是用户的提问", "last_message_not_user")
    history = [{"role": m.role, "content": m.text()} for m in messages[:-1] if m.role in CONVERSATION_ROLES and m.text().strip()]
    return last.text(), history


def evidence(answer: dict[str, Any]) -> dict[str, Any]:
    """What travels beside the message: the citations as ``rag ask --json`` gives them, and how it was read."""
    extra = {"citations": answer["citations"], **{k: answer[k] for k in EVIDENCE_KEYS if k in answer}}
    extra.update({k: answer[k] for k in LLM_KEYS if k in answer})
    return extra


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(answer: dict[str, Any], model: str) -> dict[str, Any]:
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer["answer"]}, "finish_reason": "stop"}],
        **evidence(answer),
    }


def pieces(text: str, size: int = STREAM_CHUNK_CHARS) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def chunks(answer: dict[str, Any], model: str) -> Iterator[dict[str, Any]]:
    """``chat.completion.chunk`` objects: the role, the answer in pieces, then the finish with the evidence."""
    head = {"id": completion_id(), "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(answer["answer"]):
        if piece:
            yield chunk({"content": piece})
    yield {**chunk({}, "stop"), **evidence(answer)}


def sse(data: dict[str, Any] | str) -> bytes:
    """One server-sent event: ``data: <json>`` and a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n".encode()


def sse_stream(answer: dict[str, Any], model: str) -> Iterator[bytes]:
    yield from (sse(c) for c in chunks(answer, model))
    yield sse("[DONE]")
