"""Optional generative answers, shown only as far as the citation verifier confirms them.

The extractive answer (``rag.answer``) is the product's default and its safety
net. In ``answer_mode = "llm"`` a language model behind any OpenAI-compatible
endpoint (a local ``llama_cpp.server``, vLLM, a hosted API) rewrites the
answer from the same retrieved passages, and then:

* the refusal gate runs first: when the extractive answer refuses, the model
  is never called, so a fluent model cannot answer what the documents do not say;
* its text streams as deltas (a draft: nothing is verified yet), then every
  sentence is checked by ``rag.verify``; unsupported sentences are dropped or
  struck through (``llm_unsupported``), and citations point at the verified quotes;
* when no sentence survives, or the model errs or times out, the extractive
  answer is shown instead and the result says so (``fallback``).

Passage numbers are the hits' positions (1-based), so [n] in the answer, the
citation ``n`` and ``hits[n-1]`` always agree.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

from .answer import Answer, Citation, paragraph_of, coverage, key_terms
from .chunking import split_sentences
from .folding import language_of
from .retrieval import Hit
from .serialize import answer_to_dict
from .settings import UNSUPPORTED_DISPLAYS, Settings, load_settings
from .verify import Verification, apply, bare, verify

#: What the model must answer, verbatim, when the passages do not hold the answer.
NO_ANSWER = {
    "zh-hans": "资料中没有找到答案。",
    "zh-hant": "資料中沒有找到答案。",
    "en": "The documents do not contain the answer.",
}

#: Why the extractive answer stands in for the model's (``LLMResult.reason``); a model
#: error's own message is the reason when the model could not be used at all.
NO_ANSWER_FOUND = "the model found no answer in the passages"
NOTHING_VERIFIED = "no sentence of the model's answer could be verified"
OFF_THE_QUESTION = "the verified sentences do not address the question"

INSTALL_HINT = "pip install '.[local-llm]'  (or: CMAKE_ARGS=\"-DLLAVA_BUILD=OFF\" pip install 'llama-cpp-python[server]')"


class LLMError(RuntimeError):
    """The language model could not be reached, refused the request, or took too long."""


@dataclass(frozen=True)
class LLMConfig:
    """The ``llm_*`` settings in one object; the defaults are those of ``Settings`` (one place for them)."""

    base_url: str = Settings.llm_base_url
    model: str = Settings.llm_model
    api_key: str = Settings.llm_api_key
    timeout_s: float = Settings.llm_timeout_s
    max_tokens: int = Settings.llm_max_tokens
    temperature: float = Settings.llm_temperature
    passages: int = Settings.llm_passages
    unsupported: str = Settings.llm_unsupported
    min_coverage: float = Settings.llm_min_coverage
    min_relevance: float = Settings.llm_min_relevance


def llm_config(settings: Settings | None = None, **overrides: Any) -> LLMConfig:
    """The LLM part of the settings (``RAG_LLM_*``), with explicit overrides on top."""
    settings = settings or load_settings()
    values = {f.name: getattr(settings, "llm_" + f.name) for f in fields(LLMConfig)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = LLMConfig(**values)
    if config.unsupported not in UNSUPPORTED_DISPLAYS:
        raise ValueError(f"llm_unsupported must be drop or strike, not {config.unsupported!r}")
    return config


# --------------------------------------------------------------------------- prompt

_INSTRUCTIONS = {
    "zh-hans": (
        "你是严谨的问答助手，只根据下面编号的资料回答问题，不使用资料以外的知识。\n"
        "要求：\n1. 用简体中文直接回答，一到三句话，尽量照抄资料中回答问题的原句。\n"
        "2. 每句话末尾用方括号标注它所依据的资料编号，即那份资料开头方括号里的数字。\n"
        "3. 数字、日期、名称必须与资料原文完全一致。\n"
        "4. 只有当资料里确实没有与问题相关的内容时，才只回答：{no}"
    ),
    "zh-hant": (
        "你是嚴謹的問答助手，只根據下面編號的資料回答問題，不使用資料以外的知識。\n"
        "要求：\n1. 用繁體中文直接回答，一到三句話，盡量照抄資料中回答問題的原句。\n"
        "2. 每句話末尾用方括號標注它所依據的資料編號，即那份資料開頭方括號裡的數字。\n"
        "3. 數字、日期、名稱必須與資料原文完全一致。\n"
        "4. 只有當資料裡確實沒有與問題相關的內容時，才只回答：{no}"
    ),
    "en": (
        "You are a careful question-answering assistant. Answer only from the numbered passages below, "
        "never from other knowledge.\nRules:\n1. Answer in English, directly, in one to three sentences, "
        "staying close to the passages' own wording.\n"
        "2. End every sentence with the number, in square brackets, of the passage it rests on: the number that passage starts with.\n"
        "3. Copy numbers, dates and names exactly as the passages write them.\n"
        "4. Only if no passage says anything relevant to the question, reply exactly: {no}"
    ),
}
_LABELS = {"zh-hans": ("资料：", "问题："), "zh-hant": ("資料：", "問題："), "en": ("Passages:", "Question: ")}


def passage_block(n: int, hit: Hit, language: str) -> str:
    """``[n] 《title》`` then the chunk, every sentence followed by ``[n]`` too.

    A small model that copies a sentence copies the marker after it, so the
    citation travels with the fact; with the number only at the top of the
    passage, 1.5B models cited a neighbouring passage about half the time.
    """
    title = hit.chunk.title.strip()
    heading = (f"《{title}》" if language != "en" else title) if title else ""
    lines = []
    for line in re.split(r"\s*\n\s*", hit.chunk.text.strip()):  # paragraph breaks cost tokens, not meaning
        sentences = [line[s:e].strip() for s, e in split_sentences(line)] or [line]
        lines.append((" " if language == "en" else "").join(f"{sentence}[{n}]" for sentence in sentences if sentence))
    return f"[{n}] {heading}\n" + "\n".join(lines)


#: One worked example before the real question, in each language. Rules alone do not
#: work with small models: told only to "cite the passage number" they write no
#: marker; shown a marker in the rules they copy its number onto every answer. A
#: worked exchange, made up and about nothing in any corpus, teaches the habit:
#: the marker is the number of the passage holding the fact (here [2], not [1]).
_EXAMPLE = {
    "zh-hans": (
        "[1] 《示例》\n这家图书馆每周一闭馆。[1]\n\n[2] 《示例》\n该馆藏书约120万册，2019年完成扩建。[2]",
        "这家图书馆有多少藏书？",
        "该馆藏书约120万册。[2]",
    ),
    "zh-hant": (
        "[1] 《示例》\n這家圖書館每週一閉館。[1]\n\n[2] 《示例》\n該館藏書約120萬冊，2019年完成擴建。[2]",
        "這家圖書館有多少藏書？",
        "該館藏書約120萬冊。[2]",
    ),
    "en": (
        "[1] Example\nThe library is closed on Mondays.[1]\n\n[2] Example\nThe library holds about 1.2 million books and was extended in 2019.[2]",
        "How many books does the library hold?",
        "The library holds about 1.2 million books. [2]",
    ),
}


def _user_turn(language: str, passages: str, question: str) -> str:
    passages_label, question_label = _LABELS[language]
    return f"{passages_label}\n\n{passages}\n\n{question_label}{question.strip()}"


def build_messages(question: str, hits: Sequence[Hit]) -> list[dict[str, str]]:
    """Chat messages: rules in the question's language, a worked example, then passages [1]..[n] and the question.

    The passages go in the user turn (some chat templates, Gemma's among them,
    have no system role of their own); their numbers are the hits' positions.
    """
    language = language_of(question)
    example_passages, example_question, example_answer = _EXAMPLE[language]
    passages = "\n\n".join(passage_block(n, hit, language) for n, hit in enumerate(hits, start=1))
    return [
        {"role": "system", "content": _INSTRUCTIONS[language].format(no=NO_ANSWER[language])},
        {"role": "user", "content": _user_turn(language, example_passages, example_question)},
        {"role": "assistant", "content": example_answer},
        {"role": "user", "content": _user_turn(language, passages, question)},
    ]


def is_no_answer(text: str) -> bool:
    """The model used the fixed "no answer" sentence (any language, punctuation and markers ignored)."""
    return bool(bare(text)) and any(bare(text) == bare(s) for s in NO_ANSWER.values())


# --------------------------------------------------------------------------- client


def stream_chat(messages: list[dict[str, str]], config: LLMConfig) -> Iterator[str]:
    """Text deltas from an OpenAI-compatible chat endpoint.

    ``timeout_s`` bounds both each network wait and the whole answer, so a
    model that trickles tokens forever is cut off too; every failure is an ``LLMError``.
    """
    try:
        import openai
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise LLMError("the openai package is not installed: pip install openai") from exc
    timeouts, failures = _transport_errors()
    client = openai.OpenAI(base_url=config.base_url, api_key=config.api_key or "none", timeout=config.timeout_s, max_retries=0)
    deadline = time.monotonic() + config.timeout_s
    try:
        with client, client.chat.completions.create(
            model=config.model, messages=messages, stream=True, temperature=config.temperature, max_tokens=config.max_tokens
        ) as stream:
            for chunk in stream:
                if time.monotonic() > deadline:
                    raise LLMError(f"the language model at {config.base_url} did not finish within {config.timeout_s:g} s")
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield delta
    except (openai.APITimeoutError, *timeouts) as exc:
        raise LLMError(f"the language model at {config.base_url} did not answer within {config.timeout_s:g} s") from exc
    except (openai.OpenAIError, *failures) as exc:
        raise LLMError(f"the language model at {config.base_url} failed: {exc}") from exc


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


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class LLMDelta:
    """A piece of the model's draft, unverified: show it as a draft, then replace it with the result."""

    text: str


@dataclass(frozen=True)
class LLMResult:
    answer: Answer  # what to show: the verified answer, or the extractive one (fallback, refusal)
    verification: Verification  # verdicts on the model's text; empty when the model was not called
    raw: str  # the model's text as it streamed
    fallback: bool  # True when ``answer`` is the extractive answer standing in for the model's
    reason: str  # why the fallback happened ("" otherwise)
    called: bool  # whether the model was called at all (not for refusals)
    first_token_s: float | None
    total_s: float


LLMEvent = LLMDelta | LLMResult


def verified_citations(verification: Verification, hits: Sequence[Hit]) -> tuple[Citation, ...]:
    """One citation per supporting passage, numbered as the passage, quotes in document order."""
    quotes: dict[int, list[str]] = {}
    for s in verification.verified:
        if s.source is not None and s.quote is not None and s.quote not in quotes.setdefault(s.source, []):
            quotes[s.source].append(s.quote)
    citations = []
    for n in sorted(quotes):
        hit = hits[n - 1]
        located = sorted((hit.chunk.text.find(q), q) for q in quotes[n])
        spans = tuple((hit.chunk.start + i, hit.chunk.start + i + len(q)) for i, q in located)
        citations.append(Citation(n, hit, tuple(q for _, q in located), spans, paragraph_of(hit, spans[0][0])))
    return tuple(citations)


def relevance(question: str, verification: Verification) -> float:
    """Share of the question's key-term weight found in the verified sentences and their quotes.

    The verifier proves a sentence is in the documents, not that it answers the
    question: a model that copies an unrelated passage sentence passes it. This
    catches that, with the extractive answer's own term weighting.
    """
    evidence = " ".join(f"{s.text} {s.quote}" for s in verification.verified)
    return coverage(key_terms(question), evidence)


def finish(question: str, hits: Sequence[Hit], extractive: Answer, raw: str, config: LLMConfig) -> tuple[Answer, Verification, str]:
    """(answer to show, verdicts, fallback reason or ""): verify the model's full text and decide."""
    passages = {n: hit.chunk.text for n, hit in enumerate(hits, start=1)}
    verification = verify(raw, passages, config.min_coverage)
    if is_no_answer(raw):
        return extractive, verification, NO_ANSWER_FOUND
    if not verification.verified:
        return extractive, verification, NOTHING_VERIFIED
    if relevance(question, verification) < config.min_relevance:
        return extractive, verification, OFF_THE_QUESTION
    text = apply(verification, config.unsupported, extractive.language)  # type: ignore[arg-type]
    citations = verified_citations(verification, hits)
    answer = Answer(question, text, False, citations, tuple(hits), extractive.evidence, extractive.language)
    return answer, verification, ""


def generate_answer(
    question: str, hits: Sequence[Hit], extractive: Answer, settings: Settings | None = None, config: LLMConfig | None = None
) -> Iterator[LLMEvent]:
    """Deltas of the model's draft, then one ``LLMResult``; never raises for model failures (it falls back)."""
    config = config or llm_config(settings)
    began = time.monotonic()
    if extractive.refused or not hits:
        yield LLMResult(extractive, Verification(()), "", False, "", False, None, 0.0)
        return
    used = list(hits[: config.passages])
    parts: list[str] = []
    first: float | None = None
    try:
        for delta in stream_chat(build_messages(question, used), config):
            first = first if first is not None else time.monotonic() - began
            parts.append(delta)
            yield LLMDelta(delta)
    except LLMError as exc:
        raw = "".join(parts)
        yield LLMResult(extractive, Verification(()), raw, True, str(exc), True, first, time.monotonic() - began)
        return
    answer, verification, reason = finish(question, used, extractive, "".join(parts), config)
    yield LLMResult(answer, verification, "".join(parts), bool(reason), reason, True, first, time.monotonic() - began)


def llm_answer(question: str, hits: Sequence[Hit], extractive: Answer, settings: Settings | None = None, config: LLMConfig | None = None) -> LLMResult:
    """The final result of ``generate_answer`` without the deltas (batch use, JSON output)."""
    result = None
    for event in generate_answer(question, hits, extractive, settings, config):
        if isinstance(event, LLMResult):
            result = event
    assert result is not None  # generate_answer always ends with a result
    return result


def result_to_dict(result: LLMResult) -> dict[str, Any]:
    """``answer_to_dict`` of what is shown, plus the mode, the fallback flag and each sentence's verdict."""
    data = answer_to_dict(result.answer)
    data.update(
        mode="llm",
        fallback=result.fallback,
        fallback_reason=result.reason,
        llm_called=result.called,
        llm_text=result.raw,
        sentences=[
            {"text": s.text, "cited": list(s.cited), "verified": s.verified, "quote": s.quote, "source": s.source, "reason": s.reason}
            for s in result.verification.sentences
        ],
        timing={"first_token_s": _round(result.first_token_s), "total_s": _round(result.total_s)},
    )
    return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# --------------------------------------------------------------------------- local server


def resolve_model(model: str) -> tuple[Path, str]:
    """(path of the .gguf file, model alias) for a .gguf path or an installed package exposing ``assemble()``."""
    if model.endswith(".gguf") or os.sep in model:
        path = Path(model).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no model file {path}")
        return path, path.stem
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LLMError(f"{model!r} is neither a .gguf file nor an installed model package (pip install {model})") from exc
    assemble = getattr(module, "assemble", None)
    if not callable(assemble):
        raise LLMError(f"the package {module_name} has no assemble() that returns a .gguf path")
    return Path(assemble()), module_name


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve_local(
    model: str, host: str = "127.0.0.1", port: int = 8080, threads: int = 2, n_ctx: int = 4096, log: IO[str] | None = None
) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start ``python -m llama_cpp.server`` for ``model``; returns the process and the RAG_* settings to use.

    It listens on ``host`` (loopback by default: the server has no authentication).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMError(f"llama-cpp-python is not installed: {INSTALL_HINT}")
    path, alias = resolve_model(model)
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", alias,
        "--host", host, "--port", str(port), "--n_threads", str(threads), "--n_ctx", str(n_ctx),
    ]
    output = log if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT if log is not None else output)
    env = {"RAG_ANSWER_MODE": "llm", "RAG_LLM_BASE_URL": f"http://{host}:{port}/v1", "RAG_LLM_MODEL": alias}
    return process, env


def wait_ready(base_url: str, process: subprocess.Popen | None = None, timeout_s: float = 120.0) -> None:
    """Block until ``GET {base_url}/models`` answers; an ``LLMError`` if the server dies or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise LLMError(f"the model server exited with status {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise LLMError(f"the model server at {base_url} was not ready within {timeout_s:g} s")


def serve_forever(model: str, host: str = "127.0.0.1", port: int = 8080, threads: int = 2) -> int:
    """``rag llm serve``: run the local server in the foreground and print the settings that use it."""
    process, env = serve_local(model, host, port, threads, log=sys.stderr)
    try:
        wait_ready(env["RAG_LLM_BASE_URL"], process)
        print("The model server is ready. Use it with:\n  " + " ".join(f"{k}={v}" for k, v in env.items()), flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
