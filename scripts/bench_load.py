"""Load test of ``rag serve``: concurrent clients, each a multi-turn conversation, over the API and the app.

Starts ``rag serve`` on a free 127.0.0.1 port (over a copy of ``--index-dir``,
or an index built from seeds/ on first start) unless ``--url`` names a running
one, then runs ``--clients`` threads for ``--duration`` seconds per target:

* ``api``: ``POST /v1/chat/completions`` with the conversation so far (the openai wire format);
* ``app``: the app's own Gradio endpoint (``/ask``) through ``gradio_client``, one session per conversation.

Each conversation is ``--turns`` questions of eval/seed_qa.jsonl. Before the
load, every (conversation, turn) is answered once, alone: the reference. Under
load, a response whose cited passages differ from its reference, or an app
session whose chat holds another conversation's question, counts as cross-talk (in the llm
answer mode, whose answers may vary run to run, only the latter is checked).
Prints one table row per target: requests/s, p50/p95/max latency, errors, cross-talk, and the
CPU time per request of the server and of this script's clients (which share the machine), and
writes the table into docs/benchmarks.md between the ``<!-- load -->`` markers
(``<!-- load-llm -->`` with ``--answer-mode llm``; scripts/benchdoc.py):

    .venv/bin/python scripts/bench_load.py [--clients 20] [--duration 60] [--targets api,app] [--answer-mode extractive|llm] [--no-write]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdoc import add_write_options, command, publish, today  # noqa: E402  (scripts/ is on the path when a script runs)

from ui.llm_server import free_port  # noqa: E402

QUESTIONS = ROOT / "eval" / "seed_qa.jsonl"
STARTUP_S = 600
CONNECT_TIMEOUT_S = 120
#: A request slower than this counts as an error.
REQUEST_TIMEOUT_S = 120
#: How each target is named in the table.
ROUTES = {"api": "API `/v1/chat/completions`", "app": "app (Gradio `/ask`, `gradio_client`)"}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float | None, error: str = "", crosstalk: str = "") -> None:
        with self.lock:
            if seconds is not None:
                self.latencies.append(seconds)
            if error:
                self.errors.append(error)
            if crosstalk:
                self.crosstalk.append(crosstalk)


def conversations(clients: int, turns: int) -> list[list[str]]:
    """One conversation per client: ``turns`` answerable seed questions, a different run for each client."""
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pool = [r["question"] for r in rows if r.get("answerable", True)]
    return [[pool[(c * turns + t) % len(pool)] for t in range(turns)] for c in range(clients)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc), for a figure the shared machine's load does not skew."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------------------- the server


def start_server(index_dir: Path | None, work: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    target = work / "index"
    if index_dir is not None and (index_dir / "CURRENT").exists():
        shutil.copytree(index_dir, target, ignore=shutil.ignore_patterns("eval-cache", "uploads"))
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1,localhost", **env_extra}
    env.pop("RAG_API_KEYS", None)
    log = open(work / "server.log", "wb")  # noqa: SIM115 - open while the server runs
    command = [sys.executable, "-m", "ui.cli", "--index-dir", str(target), "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{(work / 'server.log').read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            raise SystemExit("the server did not start in time")
        time.sleep(0.5)


# --------------------------------------------------------------------------- the two ways in


def api_asker(base: str, answer_mode: str) -> Callable[[list[str]], Callable[[str], tuple[list[str], list[str]]]]:
    """A conversation over the API: each call sends the messages so far; (cited passages, user questions seen)."""
    import httpx

    client = httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S, trust_env=False, limits=httpx.Limits(max_connections=64))

    def start(conversation: list[str]) -> Callable[[str], tuple[list[str], list[str]]]:
        messages: list[dict[str, str]] = []

        def ask(question: str) -> tuple[list[str], list[str]]:
            messages.append({"role": "user", "content": question})
            response = client.post("/v1/chat/completions", json={"model": "bench", "messages": messages, "answer_mode": answer_mode})
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
            data = response.json()
            messages.append({"role": "assistant", "content": data["choices"][0]["message"]["content"]})
            return [f"{c['doc']}#{c['paragraph']}" for c in data["citations"]], [m["content"] for m in messages if m["role"] == "user"]

        return ask

    return start


def app_asker(base: str, answer_mode: str) -> Callable[[list[str]], Callable[[str], tuple[list[str], list[str]]]]:
    """A conversation through the app's Gradio endpoint, one browser session (gradio_client) per conversation."""
    from gradio_client import Client

    def start(conversation: list[str]) -> Callable[[str], tuple[list[str], list[str]]]:
        client = Client(base + "/", verbose=False)

        def ask(question: str) -> tuple[list[str], list[str]]:
            job = client.submit(question, 5, "hybrid", False, answer_mode, api_name="/ask")
            chat, sources, _ = job.result(timeout=REQUEST_TIMEOUT_S)
            users = [_text(m["content"]) for m in chat if m["role"] == "user"]
            turn = len(users) - 1
            cards = re.findall(rf'<article class="source-card [^"]*"[^>]*? data-turn="{turn}" data-doc="([^"]*)" data-para="(\d+)"', sources)
            return [f"{html.unescape(doc)}#{int(para) + 1}" for doc, para in cards], users

        return ask

    return start


def _text(content: object) -> str:
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return html.unescape(re.sub(r"<[^>]+>", "", str(content))).strip()


# --------------------------------------------------------------------------- the run


def references(start: Callable[[list[str]], Callable[[str], tuple[list[str], list[str]]]], talks: list[list[str]]) -> dict[tuple[int, int], list[str]]:
    """Each turn of each conversation answered alone, before the load: what every response must cite."""
    expected = {}
    for c, talk in enumerate(talks):
        ask = start(talk)
        for t, question in enumerate(talk):
            expected[(c, t)] = ask(question)[0]
    return expected


def run(
    start: Callable[[list[str]], Callable[[str], tuple[list[str], list[str]]]],
    talks: list[list[str]],
    expected: dict[tuple[int, int], list[str]],
    duration: float,
) -> tuple[Tally, float]:
    tally = Tally()
    stop = time.monotonic() + duration

    def client(c: int) -> None:
        talk = talks[c]
        while time.monotonic() < stop:
            try:
                ask = start(talk)
            except Exception as exc:  # a session that cannot open is an error, like a failed request
                tally.add(None, f"connect: {exc.__class__.__name__}: {exc}")
                continue
            for t, question in enumerate(talk):
                if time.monotonic() >= stop:
                    return
                began = time.perf_counter()
                try:
                    cited, users = ask(question)
                except Exception as exc:  # every failure is counted, never raised
                    tally.add(time.perf_counter() - began, f"{exc.__class__.__name__}: {exc}"[:200])
                    break
                wrong = ""
                if users != talk[: t + 1]:
                    wrong = f"conversation {c} turn {t}: the chat holds {users}"
                elif (c, t) in expected and cited != expected[(c, t)]:
                    wrong = f"conversation {c} turn {t}: cited {cited}, alone {expected[(c, t)]}"
                tally.add(time.perf_counter() - began, crosstalk=wrong)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(len(talks))]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    end = began + duration + REQUEST_TIMEOUT_S  # every request is bounded by REQUEST_TIMEOUT_S
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return tally, min(time.monotonic() - began, duration + REQUEST_TIMEOUT_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running `rag serve` (default: start one on 127.0.0.1)")
    parser.add_argument("--index-dir", default=str(ROOT / "index"), help="index copied for the server it starts (built from seeds/ when absent)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per target")
    parser.add_argument("--turns", type=int, default=3, help="questions per conversation")
    parser.add_argument("--targets", default="api,app", help="api, app or both (comma-separated)")
    parser.add_argument("--answer-mode", default="extractive", choices=("extractive", "llm"))
    add_write_options(parser, None, "load, or load-llm with --answer-mode llm")
    args = parser.parse_args()
    if args.section is None:
        args.section = "load" if args.answer_mode == "extractive" else f"load-{args.answer_mode}"
    if args.clients < 1 or args.clients > 200 or args.duration <= 0 or args.duration > 600:
        raise SystemExit("--clients must lie in 1..200 and --duration in (0, 600]: the load stays bounded")

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    process = None
    try:
        if args.url:
            base = args.url.rstrip("/")
            if not re.match(r"https?://(127\.0\.0\.1|localhost)(:\d+)?$", base):
                raise SystemExit("--url must be a 127.0.0.1 address: this script sends load only to this machine")
        else:
            process, base = start_server(Path(args.index_dir), work, {"RAG_SEEDS_DIR": str(ROOT / "seeds")})
        talks = conversations(args.clients, args.turns)
        askers = {"api": api_asker, "app": app_asker}
        load = os.getloadavg()[0]
        table = [
            "| route | answers | clients | seconds | requests | requests/s | p50 s | p95 s | max s | errors | cross-talk | server CPU ms/request | client CPU ms/request |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        print("\n".join(table), flush=True)
        for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
            start = askers[target](base, args.answer_mode)
            # a model's answers may differ run to run, so in the llm mode only the app's sessions are checked
            expected = references(start, talks) if args.answer_mode == "extractive" else {}
            server_cpu = cpu_seconds(process.pid) if process is not None else float("nan")
            own_cpu = time.process_time()
            tally, elapsed = run(start, talks, expected, args.duration)
            n = len(tally.latencies)
            server_ms = (cpu_seconds(process.pid) - server_cpu) * 1000 / max(1, n) if process is not None else float("nan")
            client_ms = (time.process_time() - own_cpu) * 1000 / max(1, n)
            table.append(
                f"| {ROUTES.get(target, target)} | {args.answer_mode} | {args.clients} | {elapsed:.0f} | {n} | {n / elapsed:.1f} | "
                f"{percentile(tally.latencies, 0.5):.2f} | {percentile(tally.latencies, 0.95):.2f} | "
                f"{max(tally.latencies, default=float('nan')):.2f} | {len(tally.errors)} | "
                f"{len(tally.crosstalk) if expected or target == 'app' else 'n/a'} | "
                f"{server_ms:.0f} | {client_ms:.0f} |"
            )
            print(table[-1], flush=True)
            for line in tally.errors[:5] + tally.crosstalk[:5]:
                print(f"  {target}: {line}", file=sys.stderr)
        server = f"the server at {base}" if args.url else f"the server started on 127.0.0.1 over a copy of `{Path(args.index_dir).name}/`"
        text = (
            f"Measured on {today()} with `{command()}` ({os.cpu_count()} cores, 1-minute load average {load:.1f} before the run; "
            f"{server}, the {args.clients} clients on the same machine; each client is a {args.turns}-turn conversation of seed "
            f"questions, started again when done; a request is given up after {REQUEST_TIMEOUT_S} s).\n\n" + "\n".join(table) + "\n"
        )
        publish(args, text)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
