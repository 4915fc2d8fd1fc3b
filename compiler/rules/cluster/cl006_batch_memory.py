"""Batch sizes must fit the cluster's GPU memory by seed 004's default table.

Seed 004 "Batch Size Estimation" (no memory data): with packing, 80 GB GPUs 1B → 4–8,
3B → 2–4, 7B+ → 2; 40 GB 1B → 2–4, 3B → 2, 7B+ → 1; ≤32 GB → 1. Without packing, 80 GB
16 / 8 / 4, 40 GB 8 / 4 / 2, ≤32 GB 2 / 1 / 1. The GPU memory is the partition's (or the
local machine's) ``gpu_memory_gib``; a model whose registry ``min_gpu_memory_gib`` exceeds it
is reported too. Option ``factor`` (default 1.0) scales the ceiling.

Severity: warning — seed 004's memory table is a conservative default; measured runs may
justify larger batches.

Failing::

    compute: {cluster: della, partition: gpu-short}    # 40 GiB A100
    training: {batch_size: 16, packed: false}          # Llama-3.2-1B-Instruct: at most 8

Passing::

    compute: {cluster: della, partition: gpu}          # 80 GiB
    training: {batch_size: 16, packed: false}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context, time_pos

CODE = "CL006"
NAME = "cluster-batch-memory"
SEVERITY = "warning"
KINDS = ("run-group", "experiment-summary")
OPTIONS: dict[str, object] = {"factor": 1.0}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None:
        return
    from ...estimate import max_batch_size
    from ...registry import load_registry, size_class

    prof = cc.profile
    gib = None
    if prof.type == "slurm":
        part = prof.partition(cc.spec.compute.get("partition"))
        gib = part.gpu_memory_gib if part is not None else None
    elif prof.type == "local_gpu":
        gib = prof.gpu_memory_gib
    if not gib:
        return
    registry, _ = load_registry(ctx.settings)
    factor = float(ctx.options.get("factor", 1.0))
    seen: set[str] = set()
    for run in cc.matrix.fine_tuned:
        entry = registry.get(run.model or "")
        line, col = cc.spec.pos(f"runs.{run.name}") if f"runs.{run.name}" in \
            cc.spec.positions else time_pos(cc, "training.batch_size")
        if entry is not None and entry.min_gpu_memory_gib > gib and run.model not in seen:
            seen.add(run.model or "")
            yield Finding(line, col, f"{run.model} needs at least {entry.min_gpu_memory_gib:g} "
                          f"GiB of GPU memory; {cc.name!r} GPUs have {gib:g} GiB")
        ft = run.finetune
        if ft is None:
            continue
        ceiling = max_batch_size(size_class(run.model or "", registry), gib, ft.packed)
        batch = ft.batch_size
        if ceiling is None:
            continue
        if batch > ceiling * factor:
            packed = "packed" if ft.packed else "unpacked"
            yield Finding(line, col, f"run {run.name}: batch size {batch} exceeds the seed's "
                          f"default of {ceiling} for {size_class(run.model or '', registry)} "
                          f"models, {packed}, on {gib:g} GiB GPUs",
                          f"use batch_size {ceiling} or measure peak memory first")
