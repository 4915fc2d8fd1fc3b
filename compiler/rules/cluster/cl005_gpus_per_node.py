"""A job may not ask for more GPUs than one node has.

planc's jobs run on one node (``--nodes=1``), so ``gpus`` must not exceed the partition's
``gpus_per_node`` (SLURM) or the machine's ``gpu_count`` (``local_gpu``).

Severity: error — more GPUs than one node has cannot be allocated to one job.

Failing::

    compute: {cluster: della, partition: gpu, gpus: 8}   # 4 per node

Passing::

    compute: {cluster: della, partition: pli, gpus: 8}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context, time_pos

CODE = "CL005"
NAME = "cluster-gpus-per-node"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.profile is None:
        return
    compute = getattr(cc.spec, "compute", {}) or {}
    gpus = compute.get("gpus")
    if not gpus:
        return
    line, col = time_pos(cc, "compute.gpus")
    if cc.profile.type == "local_gpu" and cc.profile.gpu_count and gpus > cc.profile.gpu_count:
        yield Finding(line, col, f"{gpus} GPUs requested; this machine has "
                      f"{cc.profile.gpu_count}")
    if cc.profile.type == "slurm":
        part = cc.profile.partition(compute.get("partition"))
        if part is not None and 0 < part.gpus_per_node < gpus:
            yield Finding(line, col, f"{gpus} GPUs requested; a node of partition "
                          f"{part.name!r} has {part.gpus_per_node}")
