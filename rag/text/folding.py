"""Script, width and case folding for matching — never for display.

Users write 銀行 and the article says 银行; they type ＡＰＩ and the text says API.
Both retrieval channels (BM25 tokens and the dense model's input) see folded
text so that these match; everything shown to the user stays verbatim.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import opencc as opencc_package
from opencc import OpenCC

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


#: Folded texts kept: an answer folds every candidate sentence and title, and the next question about the
#: same story folds the same ones again (OpenCC's conversion is most of a question's lexical work). Only
#: texts up to a chunk's length are kept, so whole documents (example questions, the support check) never
#: fill the cache: at most about 16,384 × 600 characters, twice.
_FOLDED_KEPT = 16384
_FOLDED_KEPT_CHARS = 600


def fold(text: str) -> str:
    """NFKC (full width → half width), traditional → simplified, lower case."""
    return _fold_kept(text) if len(text) <= _FOLDED_KEPT_CHARS else _fold(text)


@lru_cache(maxsize=_FOLDED_KEPT)
def _fold_kept(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        text = _t2s().convert(text)
    return text.lower()


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    """Each character of the Basic Multilingual Plane as ``fold`` folds it alone: NFKC, then OpenCC's own
    traditional → simplified character table (its first choice for each), then lower case."""
    t2s: dict[str, str] = {}
    path = Path(opencc_package.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        if len(traditional) == 1 and simplified.split():
            t2s[traditional] = simplified.split()[0]
    table: dict[int, str] = {}
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:  # surrogates stand for nothing alone
            continue
        folded = "".join(t2s.get(c, c) for c in unicodedata.normalize("NFKC", char)).lower()
        if folded != char:
            table[code] = folded
    return table


def fold_chars(text: str) -> str:
    """``fold`` character by character, in one pass: what a substring search over a whole library folds with.

    Why not ``fold``: OpenCC's phrase conversion (pure Python) reads about a million characters a
    second and NFKC another ten million, so folding an archive of 20,000 articles took seconds; one
    table lookup per character takes a fraction of that. Phrases whose characters convert differently
    in context (乾 in 乾隆 and 乾燥) are rare, and both sides of a match are folded the same way.
    """
    return text.translate(_fold_table())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def cross_lingual(question: str, passage: str) -> bool:
    """A question without Chinese asked of a Chinese passage: no words to share, only the dense cosine to judge by."""
    return not has_cjk(question) and has_cjk(passage)


def language_of(text: str) -> str:
    """'zh-hans', 'zh-hant' or 'en': the language an answer to ``text`` is written in."""
    if not has_cjk(text):
        return "en"
    hans = _t2s().convert(text)
    return "zh-hant" if hans != text else "zh-hans"
