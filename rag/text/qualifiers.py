"""The qualifiers of a question: the parts that pin its fact to one year, place, organisation, group or edition.

工行2021年上半年个人客户增加了多少户？ asks for a figure; 2021年上半年, 工行 and
个人客户 say which figure. A passage that reports the first half of 2020, or
建设银行's figure, does not answer it, however close its wording. The support
check (``rag.answer.support``) holds every qualifier read here against the cited
sentence, its passage and its document. Kinds:

* ``TIME``: a year, half, quarter, month or day, or 今年/去年 (``When``);
* ``EDITION``: an ordinal or version, 第五届, 第3批, 2022版 (``Edition``);
* ``NUMBER``: a figure the question states, 8万名, 50% (not the one it asks for);
* ``NAME``: a person, place, organisation or brand (jieba's name tags, organisation
  suffixes, the alias table);
* ``TERM``: any other noun of the question (大学生, 法人客户, 进口额), checked only for a
  sibling in the cited sentence (中学生 asked, 大学生 quoted).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import jieba
import jieba.posseg

from .aliases import known_in
from .folding import fold

jieba.setLogLevel(60)


class Kind(StrEnum):
    TIME = "time"
    EDITION = "edition"
    NUMBER = "number"
    NAME = "name"
    METRIC = "metric"  # the measure asked for: 体重 in 体重多少, 电子图书 in 有多少电子图书
    TERM = "term"


@dataclass(frozen=True)
class When:
    """A time as written: each part None when not said; ``relative`` years (今年 0, 去年 -1) still to be resolved."""

    year: int | None = None
    half: int | None = None
    quarter: int | None = None
    month: int | None = None
    day: int | None = None
    relative: int | None = None
    month_to: int | None = None  # the last month of a range (1-6月)


@dataclass(frozen=True)
class Qualifier:
    kind: Kind
    text: str  # as the user wrote it
    folded: str
    start: int  # offsets in the folded question
    end: int
    when: When | None = None
    edition: tuple[int, str] | None = None  # (number, unit) of 第五届 → (5, 届)


_CN_NUMERALS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def numeral(text: str) -> int | None:
    """12, 十二, 二十三, 一百零五, 二〇二三 → an int (None when it is not a numeral)."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_NUMERALS and ch not in "十百" for ch in text):
        return None
    if "十" not in text and "百" not in text:  # read digit by digit: 二〇二三
        return int("".join(str(_CN_NUMERALS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in "十百":
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
        else:
            current = _CN_NUMERALS[ch]
    return total + current


_NUM = r"[0-9〇零一二两三四五六七八九十百]+"
#: A time in folded text: an optional year, then a half, a quarter, or a month with an optional day.
TIME = re.compile(
    r"(?:(?P<y>1\d{3}|20\d{2}|[1-9]\d{2}(?=\s*年\s*(?:\d{1,2}|[一二三四五六七八九十正]{1,2})\s*月))\s*年(?!代)(?:度)?|(?P<rel>今年|本年|去年|前年|明年)|"
    r"(?P<era>明治|大正|昭和|平成|令和|民国)\s*(?P<ey>\d{1,3}|元|[一二三四五六七八九十]{1,3})\s*年(?!代|级|度))?\s*"
    r"(?:(?P<h>[上下])半年|第?(?P<qh>[一二三四1-4])季度|q(?P<qe>[1-4])(?![0-9a-z])|前(?P<f>" + _NUM + r")个?月(?:份)?|"
    r"(?P<m>" + _NUM + r")(?:\s*[-—~至到]\s*(?P<m2>" + _NUM + r"))?\s*月(?:份)?(?:(?P<d>" + _NUM + r")\s*[日号]|[末底])?)?"
)
#: Comparison bases are not the period asked about: 比上年, 较去年同期, 同比.
_BASE = re.compile(r"(?:比|较|相比|同比|环比|于)\s*(?:去年|上年|前年)(?:同期)?|(?:去年|上年)同期")
EDITION = re.compile(r"第(?P<n>" + _NUM + r")(?P<u>届|次|期|批|代|版|季|轮|号|轮次|阶段|个五年|个|场|集|章|款)|(?P<y>(?:19|20)\d{2})(?P<v>版|款|年版|年款)")
NUMBER = re.compile(
    r"(?<![0-9A-Za-z.])(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<u>%|‰|个百分点|万亿|亿|万|千|成(?![立员为功本交长都果绩就熟型]))?"
)
#: A count in Chinese numerals bound to what it counts: 五维, 六大, 三项 (几 and 多少 ask, they state nothing;
#: 唯一, 统一, 之一 are words, so 唯一一位 counts one, not eleven).
CN_COUNT = re.compile(
    r"(?<![第几多哪一二两三四五六七八九十唯统同万单专逐之])(?![一两二三][^一二三四五六七八九十])(?P<n>[一二两三四五六七八九十]{1,3})(?P<u>维|大|项|个|种|类|条|点|张|位|名|家|所|座|届|次|批)(?![一二三四五六七八九十])"
)
#: English times a question in English names: a year, its halves and quarters.
EN_TIME = re.compile(r"\b(?:(?P<h>first|second) half of |q(?P<q>[1-4]) (?:of )?|(?:in |during )?)(?P<y>(?:19|20)\d{2})\b")
#: Organisations and places by their last word, when jieba's tags miss them.
ORG = re.compile(
    r"(?<![的在为了和与及是对向从给把被所哪家])(?:(?![的在为了和与及是对向从给把被所哪家])[\u4e00-\u9fff]){2,8}?"
    r"(?:集团|公司|协会|委员会|研究院|研究所|基金会|交易所|法院|检察院|公安局|总局|管理局|俱乐部|商会|学会|银保监局|证监局)"
)
#: A team by its last word (中国跳水队, 上海海港队); not 这支球队, not 队员 or 队长.
TEAM = re.compile(r"(?<![这该其各每此支])(?:(?![这该其各每此支的在为了和与及是对向从给把被所哪])[\u4e00-\u9fff]){2,8}?队(?![员长伍列形])")
#: Groups called 队 that are no team by name: a convoy, troops, a band, a formation.
_NOT_TEAMS = ("车队", "部队", "军队", "舰队", "梯队", "团队", "乐队", "连队", "纵队", "分队", "小队", "大队", "中队", "支队", "卫队", "编队", "排队")
#: A title in book-title marks: a book, film, law or programme.
_TITLE = re.compile(r"《([^《》]{1,40})》")
#: A noun jieba tags plainly that is a place by its ending (周口市, 晴隆县); 区 also ends 开发区, 示范区.
_PLACE_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}[省市县]")
#: jieba's tags of names (j also marks 同比 and nz 英文: abbreviations come from the alias table, other nouns are terms).
_NAME_TAGS = ("nr", "nrt", "nrfg", "ns", "nt", "eng")
#: jieba's tags of a person's name.
PERSON_TAGS = ("nr", "nrt", "nrfg")
#: jieba's tag of the aspect particle 着, which follows verbs.
_ASPECT_TAG = "uz"
#: Nouns, and the distinguishing words that join them (大型 企业 → 大型企业).
_TERM_TAGS = ("n", "vn", "an", "nl", "ng", "nz", "b")
_QUESTION_WORDS = re.compile(r"^(?:什么|多少|哪些|哪个|哪家|哪里|哪位|哪|几|谁|如何|怎么|怎样|何时|何地|为何|是否|吗|呢)")
#: A word asking which thing: the noun after it names the kind of answer (什么东西, 哪一机构, 何种方式).
_ASKS_TYPE = re.compile(r"(?:什么|哪一?[个种类些家位支座所项场间条部本国届]?|何种|何)$")
#: Question words an organisation's ending may have swept up: 什么时候首钢总公司.
_LEADING_QUESTION = re.compile(r"(?:什么时候|什么|何时|哪一?[个家年天])")
#: Characters jieba glues to the front of a name they only precede (和浩汉, 于北魏, 由约翰).
_GLUED = "和了由于若与及在将被把从对向个间两"
#: A measure word right after 多少/几 opens what jieba may tag as a name (多少项云产品 → 项云).
_AFTER_HOW_MANY = re.compile(r"(?:多少|几)[个项家名位条种只座所款批届次篇本张部户]?$")
#: Words too general to pin a question down: never a qualifier, never a rival in a sentence.
GENERIC = frozenset(
    "问题 情况 时候 时间 方面 内容 事情 东西 数量 数据 消息 报道 新闻 记者 中国 都市 城市 地区 国家 全国 全市 全省 世界 全球 本市 "
    "当地 地方 国内 国外 海外 四海 天下 各地 各国 海内外 上市 海峡 中国队 国家队 球队 名字 名称 全称 简称 别名 原名 学名 中文名 英文名 英文名称 英文".split()
)


def when_of(match: re.Match[str]) -> When | None:
    """The parts of a ``TIME`` match, or None when it matched nothing that names a time."""
    g = match.groupdict()
    quarter = g.get("qh") or g.get("qe")
    month = numeral(g["m"]) if g.get("m") else None
    month_to = numeral(g["m2"]) if g.get("m2") else None
    if g.get("f"):  # 前8个月: January to August
        month, month_to = 1, numeral(g["f"])
        if month_to == 1:
            month_to = None
    if (month is not None and not 1 <= month <= 12) or (month_to is not None and not (month or 0) < month_to <= 12):
        return None
    when = When(
        year=int(g["y"]) if g.get("y") else _era_year(g.get("era"), g.get("ey")),
        half=(1 if g["h"] == "上" else 2) if g.get("h") else None,
        quarter=numeral(quarter) if quarter else None,
        month=month,
        day=numeral(g["d"]) if g.get("d") else None,
        relative={"今年": 0, "本年": 0, "去年": -1, "前年": -2, "明年": 1}.get(g.get("rel") or ""),
        month_to=month_to,
    )
    return None if when == When() else when


#: The year before the first of an era: 明治33年 is 1900, 民国38年 1949 (the eras Japanese and Taiwanese texts count by).
_ERA_BEFORE = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018, "民国": 1911}


def _era_year(era: str | None, number: str | None) -> int | None:
    """明治33年 → 1900, 民国元年 → 1912; None when no era was named."""
    if not era or not number:
        return None
    count = 1 if number == "元" else numeral(number)
    return None if count is None else _ERA_BEFORE[era] + count


def times_in(folded: str) -> list[tuple[int, int, When]]:
    """(start, end, When) of each time named in folded text; comparison bases (比去年) are not times."""
    bases = [m.span() for m in _BASE.finditer(folded)]
    found = []
    for m in TIME.finditer(folded):
        if m.end() == m.start() or any(s <= m.start() < e for s, e in bases):
            continue
        when = when_of(m)
        if when is not None:
            found.append((m.start(), m.end(), when))
    return found


def editions_in(folded: str) -> list[tuple[int, int, tuple[int, str]]]:
    found = []
    for m in EDITION.finditer(folded):
        if m.group("n"):
            n = numeral(m.group("n"))
            if n is not None:
                found.append((m.start(), m.end(), (n, m.group("u"))))
        else:
            found.append((m.start(), m.end(), (int(m.group("y")), "版")))
    return found


@lru_cache(maxsize=256)
def word_starts(folded: str) -> frozenset[int]:
    """Where jieba's words of a folded question start; a question is checked against many sentences."""
    return frozenset(itertools.accumulate((len(w) for w in jieba.cut(folded)), initial=0))


def qualifiers(text: str, aliases: dict[str, frozenset[str]]) -> list[Qualifier]:
    """Every qualifier of a question, in reading order; spans of different kinds never overlap."""
    folded = fold(text)
    aligned = len(folded) == len(text)
    taken: set[int] = set()
    found: list[Qualifier] = []

    def add(kind: Kind, start: int, end: int, **extra: object) -> None:
        span = range(start, end)
        if end - start < 1 or taken.intersection(span):
            return
        taken.update(span)
        shown = text[start:end] if aligned else folded[start:end]
        found.append(Qualifier(kind, shown.strip(), folded[start:end].strip(), start, end, **extra))  # type: ignore[arg-type]

    for m in _BASE.finditer(folded):  # 比去年: how the figure is compared, not which one is asked
        taken.update(range(*m.span()))
    for start, end, when in times_in(folded):
        add(Kind.TIME, start, end, when=when)
    for start, end, edition in editions_in(folded):
        if edition[0] > 1:  # 第一次 is also 首次: no qualifier to hold a passage to
            add(Kind.EDITION, start, end, edition=edition)
    for m in EN_TIME.finditer(folded):
        half = {"first": 1, "second": 2}.get(m.group("h") or "")
        add(Kind.TIME, m.start(), m.end(), when=When(year=int(m.group("y")), half=half, quarter=int(m.group("q")) if m.group("q") else None))
    for m in NUMBER.finditer(folded):
        if not re.match(r"(?:19|20)\d{2}$", m.group("n")) and not _derived(folded, m):
            add(Kind.NUMBER, m.start(), m.end())
    for m in CN_COUNT.finditer(folded):
        add(Kind.NUMBER, m.start(), m.end())
    for m in _TITLE.finditer(folded):  # 《封神第二部》: a work is named by its whole title
        add(Kind.NAME, m.start(1), m.end(1))
    asking = [m.span() for m in _ASKING.finditer(folded)]
    for start, end, name in known_in(folded, aliases):  # a known word that names no one (营收) is a measure when asked for
        measured = not name_kind(name) and any(_measures(start, end, a, b, folded) for a, b in asking)
        add(Kind.METRIC if measured else Kind.NAME, start, end)
    words = [(w, f) for w, f in jieba.posseg.cut(folded)]
    starts = set(itertools.accumulate((len(w) for w, _f in words), initial=0))  # of the tagged words
    for m in itertools.chain(ORG.finditer(folded), TEAM.finditer(folded)):
        asking_lead = _LEADING_QUESTION.match(m.group())  # 什么时候首钢总公司: the name starts after the question words
        begin = m.start() + (asking_lead.end() if asking_lead else 0)
        if m.re is TEAM:
            if begin not in starts:  # 男篮首场比赛葡萄牙队: the team is the last word that can start it
                begin = max((w for w in starts if begin < w <= m.end() - 3), default=begin)
            if folded[begin : m.end()] in GENERIC or folded[begin : m.end()].endswith(_NOT_TEAMS):
                continue  # 国家队, 撤离车队, 美军部队: no team in particular
        if begin not in starts:
            continue  # 越|南游戏初创公司, 充|电合资公司: a span starting inside a word is no name; its words count alone
        if m.end() - begin > 2 and not any(_ASKS_TYPE.search(folded[max(0, begin - 4) : begin + k]) for k in (0, 1)):
            add(Kind.NAME, begin, m.end())  # not 哪一个铁道公司: the kind of answer asked for
    position = 0
    nouns: list[tuple[int, int, str]] = []
    type_end = -1
    for at, (word, flag) in enumerate(words):
        start, end = position, position + len(word)
        position = end
        if len(word) < 2 or _QUESTION_WORDS.match(word) or word in GENERIC:
            continue
        if flag in PERSON_TAGS and words[at + 1 : at + 2] and words[at + 1][1] == _ASPECT_TAG:
            continue  # 在水上漂着走: a verb takes 着, a name never does; jieba's person tag is wrong there
        if _ASKS_TYPE.search(folded[max(0, start - 4) : start]) or (start == type_end and flag[:1] == "n"):
            type_end = end
            continue  # 什么东西, 哪一家铁道公司: the kind of thing the answer is, not a qualifier of the question
        after_how_many = _AFTER_HOW_MANY.search(folded[max(0, start - 3) : start]) is not None
        if flag in _NAME_TAGS and not after_how_many and not (flag == "eng" and word.isdigit()):
            if word[0] in _GLUED and len(word) > 2:  # 宏碁和浩汉 cut as 宏碁 / 和浩汉: the name is 浩汉
                start += 1
            if word[0] not in _GLUED or start > end - len(word):
                add(Kind.NAME, start, end)
        elif flag == "n" and _PLACE_WORD.fullmatch(word) and not after_how_many:  # 周口市, tagged a plain noun
            add(Kind.NAME, start, end)
        elif flag == "n" and _branded(word):  # 搜狐公司, tagged a plain noun: its first word is a name
            add(Kind.NAME, start, end)
        elif flag.startswith(_TERM_TAGS):
            nouns.append((start, end, flag))
    for group in _groups(nouns):
        start, end = group[0][0], group[-1][1]
        if any(start == b for _a, b in asking) and group[0][1] - group[0][0] == 1 and folded[start] in _CLASSIFIERS and end - start > 2:
            start += 1  # 多少项普惠金融: the measure word is not part of the noun jieba joined it to
        before = [a for a, _b in asking if end <= a and _BEFORE_ASKING.match(folded[end:a])]
        after = [b for _a, b in asking if start >= b and _AFTER_ASKING.match(folded[b:start])]
        if before:  # 女子学院图书馆藏书量是多少: the measure is the last word (two when it is one character)
            head = group[-1] if group[-1][1] - group[-1][0] > 1 or len(group) < 2 else group[-2]
            if folded[head[0] : head[1]] in GENERIC_MEASURES and len(group) > 1:  # 研究生总数: the measure is 研究生
                head = group[-2]
                end = head[1]
            if folded[head[0] : end] not in GENERIC_MEASURES and not CN_COUNT.match(folded[head[0] : end]):
                add(Kind.TERM, start, head[0])
                add(Kind.METRIC, head[0], end)
                continue
        if after and folded[start:end] not in GENERIC_MEASURES:
            add(Kind.METRIC, start, end)
            continue
        add(Kind.TERM, start, end)
    return sorted(found, key=lambda q: q.start)


#: A figure a question works out rather than quotes: 多100毫米, 少9年, 约30倍, 待了7年, 前8年.
_DIFFERENCE_BEFORE = re.compile(r"(?:多|少|差|相差)(?:约|了|出)?$")
_YEAR_AFTER = re.compile(r"^年(?!代|度|级|版|款|间|来|内|前|后)")
_LAST_YEAR = 2100
_DERIVED_AFTER = re.compile(r"^(?:倍|多倍|年(?!代|度|级|版|款))")


def _derived(folded: str, match: re.Match[str]) -> bool:
    """Whether a number of the question is a difference, a ratio or a span of years: the reader computed
    it from the passage's figures, so it need not be written there; or a year (401年), which is a time."""
    if _DIFFERENCE_BEFORE.search(folded[max(0, match.start() - 3) : match.start()]):
        return True
    value = match.group("n").replace(",", "")
    if value.isdigit() and 100 <= int(value) <= _LAST_YEAR and _YEAR_AFTER.match(folded[match.end() :]):
        return True  # 401年三月: a year, not a figure to find written
    return bool(_DERIVED_AFTER.match(folded[match.end() :])) and (not value.isdigit() or int(value) < 100)


#: Where a how-much question asks: 多少, 几, 多宽/多高/多长/多深/多重/多远/多久.
_ASKING = re.compile(r"多少|几|多[宽高长深重远久]")
#: What may stand between the measure and the asking word: 体重是多少, 树龄可达多少年, 多少名贫困大学生.
_BEFORE_ASKING = re.compile(r"^(?:的)?(?:是|有|约|约为|约是|大约|大约是|为|达|可达|达到|共|共有|一共|总共|分别)?$")
_CLASSIFIERS = "个项家名位条种只头件台辆座所款批届次篇本张部户人元米吨"
_AFTER_ASKING = re.compile(r"^(?:[万亿千百])?[" + _CLASSIFIERS + r"]?$")
#: Measures a question names in other words than its passage (人数 for 共有300人): never checked.
GENERIC_MEASURES = frozenset(
    {"人数", "数量", "数目", "总数", "总量", "次数", "金额", "数字", "规模", "比例", "时间", "日期", "年份", "总额", "费用", "价格", "价钱"}
)


def _measures(start: int, end: int, ask_start: int, ask_end: int, folded: str) -> bool:
    """Whether the word at [start, end) is what the asking word at [ask_start, ask_end) measures."""
    if end <= ask_start:
        return bool(_BEFORE_ASKING.match(folded[end:ask_start]))
    return start >= ask_end and bool(_AFTER_ASKING.match(folded[ask_end:start]))


def _groups(nouns: list[tuple[int, int, str]]) -> list[list[tuple[int, int]]]:
    """Adjacent nouns as one group (法人 客户 → 法人客户), each word's span kept."""
    groups: list[list[tuple[int, int]]] = []
    for start, end, _flag in nouns:
        if groups and groups[-1][-1][1] == start:
            groups[-1].append((start, end))
        else:
            groups.append([(start, end)])
    return groups


#: What a company's or group's name ends with.
COMPANY_ENDING = r"(?:公司|集团)"
#: A company or group named by a word of its own (搜狐公司, 万向集团), and the tags of such a word.
_BRANDED = re.compile(r"([\u4e00-\u9fff]{2,6}?)" + COMPANY_ENDING)
_BRAND_TAGS = ("nz", "nr", "nrt", "nrfg", "ns", "nt")


def _branded(word: str) -> bool:
    """Whether a word jieba knows whole is a company by name: its part before 公司 is itself a proper noun
    (搜狐 of 搜狐公司), not a common one (保险 of 保险公司)."""
    match = _BRANDED.fullmatch(word)
    if match is None:
        return False
    tags = [f for w, f in jieba.posseg.cut(match.group(1)) if w.strip()]
    return len(tags) == 1 and tags[0] in _BRAND_TAGS


#: jieba's tags of names by kind: a place stands in for a place, an organisation for an organisation.
_NAME_KINDS = {"ns": "place", "nt": "org", "j": "org", **dict.fromkeys(PERSON_TAGS, "person")}


#: Endings that say what kind of name a word is when jieba does not tag it (泰国宪法院, 晴隆县).
_KIND_ENDINGS = (("org", ORG), ("org", TEAM), ("place", re.compile(r"[\u4e00-\u9fff]{1,8}(?:省|市|县|区|州|镇|乡|村)$")))


def name_kind(name: str) -> str:
    """place, org or person as jieba tags a name alone, else as its ending says; "" when neither tells."""
    tags = [(w, f) for w, f in jieba.posseg.cut(name) if w.strip()]
    if len(tags) == 1 and tags[0][1] in _NAME_KINDS:
        return _NAME_KINDS[tags[0][1]]
    return next((kind for kind, pattern in _KIND_ENDINGS if pattern.fullmatch(name)), "")
