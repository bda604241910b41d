"""What only the whole collection knows about a document: which story it reports, and its year.

News is syndicated: one report reaches the index from several outlets with a
different header, dateline or closing line. Documents whose character
shingles (MinHash, ``datasketch``) overlap by at least ``story_threshold``
(estimated Jaccard) are one *story*; ``meta["story"]`` names it by its
smallest document id, so results can show one card per story and list the
other reports. Templated reports (a stock's daily figures, a fund's net value)
share most of their words but not their figures, so two documents that both
state figures must also share most of them. A date read without its year (08/16 13:50) takes the year most
of the collection's dated documents carry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping

from datasketch import MinHash, MinHashLSH

from .dates import is_partial, with_year
from .documents import Document

_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
#: Documents stating at least this many distinct figures are compared on them too.
_MIN_FIGURES = 3


def figures(text: str) -> frozenset[str]:
    """The distinct numbers a text states (counts, amounts, codes, dates)."""
    return frozenset(_FIGURE.findall(text))


def _same_figures(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    if len(a) < _MIN_FIGURES or len(b) < _MIN_FIGURES:
        return True
    return len(a & b) >= threshold * len(a | b)


#: Characters that say nothing about which story a text tells: white space and punctuation.
_NOISE = re.compile(r"[\s\W_]+")


def signature(text: str, shingle_chars: int, num_perm: int) -> MinHash | None:
    """The MinHash of a text's character shingles; None when it is shorter than one shingle."""
    letters = _NOISE.sub("", text.lower())
    if len(letters) < shingle_chars:
        return None
    shingles = {letters[i : i + shingle_chars].encode() for i in range(len(letters) - shingle_chars + 1)}
    sketch = MinHash(num_perm=num_perm)
    sketch.update_batch(sorted(shingles))
    return sketch


#: Sketches already made in this process, by (text hash, shingle length, permutations): a long-running
#: app re-reads its whole collection at every upload, but hashes only the new documents' shingles.
_SKETCHES: dict[tuple[str, int, int], MinHash | None] = {}
_SKETCH_CACHE_MAX = 100_000


def _sketch(text: str, shingle_chars: int, num_perm: int) -> MinHash | None:
    key = (hashlib.sha1(text.encode("utf-8")).hexdigest(), shingle_chars, num_perm)
    if key not in _SKETCHES:
        if len(_SKETCHES) >= _SKETCH_CACHE_MAX:
            _SKETCHES.clear()
        _SKETCHES[key] = signature(text, shingle_chars, num_perm)
    return _SKETCHES[key]


def group_stories(texts: Mapping[str, str], threshold: float, shingle_chars: int, num_perm: int) -> dict[str, str]:
    """document id → story id (the smallest id of its group), for every document of a group of two or more."""
    sketches = {doc_id: s for doc_id in sorted(texts) if (s := _sketch(texts[doc_id], shingle_chars, num_perm)) is not None}
    numbers = {doc_id: figures(texts[doc_id]) for doc_id in sketches}
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    parent = {doc_id: doc_id for doc_id in sketches}

    def root(doc_id: str) -> str:
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    for doc_id, sketch in sketches.items():
        for other in lsh.query(sketch):
            if sketch.jaccard(sketches[other]) >= threshold and _same_figures(numbers[doc_id], numbers[other], threshold):
                a, b = root(doc_id), root(other)
                parent[max(a, b)] = min(a, b)
        lsh.insert(doc_id, sketch)
    groups: dict[str, list[str]] = {}
    for doc_id in sketches:
        groups.setdefault(root(doc_id), []).append(doc_id)
    return {doc_id: min(members) for members in groups.values() if len(members) > 1 for doc_id in members}


def collection_year(documents: Iterable[Document]) -> int | None:
    """The year most dated documents were published in."""
    years = Counter(int(d.meta["published"][:4]) for d in documents if d.meta.get("published") and not is_partial(d.meta["published"]))
    return years.most_common(1)[0][0] if years else None


def annotate(documents: Mapping[str, Document], threshold: float, shingle_chars: int, num_perm: int) -> dict[str, Document]:
    """The documents with their story ids and completed years in ``meta`` (unchanged ones are the same objects)."""
    stories = group_stories({d.id: d.text for d in documents.values()}, threshold, shingle_chars, num_perm)
    year = collection_year(documents.values())
    result: dict[str, Document] = {}
    for doc_id, doc in documents.items():
        meta = {k: v for k, v in doc.meta.items() if k != "story"}
        if doc_id in stories:
            meta["story"] = stories[doc_id]
        published = meta.get("published", "")
        if year is not None and published and is_partial(published):
            meta["published"] = with_year(published, year)
            meta["published_year"] = "collection"
        result[doc_id] = doc if meta == dict(doc.meta) else dataclasses.replace(doc, meta=meta)
    return result


def story_of(doc: Document) -> str:
    """The story a document reports: its group's id, or its own id when no other document tells it."""
    return doc.meta.get("story", doc.id)


__all__ = ["annotate", "group_stories", "signature", "story_of", "collection_year"]
