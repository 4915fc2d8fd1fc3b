"""A run plan's stated total training GPU hours should agree with planc's estimate.

The estimate follows seed 004's formulas (``compiler.estimate``), with the training speeds
the document itself states ("speed=0.8 it/s") where it states them, else the seed's
per-size defaults. The stated figure is seed 004's Training Time Estimates "**Total GPU
hours**" (training only: evaluation GPU hours have their own line), so it is compared with
planc's training GPU hours (Σ training seconds × GPUs per training job). A difference
beyond ``tolerance`` (relative, default 0.25) is reported with both figures. Needs a
cluster profile (GPUs per job) like every CL rule.

Severity: info — context: the document's own arithmetic is RG015/RG016's (errors); planc's
estimate reads the stated speed as torchtune's optimizer steps per second (steps divided by
gradient accumulation and data-parallel GPUs), while seed 004's formula divides samples by the
batch size only, so the two legitimately differ by those factors and neither is proven false.

Failing::

    **Total GPU hours**: 0.5 GPU hours      # formulas give ~2.5

Passing::

    **Total GPU hours**: 2.4 GPU hours
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context

CODE = "CL007"
NAME = "estimate-mismatch"
SEVERITY = "info"
KINDS = ("run-group", "experiment-summary")
OPTIONS: dict[str, object] = {"tolerance": 0.25}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None:
        return
    stated = cc.spec.stated.get("gpu_hours") if hasattr(cc.spec, "stated") else None
    if not stated:
        return
    value, line, col = stated
    # the one estimate (compiler.estimate.estimate_run), its training part
    computed = sum(r.estimate.train_seconds * r.train.gpus for r in cc.matrix.runs) / 3600
    tol = float(ctx.options.get("tolerance", 0.25))
    if computed <= 0:
        return
    if abs(value - computed) / computed > tol:
        bases = {r.estimate.basis for r in cc.matrix.runs}
        basis = ("prior runs" if "history" in bases else "the speeds this plan states"
                 if "plan" in bases else "seed 004's defaults")
        yield Finding(line, col, f"stated total of {value:g} training GPU hours differs from "
                      f"planc's estimate of {computed:.2f} ({basis}; tolerance {tol:.0%})",
                      "recompute the total from the per-run figures; `planc expand` prints "
                      "the same estimate per run")
