"""``planc results GROUP_DIR|PLAN [--json]``: harvest a group's logs, store them, print
summaries. A plan path names the group compiled from it (:mod:`compiler.groups`).

Writes ``<group>/results.json`` and per-stage ``results:`` blocks in ``runs_status.yaml``
(:func:`compiler.results.harvest_group`), then prints the result summary as markdown
(:func:`compiler.summary.render_summary`, the layout of cruijff_kit's ``summary.md``).
``--json`` prints ``results.json`` instead.

Exit codes: 0 harvested (incomplete runs are not an error), 1 some files could not be read
(listed on stderr), 2 no readable ``runs_status.yaml`` (or a plan with no compiled group).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _common

if TYPE_CHECKING:
    from ..summary import render_summary

__all__ = ["add_arguments", "render_summary", "run"]


def __getattr__(name: str) -> Any:
    if name == "render_summary":  # lazily: building the parser (rule CM008) stays light
        from ..summary import render_summary

        return render_summary
    raise AttributeError(name)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group_dir", metavar="GROUP_DIR|PLAN", help=_common.TARGET_HELP)
    p.add_argument("--json", action="store_true", help="print results.json instead of tables")
    p.add_argument("--no-store", action="store_true",
                   help="harvest and print without writing results.json or the tracker")
    _common.add_out(p)
    p.add_argument("--efficiency", action="store_true",
                   help="add each stage's efficiency from sacct (time, MaxRSS, CPU) and "
                   "torchtune's peak GPU memory; stored as efficiency.json")


def run(args: argparse.Namespace) -> int:
    from .. import layout, tracker
    from ..results import HarvestError, harvest_group
    from ..summary import group_outcome, render_summary

    target = _common.resolve("results", args.group_dir, args.out)
    if target is None:
        return 2
    group = target.group
    try:
        results = harvest_group(group, store=not args.no_store)
        status = tracker.read(layout.status_path(Path(group))) or {}
    except (HarvestError, tracker.TrackerError) as exc:
        print(f"planc results: {exc}", file=sys.stderr)
        return 2
    eff = _efficiency(Path(args.group_dir), store=not args.no_store) \
        if args.efficiency else None
    if args.json:
        print(json.dumps(results if eff is None else {**results, "efficiency": eff},
                         indent=2, ensure_ascii=False, default=str))
    else:
        outcome = group_outcome(group, results, status)
        print(render_summary(results, status, outcome), end="")
        if eff is not None:
            from ..efficiency import format_report

            print("\n".join(format_report(eff)))
        from ..results import estimate_ledger, render_ledger

        print(render_ledger(estimate_ledger(status)), end="")
    for problem in results.get("problems", []):
        print(f"warning: {problem}", file=sys.stderr)
    return 1 if results.get("problems") else 0


def _efficiency(group: Path, *, store: bool) -> dict:
    """:func:`compiler.efficiency.group_report`, written to ``<group>/efficiency.json``."""
    from ..efficiency import group_report, store_report

    report = group_report(group)
    if store:
        store_report(group, report)
    return report
