"""A job may not ask for more memory than one node of its partition has.

planc's jobs run on one node, so ``mem`` (``--mem``, per node) must not exceed the
partition's ``mem_per_node`` (``planc cluster detect`` reads it from sinfo ``%m``, the node's
RealMemory in MB). SLURM rejects such a job at submission ("Requested node configuration is
not available").

Severity: error — the job cannot run as written: sbatch refuses it.

Failing::

    compute: {cluster: fx-gpu, partition: gpu, mem: 4000G}   # nodes have 1000G

Passing::

    compute: {cluster: fx-gpu, partition: gpu, mem: 500G}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._jobs import jobs, pos
from ._shared import cluster_context

CODE = "CL008"
NAME = "cluster-node-memory"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None or cc.profile.type != "slurm":
        return
    from ...models.cluster import parse_mem_mib

    seen: set[tuple[int, int, object]] = set()
    for what, run, res, key in jobs(cc.matrix):
        part = cc.profile.partition(res.partition)
        if part is None or not part.mem_per_node:
            continue
        try:
            want, have = parse_mem_mib(res.mem), parse_mem_mib(part.mem_per_node)
        except ValueError:
            continue  # an unreadable size is reported where it is parsed
        line, col = pos(cc, key, "mem")
        if want > have and (line, col, res.mem) not in seen:
            seen.add((line, col, res.mem))
            yield Finding(line, col, f"{what} of run {run} asks for mem {res.mem}; a node of "
                          f"partition {part.name!r} has {part.mem_per_node}",
                          f"ask for at most {part.mem_per_node} or pick a partition with "
                          "larger nodes")
