"""Who may use a served app, and the one gate every request of ``rag serve`` passes.

One lock for every door: the app page, every Gradio route (its API, queue,
uploads and files) and ``/v1`` accept the same credentials, checked by ``Gate``
before any route runs, so a route that forgets to check cannot be reached.
Credentials are API keys (``RAG_API_KEYS``; each may read, or read and write,
every collection or only those it names) and the ``--auth`` login, given as a bearer key, as HTTP Basic, or through the
login page, which opens a session cookie. Asking and reading need any
credential; changing the index (uploads, deletes) needs a write key or the
login. A wrong credential gets exactly the answer a missing one gets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from rag import COLLECTION_NAME

from .api_support import error_response
from .constants import SESSION_HOURS

#: Reachable without credentials: the health probe and the way in and out.
OPEN_PATHS = frozenset({"/healthz", "/login", "/logout"})
#: The session cookie of the login page.
COOKIE = "rag_session"
#: Where the gate leaves the caller's credential for the routes (``request.state``).
STATE_KEY = "rag_credential"


class Permission(StrEnum):
    """What a credential allows: asking and reading, or also changing the index."""

    READ = "read"
    WRITE = "write"


#: Between a key's permission and the collections it is limited to: ``KEY:read@news+press``.
SCOPE_MARK = "@"
#: Between the collections a key is limited to.
SCOPE_JOIN = "+"


@dataclass(frozen=True)
class Grant:
    """What a key may do: read or write, in every collection (``collections`` None) or only in those named."""

    permission: Permission
    collections: frozenset[str] | None = None

    def allows(self, collection: str, write: bool = False) -> bool:
        in_scope = self.collections is None or collection in self.collections
        return in_scope and (not write or self.permission is Permission.WRITE)


@dataclass(frozen=True)
class Credential:
    """Who is calling, without the secret: ``name`` is safe to log."""

    name: str
    permission: Permission
    collections: frozenset[str] | None = None

    @property
    def grant(self) -> Grant:
        return Grant(self.permission, self.collections)

    @property
    def identity(self) -> str:
        """The user name Gradio hands the app's handlers: ``write:key 1``, ``read@news+press:key 2``, ``write:ann``."""
        scope = SCOPE_MARK + SCOPE_JOIN.join(sorted(self.collections)) if self.collections is not None else ""
        return f"{self.permission}{scope}:{self.name}"


def grant_of(identity: str | None) -> Grant | None:
    """The grant inside an ``identity`` (``None`` when there is none)."""
    head = (identity or "").partition(":")[0]
    permission, mark, scope = head.partition(SCOPE_MARK)
    if permission not in tuple(Permission):
        return None
    return Grant(Permission(permission), frozenset(scope.split(SCOPE_JOIN)) if mark else None)


def permission_of(identity: str | None) -> Permission | None:
    """The permission inside an ``identity`` (``None`` when there is none)."""
    grant = grant_of(identity)
    return grant.permission if grant else None


# --------------------------------------------------------------------------- keys and logins


def load_keys(spec: str) -> dict[str, Grant]:
    """``RAG_API_KEYS``: comma-separated entries, or the path of a file with one a line (# comments).

    An entry is ``KEY`` (may read and write, as keys always could), ``KEY:write`` or ``KEY:read``,
    each optionally limited to some collections: ``KEY:read@news+press``, ``KEY@news``.
    """
    spec = spec.strip()
    if not spec:
        return {}
    path = Path(spec).expanduser()
    if "," not in spec and path.is_file():
        entries = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        entries = [e for e in entries if e and not e.startswith("#")]
        if not entries:
            raise ValueError(f"RAG_API_KEYS names {path}, which holds no key")
    elif "/" in spec and "," not in spec:
        raise ValueError(f"RAG_API_KEYS looks like a path, but {path} is not a file")
    else:
        entries = [e.strip() for e in spec.split(",") if e.strip()]
    return dict(_entry(entry) for entry in entries)


def _entry(entry: str) -> tuple[str, Grant]:
    """One ``RAG_API_KEYS`` entry: the key and what it may do."""
    collections: frozenset[str] | None = None
    head, mark, scope = entry.rpartition(SCOPE_MARK)
    if mark:  # a key limited to collections; a scope that names none is a mistake, never part of the key
        if not all(COLLECTION_NAME.fullmatch(name) for name in scope.split(SCOPE_JOIN)):
            raise ValueError(f"RAG_API_KEYS: {scope!r} after '{SCOPE_MARK}' is not a list of collection names joined by '{SCOPE_JOIN}'")
        entry, collections = head, frozenset(scope.split(SCOPE_JOIN))
    key, sep, permission = entry.rpartition(":")
    if not sep or permission not in tuple(Permission):
        key, permission = entry, Permission.WRITE
    if not key:
        raise ValueError(f"RAG_API_KEYS has an entry with no key before ':{permission}'")
    return key, Grant(Permission(permission), collections)


def parse_login(spec: str | None) -> tuple[str, str] | None:
    """``--auth USER:PASSWORD`` → the login pair."""
    if not spec:
        return None
    user, sep, password = spec.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth must be USER:PASSWORD / --auth 的格式为 用户名:密码")
    return user, password


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _same(given: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(given, expected)


@dataclass(frozen=True)
class Access:
    """The credentials a server accepts; ``open`` (``--no-auth``) lets everyone in."""

    keys: Mapping[str, Grant] = field(default_factory=dict)
    login: tuple[str, str] | None = None
    open: bool = False

    @classmethod
    def from_settings(cls, api_keys: str, login: str | None = None, open_: bool = False) -> Access:
        return cls(load_keys(api_keys), parse_login(login), open_)

    @property
    def locked(self) -> bool:
        return not self.open and bool(self.keys or self.login)

    def by_key(self, given: str) -> Credential | None:
        """The key's credential; every key is compared, in constant time, whatever matches."""
        digest = _digest(given)
        found: Credential | None = None
        for number, (key, grant) in enumerate(self.keys.items(), start=1):
            if _same(digest, _digest(key)) and found is None:
                found = Credential(f"key {number}", grant.permission, grant.collections)
        return found

    def by_password(self, user: str, password: str) -> Credential | None:
        """The login page and HTTP Basic: the ``--auth`` pair, or any user name with a key as the password."""
        as_key = self.by_key(password)
        if self.login is None:
            return as_key
        login_user, login_password = self.login
        if _same(_digest(user), _digest(login_user)) & _same(_digest(password), _digest(login_password)):
            return Credential(login_user, Permission.WRITE)
        return as_key

    def describe(self) -> str:
        """One startup line: what opens the doors (never the secrets)."""
        if self.open:
            return "--no-auth: no credentials needed; everyone who can reach this address may read and change the index / 未设访问控制"
        if not self.locked:
            return "no credentials needed on this loopback address / 本机访问无需凭据"
        counts = {p: sum(1 for v in self.keys.values() if v.permission is p) for p in Permission}
        parts = [f"{counts[Permission.WRITE]} write key(s)", f"{counts[Permission.READ]} read-only key(s)"]
        if self.login:
            parts.append(f"the login of {self.login[0]!r}")
        return f"locked: {', '.join(parts)}; sign in at /login, or send 'Authorization: Bearer <key>' / 需凭据访问"


# --------------------------------------------------------------------------- sessions


class Sessions:
    """Login-page sessions: a random token in an HttpOnly cookie, held in memory (a restart signs everyone out)."""

    def __init__(self, lifetime_s: float = SESSION_HOURS * 3600) -> None:
        self.lifetime_s = lifetime_s
        self._by_token: dict[str, tuple[Credential, float]] = {}
        self._lock = threading.Lock()

    def open(self, credential: Credential) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._by_token = {t: v for t, v in self._by_token.items() if v[1] > now}
            self._by_token[token] = (credential, now + self.lifetime_s)
        return token

    def find(self, token: str) -> Credential | None:
        with self._lock:
            held = self._by_token.get(token)
            if held is None or held[1] <= time.monotonic():
                self._by_token.pop(token, None)
                return None
            return held[0]

    def close(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)


# --------------------------------------------------------------------------- the gate


def needs_write(method: str, path: str) -> bool:
    """Routes that change an index: the API's upload and delete (of any collection), and Gradio's file upload."""
    path = path.rstrip("/")
    parts = path.split("/")
    if parts[:3] == ["", "v1", "collections"] and len(parts) >= 5:
        path = "/v1/" + "/".join(parts[4:])  # /v1/collections/{name}/documents… is /v1/documents… of that collection
    if path == "/v1/documents" and method == "POST":
        return True
    if path.startswith("/v1/documents/") and method == "DELETE":
        return True
    return path == "/gradio_api/upload" and method == "POST"


UNAUTHORIZED = (
    "Missing or incorrect credentials: send 'Authorization: Bearer <key>' or sign in at /login. / 缺少或错误的访问凭据，请提供密钥或登录",
    "invalid_api_key",
)
READ_ONLY = ("This key may only read: uploading and deleting need a write key. / 此密钥只读，上传和删除需要可写密钥", "insufficient_permission")


def wants_page(scope: Scope) -> bool:
    """A browser asking for a page: sent to the login page rather than given a JSON error."""
    if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    path = scope.get("path", "")
    if path.startswith(("/v1", "/gradio_api")):
        return False
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"text/html" in accept


def local_target(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class Gate:
    """ASGI middleware in front of every route of ``rag serve``."""

    def __init__(self, app: ASGIApp, access: Access, sessions: Sessions) -> None:
        self.app, self.access, self.sessions = app, access, sessions

    def credential(self, headers: Mapping[bytes, bytes]) -> Credential | None:
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return self.access.by_key(value.strip())
        if scheme.lower() == "basic" and value.strip():
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            return self.access.by_password(user, password)
        token = _cookie(headers.get(b"cookie", b"").decode("latin-1"), COOKIE)
        return self.sessions.find(token) if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.access.locked or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        credential = self.credential(headers)
        response: Response | None = None
        if credential is None:
            if wants_page(scope):
                query = scope.get("query_string", b"").decode("latin-1")
                target = scope.get("path", "/") + (f"?{query}" if query else "")
                response = RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
            else:
                response = error_response(401, *UNAUTHORIZED, {"WWW-Authenticate": 'Bearer realm="rag"'})
        elif needs_write(scope.get("method", ""), scope.get("path", "")) and credential.permission is not Permission.WRITE:
            response = error_response(403, *READ_ONLY)
        if response is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await response(scope, receive, send)
            return
        scope.setdefault("state", {})[STATE_KEY] = credential
        await self.app(scope, receive, send)


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def identity(request: Request) -> str | None:
    """Gradio's ``auth_dependency``: the caller's identity, which the gate has already checked."""
    credential = request.scope.get("state", {}).get(STATE_KEY)
    return credential.identity if isinstance(credential, Credential) else None
