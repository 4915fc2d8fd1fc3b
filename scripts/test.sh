#!/usr/bin/env bash
# Run the whole test suite in the project's own virtual environment.
# Tests that need the local SLURM cluster skip with a visible reason unless it runs
# (start it with: bash scripts/slurm-local.sh install && bash scripts/slurm-local.sh start);
# under CI=true they fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
exec .venv/bin/python -m pytest "$@"
