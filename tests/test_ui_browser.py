"""The web app in a real browser: a real index of the seed articles, the real server, Debian chromium.

One server per module (``rag serve`` on a free port, building its index from
seeds/ into a temporary folder on first start); each test opens its own
browser context, so no test depends on another having run.

Set ``RAG_UI_SCREENSHOT=docs/screenshot.png`` to refresh the README screenshot.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest

from helpers import SEEDS, serving
from rag import Rag, create_collection, delete_collection, load_settings
from ui.labels import label

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH (Debian package 'chromium'); the browser tests need it", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
API_QUESTION = "工行推出了多少项普惠金融API开放服务？"
API_FILE = "004_70d2e4c279f60003.txt"
OTHER_QUESTION = "重庆工行建成并投入运营的社银合作网点达到多少家？"
OTHER_FILE = "000_a14ba3e1848048d8.txt"
OFF_TOPIC = "量子色动力学中的渐近自由是谁发现的？"
UPLOAD_LIMIT_MB = 0.05  # the server under test refuses uploads over 50 KB
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
TIMEOUT_MS = 60_000
#: How long a sent question may wait for the app to take it before Enter is pressed again.
RESEND_MS = 500
#: How long a sent question may stay in the box before the page is taken to have lost it.
LOST_MS = 20_000

ACTIVE = "#sources .source-group.active"


# --------------------------------------------------------------------------- fixtures


@contextlib.contextmanager
def running_app(work: Path, index_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[SimpleNamespace]:
    """``rag serve`` on a free port over ``index_dir`` (built from seeds/ when empty), until the block ends."""
    with serving(work, index_dir, {"RAG_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB), **(extra_env or {})}) as app:
        yield app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The app as a first-time user starts it: no index yet, so it builds one from seeds/."""
    if not SEEDS.is_dir():
        pytest.skip(f"no seed articles in {SEEDS}")
    work = tmp_path_factory.mktemp("ui-browser")
    with running_app(work, work / "index") as app:
        yield app


@pytest.fixture(scope="module")
def llm_app(tmp_path_factory: pytest.TempPathFactory, seed_index_dir: Path, llm_server):
    """The app with the LLM answer mode pointed at the real llama.cpp server; rejected sentences struck through."""
    work = tmp_path_factory.mktemp("ui-llm")
    shutil.copytree(seed_index_dir, work / "index")
    env = {
        "RAG_LLM_BASE_URL": llm_server.llm_base_url,
        "RAG_LLM_MODEL": llm_server.llm_model,
        "RAG_LLM_MAX_TOKENS": str(llm_server.llm_max_tokens),
        "RAG_LLM_PASSAGES": str(llm_server.llm_passages),
        "RAG_LLM_TIMEOUT_S": str(llm_server.llm_timeout_s),
        "RAG_LLM_UNSUPPORTED": "strike",
    }
    with running_app(work, work / "index", env) as app:
        yield app


@pytest.fixture(scope="module")
def paged_app(tmp_path_factory: pytest.TempPathFactory, seed_index_dir: Path):
    """The app over a private copy of the seed index, listing one document a page (so that a few page)."""
    work = tmp_path_factory.mktemp("ui-paged")
    shutil.copytree(seed_index_dir, work / "index")
    with running_app(work, work / "index", {"RAG_DOCUMENTS_PAGE": "1"}) as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield instance
        instance.close()


class Streams:
    """The app's event streams (Gradio's /queue/data) a browser context opened, and those that ended."""

    def __init__(self, context) -> None:
        self.opened = self.closed = 0
        context.on("request", lambda r: self._count(r, True))
        context.on("requestfinished", lambda r: self._count(r, False))
        context.on("requestfailed", lambda r: self._count(r, False))

    def _count(self, request, opened: bool) -> None:
        if "/queue/data" in request.url:
            self.opened += opened
            self.closed += not opened

    def settle(self, page) -> None:
        """Wait until the page's events have finished and their stream has closed: an event sent while
        Gradio's client closes its stream can be lost with it, the page then waiting for it forever."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while time.monotonic() < deadline and not (self.opened and self.opened == self.closed):
            page.wait_for_timeout(RESEND_MS // 10)
        page.wait_for_timeout(RESEND_MS)  # the request has ended; the page's script learns it a moment later


class Session:
    """One browser context (one user) with every request it made recorded."""

    def __init__(self, browser, url: str, width: int = 1280, height: int = 720) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.streams = Streams(self.context)
        self.page = self.context.new_page()
        self.page.goto(url)
        self.page.wait_for_selector("#question textarea")
        self.page.wait_for_selector("#sources .sources-panel")
        self.settle()

    def settle(self) -> None:
        self.streams.settle(self.page)

    def finished_answers(self) -> int:
        return self.page.locator("#chat .timing:not(.held), #chat .answer.error").count()

    def submit(self, question: str) -> int:
        """Type and send a question; returns the number of finished answers before it.

        Until the last answer's events have all finished the app takes no new question and the
        box keeps it (as a user sees it), so Enter is pressed again until the box is emptied. It is sent
        once the events before it have finished and their stream has closed (see ``Streams.settle``).
        Should Gradio's client still lose it with a closing stream, the page waits for it forever and
        no Enter helps; then, as a user would, the page is reloaded and the question sent again, once."""
        for attempt in range(2):
            self.settle()
            before = self.finished_answers()
            self.page.fill("#question textarea", question)
            self.page.press("#question textarea", "Enter")
            deadline = time.monotonic() + (LOST_MS if attempt == 0 else TIMEOUT_MS) / 1000
            while question and self.page.input_value("#question textarea") == question and time.monotonic() < deadline:
                self.page.wait_for_timeout(RESEND_MS)
                if self.page.input_value("#question textarea") == question:
                    self.page.press("#question textarea", "Enter")
            if not question or self.page.input_value("#question textarea") != question:
                return before
            print(f"the app did not take {question[:20]!r} in {LOST_MS} ms: reloading the page / 重新加载页面")
            self.page.reload()
            self.page.wait_for_selector("#question textarea")
        return before

    def wait_answer(self, before: int):
        self.page.wait_for_function("n => document.querySelectorAll('#chat .timing:not(.held), #chat .answer.error').length > n", arg=before)
        return self.page.locator("#chat .answer").last

    def ask(self, question: str):
        return self.wait_answer(self.submit(question))

    def choose_collection(self, name: str, shown: str) -> None:
        """Pick ``name`` in the header and wait until the page shows it (``shown``, a script that turns true).

        Picked once the page's events have finished (see ``Streams.settle``); should Gradio's client still
        lose the pick with a closing stream, it is picked again, once, as a user would."""
        for attempt in range(2):
            self.settle()
            self.page.click("#collection input")
            self.page.click(f"#collection li[role=option][aria-label={name}]")
            try:
                self.page.wait_for_function(shown, timeout=LOST_MS if attempt == 0 else TIMEOUT_MS)
                return
            except sync_api.TimeoutError:
                if attempt:
                    raise
                print(f"the app did not take the collection {name!r} in {LOST_MS} ms: picking it again / 重新选择")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, server):
    s = Session(browser, server.url)
    yield s
    s.close()


@pytest.fixture
def uploaded(server) -> Iterator[list[str]]:
    """The names a test uploads under; whatever of them is still indexed when it ends is deleted, file and all.

    Tests delete their uploads in the app; this is the safety net for one that fails
    half-way, so that no later test (or the document count) sees another's upload.
    """
    names: list[str] = []
    yield names
    from rag import Rag, load_settings  # the server's settings: the same environment, the same index

    rag = Rag(load_settings(index_dir=str(server.index_dir)))
    left = [name for name in names if name in {d.id for d in rag.documents()}]
    if left:
        rag.delete(left)
    for name in names:
        (server.index_dir / "uploads" / name).unlink(missing_ok=True)


def upload_in_app(page, folder: Path, text: str) -> str:
    """Upload a new article of ``text`` (a fresh name) on the Documents tab, open; its name once it is indexed."""
    name = f"茶园-{uuid.uuid4().hex[:6]}.txt"
    article = folder / name
    article.write_text(text, encoding="utf-8")
    page.set_input_files("#upload input[type=file]", str(article))
    page.locator("#ingest-status .status.ok").wait_for()
    return name


def delete_in_app(page, names: list[str]) -> None:
    """Tick the documents on the Documents tab and delete them; waits until the list no longer shows them."""
    page.click("#tab-docs-button")
    for name in names:
        page.locator("#doc-list tbody tr", has_text=name).locator("input.doc-pick").check()
    page.click("#delete")
    page.wait_for_function("names => names.every(n => !document.querySelector('#doc-list').innerText.includes(n))", arg=names)


def _mark_is_inside_card(card) -> tuple[str, str]:
    marks = card.locator(".card-text mark")
    assert marks.count() >= 1, "the quoted sentence is not highlighted"
    quote = marks.first.inner_text().strip()
    paragraph_text = card.locator(".card-text").inner_text()
    assert quote and quote in paragraph_text
    return quote, paragraph_text


def _wait_in_view(page, selector: str, container: str | None = None) -> None:
    """Wait until the element's top edge is visible in the window (and inside ``container``)."""
    page.wait_for_function(
        """([selector, container]) => {
          const el = document.querySelector(selector);
          if (!el) return false;
          const r = el.getBoundingClientRect();
          const box = container ? document.querySelector(container).getBoundingClientRect()
                                : {top: 0, bottom: window.innerHeight};
          return r.top >= Math.max(0, box.top) - 1 && r.top < Math.min(window.innerHeight, box.bottom) - 20;
        }""",
        arg=[selector, container],
    )


# --------------------------------------------------------------------------- tests


def test_answer_cites_the_right_article_with_the_quote_highlighted(session, server, tmp_path):
    # sample the answer's length on every frame while it streams in
    session.page.evaluate(
        """() => {
          window.__lengths = [];
          const tick = () => {
            const answers = document.querySelectorAll('#chat .answer');
            const last = answers[answers.length - 1];
            if (last && !last.classList.contains('pending')) window.__lengths.push(last.textContent.length);
            if (!document.querySelector('#chat .timing:not(.held)')) requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        }"""
    )
    answer = session.ask(API_QUESTION)
    lengths = session.page.evaluate("window.__lengths")
    assert len(set(lengths)) >= 3, f"the answer arrived in one piece: {sorted(set(lengths))}"
    assert lengths == sorted(lengths), "a streamed answer only ever grows"
    assert "[1]" in answer.inner_text()
    assert answer.locator('a.cite[data-n="1"]').count() == 1
    assert "109" in answer.inner_text()

    card = session.page.locator(f'{ACTIVE} .source-card[data-n="1"]')
    assert API_FILE in card.locator(".card-file").inner_text()
    quote, _ = _mark_is_inside_card(card)
    assert quote in answer.inner_text(), "the answer must quote the highlighted sentence verbatim"
    assert "109" in quote
    answer.locator('a.cite[data-n="1"]').click()
    session.page.wait_for_selector(f'{ACTIVE} .source-card.focused[data-n="1"]')
    session.page.wait_for_timeout(700)  # let the smooth scroll and the flash settle
    target = os.environ.get("RAG_UI_SCREENSHOT")
    shot = Path(target) if target else tmp_path / "screenshot.png"
    if not shot.is_absolute():
        shot = ROOT / shot
    shot.parent.mkdir(parents=True, exist_ok=True)
    session.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    # "why this answer": the fused score and both channels' ranks
    why = card.locator("details.why")
    why.locator("summary").click()
    assert why.locator("dt").count() >= 5
    assert "BM25" in why.inner_text()
    # the discreet stage timings
    timing = session.page.locator("#chat .timing").last.inner_text()
    assert "检索" in timing and "ms" in timing


def test_citation_click_focuses_the_card_and_opens_the_full_document(session):
    page = session.page
    session.ask(OTHER_QUESTION)  # a first answer, so the panel has an older group too
    answer = session.ask(API_QUESTION)
    card = page.locator(f'{ACTIVE} .source-card[data-n="1"]')
    assert "focused" not in (card.get_attribute("class") or "")

    answer.locator('a.cite[data-n="1"]').click()
    page.wait_for_selector(f'{ACTIVE} .source-card.focused[data-n="1"]')
    assert page.locator("#sources .source-card.focused").count() == 1
    _wait_in_view(page, f'{ACTIVE} .source-card.focused[data-n="1"]', "#sources")

    # the older answer's [1] brings back its own card
    first_answer = page.locator("#chat .answer").first
    first_answer.locator('a.cite[data-n="1"]').click()
    older = page.locator('#sources .source-group.active .source-card.focused[data-n="1"]')
    older.wait_for()
    assert OTHER_FILE in older.locator(".card-file").inner_text()

    answer.locator('a.cite[data-n="1"]').click()
    page.wait_for_selector(f'{ACTIVE} .source-card.focused[data-n="1"]')
    quote, _ = _mark_is_inside_card(card)
    paragraph = int(card.get_attribute("data-para"))
    card.locator("button.open-doc").click()
    highlighted = page.locator("#doc-viewer .doc-para.hl")
    highlighted.wait_for()
    assert int(highlighted.get_attribute("data-para")) == paragraph
    assert quote in highlighted.inner_text()
    assert highlighted.locator("mark").first.inner_text().strip() == quote
    assert page.locator("#doc-viewer .doc-para").count() > 10  # the whole article, not the chunk
    assert API_FILE in page.locator("#doc-viewer .doc-file").inner_text()
    _wait_in_view(page, "#doc-viewer .doc-para.hl")  # scrolled into view
    page.keyboard.press("Escape")
    page.wait_for_selector("#doc-viewer", state="hidden")


def test_uploaded_article_is_indexed_cited_and_deletable(session, server, uploaded, tmp_path):
    page = session.page
    name = f"青岚茶园-{uuid.uuid4().hex[:6]}.txt"
    uploaded += [name, name.replace(".txt", "-2.txt")]
    article = tmp_path / name
    article.write_text(
        "青岚茶园位于虚构的云栖山南麓，海拔约一千二百米。\n"
        "茶园共种植了4386株百年古茶树，是当地规模最大的古茶树园。\n"
        "每年清明前后，茶园采摘头春嫩芽，制成名为“云栖雪芽”的绿茶。\n"
        "茶园主人林晓岚表示，茶园坚持不施化肥，只用山泉水灌溉。\n",
        encoding="utf-8",
    )
    page.click("#tab-docs-button")
    page.set_input_files("#upload input[type=file]", str(article))
    status = page.locator("#ingest-status .status.ok")
    status.wait_for()
    assert name in status.inner_text()
    assert name in page.locator("#doc-list").inner_text()
    assert (server.index_dir / "uploads" / name).is_file()

    # the same name with other content is kept beside it, never over it
    article.write_text("青岚茶园的第二份资料：茶园新建了一座占地三百平方米的制茶坊。\n" * 2, encoding="utf-8")
    page.set_input_files("#upload input[type=file]", str(article))
    renamed = name.replace(".txt", "-2.txt")
    page.wait_for_function(
        "n => document.querySelector('#ingest-status') && document.querySelector('#ingest-status').innerText.includes(n)",
        arg=renamed,
    )
    assert (server.index_dir / "uploads" / name).read_text(encoding="utf-8").startswith("青岚茶园位于")

    page.click("#tab-chat-button")
    answer = session.ask("青岚茶园种植了多少株古茶树？")
    assert "4386" in answer.inner_text()
    cited_files = page.locator(f"{ACTIVE} .source-card.cited .card-file").all_inner_texts()
    assert any(name in f for f in cited_files), cited_files

    # delete both uploads: gone from the list and from uploads/
    delete_in_app(page, [name, renamed])
    assert not (server.index_dir / "uploads" / name).exists()
    assert not (server.index_dir / "uploads" / renamed).exists()
    assert API_FILE in page.locator("#doc-list").inner_text()


def test_unreadable_or_oversized_uploads_are_reported_and_nothing_is_lost(session, server, uploaded, tmp_path):
    page = session.page
    page.click("#tab-docs-button")
    documents_before = page.locator("#doc-list input[type=checkbox]").count()
    broken = tmp_path / f"broken-{uuid.uuid4().hex[:6]}.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a PDF \x00\x01\x02" * 20)
    page.set_input_files("#upload input[type=file]", str(broken))
    warning = page.locator("#ingest-status .status.warn")
    warning.wait_for()
    assert broken.name in warning.inner_text() and "未导入" in warning.inner_text()

    assert not (server.index_dir / "uploads" / broken.name).exists()
    big = tmp_path / f"big-{uuid.uuid4().hex[:6]}.txt"
    uploaded += [broken.name, big.name]
    big.write_text("这是一段很长的测试文字。" * 6000, encoding="utf-8")  # about 200 KB
    page.set_input_files("#upload input[type=file]", str(big))
    page.wait_for_function("n => document.querySelector('#ingest-status').innerText.includes(n)", arg=big.name)
    message = page.locator("#ingest-status .status.warn").inner_text()
    assert "上限" in message and "MB" in message
    assert page.locator("#doc-list input[type=checkbox]").count() == documents_before

    page.click("#tab-chat-button")
    answer = session.ask(API_QUESTION)
    assert "109" in answer.inner_text()


def test_off_topic_question_is_refused_with_related_passages(session):
    answer = session.ask(OFF_TOPIC)
    assert "Traceback" not in session.page.content()
    assert "refused" in (answer.get_attribute("class") or ""), answer.inner_text()[:120]
    _assert_refusal_rendering(session, answer, "资料中没有找到")


def test_refusal_shows_related_passages_without_citations(session):
    answer = session.ask("Who discovered asymptotic freedom?")
    assert "refused" in (answer.get_attribute("class") or "")
    _assert_refusal_rendering(session, answer, "do not contain")


def _assert_refusal_rendering(session, answer, wording: str) -> None:
    assert wording in answer.inner_text()
    assert answer.locator("a.cite").count() == 0
    group = session.page.locator(ACTIVE)
    assert "refused" in (group.get_attribute("class") or "")
    cards = group.locator(".source-card.related")
    assert cards.count() >= 1
    assert group.locator(".source-card.cited").count() == 0
    assert "相关段落" in cards.first.locator(".card-n").inner_text()
    assert cards.first.locator("mark").count() == 0


def test_feedback_is_logged_and_the_conversation_exports_as_markdown(session, server):
    page = session.page
    answer = session.ask(API_QUESTION)
    quote = page.locator(f'{ACTIVE} .source-card[data-n="1"] mark').first.inner_text().strip()
    comment = f"引用准确 {uuid.uuid4().hex[:6]}"
    page.fill("#comment input, #comment textarea", comment)
    page.click("#like")
    page.locator("#feedback-status .status.ok").wait_for()

    lines = (server.index_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    record = next(json.loads(line) for line in reversed(lines) if comment in line)
    assert record["verdict"] == "up"
    assert record["question"] == API_QUESTION
    assert record["answer"] and "[1]" in record["answer"]
    assert record["citations"][0]["doc"] == API_FILE
    assert record["citations"][0]["quote"] == quote
    assert record["time"]

    with page.expect_download() as download_info:
        page.click("#export")
    download = download_info.value
    assert download.suggested_filename.endswith(".md")
    markdown = Path(download.path()).read_text(encoding="utf-8")
    assert API_QUESTION in markdown
    assert "[1]" in markdown and API_FILE in markdown
    assert f"> {quote}" in markdown
    assert answer.inner_text().split("[1]")[0].strip() in markdown


def test_two_sessions_asking_at_once_each_get_their_own_answer(browser, server):
    first, second = Session(browser, server.url), Session(browser, server.url)
    try:
        before_first = first.submit(API_QUESTION)
        before_second = second.submit(OTHER_QUESTION)
        answer_first = first.wait_answer(before_first)
        answer_second = second.wait_answer(before_second)
        assert "109" in answer_first.inner_text()
        assert "95" in answer_second.inner_text()
        for s, own, other, own_file in (
            (first, API_QUESTION, OTHER_QUESTION, API_FILE),
            (second, OTHER_QUESTION, API_QUESTION, OTHER_FILE),
        ):
            chat = s.page.locator("#chat").inner_text()
            assert own in chat and other not in chat
            assert s.page.locator("#chat .answer").count() == 1
            assert own_file in s.page.locator(f'{ACTIVE} .source-card[data-n="1"] .card-file').inner_text()
    finally:
        first.close()
        second.close()


def test_upload_in_one_tab_does_not_break_a_question_in_another(browser, server, uploaded, tmp_path):
    uploader, asker = Session(browser, server.url), Session(browser, server.url)
    try:
        name = f"山城骑行-{uuid.uuid4().hex[:6]}.md"
        uploaded.append(name)
        article = tmp_path / name
        sections = [f"## 第{i}站\n\n骑行队在第{i}站补给了{i * 7}瓶饮用水，并检查了刹车和轮胎。" * 3 for i in range(1, 25)]
        article.write_text("# 山城骑行日记\n\n" + "\n\n".join(sections), encoding="utf-8")
        uploader.page.click("#tab-docs-button")
        uploader.page.set_input_files("#upload input[type=file]", str(article))
        answer = asker.ask(API_QUESTION)
        assert "109" in answer.inner_text()
        status = uploader.page.locator("#ingest-status .status.ok")
        status.wait_for()
        assert name in status.inner_text()
        assert API_FILE in asker.page.locator(f'{ACTIVE} .source-card[data-n="1"] .card-file').inner_text()
        delete_in_app(uploader.page, [name])
        assert not (server.index_dir / "uploads" / name).exists()
    finally:
        uploader.close()
        asker.close()


def test_question_errors_are_messages_not_tracebacks(session):
    page = session.page
    page.fill("#question textarea", "")
    before = session.finished_answers()
    page.click("#send")
    error = session.wait_answer(before)
    assert "请输入一个问题" in error.inner_text()
    too_long = session.ask("工行" * 400 + "？")
    assert "问题太长" in too_long.inner_text()
    assert "Traceback" not in page.content()
    assert page.locator("#sources .source-card").count() == 0


def test_a_question_sent_while_another_is_answered_is_not_lost(session):
    page = session.page
    before = session.finished_answers()
    session.submit(OTHER_QUESTION)
    page.fill("#question textarea", API_QUESTION)  # at once: the first answer is still coming
    page.press("#question textarea", "Enter")
    session.wait_answer(before)
    page.wait_for_timeout(RESEND_MS)
    asked = page.locator("#chat .q").all_inner_texts()
    # taken in its turn, or still in the box to be sent again: never dropped, never asked as blank
    assert API_QUESTION in asked or page.input_value("#question textarea") == API_QUESTION
    assert page.locator("#chat .answer.error").count() == 0


def test_example_questions_come_from_the_index_and_can_be_asked(session):
    page = session.page
    chips = page.locator("#examples button.example")
    assert chips.count() >= 1
    question = chips.first.get_attribute("data-q")
    before = session.finished_answers()
    chips.first.click()
    answer = session.wait_answer(before)
    assert question in page.locator("#chat .q").last.inner_text()
    assert "refused" not in (answer.get_attribute("class") or "")
    assert answer.locator("a.cite").count() >= 1


def test_english_interface_and_settings(session):
    page = session.page
    page.click("#lang label:has-text('English')")
    page.wait_for_function("() => document.querySelector('#send').innerText.trim() === 'Ask'")
    page.wait_for_function("() => document.querySelector('#tab-docs-button').innerText.trim() === 'Documents'")
    assert "Cited Answers" in page.locator("#header").inner_text()
    page.click("#settings button, #settings .label-wrap")
    page.click("#mode label:has-text('BM25')")
    page.click("#show-scores input")
    answer = session.ask(API_QUESTION)  # a Chinese question still gets a Chinese answer
    assert "109" in answer.inner_text()
    assert "retrieval" in page.locator("#chat .timing").last.inner_text()
    card = page.locator(f'{ACTIVE} .source-card[data-n="1"]')
    assert "score" in card.locator(".card-score").inner_text()
    assert card.locator("button.open-doc").inner_text().strip() == "Open full document"


def test_no_request_leaves_localhost(session):
    page = session.page
    answer = session.ask(API_QUESTION)
    answer.locator('a.cite[data-n="1"]').click()
    page.locator(f'{ACTIVE} .source-card[data-n="1"] button.open-doc').click()
    page.locator("#doc-viewer .doc-para.hl").wait_for()
    page.keyboard.press("Escape")
    page.click("#tab-docs-button")
    page.wait_for_timeout(500)
    assert session.requests, "no requests were recorded"
    outside = [url for url in session.requests if urlparse(url).scheme not in ("data", "blob") and urlparse(url).hostname not in ("127.0.0.1", "localhost")]
    assert outside == []


def test_chinese_text_renders_as_glyphs_not_boxes(session):
    page = session.page
    session.ask(API_QUESTION)
    result = page.evaluate(
        """() => {
          const el = document.querySelector('#chat .answer');
          const style = getComputedStyle(el);
          const canvas = document.createElement('canvas');
          canvas.width = 64; canvas.height = 64;
          const ctx = canvas.getContext('2d', {willReadFrequently: true});
          ctx.font = `48px ${style.fontFamily}`;
          const draw = (ch) => {
            ctx.clearRect(0, 0, 64, 64); ctx.fillStyle = '#000'; ctx.textBaseline = 'top'; ctx.fillText(ch, 4, 4);
            return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(',');
          };
          return {
            family: style.fontFamily,
            gong: draw('工'), shang: draw('商'), missing: draw('\\uFFFF'),
            width: ctx.measureText('工商银行').width,
          };
        }"""
    )
    assert "Noto Sans CJK SC" in result["family"]
    assert result["gong"] != result["shang"], "two different characters draw the same box"
    assert result["gong"] != result["missing"], "a Chinese character draws like a missing glyph"
    assert 150 <= result["width"] <= 230  # four full-width glyphs at 48 px


def test_phone_width_layout(browser, server):
    phone = Session(browser, server.url, width=390, height=844)
    try:
        page = phone.page
        answer = phone.ask(API_QUESTION)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than the phone"
        answer.locator('a.cite[data-n="1"]').click()
        card = page.locator(f'{ACTIVE} .source-card.focused[data-n="1"]')
        card.wait_for()
        _wait_in_view(page, f'{ACTIVE} .source-card.focused[data-n="1"]')
        box = card.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391
    finally:
        phone.close()


# --------------------------------------------------------------------------- the LLM answer mode

LLM_CHOICE = "#answer-mode label:has-text('大模型改写')"
QUOTE_CHOICE = "#answer-mode label:has-text('摘录原句')"


def test_llm_mode_without_a_model_server_shows_the_quoted_answer_and_why(session):
    page = session.page
    page.click(LLM_CHOICE)
    answer = session.ask(API_QUESTION)
    note = page.locator("#chat .llm-note").last.inner_text()
    assert "暂时无法使用大模型" in note and "以下为摘录的原文答案" in note
    assert "109" in answer.inner_text() and answer.locator("a.cite").count() >= 1
    assert page.locator(f"{ACTIVE} .source-card[data-n] mark").count() >= 1
    assert "Traceback" not in page.content()


def test_llm_mode_streams_a_draft_then_shows_only_checked_sentences(browser, llm_app):
    s = Session(browser, llm_app.url)
    try:
        page = s.page
        page.click(LLM_CHOICE)
        # record, on every frame, what the draft and the sources panel show while the model writes
        page.evaluate(
            """() => {
              window.__draft = {seen: false, label: '', links: 0, cards: 0, texts: []};
              const tick = () => {
                const draft = document.querySelector('#chat .answer.draft');
                if (draft) {
                  const d = window.__draft;
                  d.seen = true;
                  d.label = draft.querySelector('.draft-chip')?.textContent || d.label;
                  d.links = Math.max(d.links, draft.querySelectorAll('a.cite').length);
                  d.cards = Math.max(d.cards, document.querySelectorAll('#sources .source-group.drafting .source-card').length);
                  d.texts.push(draft.querySelector('.draft-text')?.textContent || '');
                }
                if (!document.querySelector('#chat .timing:not(.held)')) requestAnimationFrame(tick);
              };
              requestAnimationFrame(tick);
            }"""
        )
        before = s.submit(API_QUESTION)
        answer = s.wait_answer(before)
        seen = page.evaluate("() => window.__draft")
        assert seen["seen"], "no draft was shown while the model wrote"
        assert "核验前不作为答案" in seen["label"]
        assert seen["links"] == 0, "a draft links nothing before it is checked"
        assert seen["cards"] >= 1, "the sources panel did not show the passages the model reads"
        assert page.locator("#chat .answer.draft").count() == 0, "the draft is replaced by the checked result"
        assert "首字" in page.locator("#chat .timing").last.inner_text()
        if "llm" in (answer.get_attribute("class") or ""):  # some of the model's sentences passed the check
            ticks = answer.locator(".tick")
            assert ticks.count() == answer.locator(".sent.ok").count() >= 1
            assert ticks.first.is_visible() and ticks.first.bounding_box()["width"] > 4
            assert answer.locator(".sent.ok + a.cite").count() == ticks.count()
            assert page.locator(f"{ACTIVE} .source-card mark").count() >= 1
        else:  # the base model's echo failed it: the quoted answer stands in, and says so
            assert "以下为摘录的原文答案" in page.locator("#chat .llm-note").last.inner_text()
            assert "109" in answer.inner_text() and answer.locator("a.cite").count() >= 1
            report = page.locator("#chat .llm-report")
            if report.count():
                report.last.locator("summary").click()
                items = report.last.locator("li")
                struck = report.last.locator("li s")
                assert struck.count() == items.count() - report.last.locator("li .tick").count()
                assert report.last.locator(".badge-unsupported").count() == struck.count()
        page.click("#like")
        page.locator("#feedback-status .status.ok").wait_for()
        record = json.loads((llm_app.index_dir / "feedback.jsonl").read_text(encoding="utf-8").splitlines()[-1])
        assert record["answer_mode"] == "llm" and record["retrieval_mode"] == "hybrid"
        assert record["llm_called"] is True and isinstance(record["sentences"], list)
        page.click(QUOTE_CHOICE)
        quoted = s.ask(OTHER_QUESTION)
        assert "首字" not in page.locator("#chat .timing").last.inner_text()
        assert quoted.locator("a.cite").count() >= 1 and "llm" not in (quoted.get_attribute("class") or "")
    finally:
        s.close()


def test_a_follow_up_is_understood_from_the_chat_and_new_conversation_clears_it(session):
    """The done-when check in the app: 总金额是多少？ after the grants question answers 10亿元 from [1]."""
    page = session.page
    first = session.ask("重庆工行为多少名贫困大学生发放了资助金？")
    assert "[1]" in first.inner_text() and page.locator("#chat .understood").count() == 0
    session.ask("总金额是多少？")
    understood = page.locator("#chat .understood").last.inner_text()
    assert understood.startswith("理解为：") and "资助金" in understood
    answer = page.locator("#chat .answer").last.inner_text()
    assert "10亿元" in answer and "[1]" in answer
    card = page.locator(f'{ACTIVE} .source-card[data-n="1"]')
    assert OTHER_FILE in card.locator(".card-file").inner_text()
    page.click("#new-chat")
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 0")
    assert page.locator("#sources .source-card").count() == 0
    session.ask("总金额是多少？")  # the history went too: now it stands alone
    assert page.locator("#chat .understood").count() == 0


# --------------------------------------------------------------------------- a locked server

WRITE_KEY, READ_KEY = "browser-write-key-1", "browser-read-key-1"


@pytest.fixture(scope="module")
def locked_app(tmp_path_factory: pytest.TempPathFactory, seed_index_dir: Path):
    """The app behind keys: one may write, one may only read."""
    work = tmp_path_factory.mktemp("ui-locked")
    shutil.copytree(seed_index_dir, work / "index")
    with serving(work, work / "index", {"RAG_API_KEYS": f"{WRITE_KEY},{READ_KEY}:read"}, ready="/healthz") as app:
        yield app


def sign_in(page, key: str) -> None:
    page.wait_for_selector("form input[name=password]")
    page.fill("form input[name=password]", key)
    page.click("form button[type=submit]")


def test_a_locked_app_signs_in_with_a_key_and_only_a_write_key_uploads(browser, locked_app, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    streams = Streams(context)
    page = context.new_page()
    try:
        page.goto(locked_app.url)
        assert urlparse(page.url).path == "/login", "the app itself is not served before signing in"
        assert page.locator("#question").count() == 0
        sign_in(page, "not-a-key")
        page.locator(".error").wait_for()
        assert "不正确" in page.locator(".error").inner_text() and urlparse(page.url).path == "/login"

        sign_in(page, READ_KEY)
        page.wait_for_selector("#question textarea")
        streams.settle(page)
        page.fill("#question textarea", API_QUESTION)
        page.press("#question textarea", "Enter")
        page.wait_for_function("() => document.querySelectorAll('#chat .timing:not(.held)').length > 0")
        assert "109" in page.locator("#chat .answer").last.inner_text(), "a read-only key may ask"
        page.click("#tab-docs-button")
        page.wait_for_function("t => document.querySelector('#ingest-status').innerText.includes(t)", arg=label("zh", "read_only"))
        assert page.locator("#upload input[type=file]").count() == 0, "no upload box for a read-only key"
        assert page.locator("#delete").is_disabled()
        documents = page.locator("#doc-list input[type=checkbox]").count()
        forced = page.request.post(
            locked_app.base + "/gradio_api/upload", multipart={"files": {"name": "x.txt", "mimeType": "text/plain", "buffer": "新文档。".encode()}}
        )
        assert forced.status == 403, "the upload route itself refuses a read-only session"

        page.click("#sign-out")
        sign_in(page, WRITE_KEY)
        page.wait_for_selector("#question textarea")
        page.click("#tab-docs-button")
        name = upload_in_app(page, tmp_path, "青岚茶园共种植了4386株百年古茶树。\n")
        assert page.locator("#doc-list input[type=checkbox]").count() == documents + 1
        delete_in_app(page, [name])
    finally:
        context.close()


def test_the_app_switches_collections_from_its_header(session, server):
    """A second archive made beside the running app appears in the header's picker; the chat, the sources and
    the documents follow it, and each collection keeps its conversation."""
    settings = load_settings(index_dir=str(server.index_dir))
    create_collection(settings, "grants")
    try:
        Rag(settings.replace(collection="grants")).ingest([SEEDS / OTHER_FILE])
        page = session.page
        page.reload()
        page.wait_for_selector("#collection", state="visible")
        session.settle()
        first = session.ask(API_QUESTION)
        assert "109" in first.inner_text()
        session.choose_collection("grants", "() => document.querySelectorAll('#chat .q').length === 0")  # a new collection, a new conversation
        answer = session.ask(API_QUESTION)
        assert "109" not in answer.inner_text(), "the figure is only in the other collection"
        cards = page.locator("#sources .source-card[data-n] .card-file, #sources .source-card .card-file").all_inner_texts()
        assert cards and all(OTHER_FILE in c for c in cards), cards
        page.click("#tab-docs-button")
        page.wait_for_function("f => document.querySelector('#doc-list').innerText.includes(f)", arg=OTHER_FILE)
        assert API_FILE not in page.locator("#doc-list").inner_text()
        assert "订阅源" in page.locator("#feeds").inner_text() and "rag feeds add" in page.locator("#feeds").inner_text(), "the collection's feeds: none yet"
        page.click("#tab-chat-button")
        # the same question was asked in both: the default collection's answer, with its figure, is what comes back
        # the chatbot renders each message on its own, so the page has switched once both the question and its answer show
        session.choose_collection(
            "default",
            "() => document.querySelectorAll('#chat .q').length === 1 && [...document.querySelectorAll('#chat .answer')].some(e => e.innerText.includes('109'))",
        )
        assert page.locator("#chat .q").count() == 1 and API_QUESTION in page.locator("#chat .q").inner_text()
    finally:
        delete_collection(settings, "grants")


def test_the_documents_tab_searches_pages_and_deletes(browser, paged_app, tmp_path):
    from rag import Rag, load_settings

    total = Rag(load_settings(index_dir=str(paged_app.index_dir))).library().documents
    session = Session(browser, paged_app.url)
    page = session.page
    rows = page.locator("#doc-list tbody tr")
    in_range = "t => document.querySelector('#doc-range').innerText.includes(t)"
    try:
        page.click("#tab-docs-button")
        page.wait_for_function(in_range, arg=label("zh", "doc_range", first=1, last=1, total=total))
        assert rows.count() == 1 and page.locator("#doc-prev").is_disabled() and page.locator("#doc-next").is_enabled()
        first = rows.first.get_attribute("data-doc")
        page.click("#doc-next")
        page.wait_for_function(in_range, arg=label("zh", "doc_range", first=2, last=2, total=total))
        assert rows.first.get_attribute("data-doc") != first and page.locator("#doc-prev").is_enabled()

        # the title opens the whole document
        title = rows.first.locator("button.doc-open").inner_text()
        rows.first.locator("button.doc-open").click()
        page.wait_for_selector("#doc-viewer .doc-title")
        assert page.locator("#doc-viewer .doc-title").inner_text().strip()[:8] in title or title[:8] in page.locator("#doc-viewer").inner_text()
        page.click("#doc-viewer .doc-close")

        # an upload shows the whole list again; a search finds it (traditional script), and it is deleted from there
        name = upload_in_app(page, tmp_path, "青岚茶园每年清明前后采摘头春嫩芽，制成名为“云栖雪芽”的绿茶。\n")
        page.wait_for_function(in_range, arg=label("zh", "doc_range", first=1, last=1, total=total + 1))
        query = page.locator("#doc-query").locator("input, textarea").first
        query.fill("雲棲雪芽")
        query.press("Enter")
        page.wait_for_function(in_range, arg=label("zh", "doc_range", first=1, last=1, total=1))
        assert rows.first.get_attribute("data-doc") == name
        rows.first.locator("input.doc-pick").check()
        page.click("#delete")
        page.wait_for_function("t => document.querySelector('#ingest-status').innerText.includes(t)", arg=label("zh", "deleted", n=1, names=name))
        page.wait_for_selector("#doc-list .doc-empty")
        assert not (paged_app.index_dir / "uploads" / name).exists()

        # a date range no document falls in lists none
        query.fill("")
        since = page.locator("#doc-since").locator("input, textarea").first
        since.fill("2099-01-01")
        since.press("Enter")
        page.wait_for_function("t => document.querySelector('#doc-list').innerText.includes(t)", arg=label("zh", "doc_none"))
    finally:
        session.close()
