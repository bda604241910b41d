"""One family of errors (quick tier): each with a message in both languages and a kind every front end maps once.

An index built with another embedding model is the case the family exists for:
the CLI says to run ``rag ingest``, the app says so in its language, and the
HTTP API answers 409 with the same advice, never a 500.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import rag
from helpers import OTHER_FAKE_MODEL, run_main
from rag import IndexMismatch, IngestError, Kind, QuestionError, Rag, RagError
from ui import handlers
from ui.http_api import KIND_STATUS, create_api
from ui.labels import label
from ui.state import App

QUESTION = "工行推出了多少项普惠金融API开放服务？"


def test_every_library_error_is_in_the_family_and_keeps_its_builtin_parent() -> None:
    errors = [v for v in vars(rag).values() if inspect.isclass(v) and issubclass(v, Exception) and v.__module__.startswith("rag")]
    assert len(errors) >= 10, errors
    for error in errors:
        assert issubclass(error, RagError), f"{error.__name__} is outside the family"
        assert isinstance(error.kind, Kind) and error.code, error.__name__
    assert issubclass(rag.IndexMissing, FileNotFoundError) and issubclass(rag.MissingFile, FileNotFoundError)
    assert issubclass(QuestionError, ValueError) and issubclass(rag.SettingsError, ValueError) and issubclass(rag.InputError, ValueError)
    assert issubclass(rag.LLMError, RuntimeError) and issubclass(IndexMismatch, rag.IndexCorrupt)
    assert set(KIND_STATUS) == set(Kind), "the API maps every kind"


def test_a_message_in_both_languages_is_shown_whole_and_given_by_language() -> None:
    error = rag.IndexMissing("no index in x: run `rag ingest` first / 尚未建立索引，请先导入文档")
    assert str(error) == "no index in x: run `rag ingest` first / 尚未建立索引，请先导入文档"
    assert error.message("en") == "no index in x: run `rag ingest` first" and error.message("zh-hans") == "尚未建立索引，请先导入文档"
    assert rag.InputError("a / b").message("zh") == "a / b", "a slash inside an English message is not a language boundary"
    question = QuestionError("Please type a question.", "请输入一个问题。", "zh-hans")
    assert str(question) == "请输入一个问题。" and question.message("en") == "Please type a question."
    ingest = IngestError(Path("a.pdf"), "cannot read the file (denied) / 无法读取文件")
    assert str(ingest) == "a.pdf: cannot read the file (denied) / 无法读取文件" and ingest.reason.endswith("无法读取文件")
    with pytest.raises(ValueError, match="since"):
        rag.load_settings(since="yesterday")


@pytest.fixture
def mismatched(fake_settings: Callable[..., Any], fake_fresh_index: Path) -> Rag:
    """A library configured with another embedding model than the index was built with."""
    return Rag(fake_settings(index_dir=fake_fresh_index, embed_model=OTHER_FAKE_MODEL))


def test_an_index_of_another_model_is_a_409_saying_to_rebuild_never_a_500(mismatched: Rag) -> None:
    api = TestClient(create_api(App(mismatched)))
    for path, body in (
        ("/v1/ask", {"question": QUESTION}),
        ("/v1/search", {"question": QUESTION}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}]}),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 409, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "index_mismatch" and "rag ingest" in error["message"] and error["type"] == "conflict_error"
    empty = TestClient(create_api(App(Rag(mismatched.settings.replace(index_dir=str(Path(mismatched.index_dir).parent / "none"))))))
    missing = empty.post("/v1/ask", json={"question": QUESTION})
    assert missing.status_code == 503 and missing.headers["Retry-After"] and missing.json()["error"]["code"] == "no_index"


def test_the_cli_and_the_app_say_to_rebuild_in_their_own_words(mismatched: Rag, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _out, err = run_main(capsys, "--index-dir", str(mismatched.index_dir), "ask", QUESTION)
    assert status == 1 and "rag ingest" in err and "Traceback" not in err, err
    app = App(mismatched, export_dir=tmp_path)
    for lang in ("zh", "en"):
        *_, last = list(handlers.ask(app, QUESTION, [], lang, 3, "hybrid", False, "extractive"))
        assert last["conv"][-1].error == label(lang, "error_index_mismatch")
    assert "rag ingest" in label("en", "error_index_mismatch")
