"""Weights: the packed tensors as a transformers ``BertModel`` in fp32 safetensors.

Why this exists: sentence-transformers loads an ordinary ``BertModel`` folder,
so the 4-bit (Q4_0) rows of the packed file are dequantised to fp32 (fp16 is
several times slower on CPU), renamed to the Hugging Face keys and streamed
into ``model.safetensors`` chunk by chunk, so the 250k-row word embedding never
sits in memory twice. :func:`bert_config` describes the encoder e5.c runs
(BERT layout without pooler, positions from 0, erf GELU).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.atomic import fsync_file

from .packed import (
    PACKAGE,
    Q4_BLOCK_BYTES,
    QK,
    SOURCE_FILE,
    Header,
    PackedModel,
    Vocabulary,
    _expected_tensors,
)


def dequantize_q4(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows -> fp32 [rows, cols]: w = (nibble - 8) * scale; byte j holds w[j] (low) and w[j+16] (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=rows * cols // QK * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32)
    return ((q - 8.0) * scale).reshape(rows, cols)


_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def _hf_name(name: str) -> str:
    """Map an e5.c tensor name (``l3.fi.w``) to the transformers BertModel key."""
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, module, kind = name.split(".")
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[module]}.{suffix}"


def _tensor_shape(name: str, h: Header) -> tuple[int, ...]:
    """Torch shape for a tensor: Linear weights are [out, in], as the Q4 rows are stored."""
    rows = {"emb.word": h.vocab, "emb.pos": h.max_positions, "emb.type": h.type_vocab}
    if name in rows:
        return (rows[name], h.hidden)
    kind = name.split(".")[-2]
    if name.endswith(".w") and kind in ("q", "k", "v", "ao"):
        return (h.hidden, h.hidden)
    if name.endswith(".w") and kind == "fi":
        return (h.ffn, h.hidden)
    if name.endswith(".w") and kind == "fo":
        return (h.hidden, h.ffn)
    return (h.ffn if kind == "fi" else h.hidden,)


def _tensor_chunks(model: PackedModel, name: str, rows_per_chunk: int = 16384) -> Iterator[np.ndarray]:
    """fp32 data of one tensor in row chunks, so the 250k-row embedding never sits in RAM twice."""
    t, shape = model.tensors[name], _tensor_shape(name, model.header)
    view = memoryview(model.data)[t.offset : t.offset + t.nbytes]
    if t.dtype == 0:
        yield np.frombuffer(view, dtype="<f4", count=t.count)
        return
    rows, cols = shape
    row_bytes = cols // QK * Q4_BLOCK_BYTES
    for start in range(0, rows, rows_per_chunk):
        n = min(rows_per_chunk, rows - start)
        yield dequantize_q4(view[start * row_bytes : (start + n) * row_bytes], n, cols)


def write_safetensors(model: PackedModel, path: Path) -> None:
    """Write all weights as fp32 safetensors, dequantising chunk by chunk (low peak memory)."""
    names = list(_expected_tensors(model.header))
    header: dict[str, Any] = {"__metadata__": {"format": "pt", "source": f"{PACKAGE}/{SOURCE_FILE}"}}
    start = 0
    for name in names:
        shape = _tensor_shape(name, model.header)
        end = start + 4 * int(np.prod(shape))
        header[_hf_name(name)] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, end]}
        start = end
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)) + encoded)
        for name in names:
            for chunk in _tensor_chunks(model, name):
                out.write(np.ascontiguousarray(chunk, dtype="<f4").tobytes())
        fsync_file(out)


def bert_config(h: Header, vocab: Vocabulary) -> dict[str, Any]:
    """transformers config for the encoder e5.c runs: BERT layout, positions from 0, erf GELU."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.eps,
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
