"""``planc submit GROUP_DIR|PLAN [--dry-run] [--retry-failed] [--only RUN|FACTOR=LEVEL …]``:
submit to SLURM (or, for a group compiled for a local cluster, run it here);
``planc submit GROUP_DIR|PLAN --tracker research-agent [--url URL] [--token TOKEN]``:
register it with a research-agent server.

A plan path finds the group compiled from it, or compiles it first and says so
(:mod:`compiler.groups`; ``--out`` names the output folder). ``--only`` selects runs by name
or by factor level, ``--only alpha=1e-4`` (:mod:`compiler.selection`); a selected run's
evaluations still wait for its fine-tune.

Submits a compiled group's pending stages, training before evaluation, and records each
job in ``runs_status.yaml``; the policy (layouts, dependencies, retries, locking) is
:mod:`compiler.submit`. ``--dry-run`` prints the sbatch command lines instead. A group
compiled for ``cpu_only`` or ``local_gpu`` (``launch_local.sh``, no SLURM script) is run on
this machine as ``planc run GROUP --local`` runs it (``--dry-run`` prints the commands).
Exit codes: 0 submitted (or nothing to do), 1 a job was refused or a script is missing,
2 no readable ``runs_status.yaml``, no SLURM script in the folder, a plan that does not
compile, or an ``--only`` entry that selects nothing.

With ``--tracker research-agent`` the group's plan, sweep and runs are created on the
server (``--url`` or ``$RESEARCH_AGENT_URL``; ``--token`` or ``$RESEARCH_AGENT_TOKEN``,
never written to a file), once: a second submission creates nothing that is still there
(:mod:`compiler.research_agent`). Prints ``created``/``kept``/``updated``/``pushed`` lines.
Exit codes: 0 done, 1 the server refused a request part-way (what was created is
recorded), 2 the server cannot be reached or refuses the token (nothing was created), or
the group folder is unreadable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _common

if TYPE_CHECKING:
    from ..submit import submit_group

__all__ = ["add_arguments", "run", "submit_group"]


def __getattr__(name: str) -> Any:
    # re-exported lazily: building the parser (rule CM008) must not import the backends
    if name == "submit_group":
        from ..submit import submit_group

        return submit_group
    raise AttributeError(name)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group", metavar="GROUP_DIR|PLAN", help=_common.TARGET_HELP)
    p.add_argument("--dry-run", "-n", action="store_true",
                   help="print the sbatch command lines; submit and change nothing")
    p.add_argument("--retry-failed", action="store_true",
                   help="also resubmit failed stages (and the evaluations of a failed fine-tune)")
    _common.add_only(p)
    p.add_argument("--max-queued", type=int, metavar="N", default=None,
                   help="at most N of the group's jobs pending or running at once (a QoS "
                   "MaxSubmitJobsPerUser); the rest are held and submitted by the next "
                   "planc submit or planc status --sync")
    p.add_argument("--tracker", choices=("slurm", "research-agent"), default="slurm",
                   help="where to submit: SLURM (default), or a research-agent tracking "
                   "server (creates the plan, sweep and runs there once)")
    p.add_argument("--url", metavar="URL", help="research-agent server (default: "
                   "$RESEARCH_AGENT_URL)")
    p.add_argument("--token", metavar="TOKEN", help="research-agent token (default: "
                   "$RESEARCH_AGENT_TOKEN; prefer the variable: arguments are visible in ps)")
    _common.add_out(p)


def run(args: argparse.Namespace) -> int:
    from .. import layout, tracker
    from ..submit import NotSlurmGroup, submit_group

    target = _common.resolve("submit", args.group, args.out,
                             compile_missing=not args.dry_run)
    if target is None:
        return 2
    group = target.group
    if not group.is_dir():
        print(f"planc submit: {group} is not a folder", file=sys.stderr)
        return 2
    if args.tracker == "research-agent":
        return _to_tracker(group, args)
    only = _common.selected("submit", target, args.only)
    if only is None:
        return 2
    try:
        if args.max_queued is not None and args.max_queued < 1:
            print("planc submit: --max-queued must be at least 1", file=sys.stderr)
            return 2
        report = submit_group(group, dry_run=args.dry_run, retry_failed=args.retry_failed,
                              only=only, max_queued=args.max_queued)
    except NotSlurmGroup as exc:
        if (group / layout.LAUNCH_LOCAL).is_file():
            return _here(group, args, only)
        print(f"planc submit: {exc}", file=sys.stderr)
        return 2
    except tracker.TrackerError as exc:
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
    for run_name, key, job_id, _why in report.unrecorded:
        print(f"submitted {job_id}: {run_name}/{key} (NOT RECORDED in runs_status.yaml)")
    if report.queued:
        print(f"queued {len(report.queued)} stage(s) for later (--max-queued): planc submit "
              "or planc status --sync submits them as jobs finish")
    if report.limited:
        print(f"the cluster's submit limit was reached before --max-queued ({report.limited}):"
              " your other jobs count too; the rest stays queued")
    for run_name, key, why in report.skipped:
        print(f"not submitted {run_name}/{key}: {why}", file=sys.stderr)
    for err in report.errors:
        print(f"planc submit: {err}", file=sys.stderr)
    n_stages = sum(len(j.stages) for j in report.jobs)
    verb = "would submit" if args.dry_run else "submitted"
    print(f"{verb} {len(report.jobs)} job(s) covering {n_stages} stage(s)", file=sys.stderr)
    return 2 if report.unrecorded else 1 if report.errors else 0


def _here(group: Path, args: argparse.Namespace, only: list[str]) -> int:
    """A group compiled for a local cluster: run it on this machine (``planc run``)."""
    from .. import layout, tracker
    from ..local import plan_jobs
    from .run import run_here

    print(f"planc submit: {group} was compiled for this machine (it has "
          f"{layout.LAUNCH_LOCAL}): running its stages here, as planc run --local does",
          file=sys.stderr)
    if not args.dry_run:
        return run_here("submit", group, retry_failed=args.retry_failed, only=only,
                        missing_fails=True)
    statuses = ("pending", "failed") if args.retry_failed else ("pending",)
    try:
        data = tracker.read(layout.status_path(group)) or {}
    except tracker.TrackerError as exc:
        print(f"planc submit: {exc}", file=sys.stderr)
        return 2
    jobs, missing = plan_jobs(group.resolve(), data, statuses, only)
    import shlex

    for job in jobs:
        print(f"cd {shlex.quote(str(job.cwd))} && {shlex.join(job.argv)}")
    for label in missing:
        print(f"planc submit: {label}: no compiled script", file=sys.stderr)
    print(f"would run {len(jobs)} stage(s) on this machine", file=sys.stderr)
    return 1 if missing else 0


def _to_tracker(group: Path, args: argparse.Namespace) -> int:
    from .. import research_agent, tracker

    report = None
    try:
        client = research_agent.client_from(args.url, args.token)
        report = research_agent.submit_group(group, client)
    except research_agent.ServerError as exc:
        report = exc.report
        code, message = (2 if exc.fatal else 1), str(exc)
    except tracker.TrackerError as exc:
        code, message = 2, str(exc)
    else:
        code, message = 0, ""
    if report is not None:
        for what, name, obj_id in report.created:
            print(f"created {what} {name} {obj_id}")
        for what, name, change in report.updated:
            print(f"updated {what} {name}: {change}")
        for name, status in report.pushed:
            print(f"pushed run {name}: {status}")
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"research-agent {report.url}: created {len(report.created)} object(s), "
              f"kept {len(report.kept)}", file=sys.stderr)
    if message:
        print(f"planc submit: {message}", file=sys.stderr)
        if report is not None and report.created:
            print("planc submit: what was created is recorded; submit again to finish",
                  file=sys.stderr)
    return code
