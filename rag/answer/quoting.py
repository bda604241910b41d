"""The quote cut from a long sentence, and where in it the asked fact stands.

A sentence longer than ``quote_max_chars`` is quoted by the run of whole clauses around the asked
fact, or, when it holds none, from the clause that says what was asked about; verbatim, its offsets
exact, so the highlight and the source view still point at the document's own characters. A lead that
leans on the sentence beside it (这张专辑…, 因此…) is quoted with that sentence, and quotes that stand side
by side in a passage are quoted as one.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..search.question import Question
from ..text.folding import fold
from ..text.needs import Need, best_span
from ..text.reference import carries_on, opens_with_pronoun, refers_back
from .scoring import Candidate, coverage

#: Where a long sentence may be cut and still read as a clause: after these, or at a run of spaces.
_CLAUSE_END = re.compile(r"[，,；;：:、]|\s{2,}|(?<=[\u4e00-\u9fff])\s(?=[\u4e00-\u9fff])")
#: A lead cut at a semicolon: its sentence goes on in the next quotable piece.
_SEMICOLON_END = re.compile(r"[；;]\s*$")
#: Kinds of fact a pronoun can stand for: someone, somewhere, something named.
_ENTITIES = frozenset({Need.WHO, Need.PLACE, Need.NAME})
#: A sentence opening with its own label (工行云平台：…, API开放平台:…) starts a new item of a list, not a
#: continuation; a short name without spaces, not a reporting verb (广州市公安局回复称：… goes on with the story).
_LABELLED = re.compile(r"^\s*[^，。：:,；;\s]{1,10}(?<![称说示出道复答应])[：:]")


def trimmed(candidate: Candidate, fact: tuple[int, int, str] | None, limit: int, terms: dict[str, float]) -> Candidate:
    """The sentence, or when longer than ``limit`` the run of whole clauses around the asked fact that fits
    (else from the clause holding most of ``terms``, reading on first: what a sentence says of the asked words
    follows them); verbatim, its offsets still exact. A clause longer than ``limit`` by itself (a transcript
    without punctuation) is cut to a window around the fact."""
    sentence = candidate.sentence
    if len(sentence) <= limit:
        return candidate
    inside = fact is not None and candidate.start <= fact[0] < candidate.end
    cuts = sorted({0, *(m.end() for m in _CLAUSE_END.finditer(sentence)), len(sentence)})
    clauses = list(zip(cuts, cuts[1:], strict=False))
    if fact is not None and inside:
        anchor = fact[0] - candidate.start
    else:  # no asked fact in it: the clause holding most of ``terms``
        anchor = clauses[max(range(len(clauses)), key=lambda i: (coverage(terms, sentence[clauses[i][0] : clauses[i][1]]), -i))][0]
    fact_end = min(len(sentence), fact[1] - candidate.start) if fact is not None and inside else anchor
    first = last = next(i for i, (a, b) in enumerate(clauses) if a <= anchor < b)
    if not inside:  # what a sentence says of the asked words follows them
        while last + 1 < len(clauses) and clauses[last + 1][1] - clauses[first][0] <= limit:
            last += 1
    while True:
        grew = False
        if last + 1 < len(clauses) and clauses[last + 1][1] - clauses[first][0] <= limit:
            last += 1
            grew = True
        if first > 0 and clauses[last][1] - clauses[first - 1][0] <= limit:
            first -= 1
            grew = True
        if not grew:
            break
    start, end = clauses[first][0], max(clauses[last][1], fact_end)
    if end - start > limit:  # one clause too long: a window with the fact a third of the way in
        start = max(0, min(anchor - limit // 3, len(sentence) - limit))
        end = max(min(len(sentence), start + limit), fact_end)
    piece = sentence[start:end]
    begin = start + len(piece) - len(piece.lstrip())
    piece = piece.strip()
    if not piece:
        return candidate
    return replace(candidate, start=candidate.start + begin, end=candidate.start + begin + len(piece), sentence=piece)


def telling(terms: dict[str, float], candidate: Candidate) -> dict[str, float]:
    """The question's terms that the title and heading above ``candidate`` do not hold: every sentence under
    the title 苏佩维埃尔 is about him, so of 苏佩维埃尔的墓碑上刻着什么 only 墓碑 and 刻 tell where in a long
    sentence the answer stands. All the terms when the title holds them all."""
    above = fold(f"{candidate.hit.chunk.title}\n{candidate.hit.chunk.context}")
    rest = {t: w for t, w in terms.items() if t not in above}
    return rest or terms


def lead_fact(question: Question, lead: Candidate) -> tuple[int, int, str] | None:
    """Document offsets and kind of the asked fact in the lead sentence, the one nearest the question's words."""
    anchors = tuple(sorted(question.terms, key=len, reverse=True))
    found = best_span(lead.sentence, list(lead.facts), anchors)
    if found is None:
        return None
    return lead.start + found.start, lead.start + found.end, str(found.need)


def next_to(a: Candidate, b: Candidate) -> bool:
    """Whether two sentences stand side by side in one passage, nothing but white space between them,
    the later one not opening a new labelled item."""
    if a.hit.chunk.doc_id != b.hit.chunk.doc_id:
        return False
    first, second = (a, b) if a.start <= b.start else (b, a)
    chunk = first.hit.chunk
    if second.start < first.end or second.end > chunk.end:
        return False
    return not chunk.text[first.end - chunk.start : second.start - chunk.start].strip() and not _LABELLED.match(second.sentence)


def overlaps(a: Candidate, b: Candidate) -> bool:
    """Whether two quotes share characters of one document."""
    return a.hit.chunk.doc_id == b.hit.chunk.doc_id and a.start < b.end and b.start < a.end


def _spanning(base: Candidate, start: int, end: int) -> Candidate:
    """``base`` quoting the characters from ``start`` to ``end`` of its passage instead (document offsets)."""
    chunk = base.hit.chunk
    return replace(base, start=start, end=end, sentence=chunk.text[start - chunk.start : end - chunk.start])


def in_context(question: Question, lead: Candidate, whole: Candidate, ranked: list[Candidate], limit: int) -> Candidate:
    """The lead quote (``whole`` before ``trimmed``) with the sentence beside it when the lead leans on it and
    holds no fact of the asked kind itself (one that does leads alone: the fact first, and the answer's
    support is judged on it).

    Before it, when the lead names its subject by a pronoun or opens with a consequence (五月天也以这张专辑…
    for 哪一张专辑: the album is named just before; 因此它被称为笨蛋水果 for 为什么), or when the question asks
    why and the lead gives no cause (what led to a told event is told first). A lead whose very subject is a
    pronoun (他得王猛辅政…, 这也是…第三个开发区) leans back even when it names someone or somewhere: asked who,
    where or what name, the pronoun stands in the asked slot and the names it holds are others. After it, when the next
    sentence carries the lead on (这一阶段目的是…, 但后来…, or the lead ends at a semicolon: its sentence goes on)
    and holds the asked kind of fact, if one is asked.
    A neighbour longer than ``limit`` is left out: the quote would no longer be concise.
    """
    subject = opens_with_pronoun(lead.sentence) and bool(set(question.needs[:1]) & _ENTITIES)
    if lead.need and not subject:
        return lead
    beside = [c for c in ranked if c.hit is whole.hit and len(c.sentence) <= limit and next_to(c, whole)]
    before = next((c for c in beside if c.end <= whole.start), None)
    after = next((c for c in beside if c.start >= whole.end), None)
    why = Need.REASON in question.needs
    if before is not None and lead.start == whole.start and (refers_back(lead.sentence) or why):
        return _spanning(lead, before.start, lead.end)
    goes_on = after is not None and (carries_on(after.sentence) or bool(_SEMICOLON_END.search(lead.sentence)))
    if after is not None and lead.end == whole.end and goes_on and (lead.need is None or after.need):
        return _spanning(lead, lead.start, after.end)
    return lead


def joined(quoted: list[Candidate]) -> list[Candidate]:
    """The quotes, one that goes on right after an earlier one in its passage (or overlaps it) made one quote with
    it: a fact told over two sentences reads whole, under one citation mark. One that stands just before an
    earlier quote stays apart, so the answer still opens with its lead, and a lead holding the asked fact
    stays alone too (``in_context``)."""
    out: list[Candidate] = []
    for c in quoted:
        at = next((i for i, q in enumerate(out) if overlaps(q, c) or (c.start >= q.end and next_to(q, c) and not (i == 0 and q.need))), None)
        if at is None:
            out.append(c)
            continue
        q, chunk = out[at], out[at].hit.chunk
        start, end = min(q.start, c.start), max(q.end, c.end)
        if chunk.start <= start and end <= chunk.end:
            out[at] = _spanning(q, start, end)
        elif not overlaps(q, c):
            out.append(c)
    return out
