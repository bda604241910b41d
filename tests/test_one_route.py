"""One route for a question (quick tier): the CLI, the HTTP API and the app ask the library the same way.

The same conversation, a question and its follow-up, goes through the CLI
in process (``--history``), the API (``/v1/ask`` and ``/v1/search`` with the
history) and the app's handlers; each must read the follow-up as the same
standalone question, prefer the same earlier documents and give the same
passages and answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import run_main
from rag import Rag, answer_to_dict
from ui import handlers
from ui.http_api import create_api
from ui.state import App, history

FIRST = "重庆工行为多少名贫困大学生发放了资助金？"
FOLLOW_UP = "总金额是多少？"
TOP_K = 4


def _hits(data: dict[str, Any]) -> list[tuple[str, int, float]]:
    return [(h["doc"], h["paragraph"], round(h["score"], 6)) for h in data["hits"]]


def _essence(answer: dict[str, Any]) -> dict[str, Any]:
    keep = ("standalone_question", "history_used", "answer", "refused", "language", "evidence", "period")
    return {**{k: answer[k] for k in keep}, "citations": [(c["doc"], c["paragraph"], c["quote"]) for c in answer["citations"]]}


def test_one_conversation_through_the_cli_the_api_and_the_app_is_read_and_answered_alike(
    fake_rag: Rag,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_model_env: None,
) -> None:
    app = App(fake_rag, export_dir=tmp_path / "export")
    *_, first = handlers.ask(app, FIRST, [], "zh", TOP_K, "hybrid", False, "extractive")
    *_, second = handlers.ask(app, FOLLOW_UP, first["conv"], "zh", TOP_K, "hybrid", False, "extractive")
    turns = second["conv"]
    earlier = history(turns[:1])
    assert earlier[-1]["citations"], "the app's history names the documents the first answer cited"
    from_app = answer_to_dict(turns[-1].answer)
    assert from_app["history_used"] and from_app["standalone_question"] != FOLLOW_UP

    history_file = tmp_path / "history.json"
    history_file.write_text(json.dumps(earlier, ensure_ascii=False), encoding="utf-8")
    common = ("--index-dir", str(fake_rag.index_dir))
    status, out, _err = run_main(capsys, *common, "ask", FOLLOW_UP, "--history", str(history_file), "--top-k", str(TOP_K), "--json")
    assert status == 0
    from_cli = json.loads(out)
    status, out, _err = run_main(capsys, *common, "search", FOLLOW_UP, "--history", str(history_file), "--top-k", str(TOP_K), "--json")
    assert status == 0
    searched_cli = json.loads(out)

    api = TestClient(create_api(App(fake_rag)))
    body = {"question": FOLLOW_UP, "history": earlier, "top_k": TOP_K}
    from_api = api.post("/v1/ask", json=body).json()
    searched_api = api.post("/v1/search", json=body).json()

    assert _essence(from_cli) == _essence(from_api) == _essence(from_app)
    assert searched_cli["standalone_question"] == searched_api["standalone_question"] == from_app["standalone_question"]
    assert _hits(searched_cli) == _hits(searched_api), "the API's search applies the earlier answer's documents as the CLI's does"


def test_the_api_takes_a_date_range_as_the_cli_and_the_app_do(fake_rag: Rag, fake_settings: Callable[..., Any]) -> None:
    api = TestClient(create_api(App(fake_rag)))
    everything = api.post("/v1/search", json={"question": FIRST, "top_k": 10}).json()["hits"]
    assert everything, "the seeds answer the question"
    after = api.post("/v1/search", json={"question": FIRST, "top_k": 10, "since": "2099-01-01"}).json()
    assert after["hits"] == [], "nothing was published after 2099"
    bad = api.post("/v1/ask", json={"question": FIRST, "since": "2023-02-30"})
    assert bad.status_code == 400 and "2023-07-01" in bad.json()["error"]["message"]
