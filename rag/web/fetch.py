"""Fetching a web page or feed safely: only http(s), only public addresses, bounded in time and size.

Why so careful: a URL comes from a user or from a feed someone else writes, and the
server that fetches it sits inside a network. So the host is resolved here and every
address it names is checked before connecting (loopback, private, link-local, multicast,
reserved and cloud-metadata addresses are refused), the connection goes to the address
that was checked (DNS cannot answer differently between the check and the connect),
and each redirect is followed here, checked the same way. ``fetch_allow_private`` lets
a local test site or an intranet through; metadata addresses stay refused even then.

A response is read as a stream and dropped past ``fetch_max_mb`` (decompressed), a
read that stalls or a response that drags past ``fetch_total_s`` ends it, a 5xx answer
or a timeout is retried a few times with a doubling pause, requests to one host are
spaced by ``fetch_host_interval_s``, and a stored ETag / Last-Modified makes the
request conditional: 304 means unchanged and nothing is downloaded.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3

from ..errors import FetchError
from ..settings import Settings

#: Addresses of cloud instance metadata services: refused even when private addresses are allowed.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "169.254.169.123"))
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Answers worth asking again after a pause: the server is busy or broken for now.
RETRIED = frozenset({500, 502, 503, 504})
USER_AGENT = "rag-zh/1.0 (+https://github.com/; news reader for a question-answering index)"
_CHUNK = 64 * 1024
_MB = 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    """One response: the URL it came from after redirects, its body, and what makes the next request conditional."""

    url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def charset(self) -> str:
        """The charset the Content-Type header declares ("" when none)."""
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'").lower()
        return ""


class HostPacer:
    """The least interval between two requests to one host, across the threads of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str, interval: float) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, 0.0))
            self._next[host] = start + interval
        if start > now:
            time.sleep(start - now)


#: One pacer for the process: politeness to a site does not depend on which command fetches.
PACER = HostPacer()


def is_web_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def refusal(address: str, allow_private: bool) -> str:
    """Why connecting to ``address`` is refused ("" when it is allowed), in English and Chinese."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address / 拒绝访问云服务器元数据地址"
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip} is not an address a web site has / 拒绝访问保留地址"
    if ip.is_loopback:
        return "" if allow_private else f"{ip} is a loopback address (this machine) / 拒绝访问本机地址"
    if ip.is_link_local:
        return f"{ip} is a link-local address / 拒绝访问链路本地地址"
    if ip.is_reserved:
        return f"{ip} is not an address a web site has / 拒绝访问保留地址"
    if not ip.is_global and not allow_private:
        return f"{ip} is a private address / 拒绝访问内网地址"
    return ""


def checked_address(url: str, settings: Settings) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) of ``url``, every address its host resolves to checked."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(url, f"refused: only http and https URLs are fetched, not {scheme or 'this'} / 只能抓取 http(s) 网址")
    host = parts.hostname or ""
    if not host:
        raise FetchError(url, "the URL names no host / 网址缺少主机名")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchError(url, "the URL's port is not a number / 网址端口无效") from None
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve {host} ({exc}) / 无法解析域名") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        why = refusal(address, settings.fetch_allow_private)
        if why:
            raise FetchError(url, f"refused: {why}")
    return scheme, host, port, addresses[0]


def _pool(scheme: str, host: str, port: int, address: str, settings: Settings) -> urllib3.HTTPConnectionPool:
    """A pool that connects to the checked ``address`` while speaking to ``host`` (Host header, TLS name)."""
    timeout = urllib3.Timeout(connect=settings.fetch_timeout_s, read=settings.fetch_timeout_s)
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(address, port, timeout=timeout, retries=False, server_hostname=host, assert_hostname=host)
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"


def _read(response: urllib3.BaseHTTPResponse, url: str, settings: Settings, deadline: float) -> bytes:
    """The body, decompressed, until the size cap or the deadline: past either the fetch fails."""
    cap = int(settings.fetch_max_mb * _MB)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(url, f"the response is {int(declared) / _MB:.1f} MB, over the {settings.fetch_max_mb:g} MB limit / 内容过大")
    parts: list[bytes] = []
    size = 0
    for chunk in response.stream(_CHUNK, decode_content=True):
        size += len(chunk)
        if size > cap:
            raise FetchError(url, f"the response is over the {settings.fetch_max_mb:g} MB limit / 内容过大")
        if time.monotonic() > deadline:
            raise FetchError(url, f"the response took over {settings.fetch_total_s:g} s / 下载超时")
        parts.append(chunk)
    return b"".join(parts)


def _once(url: str, headers: dict[str, str], settings: Settings, pacer: HostPacer) -> tuple[int, dict[str, str], bytes]:
    """One request to the checked address of ``url``: (status, headers, body); no redirect followed."""
    scheme, host, port, address = checked_address(url, settings)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    pacer.wait(host.lower(), settings.fetch_host_interval_s)
    deadline = time.monotonic() + settings.fetch_total_s
    with _pool(scheme, host, port, address, settings) as pool:
        response = pool.urlopen(
            "GET", target, headers={**headers, "Host": _host_header(host, port, scheme)}, redirect=False, preload_content=False, assert_same_host=False
        )
        try:
            body = b"" if response.status in REDIRECTS or response.status == 304 or response.status >= 400 else _read(response, url, settings, deadline)
            return response.status, {k.lower(): v for k, v in response.headers.items()}, body
        finally:
            response.release_conn()
            response.close()


def _with_retries(url: str, headers: dict[str, str], settings: Settings, pacer: HostPacer) -> tuple[int, dict[str, str], bytes]:
    """``_once``, again after a doubling pause when the server answers 5xx or does not answer in time."""
    for attempt in range(settings.fetch_retries + 1):
        last = attempt == settings.fetch_retries
        try:
            status, found, body = _once(url, headers, settings, pacer)
        except urllib3.exceptions.SSLError:  # asking again does not make a certificate trusted
            raise FetchError(url, "the site's TLS certificate cannot be verified / 网站证书验证失败") from None
        except urllib3.exceptions.TimeoutError:
            if last:
                raise FetchError(url, f"no answer within {settings.fetch_timeout_s:g} s / 连接或读取超时") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if last:
                raise FetchError(url, f"cannot connect ({exc.__class__.__name__}) / 无法连接") from None
        else:
            if status not in RETRIED or last:
                return status, found, body
        time.sleep(settings.fetch_backoff_s * 2**attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def fetch(url: str, settings: Settings, etag: str = "", last_modified: str = "", accept: str = "*/*", pacer: HostPacer = PACER) -> Fetched:
    """GET ``url`` safely (see the module's doc); with ``etag``/``last_modified`` a 304 comes back as ``not_modified``."""
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current, visited = url, {url}
    for _hop in range(settings.fetch_redirects + 1):
        status, found, body = _with_retries(current, headers, settings, pacer)
        if status in REDIRECTS:
            location = found.get("location", "")
            if not location:
                raise FetchError(url, f"HTTP {status} redirect without a Location / 重定向缺少目标地址")
            current = urljoin(current, location)
            if current in visited:
                raise FetchError(url, f"a redirect loop back to {current} / 重定向循环")
            visited.add(current)
            continue
        if status >= 400:
            raise FetchError(url, f"the server answered HTTP {status} / 服务器返回错误 {status}")
        return Fetched(current, status, body, found.get("content-type", ""), found.get("etag", ""), found.get("last-modified", ""))
    raise FetchError(url, f"more than {settings.fetch_redirects} redirects / 重定向次数过多")


__all__ = ["METADATA_ADDRESSES", "PACER", "Fetched", "HostPacer", "checked_address", "fetch", "is_web_url", "refusal"]
