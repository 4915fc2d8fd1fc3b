"""``planc run GROUP_DIR --local [--max-parallel N]``: run a compiled group's pending
stages on this machine, one free GPU per job (NVML) or CPU slots on ``cpu_only`` machines.

Scheduling, statuses and interrupt handling: :mod:`compiler.local`. On Ctrl-C the running
jobs are stopped and their stages go back to ``pending`` (``reason: interrupted``); nothing
stays ``running``. Exit codes: 0 every started stage completed, 1 a stage failed, 2 the
group cannot be run, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group_dir", metavar="GROUP_DIR", type=Path,
                   help="a compiled group folder (holds runs_status.yaml)")
    p.add_argument("--local", action="store_true", required=True,
                   help="run on this machine (SLURM submission is `planc submit`)")
    p.add_argument("--max-parallel", type=int, default=None, metavar="N",
                   help="at most N jobs at once (default: free GPUs, or CPU count)")
    p.add_argument("--min-free-gib", type=float, default=0.0, metavar="GIB",
                   help="free GPU memory a GPU needs to count as free (GiB, default 0)")
    p.add_argument("--retry-failed", action="store_true",
                   help="also run stages whose status is failed")


def run(args: argparse.Namespace) -> int:
    from ..local import LocalRunError, run_local

    if args.max_parallel is not None and args.max_parallel < 1:
        print("planc run: --max-parallel must be at least 1", file=sys.stderr)
        return 2
    statuses = ("pending", "failed") if args.retry_failed else ("pending",)

    def echo(line: str) -> None:
        print(line, flush=True)

    try:
        outcome = run_local(args.group_dir, args.max_parallel, min_free_gib=args.min_free_gib,
                            statuses=statuses, echo=echo)
    except LocalRunError as exc:
        print(f"planc run: {exc}", file=sys.stderr)
        return 2
    print(f"{len(outcome.completed)} completed, {len(outcome.failed)} failed"
          + (f", {len(outcome.missing)} without a script" if outcome.missing else ""))
    return 1 if outcome.failed else 0
