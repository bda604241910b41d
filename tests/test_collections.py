"""Collections: separate archives, each its own index, that never cite each other (quick tier, fake embedder).

Two collections over the same root get one seed article each; the same
questions asked in each, through the library, the CLI and the HTTP API (by
OpenAI ``model`` and by ``collection``), cite only that collection's document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from helpers import SEEDS, run_main
from rag import (
    DEFAULT_COLLECTION,
    CollectionError,
    CollectionMissing,
    Rag,
    Settings,
    SettingsError,
    answer_to_dict,
    collection_names,
    create_collection,
    delete_collection,
    list_collections,
)
from ui import collection_view, handlers
from ui.access import Access
from ui.binding import bind
from ui.http_api import create_api
from ui.state import App

GOV, GRANTS = "004_70d2e4c279f60003.txt", "000_a14ba3e1848048d8.txt"
QUESTIONS = ("工行推出了多少项普惠金融API开放服务？", "重庆工行建成并投入运营的社银合作网点达到多少家？")
READ_NEWS, WRITE_ALL = "read-news-key-0123", "write-all-key-0123"


@pytest.fixture
def shelf(fake_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    """A root whose default collection holds both seeds, ``gov`` only the API article, ``grants`` only the other."""
    settings = fake_settings(tmp_path / "root")
    Rag(settings).ingest([SEEDS])
    for name, article in (("gov", GOV), ("grants", GRANTS)):
        create_collection(settings, name)
        Rag(settings.replace(collection=name)).ingest([SEEDS / article])
    return settings


def cited(answer: dict) -> set[str]:
    return {c["doc"] for c in answer["citations"]} | {c["doc"] for c in answer.get("related", [])}


def test_collections_are_listed_created_and_deleted_by_name(shelf: Settings) -> None:
    assert collection_names(shelf) == [DEFAULT_COLLECTION, "gov", "grants"]
    counts = {c.name: c.documents for c in list_collections(shelf)}
    assert counts == {"default": 2, "gov": 1, "grants": 1}
    assert (Path(shelf.index_dir) / "collections" / "gov").is_dir(), "a named collection lives under the root"
    with pytest.raises(CollectionError, match="already exists"):
        create_collection(shelf, "gov")
    create_collection(shelf, "a-b")
    with pytest.raises(CollectionError, match="already exists"):
        create_collection(shelf, "a_b")  # the same name where Milvus allows no hyphen
    for bad in ("Gov", "", "../x", "新闻", "-x"):
        with pytest.raises(SettingsError):
            create_collection(shelf, bad)
    with pytest.raises(CollectionError, match="cannot be deleted"):
        delete_collection(shelf, DEFAULT_COLLECTION)
    gone = delete_collection(shelf, "grants")
    assert gone.documents == 1 and not gone.index_dir.exists()
    assert collection_names(shelf) == [DEFAULT_COLLECTION, "a-b", "gov"]
    with pytest.raises(CollectionMissing, match="rag collections create"):
        delete_collection(shelf, "grants")


def test_a_collection_that_does_not_exist_is_an_error_not_a_new_archive(shelf: Settings) -> None:
    ghost = Rag(shelf.replace(collection="gvo"))
    with pytest.raises(CollectionMissing, match="gov"):  # the message lists the names there are
        ghost.ingest([SEEDS])
    assert not (Path(shelf.index_dir) / "collections" / "gvo").exists()
    with pytest.raises(CollectionMissing):
        Rag(shelf).in_collection("gvo")


def test_the_same_questions_in_two_collections_never_cite_the_other(shelf: Settings) -> None:
    root = Rag(shelf)
    gov, grants = root.in_collection("gov"), root.in_collection("grants")
    assert gov.embedder is root.embedder, "collections share the loaded model"
    assert [d.id for d in gov.documents()] == [GOV] and [d.id for d in grants.documents()] == [GRANTS]
    for question in QUESTIONS:
        assert cited(_ask(gov, question)) <= {GOV}
        assert cited(_ask(grants, question)) <= {GRANTS}
    assert "109" in _ask(gov, QUESTIONS[0])["answer"]
    assert "109" not in _ask(grants, QUESTIONS[0])["answer"], "the figure lives only in the other collection"


def _ask(rag: Rag, question: str) -> dict:
    return answer_to_dict(rag.ask(question))


def test_writing_the_default_collection_leaves_the_named_ones_alone(shelf: Settings) -> None:
    root = Rag(shelf)
    root.delete([GRANTS])
    root.ingest([SEEDS / GRANTS])  # two more generations of the root: old ones are swept, collections/ is not
    assert {c.name: c.documents for c in list_collections(shelf)} == {"default": 2, "gov": 1, "grants": 1}
    assert "109" in _ask(root.in_collection("gov"), QUESTIONS[0])["answer"]


def test_the_cli_works_in_the_collection_it_is_given(shelf: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", shelf.embed_model)
    root = ["--index-dir", shelf.index_dir]
    status, out, _ = run_main(capsys, *root, "collections", "list", "--json")
    assert status == 0 and [c["name"] for c in json.loads(out)["collections"]] == ["default", "gov", "grants"]
    for args in (["--collection", "grants", "ask"], ["ask", "--collection", "grants"]):  # before or after the command
        status, out, err = run_main(capsys, *root, *args, QUESTIONS[1], "--json")
        assert status == 0, err
        assert cited(json.loads(out)) == {GRANTS}
    monkeypatch.setenv("RAG_COLLECTION", "gov")
    status, out, _ = run_main(capsys, *root, "ask", QUESTIONS[0], "--json")
    assert status == 0 and cited(json.loads(out)) == {GOV}
    status, _, err = run_main(capsys, *root, "--collection", "nope", "documents")
    assert status == 1 and "rag collections create nope" in err and "没有名为 nope 的文档集" in err
    status, _, err = run_main(capsys, *root, "collections", "delete", "gov")
    assert status == 1 and "--yes" in err and "gov" in collection_names(shelf), "nothing is deleted without --yes"
    status, out, _ = run_main(capsys, *root, "collections", "create", "press")
    assert status == 0 and "press" in collection_names(shelf)


def _api(settings: Settings, keys: str = "") -> TestClient:
    return TestClient(create_api(App(Rag(settings), access=Access.from_settings(keys))))


def _chat(api: TestClient, model: str, question: str, key: str = "") -> dict:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return api.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": question}]}, headers=headers).json()


def test_an_openai_client_picks_the_collection_by_model(shelf: Settings) -> None:
    api = _api(shelf)
    listed = api.get("/v1/models").json()
    assert listed["object"] == "list" and [(m["id"], m["documents"]) for m in listed["data"]] == [("default", 2), ("gov", 1), ("grants", 1)]
    for question in QUESTIONS:
        assert {c["doc"] for c in _chat(api, "gov", question)["citations"]} <= {GOV}
        assert {c["doc"] for c in _chat(api, "grants", question)["citations"]} <= {GRANTS}
    assert "109" in _chat(api, "gov", QUESTIONS[0])["choices"][0]["message"]["content"]
    assert _chat(api, "rag", QUESTIONS[0])["citations"][0]["doc"] == GOV, "the plain model name is the server's collection"
    missing = api.post("/v1/chat/completions", json={"model": "nope", "messages": [{"role": "user", "content": "问"}]})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    asked = api.post("/v1/ask", json={"question": QUESTIONS[1], "collection": "grants"}).json()
    assert cited(asked) == {GRANTS}
    found = api.post("/v1/search", json={"question": QUESTIONS[1], "collection": "gov"}).json()
    assert {h["doc"] for h in found["hits"]} == {GOV}
    assert [d["doc"] for d in api.get("/v1/collections/grants/documents").json()["documents"]] == [GRANTS]
    for name in ("nope", "Not-A-Name", "新闻"):
        unknown = api.get(f"/v1/collections/{name}/documents")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "collection_not_found"


def test_a_key_limited_to_a_collection_reads_only_that_one(shelf: Settings) -> None:
    api = _api(shelf, f"{READ_NEWS}:read@gov,{WRITE_ALL}")
    reader = {"Authorization": f"Bearer {READ_NEWS}"}
    assert [m["id"] for m in api.get("/v1/models", headers=reader).json()["data"]] == ["gov"]
    assert "109" in _chat(api, "gov", QUESTIONS[0], READ_NEWS)["choices"][0]["message"]["content"]
    refused = api.post("/v1/chat/completions", json={"model": "grants", "messages": [{"role": "user", "content": QUESTIONS[1]}]}, headers=reader)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "collection_forbidden"
    assert api.post("/v1/ask", json={"question": QUESTIONS[0]}, headers=reader).status_code == 403, "the server's own collection is not in its scope"
    upload = api.post("/v1/collections/gov/documents", files={"file": ("n.txt", "新闻。".encode())}, headers=reader)
    assert upload.status_code == 403 and upload.json()["error"]["code"] == "insufficient_permission"
    writer = {"Authorization": f"Bearer {WRITE_ALL}"}
    deleted = api.delete(f"/v1/collections/grants/documents/{GRANTS}", headers=writer)
    assert deleted.status_code == 200 and deleted.json()["documents"] == []
    assert {c.name: c.documents for c in list_collections(shelf)} == {"default": 2, "gov": 1, "grants": 0}


# --------------------------------------------------------------------------- the app's collection picker


def _app(settings: Settings, keys: str = "") -> App:
    return App(Rag(settings), access=Access.from_settings(keys))


def test_the_app_opens_in_a_collection_the_caller_may_read_and_switches_keeping_each_conversation(shelf: Settings) -> None:
    app = _app(shelf, f"{READ_NEWS}:read@gov+grants,{WRITE_ALL}")
    reader = gr.Request(username="read@gov+grants:key 1")
    opened = collection_view.opening(app, "zh", reader)
    assert opened["collection"] == "gov", "the server's own collection is not the reader's: it opens in the first it may read"
    assert opened["collection_picker"]["choices"] == ["gov", "grants"] and opened["collection_picker"]["visible"] is True
    assert GOV in opened["doc_list"] and GRANTS not in opened["doc_list"]
    everyone = collection_view.opening(app, "zh", gr.Request(username="write:key 2"))
    assert everyone["collection"] == "default" and everyone["collection_picker"]["choices"] == ["default", "gov", "grants"]

    gov = app.in_collection("gov")
    asked = list(bind(app, handlers.ask)("gov", QUESTIONS[0], [], "zh", 5, "hybrid", False, "extractive", "", "", reader))
    turns = asked[-1][2]  # ask's outputs: chatbot, sources, conv, question
    assert turns[-1].answer is not None and {c.hit.chunk.doc_id for c in turns[-1].answer.citations} == {GOV}
    moved = collection_view.switch(gov, "grants", turns, {}, "zh", False, reader)
    assert moved["collection"] == "grants" and moved["conv"] == [] and moved["convs"] == {"gov": turns}
    assert GRANTS in moved["doc_list"] and GOV not in moved["doc_list"] and moved["doc_listing"].offset == 0
    back = collection_view.switch(app.in_collection("grants"), "gov", [], moved["convs"], "zh", False, reader)
    assert back["conv"] == turns and back["convs"] == {"grants": []}, "a conversation stays in its collection"
    refused = collection_view.switch(gov, "default", turns, {}, "zh", False, reader)
    assert "collection" not in refused and refused["collection_picker"]["value"] == "gov" and "无权" in refused["ingest_status"]


def test_no_event_reaches_a_collection_the_caller_may_not_read(shelf: Settings) -> None:
    app = _app(shelf, f"{READ_NEWS}:read@gov")
    reader = gr.Request(username="read@gov:key 1")
    with pytest.raises(CollectionError, match="may not use"):
        list(bind(app, handlers.ask)("grants", QUESTIONS[1], [], "zh", 5, "hybrid", False, "extractive", "", "", reader))
    viewer = bind(app, handlers.full_document, per_collection=False)
    assert GRANTS not in viewer({"doc": GRANTS, "collection": "grants", "lang": "zh"}, reader)
    shown = viewer({"doc": GOV, "collection": "gov", "lang": "zh", "para": 0}, reader)
    assert "109" in shown, "the document of a collection it may read opens"
