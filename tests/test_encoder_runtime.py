"""The default model's two runtimes with the real model: int8 ONNX (default on CPU) against torch fp32.

The int8 graph is the default only because it stays faithful: every vector of
a fixed set of simplified, traditional, English and mixed strings has cosine
at least FIDELITY_MIN_COSINE to the fp32 model's (dense Recall@5 on CMRC trial:
scripts/bench_embedding.py). The two runtimes' vectors differ, so an index
built with one is rebuilt, with a message, when the other is configured; and
the ONNX runtime answers without importing torch or sentence-transformers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, SEEDS
from rag import IndexMismatch, Rag, load_settings
from rag.embed.embedding import ONNX_INT8_TAG, Embedder
from rag.embed.offline_model import FIDELITY_MIN_COSINE, FIDELITY_TEXTS

pytestmark = pytest.mark.slow

#: Beyond the export check's own strings: a long passage, a short query, numbers and Latin names.
MORE_TEXTS = (
    "存款准备金率下调后，市场流动性明显改善，银行间市场利率小幅回落。" * 6,
    "降准",
    "2023年8月，NVIDIA H100 GPU 在中國市場的價格上漲了約30%。",
    "How many API services did ICBC launch for inclusive finance?",
)


@pytest.fixture(scope="module")
def runtimes() -> tuple[Embedder, Embedder]:
    onnx = Embedder(load_settings(embed_backend="onnx"))
    torch = Embedder(load_settings(embed_backend="torch"))
    return onnx, torch


def test_int8_vectors_stay_within_fidelity_of_fp32(runtimes: tuple[Embedder, Embedder]) -> None:
    onnx, torch = runtimes
    texts = [t.split(": ", 1)[-1] for t in FIDELITY_TEXTS] + list(MORE_TEXTS)
    for embed in (lambda e: e.embed_passages(texts), lambda e: e.embed_queries(texts)):
        cosines = np.sum(embed(onnx) * embed(torch), axis=1)
        worst = int(np.argmin(cosines))
        assert cosines[worst] >= FIDELITY_MIN_COSINE, f"cosine {cosines[worst]:.4f} on {texts[worst]!r}"


def test_an_index_of_the_other_runtime_is_rebuilt_with_a_message(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], articles)
    index = tmp_path / "index"
    torch_rag = Rag(load_settings(index_dir=str(index), embed_backend="torch"))
    torch_rag.ingest([articles])
    onnx_rag = Rag(load_settings(index_dir=str(index), embed_backend="onnx"))
    with pytest.raises(IndexMismatch, match="rag ingest"):
        onnx_rag.search("工行推出了多少项普惠金融API开放服务？")
    report = onnx_rag.ingest([articles])
    assert "embedding model changed" in report.rebuilt_because and report.rebuilt_because.endswith(ONNX_INT8_TAG)
    assert report.embedded_chunks == report.chunks > 0
    assert onnx_rag.index().manifest.model == torch_rag.model_fingerprint + ONNX_INT8_TAG


_ASK = """
import json, sys
from rag import Rag, load_settings
answer = Rag(load_settings(index_dir={index!r})).ask("工行推出了多少项普惠金融API开放服务？")
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
print(json.dumps({{"refused": answer.refused, "heavy": heavy}}))
"""


def test_the_default_runtime_answers_without_torch(tmp_path: Path) -> None:
    index = tmp_path / "index"
    Rag(load_settings(index_dir=str(index))).ingest([SEEDS])
    done = subprocess.run([sys.executable, "-c", _ASK.format(index=str(index))], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"refused": False, "heavy": []}
