"""Whether a name the question uses stands for the thing the cited evidence speaks of.

Part of the support check (``rag.answer.support``): a name the document names is
supported, unless the quote holds another name in its slot (山东女子学院 for
湖南女子学院) or the passage speaks only of another of its kind (成都 asked, a
passage about 重庆); the alias table (``rag.text.aliases``) says which names
are one. All text is folded.
"""

from __future__ import annotations

import re

import jieba.posseg

from ..text.aliases import REGIONS, in_text, names_for
from ..text.folding import has_cjk
from ..text.qualifiers import COMPANY_ENDING, GENERIC, PERSON_TAGS, Kind, Qualifier, name_kind, qualifiers

#: Suffixes a name may be written with or without: 上海市 ↔ 上海, 华为公司 ↔ 华为, 湖人队 ↔ 篮网球队 ↔ 湖人.
_NAME_SUFFIX = re.compile(r"(?:股份有限公司|有限公司|股份公司|公司|集团|市|省|县|区|镇|乡|村|州|球队|队)$")

#: What may stand between a qualifier's neighbour and the qualifier: 的, 为, 在, 对 …
_GLUE = "的为在于对向与和之是了超过约近达"
#: The longest replacement the slot check accepts, and the most a neighbour may stand off.
SLOT_CHARS = 8
_NEIGHBOUR_GAP = 2


def replaced(q: Qualifier, sentence: str, question: str, aliases: dict[str, frozenset[str]]) -> bool:
    """Whether the quoted sentence keeps the name's neighbours from the question but holds another name
    between them (or right after the left one): the question changed that slot."""
    if q.folded in sentence or in_text(q.folded, sentence, aliases) or len(q.folded) < 2:
        return False
    if _sounds_like(spoken_name(q.folded, question), sentence):
        return False  # 授予涅特列布科 for 授予奈特雷布科: the same person, transliterated otherwise
    if f"《{q.folded}》" in question and "《" not in sentence:
        return False  # a work is replaced only by another work: 曾之乔主演 names the cast of 《格斗天王》, not a rival
    if _ASKING_NEAR.search(question[max(0, q.start - _NEIGHBOUR_GAP) : q.end + _NEIGHBOUR_GAP + 1]):
        return False  # 什么名次, 母亲为谁: the slot beside the asking word holds the answer, not a rival
    left, right = _neighbours(question, q.start, q.end)
    if not left and not right:
        return False
    for at in places(sentence, left) if left else [0]:
        tail = sentence[at + len(left) :].lstrip(_GLUE) if left else sentence
        if right:
            end = tail.find(right, 1, SLOT_CHARS + len(right) + 1)
            slot = tail[:end].strip(_GLUE) if end > 0 else ""
        elif left:
            slot = first_noun(tail)
        else:
            slot = ""
        if _rival(slot, q.folded, question, 2, aliases):
            return True
    if right and not left:
        for at in places(sentence, right):
            slot = last_word(sentence[max(0, at - SLOT_CHARS) : at].rstrip(_GLUE))
            if _rival(slot, q.folded, question, 1, aliases):
                return True
    return _same_suffix_rival(q.folded, sentence, question, (left, right), aliases)


def _same_suffix_rival(name: str, sentence: str, question: str, neighbours: tuple[str, str], aliases: dict[str, frozenset[str]]) -> bool:
    """Whether the sentence says what the question says of the name (a neighbour of it) of another name with the
    same ending: 网易公司…创立 quoted for 创立了搜狐公司, where the slot check finds no name after 创立."""
    suffix = _ORG_SUFFIX.search(name)
    bare = name[: suffix.start()] if suffix else ""
    if suffix is None or len(bare) < 2 or bare in sentence or not any(n and n in sentence for n in neighbours):
        return False
    for m in re.finditer(r"([\u4e00-\u9fff]{2,6})" + suffix.group(), sentence):
        other = last_word(m.group(1)) or m.group(1)[-2:]
        if other not in question and other not in GENERIC and not in_text(other, name, aliases) and name_kind(other + suffix.group()) == "org":
            return True
    return False


_ORG_SUFFIX = re.compile(COMPANY_ENDING + "$")


def _rival(slot: str, asked: str, question: str, spread: int, aliases: dict[str, frozenset[str]]) -> bool:
    """A name in the slot that stands for another thing than the one asked (not a generic 全市, not a figure;
    a common noun there is more often the article's own word for the asked thing: 市民 for 民众)."""
    kind, asked_kind = kind_of(slot, aliases) if slot else "", kind_of(asked, aliases)
    return (
        bool(slot)
        and (slot in aliases or bool(kind))
        and not (kind and asked_kind and kind != asked_kind)  # 雷根 beside 总统 is no rival to 美国
        and (regional(slot, aliases) or not regional(asked, aliases))  # nor is 茂宜岛 beside 夏威夷州
        and bool(_CJK_SLOT.match(slot))
        and slot != asked
        and asked not in slot
        and slot not in question
        and slot not in GENERIC
        and abs(len(slot) - len(asked)) <= spread
    )


_ASKING_NEAR = re.compile(r"什么|多少|几|哪|谁|为何|何")


_CJK_SLOT = re.compile(r"^[\u4e00-\u9fff]{1,8}$")


def places(text: str, word: str) -> list[int]:
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


def first_noun(text: str) -> str:
    """The word the text starts with when it is a noun (the thing a figure counts, the name after a neighbour)."""
    for word, flag in jieba.posseg.cut(text[: SLOT_CHARS * 2]):
        return word if flag.startswith(("n", "j")) else ""
    return ""


def last_word(text: str) -> str:
    words = [(w, f) for w, f in jieba.posseg.cut(text)]
    return words[-1][0] if words and words[-1][1].startswith(("n", "j")) else ""


def name_supported(name: str, passage: str, document: str, aliases: dict[str, frozenset[str]], question: str) -> bool:
    """A name the document names is supported. A place or organisation it never names is not when its
    passage speaks of another of that kind (成都 asked, a passage about 重庆; 建设银行 asked, one about
    工行; a province or country only by another province or country), and stands otherwise: a reader's
    own context (美国 for an article about OpenAI). A person, or a name of no known kind, must be named,
    in full or as the abbreviation of a word the document writes out."""
    if name_in(name, document, aliases):  # named elsewhere: the quote about another of its kind does not count
        return name_in(name, passage, aliases) or not other_of_kind(name, passage, aliases, question)
    if name not in aliases and _abbreviated(name, document):
        return True  # 商信 for 商业信用; a name the alias table knows is named by its aliases alone (中行 is no 中国工商银行)
    if _sounds_like(spoken_name(name, question), document):
        return True  # 奈特雷布科 of an article writing 涅特列布科: one foreign name, transliterated otherwise
    kind = kind_of(name, aliases)
    return kind in ("place", "org") and not other_of_kind(name, passage, aliases, question)


def _abbreviated(name: str, text: str) -> bool:
    """Whether the text writes a short name's characters, in order and close together, within one word run:
    the name is its abbreviation (商信 of 商业信用, 北大 of 北京大学, 奥赛 of 奥林匹克竞赛, 泰国宪法院 of 泰国宪法法院)."""
    if not 2 <= len(name) <= _ABBREVIATION_CHARS or not all("\u4e00" <= ch <= "\u9fff" for ch in name):
        return False
    most = _ABBREVIATION_REACH if len(name) == 2 else 2  # 奥赛 of 奥林匹克竞赛: a two-character one reaches further
    gap = f"[\u4e00-\u9fff]{{0,{most}}}"
    pattern = re.compile("".join(re.escape(ch) + gap for ch in name[:-1]) + re.escape(name[-1]))
    return any(m.end() - m.start() > len(name) for m in pattern.finditer(text))


def spoken_name(name: str, question: str) -> str:
    """The foreign person's name a piece of the question belongs to, when jieba cut one in pieces
    (奈特|雷布科 → 奈特雷布科): the run of persons' names written together around it, each a foreign name's
    piece, not a word of its own (斯德哥尔摩|清真寺 is a city and a building); "" when there is none."""
    at = question.find(name)
    if at < 0:
        return ""
    run: list[tuple[int, str]] = []
    position = 0
    for word, flag in jieba.posseg.cut(question):
        if flag in PERSON_TAGS and _SPOKEN.fullmatch(word) and (not run or run[-1][0] + len(run[-1][1]) == position):
            run.append((position, word))
        elif position + len(word) <= at:
            run = []
        else:
            break
        position += len(word)
    text = "".join(word for _p, word in run)
    inside = bool(run) and run[0][0] <= at and at + len(name) <= run[0][0] + len(text)
    return text if inside and len(run) > 1 and len(text) >= _SOUND_MATCHES + 1 else ""


def _sounds_like(name: str, text: str) -> bool:
    """Whether the text writes a word as long as the name, ending alike, that shares most of its characters
    place by place: 涅特列布科 for 奈特雷布科 (a translator picks other characters for the same sounds)."""
    if not name:
        return False
    least = max(_SOUND_MATCHES, -(-len(name) * _SOUND_SHARE_PERCENT // 100))
    for end in (m.end() for m in re.finditer(re.escape(name[-1]), text)):
        window = text[end - len(name) : end]
        if len(window) == len(name) and sum(a == b for a, b in zip(window, name, strict=True)) >= least:
            return True
    return False


#: The characters foreign names are written by sound with (奈特雷布科, 涅特列布科, 扎克伯格, 劳伦斯利弗莫尔):
#: a piece of other characters is a word of its own (清真寺, 范畴).
_SPOKEN = re.compile(
    "[阿埃艾爱安奥巴拜班邦贝本比彼毕波伯博布查达戴丹德迪蒂丁杜多厄恩法菲费芬弗福盖甘戈格古哈海汉赫亨胡霍基吉加"
    "贾杰金卡凯坎康柯科克肯库拉莱赖兰朗劳勒雷蕾里理丽利莉连列林琳卢鲁路伦罗洛马玛迈麦曼梅门蒙米密莫姆穆纳娜奈"
    "内尼妮涅宁纽诺欧帕佩皮普奇齐乔切琼萨塞桑瑟森沙莎舍什史斯索塔泰坦汤特提图托瓦万威韦维温沃乌西希夏谢辛休"
    "雅亚扬耶伊英尤约泽扎詹兹佐尔哥夫斐]+"
)
#: A name written by sound matches another transliteration when at least this many characters, and this
#: share of them (in percent), stand alike in the same places: 3 of 奈特雷布科's 5 in 涅特列布科.
_SOUND_MATCHES = 3
_SOUND_SHARE_PERCENT = 60


def name_in(name: str, text: str, aliases: dict[str, frozenset[str]]) -> bool:
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


#: The longest name read as an abbreviation of a longer word (a place and an organisation, 泰国宪法院).
_ABBREVIATION_CHARS = 5
#: How many characters may stand between the two of a two-character abbreviation (奥赛 of 奥林匹克竞赛).
_ABBREVIATION_REACH = 4
#: One-character words jieba may glue to a name: a dynasty or 原/新 before it, 曾/第/将 after it.
_LEADING_WORDS = "明清宋唐元汉秦隋晋原新老前"
_TRAILING_WORDS = "曾第将名等在于时后前们"
#: What a title may be written with or without: 封神：第一部, 封神 第一部.
_PUNCTUATION = re.compile(r"[\W_]+")


def other_of_kind(name: str, passage: str, aliases: dict[str, frozenset[str]], question: str) -> bool:
    """Whether the passage speaks of another place (organisation, person) where the question names this one:
    成都 asked, a passage about 重庆 that never says 成都 — though the document may, elsewhere."""
    if in_text(name, passage, aliases):
        return False
    kind = kind_of(name, aliases)
    if not kind:
        return False
    region = regional(name, aliases)
    for q in qualifiers(passage, aliases):
        other = q.folded
        if q.kind != Kind.NAME or other in question or in_text(other, question, aliases) or kind_of(other, aliases) != kind:
            continue
        if not region or regional(other, aliases):
            return True
    return False


def regional(name: str, aliases: dict[str, frozenset[str]]) -> bool:
    """A province or country (``REGIONS``), under any of its names."""
    return name in REGIONS or any(alias in REGIONS for alias in names_for(name, aliases))


def kind_of(name: str, aliases: dict[str, frozenset[str]]) -> str:
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
