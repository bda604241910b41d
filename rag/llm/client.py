"""The HTTP client for any OpenAI-compatible chat endpoint (llama.cpp's server, vLLM, a hosted API).

Every failure — refused connection, HTTP error, slow or endless answer — becomes
one ``LLMError`` with a message naming the server, so callers fall back to the
extractive answer instead of showing a traceback.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from typing import Any, cast

from ..errors import LLMError
from ..settings import Settings


def stream_chat(messages: list[dict[str, str]], settings: Settings) -> Iterator[str]:
    """Text deltas from an OpenAI-compatible chat endpoint.

    ``timeout_s`` bounds both each network wait and the whole answer, so a
    model that trickles tokens forever is cut off too; every failure is an ``LLMError``.
    """
    try:
        import openai
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise LLMError("the openai package is not installed: pip install openai") from exc
    timeouts, failures = _transport_errors()
    timed_out: tuple[type[BaseException], ...] = (openai.APITimeoutError, *timeouts)
    failed: tuple[type[BaseException], ...] = (openai.OpenAIError, *failures)
    url, timeout = settings.llm_base_url, settings.llm_timeout_s
    client = openai.OpenAI(base_url=url, api_key=settings.llm_api_key or "none", timeout=timeout, max_retries=0)
    deadline = time.monotonic() + timeout
    try:
        # Any: the client's overloads want its TypedDict messages; plain role/content dicts are what it sends
        stream: Any = client.chat.completions.create(
            model=settings.llm_model,
            messages=cast(Any, messages),
            stream=True,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
        )
        with client, stream:
            for chunk in stream:
                if time.monotonic() > deadline:
                    raise LLMError(f"the language model at {url} did not finish within {timeout:g} s")
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield delta
    except timed_out as exc:
        raise LLMError(f"the language model at {url} did not answer within {timeout:g} s") from exc
    except failed as exc:
        raise LLMError(f"the language model at {url} failed: {exc}") from exc


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeout, other) exception classes of the HTTP libraries present: some openai versions
    raise them unwrapped while a stream is read (httpx in openai 1.x, httpx2 later)."""
    timeouts: list[type[BaseException]] = []
    failures: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        failures.append(module.HTTPError)
    return tuple(timeouts), tuple(failures)
