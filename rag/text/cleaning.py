"""What in a scraped article is not the article: page furniture, photo captions, headings.

Rules, not lists of sites: copyright notices, app and QR-code prompts, credit
and byline lines are dropped; captions stay searchable but are never quoted;
a short line without closing punctuation that introduces a longer one is a heading.
Furniture goes sentence by sentence: a paragraph that also holds a follow-us
prompt keeps its other sentences. What a page glues into the text itself — an
ad (广告 … ×), a photographer's credit (新华社记者 王明 摄), a picture's marker
(资料图, 视频截图, 图源：X), a footer (返回搜狐，查看更多, 责任编辑：X) — is cut out
of the sentence around it, and the paragraph breaks where a picture stood, so
answers never quote it. Scraped text's runs of white space become one space, or
a paragraph break after a sentence's end, before anything is stored, so every
offset points into the cleaned text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .headline import opens_with_original_title

_FURNITURE_PATTERNS = [
    r"版权(声明|所有|归)",
    r"未经.{0,12}(授权|许可|同意).{0,12}(转载|使用|复制|摘编)",
    r"(转载|转发)请(联系|注明|与)",
    r"(禁止|不得)(转载|复制)",
    r"copyright|all rights reserved|©",
    r"(下载|安装).{0,20}(客户端|app\b|应用)",
    r"download (our|the) app",
    r"(扫码|扫描|长按|识别).{0,12}二维码|二维码.{0,8}(关注|下载)|^长按二维码",
    r"关注.{0,10}(公众号|微信号|精彩内容|我们)",
    r"follow us on",
    r"(报料|爆料|投稿)(热线|邮箱|电话)|新闻线索",
    r"^(点击|戳)(这里|阅读原文|下方)",
]
_FURNITURE = re.compile("|".join(f"(?:{p})" for p in _FURNITURE_PATTERNS), re.IGNORECASE)
_CREDIT = re.compile(
    r"^[（(【\[]?\s*(策划|记者|编辑|责任编辑|责编|编审|制作|摄影|摄像|设计|来源|作者|通讯员|实习生|校对|审核|审校|监制|主编|"
    r"出品|撰文|撰稿|文|图|视频|editor|reporter|photo|photos|source|author|written by|edited by)\s*[:：|丨/]",
    re.IGNORECASE,
)
_CREDIT_MAX_CHARS = 60
_BYLINE = re.compile(
    r"^[（(【\[]?\s*(本报|本台|本网|本刊)?(特约)?(记者|通讯员|实习生|撰稿|文\s*/|图\s*/)\s*[\u4e00-\u9fff·、，,\s]{2,24}"
    r"(报道|采写|整理|摄|发自\S{0,6})?\s*[）)】\]]?$"
)
#: A credit line lists names; a sentence after the label (记者：请问……？) is an interview turn.
_CREDIT_NOT_NAMES = re.compile(r"[。！？!?；;]")
_CAPTION = re.compile(
    r"([（(][^（）()]{0,24}(摄|摄影|供图|图片来源|图源|photo)[^（）()]{0,12}[）)]\s*$)|^(图为|图：|图:|图片：|图片:|photo:)",
    re.IGNORECASE,
)
_SENTENCE_PIECE = re.compile(r"[^。！？!?；;]*[。！？!?；;]?")


def _is_credit(stripped: str) -> bool:
    """A short credit line (编辑：王明) or a byline (本报记者 王明 报道)."""
    credit = _CREDIT.match(stripped)
    if credit and len(stripped) <= _CREDIT_MAX_CHARS and not _CREDIT_NOT_NAMES.search(stripped[credit.end() :]):
        return True
    return bool(_BYLINE.match(stripped))


def is_furniture(paragraph: str) -> bool:
    """True for copyright notices, app/QR prompts and credit lines.

    A paragraph is furniture when it is a short credit line, or when most of
    its sentences are notices; a news sentence that merely mentions an app stays.
    """
    stripped = paragraph.strip()
    if _is_credit(stripped):
        return True
    pieces = [p for p in _SENTENCE_PIECE.findall(stripped) if p.strip()]
    if not pieces:
        return False
    flagged = sum(len(p) for p in pieces if _is_notice(p))
    return flagged * 2 > len(stripped)


#: A notice is one short sentence; a longer run-on one that mentions a QR code (scraped text
#: without full stops, or news about QR-code fraud) is content and stays whole.
_NOTICE_MAX_CHARS = 80


def _is_notice(sentence: str) -> bool:
    return len(sentence.strip()) <= _NOTICE_MAX_CHARS and bool(_FURNITURE.search(sentence))


def strip_furniture(paragraph: str) -> str:
    """The paragraph without its furniture sentences ("" when nothing else is left).

    A credit line goes whole, and one after the paragraph's last sentence; otherwise
    only the short sentences that are notices or prompts do, and every other sentence stays.
    """
    if _is_credit(paragraph.strip()):
        return ""
    pieces = [p for p in _SENTENCE_PIECE.findall(paragraph) if p]
    if len(pieces) > 1 and _is_credit(pieces[-1].strip()):  # …推迟。来源：财联社 — a credit after the last sentence
        pieces = pieces[:-1]
    elif not any(_is_notice(p) for p in pieces):
        return paragraph
    return "".join(p for p in pieces if not _is_notice(p)).strip()


#: White space of any kind (tabs, ideographic and no-break spaces included).
_SPACE_RUN = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u200b\ufeff]+")
#: A run this long, or one holding a tab or line break, after a sentence's end starts a new paragraph.
_BREAK_RUN_CHARS = 2


def split_runs(line: str) -> list[str]:
    """One scraped line as paragraphs: long white-space runs after a sentence end break it, others become one space.

    A run after an original headline (原标题：X⎵⎵⎵正文…) breaks it too: a headline has no full stop.
    """
    parts: list[str] = []
    current: list[str] = []
    position = 0
    for match in _SPACE_RUN.finditer(line):
        current.append(line[position : match.start()])
        run = match.group()
        before = "".join(current).rstrip()
        long_run = len(run) >= _BREAK_RUN_CHARS or "\t" in run or "\n" in run
        breaks = long_run and bool(before) and (before[-1] in SENTENCE_END or opens_with_original_title(before))
        if breaks:
            parts.append(before)
            current = []
        else:
            current.append(" ")
        position = match.end()
    current.append(line[position:])
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def is_caption(paragraph: str) -> bool:
    return len(paragraph) <= 120 and bool(_CAPTION.search(paragraph.strip()))


#: Characters that close a sentence or a quoted one: a line ending in one is not a heading, nor a PDF line to rejoin.
SENTENCE_END = "。！？!?；;…．.”」』）)"
_HEADING_MAX_CHARS = 32


def looks_like_heading(paragraph: str, next_paragraph: str | None) -> bool:
    """A short line without closing punctuation that introduces a longer one."""
    text = paragraph.strip()
    if not text or len(text) > _HEADING_MAX_CHARS or next_paragraph is None:
        return False
    if text[-1] in SENTENCE_END or text[-1] in "，,：:":
        return False
    return len(next_paragraph.strip()) > len(text)


# --------------------------------------------------------------------------- inline furniture: ads, photo credits, markers


class Piece(NamedTuple):
    """A stretch of a paragraph left after its inline furniture went; ``caption`` for a photo's caption."""

    text: str
    caption: bool = False


#: An inline ad: 广告, a promo line and the × button that closes it (广告 他只是个小司机…扶摇直上！ ×); a × between
#: numbers (广告 牌面3 × 4米) is a dimension, not a button.
_AD = r"广告\s+[^×\n]{1,80}?(?<!\d)\s+×"
#: What a bracketed photo credit ends with (（新华社记者 鞠鹏 摄）, (张三摄), （通讯员供图）, （视频截图）) or opens with
#: (（图源：视频截图）, （图片来源于网络）, （资料图 来源：…）, （图自美联社）); 新华社发（…摄） goes with its agency.
_CREDIT_END = r"(?<!拍)(?:摄|摄影|供图|视频截图|截图|截屏|资料图片?|视觉中国)"
_CREDIT_LABEL = (
    r"(?:(?:本文|文中)?(?:部分)?图片来源|图源|图片来自|图自|资料图片?|视频截图|视觉中国|来源[:：]\s*(?:网络)?视频截图|(?:图|摄影|摄像)\s*[:：/丨|｜])"
)
_PAREN_CREDIT = (
    rf"(?:[\u4e00-\u9fff]{{2,4}}社发\s*)?[（(]\s*(?:(?:[\u4e00-\u9fff]{{2,4}}社发\s*[，,]?\s*)?[^（）()。，,]{{0,24}}?{_CREDIT_END}"
    rf"|{_CREDIT_LABEL}[^（）()]{{0,30}}?)\s*[）)]"
)
#: A photographer's credit: after a sentence or a blank with its outlet (新华社记者 王海洲 摄, 人民网记者 陶涛摄, 李吉星摄,
#: 汪龙华/摄), anywhere when a 记者 names it (…现场新民晚报记者陶磊摄（下同）), or a page's note (本版图片均由…记者…摄).
_NOT_A_NAME_END = "拍偷翻抓跟所被自俯仰遥盗待将在的由把为给主副置"
_NOT_A_CREDIT_NEXT = "氏像影入制取录于到了的下得成时者"
_NAME_CREDIT = (
    rf"(?:(?:(?<=[。！？!?”\s])|^)(?:[\u4e00-\u9fff·]{{0,10}}?(?:记者|通讯员|网|社|报)\s*)?|(?:记者|通讯员)\s*[:：]?\s*)"
    rf"[\u4e00-\u9fff·]{{2,4}}(?<![{_NOT_A_NAME_END}])\s*/?\s*摄(?:影报道)?(?![{_NOT_A_CREDIT_NEXT}])(?:[（(]下同[）)])?"
    rf"|(?:本文|本版|文中)图片[^。！？]{{0,20}}?记者\s*[\u4e00-\u9fff·]{{2,4}}\s*摄(?![{_NOT_A_CREDIT_NEXT}])"
)
#: Markers of a picture standing in the text: 资料图, 视频截图, 视觉中国 图, 来源：视频截图.
_MARKER = (
    r"(?:网传|网络|现场|监控|网友)?视频截图(?!显示|中|里|上|可|来|发|称|画面)"
    r"|(?:视觉中国\s*|新华社\s*)?资料图片?(?!显示|中|里|上)\s*(?:[（(]?\s*(?:与)?图文无关\s*[）)]?|[:：])?"
    r"|(?:视觉中国|新华社)\s+图(?![片表书像文纸标])|来源[:：]\s*(?:网络)?视频截图"
)
#: A page's navigation, footer and notices inside the text: 点击进入 X网 Y网…, 返回搜狐，查看更多, 分享让更多人看到,
#: 版权属于原作者 and 谢绝转载 glued to the next sentence, （广告）, a notice that says what it is however long it runs (广告声明：文内含有的…均包含本声明。),
#: and a closing 本文属于原创文章，如若转载，请注明来源：<its title><its address> (the title may hold any punctuation).
_NAVIGATION = (
    r"点击进入\s*(?:[\u4e00-\u9fff]{2,8}网\s*){2,}|返回[\u4e00-\u9fff]{1,4}[，,]\s*查看更多|分享让更多人看到|[（(]广告[）)]"
    r"|(?<!此文)(?<!本文)版权(?:归|属于)原作者(?:所有)?(?![，,。])|(?:本文章?为\S{1,8}原创[，,]\s*)?谢绝(?:任何)?(?:媒体|个人|他人)?转载"
    r"|(?:广告|免责)声明\s*[:：][^。！？]{0,240}[。！？]?"
    r"|(?:本文(?:属于|为|系)\S{0,8}原创(?:文章)?[，,]\s*)?(?:如[若需要]?)?转载[，,]?\s*请注明(?:来源|出处)\s*[:：][^\n]{0,160}?https?://\S+\s*$"
)
_INLINE = re.compile(rf"(?P<ad>{_AD})|(?P<credit>{_PAREN_CREDIT}|{_NAME_CREDIT})|(?P<marker>{_MARKER})|(?P<navigation>{_NAVIGATION})")
#: A picture's source after a label (图源：视觉中国, 图片来源：X网站, 图/受访者提供): the source ends with a word
#: sources end with; one whose end cannot be told from the text after it is left in place.
_SOURCE_LABEL = re.compile(r"(?:图源|图片来源于?|图片来自|截?图自|图\s*[/丨|｜])\s*[:：/]?\s*")
_SOURCE = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9.&_-]{1,30}(?![A-Za-z0-9])"
    r"|[^\s，。！？；（）()《》“”据]{0,4}《[^《》]{1,12}》"
    r"|[^\s，。！？；（）()《》“”据]{0,12}?(?:视觉中国|视频截图|视频截屏|截图|截屏|网站|官网|官微|网络|网友|微博|推特|[Pp]hoto|PHOTO|社交媒体|社交平台|受访者|"
    r"供图|提供|公众号|账号|客户端|杂志|视频|日报|晚报|时报|电视台|平台|新闻|报(?!道)|社(?![区会团交])|网(?![民店点格])))"
    r"(?:社(?![区会])|网(?![友民]))?(?:提供|供图)?(?:报道配图|报道截图|配图|截图|截屏|资料照片|资料图片?)?(?:[-_][A-Za-z0-9_]+)?"
)
_SOURCE_WHOLE = re.compile(r"[^\s，,。！？；（）()]{1,16}?(?=撰稿|摄影|编辑|责任编辑|原标题|原题|来源|返回|[\s。）)]|$)")
#: The editor's line a page ends with: 责任编辑：王明, （责任编辑：许朝）.
_EDITOR_TRAILER = re.compile(r"\s*[（(［\[]?\s*责任编辑\s*[:：][^。！？（）()［］\[\]]{0,20}[）)］\]]?\s*$")
#: What may follow a credit without starting a new paragraph: the rest of the sentence it stood in.
_CLOSES = "，,。、；;：:！？!?）)”’」』》…"
#: The unpunctuated words before a picture's marker are its caption when at most this long.
_CAPTION_TAIL_MAX_CHARS = 60


def _furniture_spans(paragraph: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the inline furniture of a paragraph, in order and not overlapping."""
    spans = [(m.start(), m.end(), m.lastgroup or "") for m in _INLINE.finditer(paragraph)]
    for label in _SOURCE_LABEL.finditer(paragraph):
        source = _SOURCE.match(paragraph, label.end()) or _SOURCE_WHOLE.match(paragraph, label.end())
        if source:
            spans.append((label.start(), source.end(), "marker"))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, kind))
    return merged


def _caption_start(text: str) -> int | None:
    """Where the caption a picture's credit or marker closes begins in ``text`` (None: no caption).

    Only the unpunctuated words since the last sentence end are one: a whole sentence
    before a credit may be the article's (…国际日。新华社发（…摄）), so it stays quotable.
    """
    body = text.rstrip()
    if not body or body[-1] in SENTENCE_END:
        return None
    ends = [i for i, ch in enumerate(body) if ch in "。！？!?；;"]
    start = ends[-1] + 1 if ends else 0
    caption = body[start:].strip()
    return start if caption and len(caption) <= _CAPTION_TAIL_MAX_CHARS else None


def split_furniture(paragraph: str) -> list[Piece]:
    """The paragraph without its inline furniture, broken where a picture or an ad stood.

    Ads, photo credits, picture markers and page navigation are cut out verbatim
    from the text around them; where one stood between two stretches of text (not
    inside a sentence) the paragraph breaks, and the unpunctuated words before a
    picture's credit become a caption. Then each stretch loses its notice sentences.
    """
    pieces: list[Piece] = []
    current = ""
    position = 0
    for start, end, kind in _furniture_spans(paragraph):
        current += paragraph[position:start]
        position = end
        following = paragraph[end:].lstrip()
        if following and following[0] in _CLOSES:
            continue  # a credit inside a sentence: the sentence goes on
        if kind in ("credit", "marker") and (begin := _caption_start(current)) is not None:
            pieces += [Piece(current[:begin]), Piece(current[begin:], caption=True)]
        else:
            pieces.append(Piece(current))
        current = ""
    pieces.append(Piece(current + paragraph[position:]))
    cleaned = [Piece(strip_furniture(_EDITOR_TRAILER.sub("", piece.text).strip()), piece.caption) for piece in pieces]
    return [piece for piece in cleaned if piece.text.strip()]
