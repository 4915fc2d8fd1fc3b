#!/usr/bin/env bash
# The main job on the shipped plans: lint plans/, compile every compilable plan (run groups
# and plans with a command) into build/plans/, and build the site into build/site/.
set -euo pipefail
cd "$(dirname "$0")/.."
PLANC_EXTRAS=${PLANC_EXTRAS:-site} bash scripts/venv.sh
planc=.venv/bin/planc

echo "== lint plans/"
"$planc" lint plans/

echo "== compile into build/plans/"
mapfile -t compilable < <(grep -rlE --include='*.md' '^(# Run Plan:|command:)' plans/ | sort)
"$planc" compile --out build/plans "${compilable[@]}"

echo "== site into build/site/"
"$planc" site build --site-dir build/site
echo "Open build/site/index.html in a browser (or run: .venv/bin/planc site serve)."
