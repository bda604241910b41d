"""``Document`` → ``Chunk``: Chinese-aware sentences, paragraph-aware chunks.

Chunks never cut a sentence, stay inside one section, overlap by a sentence,
and record character offsets into the document text so that a citation can
point at (and highlight) its exact source. Sentences that may be quoted as an
answer are recorded too: headings, photo captions and questions are searchable
context but never an answer. A run-on "sentence" (a transcribed video with no
full stop) counts as its clause-long pieces, each a quotable span.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..settings import Settings
from .documents import BODY, CAPTION, HEADING, Document, Paragraph

Span = tuple[int, int]

_ENDERS = frozenset("。！？!?；;…")
_TRAILERS = frozenset("”’」』）)》】\"'…")
_QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", "‘": "’"}
#: An opening quote not closed within this many characters is treated as a stray mark.
_QUOTE_HORIZON = 200
_SOFT_BREAKS = "，,、：:"
#: Brackets a semicolon inside does not end a sentence in; one not closed within this many characters is stray.
_OPENING, _CLOSING, _INNER_BREAKS = "（({", "）)}", "；;"
_BRACKET_HORIZON = 120
#: A period after these (or after one capital: Andrew W. Mellon) abbreviates; it ends no sentence.
_ABBREVIATIONS = frozenset({"Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "No", "Inc", "Co", "Ltd", "vs", "Prof", "Gen", "Lt", "Col"})
#: How sentences are cut, for the manifest: an index cut by other rules is rebuilt (its quotable spans differ).
SENTENCE_RULES = 2
#: A "sentence" longer than this is a run-on (a transcribed video with no full stop) and is kept as pieces
#: cut at clause marks, else at blanks; a merely long sentence stays whole for scoring, and the answer
#: quotes the clauses around its fact (``Settings.quote_max_chars``, rag.answer.compose).
QUOTE_MAX_CHARS = 240
_CLAUSE_MARKS = "，,；;、：:。！？!?"
_QUESTION_END = re.compile(r"[？?][”」』）)]*\s*$")
#: "记者：" / "王明：" at the start of a paragraph: who speaks, not what is said.
SPEAKER = re.compile(r"^[\u4e00-\u9fffA-Za-z·.\s]{1,16}[：:]")


@dataclass(frozen=True)
class ChunkerConfig:
    """A view of the ``chunk_*`` settings (their defaults live in ``Settings`` alone); the manifest records it."""

    min_chars: int
    max_chars: int
    overlap_sentences: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ChunkerConfig:
        return cls(settings.chunk_min_chars, settings.chunk_max_chars, settings.chunk_overlap_sentences)

    def as_dict(self) -> dict[str, int]:
        # the run-on bound shapes what is quotable, so an index cut with another one is rebuilt
        return {
            "min_chars": self.min_chars,
            "max_chars": self.max_chars,
            "overlap_sentences": self.overlap_sentences,
            "run_on_chars": QUOTE_MAX_CHARS,
            "sentence_rules": SENTENCE_RULES,
        }


@dataclass(frozen=True)
class Chunk:
    id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    paragraph: int  # the paragraph this chunk is about (its first sentence that is not overlap)
    context: str
    quotable: tuple[Span, ...]
    first_paragraph: int  # the paragraph its text starts in (an overlap sentence may precede ``paragraph``)

    @property
    def search_text(self) -> str:
        """What the retrievers see: the section heading (and interview question) plus the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text

    def quotable_sentences(self) -> list[tuple[int, int, str]]:
        """(start, end, sentence) with offsets relative to the chunk text."""
        return [(s - self.start, e - self.start, self.text[s - self.start : e - self.start]) for s, e in self.quotable]


# --------------------------------------------------------------------------- sentences


def split_sentences(text: str, max_chars: int | None = None) -> list[Span]:
    """Sentence spans of ``text``, ends kept with their closing quotes and brackets.

    A full stop inside “…” or 「…」 does not end the sentence; an ASCII period
    ends one only before white space, so 3.85亿 and 1,400 stay whole. A sentence
    longer than ``max_chars`` is split at its last comma before the limit.
    """
    spans: list[Span] = []
    start = 0
    open_quotes: list[tuple[str, int]] = []
    brackets: list[int] = []  # where each open bracket stands
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if open_quotes and i - open_quotes[-1][1] > _QUOTE_HORIZON:
            open_quotes.clear()
        if brackets and i - brackets[-1] > _BRACKET_HORIZON:
            brackets.clear()
        if ch in _OPENING:
            brackets.append(i)
        elif ch in _CLOSING and brackets:
            brackets.pop()
        if ch in _INNER_BREAKS and brackets:
            pass  # 鸡毛松（学名：Dacrycarpus；…）, -{zh-hans:猢狲树;zh-tw:猴面包树}-: a list inside brackets
        elif ch in _QUOTE_PAIRS:
            open_quotes.append((_QUOTE_PAIRS[ch], i))
        elif open_quotes and ch == open_quotes[-1][0]:
            open_quotes.pop()
            if not open_quotes and i > 0 and text[i - 1] in _ENDERS:
                i = _end_after(text, i + 1)
                spans.append((start, i))
                start = i
                continue
        elif not open_quotes and (ch in _ENDERS or _is_period(text, i)):
            i = _end_after(text, i + 1)
            spans.append((start, i))
            start = i
            continue
        i += 1
    if start < n:
        spans.append((start, n))
    spans = [_strip_span(text, s, e) for s, e in spans]
    spans = [(s, e) for s, e in spans if e > s]
    if max_chars:
        spans = [piece for span in spans for piece in _soft_split(text, span, max_chars)]
    return spans


def split_quotable(text: str, max_chars: int, quote_chars: int = QUOTE_MAX_CHARS) -> list[Span]:
    """``split_sentences``, with every sentence longer than ``quote_chars`` cut into pieces a quote can hold.

    Pieces are cut after a clause mark (，；、：, or a full stop inside a quotation), else
    at a blank, near even lengths, each at most ``quote_chars`` where the text allows; a
    run with no mark or blank stays whole. Every piece is verbatim text of the sentence.
    """
    return [piece for span in split_sentences(text, max_chars) for piece in _clause_split(text, span, quote_chars)]


def _clause_split(text: str, span: Span, limit: int) -> list[Span]:
    start, end = span
    pieces: list[Span] = []
    while end - start > limit:
        cut = _clause_cut(text, start, end, limit)
        if cut is None:
            break
        piece = _strip_span(text, start, cut)
        if piece[1] > piece[0]:
            pieces.append(piece)
        start = cut
    rest = _strip_span(text, start, end)
    return pieces + ([rest] if rest[1] > rest[0] else [])


def _clause_cut(text: str, start: int, end: int, limit: int) -> int | None:
    """Where to cut ``text[start:end]``: the mark (else the blank) nearest an even share within ``limit``, or the first after it."""
    parts = -(-(end - start) // limit)
    target = start + (end - start) // parts
    for marks in (_CLAUSE_MARKS, None):
        inside = [i + 1 for i in range(start + 1, min(start + limit, end - 1)) if _is_break(text[i], marks)]
        if inside:
            return min(inside, key=lambda i: abs(i - target))
    beyond = next((i + 1 for i in range(start + limit, end - 1) if _is_break(text[i], _CLAUSE_MARKS) or text[i].isspace()), None)
    return beyond


def _is_break(ch: str, marks: str | None) -> bool:
    return ch in marks if marks is not None else ch.isspace()


def _is_period(text: str, i: int) -> bool:
    if text[i] not in ".．":
        return False
    after = text[i + 1] if i + 1 < len(text) else " "
    before = text[i - 1] if i > 0 else " "
    if not after.isspace() or before.isdigit():
        return False
    word = re.search(r"[A-Za-z]+$", text[max(0, i - 8) : i])
    return word is None or not (len(word.group()) == 1 and word.group().isupper() or word.group() in _ABBREVIATIONS)


def _end_after(text: str, i: int) -> int:
    while i < len(text) and (text[i] in _ENDERS or text[i] in _TRAILERS):
        i += 1
    return i


def _strip_span(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _soft_split(text: str, span: Span, max_chars: int) -> list[Span]:
    start, end = span
    pieces: list[Span] = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = max(window.rfind(c) for c in _SOFT_BREAKS)
        cut = start + (cut + 1 if cut > max_chars // 3 else max_chars)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


# --------------------------------------------------------------------------- chunks


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    paragraph: int
    quotable: bool
    question: str  # the interview question this sentence answers (or belongs to), else ""


def is_question(paragraph_text: str) -> bool:
    """An interviewer's turn: a speaker label (``某某：``/``Name:``) and a closing question mark."""
    return bool(SPEAKER.match(paragraph_text)) and bool(_QUESTION_END.search(paragraph_text))


def _sections(doc: Document) -> list[tuple[str, list[Paragraph]]]:
    sections: list[tuple[str, list[Paragraph]]] = [("", [])]
    for p in doc.paragraphs:
        if p.kind == HEADING:
            sections.append((doc.text[p.start : p.end], []))
        else:
            sections[-1][1].append(p)
    return [(heading, paras) for heading, paras in sections if paras]


def _section_sentences(doc: Document, paragraphs: list[Paragraph], max_chars: int) -> tuple[list[_Sentence], set[int]]:
    """The section's sentences, and the indices where a chunk may start a new paragraph.

    An interview question and the answer after it form one block: no boundary
    between them, and every sentence of the block remembers the question.
    """
    sentences: list[_Sentence] = []
    boundaries: set[int] = set()
    question = ""
    for p in paragraphs:
        text = doc.text[p.start : p.end]
        answering = bool(question)
        question = "" if answering else (text if p.kind == BODY and is_question(text) else "")
        if not answering:
            boundaries.add(len(sentences))
        for s, e in split_quotable(text, max_chars):
            quotable = p.kind == BODY and not _QUESTION_END.search(text[s:e])
            sentences.append(_Sentence(p.start + s, p.start + e, p.index, quotable, question or _block_question(sentences, answering)))
    return sentences, boundaries


def _block_question(sentences: list[_Sentence], answering: bool) -> str:
    return sentences[-1].question if answering and sentences else ""


def _pack(sentences: list[_Sentence], config: ChunkerConfig, boundaries: set[int]) -> list[tuple[list[_Sentence], int]]:
    """Greedy packing into (sentences, how many of them are overlap) groups.

    Once a chunk holds ``min_chars``, it closes at a paragraph boundary unless
    the whole next paragraph still fits, and inside a paragraph when the next
    sentence would overflow ``max_chars``. A new chunk starts with the previous
    chunk's last ``overlap_sentences`` sentences.
    """
    groups: list[tuple[list[_Sentence], int]] = []
    current: list[_Sentence] = []
    overlap = 0
    for i, sentence in enumerate(sentences):
        if len(current) > overlap and _should_close(sentences, i, current[0].start, config, boundaries):
            groups.append((current, overlap))
            overlap = min(config.overlap_sentences, len(current))
            current = current[len(current) - overlap :]
        current.append(sentence)
    if len(current) > overlap:
        groups.append((current, overlap))
    return groups


def _should_close(sentences: list[_Sentence], i: int, chunk_start: int, config: ChunkerConfig, boundaries: set[int]) -> bool:
    if sentences[i - 1].end - chunk_start < config.min_chars:
        return False
    if i in boundaries:
        return _piece_end(sentences, i, boundaries) - chunk_start > config.max_chars
    return sentences[i].end - chunk_start > config.max_chars


def _piece_end(sentences: list[_Sentence], i: int, boundaries: set[int]) -> int:
    j = i + 1
    while j < len(sentences) and j not in boundaries:
        j += 1
    return sentences[j - 1].end


def chunk_document(doc: Document, config: ChunkerConfig) -> list[Chunk]:
    chunks: list[Chunk] = []
    for heading, paragraphs in _sections(doc):
        sentences, boundaries = _section_sentences(doc, paragraphs, config.max_chars)
        for group, overlap in _pack(sentences, config, boundaries):
            chunks.append(_make_chunk(doc, group, group[overlap], heading, len(chunks)))
    return chunks


def _make_chunk(doc: Document, group: list[_Sentence], first_new: _Sentence, heading: str, ordinal: int) -> Chunk:
    start, end = group[0].start, group[-1].end
    question = first_new.question
    carries_question = question and not doc.text[start:end].startswith(question[:20])
    context = "\n".join(part for part in (heading, question if carries_question else "") if part)
    return Chunk(
        id=f"{doc.id}#{ordinal}",
        doc_id=doc.id,
        title=doc.title,
        text=doc.text[start:end],
        start=start,
        end=end,
        paragraph=first_new.paragraph,
        context=context,
        quotable=tuple((s.start, s.end) for s in group if s.quotable),
        first_paragraph=group[0].paragraph,
    )


def chunk_documents(docs: list[Document], config: ChunkerConfig) -> list[Chunk]:
    return [chunk for doc in docs for chunk in chunk_document(doc, config)]


__all__ = ["QUOTE_MAX_CHARS", "Chunk", "ChunkerConfig", "chunk_document", "chunk_documents", "split_quotable", "split_sentences", "is_question", "CAPTION"]
