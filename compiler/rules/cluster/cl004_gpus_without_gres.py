"""GPUs may only be requested where the cluster has them.

A job asking for GPUs (``--gres=gpu:N``) on a partition with ``gpus_per_node: 0``, or on a
``cpu_only`` profile, never starts (or fails at submission).

Severity: error — GPUs requested where the cluster has none cannot be allocated; the job
cannot run as written.

Failing::

    compute: {cluster: della, partition: cpu, gpus: 1}

Passing::

    compute: {cluster: della, partition: gpu, gpus: 1}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context, time_pos

CODE = "CL004"
NAME = "cluster-gpus-unavailable"
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
    if cc.profile.type == "cpu_only":
        yield Finding(line, col, f"{gpus} GPU(s) requested on cluster profile {cc.name!r}, "
                      "which is cpu_only")
        return
    if cc.profile.type == "slurm":
        part = cc.profile.partition(compute.get("partition"))
        if part is not None and part.gpus_per_node == 0:
            yield Finding(line, col, f"{gpus} GPU(s) requested (--gres=gpu:{gpus}) on "
                          f"partition {part.name!r}, which has no GPUs")
