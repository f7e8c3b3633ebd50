#!/usr/bin/env bash
# Install PolicyWise and serve the bundled corpus (pre-built index in data/index) at http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/policywise serve
