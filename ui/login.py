"""The sign-in page of a locked server: one form for a key or the ``--auth`` login, opening a session cookie.

``GET /login`` shows the form, ``POST /login`` checks it (``ui.access.Access``)
and sets an HttpOnly, SameSite=Lax cookie; ``/logout`` closes the session.
Repeated failures from one address make it wait, so keys and passwords cannot
be guessed at speed. The page stands outside the Gradio app, which it guards.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .access import COOKIE, Access, Sessions, local_target
from .constants import LOGIN_ATTEMPTS, LOGIN_WINDOW_S


class Attempts:
    """Failed logins per client address: past ``limit`` in ``window_s`` seconds, the login page waits."""

    def __init__(self, limit: int = LOGIN_ATTEMPTS, window_s: float = LOGIN_WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def wait_s(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        with self._lock:
            now = time.monotonic()
            failures = self._recent(client, now)
            return int(failures[0] + self.window_s - now) + 1 if len(failures) >= self.limit else 0

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())


def client_of(request: Request) -> str:
    return request.client.host if request.client else "?"


async def login(request: Request, access: Access, sessions: Sessions, attempts: Attempts) -> Response:
    """``GET /login`` shows the form; ``POST /login`` checks it and opens a session."""
    target = local_target(request.query_params.get("next"))
    if request.method != "POST":
        return HTMLResponse(login_page(access, target))
    client = client_of(request)
    wait = attempts.wait_s(client)
    if wait:
        return HTMLResponse(
            login_page(access, target, f"尝试次数过多，请 {wait} 秒后再试 / Too many attempts: try again in {wait} s"), 429, {"Retry-After": str(wait)}
        )
    form = await request.form()
    target = local_target(str(form.get("next") or target))
    credential = access.by_password(str(form.get("username") or ""), str(form.get("password") or ""))
    if credential is None:
        attempts.failed(client)
        return HTMLResponse(login_page(access, target, "密钥或密码不正确 / Wrong key or password"), 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        sessions.open(credential),
        max_age=int(sessions.lifetime_s),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def logout(request: Request, sessions: Sessions) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        sessions.close(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


LOGIN_CSS = """
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f1f5f9;
font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:#0f172a}
form{background:#fff;padding:32px 36px;border-radius:12px;box-shadow:0 4px 24px rgba(15,23,42,.08);width:340px}
h1{margin:0 0 4px;font-size:22px;color:#0f766e}p{margin:0 0 20px;color:#475569;font-size:14px}
label{display:block;font-size:14px;margin:12px 0 4px;color:#334155}
input{box-sizing:border-box;width:100%;padding:9px 10px;border:1px solid #cbd5e1;border-radius:8px;font-size:15px}
button{margin-top:20px;width:100%;padding:10px;border:0;border-radius:8px;background:#0d9488;color:#fff;font-size:15px;cursor:pointer}
.error{background:#fef2f2;color:#b91c1c;border-radius:8px;padding:8px 10px;font-size:14px;margin-bottom:8px}
"""


def login_page(access: Access, target: str, error: str = "") -> str:
    """The sign-in form: a key, or (with ``--auth``) the user name and password."""
    user_field = (
        '<label for="username">用户名 / User name</label><input id="username" name="username" autocomplete="username">'
        if access.login
        else '<input type="hidden" name="username" value="">'
    )
    secret_label = "密码或访问密钥 / Password or access key" if access.login else "访问密钥 / Access key"
    problem = f'<div class="error" role="alert">{escape(error)}</div>' if error else ""
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 · 有据问答</title><style>{LOGIN_CSS}</style></head>
<body><form method="post" action="/login">
<h1>有据问答</h1><p>请登录后使用 · Sign in to continue</p>{problem}
{user_field}
<label for="password">{secret_label}</label><input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{escape(target)}">
<button type="submit">登录 / Sign in</button>
</form></body></html>"""


def add_routes(api: Any, access: Access, sessions: Sessions) -> None:
    """``/login`` and ``/logout`` on the FastAPI app, before Gradio is mounted (so they take precedence)."""
    attempts = Attempts()

    async def login_route(request: Request) -> Response:
        return await login(request, access, sessions, attempts)

    def logout_route(request: Request) -> Response:
        return logout(request, sessions)

    api.add_api_route("/login", login_route, methods=["GET", "POST"], include_in_schema=False)
    api.add_api_route("/logout", logout_route, methods=["GET"], include_in_schema=False)
