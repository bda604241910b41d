"""The one place where the web app catches errors, and how it words them.

Every event handler in ``ui.handlers`` is declared with ``@handler(outputs=…,
on_error=…)``: the outputs it may update (by component name) and what to show
when it fails. A failure anywhere inside is caught here, its traceback logged to
stderr, and turned into a message in the session's language by
``error_message``: a question the library refuses to take (``QuestionError``)
keeps the library's own words, a missing, unreadable or mismatched index says so
and what to do, another of the library's errors (``RagError``) gives its message
in the session's language, anything else gets a general apology. The browser never sees a traceback, and no failure
is hidden behind an empty result.
"""

from __future__ import annotations

import functools
import inspect
import sys
import traceback
from collections.abc import Callable, Iterator
from html import escape
from typing import Any, TypeVar

from rag import Kind, QuestionError, RagError

from .labels import label, language

#: (the exception, the failed handler's arguments by name) → what to show instead.
OnError = Callable[[BaseException, dict[str, Any]], Any]
F = TypeVar("F", bound=Callable[..., Any])

#: Kinds of the library's errors whose message says what to do; their tracebacks are not worth logging.
EXPECTED = frozenset({Kind.INPUT, Kind.NO_INDEX})
#: Kinds the app words itself (with what to do in the app), not with the library's message.
KIND_LABELS = {Kind.NO_INDEX: "error_no_index", Kind.INDEX_CORRUPT: "error_index_corrupt", Kind.INDEX_MISMATCH: "error_index_mismatch"}


def log(message: str) -> None:
    print(f"[ui] {message}", file=sys.stderr, flush=True)


def error_message(exc: BaseException, lang: str, generic: str = "error_generic") -> str:
    """What the user reads about ``exc``, in ``lang``; ``generic`` is the label key for the unforeseen."""
    if isinstance(exc, QuestionError):
        return str(exc)  # "please enter a question", "too long": already in the question's language
    if isinstance(exc, RagError):
        key = KIND_LABELS.get(exc.kind)
        return label(lang, key) if key else exc.message(lang)
    return label(lang, generic)


def lang_of(arguments: dict[str, Any]) -> str:
    """The interface language among a handler's arguments (Chinese when it has none)."""
    return language(arguments.get("lang"))


def status_html(text: str, kind: str) -> str:
    """A one-line status under a control: ``kind`` is "ok" or "warn"."""
    return f'<div class="status {kind}">{escape(text)}</div>'


def status_in(name: str, generic: str = "error_action", **also: Any) -> OnError:
    """On failure, a warning in the status component ``name`` (and ``also``'s updates)."""

    def show(exc: BaseException, arguments: dict[str, Any]) -> dict[str, Any]:
        return {name: status_html(error_message(exc, lang_of(arguments), generic), "warn"), **also}

    return show


def guarded(on_error: OnError) -> Callable[[F], F]:
    """Run the function; on any exception log it and return (or, for a generator, yield) ``on_error``'s value."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        def failed(exc: Exception, args: tuple, kwargs: dict) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                arguments = dict(bound.arguments)
            except TypeError:
                arguments = {}
            if isinstance(exc, RagError) and exc.kind in EXPECTED:
                log(f"{fn.__name__}: {type(exc).__name__}: {exc}")
            else:
                log(f"{fn.__name__} failed:\n{traceback.format_exc()}")
            return on_error(exc, arguments)

        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
                try:
                    yield from fn(*args, **kwargs)
                except Exception as exc:  # the boundary: every streamed handler ends here on failure
                    yield failed(exc, args, kwargs)

            return stream  # type: ignore[return-value]

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # the boundary: every other handler ends here on failure
                return failed(exc, args, kwargs)

        return call  # type: ignore[return-value]

    return decorate


def handler(outputs: tuple[str, ...], on_error: OnError) -> Callable[[F], F]:
    """An event handler: guarded, and ``fn.outputs`` names the components its returned dicts may update."""

    def decorate(fn: F) -> F:
        wrapped = guarded(on_error)(fn)
        wrapped.outputs = tuple(outputs)  # type: ignore[attr-defined]
        return wrapped

    return decorate


def outputs_of(fn: Callable[..., Any]) -> tuple[str, ...]:
    """The component names a ``@handler`` may update (none for a plain function)."""
    return tuple(getattr(fn, "outputs", ()))
