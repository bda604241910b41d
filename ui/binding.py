"""Handlers as Gradio calls them: values in, tuples out, and every event in its session's collection.

A handler (``ui.handlers``) takes the shared ``App`` first and returns a dict
from component name to value; Gradio calls a function with the values of its
inputs and wants its outputs in order. ``bind`` makes the one from the other.
The first input of every event is the session's collection (a ``gr.State``):
the handler gets that collection's ``App``, after the caller's credential is
checked against it, so no handler can read or write an archive the caller's
key does not reach, whatever state a client sends.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from rag import CollectionError

from .boundary import outputs_of
from .state import App

#: The parameter a bound handler gets the caller's request in, when the handler takes none itself.
CALLER = "caller"


def bind(app: App, fn: Callable[..., Any], per_collection: bool = True) -> Callable[..., Any]:
    """``fn`` as Gradio calls it: values in, and the returned name → value dicts as tuples in the
    order of ``fn.outputs`` (names left out are skipped). With ``per_collection`` its first input is
    the session's collection, and ``fn`` gets that collection's ``App`` (else ``app`` itself);
    a handler marked ``chooses_collection`` checks the caller itself (it picks the collection)."""
    names = outputs_of(fn) if hasattr(fn, "outputs") else None
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())[1:]
    appended = per_collection and not any(p.name == "request" for p in params)
    checked = per_collection and not getattr(fn, "chooses_collection", False)

    def ordered(out: Any) -> Any:
        if names is None:
            return out
        unknown = set(out) - set(names)
        if unknown:
            raise KeyError(f"{fn.__name__} returned {sorted(unknown)}, not among its outputs {list(names)}")
        values = tuple(out.get(name, gr.skip()) for name in names)
        return values if len(values) != 1 else values[0]

    def split(args: tuple[Any, ...]) -> tuple[App, tuple[Any, ...]]:
        if not per_collection:
            return app, args
        rest = list(args[1:])
        caller = next((a for a in rest if isinstance(a, gr.Request)), None)
        if appended and rest and (rest[-1] is None or isinstance(rest[-1], gr.Request)):
            rest.pop()
        chosen = app.in_collection(args[0])
        if checked and caller is not None and not chosen.may_use(caller):
            raise CollectionError(f"these credentials may not use the collection {chosen.collection!r}", "当前凭据无权访问该文档集")
        return chosen, tuple(rest)

    if inspect.isgeneratorfunction(fn):

        def run(*args: Any, **kwargs: Any) -> Any:
            chosen, rest = split(args)
            for out in fn(chosen, *rest, **kwargs):
                yield ordered(out)

    else:

        def run(*args: Any, **kwargs: Any) -> Any:
            chosen, rest = split(args)
            return ordered(fn(chosen, *rest, **kwargs))

    # Gradio reads the signature (gr.Progress defaults, gr.EventData and gr.Request hints) and the name
    functools.update_wrapper(run, fn)
    first = [inspect.Parameter("collection", inspect.Parameter.POSITIONAL_OR_KEYWORD)] if per_collection else []
    last = [inspect.Parameter(CALLER, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation="gr.Request | None")] if appended else []
    if appended:
        run.__annotations__ = {**getattr(fn, "__annotations__", {}), CALLER: "gr.Request | None"}
    run.__signature__ = signature.replace(parameters=first + params + last)  # type: ignore[attr-defined]
    return run
