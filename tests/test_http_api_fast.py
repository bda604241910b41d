"""The HTTP API's request and response mapping, in process with the fake embedder (quick tier).

The real server, the real model and the openai client are in test_http_api.py;
here FastAPI's TestClient (and an ASGI client for concurrency) drive the same
application object that ``rag serve`` mounts the app into.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from rag import Rag, Settings
from ui.api_chat import chunks, completion, split_messages
from ui.api_models import ChatMessage
from ui.api_support import ApiError
from ui.http_api import create_api
from ui.state import App

QUESTION = "工行推出了多少项普惠金融API开放服务？"
FILE = "004_70d2e4c279f60003.txt"


def _client(settings: Settings, **changes: Any) -> TestClient:
    return TestClient(create_api(App(Rag(settings.replace(**changes)))))


@pytest.fixture
def api(fake_rag: Rag) -> TestClient:
    return _client(fake_rag.settings)


def test_messages_map_to_a_question_and_its_history() -> None:
    messages = [
        ChatMessage(role="system", content="be brief"),
        ChatMessage(role="user", content="第一问"),
        ChatMessage(role="assistant", content=[{"type": "text", "text": "答"}, {"type": "image_url", "image_url": "x"}]),  # type: ignore[list-item]
        ChatMessage(role="user", content=[{"type": "text", "text": "第二"}, {"type": "text", "text": "问"}]),  # type: ignore[list-item]
    ]
    question, history = split_messages(messages)
    assert question == "第二问"
    assert history == [{"role": "user", "content": "第一问"}, {"role": "assistant", "content": "答"}], "system messages are not turns"
    with pytest.raises(ApiError) as refused:
        split_messages(messages[:3])
    assert refused.value.status == 400 and refused.value.code == "last_message_not_user"


def test_an_answer_maps_to_a_completion_and_to_chunks_that_add_up() -> None:
    citation = {"n": 1, "doc": "a.txt", "title": "t", "paragraph": 2, "text": "全文", "quote": "引文", "score": 0.9}
    answer = {
        "question": "q",
        "standalone_question": "qq",
        "history_used": True,
        "answer": "答案很长" * 9 + "[1]",
        "refused": False,
        "citations": [citation],
        "language": "zh-hans",
    }
    whole = completion(answer, "m")
    assert whole["object"] == "chat.completion" and whole["model"] == "m" and whole["choices"][0]["message"]["content"] == answer["answer"]
    assert whole["citations"] == [citation] and whole["standalone_question"] == "qq" and whole["refused"] is False
    parts = list(chunks(answer, "m"))
    assert parts[0]["choices"][0]["delta"]["role"] == "assistant" and len(parts) >= 4
    assert "".join(p["choices"][0]["delta"].get("content", "") for p in parts) == answer["answer"]
    assert all("citations" not in p for p in parts[:-1]), "the evidence travels once, in the final chunk"
    assert parts[-1]["choices"][0]["finish_reason"] == "stop" and parts[-1]["citations"] == [citation]
    assert len({p["id"] for p in parts}) == 1


def test_chat_completions_answers_with_citations(api: TestClient) -> None:
    data = api.post("/v1/chat/completions", json={"model": "default", "messages": [{"role": "user", "content": QUESTION}], "temperature": 0.2}).json()
    assert data["model"] == "default" and "109" in data["choices"][0]["message"]["content"]
    assert data["citations"][0]["doc"] == FILE and data["refused"] is False and data["standalone_question"] == QUESTION
    stream = api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}], "stream": True})
    events = [line[6:] for line in stream.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    pieces = [json.loads(e) for e in events[:-1]]
    assert "".join(p["choices"][0]["delta"].get("content", "") for p in pieces) == data["choices"][0]["message"]["content"]


def test_ask_and_search_match_the_library(api: TestClient, fake_rag: Rag) -> None:
    ask = api.post("/v1/ask", json={"question": QUESTION, "top_k": 3, "mode": "bm25"}).json()
    expected = fake_rag.ask(QUESTION, 3, "bm25")
    assert ask["answer"] == expected.text and [c["doc"] for c in ask["citations"]] == [c.hit.chunk.doc_id for c in expected.citations]
    search = api.post("/v1/search", json={"question": QUESTION, "top_k": 2}).json()
    assert [h["doc"] for h in search["hits"]] == [h.chunk.doc_id for h in fake_rag.search(QUESTION, 2)]
    assert api.get("/healthz").json()["chunks"] == fake_rag.index().size


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"question": ""}, "invalid_question"),
        ({"question": "问" * 501}, "invalid_question"),
        ({"question": ["a"]}, "invalid_request"),
        ({"question": QUESTION, "top_k": 0}, "invalid_request"),
        ({"question": QUESTION, "mode": "psychic"}, "invalid_request"),
        ({"question": QUESTION, "history": [{"role": "user"}]}, "invalid_request"),
        ({}, "invalid_request"),
    ],
)
def test_bad_questions_get_openai_errors(api: TestClient, body: dict[str, Any], code: str) -> None:
    response = api.post("/v1/ask", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_bodies_over_the_limit_are_refused_declared_or_chunked(fake_rag: Rag) -> None:
    api = _client(fake_rag.settings, api_max_body_kb=1)
    big = json.dumps({"question": QUESTION, "history": [{"role": "user", "content": "字" * 2000}]}).encode()
    declared = api.post("/v1/ask", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "body_too_large"
    chunked = api.post("/v1/ask", content=iter([big[:500], big[500:]]), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    small = api.post("/v1/ask", content=iter([b'{"question": ', json.dumps(QUESTION).encode() + b"}"]), headers={"Content-Type": "application/json"})
    assert small.status_code == 200 and small.json()["citations"]


def test_a_full_queue_answers_503_with_retry_after(fake_rag: Rag) -> None:
    api = create_api(App(Rag(fake_rag.settings.replace(api_concurrency=1, api_queue_size=1))))

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return list(await asyncio.gather(*(client.post("/v1/ask", json={"question": QUESTION}) for _ in range(8))))

    responses = asyncio.run(burst())
    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 200 and statuses[-1] == 503, statuses
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["Retry-After"].isdigit() and busy.json()["error"]["code"] == "queue_full"


def test_the_cli_refuses_an_open_api_on_a_public_address(
    fake_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui.cli import main

    monkeypatch.delenv("RAG_API_KEYS", raising=False)
    assert main(["--index-dir", str(fake_settings().index_dir), "serve", "--host", "0.0.0.0"]) == 1
    assert "--no-auth" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "value"), [("api_concurrency", 0), ("api_max_body_kb", 0), ("app_queue_size", 0), ("api_queue_size", 1)])
def test_serving_settings_are_checked(name: str, value: int) -> None:
    with pytest.raises(ValueError, match=name):
        Settings(**{name: value, "api_concurrency": 2} if name != "api_concurrency" else {name: value})


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import load_settings

    monkeypatch.setenv("RAG_API_KEYS", "a,b")
    monkeypatch.setenv("RAG_API_QUEUE_SIZE", "9")
    monkeypatch.setenv("RAG_APP_QUEUE_SIZE", "7")
    settings = load_settings()
    assert settings.api_keys == "a,b" and settings.api_queue_size == 9 and settings.app_queue_size == 7


def test_a_decompression_bomb_and_a_broken_pdf_are_refused_and_the_index_stays(fake_settings: Callable[..., Settings], fake_fresh_index: Path) -> None:
    import io
    import zipfile

    rag = Rag(fake_settings(index_dir=fake_fresh_index))
    api = TestClient(create_api(App(rag)))
    before = rag.generation()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, archive.open("word/document.xml", "w", force_zip64=True) as part:
        for _ in range(200):
            part.write(b" " * (1024 * 1024))
    bomb = api.post("/v1/documents", files={"file": ("bomb.docx", buffer.getvalue())})
    assert bomb.status_code == 422, bomb.json()
    assert "unpacks" in bomb.json()["error"]["message"]
    broken = api.post("/v1/documents", files={"file": ("broken.pdf", b"%PDF-1.4\n%garbage")})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "unparsable_file"
    assert rag.generation() == before and not list((fake_fresh_index / "uploads").glob("*"))
