#!/usr/bin/env bash
# Set up (first run only), check style and the layer contracts, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen MUJOCO_GL=${MUJOCO_GL:-osmesa}
echo "== ruff"
.venv/bin/ruff check studio plugins tests
echo "== import contracts"
.venv/bin/lint-imports
echo "== mypy --strict (core, sim, train, store, export)"
.venv/bin/mypy
echo "== tests"
.venv/bin/python -m pytest -p no:cacheprovider "$@"
