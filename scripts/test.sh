#!/usr/bin/env bash
# Installs what is missing (test tools included) and runs the tests.
#   scripts/test.sh           ruff and mypy, then the whole suite: llama.cpp compiles in the background (log in
#                             .venv/llama-build.log) while every test but the llama.cpp server
#                             tests runs; then it is installed and those tests (marker llm_server) run.
#   scripts/test.sh ARGS...   pytest once with ARGS (e.g. -m "not slow" for the quick tier,
#                             -k chunking); nothing is compiled, and the llama.cpp server tests
#                             skip if it is not installed yet.
# The exit status is non-zero when any pytest run fails or collects nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test --no-llama || exit 1
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False

if [ $# -gt 0 ]; then
    .venv/bin/python -m pytest "$@"
    status=$?
    if [ $status -eq 5 ]; then
        echo "error: no tests were collected" >&2
        exit 1
    fi
    exit $status
fi

echo "==> lint: ruff (rules and format) and mypy"
.venv/bin/ruff check rag ui tests scripts || exit 1
.venv/bin/ruff format --check rag ui tests scripts || { echo "error: run .venv/bin/ruff format rag ui tests scripts" >&2; exit 1; }
.venv/bin/mypy || exit 1

log=.venv/llama-build.log
build_pid=""
stop_build() {
    # The build runs in its own process group (pip, cmake, make, the compilers): stop all of it.
    # It only ever writes a wheel into a staging folder, so stopping it cannot break the venv.
    if [ -n "$build_pid" ]; then
        kill -TERM -- "-$build_pid" 2>/dev/null
        wait "$build_pid" 2>/dev/null
        build_pid=""
    fi
}
trap 'stop_build; exit 130' INT
trap 'stop_build; exit 143' TERM
trap 'stop_build' EXIT

if bash scripts/setup.sh --llama-ready; then
    echo "==> llama.cpp is installed"
else
    echo "==> compiling llama.cpp in the background while the other tests run (log: $log)"
    set -m  # job control: the build gets its own process group, so it can be stopped as a whole
    nice -n 10 bash scripts/setup.sh --llama-wheel >"$log" 2>&1 &
    build_pid=$!
    set +m
fi

echo "==> tests (all but the llama.cpp server tests)"
.venv/bin/python -m pytest -m "not llm_server"
first=$?
if [ $first -eq 5 ]; then
    echo "error: no tests were collected" >&2
    first=1
fi

if [ -n "$build_pid" ]; then
    echo "==> waiting for the llama.cpp build (log: $log)"
    wait "$build_pid"
    built=$?
    build_pid=""
    if [ $built -ne 0 ]; then
        echo "note: the llama.cpp build failed (exit $built); last lines of $log:" >&2
        tail -n 15 "$log" >&2
    fi
fi
bash scripts/setup.sh --llama-install
llama_ok=0
bash scripts/setup.sh --llama-ready && llama_ok=1

echo "==> the llama.cpp server tests"
.venv/bin/python -m pytest -m llm_server
second=$?
if [ $second -eq 5 ]; then
    if [ $llama_ok -eq 1 ]; then
        echo "error: llama.cpp is installed but no llama.cpp server tests were collected" >&2
        second=1
    else
        echo "note: llama.cpp is not installed and no llama.cpp server tests were collected" >&2
        second=0
    fi
fi

echo "==> pytest exit statuses: $first (all but llm_server), $second (llm_server)"
[ $first -ne 0 ] && exit $first
exit $second
