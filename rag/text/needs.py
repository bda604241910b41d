"""What a question asks for, in other words: its needs, and the spans of a sentence that meet them.

A question says 比上年多了多少 and the passage says 增加1403万户; it says 排第几
and the passage says 位居第一; it asks 谁 and the passage names a person or an
organisation. ``needs_of`` reads the kinds of fact a question asks for (once,
in ``rag.search.question.prepare``); ``answer_spans`` finds, in a sentence, the spans
that would answer them — the figure, the date, the name — so the answer can
open with the sentence that holds the asked fact, mark it, and the refusal
gate can tell a passage that holds that kind of fact from one that only shares
the question's words.

Matching is on the folded sentence (simplified, half width) aligned character
by character with the original, so span offsets are exact in the text shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .folding import fold


class Need(StrEnum):
    NUMBER = "number"  # 多少, 几个, how many
    INCREASE = "increase"  # 多了多少, 增长了多少 ↔ 增加/新增/增长/提升 + a figure
    DECREASE = "decrease"  # 少了多少, 下降了多少 ↔ 减少/下降/降低 + a figure
    TOTAL = "total"  # 一共多少, 总额 ↔ 共计/总额/合计/累计 + a figure
    RATIO = "ratio"  # 比例, 百分之几 ↔ 12%, 百分之三十, 3个百分点
    RANK = "rank"  # 第几, 排名 ↔ 第一/位居/排名/领先/榜首
    DATE = "date"  # 何时, 哪一年 ↔ 2023年8月, 上半年, 19世纪
    WHO = "who"  # 谁, 哪家公司 ↔ a person or organisation name
    PLACE = "place"  # 哪里, 哪个国家 ↔ a place name
    REASON = "reason"  # 为什么 ↔ 因为/由于/得益于 …
    NAME = "name"  # 什么产品, 叫什么, 英文简称 ↔ a name in quotes (“旺农贷”, 《…》), a Latin name (D-ICBC), what follows 又名


# --------------------------------------------------------------------------- the question's side

_NOT_ORDINAL = r"(?<!第)"
_HOW_MANY = _NOT_ORDINAL + r"(?:多少|几(?![乎])|多大|多长|多高|多远|多久|多重|多深|多宽|多快)"
#: A question asking for a percentage or a rate (百分之多少, 失业率是多少), not a proportion said otherwise (男女比例).
_PERCENT_ASKED = r"百分比|百分之(?:几|多少)|率(?:是|有|为|达到?)?(?:多少|多高|多大|几)|多少%|percent"
_QUESTION_PATTERNS: tuple[tuple[Need, str], ...] = (
    (Need.RANK, r"第几|第多少|排名|排第|名次|哪一名|位居|位列|位次|排行|\brank"),
    (Need.RATIO, r"比例|占比|比重|几成|" + _PERCENT_ASKED),
    #: A hotline or a phone number asked by which (打哪个反诈专线): the answer is its digits (96110).
    (
        Need.NUMBER,
        _HOW_MANY + r"|(?:哪个|哪条|什么)[^，,。？?时候地方]{0,3}(?:热线|专线|电话|号码)|how (?:many|much|long|old|far|big|tall)|what (?:number|percentage)",
    ),
    (Need.DATE, r"何时|什么时[候间]|哪[一]?年|哪个月|哪[一]?天|几月|几号|何年|哪[一个]?朝代|什么朝代|哪个世纪|\bwhen\b|what (?:year|date)|日期是"),
    (
        Need.NAME,
        r"什么(?:产品|项目|平台|品牌|系统|工程|计划|活动|奖项?|称号|荣誉|名字|名称|级别|评级|歌曲?|电影|书|节目|作品)|叫什么(?!人)|[叫称][作做]什么|名为什么|称为什么|称之为什么"
        r"|哪[首部本篇](?!分)|哪个(?:活动|项目|品牌|节目|平台|奖项?)"
        r"|(?:名称|简称|全称|别名|别称|又名|英文名|英文简称|缩写|绰号|外号)(?:是什么|叫什么|为何)?|\bcalled\b|what is the name",
    ),
    (
        Need.WHO,
        r"谁|哪一?位|何人|什么人|哪些人|叫什么名字|姓名|哪一?家|哪所|哪一?支|哪个(?:公司|机构|组织|银行|企业|单位|部门|学校|大学|团队|球队|政府|媒体|品牌)|什么(?:公司|机构|组织|银行|企业|单位|部门|大学|学校|品牌)|\bwho\b|which (?:company|organi[sz]ation|bank)",
    ),
    (Need.PLACE, r"哪里|哪儿|在哪|何地|何处|哪[个一]?(?:国家|城市|省|地区|地方|州|县|市|区|国|座山|条河|片海)|哪国|什么地方|\bwhere\b"),
    #: 称为什么 / 名为什么 / 为什么样 ask for a name or a kind, not a reason; so does 为什么 ending the question
    #: after another word (反应表现为什么, 被誉为什么), unless it follows 是 (这是为什么).
    (Need.REASON, r"(?<![称名作视成译改叫之])为(?:什么|何)(?!样)(?![？?]?$)|(?:^|是)为(?:什么|何)(?=[？?]?$)|原因|缘故|何故|怎么会|\bwhy\b"),
)
#: Modifiers of a number need: the same change or total asked in other words.
_CHANGE_PATTERNS: tuple[tuple[Need, str], ...] = (
    (
        Need.INCREASE,
        r"增加|新增|增长|增幅|增量|提升|提高|上升|上涨|涨了|[涨升增][到至]|多了|多出|扩大|(?<![对相])比(?![例重率赛较如方分])[^，,。？?]{0,15}?(?:多|增|涨|高)|\b(?:increase|grow|rise)",
    ),
    (
        Need.DECREASE,
        r"减少|下降|降低|下滑|少了|缩小|回落|下跌|[降减跌][到至]|(?<![对相])比(?![例重率赛较如方分])[^，,。？?]{0,15}?(?:(?<!多)少|减|降|低)|\b(?:decrease|fall|drop)",
    ),
    (Need.TOTAL, r"一共|总共|共有|总额|总量|总数|总计|合计|累计|共计|总规模|\b(?:total|in all)\b"),
)
_UNITS = (
    r"个百分点|平方公里|平方米|公里|千米|公斤|千克|公顷|美元|港元|欧元|英镑|日元|韩元|人民币|小时|分钟|周年|人次|架次|"
    r"[个项家款户名位人次倍年岁种元条只台辆座届期所部本张件层米克吨度秒天周股枚颗幅首场轮批篇页字家间匹头艘亩斤]"
)
_QUESTION_UNIT = re.compile(r"(?:多少|几)([万亿千百]*(?:" + _UNITS + r"))")


def needs_of(folded: str) -> tuple[Need, ...]:
    """The kinds of fact a folded question asks for, most specific first (a change before its number)."""
    found = [need for need, pattern in _QUESTION_PATTERNS if re.search(pattern, folded)]
    if Need.NUMBER in found or Need.RATIO in found:
        found = [need for need, pattern in _CHANGE_PATTERNS if re.search(pattern, folded)] + found
        if Need.RATIO in found and Need.NUMBER not in found:
            found.append(Need.NUMBER)
    return tuple(dict.fromkeys(found))


#: How a question asks for a measure in other words than its unit: the units a figure answering it ends with.
_MEASURES: tuple[tuple[str, str], ...] = (
    (r"多少钱|多少资金|多少费用|花了多少|花费多少|赔偿多少|罚款多少|罚了多少|多少(?:经费|奖金|投资)", "元|美元|欧元|英镑|日元|港元|韩元|卢布|万|亿"),
    (r"多久|多长时间|几天|多少天|多少年|几年|多少个月|几个月|多少小时|几个小时|多少分钟|几分钟", "天|日|小时|分钟|秒|周|个月|月|年"),
    (r"多大年纪|多大岁数|几岁|多少岁|年龄", "岁"),
    (r"(?<!率)(?<!率有)(?<!率是)多高|多长(?!时间)|多宽|多深|多远|高度|长度|距离", "米|厘米|毫米|公里|千米|英里|英尺"),
    (r"多重|重量|体重", "公斤|千克|克|吨|斤|磅"),
    (r"多少人|几个人|几人|多少名|多少位|人数", "人|名|位|人次"),
    (r"多少倍|几倍", "倍"),
)


def unit_of(folded: str) -> str:
    """The measure word a how-many question names (多少项 → 项, 几万户 → 万户), or the units a measure asked
    in other words takes (多少钱 → 元|美元|…, 多久 → 天|小时|…), or the kind of name a which-question
    names (哪个镇 → 镇, 哪家公司 → 公司), else "". Several units are separated by ``|``; a score asked
    (比分是多少) is ``SCORE`` and when something ends (开到哪天为止) is ``UNTIL``."""
    if _SCORE_ASKED.search(folded):
        return SCORE
    if _UNTIL_ASKED.search(folded):
        return UNTIL
    match = _QUESTION_UNIT.search(folded)
    if match:
        unit = match.group(1)
        return _SAME_UNITS.get(unit, unit)
    measured = next((units for pattern, units in _MEASURES if re.search(pattern, folded)), "")
    if measured:
        return measured
    match = _QUESTION_KIND.search(folded)
    return match.group(1) if match else ""


#: Measure words that count the same thing: 多少天 is answered by 60日, 多少人 by 23名.
_SAME_UNITS = {"天": "天|日", "人": "人|名|位", "名": "名|人|位", "位": "位|名|人"}
#: A match's score is asked for (比分是多少, 几比几) and written as two figures: 3:0, 2比1.
_SCORE_ASKED = re.compile(r"比分|比数|几比几|多少比多少")
SCORE = "比分"
#: When something ends is asked (开到哪天为止, 持续到什么时候, 改到了哪天, 最晚哪天): the date after 至/到 answers it, not the opening day.
_UNTIL_ASKED = re.compile(
    r"(?:到|至|截止到?|持续到|延续到|开到|办到)了?(?:哪天|哪一天|什么时候|何时|哪一年|哪年|几月|几号|哪个月)"
    r"|(?:哪天|哪一天|什么时候|何时|哪一年|几月几[日号])(?:为止|结束|截止|闭幕|闭馆)"
    r"|(?:最晚|最迟)(?:在|于|到|是)?(?:哪天|哪一天|什么时候|何时|哪一年|哪年|几月|几号|哪个月)"
)
UNTIL = "至"
_UNTIL_BEFORE = re.compile(r"(?:至|到|止|截至|截止)\s*$")
_UNTIL_AFTER = re.compile(r"^\s*(?:\d{1,2}\s*[时点](?:\d{1,2}分)?\s*)?(?:正式)?(?:结束|闭幕|闭馆|截止|为止|止|关闭|到期|停止)")
#: How many characters before and after a date may say it is an end: 延续至|10月8日, 7月31日|24时正式关闭.
_UNTIL_BEFORE_REACH, _UNTIL_AFTER_REACH = 3, 10


def _ends(folded: str, start: int, end: int) -> bool:
    """Whether the date at ``start:end`` is when something ends: 延续至10月8日, 8月30日闭幕, 7月31日24时正式关闭."""
    return bool(_UNTIL_BEFORE.search(folded[max(0, start - _UNTIL_BEFORE_REACH) : start]) or _UNTIL_AFTER.match(folded[end : end + _UNTIL_AFTER_REACH]))


#: A count of days written with 日 (停业整顿60日, 15个工作日), not a day of a month (8月9日).
_DAY_COUNT = re.compile(r"(?<![月\d.])\d{1,4}\s*(?:个)?(?:工作)?日(?![\d])")
_SCORE = re.compile(r"(?<![\d.:：])\d{1,3}\s*[:：比]\s*\d{1,3}(?![\d.:：])")


def in_unit(span: str, unit: str) -> bool:
    """Whether a figure or name ends with the unit, or one of the units, a question asks in."""
    return bool(unit) and any(span.endswith(u) for u in unit.split("|"))


# --------------------------------------------------------------------------- the sentence's side

_DIGITS = r"\d+(?:[.,，]\d+)*"
_HANZI_NUMBER = r"[零〇一二两三四五六七八九十百千]+"
_MAGNITUDE = r"(?:\s*[多余])?(?:[万亿千百]+)?"
_NUMBER = re.compile(
    _NOT_ORDINAL
    + r"(?:[约近超逾]\s*)?"
    + rf"(?:(?:{_DIGITS}){_MAGNITUDE}(?:\s*(?:%|{_UNITS}))?(?![\d.月日号时:])"
    + rf"|{_HANZI_NUMBER}(?:[万亿]+(?:{_UNITS})?|(?:{_UNITS}))"
    + r"|百分之[零一二三四五六七八九十百点\d.]+)"
)
_RATIO = re.compile(
    rf"{_DIGITS}\s*(?:%|‰|个百分点|percent\b|per cent\b)|[百千]分之[零一二三四五六七八九十百点\d.]+|[一二三四五六七八九]成"
    r"|一半|半数|过半|[二两三四五六七八九十\d]+分之[一二三四五六七八九\d]+"
)
_ASKS_PERCENT = re.compile(_PERCENT_ASKED)


def lacks_percentage(folded_question: str, sentence: str) -> bool:
    """Whether the (folded) question asks for a percentage or a rate and the sentence states none: whatever
    figure it gives measures something else (旺农贷 asked its 年利率, a sentence telling what the loan is for)."""
    if not _ASKS_PERCENT.search(folded_question):
        return False
    folded = aligned_fold(sentence)
    return not _RATIO.search(folded) and not _RATE_FIGURE.search(folded)


#: A rate stated as a bare figure right after its word: 首集收视率2.32, 出生率为12.4.
_RATE_FIGURE = re.compile(r"率[为是达约了：:\s]{0,3}\d")
_CHANGE_WORDS = {
    Need.INCREASE: r"增加|新增|增长|增幅|增量|提升|提高|上升|上涨|上扬|多了|多出|扩大|增|涨|多",
    Need.DECREASE: r"减少|下降|降低|下滑|少了|缩减|缩小|回落|下跌|减|降|跌|少",
    Need.TOTAL: r"共计|总额|合计|累计|总计|总量|总数|总共|一共|总规模|共有|共",
}
#: A change or total word, then at most a few characters (了, 约, 达到), then the figure.
_CHANGE_GAP = r"[了约近超过逾达到至为\s]{0,3}"
_DATE = re.compile(
    r"(?:公元前?)?\d{1,4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{1,2}\s*月(?:份|初|中旬|下旬|底)?"
    r"|(?:本月|当月|同月|次月|上月|下月)\d{1,2}\s*[日号]|(?<![\d.])\d{1,2}\s*[日号](?![\d元])|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|[零〇一二三四五六七八九]{4}年|[一二三四五六七八九十]{1,3}月(?:[一二三十]{0,3}[日号])?"
    r"|[上下]半年|[一二三四]季度|\d{1,2}\s*世纪(?:\s*\d{2}\s*年代)?|\d{2,4}\s*年代|[春夏秋冬]季|[秦汉晋隋唐宋元明清商周][朝代]"
    r"|[一二三四五六七八九十]{1,3}世纪(?:[初中末]期?|上半叶|下半叶)?|[二三四五六七八九]十年代(?:[初中末]期?)?"
    r"|[南北东西][宋汉晋魏周齐]|(?:早|晚|上|下|中)?(?:白垩|侏罗|三叠|二叠|石炭|泥盆|志留|奥陶|寒武|第三|第四)纪(?:早期|中期|晚期)?"
    r"|[新旧]?石器时代|青铜时代|铁器时代"
)
_ORDINAL = re.compile(r"第[一二三四五六七八九十百零\d]+(?:[位名大个家届])?|居首|首位|榜首|之首|冠军|亚军|季军|前[一二三四五六七八九十\d]+名")
#: A rank in other words: 位居/排名/排在/位列 just before the ordinal makes it the answer to 第几.
_RANK_WORDS = re.compile(r"(?:位居|位列|排名|排在|排行|名列|居|排)[^，。,；;]{0,4}$")
_REASON = re.compile(
    r"(?:因为|由于|得益于|源于|缘于|是因|原因是|为了|旨在|导致|(?<![原基])因(?![此而为素]))[^，。,；;！!？?]{1,40}"
    # the cause told first: 果实有瘤刺，因此得名 / 列车老化问题严重，故……
    r"|[^，。,；;！!？?]{2,40}(?=[，,]\s*(?:因此|所以|因而|故而?|是故)[^意])"
)
_ORG_SUFFIX = (
    "公司",
    "集团",
    "银行",
    "大学",
    "学院",
    "研究院",
    "研究所",
    "协会",
    "委员会",
    "基金会",
    "医院",
    "俱乐部",
    "联盟",
    "学会",
    "出版社",
    "电视台",
    "报社",
    "政府",
)
_PLACE_SUFFIX = tuple("省市县区州岛山河湖港镇村路街洲湾海江") + ("地区", "国")
#: 哪个镇 / 哪家公司 / 哪所大学: the kind of name asked for, which the answer's name ends with.
_QUESTION_KIND = re.compile(r"哪一?[个家座所位条片国]?(" + "|".join(sorted({*_ORG_SUFFIX, *_PLACE_SUFFIX}, key=len, reverse=True)) + ")")
#: A name as a sentence gives one: after 又名/简称 (strongest), in quotation or title marks, or in Latin letters.
_CALLED = re.compile(r"(?:又名|又称|简称|全称|别称|别名|俗称|称为|名为|叫做|命名为)[“「《『]?[^，。,；;：:”」》』\s]{1,20}")
_MARKED = re.compile(r"“[^“”]{1,30}”|「[^「」]{1,30}」|《[^《》]{1,30}》|『[^『』]{1,30}』")
_LATIN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9+&.\-]*[A-Za-z0-9+](?![A-Za-z0-9])")
_NAMES = ((_CALLED, 1.0), (_MARKED, 0.9), (_LATIN, 0.6))
_NAME_TAGS = {Need.WHO: ("nr", "nrfg", "nrt", "nt"), Need.PLACE: ("ns",)}
_SUFFIXES = {Need.WHO: _ORG_SUFFIX, Need.PLACE: _PLACE_SUFFIX}
#: At most this many nouns in a row make one name (东日本 + 旅客 + 铁道 + 公司).
_NAME_RUN = 4


@dataclass(frozen=True)
class Fact:
    """A span of a sentence that would answer the question: offsets into the sentence."""

    start: int
    end: int
    need: Need
    strength: float  # 0–1: how well it meets the question (a figure right after 增加, in the asked unit …)


def aligned_fold(text: str) -> str:
    """``fold(text)``, one character per character of ``text``, so offsets carry over."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    return "".join(f if len(f := fold(ch)) == 1 else ch for ch in text)


def _regex_spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


def _name_spans(text: str, need: Need) -> list[tuple[int, int]]:
    """Words jieba tags as names of the kind (person/organisation, place), or nouns ending like one (…大学, …市)."""
    import jieba.posseg

    spans, pos = [], 0
    run: list[tuple[int, str]] = []  # the nouns just before: DC + 漫画 + 公司 name one organisation
    for word, flag in jieba.posseg.cut(text):
        run = [*run[-(_NAME_RUN - 1) :], (pos, word)] if flag.startswith("n") or flag == "eng" else []
        named = flag in _NAME_TAGS[need]
        if not named and run and word.endswith(_SUFFIXES[need]):
            whole = "".join(w for _, w in run)
            if len(whole) > 2 and len(run) > 1:  # 有限公司 alone is a kind of name, not a name
                spans.append((run[0][0], pos + len(word)))
        elif named and len(word.strip()) > 1:
            spans.append((pos, pos + len(word)))
        pos += len(word)
    return spans


def _figures(folded: str, base: Need, change: Need | None) -> list[tuple[int, int, float]]:
    """Figures (numbers, or ratios) with their strength; a change or total word just before adds to it."""
    pattern = _RATIO if base is Need.RATIO else _NUMBER
    out = []
    for start, end in _regex_spans(pattern, folded):
        strength = 0.6
        if change is not None and re.search(rf"(?:{_CHANGE_WORDS[change]}){_CHANGE_GAP}$", folded[max(0, start - 8) : start]):
            strength = 1.0
        out.append((start, end, strength))
    return out


def spans_in(sentence: str, needs: tuple[Need, ...], unit: str = "", avoid: str = "") -> list[Fact]:
    """Spans of ``sentence`` meeting the question's ``needs``, strongest first.

    ``unit`` is the measure word the question names (a figure in it is
    stronger); ``avoid`` is the folded question — a span the question itself
    contains (its own year, its own name) is not the answer.
    """
    if not needs:
        return []
    folded = aligned_fold(sentence)
    change = next((n for n in needs if n in _CHANGE_WORDS), None)
    found: list[Fact] = []
    for need in needs:
        if need is Need.NUMBER and unit == SCORE:
            found += [Fact(s, e, need, 1.0) for s, e in _regex_spans(_SCORE, folded)]
        if need is Need.NUMBER and in_unit("日", unit):  # 60日 is a count of days, not a date, when days are asked
            found += [Fact(s, e, need, 0.85) for s, e in _regex_spans(_DAY_COUNT, folded)]
        if need in (Need.NUMBER, Need.RATIO):
            for start, end, strength in _figures(folded, need, change):
                if in_unit(folded[start:end], unit):
                    strength = min(1.0, strength + 0.25)
                found.append(Fact(start, end, change or need, strength))
        elif need is Need.DATE:
            until = unit == UNTIL
            found += [Fact(s, e, need, 1.0 if until and _ends(folded, s, e) else 0.8) for s, e in _regex_spans(_DATE, folded)]
        elif need is Need.RANK:
            found += [Fact(s, e, need, 1.0 if _RANK_WORDS.search(folded[max(0, s - 8) : s]) else 0.7) for s, e in _regex_spans(_ORDINAL, folded)]
        elif need is Need.REASON:
            found += [Fact(s, e, need, 0.7) for s, e in _regex_spans(_REASON, folded)]
        elif need is Need.NAME:
            found += [Fact(s, e, need, strength) for pattern, strength in _NAMES for s, e in _regex_spans(pattern, folded)]
        elif need in (Need.WHO, Need.PLACE):
            found += [Fact(s, e, need, 1.0 if in_unit(folded[s:e], unit) else 0.8) for s, e in _name_spans(folded, need)]
    kept = [s for s in found if not (avoid and _asked_already(folded[s.start : s.end].strip(), s.need, avoid))]
    return sorted(kept, key=lambda s: (-s.strength, s.start))


def _asked_already(span: str, need: Need, question: str) -> bool:
    """Whether the span is something the question itself names: its own year or figure, or a name made of the
    question's words with at most one character more (海地队 for …对海地那场, 中国女足 for 女足…中国队)."""
    if span in question:
        return True
    if need not in (Need.WHO, Need.PLACE):
        return False
    extra, at = 0, 0
    while at < len(span):
        longest = next((end for end in range(len(span), at + 1, -1) if span[at:end] in question), None)
        if longest is None:
            extra += 1
            at += 1
        else:
            at = longest
    return extra <= 1 and len(span) > extra


def best_span(sentence: str, spans: list[Fact], anchors: tuple[str, ...]) -> Fact | None:
    """The strongest span, ties broken by closeness to the question's words found in the sentence.

    上线7项云产品 answers 多少项云产品 because 7项 sits next to 云产品; a figure at
    the other end of the sentence is about something else.
    """
    if not spans:
        return None
    folded = aligned_fold(sentence)
    places = [m.start() for a in anchors if a for m in re.finditer(re.escape(a), folded)]

    def distance(span: Fact) -> int:
        return min((max(p - span.end, span.start - p, 0) for p in places), default=0)

    top = max(s.strength for s in spans)
    return min((s for s in spans if s.strength == top), key=lambda s: (distance(s), s.start))


def need_score(spans: list[Fact]) -> float:
    """How well a sentence meets the question's need: its strongest span (0 when it holds none)."""
    return max((s.strength for s in spans), default=0.0)
