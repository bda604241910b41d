"""Optional: a dynamically quantised int8 ONNX encoder, about 3x faster on CPU.

Why this exists: on CPU the int8 graph embeds about three times faster than
torch fp32 at the same Recall@5 (see docs/offline-model.md). It is added to
the built folder only on request (``ONNX_INT8_FILE``), so a rebuild of the
folder drops it together with the old weights. :class:`OnnxEncoder` runs it
with onnxruntime directly because sentence-transformers' ONNX backend needs
optimum-onnx, which cannot be installed beside transformers 5. torch,
transformers, onnxruntime and tokenizers are imported only inside the
functions that need them, so importing this module stays cheap.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rag.atomic import fsync_dir, fsync_file
from rag.settings import Settings

from .build import ONNX_INT8_FILE, Progress, _file_lock, _read_json, _stderr_progress, ensure_model


def export_onnx_int8(
    settings: Settings | None = None,
    *,
    force: bool = False,
    progress: Progress | None = _stderr_progress,
) -> Path:
    """Add ``onnx/model_qint8_avx512_vnni.onnx`` to the model folder and return its path.

    Why: on CPU the int8 graph embeds about three times faster than torch fp32
    at the same Recall@5 (see docs/offline-model.md). Needs ``onnxruntime``
    and ``onnx`` (plus torch for the export). The file lives inside the model
    folder, so a rebuild of the folder drops it together with the old weights.
    """
    folder = ensure_model(settings, progress=progress)
    target = folder / ONNX_INT8_FILE
    say = progress or (lambda _msg: None)
    with _file_lock(folder):
        if target.is_file() and not force:
            return target
        target.parent.mkdir(exist_ok=True)
        say("Exporting the int8 ONNX encoder (one time, ~30 s)…")
        with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as tmp:
            fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / target.name
            export_onnx_fp32(folder, fp32)
            _quantize_dynamic_int8(fp32, int8)
            os.replace(int8, target)
        fsync_dir(target.parent)
    return target


def export_onnx_fp32(folder: Path, out: Path) -> None:
    """Trace BertModel (eager attention) to ONNX: input_ids, attention_mask -> last_hidden_state."""
    import warnings

    import torch
    from transformers import AutoModel

    class HiddenStates(torch.nn.Module):
        """Return the token states as a plain tensor, the graph's only output."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(folder), add_pooling_layer=False, attn_implementation="eager")

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.tensor([[0, 6, 100, 200, 2], [0, 6, 300, 2, 1]])
    axes = {name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "last_hidden_state")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            HiddenStates().eval(), (ids, (ids != 1).long()), str(out),
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip


def _quantize_dynamic_int8(fp32: Path, out: Path) -> None:
    """onnxruntime dynamic quantisation: per-channel int8 weights, uint8 activations at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    with open(out, "rb+") as handle:
        fsync_file(handle)


class OnnxEncoder:
    """The int8 ONNX encoder behind the subset of ``SentenceTransformer.encode`` the app uses.

    Why not ``SentenceTransformer(folder, backend="onnx")``: that needs
    optimum-onnx, which requires transformers < 4.58 and cannot be installed
    beside transformers 5. This runs the same tokenizer.json, the graph, mean
    pooling and L2 normalisation with onnxruntime directly.
    """

    def __init__(self, folder: str | Path, file_name: str = ONNX_INT8_FILE, threads: int | None = None,
                 max_seq_length: int = 512) -> None:  # fmt: skip
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        self.session = ort.InferenceSession(str(folder / file_name), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_seq_length)
        pad = _read_json(folder / "config.json").get("pad_token_id", 1)
        self.tokenizer.enable_padding(pad_id=pad, pad_token=self.tokenizer.id_to_token(pad))
        self.prompts: dict[str, str] = _read_json(folder / "config_sentence_transformers.json").get("prompts", {})
        self.dimension = int(_read_json(folder / "config.json")["hidden_size"])

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def encode(self, sentences: str | list[str], prompt_name: str | None = None, prompt: str | None = None,
               batch_size: int = 16, normalize_embeddings: bool = True, **_ignored: Any) -> np.ndarray:  # fmt: skip
        """Embed in length-sorted batches; returns float32 rows (a single row for a str)."""
        texts = [sentences] if isinstance(sentences, str) else list(sentences)
        single = isinstance(sentences, str)
        prefix = prompt if prompt is not None else self.prompts.get(prompt_name or "", "")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), max(batch_size, 1)):
            rows = order[start : start + batch_size]
            out[rows] = self._embed_batch([prefix + texts[i] for i in rows], normalize_embeddings)
        return out[0] if single else out

    def _embed_batch(self, texts: list[str], normalize: bool) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        if normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled
