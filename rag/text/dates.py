"""Publication dates of documents, and the periods questions ask about.

A document's date comes from, best first: an HTML ``<meta>`` article date or a
``<time datetime>``, a leading metadata line of a scraped article (the part
before ``正文：``), a dateline (新华社北京8月10日电), a date in the file name.
A date written without its year (08/16 13:50, 8月10日电) takes the year from
the metadata line or the file name, else from the collection (rag.ingest.stories): the
years an article's body mentions are often those of other events. Dates are ISO strings (``2023-08-16`` or
``2023-08-16T13:50``) so that they sort and compare as text.

A question's period (2023年7月, 上半年, 二季度, 8月以来, 最近, 今年) is read
against a reference date — the newest document in the index, never the
clock — so an archive of 2023 news answers 今年 with 2023.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..errors import InputError

HTML_META, HTML_TIME, HEADER, DATELINE, FILE_NAME = "html-meta", "html-time", "header", "dateline", "file-name"

_TIME = r"(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?)?"
_FULL = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*[-/年.]?\s*(?P<m>\d{1,2})\s*[-/月.]\s*(?P<d>\d{1,2})(?:(?!\d)|(?=\d{1,2}[:：]\d))\s*日?(?:T|\s*)" + _TIME)
_SHORT_YEAR = re.compile(r"(?<!\d)(?P<y>\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)" + _TIME)
_MONTH_DAY = re.compile(r"(?<!\d)(?P<m>\d{1,2})\s*[-/月]\s*(?P<d>\d{1,2})(?!\d)\s*日?" + _TIME)
_DATELINE = re.compile(r"(?:(?P<y>(?:19|20)\d{2})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})日\s*(?:电|讯)")
_FILE_DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-_.]?(?P<m>\d{2})[-_.]?(?P<d>\d{2})(?!\d)")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|-|/)")
#: How far into the body a dateline may start (it opens the first paragraph, after the outlet's name).
DATELINE_HORIZON = 40


@dataclass(frozen=True)
class Published:
    """When a document was published, and where that was read (one of the constants above)."""

    iso: str
    source: str


def _iso(year: int, month: int, day: int, hour: str | None = None, minute: str | None = None, second: str | None = None) -> str | None:
    try:
        when = datetime(year, month, day, int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if hour is None:
        return when.date().isoformat()
    return when.isoformat(timespec="seconds" if second else "minutes")


#: A leap year: 29 February is a valid month and day while the year is unknown.
_LEAP_YEAR = 2000


def _from_match(m: re.Match[str], year: int | None) -> str | None:
    groups = m.groupdict()
    raw_year = groups.get("y")
    if raw_year:
        year = int(raw_year) + (2000 if len(raw_year) == 2 else 0)
    if year is None:  # month and day only: "--MM-DD…" until the collection supplies the year (see with_year)
        found = _iso(_LEAP_YEAR, int(groups["m"]), int(groups["d"]), groups.get("H"), groups.get("M"), groups.get("S"))
        return "--" + found[5:] if found else None
    return _iso(year, int(groups["m"]), int(groups["d"]), groups.get("H"), groups.get("M"), groups.get("S"))


def is_partial(iso: str) -> bool:
    """A date read without its year (``--MM-DD…``)."""
    return iso.startswith("--")


def with_year(iso: str, year: int) -> str:
    """A partial date completed with ``year`` (29 February of a common year stays partial)."""
    if not is_partial(iso):
        return iso
    try:
        date(year, int(iso[2:4]), int(iso[5:7]))
    except ValueError:
        return iso
    return f"{year:04d}{iso[1:]}"


def context_year(*texts: str) -> int | None:
    """The year a text mentions most (its first when tied): what a date without a year means."""
    for text in texts:
        years = Counter(int(y) for y in _YEAR.findall(text))
        if years:
            return years.most_common(1)[0][0]
    return None


def parse_date(text: str, year: int | None = None) -> str | None:
    """The first date in ``text`` (a metadata line, an attribute), with ``year`` for one written without it."""
    for pattern in (_FULL, _SHORT_YEAR, _MONTH_DAY):
        for m in pattern.finditer(text):
            found = _from_match(m, year)
            if found:
                return found
    return None


def dateline_date(body: str, year: int | None) -> str | None:
    """新华社北京8月10日电 / 中国经济网北京7月20日讯 near the start of the article."""
    m = _DATELINE.search(body[: DATELINE_HORIZON + 20])
    if not m or m.start() > DATELINE_HORIZON:
        return None
    return _from_match(m, year)


def file_name_date(name: str) -> str | None:
    m = _FILE_DATE.search(name)
    return _from_match(m, None) if m else None


def find_published(header: str, body: str, file_name: str, html_dates: tuple[tuple[str, str], ...] = ()) -> Published | None:
    """The publication date by the rules in the module docstring; None when the document gives none."""
    year = context_year(header, file_name)  # a body's years are often other events': the collection decides
    for value, source in html_dates:
        found = parse_date(value, year)
        if found:
            return Published(found, source)
    if header:
        found = parse_date(header, year)
        if found:
            return Published(found, HEADER)
    found = dateline_date(body, year)
    if found:
        return Published(found, DATELINE)
    found = file_name_date(file_name)
    return Published(found, FILE_NAME) if found else None


def day_of(iso: str) -> str:
    """The calendar day of an ISO date or date-time (what ranges compare)."""
    return iso[:10]


def in_range(iso: str, since: str = "", until: str = "") -> bool:
    """Whether a publication date lies in [since, until] (days, both inclusive; "" is open)."""
    if not iso or is_partial(iso):
        return not since and not until
    day = day_of(iso)
    return (not since or day >= day_of(since)) and (not until or day <= day_of(until))


def check_day(value: str, what: str) -> str:
    """``value`` as YYYY-MM-DD ("" stays ""), or a ValueError naming ``what``."""
    value = (value or "").strip()
    if not value:
        return ""
    found = parse_date(value)
    if not found or is_partial(found):
        raise InputError(f"{what} must be a date such as 2023-07-01, not {value!r} / 日期格式应为 2023-07-01")
    return day_of(found)


# --------------------------------------------------------------------------- periods in questions


@dataclass(frozen=True)
class Period:
    """Days [start, end] a question asks about; ``label`` says it in the question's words."""

    start: str
    end: str
    label: str


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_Q_FULL_DAY = re.compile(r"(?:(?P<y>(?:19|20)\d{2})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号](?P<since>以来|至今)?")
_Q_MONTH = re.compile(r"(?:(?P<y>(?:19|20)\d{2})年)?(?P<m>\d{1,2})月(?:份)?(?P<since>以来|至今)?")
_Q_HALF = re.compile(r"(?:(?P<y>(?:19|20)\d{2})年)?(?P<h>上|下)半年")
_Q_QUARTER = re.compile(r"(?:(?P<y>(?:19|20)\d{2})年)?(?:第)?(?P<q>[一二三四1-4])季度")
_Q_YEAR = re.compile(r"(?P<y>(?:19|20)\d{2})年(?!\d{1,2}月|[上下]半年|第?[一二三四1-4]季度)")
_RECENT = ("最近", "近期", "近日", "这几天", "最新", "recently", "latest")
_THIS_YEAR = ("今年", "本年", "this year")
_THIS_MONTH = ("本月", "这个月", "这个月份", "this month")
_LAST_MONTH = ("上个月", "上月", "last month")


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _span(start: date, end: date, text: str) -> Period:
    return Period(start.isoformat(), end.isoformat(), text)


def question_period(question: str, newest: str = "", recent_days: int = 30) -> Period | None:
    """The period ``question`` names, years and relative words read against ``newest`` (an ISO date).

    最近 and its kin mean the ``recent_days`` up to the newest document.
    """
    ref = date.fromisoformat(day_of(newest)) if newest else None
    default_year = ref.year if ref else None
    lowered = question.lower()
    try:
        m = _Q_FULL_DAY.search(question)
        if m and (m.group("y") or default_year):
            year = int(m.group("y") or default_year)  # type: ignore[arg-type]
            day = date(year, int(m.group("m")), int(m.group("d")))
            end = ref if m.group("since") and ref else day
            return _span(day, max(day, end), m.group())
        m = _Q_MONTH.search(question)
        if m and (m.group("y") or default_year) and 1 <= int(m.group("m")) <= 12:
            year, month = int(m.group("y") or default_year), int(m.group("m"))  # type: ignore[arg-type]
            start = date(year, month, 1)
            end = ref if m.group("since") and ref and ref > start else _month_end(year, month)
            return _span(start, end, m.group())
        m = _Q_HALF.search(question)
        if m and (m.group("y") or default_year):
            year = int(m.group("y") or default_year)  # type: ignore[arg-type]
            first = m.group("h") == "上"
            return _span(
                date(year, 1 if first else 7, 1), date(year, 6, 30) if first else date(year, 12, 31), m.group() if m.group("y") else f"{year}年{m.group()}"
            )
        m = _Q_QUARTER.search(question)
        if m and (m.group("y") or default_year):
            year, q = int(m.group("y") or default_year), _CN_DIGITS[m.group("q")]  # type: ignore[arg-type]
            return _span(date(year, 3 * q - 2, 1), _month_end(year, 3 * q), m.group() if m.group("y") else f"{year}年{m.group()}")
        m = _Q_YEAR.search(question)
        if m:
            year = int(m.group("y"))
            return _span(date(year, 1, 1), date(year, 12, 31), f"{year}年")
    except ValueError:  # 2月30日: not a day
        return None
    if ref is None:
        return None
    if any(word in lowered for word in _RECENT):
        start = ref - timedelta(days=recent_days)
        return _span(start, ref, f"{start.isoformat()}—{ref.isoformat()}")
    if any(word in lowered for word in _THIS_YEAR):
        return _span(date(ref.year, 1, 1), ref, f"{ref.year}年")
    if any(word in lowered for word in _THIS_MONTH):
        return _span(date(ref.year, ref.month, 1), ref, f"{ref.year}年{ref.month}月")
    if any(word in lowered for word in _LAST_MONTH):
        last = date(ref.year, ref.month, 1) - timedelta(days=1)
        return _span(date(last.year, last.month, 1), last, f"{last.year}年{last.month}月")
    return None
