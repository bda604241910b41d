"""The HTTP API's request and response shapes, as pydantic models: they make ``/openapi.json``.

Requests are checked here (types, ranges, lengths) so that a handler only sees
well-formed values; a bad request is a 400 in OpenAI's error shape
(``ui.api_support``). Responses are the CLI's JSON contracts (``rag ask --json``,
``rag search --json``), described loosely enough that the library may add keys.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag import AnswerMode, RetrievalMode

#: The most messages one chat request may carry (the body size bounds their length).
MAX_MESSAGES = 200
#: The most passages one request may ask for.
MAX_TOP_K = 50
#: A day as the date filters take it (the library checks it is a real date).
DAY = r"^\d{4}-\d{2}-\d{2}$"


class ErrorBody(BaseModel):
    message: str
    type: str
    code: str | None = None
    param: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error shape: ``{"error": {"message", "type", "code"}}``."""

    error: ErrorBody


class TextPart(BaseModel):
    """One part of a message's content in OpenAI's list form; only text parts are read."""

    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class Options(BaseModel):
    """What every asking endpoint accepts besides the question: how many passages, which channels, which answer."""

    model_config = ConfigDict(extra="ignore")
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K, description="passages shown (default RAG_TOP_K)")
    mode: RetrievalMode | None = Field(default=None, description="retrieval channels (default RAG_RETRIEVAL_MODE)")
    answer_mode: AnswerMode | None = Field(default=None, description="extractive or llm (default RAG_ANSWER_MODE)")
    since: str | None = Field(default=None, pattern=DAY, description="only documents published on or after this day, YYYY-MM-DD (default RAG_SINCE)")
    until: str | None = Field(default=None, pattern=DAY, description="only documents published on or before this day, YYYY-MM-DD (default RAG_UNTIL)")
    collection: str | None = Field(default=None, description="the collection to answer from (default: the one the server was started with)")


class HistoryMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str
    citations: list[str] | None = Field(
        default=None,
        max_length=MAX_MESSAGES,
        description="an assistant turn's cited document ids (the `doc` of its citations): a follow-up prefers them",
    )


class QuestionRequest(Options):
    """``POST /v1/search`` and ``/v1/ask``: a question, and optionally the conversation it was asked in."""

    question: str = Field(description="the question (at most RAG_MAX_QUESTION_CHARS characters)")
    history: list[HistoryMessage] = Field(default_factory=list, max_length=MAX_MESSAGES, description="earlier turns, oldest first")


class ChatRequest(Options):
    """``POST /v1/chat/completions``: OpenAI's request; other OpenAI fields are accepted and ignored."""

    model: str = Field(default="rag", description="a collection's name (`GET /v1/models` lists them) picks it; `rag` means the server's own")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES, description="the last user message is the question")
    stream: bool = False


class Citation(BaseModel):
    """One cited passage, as ``rag ask --json`` prints it."""

    model_config = ConfigDict(extra="allow")
    n: int
    doc: str
    title: str
    paragraph: int
    text: str
    quote: str
    score: float


class AskResponse(BaseModel):
    """``rag ask --json`` (in the llm answer mode also its mode, fallback and verdicts)."""

    model_config = ConfigDict(extra="allow")
    question: str
    standalone_question: str
    history_used: bool
    answer: str
    refused: bool
    citations: list[Citation]
    support: Literal["full", "partial", "none"] = Field(description="whether the cited evidence holds every qualifier the question names")
    missing: list[str] = Field(default_factory=list, description="the question's phrases the evidence does not support (support partial)")
    more: list[Citation] = Field(default_factory=list, description="further supporting quotes, not part of the answer text")


class SearchHit(BaseModel):
    model_config = ConfigDict(extra="allow")
    rank: int
    doc: str
    title: str
    paragraph: int
    text: str
    score: float


class SearchResponse(BaseModel):
    """``rag search --json``, plus what was searched when the question was read in its conversation."""

    model_config = ConfigDict(extra="allow")
    question: str
    standalone_question: str
    hits: list[SearchHit]


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str


class ChatResponse(BaseModel):
    """OpenAI's ``chat.completion``, with the evidence beside the message."""

    model_config = ConfigDict(extra="allow")
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    citations: list[Citation]
    standalone_question: str
    refused: bool


class DocumentInfo(BaseModel):
    doc: str
    title: str
    sha256: str
    paragraphs: int
    file_name: str


class DocumentList(BaseModel):
    documents: list[DocumentInfo]


class UploadResponse(BaseModel):
    """What an upload did: the saved name (renamed when taken) and whether it was added, updated or unchanged."""

    doc: str
    status: Literal["added", "updated", "unchanged"]
    renamed: bool
    chunks: int
    documents: list[DocumentInfo]


class DeleteResponse(BaseModel):
    deleted: list[str]
    documents: list[DocumentInfo]


class ModelCard(BaseModel):
    """A collection, as OpenAI lists a model: ``model`` in a chat request names it."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    documents: int


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok", "no_index"]
    generation: str
    documents: int
    chunks: int
    model: str


def model_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
