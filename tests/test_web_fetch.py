"""Safe fetching (rag.web.fetch): what is refused before connecting, and how a real server's failures end.

The refusals need no server: they happen before any connection. The rest run against
the local news site (tests/websites.py) on 127.0.0.1, which the settings allow.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from websites import ICBC_GBC, LocalSite, Site, news_page, quick_fetching

from rag import FetchError, RagError, SettingsError, load_settings
from rag.web.charset import decode_page
from rag.web.fetch import HostPacer, fetch, refusal

STRICT = load_settings()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/", "127.0.0.1 is a loopback address"),
        ("http://localhost:9/", "loopback address"),
        ("http://[::1]:9/", "::1 is a loopback address"),
        ("http://10.0.0.5/", "10.0.0.5 is a private address / 拒绝访问内网地址"),
        ("http://192.168.1.1/admin", "192.168.1.1 is a private address"),
        ("http://[::ffff:10.0.0.7]/", "10.0.0.7 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://0.0.0.0/", "0.0.0.0 is not an address a web site has"),
        ("file:///etc/passwd", "only http and https URLs are fetched, not file"),
        ("ftp://example.com/x", "not ftp"),
    ],
)
def test_what_is_not_a_public_web_address_is_refused_before_connecting(url: str, why: str) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(url, STRICT)
    assert why in str(caught.value) and url in str(caught.value)
    assert isinstance(caught.value, RagError) and caught.value.code == "fetch_failed"


def test_metadata_addresses_stay_refused_when_private_ones_are_allowed() -> None:
    allowing = load_settings(fetch_allow_private=True)
    for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"):
        assert "metadata" in refusal(address, allow_private=True)
    assert refusal("10.0.0.5", allow_private=True) == "" and refusal("127.0.0.1", allow_private=True) == ""
    assert refusal("8.8.8.8", allow_private=False) == ""
    with pytest.raises(FetchError, match="metadata"):
        fetch("http://169.254.169.254/", allowing)


def test_the_allow_setting_reads_the_words_people_write(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, value in (("1", True), ("true", True), ("0", False), ("no", False)):
        monkeypatch.setenv("RAG_FETCH_ALLOW_PRIVATE", raw)
        assert load_settings().fetch_allow_private is value
    monkeypatch.setenv("RAG_FETCH_ALLOW_PRIVATE", "perhaps")
    with pytest.raises(SettingsError, match="RAG_FETCH_ALLOW_PRIVATE"):
        load_settings()


def test_a_redirect_is_checked_like_the_first_address(local_site: Site) -> None:
    with pytest.raises(FetchError, match="169.254.169.254 is a cloud metadata address"):
        fetch(local_site.base + "/to-metadata", load_settings(**quick_fetching()))


def test_redirects_are_followed_and_a_loop_is_an_error(local_site: Site) -> None:
    settings = load_settings(**quick_fetching())
    page = fetch(local_site.base + "/moved", settings)
    assert page.url == local_site.base + "/news/lantern-festival.html" and page.status == 200
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(local_site.base + "/loop-a", settings)


def test_http_errors_name_the_url_and_a_5xx_is_asked_again(local_site: Site) -> None:
    settings = load_settings(**quick_fetching(fetch_retries=2))
    with pytest.raises(FetchError, match="HTTP 404 / 服务器返回错误 404") as gone:
        fetch(local_site.base + "/news/gone.html", settings)
    assert local_site.base + "/news/gone.html" in str(gone.value)
    with pytest.raises(FetchError, match="HTTP 500"):
        fetch(local_site.base + "/error", settings)
    assert len(local_site.asked("/error")) == 3, "a 5xx answer is retried fetch_retries times"
    assert len(local_site.asked("/news/gone.html")) == 1, "a 404 is not"


def test_a_slow_answer_times_out(local_site: Site) -> None:
    with pytest.raises(FetchError, match="no answer within 0.3 s"):
        fetch(local_site.base + "/slow", load_settings(**quick_fetching(fetch_retries=0)))


def test_a_response_past_the_size_cap_is_dropped_while_streaming(local_site: Site) -> None:
    settings = load_settings(**quick_fetching())
    with pytest.raises(FetchError, match="over the 1 MB limit"):
        fetch(local_site.base + "/huge", settings)  # 8 MB streamed without a length: stopped past 1 MB
    with pytest.raises(FetchError, match="50.0 MB, over the 1 MB limit"):
        fetch(local_site.base + "/huge-declared", settings)  # refused from its Content-Length alone


def test_a_stored_etag_or_date_makes_the_request_conditional(local_site: Site) -> None:
    settings = load_settings(**quick_fetching())
    first = fetch(local_site.base + "/rss.xml", settings)
    assert first.status == 200 and first.etag and first.last_modified and first.body
    again = fetch(local_site.base + "/rss.xml", settings, etag=first.etag)
    assert again.not_modified and again.body == b""
    assert fetch(local_site.base + "/rss.xml", settings, last_modified=first.last_modified).not_modified
    sent = local_site.asked("/rss.xml")
    assert sent[1]["if-none-match"] == first.etag and sent[2]["if-modified-since"] == first.last_modified
    assert "if-none-match" not in sent[0]


def test_requests_to_one_host_are_spaced() -> None:
    pacer = HostPacer()
    began = time.monotonic()
    for _ in range(3):
        pacer.wait("news.example.com", 0.05)
    pacer.wait("other.example.com", 0.05)  # another host does not wait for this one
    assert time.monotonic() - began >= 0.1


def test_pages_decode_by_their_declared_charset_or_by_detection() -> None:
    gbk = news_page(ICBC_GBC, "gbk", meta_charset=False)
    assert ICBC_GBC.paragraphs[0] in decode_page(gbk, "gbk")  # the header's charset
    assert ICBC_GBC.paragraphs[0] in decode_page(news_page(ICBC_GBC, "gbk"))  # only <meta charset>
    meta_equiv = gbk.replace(b"<head>", b'<head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    assert ICBC_GBC.paragraphs[0] in decode_page(meta_equiv)
    assert ICBC_GBC.paragraphs[0] in decode_page(gbk)  # declared nowhere: detected
    # a server's default Latin-1 header does not override the page's own UTF-8
    assert ICBC_GBC.paragraphs[0] in decode_page(news_page(ICBC_GBC, "utf-8"), "iso-8859-1")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test site's certificate")
def test_https_is_verified_against_the_hosts_name_while_connecting_to_the_checked_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site whose certificate nobody vouches for is refused, not fetched: verification stays on although
    the connection goes to the resolved address rather than the name."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert)]
        + ["-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with LocalSite(tls=context) as site:
        port = site.base.rsplit(":", 1)[1]
        with pytest.raises(FetchError, match="TLS certificate cannot be verified / 网站证书验证失败"):
            fetch(f"https://localhost:{port}/rss.xml", load_settings(**quick_fetching()))
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the certificate is trusted: the name it was made for is checked
        assert fetch(f"https://localhost:{port}/rss.xml", load_settings(**quick_fetching())).body.startswith(b"<?xml")
        with pytest.raises(FetchError, match="TLS certificate cannot be verified"):
            fetch(f"https://127.0.0.1:{port}/rss.xml", load_settings(**quick_fetching()))  # not the certificate's name
