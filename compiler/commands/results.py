"""``planc results GROUP_DIR [--json]``: harvest a group's logs, store them, print summaries.

Writes ``<group>/results.json`` and per-stage ``results:`` blocks in ``runs_status.yaml``
(:func:`compiler.results.harvest_group`), then prints the result summary as markdown
(:func:`compiler.summary.render_summary`, the layout of cruijff_kit's ``summary.md``).
``--json`` prints ``results.json`` instead.

Exit codes: 0 harvested (incomplete runs are not an error), 1 some files could not be read
(listed on stderr), 2 no readable ``runs_status.yaml``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..summary import group_outcome, render_summary

__all__ = ["add_arguments", "render_summary", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group_dir", metavar="GROUP_DIR", type=Path,
                   help="a compiled group folder (holds runs_status.yaml)")
    p.add_argument("--json", action="store_true", help="print results.json instead of tables")
    p.add_argument("--no-store", action="store_true",
                   help="harvest and print without writing results.json or the tracker")


def run(args: argparse.Namespace) -> int:
    from .. import layout, tracker
    from ..results import HarvestError, harvest_group

    try:
        results = harvest_group(args.group_dir, store=not args.no_store)
        status = tracker.read(layout.status_path(Path(args.group_dir))) or {}
    except (HarvestError, tracker.TrackerError) as exc:
        print(f"planc results: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    else:
        outcome = group_outcome(args.group_dir, results, status)
        print(render_summary(results, status, outcome), end="")
        from ..results import estimate_ledger, render_ledger

        print(render_ledger(estimate_ledger(status)), end="")
    for problem in results.get("problems", []):
        print(f"warning: {problem}", file=sys.stderr)
    return 1 if results.get("problems") else 0
