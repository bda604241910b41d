"""Optional generative answers, shown only as far as the citation verifier confirms them.

Three parts, one job each: ``prompt`` (what the model is told), ``client`` (an
OpenAI-compatible endpoint, every failure one ``LLMError``) and ``select``
(verifying the model's text and choosing what to show, or why not).
"""

from ..errors import LLMError
from .client import stream_chat
from .prompt import NO_ANSWER, build_messages, is_no_answer, passage_block
from .select import (
    FallbackReason,
    LLMDelta,
    LLMEvent,
    LLMResult,
    finish,
    generate_answer,
    llm_answer,
    passages_read,
    relevance,
    reply_to_dict,
    result_to_dict,
    verified_citations,
)

__all__ = [
    "NO_ANSWER",
    "FallbackReason",
    "LLMDelta",
    "LLMError",
    "LLMEvent",
    "LLMResult",
    "build_messages",
    "finish",
    "generate_answer",
    "is_no_answer",
    "llm_answer",
    "passage_block",
    "passages_read",
    "relevance",
    "reply_to_dict",
    "result_to_dict",
    "stream_chat",
    "verified_citations",
]
