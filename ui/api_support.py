"""What every HTTP API request passes through: the body size limit, the bounded queue, the error shape.

Every failure the API reports is OpenAI's error object,
``{"error": {"message", "type", "code"}}``, with a status that says whose fault
it was; nothing answers with a traceback. ``Admission`` bounds the work: at most
``api_concurrency`` answers run at once (in threads of their own limiter, so the
app's threads are not taken), at most ``api_queue_size`` requests are admitted,
and the next one gets 503 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .constants import RETRY_AFTER_S

T = TypeVar("T")

#: Each status's OpenAI error type.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "overloaded_error",
}


class ApiError(Exception):
    """A request the API answers with an error: status, a message for the caller, a stable code."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def error_body(status: int, message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "invalid_request_error"), "code": code, "param": None}}


def error_response(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, code), status_code=status, headers=headers)


# --------------------------------------------------------------------------- body size


class BodyLimit:
    """ASGI middleware: a request body over its path's limit gets 413 before any of it is parsed.

    A declared ``Content-Length`` is checked at once; a chunked body is counted
    as it arrives and read no further than the limit, so memory stays bounded.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0 or size > limit:
                await _too_large(limit, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        # no length declared: buffer up to the limit, then replay what was read
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > limit:
                await _too_large(limit, scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed() -> Message:
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)


async def _too_large(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(413, f"Request body too large: the limit is {limit // 1024} KiB. / 请求体过大", "body_too_large")
    await response(scope, receive, send)


# --------------------------------------------------------------------------- the bounded queue


class Admission:
    """At most ``concurrency`` answers at once, at most ``size`` requests admitted; beyond that, 503."""

    def __init__(self, concurrency: int, size: int) -> None:
        self.limiter = anyio.CapacityLimiter(concurrency)
        self.size = size
        self.admitted = 0  # only touched on the event loop, so no lock is needed

    def admit(self) -> None:
        if self.admitted >= self.size:
            raise ApiError(
                503,
                f"The server is busy ({self.admitted} requests queued); retry in {RETRY_AFTER_S} s. / 服务器繁忙，请稍后重试",
                "queue_full",
                {"Retry-After": str(RETRY_AFTER_S)},
            )
        self.admitted += 1

    def release(self) -> None:
        self.admitted -= 1

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread once a slot is free; refused at once when the queue is full."""
        self.admit()
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args), limiter=self.limiter)
        finally:
            self.release()
