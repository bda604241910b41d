"""Chinese keyword search: jieba tokens over folded text, scored by bm25s.

Tokens are jieba's search-mode words (so 普惠金融 also yields 普惠 and 金融)
plus character bigrams of every CJK run, which rescue words jieba's
dictionary splits differently in the question and in the text (names,
traditional-script terms, new coinages). Stop words and punctuation are dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import bm25s
import jieba
import numpy as np

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


class Results(NamedTuple):
    """Row indices into the chunk list, best first, with their BM25 scores."""

    indices: np.ndarray
    scores: np.ndarray


class LexicalIndex:
    """A bm25s index over chunk texts; rows line up with the store's chunk list."""

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        corpus = [tokenize(t) or [""] for t in texts]
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, len(corpus))

    def save(self, folder: Path) -> None:
        if self.size:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        if not size:
            return cls(bm25s.BM25(), 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False), size)

    def scores(self, query: str | Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for ``query``: text, or tokens already made by :func:`tokenize`."""
        tokens = tokenize(query) if isinstance(query, str) else list(query)
        if not self.size or not tokens:
            return np.zeros(self.size, dtype=np.float32)
        known = self._retriever.get_tokens_ids(tokens)
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores_from_ids(known), dtype=np.float32)

    def search(self, query: str | Sequence[str], k: int) -> Results:
        scores = self.scores(query)
        k = min(k, self.size)
        if k == 0:
            return Results(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        keep = scores[top] > 0
        return Results(top[keep], scores[top][keep])
