"""Who may use a served app (quick tier): keys and their permissions, the login, and the gate in front of every route.

The whole served application (the HTTP API with the Gradio app mounted, as
``rag serve`` assembles it) runs in process over the fake seed index. Its routes
are read from the application itself, so a route added later is checked too.
The real server on a public address, driven like an attacker, is in
test_http_api.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from rag import Rag
from ui import handlers
from ui.access import OPEN_PATHS, Access, Grant, Permission, grant_of, load_keys, local_target, needs_write, permission_of
from ui.app import ServeError, assemble, server_access
from ui.labels import label
from ui.state import App

WRITE_KEY, READ_KEY = "w-key-0123456789", "r-key-0123456789"
USER, PASSWORD = "ann", "pass:word"
FILE = "004_70d2e4c279f60003.txt"
QUESTION = "工行推出了多少项普惠金融API开放服务？"


def test_keys_from_a_list_or_a_file_with_what_each_may_do(tmp_path: Path) -> None:
    assert load_keys("") == {}
    write, read = Grant(Permission.WRITE), Grant(Permission.READ)
    assert load_keys(" a , b:read ,c:write, d:e ") == {"a": write, "b": read, "c": write, "d:e": write}
    path = tmp_path / "keys"
    path.write_text("# ours\nk1\n\nk2:read\n", encoding="utf-8")
    assert load_keys(str(path)) == {"k1": write, "k2": read}
    with pytest.raises(ValueError, match="not a file"):
        load_keys(str(tmp_path / "missing" / "keys"))
    with pytest.raises(ValueError, match="no key"):
        load_keys(":read")
    for mistyped in ("k:read@News", "k@", "k:read@news+"):  # a scope that names no collection is refused, never read as part of the key
        with pytest.raises(ValueError, match="collection names"):
            load_keys(mistyped)
    (tmp_path / "empty").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no key"):
        load_keys(str(tmp_path / "empty"))


def test_keys_and_the_login_give_credentials_and_a_wrong_one_gives_none() -> None:
    access = Access.from_settings(f"{WRITE_KEY},{READ_KEY}:read", f"{USER}:{PASSWORD}")
    assert access.locked and not Access().locked and not Access.from_settings(WRITE_KEY, open_=True).locked
    assert access.by_key(WRITE_KEY).permission is Permission.WRITE  # type: ignore[union-attr]
    assert access.by_key(READ_KEY).permission is Permission.READ  # type: ignore[union-attr]
    for wrong in ("", "r-key", READ_KEY + "x", WRITE_KEY.upper(), PASSWORD):
        assert access.by_key(wrong) is None, wrong
    assert access.by_password(USER, PASSWORD).permission is Permission.WRITE  # type: ignore[union-attr]
    assert access.by_password("anyone", READ_KEY).permission is Permission.READ  # type: ignore[union-attr]
    assert access.by_password(USER, "nope") is None and access.by_password("bob", PASSWORD) is None
    assert permission_of(access.by_key(READ_KEY).identity) is Permission.READ  # type: ignore[union-attr]
    assert permission_of(None) is None and permission_of("admin") is None
    assert WRITE_KEY not in access.describe() and PASSWORD not in access.describe(), "secrets are never printed"


def test_keys_limited_to_collections_carry_their_scope_into_the_identity() -> None:
    keys = load_keys("k1:read@news+press, k2@news, k3:write")
    assert keys == {
        "k1": Grant(Permission.READ, frozenset({"news", "press"})),
        "k2": Grant(Permission.WRITE, frozenset({"news"})),
        "k3": Grant(Permission.WRITE),
    }
    access = Access(keys)
    reader, writer, everywhere = (access.by_key(k) for k in ("k1", "k2", "k3"))
    assert reader is not None and writer is not None and everywhere is not None
    assert reader.identity == "read@news+press:key 1" and grant_of(reader.identity) == keys["k1"]
    assert grant_of(everywhere.identity) == Grant(Permission.WRITE) and grant_of("admin") is None
    assert reader.grant.allows("press") and not reader.grant.allows("press", write=True) and not reader.grant.allows("default")
    assert writer.grant.allows("news", write=True) and not writer.grant.allows("press")
    assert everywhere.grant.allows("anything", write=True)


def test_writes_to_any_collection_need_a_write_key_at_the_gate() -> None:
    assert needs_write("POST", "/v1/collections/news/documents") and needs_write("DELETE", "/v1/collections/news/documents/a.txt")
    assert needs_write("POST", "/v1/documents") and not needs_write("GET", "/v1/collections/news/documents")
    assert not needs_write("POST", "/v1/ask") and not needs_write("GET", "/v1/collections")


def test_a_public_address_needs_credentials_or_an_explicit_no_auth() -> None:
    assert not server_access("", "127.0.0.1", None, False).locked
    assert server_access("k", "0.0.0.0", None, False).locked
    assert server_access("", "0.0.0.0", "ann:pw", False).locked, "a login alone locks the doors too"
    assert server_access("", "0.0.0.0", None, True).open
    with pytest.raises(ServeError, match="RAG_API_KEYS"):
        server_access("", "0.0.0.0", None, False)
    with pytest.raises(ServeError, match="USER:PASSWORD"):
        server_access("", "127.0.0.1", "ann", False)


def test_only_paths_on_this_server_are_returned_to_after_signing_in() -> None:
    assert local_target("/?x=1") == "/?x=1"
    for outside in (None, "", "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert local_target(outside) == "/", outside


# --------------------------------------------------------------------------- the served application


@pytest.fixture
def served(fake_settings, fake_fresh_index: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The served application as ``rag serve`` assembles it, locked with a write key, a read key and a login."""
    access = Access.from_settings(f"{WRITE_KEY},{READ_KEY}:read", f"{USER}:{PASSWORD}")
    app = App(Rag(fake_settings(index_dir=fake_fresh_index)), export_dir=tmp_path / "export", access=access)
    with TestClient(assemble(app), follow_redirects=False) as client:
        client.app_state = app  # type: ignore[attr-defined]
        yield client


def routes(app: object, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, mounted apps included; path parameters filled in."""
    for route in getattr(app, "routes", []):
        if isinstance(route, Mount):
            yield from routes(route.app, prefix + route.path)
        elif hasattr(route, "original_router"):  # FastAPI's record of an included router
            yield from routes(route.original_router, prefix + route.include_context.prefix)
        elif isinstance(route, Route):
            path = prefix + re.sub(r"\{[^}]+\}", "x", route.path)
            for method in sorted(route.methods or {"GET"}):
                yield method, path or "/"


def test_every_route_but_health_and_sign_in_refuses_a_caller_without_credentials(served: TestClient) -> None:
    checked = 0
    for method, path in routes(served.app):
        if path.rstrip("/") in OPEN_PATHS or method == "HEAD":
            continue
        none = served.request(method, path)
        wrong = served.request(method, path, headers={"Authorization": "Bearer not-a-key"})
        basic = served.request(method, path, auth=(USER, "wrong"))
        assert none.status_code == 401, f"{method} {path} answered {none.status_code} without credentials"
        assert none.json() == wrong.json() == basic.json() and wrong.status_code == basic.status_code == 401, f"{method} {path}"
        checked += 1
    assert checked > 40, f"only {checked} routes were found: the walk missed the mounted app"
    assert served.get("/healthz").status_code == 200
    assert served.get("/gradio_api/info", headers={"Authorization": f"Bearer {READ_KEY}"}).status_code == 200


def test_a_browser_is_sent_to_the_login_page_and_a_session_opens_every_door(served: TestClient) -> None:
    page = served.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2F"
    form = served.get("/login?next=%2F")
    assert form.status_code == 200 and 'name="password"' in form.text and 'name="username"' in form.text
    wrong = served.post("/login", data={"username": USER, "password": "nope", "next": "/"})
    assert wrong.status_code == 401 and "不正确" in wrong.text and "rag_session" not in wrong.headers.get("set-cookie", "")
    right = served.post("/login", data={"username": USER, "password": PASSWORD, "next": "/?lang=en"})
    assert right.status_code == 303 and right.headers["location"] == "/?lang=en"
    assert "httponly" in right.headers["set-cookie"].lower() and "samesite=lax" in right.headers["set-cookie"].lower()
    assert served.get("/config").status_code == 200 and served.get("/v1/documents").status_code == 200
    served.get("/logout")
    assert served.get("/config").status_code == 401, "signing out closes the session"


def test_repeated_wrong_sign_ins_are_made_to_wait(served: TestClient) -> None:
    statuses = [served.post("/login", data={"username": USER, "password": f"guess{i}"}).status_code for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    assert served.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 429, "even the right one waits"


def test_a_read_key_may_ask_and_read_but_not_upload_or_delete(served: TestClient) -> None:
    reader = {"Authorization": f"Bearer {READ_KEY}"}
    assert served.post("/v1/ask", json={"question": QUESTION}, headers=reader).status_code == 200
    assert served.get("/config", headers=reader).status_code == 200
    denied = served.delete(f"/v1/documents/{FILE}", headers=reader)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "insufficient_permission"
    assert served.post("/v1/documents", files={"file": ("a.txt", "新文档。".encode())}, headers=reader).status_code == 403
    assert served.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}, headers=reader).status_code == 403
    assert FILE in {d["doc"] for d in served.get("/v1/documents", headers=reader).json()["documents"]}
    writer = served.delete(f"/v1/documents/{FILE}", auth=("anyone", WRITE_KEY))
    assert writer.status_code == 200, "a write key as HTTP Basic's password may delete"


def test_the_app_handlers_refuse_a_read_only_caller(served: TestClient, tmp_path: Path) -> None:
    app: App = served.app_state  # type: ignore[attr-defined]
    reader = gr.Request(username=app.access.by_key(READ_KEY).identity)  # type: ignore[union-attr]
    writer = gr.Request(username=app.access.by_key(WRITE_KEY).identity)  # type: ignore[union-attr]
    before = {d.id for d in app.rag.documents()}
    upload = tmp_path / "new.txt"
    upload.write_text("青岚茶园种植了4386株古茶树。", encoding="utf-8")

    out = handlers.ingest(app, [str(upload)], "zh", reader, progress=lambda *a, **k: None)
    assert label("zh", "read_only") in out["ingest_status"] and out["upload"] is None
    out = handlers.delete(app, [FILE], "zh", reader)
    assert label("zh", "read_only") in out["ingest_status"]
    assert {d.id for d in app.rag.documents()} == before, "nothing changed"
    assert handlers.delete(app, [FILE], "zh", gr.Request()) and {d.id for d in app.rag.documents()} == before, "no identity: no writing"

    shown = handlers.refresh(app, "zh", reader)
    assert shown["upload"]["interactive"] is False and shown["delete_button"]["interactive"] is False
    assert label("zh", "read_only") in shown["ingest_status"]
    assert handlers.refresh(app, "zh", writer)["upload"]["interactive"] is True
    handlers.delete(app, [FILE], "zh", writer)
    assert FILE not in {d.id for d in app.rag.documents()}
