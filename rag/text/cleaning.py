"""What in a scraped article is not the article: page furniture, photo captions, headings.

Rules, not lists of sites: copyright notices, app and QR-code prompts, credit
and byline lines are dropped; captions stay searchable but are never quoted;
a short line without closing punctuation that introduces a longer one is a heading.
Furniture goes sentence by sentence: a paragraph that also holds a follow-us
prompt keeps its other sentences. Scraped text's runs of white space become one
space, or a paragraph break after a sentence's end, before anything is stored,
so every offset points into text without blank stretches.
"""

from __future__ import annotations

import re

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
    r"出品|撰文|文|图|视频|editor|reporter|photo|photos|source|author|written by|edited by)\s*[:：|丨/]",
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

    A credit line goes whole; otherwise only the short sentences that are
    notices or prompts do, and every other sentence stays.
    """
    if _is_credit(paragraph.strip()):
        return ""
    pieces = [p for p in _SENTENCE_PIECE.findall(paragraph) if p]
    if not any(_is_notice(p) for p in pieces):
        return paragraph
    return "".join(p for p in pieces if not _is_notice(p)).strip()


#: White space of any kind (tabs, ideographic and no-break spaces included).
_SPACE_RUN = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u200b\ufeff]+")
#: A run this long, or one holding a tab or line break, after a sentence's end starts a new paragraph.
_BREAK_RUN_CHARS = 2


def split_runs(line: str) -> list[str]:
    """One scraped line as paragraphs: long white-space runs after a sentence end break it, others become one space."""
    parts: list[str] = []
    current: list[str] = []
    position = 0
    for match in _SPACE_RUN.finditer(line):
        current.append(line[position : match.start()])
        run = match.group()
        before = "".join(current).rstrip()
        breaks = (len(run) >= _BREAK_RUN_CHARS or "\t" in run or "\n" in run) and before and before[-1] in SENTENCE_END
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
