"""Question answering over Chinese documents that always shows its evidence.

Data flows one way: ``Document`` (documents) → ``Chunk`` (chunking) →
``Question`` (question) → ``Hit`` (retrieval) → ``Answer`` (answer), and in the
generative mode ``LLMResult`` (llm, checked by verify). ``Rag`` (api) ties them
together.

This module is the library's only door: the front ends (the CLI, the web app,
the HTTP API in ``ui/``) import what they need from here and never from the
modules behind it, so those can change without breaking a screen.
"""

from .answer import REFUSALS, Answer, AnswerSpan, Citation
from .api import CompactReport, IngestReport, Progress, QuestionError, Rag
from .chunking import Chunk
from .conversation import Message, Resolution, answer_message
from .dates import Period, check_day
from .documents import BODY, CAPTION, HEADING, PARAGRAPH_SEPARATOR, SUPPORTED_SUFFIXES, Document, IngestError, Paragraph
from .embedding import EmbeddingError, register_encoder
from .evaluation import evaluate_path, format_report
from .llm import FallbackReason, LLMDelta, LLMError, LLMEvent, LLMResult, result_to_dict
from .offline_model import ModelSourceError, ensure_model, model_info
from .question import Question
from .retrieval import Hit, Report
from .serialize import answer_span_to_dict, answer_to_dict, citation_to_dict, hit_to_dict, search_to_dict
from .settings import (
    DEFAULT_MODEL_ID,
    AnswerMode,
    EmbedBackend,
    Fusion,
    RetrievalMode,
    Settings,
    Unsupported,
    env_name,
    load_settings,
)
from .sharding import Shard
from .store import IndexCorrupt, IndexMismatch, IndexMissing
from .verify import SentenceVerdict, Verification

__all__ = [
    "BODY",
    "CAPTION",
    "DEFAULT_MODEL_ID",
    "HEADING",
    "PARAGRAPH_SEPARATOR",
    "REFUSALS",
    "SUPPORTED_SUFFIXES",
    "Answer",
    "AnswerMode",
    "AnswerSpan",
    "Chunk",
    "Citation",
    "Document",
    "EmbedBackend",
    "EmbeddingError",
    "FallbackReason",
    "Fusion",
    "Hit",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexMissing",
    "IngestError",
    "CompactReport",
    "IngestReport",
    "LLMDelta",
    "LLMError",
    "LLMEvent",
    "LLMResult",
    "Message",
    "ModelSourceError",
    "Paragraph",
    "Period",
    "Progress",
    "Question",
    "Report",
    "QuestionError",
    "Rag",
    "Resolution",
    "Shard",
    "RetrievalMode",
    "SentenceVerdict",
    "Settings",
    "Unsupported",
    "Verification",
    "answer_message",
    "answer_span_to_dict",
    "answer_to_dict",
    "check_day",
    "citation_to_dict",
    "ensure_model",
    "env_name",
    "evaluate_path",
    "format_report",
    "hit_to_dict",
    "load_settings",
    "model_info",
    "register_encoder",
    "result_to_dict",
    "search_to_dict",
]
