#!/usr/bin/env bash
# Installs what is missing, builds the model and the seed index on first run, and starts the app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
exec .venv/bin/rag serve "$@"
