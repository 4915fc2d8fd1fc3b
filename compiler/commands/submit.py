"""``planc submit GROUP_DIR [--dry-run] [--retry-failed] [--only RUN ...]``: submit to SLURM.

Submits a compiled group's pending stages, training before evaluation, and records each
job in ``runs_status.yaml``; the policy (layouts, dependencies, retries, locking) is
:mod:`compiler.submit`. ``--dry-run`` prints the sbatch command lines instead.
Exit codes: 0 submitted (or nothing to do), 1 a job was refused or a script is missing,
2 no readable ``runs_status.yaml`` or no SLURM script in the folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import layout, tracker
from ..submit import NotSlurmGroup, submit_group

__all__ = ["add_arguments", "run", "submit_group"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group", metavar="GROUP_DIR", help="a compiled group folder (holds "
                   "runs_status.yaml)")
    p.add_argument("--dry-run", "-n", action="store_true",
                   help="print the sbatch command lines; submit and change nothing")
    p.add_argument("--retry-failed", action="store_true",
                   help="also resubmit failed stages (and the evaluations of a failed fine-tune)")
    p.add_argument("--only", nargs="+", action="extend", metavar="RUN", default=[],
                   help="submit only these runs")


def run(args: argparse.Namespace) -> int:
    group = Path(args.group)
    if group.name == layout.STATUS_FILE:
        group = group.parent
    if not group.is_dir():
        print(f"planc submit: {group} is not a folder", file=sys.stderr)
        return 2
    try:
        report = submit_group(group, dry_run=args.dry_run, retry_failed=args.retry_failed,
                              only=args.only)
    except (tracker.TrackerError, NotSlurmGroup) as exc:
        print(f"planc submit: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for command in report.commands:
            print(command)
    else:
        for job in report.jobs:
            stages = ", ".join(f"{r}/{k}" for r, k in job.stages)
            dep = f" (after {job.dependency})" if job.dependency else ""
            print(f"submitted {job.job_id}: {stages}{dep}")
    for run_name, key, why in report.skipped:
        print(f"not submitted {run_name}/{key}: {why}", file=sys.stderr)
    for err in report.errors:
        print(f"planc submit: {err}", file=sys.stderr)
    n_stages = sum(len(j.stages) for j in report.jobs)
    verb = "would submit" if args.dry_run else "submitted"
    print(f"{verb} {len(report.jobs)} job(s) covering {n_stages} stage(s)", file=sys.stderr)
    return 1 if report.errors else 0
