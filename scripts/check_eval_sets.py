"""Check the near-miss and paraphrase evaluation sets against their corpora.

Files checked (each is optional; a missing one is reported and skipped):

    eval/nearmiss_seed.jsonl   the seed folder (no corpus line)
    eval/nearmiss_news.jsonl   {"corpus": {"news": PATH, "background": N}}
    eval/nearmiss_cmrc.jsonl   {"corpus": {"squad": PATH}}  every paragraph of CMRC 2018 trial
    eval/nearmiss_drcd.jsonl   {"corpus": {"squad": PATH}}  every paragraph of DRCD dev
    eval/news_paraphrase.jsonl {"corpus": {"news": PATH, "background": N}}

The corpora are re-parsed with the product's own parsers (``load_documents`` for
the seeds, ``news_document`` for news articles, ``parse_bytes`` for SQuAD
paragraphs, as ``rag.eval.evaluation`` does), so every check runs on the text
the evidence must match. For a news set the whole news file is read, not only
the sample a run would index: the background sample is random, so a near miss
must be absent from all of it.

Checks (any failure makes the exit status 1):

* every evidence string occurs in its gold document(s): in at least one of
  ``docs`` for an original, in every one of ``docs`` for a paraphrase row;
  a paraphrase row's ``docs`` also names every article that holds its evidence;
* every answer string occurs (folded, spaces ignored, as the metric compares
  them) in a gold document;
* every near miss has ``answerable: false``, a known ``changed`` kind, a
  ``missing`` phrase that occurs verbatim in its question (and not in the
  original's), the original's ``docs``, and exactly one original with the same
  ``pair``; every original has at least one near miss;
* paraphrase rows share no run of 6 or more characters with their articles
  (folded: full width, traditional and case folded; punctuation and spaces
  ignored);
* with ``--absence`` (slower): no document of the corpus pairs a near miss's
  ``missing`` phrase with the original's answer, i.e. no sentence of any
  document holds the missing phrase, an answer string (a number only as a
  whole number, not inside a longer one) and at least two of the fact's key
  terms (two-character words of the original question and evidence, less
  those of the answer, the missing and the replaced qualifier). Documents that
  hold both strings in different sentences are counted and, with
  ``--verbose``, listed for review.

    .venv/bin/python scripts/check_eval_sets.py [--absence] [--verbose] [FILE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.eval.evaluation import news_document, read_news  # noqa: E402
from rag.ingest.documents import parse_bytes  # noqa: E402
from rag.ingest.loading import load_documents  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.text.folding import fold  # noqa: E402

EVAL = ROOT / "eval"
DEFAULT_FILES = ("nearmiss_seed.jsonl", "nearmiss_news.jsonl", "nearmiss_cmrc.jsonl", "nearmiss_drcd.jsonl", "news_paraphrase.jsonl")
CHANGED = ("time", "place", "org", "person", "group", "metric", "edition", "number")
ASKS = ("month", "day", "place", "org", "person", "count", "amount", "percent", "rank", "reason", "other")
COPY_LIMIT = 6  # a paraphrase question may share at most 5 consecutive characters with its article
KEY_TERMS_NEEDED = 2
SENTENCE = re.compile(r"[。！？!?；;\n]")
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
LATIN_WORD = re.compile(r"[a-z][a-z0-9]{2,}")
#: Two-character pieces of question words: they say what is asked, not which fact.
QUESTION_WORDS = frozenset(
    "多少 什么 哪个 哪些 哪里 哪家 哪位 哪天 哪一 几个 几年 是多 少个 少家 少人 少亿 是什 么时 时候 如何 怎么 一共 有多 了多 的是 是谁 今年 以来".split()
)


# --------------------------------------------------------------------------- corpora


class Corpus:
    """Documents by id, with their folded text; loaded once per corpus."""

    def __init__(self, name: str, texts: dict[str, str]):
        self.name = name
        self.texts = texts
        self._folded: dict[str, str] | None = None

    @property
    def folded(self) -> dict[str, str]:
        if self._folded is None:
            self._folded = {doc_id: fold(text) for doc_id, text in self.texts.items()}
        return self._folded


_CORPORA: dict[str, Corpus] = {}


def corpus_for(path: Path, spec: dict[str, Any] | None) -> Corpus:
    if not spec:
        key = "seeds"
        if key not in _CORPORA:
            documents, _errors = load_documents([Path(Settings().seeds_dir)])
            _CORPORA[key] = Corpus(key, {d.id: d.text for d in documents})
        return _CORPORA[key]
    if spec.get("news"):
        source = (path.parent / spec["news"]).resolve()
        key = f"news:{source}"
        if key not in _CORPORA:
            _CORPORA[key] = Corpus(source.name, {doc_id: news_document(doc_id, text).text for doc_id, text in read_news(source)})
        return _CORPORA[key]
    if spec.get("squad"):
        source = (path.parent / spec["squad"]).resolve()
        key = f"squad:{source}"
        if key not in _CORPORA:
            texts = {}
            for article in json.loads(source.read_text(encoding="utf-8"))["data"]:
                for paragraph in article["paragraphs"]:
                    doc_id = f"{paragraph['id']}.txt"
                    texts[doc_id] = parse_bytes(paragraph["context"].encode("utf-8"), doc_id, doc_id=doc_id).text
            _CORPORA[key] = Corpus(source.name, texts)
        return _CORPORA[key]
    raise SystemExit(f"{path}: unknown corpus {spec}")


def read_rows(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if rows and "corpus" in rows[0] and "question" not in rows[0]:
        return rows[0]["corpus"], rows[1:]
    return None, rows


# --------------------------------------------------------------------------- text helpers


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def compact(text: str) -> str:
    """Folded, with punctuation, symbols and spaces dropped: letters and digits of every script remain."""
    return "".join(ch for ch in fold(text) if unicodedata.category(ch)[0] in "LN")


def copied_runs(question: str, text: str, n: int = COPY_LIMIT) -> list[str]:
    q, t = compact(question), compact(text)
    return sorted({q[i : i + n] for i in range(len(q) - n + 1) if q[i : i + n] in t})


def answer_in(answer: str, text: str) -> bool:
    """As rag.eval.metrics.contains_answer compares: folded, spaces removed."""
    return fold(answer).replace(" ", "") in fold(text).replace(" ", "")


def terms(text: str) -> set[str]:
    folded = fold(text)
    out = {run[i : i + 2] for run in CJK_RUN.findall(folded) for i in range(len(run) - 1)}
    return out | set(LATIN_WORD.findall(folded))


def has_whole(sentence: str, answer: str) -> bool:
    pattern = re.escape(answer)
    if answer[:1].isdigit():
        pattern = r"(?<![0-9.])" + pattern
    if answer[-1:].isdigit():
        pattern += r"(?![0-9])"
    return re.search(pattern, sentence) is not None


# --------------------------------------------------------------------------- checks


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.failures.append(f"{where}: {message}")


def check_original(row: dict[str, Any], corpus: Corpus, where: str, report: Report) -> None:
    docs = as_list(row.get("docs"))
    missing_docs = [d for d in docs if d not in corpus.texts]
    if not docs or missing_docs:
        report.fail(where, f"gold docs {missing_docs or docs} not in the corpus {corpus.name}")
        return
    for evidence in as_list(row.get("evidence")):
        if not any(evidence in corpus.texts[d] for d in docs):
            report.fail(where, f"evidence {evidence!r} is in none of its docs {docs}")
    answers = as_list(row.get("answer"))
    if not answers:
        report.fail(where, "no answer strings")
    for answer in answers:
        if not any(answer_in(answer, corpus.texts[d]) for d in docs):
            report.fail(where, f"answer {answer!r} is in none of its docs")


def check_nearmiss_file(
    path: Path, rows: list[dict[str, Any]], corpus: Corpus, report: Report, absence: bool, verbose: bool, first_line: int
) -> tuple[Counter, str]:
    originals: dict[Any, dict[str, Any]] = {}
    near: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(rows, start=first_line):
        where = f"{path.name}:{line}"
        if row.get("kind") == "original":
            if row.get("pair") in originals:
                report.fail(where, f"a second original for pair {row.get('pair')}")
            originals[row.get("pair")] = row
            if row.get("answerable", True) is not True:
                report.fail(where, "an original must be answerable")
            check_original(row, corpus, where, report)
        elif row.get("kind") == "near_miss":
            near.append((line, row))
        else:
            report.fail(where, f"unknown kind {row.get('kind')!r}")
    kinds: Counter = Counter()
    paired: set[Any] = set()
    for line, row in near:
        where = f"{path.name}:{line}"
        kinds[row.get("changed")] += 1
        original = originals.get(row.get("pair"))
        if original is None:
            report.fail(where, f"no original with pair {row.get('pair')}")
            continue
        paired.add(row.get("pair"))
        if row.get("answerable") is not False:
            report.fail(where, "a near miss must have answerable: false")
        if row.get("changed") not in CHANGED:
            report.fail(where, f"changed {row.get('changed')!r} is not one of {CHANGED}")
        missing = as_list(row.get("missing"))
        if not missing:
            report.fail(where, "no missing phrase")
        for phrase in missing:
            if phrase not in row["question"]:
                report.fail(where, f"missing phrase {phrase!r} is not in the question")
            if phrase in original["question"]:
                report.fail(where, f"missing phrase {phrase!r} is already in the original question")
        if as_list(row.get("docs")) != as_list(original.get("docs")):
            report.fail(where, "docs differ from the original's")
        if row["question"] == original["question"]:
            report.fail(where, "the near miss repeats its original")
    for pair in originals.keys() - paired:
        report.fail(path.name, f"original of pair {pair} has no near miss")
    summary = check_absence(path, near, originals, corpus, report, verbose) if absence else ""
    return kinds, summary


def check_absence(
    path: Path, near: list[tuple[int, dict[str, Any]]], originals: dict[Any, dict[str, Any]], corpus: Corpus, report: Report, verbose: bool
) -> str:
    folded = corpus.folded
    same_document = 0
    for line, row in near:
        original = originals.get(row.get("pair"))
        if original is None:
            continue
        answers = [fold(a) for a in as_list(original.get("answer"))]
        for phrase in as_list(row.get("missing")):
            qualifier = fold(phrase)
            keys = terms(original["question"]) | set().union(*(terms(e) for e in as_list(original.get("evidence"))))
            keys -= set().union(*(terms(a) for a in as_list(original.get("answer"))))
            keys -= terms(phrase) | terms(row.get("was", "")) | QUESTION_WORDS
            for doc_id, text in folded.items():
                if qualifier not in text or not any(a in text for a in answers):
                    continue
                hit = next(
                    (
                        s
                        for s in SENTENCE.split(text)
                        if qualifier in s and any(has_whole(s, a) for a in answers) and sum(k in s for k in keys) >= KEY_TERMS_NEEDED
                    ),
                    None,
                )
                if hit is not None:
                    report.fail(f"{path.name}:{line}", f"{doc_id} pairs {phrase!r} with the answer: {hit[:160]!r}")
                else:
                    same_document += 1
                    if verbose:
                        print(f"    review {path.name}:{line} {doc_id}: {phrase!r} and the answer in different sentences")
    return (
        f"  absence: {len(near)} near misses searched for in {len(folded)} documents; "
        f"{same_document} (near miss, document) pair(s) hold the missing phrase and the answer only in different sentences"
    )


def check_paraphrase_file(path: Path, rows: list[dict[str, Any]], corpus: Corpus, report: Report, first_line: int) -> Counter:
    asks: Counter = Counter()
    seen: set[str] = set()
    for line, row in enumerate(rows, start=first_line):
        where = f"{path.name}:{line}"
        asks[row.get("asks")] += 1
        if row.get("kind") != "paraphrase":
            report.fail(where, f"kind {row.get('kind')!r} is not paraphrase")
        if row.get("asks") not in ASKS:
            report.fail(where, f"asks {row.get('asks')!r} is not one of {ASKS}")
        if row["question"] in seen:
            report.fail(where, "duplicate question")
        seen.add(row["question"])
        docs = as_list(row.get("docs"))
        if not docs or any(d not in corpus.texts for d in docs):
            report.fail(where, f"gold docs {docs} not all in the corpus")
            continue
        for evidence in as_list(row.get("evidence")):
            holders = sorted(d for d, text in corpus.texts.items() if evidence in text)
            if not set(docs) <= set(holders):
                report.fail(where, f"evidence {evidence!r} is not in every doc of {docs}")
            if set(holders) - set(docs):
                report.fail(where, f"evidence also in {sorted(set(holders) - set(docs))}, which docs does not name")
        for answer in as_list(row.get("answer")):
            if not all(answer_in(answer, corpus.texts[d]) for d in docs):
                report.fail(where, f"answer {answer!r} is not in every doc")
        for doc_id in docs:
            runs = copied_runs(row["question"], corpus.texts[doc_id])
            if runs:
                report.fail(where, f"question copies {len(runs)} run(s) of {COPY_LIMIT}+ characters from {doc_id}: {runs[:3]}")
    return asks


# --------------------------------------------------------------------------- main


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="files to check (default: the five eval sets)")
    parser.add_argument("--absence", action="store_true", help="also search every corpus document for the near misses' facts (slower)")
    parser.add_argument("--verbose", action="store_true", help="list documents that hold a missing phrase and an answer apart")
    args = parser.parse_args(list(argv) if argv is not None else None)
    files = args.files or [EVAL / name for name in DEFAULT_FILES]
    report = Report()
    totals: Counter = Counter()
    for path in files:
        if not path.exists():
            report.fail(str(path), "no such file")
            continue
        spec, rows = read_rows(path)
        corpus = corpus_for(path, spec)
        failures_before = len(report.failures)
        first_line = 2 if spec is not None else 1
        if any(r.get("kind") == "paraphrase" for r in rows):
            asks = check_paraphrase_file(path, rows, corpus, report, first_line)
            print(
                f"{path.name}: {len(rows)} paraphrase questions, {len({tuple(as_list(r.get('docs'))) for r in rows})} distinct gold-doc sets "
                f"(corpus {corpus.name}, {len(corpus.texts)} documents)"
            )
            print("  asks: " + ", ".join(f"{k} {v}" for k, v in asks.most_common()))
        else:
            originals = sum(r.get("kind") == "original" for r in rows)
            kinds, summary = check_nearmiss_file(path, rows, corpus, report, args.absence, args.verbose, first_line)
            totals.update(kinds)
            print(f"{path.name}: {sum(kinds.values())} near misses, {originals} originals (corpus {corpus.name}, {len(corpus.texts)} documents)")
            print("  changed: " + ", ".join(f"{k} {kinds.get(k, 0)}" for k in CHANGED))
            if summary:
                print(summary)
        print(f"  {'ok' if len(report.failures) == failures_before else str(len(report.failures) - failures_before) + ' problem(s)'}")
    if totals:
        print(f"near misses in all: {sum(totals.values())} — " + ", ".join(f"{k} {totals.get(k, 0)}" for k in CHANGED))
    for failure in report.failures:
        print("FAIL " + failure)
    print("all checks passed" if not report.failures else f"{len(report.failures)} problem(s)")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
