#!/usr/bin/env bash
# Create (once) and update the project's virtual environment in .venv.
#   bash scripts/venv.sh            core + test extras (what the test suite needs)
#   PLANC_EXTRAS=site bash scripts/venv.sh
# torch is pinned and installed first so that pip never resolves a CUDA build
# (../shared/reference/toolchain.md §3: torchtune declares no torch dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras=${PLANC_EXTRAS:-test}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.planc-installed-$extras
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$extras" = test ]; then
    .venv/bin/python -m pip install -q "torch==2.13.0"
  fi
  .venv/bin/python -m pip install -q -e ".[$extras]"
  touch "$stamp"
fi
