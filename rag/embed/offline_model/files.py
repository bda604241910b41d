"""What the model folder holds besides the model, and how building it reports: shared by ``build`` and ``onnx``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Written into the folder by ``ensure_model(onnx=True)`` (:func:`rag.embed.offline_model.onnx.install_onnx_int8`).
ONNX_INT8_FILE = "onnx/model_qint8_avx512_vnni.onnx"

#: progress(message): a line for the person waiting on a build.
Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
