"""``rag ingest --shard i/n``: a stable, disjoint share of the inputs for one of n ingesting machines.

A document belongs to shard ``crc32(id) mod n`` — the same in every process and
on every machine, whatever order the files are listed in — so n runs over the
same inputs with shards 0..n-1 ingest every document exactly once.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise InputError(f"a shard is i/n with 0 <= i < n, not {self.index}/{self.count} / 分片应写作 i/n，且 0 ≤ i < n")

    @classmethod
    def parse(cls, text: str) -> Shard:
        index, _, count = text.partition("/")
        try:
            return cls(int(index), int(count))
        except ValueError as exc:
            if "shard" in str(exc):
                raise
            raise InputError(f"a shard is written i/n (e.g. 0/4), not {text!r} / 分片应写作 i/n，例如 0/4") from exc

    def takes(self, doc_id: str) -> bool:
        return zlib.crc32(doc_id.encode("utf-8")) % self.count == self.index
