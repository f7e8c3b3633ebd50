#!/usr/bin/env bash
# Install PolicyWise and run it on the bundled corpus (pre-built index in data/index).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/policywise search "how many vacation days do I get"
