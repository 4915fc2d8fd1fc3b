"""A seed-003 task plan has 4 to 6 phases.

"Organize the plan as 4-6 phases": few enough to keep the plan readable, enough to separate
code understanding, baselines, the main method, analytics and reflection.

Severity: warning — seed 003's "Organize the plan as 4-6 phases" is guidance, not a must.

Failing::

    ## Phase 1 - Setup
    ## Phase 2 - Runs
    ## Phase 3 - Report

Passing::

    ## Phase 1 - Code Understanding and Refactor Prep
    ## Phase 2 - Experiment Design and Baselines
    ## Phase 3 - Main Method and Tracked Runs
    ## Phase 4 - Analytics and Validation
    ## Phase 5 - Reflection and Replan

Options: ``min_phases`` (4), ``max_phases`` (6).

Seed: 003 (Produce a phased plan).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import count_option, plan_of

CODE = "TK004"
NAME = "phase-count"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {"min_phases": 4, "max_phases": 6}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    lo, hi = count_option(ctx, "min_phases"), count_option(ctx, "max_phases")
    n = len(plan.phases)
    if n < lo:
        line, col = plan.anchor()
        yield Finding(line, col, f"task plan has {n} phase(s); the seed asks for {lo} to {hi}",
                      "split the work into '## Phase N - Title' sections")
    elif n > hi:
        extra = plan.phases[hi]
        yield Finding(extra.line, extra.column,
                      f"task plan has {n} phases; the seed asks for {lo} to {hi}",
                      "merge phases")
