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
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {"tolerance": 0.25}


def _stated_history(ctx: Context, registry_names: list[str]):  # type: ignore[no-untyped-def]
    from ...estimate import History, Observation
    from ...models.rungroup_doc import parse_run_plan

    rp = parse_run_plan(ctx.doc)
    obs = []
    for me in rp.estimates.models:
        if me.its:
            model = next((n for n in registry_names if n == me.model or me.model in n), None)
            obs.append(Observation(path=f"stated:{me.model}", model=model, it_s=me.its))
    return History(obs) if obs else None


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None:
        return
    from ...expand import Options, expand_rungroup
    from ...registry import load_registry

    stated = cc.spec.stated.get("gpu_hours") if hasattr(cc.spec, "stated") else None
    if not stated:
        return
    value, line, col = stated
    registry, _ = load_registry(ctx.settings)
    hist = _stated_history(ctx, list(registry.models))
    matrix = cc.matrix
    if hist is not None:
        matrix, _ = expand_rungroup(cc.spec, ctx.settings, Options(cluster=cc.name,
                                                                   history=hist))
        if matrix is None:
            return
    computed = matrix.totals.get("gpu_hours", 0.0)
    tol = float(ctx.options.get("tolerance", 0.25))
    if computed <= 0:
        return
    if abs(value - computed) / computed > tol:
        basis = "the speeds this plan states" if hist is not None else "seed 004's defaults"
        yield Finding(line, col, f"stated total of {value:g} GPU hours differs from planc's "
                      f"estimate of {computed:.2f} ({basis}; tolerance {tol:.0%})",
                      "recompute the estimate, or run `planc expand` to see planc's figures")
