#!/usr/bin/env bash
# Set up (first run only) and open Reward Studio on the default workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/reward-studio --workspace workspaces/default "$@"
