"""What in a scraped article is not the article: page furniture, photo captions, headings.

Rules, not lists of sites: copyright notices, app and QR-code prompts, credit
and byline lines are dropped; captions stay searchable but are never quoted;
a short line without closing punctuation that introduces a longer one is a heading.
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


def is_furniture(paragraph: str) -> bool:
    """True for copyright notices, app/QR prompts and credit lines.

    A paragraph is furniture when it is a short credit line, or when most of
    its sentences are notices; a news sentence that merely mentions an app stays.
    """
    stripped = paragraph.strip()
    credit = _CREDIT.match(stripped)
    if credit and len(stripped) <= _CREDIT_MAX_CHARS and not _CREDIT_NOT_NAMES.search(stripped[credit.end() :]):
        return True
    if _BYLINE.match(stripped):
        return True
    pieces = [p for p in _SENTENCE_PIECE.findall(stripped) if p.strip()]
    if not pieces:
        return False
    flagged = sum(len(p) for p in pieces if _FURNITURE.search(p))
    return flagged * 2 > len(stripped)


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
