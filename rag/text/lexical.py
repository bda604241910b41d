"""Chinese keyword search: jieba tokens over folded text, scored by BM25.

Tokens are jieba's search-mode words (so 普惠金融 also yields 普惠 and 金融)
plus character bigrams of every CJK run, which rescue words jieba's
dictionary splits differently in the question and in the text (names,
traditional-script terms, new coinages). Stop words and punctuation are dropped.
Scores are BM25 (Lucene variant, bm25s's defaults) computed from postings kept
per index segment, with collection statistics summed over the live rows.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import jieba
import numpy as np

from ..ondisk import StoredArray
from .folding import fold

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")

#: Function words and question words: they say what is asked, not what to find.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 就 而 并 对 把 被 从 向 于 以 为 之 其 这 那 这个 那个 这些 那些 一个 有 没有 有没有
    吗 呢 吧 啊 呀 么 什么 哪 哪些 哪个 哪里 哪儿 哪家 哪一 哪年 谁 多少 几 几个 多 怎么 怎样 怎么样 如何 为什么 为何 何时 何地 何 是否 是不是 请问 请
    我 我们 你 你们 他 他们 她 它 它们 自己 该 此 等 等等 个 上 中 下 里 后 前 时 年 月 日 被 将 会 能 可以 要 让 给 所 所以 因为 但 但是
    a an the of to in on for and or is are was were be been by with as at from that this these those what which who whom whose when where why how
    do does did can could should would will not no yes it its their there than then so such about into""".split()
)


def tokenize(text: str) -> list[str]:
    """Folded jieba search-mode words plus CJK character bigrams, without stop words."""
    folded = fold(text)
    words = [w for w in jieba.cut_for_search(folded) if _WORD.search(w) and w not in STOPWORDS and w.strip()]
    bigrams = [run[i : i + 2] for run in _CJK_RUN.findall(folded) for i in range(len(run) - 1)]
    return words + [b for b in bigrams if b not in STOPWORDS and b not in words]


# --------------------------------------------------------------------------- postings and BM25

#: bm25s's defaults (``method="lucene"``): the scores equal a bm25s index built over the same chunks.
K1, B = 1.5, 0.75


class Results(NamedTuple):
    """Row indices into the chunk list, best first, with their BM25 scores."""

    indices: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class Postings:
    """One segment's inverted index: for each term, the rows containing it and how often.

    Kept per segment, next to the tokens' lengths, so that adding chunks never
    re-tokenises old ones; collection statistics (N, average length, document
    frequencies) are summed over segments at query time, which keeps scores
    exact while segments come and go.
    """

    terms: dict[str, int]
    indptr: np.ndarray  # term id → slice of rows/tfs
    rows: np.ndarray | StoredArray  # int32, sorted within a term (read from disk by position once saved)
    tfs: np.ndarray | StoredArray  # float32 term frequency
    lengths: np.ndarray  # int32 tokens per row (with repeats)

    @property
    def size(self) -> int:
        return int(self.lengths.shape[0])

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> Postings:
        """Postings of chunks already tokenised (an empty chunk counts as the single token "", as in bm25s)."""
        terms: dict[str, int] = {}
        term_ids: list[int] = []
        row_ids: list[int] = []
        lengths = np.zeros(len(token_lists), dtype=np.int32)
        for row, tokens in enumerate(token_lists):
            tokens = list(tokens) or [""]
            lengths[row] = len(tokens)
            for token in tokens:
                term_ids.append(terms.setdefault(token, len(terms)))
                row_ids.append(row)
        return cls.from_pairs(terms, np.asarray(term_ids, dtype=np.int64), np.asarray(row_ids, dtype=np.int64), lengths)

    @classmethod
    def from_pairs(cls, terms: dict[str, int], term_ids: np.ndarray, row_ids: np.ndarray, lengths: np.ndarray, tfs: np.ndarray | None = None) -> Postings:
        """Postings from (term, row[, tf]) occurrences; repeated pairs add up."""
        weights = np.ones(term_ids.shape[0]) if tfs is None else tfs.astype(np.float64)
        key = term_ids * max(int(lengths.shape[0]), 1) + row_ids
        unique, inverse = np.unique(key, return_inverse=True)
        counts = np.bincount(inverse, weights=weights, minlength=unique.shape[0])
        size = max(int(lengths.shape[0]), 1)
        unique_terms, unique_rows = unique // size, unique % size
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(unique_terms, minlength=len(terms)), out=indptr[1:])
        return cls(terms, indptr, unique_rows.astype(np.int32), counts.astype(np.float32), lengths.astype(np.int32))

    def term_rows(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        term = self.terms.get(token)
        if term is None:
            return _NO_ROWS, _NO_TFS
        start, end = self.indptr[term], self.indptr[term + 1]
        return self.rows[start:end], self.tfs[start:end]

    def save(self, folder: Path) -> None:
        """Plain .npy files, so that a reader reads posting lists by position instead of holding them in memory."""
        folder.mkdir(parents=True, exist_ok=True)
        vocabulary = sorted(self.terms, key=self.terms.__getitem__)
        (folder / "terms.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @staticmethod
    def saved_files(folder: Path) -> list[Path]:
        """The files a saved postings folder holds (a segment written before holds one postings.npz)."""
        legacy = folder / "postings.npz"
        return [folder / "terms.json", *([legacy] if legacy.exists() else [folder / f"{name}.npy" for name in _ARRAYS])]

    @classmethod
    def load(cls, folder: Path) -> Postings:
        """The posting lists left on disk: a question reads those of its own terms only (rag.ondisk).

        A segment written before (one compressed ``postings.npz``) is read into memory.
        """
        vocabulary = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        if (folder / "postings.npz").exists():
            with np.load(folder / "postings.npz") as data:
                arrays = {name: data[name] for name in _ARRAYS}
        else:
            arrays = {name: StoredArray(folder / f"{name}.npy") if name in _ON_DISK else np.load(folder / f"{name}.npy") for name in _ARRAYS}
        postings = cls({t: i for i, t in enumerate(vocabulary)}, **arrays)
        if postings.indptr.shape[0] != len(vocabulary) + 1 or postings.rows.shape != postings.tfs.shape:
            raise ValueError(f"{folder}: {len(vocabulary)} terms but {postings.indptr.shape[0] - 1} posting lists")
        return postings


#: The arrays a segment's postings are saved as, and those a reader leaves on disk rather than loads.
_ARRAYS = ("indptr", "rows", "tfs", "lengths")
_ON_DISK = frozenset({"rows", "tfs"})


_NO_ROWS = np.zeros(0, dtype=np.int32)
_NO_TFS = np.zeros(0, dtype=np.float32)


def merge_postings(parts: Sequence[tuple[Postings, np.ndarray]]) -> Postings:
    """One segment's postings from the live rows of several (``live`` is each part's boolean row mask).

    Rows are renumbered in order, part after part; nothing is re-tokenised.
    """
    terms: dict[str, int] = {}
    term_parts, row_parts, tf_parts, length_parts = [], [], [], []
    base = 0
    for postings, live in parts:
        new_row = np.cumsum(live) - 1 + base
        local = np.array([terms.setdefault(t, len(terms)) for t in sorted(postings.terms, key=postings.terms.__getitem__)], dtype=np.int64)
        term_of = np.repeat(np.arange(len(postings.terms)), np.diff(postings.indptr))
        rows, tfs = np.asarray(postings.rows), np.asarray(postings.tfs)
        keep = live[rows]
        term_parts.append(local[term_of[keep]])
        row_parts.append(new_row[rows[keep]])
        tf_parts.append(tfs[keep])
        length_parts.append(postings.lengths[live])
        base += int(live.sum())
    lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, dtype=np.int32)
    if not term_parts:
        return Postings.build([])
    return Postings.from_pairs(terms, np.concatenate(term_parts), np.concatenate(row_parts).astype(np.int64), lengths, np.concatenate(tf_parts))


def bm25_scores(parts: Sequence[tuple[Postings, np.ndarray]], tokens: Sequence[str]) -> list[Results]:
    """Exact BM25 over the live rows of several segments, as one collection: per part, its rows scoring above 0.

    N, the average length and each term's document frequency count live rows
    only, so the scores equal a from-scratch build over the live chunks.
    """
    total = sum(int(live.sum()) for _, live in parts)
    if not total or not tokens:
        return [_NO_RESULTS for _ in parts]
    average = sum(float(p.lengths[live].sum()) for p, live in parts) / total
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for token in dict.fromkeys(tokens):
        lists = []
        for postings, live in parts:
            rows, tfs = postings.term_rows(token)
            keep = live[rows]
            lists.append((rows[keep], tfs[keep]))
        found[token] = lists
    results: list[Results] = [_NO_RESULTS for _ in parts]
    sums: list[np.ndarray | None] = [None] * len(parts)
    for token in tokens:
        lists = found[token]
        df = sum(rows.shape[0] for rows, _ in lists)
        if not df:
            continue
        idf = np.float32(math.log(1 + (total - df + 0.5) / (df + 0.5)))
        for i, ((rows, tfs), (postings, _live)) in enumerate(zip(lists, parts, strict=True)):
            if not rows.shape[0]:
                continue
            if sums[i] is None:
                sums[i] = np.zeros(postings.size, dtype=np.float32)
            # bm25s's arithmetic: float64 term-frequency part, float32 idf, float32 products summed per token
            weight = tfs / (K1 * ((1 - B) + B * postings.lengths[rows].astype(np.float64) / average) + tfs)
            sums[i][rows] += (np.float64(idf) * weight).astype(np.float32)  # type: ignore[index]
    for i, summed in enumerate(sums):
        if summed is not None:
            rows = np.flatnonzero(summed > 0)
            results[i] = Results(rows.astype(np.int64), summed[rows])
    return results


_NO_RESULTS = Results(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def top(found: Results, k: int) -> Results:
    """The ``k`` best rows by score, ties broken by the lower row."""
    if k <= 0 or not found.indices.shape[0]:
        return _NO_RESULTS
    if found.indices.shape[0] > k:
        threshold = np.partition(-found.scores, k - 1)[k - 1]
        keep = -found.scores <= threshold  # everything tied with the k-th stays in the running
        found = Results(found.indices[keep], found.scores[keep])
    order = np.lexsort((found.indices, -found.scores))[:k]
    return Results(found.indices[order], found.scores[order])


class LexicalIndex:
    """BM25 over one list of texts: the single-segment case, for callers that index texts directly."""

    def __init__(self, postings: Postings) -> None:
        self.postings = postings
        self.size = postings.size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        return cls(Postings.build([tokenize(t) for t in texts]))

    def save(self, folder: Path) -> None:
        self.postings.save(folder)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        return cls(Postings.load(folder))

    def scores(self, query: str | Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for ``query``: text, or tokens already made by :func:`tokenize`."""
        tokens = tokenize(query) if isinstance(query, str) else list(query)
        dense = np.zeros(self.size, dtype=np.float32)
        found = bm25_scores([(self.postings, np.ones(self.size, dtype=bool))], tokens)[0]
        dense[found.indices] = found.scores
        return dense

    def search(self, query: str | Sequence[str], k: int) -> Results:
        tokens = tokenize(query) if isinstance(query, str) else list(query)
        return top(bm25_scores([(self.postings, np.ones(self.size, dtype=bool))], tokens)[0], k)
