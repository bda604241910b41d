"""What ingestion keeps of real news: documents rejected, characters kept, dates found, furniture left, stories.

Reads the whole news slice (``../shared/data/news_zh_20k.jsonl.xz``), parses
every article as a plain-text file and prints:

- documents rejected as unreadable, with their ids;
- the share of non-space characters kept, of the whole text and of the body
  (after the leading metadata line ``…，正文：``, which is read for its date);
- how many documents got a publication date, by where it was read;
- titles that start with 原标题, and chunks that still hold each kind of page
  furniture (原标题, inline ads, ×, 资料图, 进入直播间, photo credits, …);
- quotable sentences longer than 120 characters;
- with ``--before REV``, the same figures for the library as it was at git
  revision REV (read with ``git archive``, run in a child process), side by side,
  and what the newer rules removed, sorted by rule — every stretch of text they
  removed that no furniture rule explains is listed, so lost content shows;
- with ``--stories``, how many documents fall into stories of two or more copies.

The table is written into docs/benchmarks.md between ``<!-- cleaning:start -->``
and ``<!-- cleaning:end -->`` (``--no-write``: only print).

    .venv/bin/python scripts/bench_cleaning.py [--limit N] [--before REV] [--stories] [--no-write]
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdoc import add_write_options, command, publish, today  # noqa: E402  (scripts/ is on the path when a script runs)

NEWS = ROOT.parent / "shared" / "data" / "news_zh_20k.jsonl.xz"
_SPACE = re.compile(r"\s+")
_RUN = re.compile(r"[ \t\u3000\u00a0]{2,}")
_HEADER = re.compile(r"^\s*[^\n]{0,200}?[，,]?\s*正文\s*[:：]")
#: A quotable sentence longer than this is reported: the length an answer cuts a quote to (Settings.quote_max_chars);
#: ingest cuts only run-ons over rag.ingest.chunking.QUOTE_MAX_CHARS (240), an answer cuts the rest around its fact.
LONG_SENTENCE = 120
_ORIGINAL = r"原(?:标题|標題|题|題)"
#: Page furniture counted in chunks; ``×`` and 摄 also count content (3×4米, 摄影展) — the ad and credit rows do not.
MARKERS = {
    "原标题 / 原题": _ORIGINAL,
    "ad: 广告 … ×": r"广告\s+[^×\n]{1,80}?\s*×",
    "广告声明 / 免责声明": r"(?:广告|免责)声明\s*[:：]",
    "× (any, content too)": r"×",
    "资料图": r"资料图",
    "视频截图": r"视频截图",
    "图源 / 图片来源": r"图源|图片来源|图片来自",
    "进入直播间": r"进入直播间",
    "photo credit: …摄": r"(?:记者|通讯员)\s*[\u4e00-\u9fff·]{2,4}\s*/?\s*摄(?![氏像影入制取录于到了的下得成时者])|[（(][^（）()，。]{0,24}摄\s*[）)]|[\u4e00-\u9fff·]{2,4}\s*/\s*摄",
    "责任编辑": r"责任编辑",
    "返回…，查看更多": r"返回\S{1,4}[，,]\s*查看更多",
    "转载请注明来源 / 出处": r"转载[，,]?\s*请注明",
}
#: What each removed stretch is, by the rule that explains it; the first that matches names it.
REMOVED_KINDS = [
    ("original headline (原标题)", _ORIGINAL),
    ("inline ad (广告 … ×)", r"广告.{0,80}×|[（(]广告[）)]"),
    ("notice sentence (声明, 版权, 分享, 转载, 二维码…)", r"声明|版权|分享让更多人看到|转载|二维码|公众号|客户端|热线|免责"),
    ("photo credit (…摄, 供图)", r"摄|供图"),
    ("picture marker (资料图, 视频截图, 图源…)", r"资料图|截图|截屏|图源|图片来|图自|视觉中国|新华社.{0,2}图|图\s*[/丨|｜:：]"),
    ("page footer (返回…查看更多, 责任编辑, 点击进入)", r"查看更多|责任编辑|点击进入"),
    ("credit line (来源, 编辑, 作者…)", r"来源|编辑|责编|编审|编校|作者|记者|通讯员|实习生|撰稿|撰文|校对|审核|审校|监制|^[（(]?文\s*[|丨/]"),
]


#: Characters either side of a removed stretch that may complete the furniture it belongs to; a stretch of one
#: or two characters (the ） of a （原标题：X） the diff matched apart) is read with this many before it.
_CONTEXT = 2
_BRACKET_CONTEXT = 80


def letters(text: str) -> int:
    return len(_SPACE.sub("", text))


def measure(news: Path, limit: int | None, stories: bool) -> dict[str, Any]:
    """Every figure of one library (the one ``rag`` imports from), and each document's title and text."""
    from rag.eval.evaluation import news_document, read_news
    from rag.ingest.chunking import ChunkerConfig, chunk_document
    from rag.ingest.documents import IngestError
    from rag.settings import load_settings

    chunker = ChunkerConfig.from_settings(load_settings())
    markers = {name: re.compile(pattern) for name, pattern in MARKERS.items()}
    began = time.process_time()
    rejected: list[str] = []
    total_in = body_in = kept = spaced = chunks = sentences = long_sentences = 0
    sources: Counter[str] = Counter()
    holding: Counter[str] = Counter()
    documents = {}
    for n, (doc_id, text) in enumerate(read_news(news)):
        if limit is not None and n >= limit:
            break
        total_in += letters(text)
        body_in += letters(_HEADER.sub("", text, count=1))
        try:
            doc = news_document(doc_id, text)
        except IngestError:
            rejected.append(doc_id)
            continue
        kept += letters(doc.text)
        spaced += bool(_RUN.search(doc.text))
        sources[doc.meta.get("published_source", "none")] += 1
        documents[doc_id] = doc
        quotable = set()
        for chunk in chunk_document(doc, chunker):
            chunks += 1
            holding.update(name for name, pattern in markers.items() if pattern.search(chunk.text))
            quotable.update(chunk.quotable)
        sentences += len(quotable)
        long_sentences += sum(1 for start, end in quotable if end - start > LONG_SENTENCE)
    parse_seconds = time.process_time() - began
    figures: dict[str, Any] = {
        "articles": len(documents) + len(rejected),
        "rejected": rejected,
        "kept_all": kept / max(total_in, 1),
        "kept_body": kept / max(body_in, 1),
        "spaced": spaced,
        "sources": dict(sources.most_common()),
        "original_titles": sum(1 for d in documents.values() if re.match(_ORIGINAL, d.title)),
        "chunks": chunks,
        "holding": {name: holding[name] for name in MARKERS},
        "sentences": sentences,
        "long_sentences": long_sentences,
        "parse_seconds": parse_seconds,
    }
    if stories:
        figures["stories"] = _stories(documents)
    figures["texts"] = {doc_id: d.text for doc_id, d in documents.items()}
    return figures


def _stories(documents: dict[str, Any]) -> dict[str, Any]:
    from rag.ingest.stories import annotate
    from rag.settings import load_settings

    s = load_settings()
    began = time.process_time()
    annotated = annotate(documents, s.story_threshold, s.story_shingle_chars, s.story_num_perm)
    groups = Counter(d.meta["story"] for d in annotated.values() if "story" in d.meta)
    return {
        "groups": len(groups),
        "documents": sum(groups.values()),
        "largest": max(groups.values(), default=0),
        "threshold": s.story_threshold,
        "years": sum(1 for d in annotated.values() if d.meta.get("published_year")),
        "undated": sum(1 for d in annotated.values() if d.meta.get("published", "").startswith("--")),
        "seconds": time.process_time() - began,
    }


def measure_revision(revision: str, args: argparse.Namespace) -> dict[str, Any]:
    """``measure`` for the library as it was at ``revision``: its ``rag/`` unpacked from git, run in a child process."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "rag"], check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as library:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(library, filter="data")
        dump = Path(library) / "figures.json"
        child = [sys.executable, __file__, "--library", library, "--dump", str(dump), "--news", str(args.news), "--no-write"]
        subprocess.run(child + (["--limit", str(args.limit)] if args.limit is not None else []), check=True)
        figures: dict[str, Any] = json.loads(dump.read_text(encoding="utf-8"))
    return figures


def removed_by_rule(before: dict[str, str], after: dict[str, str]) -> tuple[Counter[str], list[str]]:
    """Non-space characters the newer rules removed, by the rule that explains them, and the stretches none explains."""
    kinds = [(name, re.compile(pattern)) for name, pattern in REMOVED_KINDS]
    removed: Counter[str] = Counter()
    unexplained: list[str] = []
    for doc_id, old in before.items():
        new = after.get(doc_id)
        if new is None:
            continue
        a, b = _SPACE.sub("", old), _SPACE.sub("", new)
        if a == b:
            continue
        for op, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op in ("delete", "replace"):
                stretch = a[i1:i2]
                reach = _CONTEXT if len(stretch) > _CONTEXT else _BRACKET_CONTEXT  # a diff may split 广告…× or （原标题：X） oddly
                around = a[max(0, i1 - reach) : i2 + _CONTEXT]
                kind = next((name for name, pattern in kinds if pattern.search(stretch) or pattern.search(around)), "")
                removed[kind or "unexplained"] += len(stretch)
                if not kind:
                    unexplained.append(f"{doc_id}: …{a[max(0, i1 - 10) : i1]}⟦{stretch}⟧{a[i2 : i2 + 10]}…")
    return removed, unexplained


def summary(fig: dict[str, Any]) -> list[str]:
    """The lines this script has always printed, for one library's figures."""
    dated = sum(v for k, v in fig["sources"].items() if k != "none")
    lines = [
        f"articles                 {fig['articles']}",
        f"rejected as unreadable   {len(fig['rejected'])}  {' '.join(fig['rejected'][:20])}",
        f"characters kept          {fig['kept_all']:.2%} of all non-space characters, {fig['kept_body']:.2%} of the bodies",
        f"texts with a blank run    {fig['spaced']}",
        f"publication date found   {dated} ({dated / max(fig['articles'], 1):.1%}): " + ", ".join(f"{k} {v}" for k, v in fig["sources"].items()),
        f"parse and chunk CPU time {fig['parse_seconds']:.1f} s",
    ]
    if "stories" in fig:
        st = fig["stories"]
        lines += [
            f"stories of 2+ copies     {st['groups']} stories holding {st['documents']} documents (largest {st['largest']}); threshold {st['threshold']}",
            f"years from the collection {st['years']}, still without a year {st['undated']}",
            f"story CPU time           {st['seconds']:.1f} s",
        ]
    return lines


def report(after: dict[str, Any], before: dict[str, Any] | None, args: argparse.Namespace) -> tuple[str, str]:
    """(what is printed, the Markdown written into docs/benchmarks.md)."""
    printed = summary(after)
    columns = ["now"] if before is None else [f"before (`{args.before}`)", "now"]
    figures = [after] if before is None else [before, after]
    table = ["| measure | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]

    def row(name: str, values: list[str]) -> None:
        table.append(f"| {name} | " + " | ".join(values) + " |")

    row("articles rejected as unreadable", [f"{len(f['rejected'])}" for f in figures])
    row("titles starting with 原标题", [f"{f['original_titles']:,}" for f in figures])
    row("non-space characters kept (all / article bodies)", [f"{f['kept_all']:.2%} / {f['kept_body']:.2%}" for f in figures])
    row("chunks", [f"{f['chunks']:,}" for f in figures])
    for name in MARKERS:
        row(f"chunks holding {name}", [f"{f['holding'][name]:,}" for f in figures])
    row(f"quotable sentences over {LONG_SENTENCE} characters", [f"{f['long_sentences']:,} of {f['sentences']:,}" for f in figures])
    limited = f" (its first {args.limit} articles)" if args.limit is not None else ""
    markdown = f"Measured on {today()} with `{command()}` over `{args.news.name}`{limited}:\n\n" + "\n".join(table)
    if before is not None:
        removed, unexplained = removed_by_rule(before["texts"], after["texts"])
        markdown += (
            "\n\nNon-space characters the newer rules removed, by the rule that explains them (a diff of every article's text, "
            f"before against now; removed stretches no furniture rule explains: {len(unexplained)}):\n\n| removed | characters |\n|---|---|\n"
            + "\n".join(f"| {k} | {v:,} |" for k, v in removed.most_common())
            + f"\n| all | {sum(removed.values()):,} |"
        )
        printed += [f"removed stretches no furniture rule explains: {len(unexplained)}", *(f"    {u}" for u in unexplained[:40])]
    return "\n".join(printed) + "\n\n" + markdown, markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--news", type=Path, default=NEWS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--stories", action="store_true", help="also group near-duplicate stories (about a minute on 20k)")
    parser.add_argument("--before", metavar="REV", help="also measure the library at git revision REV, side by side (e.g. 918f90f)")
    parser.add_argument("--library", help=argparse.SUPPRESS)  # the child process of --before: import rag from here
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # the child process of --before: write the figures here
    add_write_options(parser, "cleaning")
    args = parser.parse_args()
    if not args.news.exists():
        sys.exit(f"no news slice at {args.news}")
    sys.path.insert(0, args.library or str(ROOT))
    after = measure(args.news, args.limit, args.stories)
    if args.dump:
        args.dump.write_text(json.dumps(after, ensure_ascii=False), encoding="utf-8")
        return
    before = measure_revision(args.before, args) if args.before else None
    printed, markdown = report(after, before, args)
    print(printed)
    publish(args, markdown)


if __name__ == "__main__":
    main()
