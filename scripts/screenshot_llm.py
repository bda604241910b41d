"""A screenshot of the app answering in the LLM style, for docs/llm.md.

Why a script: the picture should show what a real model does through the real
verifier, so it is taken, not drawn. It starts ``llama_cpp.server`` with the
model given, the app over a copy-free temporary index of seeds/ with
``RAG_LLM_UNSUPPORTED=strike``, asks one question in Debian chromium and saves
the page.

Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/screenshot_llm.py MODEL.gguf \\
        "工行累计推出了多少款小微企业线上信用贷款产品？" docs/llm-answer.png
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui.llm_server import free_port, serve_local, wait_ready  # noqa: E402

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


def wait_http(url: str, process: subprocess.Popen, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the app did not answer at {url}")


def main(model: str, question: str, out: str) -> int:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="rag-shot-"))
    server, env = serve_local(model, port=free_port(), log=open(work / "llm.log", "w"))
    app = None
    try:
        wait_ready(env["RAG_LLM_BASE_URL"], server)
        port = free_port()
        app_env = {
            **os.environ,
            **env,
            "RAG_ANSWER_MODE": "llm",
            "RAG_LLM_UNSUPPORTED": "strike",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        command = [sys.executable, "-m", "ui.cli", "--index-dir", str(work / "index"), "serve", "--port", str(port)]
        app = subprocess.Popen(command, cwd=ROOT, env=app_env, stdout=open(work / "app.log", "w"), stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        wait_http(url, app)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.set_default_timeout(180_000)
            page.goto(url)
            page.fill("#question textarea", question)
            page.press("#question textarea", "Enter")
            page.wait_for_selector("#chat .timing")
            page.wait_for_timeout(500)
            page.screenshot(path=out)
            print(page.locator("#chat .answer").last.inner_text())
            if os.environ.get("SHOT_HTML"):
                print(page.locator("#chat .answer").last.evaluate("e => e.outerHTML"))
            browser.close()
    except Exception:
        print((work / "app.log").read_text(encoding="utf-8", errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        for process in (app, server):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
