"""Compute Setup values agree with each other.

Seed 001 (*GPU Wrapper*): "For Slurm, gpuwrap is not needed — the scheduler handles
allocation" (``slurm`` → ``gpuwrap_config: {"enabled": false}``), "``cpu_only`` → not
applicable" and "Skip GPU flags entirely for cpu_only clusters". So: ``slurm`` needs gpuwrap
disabled; ``cpu_only`` needs GPU count 0 and gpuwrap disabled; ``local_gpu`` needs at
least one GPU.

Severity: error — the values contradict each other (``cpu_only`` with ``GPU count: 4``).

Failing::

    - Cluster type: slurm
    - GPU count: 8
    - gpuwrap: enabled
    - Environment: conda

Passing::

    - Cluster type: slurm
    - GPU count: 8
    - gpuwrap: disabled
    - Environment: conda
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL012"
NAME = "compute-setup-consistency"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    items = {}
    for item in plan(ctx).setup:
        if item.field and item.field not in items:
            items[item.field] = item
    cluster = items.get("cluster_type")
    if cluster is None or cluster.value is None:
        return
    gpus = items.get("gpu_count")
    wrap = items.get("gpuwrap")
    ctype = cluster.value
    if ctype == "slurm" and wrap is not None and wrap.value == "enabled":
        yield Finding(wrap.line, wrap.value_column,
                      "gpuwrap is enabled on slurm; the scheduler allocates GPUs",
                      "write 'gpuwrap: disabled' and request GPUs with --gres")
    if ctype == "cpu_only":
        if gpus is not None and isinstance(gpus.value, int) and gpus.value > 0:
            yield Finding(gpus.line, gpus.value_column,
                          f"cpu_only with GPU count {gpus.value}",
                          "write 'GPU count: 0' or choose local_gpu / slurm")
        if wrap is not None and wrap.value == "enabled":
            yield Finding(wrap.line, wrap.value_column,
                          "gpuwrap is enabled on cpu_only; there are no GPUs to wrap",
                          "write 'gpuwrap: disabled'")
    if ctype == "local_gpu" and gpus is not None and gpus.value == 0:
        yield Finding(gpus.line, gpus.value_column, "local_gpu with GPU count 0",
                      "give the number of GPUs, or choose cpu_only")
