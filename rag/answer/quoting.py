"""The quote cut from a long sentence, and where in it the asked fact stands.

A sentence longer than ``quote_max_chars`` is quoted by the run of whole clauses around the asked
fact, or, when it holds none, from the clause that says what was asked about; verbatim, its offsets
exact, so the highlight and the source view still point at the document's own characters.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..search.question import Question
from ..text.folding import fold
from ..text.needs import best_span
from .scoring import Candidate, coverage

#: Where a long sentence may be cut and still read as a clause: after these, or at a run of spaces.
_CLAUSE_END = re.compile(r"[，,；;：:、]|\s{2,}|(?<=[\u4e00-\u9fff])\s(?=[\u4e00-\u9fff])")


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
