"""Article pages → ``Document`` (rag.web.article), and `rag ingest URL`, against the local news site.

The pages wrap real articles (the seeds) in what news sites put around them; what comes
out must be the article's paragraphs as the product reads the same article from a file,
with none of the furniture.
"""

from __future__ import annotations

import itertools
import json
import lzma
import re
from pathlib import Path

import pytest
from websites import LANTERN, Article, Route, Site, news_page, quick_fetching

from helpers import SEEDS, SHARED_DATA, run_main
from rag import load_settings
from rag.ingest.documents import parse_bytes
from rag.web.article import page_document, url_doc_id
from rag.web.fetch import fetch

#: What the site puts around every article: none of it may reach the index.
FURNITURE = ("首页", "新用户注册即送", "相关阅读", "央行发布第三季度", "网友评论", "写得很好", "京ICP备", "关于我们", "编辑：王小明")


def _seed_text(name: str) -> str:
    return parse_bytes((SEEDS / name).read_bytes(), name).text


@pytest.mark.parametrize(
    ("path", "seed", "title"),
    [
        ("/news/icbc-chongqing.html", "000_a14ba3e1848048d8.txt", "数字金融听重庆：走进中国工商银行"),
        ("/news/icbc-gbc.html", "004_70d2e4c279f60003.txt", "工行G/B/C三端发力数字化转型"),  # GBK, charset in the header only
        ("/news/icbc-gbc-meta.html", "004_70d2e4c279f60003.txt", "工行G/B/C三端发力数字化转型"),  # GBK, charset in <meta> only
    ],
)
def test_a_news_page_gives_the_articles_paragraphs_and_nothing_else(local_site: Site, path: str, seed: str, title: str) -> None:
    document = page_document(fetch(local_site.base + path, load_settings(**quick_fetching())))
    assert document.text == _seed_text(seed), "the same paragraphs as the article read from its file"
    assert document.title == title
    assert not [word for word in FURNITURE if word in document.text]


def test_the_url_is_the_source_and_the_id_is_safe_anywhere(local_site: Site) -> None:
    url = local_site.base + "/news/lantern-festival.html"
    document = page_document(fetch(url, load_settings(**quick_fetching())))
    assert document.text == "\n\n".join(LANTERN.paragraphs)
    assert document.meta["source"] == document.meta["url"] == url
    assert re.fullmatch(r"[A-Za-z0-9._-]+", document.id) and "lantern-festival" in document.id
    assert document.id == url_doc_id(url) != url_doc_id(url + "?page=2")


def test_a_date_only_in_a_meta_tag_is_the_publication_date_and_a_feeds_date_stands_in(local_site: Site) -> None:
    settings = load_settings(**quick_fetching())
    dated = page_document(fetch(local_site.base + "/news/lantern-festival.html", settings))
    assert dated.meta["published"].startswith("2024-11-18") and dated.meta["published_source"] == "page"
    undated = page_document(fetch(local_site.base + "/news/icbc-gbc.html", settings))
    assert "published" not in undated.meta
    from_feed = page_document(fetch(local_site.base + "/news/icbc-gbc.html", settings), published="2020-09-03T08:00:00")
    assert from_feed.meta["published"].startswith("2020-09-03") and from_feed.meta["published_source"] == "feed"


def _web_env(monkeypatch: pytest.MonkeyPatch, **settings: object) -> None:
    for name, value in quick_fetching(**settings).items():
        monkeypatch.setenv(f"RAG_{name.upper()}", "1" if value is True else str(value))


@pytest.mark.usefixtures("fake_model_env")
def test_rag_ingest_takes_pages_and_feeds(local_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _web_env(monkeypatch)
    index = str(tmp_path / "index")
    status, out, err = run_main(capsys, "--index-dir", index, "ingest", local_site.base + "/news/lantern-festival.html")
    assert status == 0 and "1 added" in out, err
    status, out, err = run_main(capsys, "--index-dir", index, "ingest", local_site.base + "/rss.xml")
    assert status == 0 and "2 added" in out, err  # a feed's URL brings in its entries
    status, out, _ = run_main(capsys, "--index-dir", index, "documents", "--json")
    docs = json.loads(out)["documents"]
    assert {d["title"] for d in docs} == {LANTERN.title, "数字金融听重庆：走进中国工商银行", "工行G/B/C三端发力数字化转型"}
    asked = len(local_site.asked("/news/icbc-gbc.html"))
    status, out, err = run_main(capsys, "--index-dir", index, "ingest", local_site.base + "/rss.xml")
    assert status == 0 and "0 added" in out and len(local_site.asked("/news/icbc-gbc.html")) == asked, "entries in the index are not fetched again"


@pytest.mark.usefixtures("fake_model_env")
def test_rag_ingest_reports_a_refused_or_failing_url_and_goes_on(
    local_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = str(tmp_path / "index")
    status, out, err = run_main(capsys, "--index-dir", index, "ingest", "http://10.0.0.5/news.html", "file:///etc/passwd")
    assert status == 1 and "10.0.0.5 is a private address / 拒绝访问内网地址" in err and "Traceback" not in err
    assert "file:///etc/passwd: refused: only http and https" in err
    _web_env(monkeypatch)
    status, out, err = run_main(capsys, "--index-dir", index, "ingest", local_site.base + "/news/gone.html", local_site.base + "/news/lantern-festival.html")
    assert status == 1 and "HTTP 404" in err and "1 added" in out


NEWS_SLICE = SHARED_DATA / "news_zh_20k.jsonl.xz"


@pytest.mark.skipif(not NEWS_SLICE.exists(), reason="the news slice (../shared/data) is not here")
def test_real_news_articles_come_back_whole_from_their_pages(local_site: Site) -> None:
    """Forty articles of the news slice, each dressed as a news page: the page reads as the article does from the archive."""
    expected = {}
    with lzma.open(NEWS_SLICE, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(itertools.islice(lines, 40)):
            document = parse_bytes(json.loads(line)["text"].encode(), "article.txt")
            paragraphs = tuple(document.paragraph_text(p.index) for p in document.paragraphs)
            local_site.routes[f"/n/{number}.html"] = Route(body=news_page(Article(str(number), "示例新闻网新闻", paragraphs)))
            expected[number] = document.text
    settings = load_settings(**quick_fetching())
    wrong = [n for n, text in expected.items() if page_document(fetch(f"{local_site.base}/n/{n}.html", settings)).text != text]
    assert not wrong, f"pages read differently from their articles: {wrong}"
