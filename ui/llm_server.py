"""``rag llm serve``: run a local llama.cpp server for the generative answer mode.

A front-end concern, not the library's: the library only needs an
OpenAI-compatible URL (``RAG_LLM_BASE_URL``); this starts one on this machine
from a ``.gguf`` file or a model package, and prints the settings that use it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from rag import LLMError

INSTALL_HINT = "pip install '.[local-llm]'  (or: CMAKE_ARGS=\"-DLLAVA_BUILD=OFF\" pip install 'llama-cpp-python[server]')"
#: Seconds ``rag llm serve`` waits for the server to answer before giving up.
READY_TIMEOUT_S = 120.0
#: Context length the server is started with: four passages, the example and the answer fit.
CONTEXT_TOKENS = 4096




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
    model: str, host: str = "127.0.0.1", port: int = 8080, threads: int = 2, n_ctx: int = CONTEXT_TOKENS, log: IO[str] | None = None
) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start ``python -m llama_cpp.server`` for ``model``; returns the process and the RAG_* settings to use.

    It listens on ``host`` (loopback by default: the server has no authentication).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMError(f"llama-cpp-python is not installed: {INSTALL_HINT}")
    path, alias = resolve_model(model)
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", alias,
        "--host", host, "--port", str(port), "--n_threads", str(threads), "--n_ctx", str(n_ctx),
    ]
    output = log if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT if log is not None else output)
    env = {"RAG_ANSWER_MODE": "llm", "RAG_LLM_BASE_URL": f"http://{host}:{port}/v1", "RAG_LLM_MODEL": alias}
    return process, env


def wait_ready(base_url: str, process: subprocess.Popen | None = None, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Block until ``GET {base_url}/models`` answers; an ``LLMError`` if the server dies or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise LLMError(f"the model server exited with status {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise LLMError(f"the model server at {base_url} was not ready within {timeout_s:g} s")


def serve_forever(model: str, host: str = "127.0.0.1", port: int = 8080, threads: int = 2) -> int:
    """``rag llm serve``: run the local server in the foreground and print the settings that use it."""
    process, env = serve_local(model, host, port, threads, log=sys.stderr)
    try:
        wait_ready(env["RAG_LLM_BASE_URL"], process)
        print("The model server is ready. Use it with:\n  " + " ".join(f"{k}={v}" for k, v in env.items()), flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
