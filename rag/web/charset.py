"""A fetched page's bytes as text, by the charset it declares, else by what the bytes look like.

Why: Chinese sites still serve GBK and GB18030, declared in the Content-Type header, in
a ``<meta charset>`` or ``http-equiv`` tag, or nowhere. The declaration wins when the
bytes decode by it; then UTF-8; then what charset_normalizer detects; GB18030 last.
GBK and GB2312 are read as GB18030, their superset, so a character outside them decodes too.
"""

from __future__ import annotations

import codecs
import re

#: Declared charsets read as the superset that decodes everything the declared one does.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252", "ascii": "utf-8"}
_META = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""", re.IGNORECASE)
#: Charsets servers send when nobody configured one; the page's own declaration is believed first.
_SERVER_DEFAULTS = frozenset({"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"})
#: Declarations sit in a page's head: only its start is searched.
_HEAD_BYTES = 4096


def declared_in_page(body: bytes) -> str:
    """The charset a ``<meta>`` tag or an XML declaration names ("" when none)."""
    head = body[:_HEAD_BYTES]
    found = _META.search(head) or _XML.search(head)
    return found.group(1).decode("ascii").lower() if found else ""


def _codec(name: str) -> str:
    name = _SUPERSETS.get(name.lower(), name.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def decode_page(body: bytes, header_charset: str = "") -> str:
    """``body`` as text: the header's charset, then the page's own, then UTF-8, detection and GB18030."""
    tried = []
    order = [header_charset, declared_in_page(body), "utf-8"]
    if header_charset.lower() in _SERVER_DEFAULTS:  # often a server's default, not the page's word: the page's own first
        order = order[1:] + order[:1]
    for name in order:
        codec = _codec(name) if name else ""
        if codec and codec not in tried:
            tried.append(codec)
            try:
                return body.decode(codec).lstrip("\ufeff")
            except UnicodeDecodeError:
                continue
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    if best is not None and best.encoding:
        return str(best)
    return body.decode("gb18030", errors="replace")


__all__ = ["declared_in_page", "decode_page"]
