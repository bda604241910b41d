"""Example questions made from whatever documents are indexed (``Rag.example_questions``).

Nothing here knows the seed articles. Candidates come from each document's
section headings (「关于“…”，文中是怎么说的？」) and from sentences that state a
number (the number becomes 多少). Each candidate is then asked for real and kept
only when the library answers it, so a chip never leads to a refusal.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator

from ..ingest.chunking import SPEAKER, is_question, split_sentences
from ..ingest.documents import BODY, HEADING, Document
from ..text.aliases import alias_table
from ..text.folding import fold
from ..text.qualifiers import Kind, qualifiers

#: How many chips the interface shows, and how many candidates it may try.
SHOWN = 4
TRIED = 10

_MAX_CHARS = 30
#: Where a document's subject is looked for: its title and opening paragraphs, up to this many characters.
SUBJECT_PARAGRAPHS = 3
SUBJECT_CHARS = 600
_MIN_CHARS = 8
_LEADING_NUMBERING = re.compile(r"^\s*([（(]?[一二三四五六七八九十\d]+[)）]?[、.．:：\s]|第[一二三四五六七八九十\d]+[章节部分条]\s*)")
# A count: digits (with decimals and 余/多) and a measure word; years, months and days are not counts.
_COUNT = re.compile(r"(\d+(?:[.,]\d+)?)(?:余|多)?(?=[项家个款户名位人次倍元种条所座台件类亿万千百%％])")
_CLAUSE_BREAK = re.compile(r"[，；;。！？!?]|,(?!\d)")
_OPENERS = re.compile(
    r"^(据披露|据介绍|数据显示|资料显示|目前|此外|同时|另外|其中|据悉|据了解|近日|近年来|今年|去年|截至目前|与此同时|首先|其次|最后|因此|所以|而且|并且|但是|不过)[，,]?"
)


def heading_questions(doc: Document) -> Iterator[str]:
    for p in doc.paragraphs:
        if p.kind != HEADING:
            continue
        text = _LEADING_NUMBERING.sub("", doc.text[p.start : p.end]).strip()
        if text == doc.title.strip() or not (4 <= len(text) <= 24):
            continue
        # "主题：说明" and "主题 说明" headings read better as their last part
        parts = [part for part in re.split(r"[：:]|(?<=[\u4e00-\u9fff”」])\s+(?=[\u4e00-\u9fff“「])", text) if part.strip()]
        topic = parts[-1].strip() if parts and len(parts[-1].strip()) >= 4 else text
        yield f"关于「{topic}」，文中是怎么说的？"


def count_questions(doc: Document) -> Iterator[str]:
    """「…共多少项…？」 from sentences stating a count, each asked as a reader would: one clause, its subject
    named (the document's own when the clause has none), no other figure in it."""
    subject = _subject(doc)
    for p in doc.paragraphs:
        if p.kind != BODY:
            continue
        text = doc.text[p.start : p.end]
        if is_question(text):  # an interviewer's question states no fact
            continue
        for start, end in split_sentences(text):
            sentence = SPEAKER.sub("", text[start:end]).strip()
            question = _count_question(sentence, subject)
            if question:
                yield question


def _subject(doc: Document) -> str:
    """Of the names its opening holds (an organisation, place or person), the one the document repeats most; "" when none."""
    table = alias_table()
    opening = "\n".join([doc.title, *(doc.paragraph_text(i) for i in range(min(SUBJECT_PARAGRAPHS, len(doc.paragraphs))))])
    names = [q.folded for q in qualifiers(opening[:SUBJECT_CHARS], table) if q.kind == Kind.NAME and len(q.folded) >= 2]
    text = fold(doc.text)
    counts = {name: text.count(name) for name in dict.fromkeys(names)}
    return max(counts, key=lambda n: (counts[n], -names.index(n))) if counts else ""


def _count_question(sentence: str, subject: str = "") -> str:
    for match in _COUNT.finditer(sentence):
        before = _CLAUSE_BREAK.search(sentence[::-1], len(sentence) - match.start())
        start = len(sentence) - before.start() if before else 0
        brk = _CLAUSE_BREAK.search(sentence, match.end())
        clause = sentence[start : brk.start() if brk else len(sentence)].strip()
        at = match.start() - start - (len(sentence[start:]) - len(sentence[start:].lstrip()))
        asked = clause[:at] + "多少" + clause[at + len(match.group()) :]
        asked = _OPENERS.sub("", asked).strip(" 、")
        if re.search(r"\d", asked.replace("多少", "")) and not re.search(r"(?:19|20)\d{2}年", asked):
            continue  # another figure in the question reads as a riddle
        if not _has_subject(asked) or _PREPOSITION.match(asked):  # 与上海市政府…签约: who signed?
            if not subject or subject in asked:
                continue
            asked = subject + asked
        if _MIN_CHARS <= len(asked) <= _MAX_CHARS and re.search(r"[\u4e00-\u9fff]{4}", asked):
            return asked.rstrip("。.，,；;") + "？"
    return ""


#: A clause opening with a preposition names its partner, not its subject (与上海市政府…, 为20余家…).
_PREPOSITION = re.compile(r"^(?:与|和|跟|同|在|为|对|向|从|由|被|把|给|通过|依托|围绕|针对)")


def _has_subject(clause: str) -> bool:
    """A clause that names who or what it is about (an organisation, place or person) before what it asks."""
    asked_at = clause.find("多少")
    return any(q.kind == Kind.NAME and q.start < asked_at for q in qualifiers(clause, alias_table()))


def candidates(documents: Iterable[Document], wanted: int | None = None) -> list[str]:
    """Candidates interleaved across documents: each document's count questions, then its headings.

    With ``wanted``, documents are read only until their first questions make that many: the list
    then begins as it would over all of them, so an archive of 20,000 articles is not read for ten.
    """
    per_doc = []
    firsts: set[str] = set()
    for doc in documents:
        if wanted is not None and len(firsts) >= wanted:
            break
        own = list(dict.fromkeys([*count_questions(doc), *heading_questions(doc)]))
        # alternate the two kinds so every document offers both
        counts = [q for q in own if "多少" in q]
        headings = [q for q in own if q not in counts]
        mixed = [q for pair in zip(counts, headings, strict=False) for q in pair] + counts[len(headings) :] + headings[len(counts) :]
        per_doc.append(mixed)
        firsts.update(mixed[:1])
    out: list[str] = []
    for i in range(max((len(d) for d in per_doc), default=0)):
        out.extend(d[i] for d in per_doc if i < len(d))
    return list(dict.fromkeys(out))


class ExampleCache:
    """Verified example questions, recomputed only when the index generation changes."""

    def __init__(self, generation: Callable[[], str], documents: Callable[[], list[Document]], answers: Callable[[str], bool]) -> None:
        self._generation = generation
        self._documents = documents
        self._answers = answers
        self._lock = threading.Lock()
        self._key: str | None = None
        self._questions: list[str] = []

    def get(self) -> list[str]:
        key = self._generation()
        with self._lock:
            if key != self._key:
                self._questions = self._compute()
                self._key = key
            return list(self._questions)

    def _compute(self) -> list[str]:
        chosen: list[str] = []
        for question in candidates(self._documents(), TRIED)[:TRIED]:
            try:
                if self._answers(question):
                    chosen.append(question)
            except Exception:  # an example that cannot be asked is simply not shown
                continue
            if len(chosen) >= SHOWN:
                break
        return chosen
