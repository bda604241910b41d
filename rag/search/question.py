"""A question, analysed once: what retrieval, answer scoring, refusal and the LLM check all need.

Before this type existed each stage re-read the question: jieba cut it for the
key terms twice, again in search mode for BM25, and once more with part-of-speech
tags for the refusal model. ``prepare`` does each analysis exactly once and the
result travels down the pipeline (``Question`` → ``Hit`` → ``Answer``).
"""

from __future__ import annotations

import contextlib
import marshal
import re
import tempfile
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import jieba
import jieba.posseg
import numpy as np

from ..atomic import write_atomic
from ..text.folding import fold, language_of
from ..text.lexical import STOPWORDS, tokenize
from ..text.needs import Need, needs_of, unit_of

#: Words that ask: a question's focus is the content next to them (…的商家被罚了多少钱 → 罚, 钱).
_ASKING = re.compile(r"多少|几|哪|什么|谁|何|怎么|怎样|如何|是否|有没有|多[大长高远久重深宽快]")
_CLAUSE_BREAK = re.compile(r"[，,；;：:。？?！!]")
#: How many characters from a word that asks a term may stand and still be the question's focus.
FOCUS_REACH = 6
#: Punctuation and question words: removed before comparing the question's wording with a sentence's.
CONTENT_NOISE = re.compile(r"[\W_]+|什么|多少|哪些|哪个|如何|怎么|为什么|是否|吗|呢")


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's general-Chinese IDF table and its median (the weight of a word it does not know).

    Read from the file directly: importing ``jieba.analyse`` parses it twice (0.6 s of a fresh
    ``rag ask``); a marshal copy beside jieba's own dictionary cache loads in a third of one parse.
    """
    source = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    stat = source.stat()
    cached = Path(tempfile.gettempdir()) / f"rag-idf-{stat.st_size}-{int(stat.st_mtime)}.marshal"
    try:
        table, median = marshal.loads(cached.read_bytes())
        return table, median
    except (OSError, ValueError, EOFError, TypeError):
        pass
    table = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        word, _, weight = line.strip().partition(" ")
        if weight:
            table[word] = float(weight)
    median = sorted(table.values())[len(table) // 2]
    with contextlib.suppress(OSError):  # a read-only temp folder only costs the parse next time
        write_atomic(cached, marshal.dumps((table, median)))
    return table, median


@dataclass(frozen=True, eq=False)
class Question:
    """The question's text and everything derived from it, computed once per question."""

    text: str
    folded: str
    language: str  # "zh-hans", "zh-hant" or "en": the language the answer is written in
    terms: dict[str, float]  # folded content words → IDF weight (jieba, accurate mode)
    tokens: tuple[str, ...]  # BM25 tokens (jieba search mode plus CJK bigrams; see rag.text.lexical)
    nouns: frozenset[str]  # folded nouns and Latin words (jieba POS): what the question is about
    content: str  # folded, without punctuation and question words (for phrase overlap)
    needs: tuple[Need, ...]  # the kinds of fact it asks for, most specific first (see rag.text.needs)
    unit: str  # the measure word a how-many question names (多少项 → 项), else ""
    #: The terms next to the words that ask, in their clause: what the question asks about, as opposed to
    #: the words that only say which story it means (rag.answer.scoring weighs them again for the quote).
    focus: dict[str, float] = field(default_factory=dict)
    vector: np.ndarray | None = None  # the dense query vector, when an embedder prepared it

    def with_vector(self, vector: np.ndarray) -> Question:
        return replace(self, vector=vector)


def key_terms(folded: str) -> dict[str, float]:
    """Content words of already-folded text, weighted by their general-Chinese IDF."""
    idf, median = idf_table()
    terms: dict[str, float] = {}
    for word in jieba.cut(folded):
        word = word.strip()
        if not word or word in STOPWORDS or not re.search(r"\w", word):
            continue
        terms[word] = idf.get(word, median)
    return terms


def focus_of(folded: str, terms: dict[str, float]) -> dict[str, float]:
    """The terms within ``FOCUS_REACH`` characters of a word that asks, in the same clause.

    A reader asks 世嘉收购那家靠愤怒的小鸟出名的游戏公司，每股出价多少欧元: most of the words
    say which story is meant and all occur in its opening sentence; 每股, 出价 and 欧元 say which
    of its sentences answers.
    """
    asks = [m.span() for m in _ASKING.finditer(folded)]
    found: dict[str, float] = {}
    position = 0
    for word in jieba.cut(folded):
        start, end = position, position + len(word)
        position = end
        term = word.strip()
        if term not in terms or _ASKING.search(term):
            continue
        for a, b in asks:
            between = folded[min(end, a) : max(start, b)]
            if max(a - end, start - b, 0) <= FOCUS_REACH and not _CLAUSE_BREAK.search(between):
                found[term] = terms[term]
    return found


def nouns_of(folded: str) -> frozenset[str]:
    """Nouns (and Latin words) of already-folded text: what it is about, as opposed to how it asks."""
    return frozenset(
        word for word, flag in jieba.posseg.cut(folded) if word not in STOPWORDS and (flag == "eng" or (flag.startswith(("n", "vn")) and len(word) > 1))
    )


def prepare(text: str, vector: np.ndarray | None = None) -> Question:
    """Analyse ``text`` (already checked and stripped by the caller) once for every stage."""
    folded = fold(text)
    terms = key_terms(folded)
    return Question(
        text=text,
        folded=folded,
        language=language_of(text),
        terms=terms,
        tokens=tuple(tokenize(text)),
        nouns=nouns_of(folded),
        content=CONTENT_NOISE.sub("", folded),
        needs=needs_of(folded),
        unit=unit_of(folded),
        focus=focus_of(folded, terms),
        vector=vector,
    )
