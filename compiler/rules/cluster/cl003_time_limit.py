"""A job's time limit must fit its partition's maximum (``max_time``).

Checked for every fine-tune and evaluation job (the plan's ``compute.time``, or the time
planc derives from the estimate). SLURM rejects or never starts a job over the limit.

Severity: error — SLURM refuses (or never starts) a job whose time limit exceeds its
partition's maximum.

Failing::

    compute: {cluster: della, partition: gpu-short, time: "04:00:00"}   # max 01:00:00

Passing::

    compute: {cluster: della, partition: gpu, time: "04:00:00"}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context, time_pos

CODE = "CL003"
NAME = "cluster-time-limit"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None or cc.profile.type != "slurm":
        return
    from ...models.cluster import parse_slurm_time  # pydantic: only with a cluster profile

    seen: set[tuple[str, str, str]] = set()
    for run in cc.matrix.runs:
        jobs = [("fine-tune", run.train, "compute.time")] if run.kind != "control" else []
        if run.evaluations:
            jobs.append(("evaluation", run.eval, "compute.eval.time"))
        for what, res, key in jobs:
            part = cc.profile.partition(res.partition)
            if part is None or not part.max_time:
                continue
            if parse_slurm_time(res.time) > parse_slurm_time(part.max_time):
                if (what, res.time, part.name) in seen:
                    continue
                seen.add((what, res.time, part.name))
                line, col = time_pos(cc, key)
                yield Finding(line, col, f"{what} time {res.time} of run {run.name} exceeds "
                              f"the limit of partition {part.name!r} ({part.max_time})",
                              "ask for less time, split the epochs, or pick a partition "
                              "with a longer limit")
