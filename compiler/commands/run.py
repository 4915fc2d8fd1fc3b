"""``planc run GROUP_DIR|PLAN --local [--max-parallel N] [--only RUN|FACTOR=LEVEL …]``: run
a compiled group's pending stages on this machine, one free GPU per job (NVML) or CPU slots
on ``cpu_only`` machines.

A plan path finds the group compiled from it, or compiles it first (:mod:`compiler.groups`);
``--only`` selects runs by name or factor level (:mod:`compiler.selection`). Scheduling,
statuses and interrupt handling: :mod:`compiler.local`. On Ctrl-C the running jobs are
stopped and their stages go back to ``pending`` (``reason: interrupted``); nothing stays
``running``. Exit codes: 0 every started stage completed, 1 a stage failed, 2 the group
cannot be run (or an ``--only`` entry selects nothing), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import _common


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group_dir", metavar="GROUP_DIR|PLAN", help=_common.TARGET_HELP)
    p.add_argument("--local", action="store_true", required=True,
                   help="run on this machine (SLURM submission is `planc submit`)")
    p.add_argument("--max-parallel", type=int, default=None, metavar="N",
                   help="at most N jobs at once (default: free GPUs, or CPU count)")
    p.add_argument("--min-free-gib", type=float, default=0.0, metavar="GIB",
                   help="free GPU memory a GPU needs to count as free (GiB, default 0)")
    p.add_argument("--retry-failed", action="store_true",
                   help="also run stages whose status is failed")
    _common.add_only(p)
    _common.add_out(p)


def run(args: argparse.Namespace) -> int:
    if args.max_parallel is not None and args.max_parallel < 1:
        print("planc run: --max-parallel must be at least 1", file=sys.stderr)
        return 2
    target = _common.resolve("run", args.group_dir, args.out, compile_missing=True)
    if target is None:
        return 2
    only = _common.selected("run", target, args.only)
    if only is None:
        return 2
    return run_here("run", target.group, max_parallel=args.max_parallel,
                    min_free_gib=args.min_free_gib, retry_failed=args.retry_failed, only=only)


def run_here(cmd: str, group: Path, *, max_parallel: int | None = None,
             min_free_gib: float = 0.0, retry_failed: bool = False,
             only: list[str] | None = None, missing_fails: bool = False) -> int:
    """Run ``group``'s due stages here (:func:`compiler.local.run_local`) and print the
    outcome; the exit code (also ``planc submit`` of a group compiled for a local cluster,
    where a stage without a script fails the command, as a missing SLURM script does)."""
    from ..local import LocalRunError, run_local

    statuses = ("pending", "failed") if retry_failed else ("pending",)

    def echo(line: str) -> None:
        print(line, flush=True)

    try:
        outcome = run_local(group, max_parallel, min_free_gib=min_free_gib,
                            statuses=statuses, only=only or (), echo=echo)
    except LocalRunError as exc:
        print(f"planc {cmd}: {exc}", file=sys.stderr)
        return 2
    print(f"{len(outcome.completed)} completed, {len(outcome.failed)} failed"
          + (f", {len(outcome.missing)} without a script" if outcome.missing else ""))
    return 1 if outcome.failed or (missing_fails and outcome.missing) else 0
