"""Whether the cited documents support every qualifier of the question: full, partial or none.

A near miss — the question asks about 2021, 建设银行 or 中学生; the passage
reports 2020, 工商银行 or 大学生 — must not be answered as if it matched. Each
qualifier the question names (``rag.text.qualifiers``) is held against the lead
citation, nearest evidence first:

* a time against the times the sentence names (a period the sentence names dates its fact; one it
  compares with, 超过一季度, does not; 当年 is the year just named), else
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
  word of such a family the document never uses (体重 of an article giving only 身长) fails too;
  so does a thing counted (多少箱方便面) where the quote's figures count only others (2000箱矿泉水);
* a dimension asked (多宽, 高度) fails when the quote gives lengths only by other dimensions (长702米，深80米);
* a measure asked (不良贷款率是多少, 退役军人有多少) fails when the quote's figures all measure another of
  its kind (资本充足率为12.77%, 残疾人4.25万人).

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
from ..text.dates import context_year
from ..text.figures import figure_in
from ..text.folding import cross_lingual, fold
from ..text.periods import bears_on, compatible, months_of, resolved, source_times, year_of
from ..text.qualifiers import GENERIC, Kind, Qualifier, When, editions_in, qualifiers, times_in, word_starts
from .names import SLOT_CHARS, first_noun, last_word, name_in, name_supported, places, replaced


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


def check(
    question: str, evidence: Evidence, newest_year: int | None, aliases: dict[str, frozenset[str]], families: tuple[tuple[str, ...], ...] = ()
) -> tuple[str, ...]:
    """The qualifiers of ``question`` the evidence does not support, as written, in reading order. A question
    in another script than the evidence (English asked of Chinese) shares no words with it: only its times count."""
    missing = []
    foreign = cross_lingual(question, evidence.sentence)
    found, folded = qualifiers(question, aliases), fold(question)
    found = sorted(found + _family_words(question, folded, found, families), key=lambda q: q.start)
    times = [(o.start, resolved(o.when, newest_year)) for o in found if o.kind == Kind.TIME and o.when]
    for q in found:
        if foreign and q.kind != Kind.TIME and not (q.kind == Kind.NAME and q.folded in aliases):
            continue  # an English word is checked only as a time or a name the alias table knows
        others = [when for start, when in times if start != q.start]
        if not _supported(q, evidence, newest_year, aliases, families, folded, others):
            missing.append(q.text)
    measure = _measure_asked(folded)
    if measure and not foreign and _measure_swapped(measure, evidence.sentence):
        at = folded.find(measure)
        missing.append(_as_written(question, folded, at, at + len(measure)))
    dimension = _DIMENSION_ASKED.search(folded)
    if dimension and not foreign and _other_dimension(dimension.group(1) or dimension.group(2), evidence.sentence):
        missing.append(_as_written(question, folded, dimension.start(), dimension.end()))
    return tuple(dict.fromkeys(missing))


def _as_written(question: str, folded: str, start: int, end: int) -> str:
    """A span of the folded question as the user wrote it (folding that changed the length leaves it folded)."""
    return question[start:end] if len(question) == len(folded) else folded[start:end]


#: A dimension asked (多宽, 高度是多少; not 高度重视, 深度心理学) and the words a sentence gives it by (宽/阔; 高/海拔).
_DIMENSION_ASKED = re.compile(r"多([宽高长深])|([宽高长深])度(?=[^，,。？?]{0,4}(?:多少|几|[？?]|$))")
_DIMENSION_WORDS = {"宽": "宽阔", "高": "高海拔", "长": "长", "深": "深"}
_LENGTH = r"[0-9][0-9.,]*\s*(?:[万千百])?\s*(?:米|公尺|厘米|公分|毫米|公里|千米|英尺|英里|km|m)"


#: What a how-much question measures, right before its asking word: 不良贷款率是多少, 新增就业的退役军人有多少.
_MEASURE_ASKED = re.compile(r"([\u4e00-\u9fff]{3,9}?)(?:是|为|有|约|达到?|大约|约为)?(?:多少|几)")
#: What stands between a measure and its figure in a sentence: 资本充足率为12.77%, 成交额达1.2亿元.
_TO_FIGURE = re.compile(r"[为是达约了到共：:\s]*$")
_FIGURE_START = re.compile(r"(?<![\d.])\d")


def _measure_of(phrase: str) -> str:
    """The measure a phrase ends with, by jieba's last words: 河北银行不良贷款率 → 不良贷款率, 增长率 → 增长率,
    退役军人 → 退役军人; "" when it ends otherwise (上海市政府的, 江苏有)."""
    words = [(w, f) for w, f in jieba.posseg.cut(phrase) if w.strip()]
    if len(words) > 1 and words[-1][0] in _HEADS and words[-2][1].startswith(_MEASURE_TAGS):
        return words[-2][0] + words[-1][0]
    return words[-1][0] if words and words[-1][1].startswith(_MEASURE_TAGS) and len(words[-1][0]) > 1 else ""


#: The characters a measure may end with as a word of its own (不良贷款|率), and jieba's tags of a measure's word.
_HEADS = "率额量值价"
_MEASURE_TAGS = ("n", "l", "vn")


def _measure_asked(folded: str) -> str:
    match = _MEASURE_ASKED.search(folded)
    measure = _measure_of(match.group(1)) if match else ""
    return measure if len(measure) >= _LEAST_MEASURE else ""


#: A measure shorter than this (利率, 总额) is too general to hold a sentence to.
_LEAST_MEASURE = 3


def _measure_swapped(asked: str, sentence: str) -> bool:
    """Whether the quote gives its figures for another measure of the same kind (the same last character) and
    never the asked one: 资本充足率为12.77% quoted for 不良贷款率, 残疾人4.25万人 for 退役军人. A measure
    sharing a character with the asked one (成交额 for 交易额) or holding its characters in order (城镇调查失业率
    for 失业率) may be the same, in other words."""
    if asked in sentence:
        return False
    head, body = asked[-1], set(asked[:-1])
    quoted = []
    for m in _FIGURE_START.finditer(sentence):
        before = _TO_FIGURE.sub("", sentence[max(0, m.start() - SLOT_CHARS - 2) : m.start()])
        if before.endswith(head):
            quoted.append(_measure_of(before))
    if not quoted:
        return False
    return not any(len(q) < 2 or body & set(q[:-1]) or _one_word(q, asked) for q in quoted)


def _other_dimension(asked: str, sentence: str) -> bool:
    """Whether the quote gives lengths only by other dimensions (长702米，深80米 for 多宽) and never names the asked one."""
    if any(ch in sentence for ch in _DIMENSION_WORDS[asked]):
        return False
    given = {ch for m in re.finditer(_LENGTH, sentence) for ch in sentence[max(0, m.start() - 3) : m.start()] if ch in "宽高长深"}
    return bool(given)


def _family_words(question: str, folded: str, found: list[Qualifier], families: tuple[tuple[str, ...], ...]) -> list[Qualifier]:
    """Words of a contrasting family the qualifiers missed (jieba tags 春季 a time word, not a noun): terms too.
    Only where a word starts: 哪一个人 (一个 / 人) holds no 个人, 进口额 holds 进口."""
    covered = {i for q in found for i in range(q.start, q.end)}
    extra = []
    for member in sorted({m for family in families for m in family} - GENERIC, key=len, reverse=True):
        at = folded.find(member)
        span = set(range(at, at + len(member)))
        if at >= 0 and not covered & span:
            if at not in word_starts(folded):
                continue
            covered |= span
            extra.append(Qualifier(Kind.TERM, _as_written(question, folded, at, at + len(member)), member, at, at + len(member)))
    return extra


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
    if q.kind == Kind.NAME and replaced(q, ev.sentence, question, aliases):
        return False  # the quote holds another name in its place: 重庆工行 for 成都工行, 山东女子学院 for 湖南女子学院
    if q.kind == Kind.NAME:
        return name_supported(q.folded, ev.passage, ev.document, aliases, question)
    if q.kind in (Kind.TERM, Kind.METRIC) and _modifier_swapped(q.folded, ev, question):
        return False  # 服务业增加值 quoted for 制造业增加值
    if q.kind in (Kind.TERM, Kind.METRIC) and _count_swapped(q, ev.sentence, question):
        return False  # 多少箱方便面 asked, 2000箱矿泉水 quoted
    if q.kind == Kind.METRIC and any(q.folded in family for family in families) and q.folded not in ev.document and not _by_unit(q.folded, ev.sentence):
        return False  # 体重 asked of a document that never speaks of weight: a word set against others is not paraphrased
    return not _contrasted(q.folded, ev.sentence, families)


#: Measures a sentence states by their unit alone (约8公斤重 gives a weight, 长约15厘米 a length).
_UNITS_OF = {
    **dict.fromkeys(("体重", "重量"), r"公斤|千克|公克|克|吨|斤|磅|kg"),
    **dict.fromkeys(("身高", "体长", "长度", "高度", "宽度", "深度", "树高", "臂展"), r"米|厘米|毫米|公分|公里|千米|英尺|英寸|cm|mm|km"),
    "面积": r"平方|公顷|亩",
    **dict.fromkeys(("年龄", "树龄", "寿命"), r"岁|年"),
}
#: The character each measure's figure is said with: 长约15厘米, 深80米, 约8公斤重.
_MEASURE_CHAR = {"体重": "重", "重量": "重", "身高": "高", "高度": "高", "树高": "高", "体长": "长", "长度": "长", "宽度": "宽", "深度": "深"}


def _by_unit(measure: str, sentence: str) -> bool:
    """Whether the sentence states the measure by a figure in its unit, said with the measure's own character
    where it has one: 长约15厘米 for 长度; but 身长30厘米 gives no 体重, and 深80米 no 宽度."""
    units = _UNITS_OF.get(measure)
    if units is None:
        return False
    char = _MEASURE_CHAR.get(measure, "")
    for m in re.finditer(r"[0-9０-９.]+\s*(?:[万千百])?\s*(?:" + units + ")", sentence):
        near = sentence[max(0, m.start() - 6) : m.end() + 1]
        if not char or char in near:
            return True
    return False


def _modifier_swapped(term: str, ev: Evidence, question: str) -> bool:
    """Whether the quote holds the term's head word with another noun before it, and the term's own
    modifier nowhere in its passage: 服务业增加值 for 制造业增加值, 刑事一审案件 for 一审破产案件."""
    if term in ev.sentence:
        return False
    words = [w for w in jieba.cut(term) if w.strip()]
    head, modifiers = words[-1] if words else "", [w for w in words[:-1] if len(w) >= 2]
    if len(head) < 2 or not modifiers or all(m in ev.passage for m in modifiers):
        return False
    for at in places(ev.sentence, head):
        other = last_word(ev.sentence[max(0, at - SLOT_CHARS) : at])
        if len(other) >= 2 and other not in question and other not in GENERIC and not other.isdigit():
            return True
    return False


def _count_swapped(q: Qualifier, sentence: str, question: str) -> bool:
    """Whether the question counts the term (多少箱方便面) and the quote counts something else with the same
    measure word (2000箱矿泉水) without ever naming the term: the figure is of another thing."""
    asked = _COUNTED.search(question[: q.start])
    if asked is None or q.folded in sentence:
        return False
    counted = [first_noun(sentence[m.end() :]) for m in re.finditer(_FIGURE + re.escape(asked.group(1)), sentence)]
    if not all(counted) or any(_one_word(c, q.folded) for c in counted):
        return False  # 24个省区、66个地市: one of the figures counts the asked thing, or may (no clear noun after it)
    return any(len(c) >= 2 and c not in question and c not in GENERIC for c in counted)


def _one_word(a: str, b: str) -> bool:
    """Whether one of two words holds the other's characters in order: the same thing (地市 for 地级市, 企业 for 株洲企业)."""
    short, long = sorted((a, b), key=len)
    rest = iter(long)
    return all(ch in rest for ch in short)


#: A how-many question's measure word right before the term it counts: 多少箱|方便面, 几家|株洲企业.
_COUNTED = re.compile(r"(?:多少|几)[万千百亿]*([个项家款户名位人种条只台辆座件箱吨套所部本张层艘头匹辆批])$")
_FIGURE = r"(?<![\d.])\d[\d.,]*\s*(?:[万千百亿]+)?(?:余|多)?"


# --------------------------------------------------------------------------- times


def _time_supported(asked: When, ev: Evidence, others: Sequence[When] = ()) -> bool:
    context = context_year(ev.passage) or context_year(ev.document)
    at = ev.passage.find(ev.sentence)
    earlier = [when.year for _s, _e, when in times_in(ev.passage[:at])] if at > 0 else []
    said_before = next((year for year in reversed(earlier) if year is not None), None)  # 同年7月: the year just named
    own = _without_bases(ev.sentence)  # the times the quote starts a span from or compares with date nothing
    for text, year in ((ev.sentence, said_before or context), (ev.passage, context)):
        quoted = text is ev.sentence
        dating = source_times(own if quoted else text, ev.published, year)
        times = list(dating)
        if quoted and said_before is not None and _SAME_YEAR.search(text):
            if not times and asked.year is not None and asked.year != said_before:
                return False  # 当年 is the year the passage just named, and no other: 1970年 asked of 1964's figure
            times.append(When(said_before))  # 当年，学生总数超过3000人: the year the passage just named
        if quoted and not times:
            times = [When(year) for year in _bare_years(text)]  # 在1848的选举中: a year written without 年
        if any(compatible(asked, t) for t in times):
            return True
        bearing = [t for t in dating if bears_on(asked, t)] if quoted else []  # 从2011年8月…到本周 dates nothing
        if bearing and not any(compatible(o, t) for o in others for t in bearing):
            return False  # 8月末 asked, 截至7月末 quoted: the passage's other times do not date this fact
    if source_times(own, ev.published, context):
        return False  # the quoted sentence dates its fact otherwise: 2021年 asked, 今年 (2020) quoted
    times = source_times(ev.document, ev.published, context)
    year = year_of(ev.published)
    if year is not None:
        month, day = int(ev.published[5:7] or 0), int(ev.published[8:10] or 0)
        times.append(When(year, None, None, month or None, day or None))
    return any(compatible(asked, t) for t in times)


def _without_bases(text: str) -> str:
    """The sentence with the times it starts a span from (从2011年8月, 自2019年起) or compares with
    (同比增速超过一季度) blanked out: neither dates its fact."""
    for start, end, _when in reversed(times_in(text)):
        if _NOT_DATING.search(text[max(0, start - 3) : start]):
            text = text[:start] + " " * (end - start) + text[end:]
    return text


_NOT_DATING = re.compile(r"(?:从|自|自从|比|较|超过|高于|低于|相比|对比)$")


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


#: A sentence speaking of the year named just before it.
_SAME_YEAR = re.compile(r"当年|同年|该年|这一年|是年")


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
    whole = document_text(document, passage)
    missing = check(question, Evidence(fold(sentence), fold(passage), fold(whole), published), newest_year, aliases, families)
    return Support(SupportLevel.PARTIAL, missing) if missing else Support()


def document_text(document: Document | None, passage: str) -> str:
    """What a qualifier is held against last: the cited document with its title (the passage when none is stored)."""
    return f"{document.title}\n{document.text}" if document is not None else passage


def named_nowhere(missing: Sequence[str], document: str, aliases: dict[str, frozenset[str]]) -> bool:
    """Whether the document names none of the phrases missing, under any alias: it is about something else."""
    if any(times_in(fold(phrase)) for phrase in missing):
        return False  # 2015年 missing: a year the article never names is the near miss itself, not another story
    folded = fold(document)
    return bool(missing) and not any(name_in(fold(phrase), folded, aliases) for phrase in missing)


__all__: Sequence[str] = ["Evidence", "Support", "SupportLevel", "check", "document_text", "named_nowhere", "support_of"]
