#!/usr/bin/env bash
# The main job on the shipped plans: lint plans/, compile every plan into build/plans/,
# and build the site into build/site/ (open build/site/index.html).
set -euo pipefail
cd "$(dirname "$0")/.."
PLANC_EXTRAS=${PLANC_EXTRAS:-site} bash scripts/venv.sh
.venv/bin/planc lint plans/
