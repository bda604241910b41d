"""Whether a time a source names says the period a question asks about.

The support check (``rag.answer.support``) reads a question's times and a
source's with ``rag.text.qualifiers.times_in``; here they are compared: a
relative year (今年) is read against a year, a source time without a year takes
its publication's, and a period is the months it covers, so 二季度 holds 5月
and 1-7月 is not 7月.
"""

from __future__ import annotations

import re

from .qualifiers import When, times_in


def resolved(when: When, year: int | None) -> When:
    """A relative year (今年, 去年) read against ``year``; without one it stays unknown."""
    if when.relative is None:
        return when
    return When(year + when.relative if year is not None else None, when.half, when.quarter, when.month, when.day, None, when.month_to)


def year_of(published: str) -> int | None:
    return int(published[:4]) if published[:4].isdigit() else None


#: A day named without its month (原定于4日举行, 31日前往深圳): the month of publication.
_DAY_ONLY = re.compile(r"(?<![月\d.])(\d{1,2})\s*日(?![本内])")


def source_times(text: str, published: str, context: int | None = None) -> list[When]:
    """The times ``text`` names, relative years read against its publication year; a time without a
    year takes the publication year, else ``context`` (the year the passage or document speaks of)."""
    year = year_of(published) or context
    month = int(published[5:7]) if published[5:7].isdigit() else None
    times = [When(year, None, None, month, int(m.group(1))) for m in _DAY_ONLY.finditer(text) if month and 1 <= int(m.group(1)) <= 31]
    for _s, _e, when in times_in(text):
        when = resolved(when, year)
        if when.year is None and year is not None and (when.month or when.half or when.quarter):
            when = When(year, when.half, when.quarter, when.month, when.day, None, when.month_to)
        times.append(when)
    return times


def months_of(when: When) -> set[int] | None:
    """The months a source time covers (None when it names no part of a year)."""
    if when.month is not None:
        return set(range(when.month, (when.month_to or when.month) + 1))
    if when.quarter is not None:
        return set(range(3 * when.quarter - 2, 3 * when.quarter + 1))
    if when.half is not None:
        return set(range(1, 7)) if when.half == 1 else set(range(7, 13))
    return None


def compatible(asked: When, source: When) -> bool:
    """Whether a source time says the same period the question names (a finer one within it counts)."""
    if asked.year is not None and source.year != asked.year:
        return False
    wanted = months_of(asked)
    if wanted is None:
        return True
    have = months_of(source)
    if have is None or not have <= wanted:
        return False
    if asked.month is not None and have != wanted:
        return False  # 7月 asked: 1-7月 (the first seven months) is another figure; 前8个月 asked: 前7个月 is too
    return asked.day is None or (source.day == asked.day and source.month == asked.month)


def bears_on(asked: When, source: When) -> bool:
    """Whether a time the quoted sentence names is of the asked kind, so that it alone dates the fact: a
    period of months for a period asked, a year for a year, a day for a day (14日 is when a period's figure
    was said; 第二季度 is what a day's announcement reported)."""
    if asked.day is not None:
        return source.day is not None
    if months_of(asked) is not None:
        return months_of(source) is not None and source.day is None
    return source.year is not None


__all__ = ["bears_on", "compatible", "months_of", "resolved", "source_times", "year_of"]
