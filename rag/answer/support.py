"""Whether the cited documents support every qualifier of the question: full, partial or none.

A near miss — the question asks about 2021, 建设银行 or 中学生; the passage
reports 2020, 工商银行 or 大学生 — must not be answered as if it matched. Each
qualifier the question names (``rag.text.qualifiers``) is held against the lead
citation, nearest evidence first:

* a time against the times the sentence names (a period the sentence names dates its fact), else
  its passage's, else the document's (and its publication date); 今年/去年 in a source are read
  against that source's publication date, in the question against the newest document;
* an edition (第五届) likewise: the nearest text naming that kind of edition decides;
* a name (工行, 重庆, 《封神第一部》) and a stated figure (30, or 三十) against the whole document
  and its title, with the alias table (``rag.text.aliases``); a name also fails when the quoted
  sentence holds another name in its slot (山东女子学院 for 湖南女子学院);
* another noun (中学生, 法人客户, 进口额) fails when the quoted sentence names another member of a
  family of contrasting words in its place (大学生, 个人客户, 出口额; the families are in
  ``rag.text.aliases``) and not the question's own, or the noun's head with another modifier while
  the passage never names the question's (服务业增加值 for 制造业增加值); a measure asked that is a
  word of such a family the document never uses (体重 of an article giving only 身长) fails too.

``missing`` lists what is not supported, as the user wrote it; a refused answer
is ``none``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import jieba.posseg

from ..ingest.documents import Document
from ..text.aliases import REGIONS, in_text, names_for
from ..text.dates import context_year
from ..text.figures import figure_in
from ..text.folding import cross_lingual, fold, has_cjk
from ..text.periods import bears_on, compatible, months_of, resolved, source_times, year_of
from ..text.qualifiers import GENERIC, Kind, Qualifier, When, editions_in, name_kind, qualifiers, times_in


class SupportLevel(StrEnum):
    FULL = "full"  # every qualifier of the question is in the cited evidence
    PARTIAL = "partial"  # the closest evidence leaves out something the question names (``missing``)
    NONE = "none"  # the documents do not answer it: the answer is a refusal


@dataclass(frozen=True)
class Support:
    level: SupportLevel = SupportLevel.FULL
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """What one qualifier is held against, nearest first; all folded."""

    sentence: str
    passage: str
    document: str
    published: str = ""  # ISO date of the document, "" when unknown


#: Suffixes a name may be written with or without: 上海市 ↔ 上海, 华为公司 ↔ 华为.
_NAME_SUFFIX = re.compile(r"(?:股份有限公司|有限公司|股份公司|公司|集团|市|省|县|区|镇|乡|村|州)$")


def check(
    question: str, evidence: Evidence, newest_year: int | None, aliases: dict[str, frozenset[str]], families: tuple[tuple[str, ...], ...] = ()
) -> tuple[str, ...]:
    """The qualifiers of ``question`` the evidence does not support, as written, in reading order. A question
    in another script than the evidence (English asked of Chinese) shares no words with it: only its times count."""
    missing = []
    foreign = cross_lingual(question, evidence.sentence)
    found, folded = qualifiers(question, aliases), fold(question)
    times = [(o.start, resolved(o.when, newest_year)) for o in found if o.kind == Kind.TIME and o.when]
    for q in found:
        if foreign and q.kind != Kind.TIME and not (q.kind == Kind.NAME and q.folded in aliases):
            continue  # an English word is checked only as a time or a name the alias table knows
        others = [when for start, when in times if start != q.start]
        if not _supported(q, evidence, newest_year, aliases, families, folded, others):
            missing.append(q.text)
    return tuple(dict.fromkeys(missing))


def _supported(
    q: Qualifier,
    ev: Evidence,
    newest_year: int | None,
    aliases: dict[str, frozenset[str]],
    families: tuple[tuple[str, ...], ...],
    question: str,
    other_times: Sequence[When],
) -> bool:
    if q.kind == Kind.TIME and q.when is not None:
        when = q.when
        if when.relative is not None and months_of(when) is None and when.day is None:  # 今年 alone: the source's year
            if newest_year is None:
                return True
            target = newest_year + when.relative
            named = [t.year for text in (ev.sentence, ev.passage) for t in source_times(text, ev.published)]
            return target in named or year_of(ev.published) in (target, None)
        return _time_supported(resolved(when, newest_year), ev, other_times)
    if q.kind == Kind.EDITION and q.edition is not None:
        return _edition_supported(q.edition, ev)
    if q.kind == Kind.NUMBER:
        return figure_in(q.folded, ev.document)
    if q.kind == Kind.NAME and _replaced(q, ev.sentence, question, aliases):
        return False  # the quote holds another name in its place: 重庆工行 for 成都工行, 山东女子学院 for 湖南女子学院
    if q.kind == Kind.NAME:
        return _name_supported(q.folded, ev, aliases, question)
    if q.kind in (Kind.TERM, Kind.METRIC) and _modifier_swapped(q.folded, ev, question):
        return False  # 服务业增加值 quoted for 制造业增加值
    if q.kind == Kind.METRIC and any(q.folded in family for family in families) and q.folded not in ev.document:
        return False  # 体重 asked of a document that never speaks of weight: a word set against others is not paraphrased
    return not _contrasted(q.folded, ev.sentence, families)


def _modifier_swapped(term: str, ev: Evidence, question: str) -> bool:
    """Whether the quote holds the term's head word with another noun before it, and the term's own
    modifier nowhere in its passage: 服务业增加值 for 制造业增加值, 刑事一审案件 for 一审破产案件."""
    if term in ev.sentence:
        return False
    words = [w for w in jieba.cut(term) if w.strip()]
    head, modifiers = words[-1] if words else "", [w for w in words[:-1] if len(w) >= 2]
    if len(head) < 2 or not modifiers or all(m in ev.passage for m in modifiers):
        return False
    for at in _places(ev.sentence, head):
        other = _last_word(ev.sentence[max(0, at - _SLOT_CHARS) : at])
        if len(other) >= 2 and other not in question and other not in GENERIC and not other.isdigit():
            return True
    return False


#: What may stand between a qualifier's neighbour and the qualifier: 的, 为, 在, 对 …
_GLUE = "的为在对向与和之是了超过约近达"
#: The longest replacement the slot check accepts, and the most a neighbour may stand off.
_SLOT_CHARS = 8
_NEIGHBOUR_GAP = 2


def _replaced(q: Qualifier, sentence: str, question: str, aliases: dict[str, frozenset[str]]) -> bool:
    """Whether the quoted sentence keeps the name's neighbours from the question but holds another name
    between them (or right after the left one): the question changed that slot."""
    if q.folded in sentence or in_text(q.folded, sentence, aliases) or len(q.folded) < 2:
        return False
    if _ASKING_NEAR.search(question[max(0, q.start - _NEIGHBOUR_GAP) : q.end + _NEIGHBOUR_GAP + 1]):
        return False  # 什么名次, 母亲为谁: the slot beside the asking word holds the answer, not a rival
    left, right = _neighbours(question, q.start, q.end)
    if not left and not right:
        return False
    for at in _places(sentence, left) if left else [0]:
        tail = sentence[at + len(left) :].lstrip(_GLUE) if left else sentence
        if right:
            end = tail.find(right, 1, _SLOT_CHARS + len(right) + 1)
            slot = tail[:end].strip(_GLUE) if end > 0 else ""
        elif left:
            slot = _first_word(tail)
        else:
            slot = ""
        if _rival(slot, q.folded, question, 2, aliases):
            return True
    if right and not left:
        for at in _places(sentence, right):
            slot = _last_word(sentence[max(0, at - _SLOT_CHARS) : at].rstrip(_GLUE))
            if _rival(slot, q.folded, question, 1, aliases):
                return True
    return False


def _rival(slot: str, asked: str, question: str, spread: int, aliases: dict[str, frozenset[str]]) -> bool:
    """A name in the slot that stands for another thing than the one asked (not a generic 全市, not a figure;
    a common noun there is more often the article's own word for the asked thing: 市民 for 民众)."""
    kind, asked_kind = _kind_of(slot, aliases) if slot else "", _kind_of(asked, aliases)
    return (
        bool(slot)
        and (slot in aliases or bool(kind))
        and not (kind and asked_kind and kind != asked_kind)  # 雷根 beside 总统 is no rival to 美国
        and (_regional(slot, aliases) or not _regional(asked, aliases))  # nor is 茂宜岛 beside 夏威夷州
        and bool(_CJK_SLOT.match(slot))
        and slot != asked
        and asked not in slot
        and slot not in question
        and slot not in GENERIC
        and abs(len(slot) - len(asked)) <= spread
    )


_ASKING_NEAR = re.compile(r"什么|多少|几|哪|谁|为何|何")


_CJK_SLOT = re.compile(r"^[\u4e00-\u9fff]{1,8}$")


def _places(text: str, word: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(word), text)] if word else []


def _neighbours(question: str, start: int, end: int) -> tuple[str, str]:
    """The content words right before and after a span of the folded question (question words, particles and
    figures are no neighbours: they are the same in every sentence)."""
    words, position = [], 0
    for word, flag in jieba.posseg.cut(question):
        words.append((position, position + len(word), word, flag))
        position += len(word)
    content = [(s, e, w) for s, e, w, f in words if len(w) >= 2 and f[:1] in "nvaj" and not _ASKING_WORD.match(w)]
    before = [w for s, e, w in content if e <= start and start - e <= _NEIGHBOUR_GAP]
    after = [w for s, e, w in content if s >= end and s - end <= _NEIGHBOUR_GAP]
    return (before[-1] if before else "", after[0] if after else "")


_ASKING_WORD = re.compile(r"^(?:多少|几|什么|哪|谁|如何|怎么|是否)")


def _first_word(text: str) -> str:
    for word, flag in jieba.posseg.cut(text[: _SLOT_CHARS * 2]):
        return word if flag.startswith(("n", "j")) else ""
    return ""


def _last_word(text: str) -> str:
    words = [(w, f) for w, f in jieba.posseg.cut(text)]
    return words[-1][0] if words and words[-1][1].startswith(("n", "j")) else ""


def _name_supported(name: str, ev: Evidence, aliases: dict[str, frozenset[str]], question: str) -> bool:
    """A name the document names is supported. A place or organisation it never names is not when its
    passage speaks of another of that kind (成都 asked, a passage about 重庆; 建设银行 asked, one about
    工行; a province or country only by another province or country), and stands otherwise: a reader's
    own context (美国 for an article about OpenAI). A person, or a name of no known kind, must be named."""
    if _name_in(name, ev.document, aliases):  # named elsewhere: the quote about another of its kind does not count
        return _name_in(name, ev.passage, aliases) or not _other_of_kind(name, ev.passage, aliases, question)
    kind = _kind_of(name, aliases)
    return kind in ("place", "org") and not _other_of_kind(name, ev.passage, aliases, question)


# --------------------------------------------------------------------------- times


def _time_supported(asked: When, ev: Evidence, others: Sequence[When] = ()) -> bool:
    context = context_year(ev.passage) or context_year(ev.document)
    at = ev.passage.find(ev.sentence)
    earlier = [when.year for _s, _e, when in times_in(ev.passage[:at])] if at > 0 else []
    said_before = next((year for year in reversed(earlier) if year is not None), None)  # 同年7月: the year just named
    for text, year in ((ev.sentence, said_before or context), (ev.passage, context)):
        times = source_times(text, ev.published, year)
        if text is ev.sentence and said_before is not None and _SAME_YEAR.search(text):
            times.append(When(said_before))  # 当年，学生总数超过3000人: the year the passage just named
        if text is ev.sentence and not times:
            times = [When(year) for year in _bare_years(text)]  # 在1848的选举中: a year written without 年
        if any(compatible(asked, t) for t in times):
            return True
        dating = source_times(_without_starts(text), ev.published, year) if text is ev.sentence else []
        bearing = [t for t in dating if bears_on(asked, t)]  # 从2011年8月…到本周: where a span starts dates nothing
        if bearing and not any(compatible(o, t) for o in others for t in bearing):
            return False  # 8月末 asked, 截至7月末 quoted: the passage's other times do not date this fact
    if source_times(_without_starts(ev.sentence), ev.published, context):
        return False  # the quoted sentence dates its fact otherwise: 2021年 asked, 今年 (2020) quoted
    times = source_times(ev.document, ev.published, context)
    year = year_of(ev.published)
    if year is not None:
        month, day = int(ev.published[5:7] or 0), int(ev.published[8:10] or 0)
        times.append(When(year, None, None, month or None, day or None))
    return any(compatible(asked, t) for t in times)


def _without_starts(text: str) -> str:
    """The text with the times that open a span (从2011年8月, 自2019年起) blanked out."""
    for start, end, _when in reversed(times_in(text)):
        if _SPAN_START.search(text[max(0, start - 2) : start]):
            text = text[:start] + " " * (end - start) + text[end:]
    return text


_SPAN_START = re.compile(r"(?:从|自|自从)$")


def _bare_years(text: str) -> list[int]:
    return [int(m.group()) for m in _BARE_YEAR.finditer(text)]


#: A year written as four digits alone (not a figure: 1848万, 2000.5, 1999%).
_BARE_YEAR = re.compile(r"(?<![0-9.,])(?:1[0-9]|20)[0-9]{2}(?![0-9]|[.,][0-9]|[万亿千百%‰])")


# --------------------------------------------------------------------------- editions, figures, names, siblings


def _edition_supported(edition: tuple[int, str], ev: Evidence) -> bool:
    number, unit = edition
    for text in (ev.sentence, ev.passage, ev.document):
        same_kind = [n for _s, _e, (n, u) in editions_in(text) if u == unit]
        if same_kind:
            return number in same_kind
    return False


def _name_in(name: str, text: str, aliases: dict[str, frozenset[str]]) -> bool:
    if in_text(name, text, aliases):
        return True
    if _PUNCTUATION.search(text) and _PUNCTUATION.sub("", name) in _PUNCTUATION.sub("", text):
        return True  # 封神第一部 in 《封神：第一部》
    bare = _NAME_SUFFIX.sub("", name)
    if bare != name and len(bare) >= 2 and in_text(bare, text, aliases):
        return True
    trimmed = [name[1:]] * (name[0] in _LEADING_WORDS) + [name[:-1]] * (name[-1] in _TRAILING_WORDS)
    if len(name) >= 3 and any(in_text(part, text, aliases) for part in trimmed if len(part) >= 2 and name_kind(part)):
        return True  # 杜拜曾 (杜拜 + 曾经), 明崇祯: jieba took a word's character into the name
    parts = [p for p in _known_parts(name, aliases) if p]
    return len(parts) > 1 and all(in_text(p, text, aliases) or (len(p) >= 2 and p in text) for p in parts)


#: One-character words jieba may glue to a name: a dynasty or 原/新 before it, 曾/第/将 after it.
_LEADING_WORDS = "明清宋唐元汉秦隋晋原新老前"
_TRAILING_WORDS = "曾第将名等在于时后前们"
#: What a title may be written with or without: 封神：第一部, 封神 第一部.
_PUNCTUATION = re.compile(r"[\W_]+")
#: A sentence speaking of the year named just before it.
_SAME_YEAR = re.compile(r"当年|同年|该年|这一年|是年")


def _other_of_kind(name: str, passage: str, aliases: dict[str, frozenset[str]], question: str) -> bool:
    """Whether the passage speaks of another place (organisation, person) where the question names this one:
    成都 asked, a passage about 重庆 that never says 成都 — though the document may, elsewhere."""
    if in_text(name, passage, aliases):
        return False
    kind = _kind_of(name, aliases)
    if not kind:
        return False
    region = _regional(name, aliases)
    for q in qualifiers(passage, aliases):
        other = q.folded
        if q.kind != Kind.NAME or other in question or in_text(other, question, aliases) or _kind_of(other, aliases) != kind:
            continue
        if not region or _regional(other, aliases):
            return True
    return False


def _regional(name: str, aliases: dict[str, frozenset[str]]) -> bool:
    """A province or country (``REGIONS``), under any of its names."""
    return name in REGIONS or any(alias in REGIONS for alias in names_for(name, aliases))


def _kind_of(name: str, aliases: dict[str, frozenset[str]]) -> str:
    """place, org or person: of the name, else of its first Chinese alias (Sichuan → 四川)."""
    kind = name_kind(name)
    if kind:
        return kind
    chinese = [alias for alias in names_for(name, aliases) if has_cjk(alias) and len(alias) > 1 and alias != name]
    return name_kind(chinese[0]) if chinese else ""


def _known_parts(name: str, aliases: dict[str, frozenset[str]]) -> list[str]:
    """A name cut at the aliases it holds (重庆工行 → 重庆, 工行); [] when it holds none."""
    cuts: list[tuple[int, int]] = []
    for alias in sorted((a for a in aliases if len(a) > 1), key=len, reverse=True):
        at = name.find(alias)
        if at >= 0 and not any(s < at + len(alias) and at < e for s, e in cuts) and len(alias) < len(name):
            cuts.append((at, at + len(alias)))
    if not cuts:
        return []
    parts, position = [], 0
    for start, end in sorted(cuts):
        parts += [name[position:start], name[start:end]]
        position = end
    return [p for p in [*parts, name[position:]] if p]


def _contrasted(term: str, sentence: str, families: tuple[tuple[str, ...], ...]) -> bool:
    """Whether ``sentence`` names, where the question's ``term`` would stand, another member of a family
    the term belongs to (大学生 for 中学生, 个人客户 for 法人客户), and not the term's own member."""
    for family in families:
        for member in family:
            if member not in term or member in sentence:
                continue
            if any(other != member and other not in term and other in sentence for other in family):
                return True
    return False


def support_of(
    question: str,
    sentence: str,
    passage: str,
    document: Document | None,
    published: str,
    newest_year: int | None,
    aliases: dict[str, frozenset[str]],
    families: tuple[tuple[str, ...], ...] = (),
) -> Support:
    """The support of an answer whose lead quotes ``sentence`` of ``passage`` in ``document``: the
    qualifiers of the question they leave out (a refusal's support is ``none``, set where it refuses)."""
    whole = f"{document.title}\n{document.text}" if document is not None else passage
    missing = check(question, Evidence(fold(sentence), fold(passage), fold(whole), published), newest_year, aliases, families)
    return Support(SupportLevel.PARTIAL, missing) if missing else Support()


__all__: Sequence[str] = ["Evidence", "Support", "SupportLevel", "check", "support_of"]
