"""Question answering over Chinese documents that always shows its evidence.

Data flows one way: ``Document`` (ingest.documents) → ``Chunk`` (ingest.chunking)
→ ``Question`` (search.question) → ``Hit`` (search.retrieval) → ``Answer``
(answer.compose), and in the generative mode ``LLMResult`` (llm, checked by
llm.verify). ``Rag`` (api) ties them together.

The library is built in layers, each importing only from those below it:
text → settings → embed → ingest → store → search → answer → llm → api → eval
(docs/architecture.md; tests/test_architecture.py holds it to that).

This module is the library's only door: the front ends (the CLI, the web app,
the HTTP API in ``ui/``) import what they need from here and never from the
modules behind it, so those can change without breaking a screen.
"""

from .answer.compose import REFUSALS, Answer, AnswerSpan, Citation
from .answer.conversation import Message, Resolution, answer_message
from .answer.serialize import answer_span_to_dict, answer_to_dict, citation_to_dict, hit_to_dict, search_to_dict
from .api import CompactReport, IngestReport, Progress, Rag
from .collections import Collection
from .collections import create as create_collection
from .collections import delete as delete_collection
from .collections import listing as list_collections
from .collections import names as collection_names
from .embed.embedding import register_encoder
from .embed.offline_model import ensure_model, model_info
from .errors import (
    CollectionError,
    CollectionMissing,
    EmbeddingError,
    FetchError,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    IngestError,
    InputError,
    Kind,
    LLMError,
    MissingFile,
    ModelSourceError,
    QuestionError,
    RagError,
    SettingsError,
)
from .eval.evaluation import evaluate_path, format_report
from .feeds import FeedUpdate, add_feed, ingest_urls, list_feeds, remove_feed, start_refresher, update_feeds
from .ingest.chunking import Chunk
from .ingest.documents import BODY, CAPTION, HEADING, PARAGRAPH_SEPARATOR, SUPPORTED_SUFFIXES, Document, Paragraph
from .ingest.sharding import Shard
from .llm import FallbackReason, LLMDelta, LLMEvent, LLMResult, reply_to_dict, result_to_dict
from .llm.verify import SentenceVerdict, Verification
from .route import Found
from .search.question import Question
from .search.retrieval import Hit, Report
from .settings import (
    COLLECTION_NAME,
    DEFAULT_COLLECTION,
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
from .store.listing import MAX_PAGE, PAGE_SIZE, DocumentPage, DocumentRow, Listing
from .text.dates import Period, check_day
from .web.fetch import is_web_url
from .web.registry import FeedState

__all__ = [
    "COLLECTION_NAME",
    "DEFAULT_COLLECTION",
    "Collection",
    "CollectionError",
    "CollectionMissing",
    "collection_names",
    "create_collection",
    "delete_collection",
    "list_collections",
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
    "DocumentPage",
    "DocumentRow",
    "EmbedBackend",
    "EmbeddingError",
    "FallbackReason",
    "FetchError",
    "FeedUpdate",
    "FeedState",
    "Found",
    "Fusion",
    "Hit",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexMissing",
    "IngestError",
    "InputError",
    "Kind",
    "CompactReport",
    "IngestReport",
    "LLMDelta",
    "LLMError",
    "LLMEvent",
    "LLMResult",
    "Listing",
    "MAX_PAGE",
    "Message",
    "MissingFile",
    "ModelSourceError",
    "PAGE_SIZE",
    "Paragraph",
    "Period",
    "Progress",
    "Question",
    "Report",
    "QuestionError",
    "RagError",
    "Rag",
    "Resolution",
    "Shard",
    "RetrievalMode",
    "SentenceVerdict",
    "Settings",
    "SettingsError",
    "Unsupported",
    "Verification",
    "add_feed",
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
    "ingest_urls",
    "is_web_url",
    "list_feeds",
    "load_settings",
    "model_info",
    "register_encoder",
    "remove_feed",
    "reply_to_dict",
    "result_to_dict",
    "search_to_dict",
    "start_refresher",
    "update_feeds",
]
