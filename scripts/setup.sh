#!/usr/bin/env bash
# Installs everything on a fresh Debian/Ubuntu machine with Python 3.11, then builds the
# offline embedding model. Safe to rerun: each step is skipped when already done.
#   scripts/setup.sh          the app
#   scripts/setup.sh --test   the app plus the test tools (Chromium, CJK fonts, Playwright, llama.cpp)
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False PIP_DISABLE_PIP_VERSION_CHECK=1

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if sudo -n true 2>/dev/null; then sudo="sudo"; else
            echo "note: cannot install ${missing[*]} without root; the tests that need them will be skipped" >&2
            return 0
        fi
    fi
    echo "==> apt-get install ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

if [ $want_tests -eq 1 ] && command -v apt-get >/dev/null; then
    apt_install chromium fonts-noto-cjk
fi

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    python3 -m venv .venv
fi
pip=(.venv/bin/python -m pip install -q)
# The CPU build of torch first: otherwise a dependency pulls a multi-GB CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || { echo "==> installing torch (CPU)"; "${pip[@]}" torch==2.13.0; }
echo "==> installing the product"
if [ $want_tests -eq 1 ]; then "${pip[@]}" -e ".[test,eval,llm]"; else "${pip[@]}" -e .; fi
if [ $want_tests -eq 1 ] && ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    # The generative-mode tests talk to a real llama.cpp server; compiling it takes minutes the first time.
    echo "==> building llama.cpp (local-llm extra, a few minutes the first time)"
    CMAKE_ARGS="-DLLAVA_BUILD=OFF" "${pip[@]}" -e ".[local-llm]" \
        || echo "note: llama-cpp-python did not install; the local-model tests will be skipped" >&2
fi

echo "==> the offline embedding model"
.venv/bin/rag model build >/dev/null
