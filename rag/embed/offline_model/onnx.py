"""The int8 ONNX encoder: the default model's runtime on CPU, about 3x faster than torch fp32.

Why this exists: on CPU the dynamically quantised int8 graph embeds about
three times faster per CPU-second than torch fp32 at the same Recall@5 (see
docs/offline-model.md and scripts/bench_ingest.py), and loading it needs
neither torch nor sentence-transformers, so a fresh process answers in about a
second. ``ensure_model(onnx=True)`` exports it into the model folder once,
after checking it against the fp32 model (:data:`FIDELITY_TEXTS`); a rebuild
of the folder drops it together with the old weights. :class:`OnnxEncoder`
runs it with onnxruntime directly because sentence-transformers' ONNX backend
needs optimum-onnx, which cannot be installed beside transformers 5. torch,
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
from rag.errors import OnnxFidelityError
from rag.settings import Settings

from .files import ONNX_INT8_FILE, Progress, read_json, stderr_progress

#: Simplified, traditional, English and mixed strings (questions and passages) on which
#: the int8 encoder must stay within ``FIDELITY_MIN_COSINE`` of the fp32 model.
FIDELITY_TEXTS = (
    "query: 工商银行推出了多少项普惠金融API开放服务？",
    "passage: 中国人民银行决定下调金融机构存款准备金率0.25个百分点，释放长期资金约5000亿元。",
    "passage: 北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。",
    "query: 臺灣的中央銀行何時宣布升息？",
    "passage: 國立臺灣大學創立於1928年，是臺灣歷史最悠久的綜合大學之一。",
    "passage: 香港金融管理局表示，銀行體系總結餘將於下週減少。",
    "query: What is the capital of France?",
    "passage: The central bank raised interest rates by 25 basis points to curb inflation.",
    "passage: OpenAI发布了新的GPT模型，支持128K tokens的上下文窗口。",
    "query: iPhone 15 Pro 的售价是多少美元？",
    "passage: 2023年第三季度，公司实现营业收入12.5亿元，同比增长8.3%，净利润为2.1亿元。",
    "passage: 根據 Reuters 報導，Apple 將在 Shenzhen 設立新的研發中心。",
)
FIDELITY_MIN_COSINE = 0.99


def install_onnx_int8(folder: Path, settings: Settings | None = None, progress: Progress | None = stderr_progress) -> Path:
    """Export, check and atomically install ``ONNX_INT8_FILE`` in a built model ``folder`` (caller holds its lock).

    The graph is traced to fp32 ONNX, quantised dynamically, then compared with
    the fp32 sentence-transformers model on :data:`FIDELITY_TEXTS`; only a graph
    whose every cosine is at least ``FIDELITY_MIN_COSINE`` is renamed into place.
    """
    target = folder / ONNX_INT8_FILE
    say = progress or (lambda _msg: None)
    target.parent.mkdir(exist_ok=True)
    say("Exporting the int8 ONNX encoder (one time, ~30 s)…")
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / target.name
        say("  tracing the fp32 graph…")
        export_onnx_fp32(folder, fp32)
        say("  quantising to int8…")
        _quantize_dynamic_int8(fp32, int8)
        say("  checking it against the fp32 model…")
        worst = fidelity(folder, int8)
        if worst < FIDELITY_MIN_COSINE:
            raise OnnxFidelityError(
                f"the int8 encoder's cosine to the fp32 model is {worst:.4f} (< {FIDELITY_MIN_COSINE}); it was not installed: set RAG_EMBED_BACKEND=torch"
            )
        os.replace(int8, target)
    fsync_dir(target.parent)
    say(f"int8 ONNX encoder ready (lowest cosine to fp32: {worst:.4f}).")
    return target


def fidelity(folder: Path, onnx_file: Path, texts: tuple[str, ...] = FIDELITY_TEXTS) -> float:
    """The lowest cosine between the int8 graph's and the fp32 model's vectors of ``texts``."""
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    expected = np.asarray(reference.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True))
    actual = OnnxEncoder(folder, file_name=str(onnx_file)).encode(list(texts), batch_size=1)
    return float(np.min(np.sum(expected * actual, axis=1)))


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
            HiddenStates().eval(),
            (ids, (ids != 1).long()),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


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

    def __init__(self, folder: str | Path, file_name: str = ONNX_INT8_FILE, threads: int | None = None, max_seq_length: int = 512) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        # Idle threads sleep instead of spinning: the same speed, far fewer CPU-seconds beside the chunker.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(folder / file_name), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_seq_length)
        pad = read_json(folder / "config.json").get("pad_token_id", 1)
        self.tokenizer.enable_padding(pad_id=pad, pad_token=self.tokenizer.id_to_token(pad))
        self.prompts: dict[str, str] = read_json(folder / "config_sentence_transformers.json").get("prompts", {})
        self.dimension = int(read_json(folder / "config.json")["hidden_size"])

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def encode(
        self,
        sentences: str | list[str],
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 16,
        normalize_embeddings: bool = True,
        **_ignored: Any,
    ) -> np.ndarray:
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
