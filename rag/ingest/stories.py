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
import functools
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # datasketch pulls in scipy.integrate (0.2 s): only a write needs it, never a question
    from datasketch import MinHash

from ..text.dates import is_partial, with_year
from .documents import Document

_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
#: Documents stating at least this many distinct figures are compared on them too.
_MIN_FIGURES = 3


@functools.lru_cache(maxsize=4096)
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
    from datasketch import MinHash

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


#: Band keys of a document without a signature (shorter than one shingle): it matches nothing.
NO_BANDS = 0


@functools.cache
def lsh_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) of the LSH banding, as datasketch's MinHashLSH picks them for ``threshold`` (a numeric search: worked out once)."""
    from datasketch.lsh import _optimal_param

    bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(bands), int(rows)


def band_keys(sketch: MinHash | None, threshold: float, num_perm: int) -> np.ndarray:
    """One 64-bit key per LSH band of ``sketch`` (all NO_BANDS without one): two documents are compared when a key agrees."""
    bands, rows = lsh_shape(threshold, num_perm)
    if sketch is None:
        return np.full(bands, NO_BANDS, dtype=np.uint64)
    values = np.asarray(sketch.hashvalues, dtype=np.uint64)
    keys = [int.from_bytes(hashlib.blake2b(values[b * rows : (b + 1) * rows].tobytes(), digest_size=8).digest(), "little") | 1 for b in range(bands)]
    return np.array(keys, dtype=np.uint64)


@dataclass(frozen=True)
class StoryParams:
    """The ``story_*`` settings."""

    threshold: float
    shingle_chars: int
    num_perm: int

    def sketch(self, text: str) -> MinHash | None:
        return _sketch(text, self.shingle_chars, self.num_perm)

    def bands(self, text: str) -> np.ndarray:
        return band_keys(self.sketch(text), self.threshold, self.num_perm)


def _same_story(params: StoryParams, a: str, b: str) -> bool:
    """The rule for one pair of texts that share a band: estimated Jaccard and, for figure-heavy texts, their figures."""
    sa, sb = params.sketch(a), params.sketch(b)
    if sa is None or sb is None or sa.jaccard(sb) < params.threshold:
        return False
    return _same_figures(figures(a), figures(b), params.threshold)


class _Groups:
    """Union-find over document ids (and whole stored stories as units)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def root(self, node: str) -> str:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def join(self, a: str, b: str) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class StoredStories:
    """What an index already knows: each stored document's story, their band keys, and a way to read a text."""

    story: Mapping[str, str]  # doc id → story id (its own id when alone)
    ids: Sequence[str]  # the rows of ``bands``
    bands: np.ndarray  # uint64, one row of band keys per stored document
    text: Callable[[str], str]


def regroup(stored: StoredStories, fresh: Mapping[str, str], removed: Iterable[str], params: StoryParams) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The story of every document an update touches, and the band keys of the ``fresh`` texts (id → text).

    Two documents are one story when a band key agrees and the pair passes
    ``_same_story``; stories are the connected groups, named by their smallest
    id. Only the fresh documents are compared with the stored ones (a lookup in
    the band table, then the rule on the few candidates), and only stories that
    lost a document are re-examined among their remaining members, so an update
    costs time in proportion to it; the groups equal a from-scratch build.
    Returns doc id → story id for the fresh documents and every stored document
    whose story changed.
    """
    gone = set(removed) | (set(fresh) & set(stored.story))
    members: dict[str, list[str]] = {}
    for doc_id, told in stored.story.items():
        members.setdefault(told, []).append(doc_id)
    broken = {stored.story[d] for d in gone if d in stored.story and len(members[stored.story[d]]) > 1}
    row_of = {doc_id: row for row, doc_id in enumerate(stored.ids)}
    usable = np.array([doc_id not in gone for doc_id in stored.ids], dtype=bool)

    def unit(doc_id: str) -> str:  # an intact stored story moves as one node
        told = stored.story.get(doc_id, doc_id)
        return "\x00" + told if len(members.get(told, ())) > 1 and told not in broken else doc_id

    groups = _Groups()
    texts: dict[str, str] = dict(fresh)

    def text(doc_id: str) -> str:
        if doc_id not in texts:
            texts[doc_id] = stored.text(doc_id)
        return texts[doc_id]

    fresh_bands = {doc_id: params.bands(fresh[doc_id]) for doc_id in sorted(fresh)}
    for doc_id in sorted(fresh):
        groups.root(doc_id)
    tables: list[dict[int, list[str]]] = [{} for _ in range(lsh_shape(params.threshold, params.num_perm)[0])]
    for doc_id, keys in fresh_bands.items():  # fresh against fresh
        seen: set[str] = set()
        for table, key in zip(tables, keys.tolist(), strict=True):
            if key == NO_BANDS:
                continue
            for other in table.get(key, []):
                if other not in seen:
                    seen.add(other)
                    if groups.root(other) != groups.root(doc_id) and _same_story(params, text(doc_id), text(other)):
                        groups.join(doc_id, other)
            table.setdefault(key, []).append(doc_id)
        if len(stored.ids):  # fresh against stored: candidates from the band table
            hits = (stored.bands == keys[None, :]) & (keys[None, :] != NO_BANDS)
            for row in np.flatnonzero(hits.any(axis=1) & usable).tolist():
                other = stored.ids[row]
                if groups.root(unit(other)) != groups.root(doc_id) and _same_story(params, text(doc_id), text(other)):
                    groups.join(doc_id, unit(other))
    for told in sorted(broken):  # a story that lost a document: its remaining members regrouped among themselves
        left = sorted(d for d in members[told] if d not in gone)
        for i, a in enumerate(left):
            groups.root(a)
            for b in left[i + 1 :]:
                ka, kb = stored.bands[row_of[a]], stored.bands[row_of[b]]
                if bool(((ka == kb) & (ka != NO_BANDS)).any()) and _same_story(params, text(a), text(b)):
                    groups.join(a, b)
    found: dict[str, list[str]] = {}
    for node in list(groups.parent):
        docs = members[node[1:]] if node.startswith("\x00") else [node]
        found.setdefault(groups.root(node), []).extend(docs)
    result: dict[str, str] = {}
    for docs in found.values():
        told = min(docs)
        for doc_id in docs:
            if doc_id in fresh or stored.story.get(doc_id) != told:
                result[doc_id] = told
    return result, fresh_bands


def group_stories(texts: Mapping[str, str], threshold: float, shingle_chars: int, num_perm: int) -> dict[str, str]:
    """document id → story id (the smallest id of its group), for every document of a group of two or more."""
    params = StoryParams(threshold, shingle_chars, num_perm)
    empty = StoredStories({}, [], np.zeros((0, lsh_shape(threshold, num_perm)[0]), dtype=np.uint64), texts.__getitem__)
    stories, _bands = regroup(empty, texts, (), params)
    sizes = Counter(stories.values())
    return {doc_id: told for doc_id, told in stories.items() if sizes[told] > 1}


def collection_year(documents: Iterable[Document]) -> int | None:
    """The year most dated documents were published in."""
    return year_of(d.meta.get("published", "") for d in documents)


def year_of(published: Iterable[str]) -> int | None:
    """The year most of these dates carry (partial ones left out; a tie goes to the later year)."""
    return likeliest_year(Counter(int(day[:4]) for day in published if day and not is_partial(day)))


def likeliest_year(counts: Mapping[int, int]) -> int | None:
    """The year with the most documents (a tie goes to the later year)."""
    return max(counts, key=lambda y: (counts[y], y)) if counts else None


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


__all__ = [
    "StoredStories",
    "StoryParams",
    "annotate",
    "band_keys",
    "collection_year",
    "group_stories",
    "likeliest_year",
    "regroup",
    "signature",
    "story_of",
    "year_of",
]
