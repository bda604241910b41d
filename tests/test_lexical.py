"""``rag.text.lexical``: what ``tokenize`` keeps, and BM25 scores against a reference written out here.

The reference is the variant bm25s uses by default (``method="lucene"``,
k1 = 1.5, b = 0.75): for each query token occurrence t found in the corpus,

    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))
    score  += idf(t) * tf / (tf + k1 * (1 - b + b * |d| / avgdl))

where |d| counts a chunk's tokens with repeats and tokens are exactly what
``tokenize`` produces (an empty chunk indexes as the single token ""). Lucene's
variant leaves out Robertson's (k1 + 1) factor; it only scales scores, but a
test that matches the numbers catches a change of library default.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rag.text.lexical import STOPWORDS, LexicalIndex, tokenize

K1, B = 1.5, 0.75

TEXTS = [
    "工行推出了109项普惠金融API开放服务，覆盖小微企业融资。",
    "重庆工行累计为8万名贫困大学生发放了资助金。",
    "個人手機銀行客戶達到3.85億戶，工行繼續推進數字化轉型。",
    "星河茶园今年新增了三百亩有机茶园，茶园的年产量为一百二十吨。",
    "Retrieval with dense vectors and BM25 keyword search.",
    "",
]


def reference_scores(texts: list[str], query: str) -> np.ndarray:
    corpus = [tokenize(t) or [""] for t in texts]
    n = len(corpus)
    avgdl = sum(len(doc) for doc in corpus) / n
    df = Counter(token for doc in corpus for token in set(doc))
    scores = np.zeros(n)
    for token in tokenize(query):
        if token not in df:
            continue
        idf = math.log(1 + (n - df[token] + 0.5) / (df[token] + 0.5))
        for i, doc in enumerate(corpus):
            tf = doc.count(token)
            if tf:
                scores[i] += idf * tf / (tf + K1 * (1 - B + B * len(doc) / avgdl))
    return scores


# --------------------------------------------------------------------------- tokenize


def test_traditional_script_folds_to_simplified() -> None:
    tokens = tokenize("個人手機銀行客戶")
    assert tokens == tokenize("个人手机银行客户")
    assert "银行" in tokens and "客户" in tokens
    assert not any(c in "".join(tokens) for c in "個機銀戶")


def test_stop_words_and_punctuation_are_dropped() -> None:
    tokens = tokenize("请问工行推出了多少项普惠金融服务？")
    assert not STOPWORDS & set(tokens)
    assert "请问" not in tokens and "多少" not in tokens and "了" not in tokens
    assert not [t for t in tokens if not any(ch.isalnum() for ch in t)]
    assert tokenize("？！，。") == [] and tokenize("什么") == []


def test_cjk_bigrams_rescue_words_jieba_splits_differently() -> None:
    tokens = tokenize("工行推出普惠金融")
    # jieba's words first, then every character bigram of the run, even across word boundaries
    assert tokens[:4] == ["工行", "推出", "普惠", "金融"]
    assert tokens[4:] == ["行推", "出普", "惠金"]
    # where jieba cuts 项普惠 as one word, the bigram 普惠 still matches a text that says 普惠
    question = tokenize("工行推出了多少项普惠金融API开放服务？")
    assert "项普惠" in question and "普惠" in question
    # a bigram equal to a word is not added twice by the bigram pass
    assert tokens.count("工行") == tokenize("工行").count("工行") == 1


def test_latin_words_are_kept_lower_cased_without_english_stop_words() -> None:
    tokens = tokenize("Retrieval with Dense vectors in FAISS")
    assert {"retrieval", "dense", "vectors", "faiss"} <= set(tokens)
    assert "with" not in tokens and "in" not in tokens
    assert not [t for t in tokens if len(t) == 2 and all("\u4e00" <= c <= "\u9fff" for c in t)]


def test_mixed_text_keeps_numbers_and_full_width_folds() -> None:
    tokens = tokenize("工行ＡＰＩ开放服务达１０９项")
    assert "api" in tokens and "109" in tokens


# --------------------------------------------------------------------------- BM25


@pytest.mark.parametrize(
    "query",
    [
        "工行推出了多少项普惠金融API开放服务？",
        "個人手機銀行客戶有多少？",
        "茶园的年产量",
        "dense retrieval",
        "工行 工行 茶园",  # repeated query words count once per occurrence
    ],
)
def test_bm25_scores_match_the_reference(query: str) -> None:
    index = LexicalIndex.build(TEXTS)
    expected = reference_scores(TEXTS, query)
    assert expected.any(), "the query should match something"
    np.testing.assert_allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_search_returns_matching_rows_best_first() -> None:
    index = LexicalIndex.build(TEXTS)
    expected = reference_scores(TEXTS, "茶园的年产量")
    results = index.search("茶园的年产量", k=3)
    assert list(results.indices) == [int(i) for i in np.argsort(-expected, kind="stable") if expected[i] > 0][:3]
    assert results.indices[0] == 3
    np.testing.assert_allclose(results.scores, expected[results.indices], rtol=1e-5)


def test_unknown_and_empty_queries_score_zero() -> None:
    index = LexicalIndex.build(TEXTS)
    assert not index.scores("量子色动力学").any()
    assert not index.scores("的吗？").any()
    assert len(index.search("量子色动力学", k=5).indices) == 0
    empty = LexicalIndex.build([])
    assert empty.scores("工行").shape == (0,)
    assert len(empty.search("工行", k=5).indices) == 0


def test_saved_index_scores_the_same(tmp_path: Path) -> None:
    index = LexicalIndex.build(TEXTS)
    index.save(tmp_path / "bm25")
    loaded = LexicalIndex.load(tmp_path / "bm25")
    query = "工行推出了多少项普惠金融API开放服务？"
    np.testing.assert_allclose(loaded.scores(query), index.scores(query))
