"""A requested GPU type must be one the job's partition has.

A plan asks for GPUs of a type with ``compute.gpu_type`` (run groups) or ``gpu_type``
(sweep plans), compiled to ``#SBATCH --gres=gpu:<type>:<n>``. The cluster profile states
the type of each partition's GPUs (``partitions[].gpu_type``, written by ``planc cluster
detect`` from sinfo's GRES, e.g. ``gpu:a100:4``; several types comma-separated), else the
profile's ``gpu_type``. Types compare case-insensitively. Where the profile states no type,
nothing is reported: planc cannot know.

Severity: error — SLURM rejects a GRES type the partition does not have ("Invalid generic
resource (gres) specification"), so the job cannot run as written.

Failing::

    compute: {cluster: fx-gpu, partition: gpu, gpus: 1, gpu_type: h100}   # gpu is a100

Passing::

    compute: {cluster: fx-gpu, partition: gpu, gpus: 1, gpu_type: a100}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context, time_pos

CODE = "CL013"
NAME = "cluster-gpu-type"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.profile is None or cc.profile.type != "slurm":
        return
    compute = getattr(cc.spec, "compute", {}) or {}
    want = compute.get("gpu_type")
    if not want:
        return
    part = cc.profile.partition(compute.get("partition"))
    stated = (part.gpu_type if part is not None else None) or cc.profile.gpu_type
    if not stated:
        return
    have = [t.strip() for t in str(stated).split(",") if t.strip()]
    if str(want).lower() in {t.lower() for t in have}:
        return
    line, col = time_pos(cc, "compute.gpu_type")
    where = f"partition {part.name!r}" if part is not None else f"cluster {cc.profile.name!r}"
    yield Finding(line, col, f"GPU type {want!r} is not one {where} has "
                  f"({', '.join(have)})", f"use gpu_type: {have[0]}, or another partition")
