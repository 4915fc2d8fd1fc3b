"""A plan's partition must be one of the cluster profile's partitions.

Severity: error — a partition the cluster does not have cannot be submitted to.

Failing::

    compute: {cluster: della, partition: gpu-large}

Passing::

    compute: {cluster: della, partition: gpu}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context, time_pos

CODE = "CL002"
NAME = "cluster-partition"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.profile is None or cc.profile.type != "slurm":
        return
    compute = getattr(cc.spec, "compute", {}) or {}
    evalc = getattr(cc.spec, "eval_compute", {}) or {}
    known = [p.name for p in cc.profile.partitions]
    for key, value in (("compute.partition", compute.get("partition")),
                       ("compute.eval.partition", evalc.get("partition"))):
        if value and value not in known:
            line, col = time_pos(cc, key)
            yield Finding(line, col, f"partition {value!r} is not in cluster profile "
                          f"{cc.name!r} (partitions: {', '.join(known) or 'none'})")
