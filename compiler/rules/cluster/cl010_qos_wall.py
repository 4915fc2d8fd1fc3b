"""A job's time limit must fit its QoS's ``MaxWall``.

The profile's ``qos_limits`` (``planc cluster detect`` reads ``sacctmgr show qos``) state
the QoS's ``MaxWall``; a job whose ``time`` exceeds it stays pending forever
(``QOSMaxWallDurationPerJobLimit``) or is rejected. The QoS is the profile's ``qos``, else
``normal``.

Severity: error — the job cannot run as written: SLURM never starts it.

Failing::

    compute: {cluster: fx-qos, time: "12:00:00"}   # QoS normal: MaxWall 06:00:00

Passing::

    compute: {cluster: fx-qos, time: "04:00:00"}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._jobs import jobs, pos
from ._shared import cluster_context

CODE = "CL010"
NAME = "cluster-qos-wall"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None or cc.profile.type != "slurm":
        return
    qos = cc.profile.qos_limit()
    if qos is None or not qos.max_wall:
        return
    from ...models.cluster import parse_slurm_time

    limit = parse_slurm_time(qos.max_wall)
    seen: set[tuple[int, int, object]] = set()
    for what, run, res, key in jobs(cc.matrix):
        line, col = pos(cc, key, "time")
        if parse_slurm_time(res.time) > limit and (line, col, res.time) not in seen:
            seen.add((line, col, res.time))
            yield Finding(line, col, f"{what} time {res.time} of run {run} exceeds MaxWall "
                          f"{qos.max_wall} of QoS {cc.profile.qos or 'normal'!r}",
                          "ask for less time, split the epochs, or use a QoS with a longer "
                          "MaxWall")
