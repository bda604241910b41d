"""Deterministic citation check for generated answers: keep only what a cited passage says.

A language model writes fluent sentences with [n] markers, but nothing forces
the marker to point at a passage that says the same thing, nor the figures to
be the ones in the passage. This module checks each sentence against the
passages it cites, with no model involved, so that the same answer and
passages always give the same verdicts and a reviewer can redo the check by hand:

* a sentence without a marker, or citing only unknown passages, is unsupported;
* every number, date, percentage and amount in the sentence (``1,400`` and
  ``1400`` are the same; a magnitude or date unit such as 亿, 万, %, 年 must
  match too), every quoted name (“…” 「…」 《…》 "…") and every proper name
  (a person, place or organisation by jieba's part-of-speech tags, or a
  Latin-script name such as ICBC) must occur in the cited passage — a model
  that swaps 建设银行 for the passage's 工行 keeps most words but not the facts;
* enough of its content words (jieba words minus ``rag.text.lexical.STOPWORDS``)
  must occur in ONE sentence of that passage, which is shown as the quote.

Matching happens on folded text (``rag.text.folding.fold``: NFKC width folding,
traditional → simplified, lower case), so 銀行 matches 银行 and ２０２３ matches 2023.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import jieba
import jieba.posseg

from ..ingest.chunking import split_sentences
from ..settings import Settings, Unsupported
from ..text.folding import fold, has_cjk, language_of
from ..text.lexical import STOPWORDS

jieba.setLogLevel(logging.WARNING)

#: Share of a sentence's content words that one passage sentence must contain (``RAG_LLM_MIN_COVERAGE``).
DEFAULT_MIN_COVERAGE = Settings.llm_min_coverage

#: [1], [1][2], [1, 2], 【1】, ［1］ — the citation markers we accept.
MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、;；]\s*\d+)*)\s*[\]］】]")
_MARKERS = rf"(?:[ \t]*{MARKER.pattern})+"
_SPACED_MARKER = re.compile(rf"\s*{MARKER.pattern}")
_NON_WORD = re.compile(r"[\W_]+")
#: A sentence end followed by markers: "…亿元。[1]" is rewritten "…亿元[1]。" so the marker stays with its sentence.
_END_THEN_MARKERS = re.compile(rf"([。！？!?；;.…]+[”’」』）)》】\"']*)({_MARKERS})")
_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")
_UNIT_GAP = re.compile(r"(?<=\d)\s+(?=[%‰万亿千百年月日号])")
#: A number with its magnitude, percentage or date unit (the unit is part of the fact).
_FACT = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?:万亿|亿|万|千|百|%|‰|年|月|日|号)?")
_QUOTED = re.compile(r"“([^”]{1,80})”|「([^」]{1,80})」|『([^』]{1,80})』|《([^》]{1,80})》|\"([^\"]{1,80})\"")
_WORDLIKE = re.compile(r"\w")
_NUMERIC = re.compile(r"^[\d.,%‰]+$")
#: jieba part-of-speech tags of proper names: person, place, organisation, other proper noun.
NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz"})
#: A capitalised Latin word that does not start a sentence (names in English text).
_LATIN_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z0-9&.-]*[A-Za-z0-9]")
#: Words of a bare citation label ("支持资料[1][2]", "来源：[2]", "Source: [1]"): such a fragment
#: says nothing of its own, so its markers belong to the sentence before it.
CITATION_LABEL_WORDS = frozenset(
    "资料 资料来源 来源 出处 参考 参考资料 依据 根据 支持 支持资料 见 详见 引用 引自 摘自 段落 原文 文档 "
    "source sources passage passages reference references ref see cited citation".split()
)

UNSUPPORTED_NOTE = {
    "zh-hans": "「未经资料证实」",
    "zh-hant": "「未經資料證實」",
    "en": "(not supported by the documents)",
}


@dataclass(frozen=True)
class SentenceVerdict:
    text: str  # the sentence as written, without its markers
    cited: tuple[int, ...]  # passage numbers it cites, in order of appearance
    verified: bool
    quote: str | None  # the verbatim passage sentence that supports it
    reason: str  # why it was kept or rejected, for the UI, the JSON and the logs
    source: int | None = None  # the cited passage that supports it


@dataclass(frozen=True)
class Verification:
    sentences: tuple[SentenceVerdict, ...]

    @property
    def verified(self) -> tuple[SentenceVerdict, ...]:
        return tuple(s for s in self.sentences if s.verified)

    @property
    def share_verified(self) -> float:
        return len(self.verified) / len(self.sentences) if self.sentences else 0.0


# --------------------------------------------------------------------------- normalisation


def normalize(text: str) -> str:
    """Folded text with thousands separators and number–unit spaces removed: 1,400 亿 → 1400亿."""
    return _UNIT_GAP.sub("", _THOUSANDS.sub("", fold(text)))


def bare(text: str) -> str:
    """Folded text without markers, punctuation or spaces: for comparing answers, not for showing them."""
    return _NON_WORD.sub("", fold(MARKER.sub("", text)))


def facts(sentence: str) -> list[str]:
    """Numbers with their units, and quoted names, that the cited passage must contain (normalised)."""
    text = normalize(sentence)
    numbers = [m.group(0) for m in _FACT.finditer(text)]
    names = [next(g for g in m.groups() if g is not None).strip() for m in _QUOTED.finditer(text)]
    return numbers + [n for n in names if n]


def names(sentence: str) -> list[str]:
    """Proper names the sentence asserts (normalised), which the cited passage must contain too.

    In Chinese text: jieba's person, place and organisation words of two
    characters or more, and every Latin-script word (API, ETC, ICBC). In
    English text: capitalised words that do not start a sentence.
    """
    found: list[str] = []
    if has_cjk(sentence):
        for word, flag in jieba.posseg.cut(normalize(sentence)):
            word = word.strip()
            if len(word) >= 2 and (flag in NAME_TAGS or flag == "eng"):
                found.append(word)
    else:
        found = [normalize(m.group(0)) for m in _LATIN_NAME.finditer(sentence.strip())]
    return list(dict.fromkeys(found))


def has_fact(passage: str, fact: str) -> bool:
    """``fact`` occurs in the normalised passage, a number never as part of a longer number.

    Nor does a magnitude go missing: 1400 does not match 1400万, 5万 does not
    match 5万亿. A four-digit year matches without its 年 (2020年 ↔ 2020世界人工智能大会).
    """
    if not _FACT.fullmatch(fact):
        return fact in passage
    if re.fullmatch(r"\d{4}年", fact):
        fact = fact[:-1]
    if fact[-1].isdigit():
        after = r"(?!\.?\d)(?![万亿千百%‰])"
    elif fact[-1] in "千百万":
        after = r"(?![万亿])"
    else:
        after = ""
    return re.search(rf"(?<![\d.]){re.escape(fact)}{after}", passage) is not None


def content_words(sentence: str) -> list[str]:
    """Distinct normalised jieba words that carry meaning: no stop words, punctuation or bare numbers."""
    words: list[str] = []
    for word in jieba.cut(normalize(sentence)):
        word = word.strip()
        if word and word not in STOPWORDS and _WORDLIKE.search(word) and not _NUMERIC.match(word) and word not in words:
            words.append(word)
    return words


# --------------------------------------------------------------------------- splitting


def split_answer(answer_text: str) -> list[tuple[str, tuple[int, ...]]]:
    """(sentence without markers, cited passage numbers) for each sentence of the answer.

    Markers written after the full stop on the same line (…亿元。[1]) belong to
    the sentence before them; markers that stand alone, or behind a bare label
    such as 「来源：」 or 「支持资料」, are added to the previous sentence. A line
    break always ends a sentence (a list item, or a heading the model copied,
    is never glued to the sentence after it).
    """
    text = _END_THEN_MARKERS.sub(lambda m: m.group(2) + m.group(1) + " ", answer_text)
    pieces: list[tuple[str, tuple[int, ...]]] = []
    for raw in (line[s:e] for line in text.splitlines() for s, e in split_sentences(line)):
        cited = tuple(dict.fromkeys(int(n) for m in MARKER.finditer(raw) for n in re.split(r"\D+", m.group(1)) if n))
        sentence = re.sub(r"\s+", " ", _SPACED_MARKER.sub("", raw)).strip()
        if _WORDLIKE.search(sentence) and not (cited and pieces and _is_citation_label(sentence)):
            pieces.append((sentence, cited))
        elif pieces and cited:
            previous, before = pieces[-1]
            pieces[-1] = (previous, tuple(dict.fromkeys(before + cited)))
    return pieces


def _is_citation_label(fragment: str) -> bool:
    words = [w for w in (w.strip() for w in jieba.cut(normalize(fragment))) if _WORDLIKE.search(w)]
    return bool(words) and all(w in CITATION_LABEL_WORDS for w in words)


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Claims:
    """What a sentence asserts, worked out once however many passages it cites."""

    facts: tuple[str, ...]  # numbers with units and quoted names (``facts``)
    names: tuple[str, ...]  # proper names (``names``), those not already among the facts
    words: tuple[str, ...]  # content words (``content_words``)


def claims(sentence: str) -> Claims:
    found = facts(sentence)
    return Claims(tuple(found), tuple(n for n in names(sentence) if n not in found), tuple(content_words(sentence)))


def support(claim: Claims, passage: str, min_coverage: float = DEFAULT_MIN_COVERAGE) -> tuple[str | None, str]:
    """(quote, reason): the passage sentence that supports the claims, or None and why not."""
    folded_passage = normalize(passage)
    missing = [f for f in claim.facts if not has_fact(folded_passage, f)]
    missing += [n for n in claim.names if n not in folded_passage]
    if missing:
        return None, "not in the passage: " + ", ".join(missing)
    words = claim.words
    if not words:
        return None, "no content words to check"
    best, best_share = None, -1.0
    for start, end in split_sentences(passage):
        quote = passage[start:end]
        folded = normalize(quote)
        share = sum(w in folded for w in words) / len(words)
        if share > best_share:
            best, best_share = quote, share
    if best is None or best_share < min_coverage:
        return None, f"at most {best_share:.0%} of its content words are in one passage sentence"
    return best, f"{best_share:.0%} of its content words are in the quoted sentence"


def verify_sentence(sentence: str, cited: tuple[int, ...], passages: Mapping[int, str], min_coverage: float = DEFAULT_MIN_COVERAGE) -> SentenceVerdict:
    """The verdict for one sentence: supported by the first cited passage that supports it, if any."""
    if not cited:
        return SentenceVerdict(sentence, cited, False, None, "no citation marker")
    claim = claims(sentence)
    reasons = []
    for n in cited:
        if n not in passages:
            reasons.append(f"[{n}]: no such passage")
            continue
        quote, reason = support(claim, passages[n], min_coverage)
        if quote is not None:
            return SentenceVerdict(sentence, cited, True, quote, f"[{n}]: {reason}", n)
        reasons.append(f"[{n}]: {reason}")
    return SentenceVerdict(sentence, cited, False, None, "; ".join(reasons))


def verify(answer_text: str, passages: Mapping[int, str], min_coverage: float = DEFAULT_MIN_COVERAGE) -> Verification:
    """Check every sentence of ``answer_text`` against the passages it cites (``passages``: number → text)."""
    return Verification(tuple(verify_sentence(text, cited, passages, min_coverage) for text, cited in split_answer(answer_text)))


# --------------------------------------------------------------------------- display


def apply(verification: Verification, mode: Unsupported = Unsupported.DROP, language: str | None = None) -> str:
    """The text to display: verified sentences with the marker of the passage that supports them.

    ``drop`` leaves unsupported sentences out; ``strike`` keeps them, struck
    through and labelled (in ``language``, by default the answer's own), without
    markers, so that no unsupported sentence ever looks cited.
    """
    sentences = verification.sentences
    language = language or language_of("".join(s.text for s in sentences))
    parts = []
    for s in sentences:
        if s.verified:
            parts.append(f"{s.text}[{s.source}]")
        elif mode == Unsupported.STRIKE:
            parts.append(f"~~{s.text}~~ {UNSUPPORTED_NOTE[language]}")
    return (" " if language == "en" else "").join(parts)
