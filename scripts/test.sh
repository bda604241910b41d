#!/usr/bin/env bash
# Installs what is missing (test tools included) and runs the whole test suite.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
.venv/bin/python -m pytest "$@"
status=$?
if [ $status -eq 5 ]; then
    echo "error: no tests were collected" >&2
    exit 1
fi
exit $status
