"""A local news site for the web and feed tests: real HTTP on 127.0.0.1, pages dressed as news sites serve them.

Each article page carries what a real one does around the article — navigation, an ad,
related links, readers' comments, a footer — so a test can check that only the article's
paragraphs come out. The site also serves GBK pages (charset in the header only, or in
``<meta>`` only), RSS 2.0 and Atom feeds with ETag / Last-Modified, and the failures a
reader meets: 404, 500, a redirect loop, a response too slow, one too large (streamed
from a generator, never held in memory), a malformed feed, an entry whose page is gone.
Every request's path and headers are recorded, so a test sees what was asked.
"""

from __future__ import annotations

import hashlib
import html
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from helpers import SEEDS

LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: str = ""  # ISO 8601: in <meta property="article:published_time"> when given


def seed_article(name: str, slug: str, title: str, published: str = "") -> Article:
    lines = [line.strip() for line in (SEEDS / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return Article(slug, title, tuple(lines), published)


ICBC_CHONGQING = seed_article("000_a14ba3e1848048d8.txt", "icbc-chongqing", "数字金融听重庆：走进中国工商银行", "2023-08-11T15:10:00+08:00")
ICBC_GBC = seed_article("004_70d2e4c279f60003.txt", "icbc-gbc", "工行G/B/C三端发力数字化转型")
#: A short article of its own, with a fact no seed has: the "new entry" a feed gains.
LANTERN = Article(
    "lantern-festival",
    "青石镇举办首届灯笼文化节",
    (
        "11月18日，青石镇首届灯笼文化节在古镇广场开幕，吸引游客约三万人次。",
        "本届文化节共展出手工灯笼两千四百盏，其中最大的一盏龙形灯笼长达二十八米，由镇上十二位老匠人耗时四个月制作完成。",
        "青石镇镇长李文华表示，灯笼文化节将每年举办一次，以带动当地文旅产业发展。",
    ),
    "2024-11-18T09:30:00+08:00",
)


def news_page(article: Article, charset: str = "utf-8", meta_charset: bool = True) -> bytes:
    """``article`` as a news site serves it: furniture around the article, the date only in a <meta> tag."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
    meta = f'<meta charset="{charset}">' if meta_charset else ""
    date = f'<meta property="article:published_time" content="{article.published}">' if article.published else ""
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head>{meta}<title>{html.escape(article.title)} - 示例新闻网</title>{date}</head>
<body>
<header><div class="logo">示例新闻网</div><nav><ul><li><a href="/">首页</a></li><li><a href="/finance/">财经</a></li>
<li><a href="/tech/">科技</a></li><li><a href="/society/">社会</a></li></ul></nav></header>
<div class="ad banner">广告：新用户注册即送888元大礼包，点击立即领取！</div>
<main><article><h1>{html.escape(article.title)}</h1>
<div class="byline">来源：示例新闻网 编辑：王小明</div>
{body}
</article>
<aside class="related"><h3>相关阅读</h3><ul><li><a href="/a/1">央行发布第三季度货币政策执行报告</a></li>
<li><a href="/a/2">多家银行宣布下调存款利率</a></li><li><a href="/a/3">专家解读数字人民币试点新进展</a></li></ul></aside>
<section id="comments" class="comments"><h3>网友评论（2）</h3>
<div class="comment"><span class="user">网友甲</span><p>写得很好，支持一下！</p></div>
<div class="comment"><span class="user">网友乙</span><p>我家楼下的网点服务态度也很好。</p></div></section>
</main>
<footer><p>关于我们 | 联系方式 | 广告服务</p><p>版权所有 2024 示例新闻网 京ICP备12345678号</p></footer>
</body></html>"""
    return page.encode(charset)


def rss(site: str, title: str, articles: Iterable[Article], extra: Iterable[tuple[str, str]] = ()) -> bytes:
    """An RSS 2.0 feed over ``articles`` (and ``extra`` (link path, title) items without a date)."""
    items = [
        f"<item><title>{html.escape(a.title)}</title><link>{site}/news/{a.slug}.html</link>"
        f"<pubDate>{formatdate(time.mktime(time.strptime(a.published[:19], '%Y-%m-%dT%H:%M:%S')) if a.published else 1_700_000_000, usegmt=True)}</pubDate></item>"
        for a in articles
    ] + [f"<item><title>{html.escape(t)}</title><link>{site}{path}</link></item>" for path, t in extra]
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{html.escape(title)}</title>'
        f"<link>{site}/</link><description>示例</description>{''.join(items)}</channel></rss>"
    ).encode()


def atom(site: str, title: str, articles: Iterable[Article]) -> bytes:
    entries = [
        f'<entry><title>{html.escape(a.title)}</title><link href="/news/{a.slug}.html"/><id>{site}/news/{a.slug}</id>'
        f"<updated>{a.published or '2023-11-14T22:13:20Z'}</updated></entry>"
        for a in articles
    ]
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="{site}/">'
        f"<title>{html.escape(title)}</title><id>{site}/atom</id><updated>2024-11-18T09:30:00Z</updated>{''.join(entries)}</feed>"
    ).encode()


@dataclass
class Route:
    """What the site answers at one path: a status, headers, a body (or chunks streamed), after ``delay`` seconds."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    stream: Callable[[], Iterator[bytes]] | None = None
    validators: bool = False  # answers with ETag / Last-Modified, and 304 to a request that sends them back


@dataclass
class Site:
    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def asked(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for ``path``, in order."""
        return [headers for asked, headers in self.requests if asked == path]


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 — the name http.server calls
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = site.routes.get(self.path, Route(404, "<h1>页面不存在</h1>".encode()))
            time.sleep(route.delay)
            etag = f'"{hashlib.sha1(route.body).hexdigest()[:16]}"'
            asked_tag, asked_date = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            unchanged = asked_tag == etag if asked_tag else asked_date == LAST_MODIFIED  # an ETag outranks the date (RFC 9110)
            if route.validators and unchanged:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.validators:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            for key, value in route.headers.items():
                self.send_header(key, value)
            if route.stream is not None:
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in route.stream():
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the reader stopped: what the size cap is for
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

    return Handler


def _megabytes(count: int) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        piece = b"<p>" + "填充".encode() * 10_000 + b"</p>"
        sent = 0
        while sent < count * 1024 * 1024:
            yield piece
            sent += len(piece)

    return chunks


def news_site(base: str) -> dict[str, Route]:
    """The routes of the test site at ``base`` (its own http://127.0.0.1:PORT)."""
    page = "text/html; charset=utf-8"
    return {
        "/news/icbc-chongqing.html": Route(body=news_page(ICBC_CHONGQING), content_type=page),
        "/news/icbc-gbc.html": Route(body=news_page(ICBC_GBC, "gbk", meta_charset=False), content_type="text/html; charset=GBK"),
        "/news/icbc-gbc-meta.html": Route(body=news_page(ICBC_GBC, "gbk"), content_type="text/html"),
        "/news/lantern-festival.html": Route(body=news_page(LANTERN), content_type=page),
        "/rss.xml": Route(body=rss(base, "示例新闻网 财经", [ICBC_CHONGQING, ICBC_GBC]), content_type="application/rss+xml", validators=True),
        "/atom.xml": Route(body=atom(base, "示例新闻网 Atom", [ICBC_CHONGQING]), content_type="application/atom+xml", validators=True),
        "/with-gone.xml": Route(
            body=rss(base, "带失效条目的订阅", [ICBC_GBC], extra=[("/news/gone.html", "已删除的新闻")]), content_type="application/rss+xml", validators=True
        ),
        "/bad-feed.xml": Route(body=b"<?xml version='1.0'?><rss><channel><title>broken</title><item><link>", content_type="application/rss+xml"),
        "/error": Route(500, "服务器错误".encode()),
        "/loop-a": Route(302, headers={"Location": "/loop-b"}),
        "/loop-b": Route(302, headers={"Location": "/loop-a"}),
        "/moved": Route(301, headers={"Location": "/news/lantern-festival.html"}),
        "/to-metadata": Route(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
        "/slow": Route(body=news_page(LANTERN), delay=1.5),
        "/huge": Route(stream=_megabytes(8)),
        "/huge-declared": Route(body=b"", headers={"Content-Length": str(50 * 1024 * 1024)}, stream=lambda: iter(())),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a reader that hangs up early (the size cap, a timeout) is what these tests do on purpose


class LocalSite:
    """The site in a thread until ``close()``; ``with LocalSite() as site`` gives the ``Site`` to change and inspect."""

    def __init__(self, extra: Callable[[str], dict[str, Route]] | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.site = Site(base=f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_address[1]}")
        self.site.routes = {**news_site(self.site.base), **(extra(self.site.base) if extra else {})}
        self.server.RequestHandlerClass = _handler(self.site)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self.site

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def article_text(article: Article) -> str:
    return "\n\n".join(article.paragraphs)


def quick_fetching(**overrides: object) -> dict[str, object]:
    """Settings for fetching from the local site: private addresses allowed, no pause between requests, short timeouts."""
    return {
        "fetch_allow_private": True,
        "fetch_host_interval_s": 0.0,
        "fetch_timeout_s": 0.3,
        "fetch_total_s": 3.0,
        "fetch_backoff_s": 0.01,
        "fetch_retries": 1,
        "fetch_max_mb": 1.0,
        **overrides,
    }
