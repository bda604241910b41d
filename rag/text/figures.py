"""A figure a question states, found in a document however it is written: 30 or 三十, 50000 or 50,000 or 五万.

The support check holds a stated figure (8万名, 六维) against the cited document;
the document may write it in Chinese numerals or with thousands separators.
"""

from __future__ import annotations

import re

from .qualifiers import numeral


def figure_in(number: str, text: str) -> bool:
    """Whether ``text`` states the question's figure (30, 8万, 六维) in any of the ways Chinese text writes it."""
    tenths = _TENTHS.fullmatch(number)
    if tenths is not None:  # 9成 asked, 90% or 百分之九十 written
        percent = int(tenths.group(1)) * 10
        forms = [f"{percent}%", *(f"百分之{f}" for f in chinese_forms(percent)), f"{chinese_forms(int(tenths.group(1)))[0]}成"]
        return any(f in text for f in forms) or figure_in(tenths.group(1), text)
    digits = re.match(r"\d+(?:\.\d+)?", number.replace(",", ""))
    if digits is not None and "." not in digits.group() and any(f in text for f in chinese_forms(int(digits.group()))):
        return True  # 30 asked, 约三十倍 written
    if digits is None:  # 六维: the same count in Chinese numerals, or in digits
        value = numeral(number[:-1])
        return number in text or (value is not None and re.search(rf"(?<![0-9.]){value}{re.escape(number[-1])}", text) is not None)
    plain = _THOUSANDS.sub("", text)  # 50,000 written, 50000 asked
    return re.search(rf"(?<![0-9.]){re.escape(digits.group())}(?![0-9]|\.[0-9])", plain) is not None


_DIGITS = "零一二三四五六七八九"
#: Tenths, as Chinese says shares: 9成 is 90%.
_TENTHS = re.compile(r"([1-9])成")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def chinese_forms(n: int) -> list[str]:
    """How a count may be written in Chinese numerals: 30 → 三十, 75 → 七十五, 9000 → 九千, 50000 → 五万."""
    if not 0 < n < 100_000_000:
        return []
    if n >= 10_000:
        high, low = divmod(n, 10_000)
        rest = chinese_forms(low)[0] if low else ""
        return [f"{chinese_forms(high)[-1]}万{'零' if 0 < low < 1000 else ''}{rest}"]
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            out += ("零" if zero and out else "") + _DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    forms = [out]
    if out.startswith("一十"):
        forms.append(out[1:])  # 十五, not 一十五
    return forms
