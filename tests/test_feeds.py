"""Feeds registered on an index (`rag feeds …`, rag.feeds) against the local news site, with the fake embedder.

What a reader of feeds relies on: an update brings in each new entry's article once; a
second update with nothing new asks conditionally and changes nothing; a new entry shows
up and can be found; one failing feed or entry never stops the others, and says why.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from websites import ICBC_CHONGQING, ICBC_GBC, LANTERN, Route, Site, quick_fetching, rss

from helpers import run_main
from rag import Rag, add_feed, list_feeds, load_settings, start_refresher, update_feeds
from rag.web.article import url_doc_id
from rag.web.feed import Entry, parse_feed
from rag.web.fetch import Fetched
from ui import feeds_view
from ui.state import App

pytestmark = pytest.mark.usefixtures("fake_model_env")


@pytest.fixture
def web_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rag` run in-process fetches from the local site quickly."""
    for name, value in quick_fetching().items():
        monkeypatch.setenv(f"RAG_{name.upper()}", "1" if value is True else str(value))


def _feeds(capsys: pytest.CaptureFixture[str], index: str) -> dict[str, dict]:
    status, out, _ = run_main(capsys, "--index-dir", index, "feeds", "list", "--json")
    assert status == 0
    return {f["url"]: f for f in json.loads(out)["feeds"]}


@pytest.mark.usefixtures("web_env")
def test_an_update_brings_each_entry_once_and_a_second_changes_nothing(local_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "index")
    base = local_site.base
    for path in ("/rss.xml", "/atom.xml"):
        status, out, err = run_main(capsys, "--index-dir", index, "feeds", "add", base + path)
        assert status == 0 and "added" in out, err
    status, out, err = run_main(capsys, "--index-dir", index, "feeds", "update")
    assert status == 0, err
    assert f"{base}/rss.xml: 2 added" in out and f"{base}/atom.xml: 0 added, 1 already indexed" in out  # one URL, one document
    rag = Rag(load_settings(index_dir=index))
    assert {d.meta["source"] for d in rag.documents()} == {f"{base}/news/{a.slug}.html" for a in (ICBC_CHONGQING, ICBC_GBC)}
    assert rag.document(url_doc_id(f"{base}/news/icbc-gbc.html")).meta["published"].startswith("2023-11-14"), "the entry's date when the page has none"
    feeds = _feeds(capsys, index)
    assert feeds[base + "/rss.xml"]["title"] == "示例新闻网 财经" and feeds[base + "/rss.xml"]["updated"] and not feeds[base + "/rss.xml"]["error"]

    generation, pages = rag.generation(), len([p for p, _ in local_site.requests if p.startswith("/news/")])
    status, out, err = run_main(capsys, "--index-dir", index, "feeds", "update")
    assert status == 0 and out.count("not modified") == 2, out + err
    assert local_site.asked("/rss.xml")[-1]["if-none-match"] and local_site.asked("/atom.xml")[-1]["if-modified-since"]
    assert Rag(load_settings(index_dir=index)).generation() == generation, "nothing written"
    assert len([p for p, _ in local_site.requests if p.startswith("/news/")]) == pages, "no page fetched again"

    local_site.routes["/rss.xml"] = Route(
        body=rss(base, "示例新闻网 财经", [LANTERN, ICBC_CHONGQING, ICBC_GBC]), content_type="application/rss+xml", validators=True
    )
    status, out, err = run_main(capsys, "--index-dir", index, "feeds", "update")
    assert status == 0 and f"{base}/rss.xml: 1 added, 2 already indexed" in out, out + err
    found = Rag(load_settings(index_dir=index)).find("青石镇灯笼文化节最大的灯笼有多长？")
    assert found.hits[0].chunk.doc_id == url_doc_id(f"{base}/news/lantern-festival.html")


@pytest.mark.usefixtures("web_env")
def test_a_failing_feed_or_entry_is_reported_and_the_others_go_on(local_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "index")
    base = local_site.base
    for path in ("/with-gone.xml", "/rss.xml"):
        assert run_main(capsys, "--index-dir", index, "feeds", "add", base + path)[0] == 0
    settings = load_settings(index_dir=index, **quick_fetching())
    rag = Rag(settings)
    add_feed(rag, base + "/atom.xml")
    local_site.routes["/atom.xml"] = Route(500, b"down")  # the feed breaks after it was added
    local_site.routes["/rss.xml"] = local_site.routes["/bad-feed.xml"]  # and this one now serves a broken feed
    status, out, err = run_main(capsys, "--index-dir", index, "feeds", "update")
    assert status == 1
    assert f"{base}/with-gone.xml: 1 added, 0 already indexed, 1 failed" in out
    assert f"skipped: {base}/news/gone.html: the server answered HTTP 404" in err
    assert f"error: {base}/rss.xml: {base}/rss.xml: not an RSS or Atom feed" in err
    assert f"error: {base}/atom.xml: {base}/atom.xml: the server answered HTTP 500" in err
    feeds = _feeds(capsys, index)
    assert "HTTP 404" in feeds[base + "/with-gone.xml"]["error"] and "HTTP 500" in feeds[base + "/atom.xml"]["error"]
    assert [d.title for d in Rag(settings).documents()] == [ICBC_GBC.title]
    assert [f.url for f in list_feeds(rag)] == [base + "/with-gone.xml", base + "/rss.xml", base + "/atom.xml"]


@pytest.mark.usefixtures("web_env")
def test_feeds_are_added_once_checked_first_and_removed(local_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "index")
    base = local_site.base
    status, _, err = run_main(capsys, "--index-dir", index, "feeds", "add", base + "/news/lantern-festival.html")
    assert status == 1 and "not an RSS or Atom feed" in err
    status, _, err = run_main(capsys, "--index-dir", index, "feeds", "add", "http://169.254.169.254/rss.xml")
    assert status == 1 and "cloud metadata address" in err
    assert run_main(capsys, "--index-dir", index, "feeds", "add", base + "/rss.xml")[0] == 0
    status, _, err = run_main(capsys, "--index-dir", index, "feeds", "add", base + "/rss.xml")
    assert status == 1 and "registered already" in err
    assert run_main(capsys, "--index-dir", index, "feeds", "remove", base + "/rss.xml")[0] == 0
    assert _feeds(capsys, index) == {}
    status, _, err = run_main(capsys, "--index-dir", index, "feeds", "remove", base + "/rss.xml")
    assert status == 1 and "not a registered feed" in err


def test_the_feeds_are_refreshed_in_the_background(local_site: Site, tmp_path: Path) -> None:
    rag = Rag(load_settings(index_dir=str(tmp_path / "index"), **quick_fetching(), embed_model="fake/char-ngrams"))
    add_feed(rag, local_site.base + "/atom.xml")
    assert start_refresher(rag, lambda updates: None, every=0) is None, "0 is off"
    reports: list[list] = []
    stop = start_refresher(rag, reports.append, every=0.05)
    assert stop is not None
    deadline = time.monotonic() + 20
    while len(reports) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    assert [u.added for u in reports[0]] == [(url_doc_id(local_site.base + "/news/icbc-chongqing.html"),)]
    assert reports[1][0].not_modified
    assert update_feeds(rag)[0].not_modified


def test_an_entrys_date_is_the_day_its_feed_wrote() -> None:
    """Feeds write local times with their offset: 07:00 in Beijing is the 18th there, though the 17th in UTC."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>早间新闻</title>'
        "<item><title>早讯</title><link>/news/early.html</link><pubDate>Mon, 18 Nov 2024 07:00:00 +0800</pubDate></item>"
        "<item><title>无日期</title><link>https://other.example.com/x</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(Fetched("https://news.example.com/rss.xml", 200, body, "application/rss+xml"))
    assert feed.title == "早间新闻"
    assert feed.entries[0] == Entry("https://news.example.com/news/early.html", "早讯", "2024-11-18T07:00:00")
    assert feed.entries[1].published == "" and feed.entries[1].url == "https://other.example.com/x"
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>a</title><link href="https://n.example.com/a"/><updated>2024-11-18T06:30:00+08:00</updated></entry></feed>'
    assert parse_feed(Fetched("https://n.example.com/atom", 200, atom, "")).entries[0].published == "2024-11-18T06:30:00"


@pytest.mark.usefixtures("web_env")
def test_each_collection_keeps_its_own_feeds(local_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = str(tmp_path / "index")
    status, _, err = run_main(capsys, "--index-dir", index, "--collection", "press", "feeds", "add", local_site.base + "/rss.xml")
    assert status == 1 and "rag collections create press" in err, "a feed is never registered on a collection that does not exist"
    assert not (tmp_path / "index" / "collections" / "press").exists()
    assert run_main(capsys, "--index-dir", index, "collections", "create", "press")[0] == 0
    assert run_main(capsys, "--index-dir", index, "feeds", "add", local_site.base + "/rss.xml", "--collection", "press")[0] == 0
    status, out, err = run_main(capsys, "--index-dir", index, "--collection", "press", "feeds", "update")
    assert status == 0 and "2 added" in out, err
    assert _feeds(capsys, index) == {}, "the default collection has no feeds"
    press = Rag(load_settings(index_dir=index, collection="press"))
    assert len(press.documents()) == 2 and not Rag(load_settings(index_dir=index)).has_index()


@pytest.mark.usefixtures("web_env")
def test_the_app_shows_each_feed_with_its_last_update_and_error(local_site: Site, tmp_path: Path) -> None:
    settings = load_settings(index_dir=str(tmp_path / "index"), **quick_fetching())
    rag = Rag(settings)
    app = App(rag, export_dir=tmp_path / "exports")
    assert "rag feeds add" in feeds_view.show_feeds(app, "zh")["feeds"], "no feeds yet: says how to add one"
    for path in ("/rss.xml", "/atom.xml"):
        add_feed(rag, local_site.base + path)
    local_site.routes["/atom.xml"] = Route(500, b"down")
    update_feeds(rag)
    shown = feeds_view.show_feeds(app, "en")["feeds"]
    assert shown.count('<li class="feed') == 2 and "示例新闻网 财经" in shown and "2 entries indexed" in shown
    assert 'class="feed failing"' in shown and "HTTP 500" in shown and shown.count("feed-error") == 1
    assert "updated 20" in shown, "each feed's last update, as a day and a time"
