"""A job may not ask for more CPUs than one node of its partition has.

planc's jobs run one task on one node, so ``cpus`` (``--cpus-per-task``) must not exceed
the partition's ``cpus_per_node`` (sinfo ``%c``). SLURM rejects such a job at submission.

Severity: error — the job cannot run as written: sbatch refuses it.

Failing::

    compute: {cluster: fx-gpu, partition: gpu, cpus: 500}   # 64-core nodes

Passing::

    compute: {cluster: fx-gpu, partition: gpu, cpus: 16}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._jobs import jobs, pos
from ._shared import cluster_context

CODE = "CL009"
NAME = "cluster-node-cpus"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None or cc.profile.type != "slurm":
        return
    seen: set[tuple[int, int, object]] = set()
    for what, run, res, key in jobs(cc.matrix):
        part = cc.profile.partition(res.partition)
        if part is None or not part.cpus_per_node:
            continue
        line, col = pos(cc, key, "cpus")
        if res.cpus_per_task > part.cpus_per_node and \
                (line, col, res.cpus_per_task) not in seen:
            seen.add((line, col, res.cpus_per_task))
            yield Finding(line, col, f"{what} of run {run} asks for {res.cpus_per_task} CPUs; "
                          f"a node of partition {part.name!r} has {part.cpus_per_node}",
                          f"ask for at most {part.cpus_per_node} CPUs")
