"""A run plan's stated total GPU hours should agree with planc's estimate.

The estimate follows seed 004's formulas (``compiler.estimate``), with the training speeds
the document itself states ("speed=0.8 it/s") where it states them, else the seed's
per-size defaults. A difference beyond ``tolerance`` (relative, default 0.25) is reported
with both figures. Needs a cluster profile (GPUs per job) like every CL rule.

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
SEVERITY = "warning"
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
    computed = cc.matrix.totals.gpu_hours  # the one estimate (compiler.estimate.estimate_run)
    tol = float(ctx.options.get("tolerance", 0.25))
    if computed <= 0:
        return
    if abs(value - computed) / computed > tol:
        bases = {r.estimate.basis for r in cc.matrix.runs}
        basis = ("prior runs" if "history" in bases else "the speeds this plan states"
                 if "plan" in bases else "seed 004's defaults")
        yield Finding(line, col, f"stated total of {value:g} GPU hours differs from planc's "
                      f"estimate of {computed:.2f} ({basis}; tolerance {tol:.0%})",
                      "recompute the total from the per-run figures; `planc expand` prints "
                      "the same estimate per run")
