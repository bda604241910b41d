"""The original headline a syndicated article carries in its text: ``原标题：X`` found and taken out.

Why: republished news keeps the source's headline inside the body — on a line of its own,
after the last paragraph (（原标题：X）), or glued to the first sentence with no break at
all (原标题：上半年…同比增长超50%今年以来，…) — so cards were titled 原标题：… and the first
quote began with a headline. A headline has no full stop, so where a glued one ends is read
from how the sentence after it opens: a dateline (扬子晚报网8月17日讯, 新华社北京8月11日电), a
byline (极目新闻记者 王明), a lead's first words (据…报道, 近日, 8月5日，, 今年以来，, 为进一步…，),
or the headline said again. The outlet before a dateline is found by jieba's words (name,
media word, place), since outlets are too many to list. Without a cue nothing is cut: the
label goes and the sentence stays whole in the body, which keeps text rather than lose any.
"""

from __future__ import annotations

import logging
import os
import re
from typing import NamedTuple

import jieba

jieba.setLogLevel(logging.WARNING)

_NAME = r"原(?:标题|標題|题|題)"
#: The label at the start of a paragraph: 原标题：, 原标题:, 原题：, 原標題：, 【原标题】.
_LABEL = re.compile(rf"^\s*(?:[【\[]\s*{_NAME}\s*[】\]]\s*[:：]?|{_NAME}(?:为|為)?\s*[:：])\s*")
#: A headline wrapped whole: （原标题：X）, (原题为《X》), 原标题《X》, 【原标题】《X》.
_WRAPPED = re.compile(
    rf"[（(]\s*{_NAME}(?:为|為)?\s*[:：]?\s*(?P<paren>[^（）()]{{2,80}}?)\s*[）)]"
    rf"|(?:[【\[]\s*{_NAME}\s*[】\]]|{_NAME}(?:为|為)?)\s*[:：]?\s*《(?P<quoted>[^《》]{{2,80}})》(?=\s*(?:$|[）)】。（(]|来源|编辑|作者))"
)
#: A source's note that may run into its headline: 本文译自《中国日报》7月29日社论原标题：….
_SOURCE_NOTES = ("社论", "评论", "文章")
_INNER_LABEL = re.compile(rf"{_NAME}\s*[:：]\s*")
#: Where a headline placed after the article stops: a credit or page footer that follows it.
_TRAILER_STOP = re.compile(r"\s*(?:来源|编辑|责编|责任编辑|出品|撰稿|作者|校对|审核|返回\S{1,4}[，,]|[（(][^（）()]{1,12}[）)]\s*$)")

#: A headline is at least this long and, when its end is read from a cue, at most this long.
_MIN_TITLE = 5
_MAX_TITLE = 64
#: A source's English headline after the article (…社论原标题：It is US that is…) may run this long.
_MAX_ASCII_TITLE = 160
#: A headline longer than this whose cue is far ends at its last ！/？/…… before it.
_GUESS_TITLE = 40
_SOFT_END = re.compile(r"(?:[！？!?]+|……|…|[↓→]+)[”」』]?\s*")
#: This many characters said again right after a headline mark where it ends; further than
#: ``_REPEAT_NEAR`` from the start, the whole headline or ``_REPEAT_SURE_CHARS`` of it must be.
_REPEAT_CHARS = 5
_REPEAT_NEAR = 40
_REPEAT_SURE_CHARS = 8
#: How far before a dateline its outlet (name, media word, place) may reach, in characters.
_OUTLET_WINDOW = 16

#: Cues whose match starts the first sentence itself.
_LEAD = re.compile(
    r"(?<![数根依证占票字单论凭收借考割盘拮窃])据(?:悉|了解|介绍|报道|统计|[^，。！？]{1,24}?(?:报道|消息|介绍|通报|披露|获悉|显示|透露|称|讯|电))"
    r"|据@|(?<![数根依证占票字单论凭收借考割盘拮窃])据[^，。！？]{2,24}[，,]"
    r"|(?<![临接最靠附])(?:近日|日前|近期)(?!线|宣布|表示|发布|称|召开|举行|披露|公布|发表|接受|获悉|在|于|向|对|已|正|将|又|再|也|就|被|出台|印发|发出|作出|做出|回应|发文|通报)"
    r"|连日来|近年来|前不久|不久前|当地时间|北京时间|本文转自|(?:来源|作者|摄影|撰文)[:：]|▲|\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}"
    r"|(?:今年以来|今年上半年|上半年|\d{1,2}月(?:份)?以来)[，,]"
    r"|截至(?:\d{4}年|今年|目前|\d{1,2}月)"
    r"|(?:昨天|昨日|今天|今日|前天)(?:[上下中]午|晚上?|凌晨|早上|傍晚|夜里)?[（(，,]|今[（(]\d{1,2}[）)]日"
    r"|(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日(?:至\d{1,2}日)?(?:[上下中]午|晚间?|晚上|凌晨|早上|早晨|傍晚|夜间|深夜)?\s*[，,]"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*日(?:[上下中]午|晚上?|凌晨|早上)?\d{1,2}\s*时"
    r"|为(?:了|进一步|贯彻|切实|有效|深入|加强|全面|推动|助力|提升|提高|丰富|普及|积极|更好|确保|保障|营造|做好|扎实|持续|弘扬|落实|充分|巩固|"
    r"促进|规范|满足|帮助|庆祝|迎接|纪念|增强|让|使|将|深化|加快|推进|强化|优化|引导|关爱|践行|响应)[^。！？]{0,60}?[，,]"
    r"|随着[^。！？]{2,40}?[，,]"
    r"|【[^】]{0,20}(?:报道|记者|讯|综合)[^】]{0,20}】"
    r"|[（(]\s*(?:本报|特约|见习|实习|全媒体)?(?:记者|通讯员)"
    r"|(?:文|图|文\s*[、/]\s*图)\s*[/|丨｜]\s*(?=\S)|□"
)
#: Cues an outlet's name comes before: a dated dateline, a byline, an outlet's 讯 or 获悉.
_DATELINE = re.compile(
    r"(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:讯|电|消息|报道)"
    r"|(?:见习|实习|首席|特约|全媒体|融媒)?(?:记者|通讯员|编辑)(?:\s*[:：]\s*|\s+)(?=[\u4e00-\u9fff])"
)
#: Cues that count only when an outlet's name stands before them (记者从…获悉 is a sentence).
_OUTLET_ONLY = re.compile(r"(?<=[网报社台闻线媒端都])讯|(?:获悉|了解到)[，,]")
#: Media words an outlet's name ends with; a bare one (网, 在线) needs the name word before it.
_MEDIA = (
    "网",
    "社",
    "联社",
    "报",
    "都市报",
    "快报",
    "在线",
    "新闻",
    "客户端",
    "APP",
    "App",
    "app",
    "之家",
    "财经",
    "融媒",
    "日报",
    "晚报",
    "早报",
    "时报",
    "商报",
    "电视台",
    "之声",
    "频道",
)
_NOT_NAME = frozenset("的了在是被将把从对为和与及或也都就而并着过")
#: A date that ends a headline's candidate belongs to the sentence after it (…万元8月10日环保板块…).
_TRAILING_DATE = re.compile(r"(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:至|到|—|-|~)?\s*$")


class Headline(NamedTuple):
    """A paragraph that opened with 原标题: the headline ("" when its end was not found) and the rest."""

    title: str
    rest: str


def opens_with_original_title(text: str) -> bool:
    return bool(_LABEL.match(text) or _WRAPPED.match(text.lstrip()))


def split_original_title(paragraph: str) -> Headline | None:
    """The headline a paragraph opens with and the text after it; None when it opens with none.

    A wrapped headline ends at its bracket; a labelled one at the end of the paragraph when
    it is short, else where a cue says; with no cue the title is "" and the rest keeps it all.
    """
    stripped = paragraph.strip()
    wrapped = _WRAPPED.match(stripped)
    if wrapped:
        return Headline(_clean(wrapped.group("paren") or wrapped.group("quoted")), stripped[wrapped.end() :].strip())
    label = _LABEL.match(stripped)
    if not label:
        return None
    text = stripped[label.end() :]
    inner = _INNER_LABEL.search(text, _MIN_TITLE)
    if inner and inner.start() <= _MAX_TITLE:  # 标题原标题：标题 or 新标题原标题：旧标题 — the first is the headline
        said = text[inner.end() :]
        text = text[: inner.start()] + (said[inner.start() :] if said.startswith(text[: inner.start()]) else said)
        if not re.search(r"[。；;]", said) and len(said) <= _MAX_TITLE:
            return Headline(_clean(text[: inner.start()], unwrap=False), "")
    if len(text) <= _MAX_TITLE and not re.search(r"[。；;]", text):
        return Headline(_clean(text, unwrap=False), "")
    end = headline_end(text)
    if end is None:
        return Headline("", text)
    title, rest = _clean(text[:end], unwrap=False), text[end:].strip()
    if rest.startswith(title):  # the page's headline again, word for word: the title holds it
        rest = rest[len(title) :].strip()
    return Headline(title, rest)


def take_trailing_original_title(paragraph: str) -> tuple[str, list[str]]:
    """A headline placed after the article's text taken out: (its title, the stretches of text around it).

    （原标题：X） goes wherever it stands; 原标题《X》 at the end of a clause; a bare
    原标题：X only after a sentence or a blank (文章，原题：X — a sentence naming its
    source's headline — stays). ("", [paragraph]) when there is none.
    """
    for match in re.finditer(rf"(?:[（(【\[]\s*)?{_NAME}", paragraph):
        before = paragraph[: match.start()]
        tail = paragraph[match.start() :]
        wrapped = _WRAPPED.match(tail)
        after_clause = not before.strip() or before.rstrip()[-1] not in "，,、"
        after_sentence = not before.strip() or before[-1].isspace() or before.rstrip()[-1] in "。！？!?”」』）)" or before.endswith(_SOURCE_NOTES)
        if wrapped and (wrapped.group("paren") or after_clause):
            title, end = _clean(wrapped.group("paren") or wrapped.group("quoted")), match.start() + wrapped.end()
        else:
            label = _LABEL.match(tail)
            if not label or not after_sentence:
                continue
            body = tail[label.end() :]
            length = _trailing_length(body)
            if length is None:
                continue
            title, end = _clean(body[:length]), match.start() + label.end() + length
        parts = [part for part in (before.strip(), paragraph[end:].strip()) if part]
        return title, parts
    return "", [paragraph]


def _trailing_length(body: str) -> int | None:
    """How long the headline after a label placed after the text is: to the credit or footer after it, to the end
    of the paragraph, or to a cue of the sentence after it — whichever first gives a plausible headline."""
    stop = _TRAILER_STOP.search(body[: _MAX_ASCII_TITLE + 1], _MIN_TITLE)
    for length in (stop.start() if stop else None, len(body), headline_end(body)):
        title = _clean(body[:length]) if length else ""
        if title and len(title) <= (_MAX_ASCII_TITLE if title.isascii() else _MAX_TITLE) and not re.search(r"[。；;]", title):
            return length
    return None


def headline_end(text: str) -> int | None:
    """Where a headline glued to the first sentence ends: the earliest cue, or None without one."""
    window = text[: _MAX_TITLE + 1]
    candidates: list[int | None] = [m.start() for m in _LEAD.finditer(window)]
    candidates += [_outlet_start(text, m.start()) for m in _DATELINE.finditer(window)]
    candidates += [start for m in _OUTLET_ONLY.finditer(window) if (start := _outlet_start(text, m.start())) < m.start()]
    candidates += [_repeated(text)]
    for end in sorted(c for c in candidates if c is not None and _MIN_TITLE <= c <= _MAX_TITLE):
        dated = _TRAILING_DATE.search(text[:end])
        if dated and dated.start() >= _MIN_TITLE:
            end = dated.start()
        if _plausible(text[:end].strip()):
            return _shorter(text, end)
    return None


def _plausible(title: str) -> bool:
    """A headline is whole: long enough, no full stop, no clause or bracket left open at its end."""
    opened = title.count("（") + title.count("(") - title.count("）") - title.count(")")
    return len(title) >= _MIN_TITLE and title[-1] not in "，,、：:（(“《【" and "。" not in title and title.count("“") <= title.count("”") and opened <= 0


def _shorter(text: str, end: int) -> int:
    """A long headline's end moved back to its last ！/？/…… within a plausible length: what follows is the lead."""
    if end <= _GUESS_TITLE:
        return end
    soft = [m.end() for m in _SOFT_END.finditer(text, 0, _GUESS_TITLE + 1) if m.end() >= _MIN_TITLE and m.end() < end]
    return soft[-1] if soft else end


def _repeated(text: str) -> int | None:
    """Where the headline's opening is said again (温州鹿城：文化礼堂…温州鹿城：文化礼堂…)."""
    opening = text[:_REPEAT_CHARS]
    if len(opening.strip()) < _REPEAT_CHARS:
        return None
    found = text.find(opening, _MIN_TITLE)
    while 0 < found <= _MAX_TITLE:
        said = len(os.path.commonprefix([text, text[found:]]))
        if said >= min(found, _REPEAT_SURE_CHARS) or found <= _REPEAT_NEAR:
            return found
        found = text.find(opening, found + 1)
    return None


def _is_media(word: str) -> bool:
    return word.endswith(_MEDIA)


def _is_name(word: str) -> bool:
    return bool(re.fullmatch(r"[\u4e00-\u9fffA-Za-z]{1,6}", word)) and word not in _NOT_NAME


def _outlet_start(text: str, cue: int) -> int:
    """Where the outlet before a dateline or byline starts (扬子晚报网, 中新网新疆新闻, 央广网北京); the cue itself without one.

    Read right to left over jieba's words: a place or column (北京, 新疆新闻) kept only
    when a media word stands before it, media words, and the name word before a bare one.
    """
    head = text[:cue].rstrip(" |丨｜/")
    second = re.search(r"(?<=[网报社])\s*[-－—]\s*[\u4e00-\u9fff]{2,6}$", head)  # 中国山东网-感知山东: a column's name
    if second:
        head = head[: second.start()]
    start = max(0, len(head) - _OUTLET_WINDOW)
    words = list(jieba.cut(head[start:]))
    positions = [start + sum(len(w) for w in words[:i]) for i in range(len(words))]
    outlet, need_name, k = None, False, len(words) - 1
    while k >= 0:
        word = words[k].strip()
        if not word:
            k -= 1
            continue
        if _is_media(word):
            outlet, need_name = positions[k], word in _MEDIA
        elif need_name and _is_name(word):
            outlet, need_name = positions[k], False
        elif outlet is None and _is_name(word) and k > 0 and _is_media(words[k - 1].strip()):
            pass  # a place or column between the outlet and the date
        else:
            break
        k -= 1
    return cue if outlet is None else outlet


def _clean(title: str, unwrap: bool = True) -> str:
    """A headline without the blanks or colons around it and, when it only names one (原题为《X》), its 《》.

    A headline kept as the article's heading stays verbatim (《富爸爸穷爸爸》 is its own).
    """
    title = title.strip().strip("：:").strip()
    if unwrap and title.startswith("《") and title.endswith("》") and title.count("《") == 1:
        title = title[1:-1]
    return title.strip()


#: A dateline an article opens with (IT之家 8 月 16 日消息，· 中新网上海8月18日电 (记者 X) · 北京时间 8 月 17 日晚间消息，):
#: the wire's furniture, not what the article is about.
_OPENING_DATELINE = re.compile(
    r"(?:(?:北京时间|当地时间)?\s*(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:[早午晚]间|[上下中]午|晚上?|凌晨|早上)?\s*"
    r"(?:电|讯|消息|报道|综合报道)|讯(?=\s*[（(]))\s*(?:[（(][^（）()]{0,24}[）)])?\s*[，,：:|丨]?\s*"
)
#: A display title is the lead's first sentence, at most this long.
_DISPLAY_MAX = 40


def display_title(title: str, lead: str) -> str:
    """A title worth listing: ``title`` unless it is only the lead's opening (a first sentence cut short), in which
    case the lead's first sentence after the dateline it opens with (the wire's name and date say nothing)."""
    if title.strip() and not lead.lstrip().startswith(title.strip().rstrip("…")):
        return title  # a title of its own (a page's <title>, a heading, an original headline)
    found = _OPENING_DATELINE.search(lead[:_MAX_TITLE])
    before = lead[: found.start()].strip() if found else ""
    if not found or (before and (len(before) > _OUTLET_WINDOW or re.search(r"[，,。！？]", before) or _outlet_start(lead, found.start()) >= found.start())):
        return title  # what stands before the date is no outlet's name: the sentence is the article's
    rest = lead[found.end() :].strip()
    sentence = re.split(r"(?<=[。！？!?；;])", rest, maxsplit=1)[0].rstrip("。！？!?；;")
    if len(sentence) < _MIN_TITLE:
        return title
    return sentence if len(sentence) <= _DISPLAY_MAX else sentence[:_DISPLAY_MAX] + "…"


__all__ = ["Headline", "display_title", "headline_end", "opens_with_original_title", "split_original_title", "take_trailing_original_title"]
