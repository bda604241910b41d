"""The web app: chat on the left, the quoted sources on the right, documents on their own tab.

``serve(rag, host, port)`` is what ``rag serve`` calls; ``build_app(rag)`` makes
the ``gr.Blocks``. The parts: ``ui.layout`` builds the components, ``ui.state``
holds each session's conversation and what sessions share (``App``),
``ui.handlers`` says what each event does, ``ui.boundary`` turns failures into
messages, ``ui.language`` words the page in Chinese or English, and
``ui.render``/``ui.cards`` make the HTML. This module only wires events to
handlers and starts the server. The UI holds no retrieval logic: it calls the
library (``rag.Rag``) and renders what comes back.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import DEFAULT_COLLECTION, Rag  # noqa: E402

from . import collection_view, feeds_view, handlers, layout, library  # noqa: E402
from .access import Access, identity  # noqa: E402
from .binding import bind  # noqa: E402
from .boundary import outputs_of  # noqa: E402
from .constants import CONCURRENCY, FIRST_LANGUAGE, FONT_STACK, MONO_FONT_STACK, REVEAL_STEP_MS  # noqa: E402
from .labels import label  # noqa: E402
from .language import Screen  # noqa: E402
from .layout import Layout  # noqa: E402
from .state import App  # noqa: E402

if TYPE_CHECKING:
    from fastapi import FastAPI

UI_DIR = Path(__file__).resolve().parent
CSS = (UI_DIR / "style.css").read_text(encoding="utf-8")
JS = (UI_DIR / "app.js").read_text(encoding="utf-8")
# Gradio scopes the selectors of css= inside @media rules under its .contain element; the few
# phone rules for the page frame and the document viewer (outside .contain) go into <head> as they are.
PAGE_CSS = (UI_DIR / "page.css").read_text(encoding="utf-8")
HEAD = f"<style>\n{PAGE_CSS}\n</style>\n<script>\nwindow.__ragRevealStepMs = {REVEAL_STEP_MS};\n{JS}\n</script>"

#: Every way of asking shares one concurrency group: at most CONCURRENCY answers at a time.
ANSWERING = {"show_progress": "hidden", "concurrency_id": "answer"}
#: Writers to the index take turns.
WRITING = {"concurrency_limit": 1, "concurrency_id": "write"}
ASK_INPUTS = ("question", "conv", "lang_state", "top_k", "mode", "show_scores", "answer_mode", "since", "until")
DOC_FILTERS = ("doc_query", "doc_since", "doc_until", "doc_source", "lang_state")


def connect(app: App, ui: Layout, demo: gr.Blocks) -> None:
    """Wire every event to its handler; inputs and outputs by component name."""

    def on(trigger: Callable[..., Any], fn: Callable[..., Any], inputs: Sequence[str] | None, **options: Any) -> Any:
        """Every event's first input is the session's collection (see ``bind``)."""
        return trigger(bind(app, fn), [ui["collection"]] + [ui[n] for n in inputs or ()], [ui[n] for n in outputs_of(fn)], **options)

    def ask_then_export(trigger: Callable[..., Any]) -> None:
        asked = on(trigger, handlers.ask, ASK_INPUTS, **ANSWERING)
        on(asked.then, handlers.export_conversation, ["conv", "lang_state"], show_progress="hidden")

    ask_then_export(ui.question.submit)
    ask_then_export(ui.send.click)
    ask_then_export(on(ui.examples.click, handlers.pick_example, None, queue=False, show_progress="hidden").then)
    on(ui.show_scores.change, handlers.rerender_sources, ["conv", "lang_state", "show_scores"], show_progress="hidden")
    on(ui.like.click, handlers.like, ["conv", "comment", "lang_state"], show_progress="hidden")
    on(ui.dislike.click, handlers.dislike, ["conv", "comment", "lang_state"], show_progress="hidden")
    on(ui.chatbot.clear, handlers.clear_chat, ["lang_state", "show_scores"], show_progress="hidden")
    on(ui.new_chat.click, handlers.clear_chat, ["lang_state", "show_scores"], show_progress="hidden")
    on(ui.upload.upload, handlers.ingest, ["upload", "lang_state"], show_progress="full", **WRITING)
    on(ui.delete_button.click, handlers.delete, ["doc_list", "lang_state", "doc_listing"], js=library.DELETE_SELECTION, **WRITING)
    for search in (ui.doc_search.click, ui.doc_query.submit, ui.doc_since.submit, ui.doc_until.submit, ui.doc_source.input):
        on(search, library.search_documents, DOC_FILTERS, show_progress="hidden")
    on(ui.doc_prev.click, library.previous_page, ["doc_listing", "lang_state"], show_progress="hidden")
    on(ui.doc_next.click, library.next_page, ["doc_listing", "lang_state"], show_progress="hidden")
    on(ui.lang_radio.change, library.show_page, ["doc_listing", "lang_radio"], show_progress="hidden")
    on(ui.lang_radio.change, handlers.switch_language, ["lang_radio", "conv", "show_scores"], show_progress="hidden")
    on(ui.lang_radio.change, feeds_view.show_feeds, ["lang_radio"], show_progress="hidden")
    on(demo.load, collection_view.opening, ["lang_state"], show_progress="hidden")
    on(ui.collection_picker.input, collection_view.switch, ["collection_picker", "conv", "convs", "lang_state", "show_scores"], show_progress="hidden")


def build_app(rag: Rag, app: App | None = None) -> gr.Blocks:
    app = app or App(rag)
    # behind a lock the page is built without the index's contents: they come on load, to those who may read them
    screen, first, status = handlers.first_page(app, FIRST_LANGUAGE) if not app.access.locked else (Screen(FIRST_LANGUAGE, app.settings), None, "")
    with gr.Blocks(title=label(FIRST_LANGUAGE, "page_title"), analytics_enabled=False, fill_width=True) as demo:
        ui = layout.build(
            screen,
            first,
            status,
            server_functions=[bind(app, handlers.full_document, per_collection=False)],
            sign_out=app.access.locked,
            collection=app.collection,
        )
        connect(app, ui, demo)
    return demo


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue=gr.themes.colors.teal,
        secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.slate,
        font=FONT_STACK,
        font_mono=MONO_FONT_STACK,
        radius_size=gr.themes.sizes.radius_md,
    )


def launch_options() -> dict[str, Any]:
    """The launch() / mount_gradio_app() keywords besides host and port: styling, privacy, limits."""
    return {
        "show_error": False,
        "css": CSS,
        "head": HEAD,
        "theme": theme(),
        "footer_links": [],
        "ssr_mode": False,
        "mcp_server": False,
        "pwa": False,
        "enable_monitoring": False,
    }


def _print_progress(stage: str, done: int, total: int) -> None:
    print(f"\r  向量化 / embedding: {done}/{total} chunks", end="\n" if done >= total else "", file=sys.stderr, flush=True)


def _first_index(rag: Rag) -> None:
    """Build the index from the seed folder when there is none yet."""
    seeds = Path(rag.settings.seeds_dir)
    print(f"No index in {rag.index_dir}; building it from {seeds} … / 首次启动，正在从 {seeds} 建立索引…", flush=True)
    if not seeds.exists():
        print(f"  {seeds} does not exist; upload documents in the app / 种子文件夹不存在，请在界面中上传文档", flush=True)
        return
    report = rag.ingest([seeds], progress=_print_progress)
    for error in report.errors:
        print(f"  skipped / 跳过: {error}", file=sys.stderr, flush=True)
    print(f"Indexed {len(report.added)} documents, {report.chunks} chunks in {report.seconds:.1f} s / 索引已建立", flush=True)


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


class ServeError(ValueError):
    """``rag serve`` cannot start as asked (an open server on a public address, a bad --auth, a taken port)."""


def server_access(settings_keys: str, host: str, auth: str | None, no_auth: bool) -> Access:
    """Who may use the server. Off loopback it must be locked (keys or a login) unless the operator says --no-auth."""
    try:
        access = Access.from_settings(settings_keys, auth, no_auth)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    if not is_loopback(host) and not access.locked and not no_auth:
        raise ServeError(
            f"refusing to serve on {host} without credentials: set RAG_API_KEYS or --auth USER:PASSWORD, or pass "
            f"--no-auth to open it to everyone who can reach this address / 在 {host} 上提供服务须设置 RAG_API_KEYS 或 --auth，或明确使用 --no-auth"
        )
    return access


def listening_socket(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so the startup lines can say the address really bound (port 0 included)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and host == "::":
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 callers too
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} / 无法监听 {host}:{port}（端口被占用或地址无效）") from None
    sock.set_inheritable(True)
    return sock


def interface_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, read per network interface (Linux)."""
    try:
        import fcntl
        import struct

        names = [name for _, name in socket.if_nameindex()]
    except (ImportError, OSError):
        return []
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            try:  # SIOCGIFADDR: the interface's IPv4 address
                packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
            address = socket.inet_ntoa(packed[20:24])
            if not address.startswith("127.") and address not in found:
                found.append(address)
    return found


def urls(sock: socket.socket) -> list[str]:
    """Every URL a user can open for the bound socket: each address of the machine for a wildcard bind."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        hosts = ["127.0.0.1", *interface_addresses()]
    else:
        hosts = [host]
    return [f"http://[{h}]:{port}" if ":" in h else f"http://{h}:{port}" for h in hosts]


def assemble(app: App, host: str = "127.0.0.1", port: int = 7860) -> FastAPI:
    """The served application: the HTTP API with the Gradio app mounted at ``/``, all behind ``app.access``'s gate."""
    from .http_api import create_api

    demo = build_app(app.rag, app)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=app.settings.app_queue_size)
    api = create_api(app)
    gr.mount_gradio_app(
        api,
        demo,
        path="/",
        server_name=host,
        server_port=port,
        auth_dependency=identity if app.access.locked else None,  # handlers learn who calls (ui.state.App.may_write)
        max_file_size=f"{max(1, int(app.settings.max_upload_mb * 4))}mb",
        **launch_options(),
    )
    return api


def serve(rag: Rag, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None, no_auth: bool = False) -> None:
    """Build the index on first start, load the model, and run the app and its HTTP API until interrupted."""
    import uvicorn

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    access = server_access(rag.settings.api_keys, host, auth, no_auth)
    if no_auth and (access.keys or access.login):
        print("warning: --no-auth opens every door; the keys and the login given are not asked for / 已忽略密钥与登录", flush=True)
    sock = listening_socket(host, port)
    if not rag.has_index() and rag.collection == DEFAULT_COLLECTION:  # a named collection starts empty, on purpose
        _first_index(rag)
    print("Loading the embedding model … / 正在加载模型…", flush=True)
    rag.warm_up()
    if rag.has_index():
        # the first question would otherwise pay for the tokenizer dictionaries; a failure here
        # is not fatal (the app says what is wrong), but it is worth a line in the log
        handlers.warm_up(rag)
    api = assemble(App(rag, access=access), host, sock.getsockname()[1])
    addresses = urls(sock)
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"Listening on {bound_host}:{bound_port} / 正在监听", flush=True)
    for url in addresses:
        print(f"Open {url} in a browser / 在浏览器中打开 {url}", flush=True)
    print(f"HTTP API: {addresses[0]}/v1 (docs: {addresses[0]}/docs)", flush=True)
    print(f"Access / 访问控制: {access.describe()}", flush=True)
    server = uvicorn.Server(uvicorn.Config(api, log_level="warning", timeout_graceful_shutdown=3))
    server.run(sockets=[sock])


__all__ = ["App", "ServeError", "assemble", "bind", "build_app", "connect", "launch_options", "serve", "server_access", "listening_socket", "theme", "urls"]
