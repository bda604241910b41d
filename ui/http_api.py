"""The HTTP API of ``rag serve``: OpenAI's chat protocol and the CLI's JSON contracts, beside the app.

``create_api(app)`` makes the FastAPI application that ``ui.app.serve`` mounts
the Gradio app into, so both share one process, one port and one loaded model:

* ``POST /v1/chat/completions`` — OpenAI-compatible, streaming or not;
* ``POST /v1/search``, ``POST /v1/ask`` — ``rag search|ask --json``;
* ``GET|POST /v1/documents``, ``DELETE /v1/documents/{id}`` — the index, with the app's upload checks;
* ``GET /healthz`` — the index generation, its size and the model (open to all);
* ``/login``, ``/logout`` — the sign-in page of every locked door (``ui.access``).

Who may call lives in ``ui.access``; limits and the error shape in ``ui.api_support``, the shapes in
``ui.api_models``, the chat mapping in ``ui.api_chat``. Like every front end it
imports only ``rag``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from rag import (
    SUPPORTED_SUFFIXES,
    CollectionMissing,
    Kind,
    RagError,
    list_collections,
    reply_to_dict,
    search_to_dict,
)

from . import access, api_chat, login
from .api_models import (
    AskResponse,
    ChatRequest,
    ChatResponse,
    DeleteResponse,
    DocumentList,
    ErrorResponse,
    Health,
    ModelList,
    Options,
    QuestionRequest,
    SearchResponse,
    UploadResponse,
)
from .api_support import Admission, ApiError, BodyLimit, error_response
from .constants import RETRY_AFTER_S
from .state import App

#: The status of each kind of library error (``rag.Kind``): whose fault, and whether waiting helps.
KIND_STATUS = {
    Kind.INPUT: 400,
    Kind.NO_INDEX: 503,  # with Retry-After: documents may be on their way
    Kind.INDEX_MISMATCH: 409,  # the index conflicts with the configured model: `rag ingest` rebuilds it
    Kind.INDEX_CORRUPT: 503,
    Kind.UNAVAILABLE: 503,
    Kind.SETTINGS: 500,
}
#: Extra room over the upload limit for the multipart framing around the file.
MULTIPART_SLACK = 64 * 1024
#: Bytes a sign-in form may carry (a user name, a password or key, the page to return to).
LOGIN_BODY_LIMIT = 16 * 1024
#: Statuses every /v1 route may answer, documented in the schema.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    **{code: {"model": ErrorResponse} for code in (400, 401, 413)},
    403: {"model": ErrorResponse, "description": "the key may not use this collection (or may only read)"},
    404: {"model": ErrorResponse, "description": "no such collection (or document)"},
    409: {"model": ErrorResponse, "description": "the index was built with another embedding model: run `rag ingest` to rebuild it"},
}
#: The ``model`` an OpenAI client sends when it names no collection: the server's own.
CHAT_MODEL = "rag"
#: What a route that changes the index may also answer: a read-only key is refused.
WRITES: dict[int | str, dict[str, Any]] = {403: {"model": ErrorResponse, "description": "the key may only read"}}
BUSY: dict[int | str, dict[str, Any]] = {503: {"model": ErrorResponse, "description": "queue full; see Retry-After"}}

VERSION = "1"
#: The multipart field of an upload (at module level: the route annotations are read from here).
FILE_FIELD = File(description=f"one of {' '.join(SUPPORTED_SUFFIXES)}")


def create_api(app: App) -> FastAPI:
    """The API over ``app``'s library object, behind ``app.access``'s gate; limits from its settings.

    The gate is the outermost middleware, so it also guards the Gradio app mounted into this one.
    """
    settings = app.settings
    admission = Admission(settings.api_concurrency, settings.api_queue_size)
    upload_limit = int(settings.max_upload_mb * 1024 * 1024) + MULTIPART_SLACK
    api = FastAPI(
        title="有据可查 · Cited answers API",
        version=VERSION,
        description="Answers from the indexed Chinese documents, every sentence cited. "
        "`/v1/chat/completions` speaks OpenAI's chat protocol; the rest are the `rag` CLI's JSON contracts.",
    )

    def limit_for(method: str, path: str) -> int | None:
        if path.rstrip("/") == "/login" and method == "POST":
            return LOGIN_BODY_LIMIT
        if method not in ("POST", "PUT", "PATCH") or not (path.startswith("/v1/") or path == "/v1"):
            return None
        return upload_limit if path.rstrip("/") == "/v1/documents" else settings.api_max_body_kb * 1024

    api.add_middleware(BodyLimit, limit_for=limit_for)
    sessions = access.Sessions()
    api.add_middleware(access.Gate, access=app.access, sessions=sessions)  # added last: runs first
    login.add_routes(api, app.access, sessions)
    _errors(api)
    v1 = APIRouter(prefix="/v1", responses=COMMON_ERRORS)

    def target(request: Request, name: str | None, write: bool = False) -> App:
        """The app of collection ``name`` (the server's own without one), if the caller's key may use it."""
        plain = not name or (name == CHAT_MODEL and name not in app.collections())
        chosen = app.in_collection(None if plain else name)
        credential = request.scope.get("state", {}).get(access.STATE_KEY)
        if app.access.locked and not (isinstance(credential, access.Credential) and credential.grant.allows(chosen.collection, write)):
            raise ApiError(
                403, f"This key may not {'change' if write else 'use'} the collection {chosen.collection!r}. / 此密钥无权访问该文档集", "collection_forbidden"
            )
        return chosen

    def answer(chosen: App, question: str, history: list[dict[str, Any]], options: Options) -> dict[str, Any]:
        """The ``rag ask --json`` dict; in the llm answer mode the verified result's."""
        rag = chosen.rag
        return reply_to_dict(rag.reply(question, history, options.top_k, options.mode, options.since, options.until, options.answer_mode))

    @v1.get("/models", response_model=ModelList)
    async def models(request: Request) -> Any:
        """The collections this key may read, as OpenAI lists models: ``model`` in a chat request picks one."""
        return {"object": "list", "data": await admission.run(_models, app, request.scope.get("state", {}).get(access.STATE_KEY))}

    @v1.post("/chat/completions", response_model=ChatResponse, responses={**BUSY, 200: {"content": {"text/event-stream": {}}}})
    async def chat_completions(request: ChatRequest, http: Request) -> Any:
        """OpenAI-compatible: the last user message is the question, the ones before it its conversation; ``model`` names the collection."""
        question, history = api_chat.split_messages(request.messages)
        try:
            chosen = target(http, request.collection or request.model)
        except CollectionMissing as exc:
            raise ApiError(404, str(exc), "model_not_found") from exc
        result = await admission.run(answer, chosen, question, history, request)
        if request.stream:
            return StreamingResponse(api_chat.sse_stream(result, request.model), media_type="text/event-stream")
        return api_chat.completion(result, request.model)

    @v1.post("/ask", response_model=AskResponse, responses=BUSY)
    async def ask(request: QuestionRequest, http: Request) -> Any:
        """``rag ask --json``: the answer with its citations, or a refusal with related reading."""
        return await admission.run(answer, target(http, request.collection), request.question, _history(request), request)

    @v1.post("/search", response_model=SearchResponse, responses=BUSY)
    async def search(request: QuestionRequest, http: Request) -> Any:
        """``rag search --json``: the ranked passages, searched as the question's standalone form."""
        rag = target(http, request.collection).rag

        def run() -> dict[str, Any]:
            found = rag.find(request.question, _history(request), request.top_k, request.mode, request.since, request.until)
            return {**search_to_dict(request.question, found.hits), "standalone_question": found.standalone}

        return await admission.run(run)

    @v1.get("/collections", response_model=ModelList)
    async def collections(request: Request) -> Any:
        """The collections this key may read, with their document counts (the same list as ``/v1/models``)."""
        return await models(request)

    async def documents(chosen: App) -> Any:
        return {"documents": await admission.run(_documents, chosen)}

    async def upload(chosen: App, file: UploadFile) -> Any:
        data = await file.read(upload_limit + 1)
        outcome = await admission.run(chosen.add_upload, file.filename or "upload", data)
        if outcome.status == "too_large":
            raise ApiError(413, f"{outcome.name} is {outcome.size_mb:.1f} MB; the limit is {settings.max_upload_mb:g} MB. / 文件过大", "file_too_large")
        if outcome.status == "unsupported":
            raise ApiError(415, f"{outcome.name}: only {' '.join(SUPPORTED_SUFFIXES)} files are supported. / 不支持的文件类型", "unsupported_file_type")
        if outcome.status == "parse_failed":
            raise ApiError(422, f"{outcome.name}: {outcome.reason}", "unparsable_file")
        return {
            "doc": outcome.saved,
            "status": outcome.status,
            "renamed": outcome.renamed,
            "chunks": outcome.chunks,
            "documents": await admission.run(_documents, chosen),
        }

    async def delete(chosen: App, doc_id: str) -> Any:
        deleted = await admission.run(chosen.delete, [doc_id])
        if not deleted:
            raise ApiError(404, f"No document {doc_id!r} in the index. / 索引中没有该文档", "document_not_found")
        return {"deleted": deleted, "documents": await admission.run(_documents, chosen)}

    upload_errors = {415: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, **WRITES, **BUSY}
    delete_errors = {404: {"model": ErrorResponse}, **WRITES, **BUSY}

    @v1.get("/documents", response_model=DocumentList)
    async def server_documents(request: Request) -> Any:
        """The indexed documents of the server's collection."""
        return await documents(target(request, None))

    @v1.post("/documents", response_model=UploadResponse, responses=upload_errors)
    async def server_upload(request: Request, file: Annotated[UploadFile, FILE_FIELD]) -> Any:
        """Add one file (multipart field ``file``) with the app's checks: size, type, whether it parses."""
        return await upload(target(request, None, write=True), file)

    @v1.delete("/documents/{doc_id}", response_model=DeleteResponse, responses=delete_errors)
    async def server_delete(request: Request, doc_id: str) -> Any:
        """Remove one document from the index (and its file, when it was uploaded)."""
        return await delete(target(request, None, write=True), doc_id)

    @v1.get("/collections/{name}/documents", response_model=DocumentList)
    async def collection_documents(request: Request, name: str) -> Any:
        """The indexed documents of collection ``name``."""
        return await documents(target(request, name))

    @v1.post("/collections/{name}/documents", response_model=UploadResponse, responses=upload_errors)
    async def collection_upload(request: Request, name: str, file: Annotated[UploadFile, FILE_FIELD]) -> Any:
        """Add one file to collection ``name``, with the app's checks."""
        return await upload(target(request, name, write=True), file)

    @v1.delete("/collections/{name}/documents/{doc_id}", response_model=DeleteResponse, responses=delete_errors)
    async def collection_delete(request: Request, name: str, doc_id: str) -> Any:
        """Remove one document from collection ``name``."""
        return await delete(target(request, name, write=True), doc_id)

    api.include_router(v1)

    @api.get("/healthz", response_model=Health)
    async def healthz() -> Any:
        """Whether an index is loaded, its generation and size, and the embedding model (no key needed)."""
        return await admission.run(_health, app)

    return api


def _history(request: QuestionRequest) -> list[dict[str, Any]]:
    return [{"role": m.role, "content": m.content, **({"citations": m.citations} if m.citations else {})} for m in request.history]


def _models(app: App, credential: access.Credential | None) -> list[dict[str, Any]]:
    """Each collection the caller may read, as an OpenAI model card (counts from the manifests: no documents loaded)."""
    return [
        {"id": c.name, "object": "model", "created": int(c.created), "owned_by": "rag", "documents": c.documents}
        for c in list_collections(app.settings)
        if not app.access.locked or (credential is not None and credential.grant.allows(c.name))
    ]


def _documents(app: App) -> list[dict[str, Any]]:
    return [
        {"doc": d.id, "title": d.title, "sha256": d.sha256, "paragraphs": len(d.paragraphs), "file_name": d.meta.get("file_name", d.id)}
        for d in app.rag.documents()
    ]


def _health(app: App) -> dict[str, Any]:
    rag = app.rag
    if not rag.has_index():
        return {"status": "no_index", "generation": "", "documents": 0, "chunks": 0, "model": rag.settings.embed_model}
    index = rag.index()
    return {
        "status": "ok",
        "generation": rag.generation(),
        "documents": len(index.documents),
        "chunks": index.size,
        "model": index.manifest.model,
    }


def _errors(api: FastAPI) -> None:
    """Every failure in OpenAI's error shape; the library's own messages are kept, tracebacks never shown."""

    @api.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, exc.headers)

    @api.exception_handler(RagError)
    async def library_error(request: Request, exc: RagError) -> JSONResponse:
        """The library's errors by kind: the caller's input 400, an index to rebuild 409, the rest 503."""
        status = 404 if isinstance(exc, CollectionMissing) else KIND_STATUS[exc.kind]
        retry = {"Retry-After": str(RETRY_AFTER_S)} if exc.kind == Kind.NO_INDEX else None
        return error_response(status, str(exc), exc.code, retry)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()[:5])
        return error_response(400, f"Invalid request: {problems}", "invalid_request")

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), f"http_{exc.status_code}", dict(exc.headers or {}))

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"The server failed to answer ({exc.__class__.__name__}). / 服务器内部错误", "internal_error")
